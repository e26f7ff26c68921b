"""One student's grading job in `grade bulk`, the same in the local pool and on a Dask cluster:
the pool process's state (the assignment, the expected values, loaded once), grading one entry
into its result and report, and the `error` result that stands in for it when grading fails."""
from __future__ import annotations

import html
import json
import os
import time
import traceback
from datetime import datetime
from pathlib import Path

from grader.bulk.intake import Entry
from grader.i18n import language, t
from grader.model.assignment import Assignment, load_assignment
from grader.model.errors import GraderError
from grader.model.files import atomic_write
from grader.model.result import SCHEMA_VERSION, Result
from grader.model.said import Said

RESULTS, REPORTS = "results", "reports"
ERROR_LOG = "grading-errors.log"    # what went wrong for the students in error, tracebacks included
OVERTIME = ".overtime"              # --dask: students whose job was stopped for taking too long
DEFAULT_BUDGET = 300.0              # seconds for one submission, all its cases (sandbox.Limits reads GRADE_BUDGET)
MARGIN_SECONDS, MARGIN_SHARE = 20.0, 0.1   # past budget + margin, a student's grading is stopped
MARGIN_SETTING = "GRADE_BULK_MARGIN"       # seconds instead of MARGIN_SECONDS (a slow machine; the tests)
MAX_REASON = 600                    # characters of a reason in a result


def overtime_margin() -> float:
    """The seconds past the budget a student's grading may take: $GRADE_BULK_MARGIN, else 20."""
    raw = os.environ.get(MARGIN_SETTING)
    if raw is None:
        return MARGIN_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise GraderError(t("bulk.bad_margin", setting=MARGIN_SETTING, value=raw[:40], default=MARGIN_SECONDS))
    return value


def time_limit(budget: float, margin: float | None = None) -> float:
    """Seconds a student's whole grading may take before it is stopped: the sandbox's budget for
    the submission, plus a margin for loading it, the expected values and the report
    (`overtime_margin()` unless given: a Dask worker gets the client's)."""
    return budget + (overtime_margin() if margin is None else margin) + MARGIN_SHARE * budget
POOL: dict = {}


def start_pool_process(assignment_path: str, protect: list):
    """Each pool process loads the assignment and the reference once, then grades many students."""
    from grader.grading.engine import Expectations, select_cases
    from grader.sandbox.supervisor import prepare
    prepare()  # starts now (Python, NumPy), while the reference loads: forks for every student
    assignment = load_assignment(Path(assignment_path))
    POOL.update(assignment_path=assignment_path, assignment=assignment,
                 expectations=Expectations(assignment, use_reference=True), cases=select_cases(assignment),
                 protect=protect)


def student_record(entry: Entry, stamp: dict | None = None) -> dict:
    record = {"id": entry.student_id, "name": entry.name, "origin": entry.origin, "lms_id": entry.lms_id,
              "fingerprint": entry.fingerprint, "source": str(entry.source)}
    if stamp:
        record["graded_with"] = dict(stamp)
    return record


def invalid_result(assignment: Assignment, entry: Entry, reason: str, stamp: dict | None = None) -> Result:
    return Result.not_graded(entry.source, assignment.seed, assignment.max_score, "invalid", [reason],
                             student_record(entry, stamp))


def error_result(assignment: Assignment, entry: Entry, reason: str, stamp: dict | None = None,
                 duration: float = 0.0) -> Result:
    """The result of a student the grader could not grade: no points, the reason in its notes."""
    return Result.not_graded(entry.source, assignment.seed, assignment.max_score, "error",
                             [Said("bulk.not_graded", reason=reason)], student_record(entry, stamp), duration)


def clip(text: str, limit: int = MAX_REASON) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def failure_reason(exc: BaseException) -> str:
    """What went wrong, in plain words, for the student's result (the traceback goes to the log)."""
    try:
        if isinstance(exc, GraderError):  # the grader's own words: what failed and why
            text = str(exc).strip()
        else:
            text = t("bulk.grader_failed", error=clip(f"{type(exc).__name__}: {exc}".strip().rstrip(":"), 300),
                     log=ERROR_LOG)
    except Exception:  # an exception that cannot even say what it is
        text = t("bulk.grader_failed", error=type(exc).__name__, log=ERROR_LOG)
    return clip(text or type(exc).__name__)


