"""Every student's report back through the LMS in one upload, after `grade bulk`.

    moodle_folder(name, participant) -> str        the folder Moodle's importer reads for a participant
    write_moodle_feedback(entries, out) -> paths   DIR/feedback-moodle.zip and DIR/feedback-moodle.txt

What its consumers read, quoted from their sources, and the rules this module follows:
docs/consumers.md, section « grader/export/lms_feedback.py ».
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

from grader.i18n import t
from grader.model.files import atomic_write
from grader.model.result import Result, shown_points

MOODLE_ZIP = "feedback-moodle.zip"
MOODLE_LIST = "feedback-moodle.txt"
MOODLE_PLUGIN = "assignfeedback_file"      # get_plugin_by_type('assignfeedback', 'file')
REPORT_FILE = "grade-report.html"          # the file each student finds among their feedback files
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
MAX_NAME = 100                             # characters of a name in a folder name


def moodle_folder(name: str | None, participant: str) -> str:
    """The zip folder Moodle's importer reads for `participant`: "<name>_<id>_assignfeedback_file".
    The name is for people only: "_" and "/" (which would shift the importer's parts) become spaces,
    control characters go; an empty name is "Participant", as blind marking writes it."""
    text = re.sub(r"[\x00-\x1f\x7f/\\_]+", " ", name or "")
    text = " ".join(text.split())[:MAX_NAME].strip().lstrip(".~") or "Participant"
    if not re.fullmatch(r"[0-9]+", participant):
        raise ValueError(f"not a Moodle participant id: {participant!r}")
    return f"{text}_{participant}_{MOODLE_PLUGIN}"


def _stored(out: Path, student_id: str) -> Result | None:
    try:
        return Result.from_json(json.loads((out / "results" / f"{student_id}.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_moodle_feedback(entries: list, out: Path, scores: dict | None = None) -> tuple[list[Path], list[str]]:
    """Write DIR/feedback-moodle.zip (every Moodle participant's report, in their folder) and
    DIR/feedback-moodle.txt (who is where, who is not in the zip and why) when the class holds at
    least one Moodle participant. Returns (files written, one line per student left out).
    `scores`: {student: (score, max score)} of the results already read (the others are read here)."""
    out = Path(out)
    if not any(getattr(e, "origin", None) == "moodle" and getattr(e, "lms_id", None) for e in entries):
        return [], []
    placed, left_out, lines = {}, [], []
    for entry in sorted(entries, key=lambda e: e.student_id):
        report = out / "reports" / f"{entry.student_id}.html"
        known = (scores or {}).get(entry.student_id)  # (score, max score) from results already read
        result = None if known is not None else _stored(out, entry.student_id)
        if known is None and result is not None:
            known = (result.score, result.max_score)
        score = (t("lms_feedback.score", score=shown_points(known[0]), max_score=shown_points(known[1]))
                 if known is not None else t("lms_feedback.no_result"))
        if entry.origin != "moodle" or not entry.lms_id:
            why = t("lms_feedback.canvas") if entry.origin == "canvas" else t("lms_feedback.plain")
            left_out.append(t("lms_feedback.left_out", student=entry.student_id, why=why))
            lines.append(left_out[-1])
            continue
        if not report.is_file():
            left_out.append(t("lms_feedback.no_report", student=entry.student_id))
            lines.append(left_out[-1])
            continue
        folder = moodle_folder(entry.name, entry.lms_id)
        if folder in placed:  # one participant twice (two exports extracted together): intake suffixed one
            left_out.append(t("lms_feedback.twice", student=entry.student_id, other=placed[folder]))
            lines.append(left_out[-1])
            continue
        placed[folder] = (entry.student_id, report)
        lines.append(t("lms_feedback.placed", student=entry.student_id, path=f"{folder}/{REPORT_FILE}", score=score))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, (_, report) in sorted(placed.items()):
            info = zipfile.ZipInfo(f"{folder}/{REPORT_FILE}", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, report.read_bytes())
    placed = {folder: student for folder, (student, _) in placed.items()}
    header = [t("lms_feedback.header", zip=MOODLE_ZIP, count=len(placed)), ""]
    written = [atomic_write(out / MOODLE_ZIP, buffer.getvalue()),
               atomic_write(out / MOODLE_LIST, "\n".join(header + lines) + "\n")]
    return written, left_out