def log_failure(out: Path, student: str | None, reason: str, exc: BaseException | None = None):
    """Append what went wrong (with the traceback) to DIR/grading-errors.log, in one write (pool
    processes append side by side). Never raises."""
    lines = [f"--- {datetime.now().astimezone().isoformat(timespec='seconds')} {student or '-'} "
             f"(process {os.getpid()})", reason]
    try:
        if exc is not None:
            lines.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip())
        data = ("\n".join(lines) + "\n").encode("utf-8", "replace")
        fd = os.open(Path(out) / ERROR_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except Exception:
        pass


def error_json(assignment: Assignment, entry: Entry, reason: str, stamp: dict | None = None,
               duration: float = 0.0) -> dict:
    """The JSON of an error result, built here from plain values: the last resort must not depend
    on the code that may have just failed."""
    return {"schema_version": SCHEMA_VERSION, "submission": str(entry.source),
            "student": student_record(entry, stamp), "status": "error", "seed": assignment.seed, "score": 0.0,
            "max_score": round(float(sum(e.points for e in assignment.exercises)), 6),
            "duration": round(max(0.0, duration), 3), "expected_from": "reference", "isolation": None,
            "notes": [t("bulk.not_graded", reason=reason)], "exercises": []}


def _plain_page(data: dict, assignment: Assignment) -> str:
    """A report with nothing to go wrong in it, for when the real one cannot be rendered."""
    student = data.get("student") or {}
    who = " ".join(str(x) for x in (student.get("name"), f"({student.get('id')})") if x)
    notes = "".join(f"<p>{html.escape(n)}</p>" for n in data.get("notes", []))
    return (f'<!DOCTYPE html><html lang="{language()}"><head><meta charset="utf-8"><title>'
            f"{html.escape(assignment.title)}</title></head><body><h1>{html.escape(assignment.title)}</h1>"
            f"<p>{html.escape(who)}</p><p><strong>{html.escape(str(data.get('status')))}</strong></p>{notes}"
            f"</body></html>")


def _write_result(out: Path, entry: Entry, data: dict, page: str):
    """The report first: a result file always has its report beside it."""
    atomic_write(out / REPORTS / f"{entry.student_id}.html", page)
    atomic_write(out / RESULTS / f"{entry.student_id}.json", json.dumps(data, separators=(",", ":")))


def write_error_result(assignment: Assignment, entry: Entry, out: Path, reason: str, stamp: dict | None = None,
                       duration: float = 0.0) -> dict:
    """Write a student's `error` result and report (they are in every class file); returns the
    progress line. Raises OSError only when DIR cannot be written."""
    reason = clip(reason)
    data = error_json(assignment, entry, reason, stamp, duration)
    try:
        from grader.report.html import render_html
        page = render_html(error_result(assignment, entry, reason, stamp, duration), assignment, lambda case_id: "")
    except Exception:
        page = _plain_page(data, assignment)
    _write_result(Path(out), entry, data, page)
    return {"id": entry.student_id, "status": "error", "error": reason, "duration": data["duration"]}


def grade_student(entry: Entry, out: Path, shell: str | None = None, stamp: dict | None = None) -> dict:
    """Grade one student and write their report and result. Returns a line for the progress log.
    `shell`: what the report's replay commands are quoted for — the instructor's, i.e. the shell
    of the machine running `grade bulk` (detected there, passed to the pool or the cluster).
    `stamp`: what the run grades with (course, grader, language), recorded in the result.

    Never raises for one student: whatever fails becomes their `error` result (written here
    when DIR can be written, else the line says "unwritten" and the caller writes it)."""
    from grader.grading.cases import student_seed
    from grader.grading.engine import grade
    from grader.report.html import render_html
    from grader.model.replay import replay_command
    from grader.grading.submission import load_submission

    assignment = POOL["assignment"]
    started = time.monotonic()
    try:
        if entry.problem:
            result = invalid_result(assignment, entry, entry.problem, stamp)
        else:
            try:
                submission = load_submission(entry.path, assignment.package)
            except GraderError as exc:  # unreadable: the student's, not the grader's
                result = invalid_result(assignment, entry, str(exc), stamp)
            else:
                plan = POOL["expectations"].plan(POOL["cases"], student=entry.student_id, later=True)
                result = grade(assignment, submission, plan, student=student_record(entry, stamp),
                               protect=POOL["protect"])
        result.duration = time.monotonic() - started
        hidden_seed = student_seed(assignment.salt, entry.student_id)
        path = entry.path or entry.source
        visibility = {c.id: c.visibility for c in POOL["cases"]}

        def replay(case_id):
            seed = hidden_seed if visibility.get(case_id) == "hidden" else assignment.seed
            return replay_command(case_id, path, seed, shell=shell)

        page = render_html(result, assignment, replay)
        _write_result(out, entry, result.to_json(instructor=True), page)
    except Exception as exc:  # a bug, a worker or a sandbox that could not start: this student's alone
        reason = failure_reason(exc)
        log_failure(out, entry.student_id, reason, exc)
        try:
            return write_error_result(assignment, entry, out, reason, stamp, time.monotonic() - started)
        except Exception as again:
            log_failure(out, entry.student_id, failure_reason(again), again)
            return {"id": entry.student_id, "status": "error", "error": reason, "unwritten": True}
    return {"id": entry.student_id, "status": result.status, "score": result.score, "duration": result.duration}
