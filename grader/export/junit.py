"""JUnit XML from the engine's result JSON (`Result.to_json()`): for CI test reporters.

    junit_xml(result) -> str          the document
    write_junit(result, path)         written atomically (temporary file in the same folder, fsync, rename)

What its consumers read, quoted from their sources, and the rules this module follows:
docs/consumers.md, section « grader/export/junit.py ».
"""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from grader.model.files import atomic_write
from grader.i18n import t
from grader.model.replay import replay_command, result_seed
from grader.model.result import QUOTE, TEXT, as_real, bounded_repr, clip_text
from grader.model.statuses import describe
from grader.model import truncation

# CSI (parameters, intermediates, a final byte: classes that do not overlap), OSC up to BEL or ST
# (its body stops at the next ESC: no two attempts scan the same characters), any other ESC pair.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_ILLEGAL_XML = re.compile("[^\t\n\r\x20-\x7e\xa0-\u061b\u061d-\u200d\u2010-\u2029\u202f-\u2065\u206a-\ud7ff"
                          "\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(text, limit: int = TEXT) -> str:
    """Text safe for XML 1.0 (and for Markdown / JSON consumers): at most `limit` characters
    (grader.model.result.clip_text), ANSI sequences and illegal, C1 and bidirectional control characters
    removed."""
    return _ILLEGAL_XML.sub("", _ANSI.sub("", clip_text("" if text is None else text, limit)))


def _text(value, limit: int = QUOTE) -> str:
    return clean_text(value, limit)


def public_twin(case: dict) -> str | None:
    """The public case that exercises what a failing hidden case does (the JSON's `public_twin`),
    cleaned and bounded; None for a public case, a passed one, or a hidden one with no twin."""
    twin = case.get("public_twin")
    if case.get("visibility") != "hidden" or case.get("status") == "passed" or not isinstance(twin, str):
        return None
    return _text(twin) or None


def hidden_like(verdict: str, twin: str, count: int = 1) -> str:
    """A failing hidden case's verdict and its public twin, in the terminal's words (its key,
    `terminal.hidden_like`): "failed (hidden case; the public case X exercises the same thing)"."""
    return t("export_junit.hidden_like", verdict=verdict, like=t("terminal.hidden_like", case=twin, count=count))


def case_message(case: dict) -> str:
    """The grader's message for a case that did not pass; for a hidden case, only its verdict
    ("failed", "timed out", "not implemented"…) and the public case that exercises the same thing
    when it has one."""
    if case.get("visibility") == "hidden" or not case.get("message"):
        what = _text(describe(case.get("status")).word())
        if case.get("visibility") != "hidden":
            return what
        twin = public_twin(case)
        return hidden_like(what, twin) if twin else t("export_junit.hidden_case", verdict=what)
    return clean_text(case["message"])


def replay_seed(result: dict) -> int | None:
    """The `--seed` of a replay command (grader.model.replay.result_seed), when it is a plain int."""
    seed = result_seed(result)
    return seed if isinstance(seed, int) and not isinstance(seed, bool) and abs(seed) < 2 ** 64 else None


def _cases(exercise) -> list[dict]:
    cases = exercise.get("cases") if isinstance(exercise, dict) else None
    return [c for c in cases if isinstance(c, dict)] if isinstance(cases, list) else []


def _exercises(result: dict) -> list[dict]:
    exercises = result.get("exercises")
    return [e for e in exercises if isinstance(e, dict)] if isinstance(exercises, list) else []


def _seconds(value) -> str:
    """A plain decimal: SUREFIRE_TIME and xs:decimal both reject exponents."""
    value = as_real(value)
    if not value >= 0 or value == float("inf"):  # NaN, negative, inf, no number at all
        value = 0.0
    return f"{value:.6f}"


def _duration(case: dict) -> float:
    details = case.get("details")
    value = as_real(details.get("duration")) if isinstance(details, dict) else 0.0
    return value if math.isfinite(value) and value >= 0 else 0.0


def _number(value) -> str:
    """94.576087 → "94.576087", 100.0 → "100" (the JSON's 6 decimals, no exponent); a value that
    is no finite number as it is, bounded."""
    v = as_real(value)
    if not math.isfinite(v):
        return _text(value if isinstance(value, str) else bounded_repr(value, 60), 60)
    return f"{v:.6f}".rstrip("0").rstrip(".")


def _counts(cases) -> dict:
    """tests, failures, errors; a case whose status is none of the seven is a test and no more."""
    elements = [row.junit for row in map(describe, (c.get("status") for c in cases)) if row.known]
    return {"tests": len(cases), "failures": elements.count("failure"), "errors": elements.count("error")}


def _printed(source) -> dict:
    """{case id: what it printed} of a Result's public cases (the JSON does not carry it)."""
    found = {}
    for case in getattr(source, "cases", None) or ():
        output = getattr(case, "output", "")
        if output and isinstance(output, str) and getattr(case, "visibility", None) != "hidden":
            found[case.id] = output
    return found


def _unreadable_suite(root: ET.Element, result: dict):
    """No exercise graded (a submission that could not be read): one error saying why."""
    notes = result.get("notes") if isinstance(result.get("notes"), list) else []
    reason = "\n".join(clean_text(n) for n in notes[:truncation.LISTED] if n) or _text(result.get("status"))
    suite = ET.SubElement(root, "testsuite", {"name": "submission", "tests": "1", "failures": "0", "errors": "1",
                                              "skipped": "0", "time": _seconds(0), "id": "0",
                                              "package": "submission"})
    properties = ET.SubElement(suite, "properties")
    for name, value in {"total_score": _number(result.get("score")),
                        "total_max_score": _number(result.get("max_score")),
                        "status": _text(result.get("status"))}.items():
        ET.SubElement(properties, "property", {"name": name, "value": value})
    testcase = ET.SubElement(suite, "testcase", {"name": "submission", "classname": "submission",
                                                 "time": _seconds(0)})
    ET.SubElement(testcase, "error", {"type": _text(result.get("status")),
                                      "message": clean_text(reason, truncation.MESSAGE)}).text = reason
    root.set("tests", "1")
    root.set("errors", "1")


def build_tree(result: dict, source=None) -> ET.Element:
    """The document's tree; `source`, the Result the dict was made from, adds what each public case
    printed."""
    exercises = _exercises(result)
    all_cases = [c for e in exercises for c in _cases(e)]
    printed = _printed(source)
    student = result.get("student")
    student = student.get("id") if isinstance(student, dict) else None
    suite_times = [sum(_duration(c) for c in _cases(e)) for e in exercises]
    root = ET.Element("testsuites", {
        "name": f"grade {_text(student)}" if student else "grade",
        **{k: str(v) for k, v in _counts(all_cases).items()},
        "time": _seconds(sum(float(_seconds(x)) for x in suite_times)),
    })
    if not exercises and result.get("status") not in (None, "ok"):
        _unreadable_suite(root, result)
        return root
    totals = {"total_score": _number(result.get("score")), "total_max_score": _number(result.get("max_score")),
              "status": _text(result.get("status"))}
    used = set()
    for index, exercise in enumerate(exercises):
        cases = _cases(exercise)
        suite = ET.SubElement(root, "testsuite", {
            "name": _text(exercise.get("name")),
            **{k: str(v) for k, v in _counts(cases).items()},
            "skipped": "0",
            "time": _seconds(suite_times[index]),
            "id": str(index),
            "package": _text(exercise.get("name")),
        })
        properties = ET.SubElement(suite, "properties")
        name = _text(exercise.get("name"))
        own = {f"{name}.score": _number(exercise.get("score")), f"{name}.max_score": _number(exercise.get("max_score")),
               f"{name}.title": _text(exercise.get("title", ""))}
        for key, value in {**own, **(totals if index == 0 else {})}.items():
            if key not in used:     # two exercises of one name (a forged result): each name once
                used.add(key)
                ET.SubElement(properties, "property", {"name": key, "value": value})
        for case in cases:
            case_id = _text(case.get("id"))
            testcase = ET.SubElement(suite, "testcase", {
                "name": case_id, "classname": _text(exercise.get("name")),
                "time": _seconds(_duration(case))})
            status = case.get("status")
            tag = describe(status).junit
            output = printed.get(case.get("id")) if case.get("visibility") != "hidden" else None
            if tag is None:     # passed
                if output:
                    ET.SubElement(testcase, "system-out").text = clean_text(output)
                continue
            message = case_message(case)
            element = ET.SubElement(testcase, tag, {"type": _text(status), "message": message})
            lines = [message]
            if case.get("visibility") != "hidden":
                if case.get("diagnosis"):
                    lines.append(clean_text(case["diagnosis"]))
                lines.append(t("export_junit.replay", command=clean_text(replay_command(case_id,
                                                                                         seed=replay_seed(result)))))
            element.text = "\n".join(lines)
            if output:
                ET.SubElement(testcase, "system-out").text = clean_text(output)
        problems = exercise.get("problems")
        if problems and isinstance(problems, list):  # import errors, rule violations: suite-level output
            ET.SubElement(suite, "system-err").text = "\n".join(clean_text(p) for p in problems[:truncation.LISTED])
    return root


def junit_xml(result: dict, source=None) -> str:
    """The JUnit XML document (UTF-8 declaration, indented) for one result; `source`: the Result
    it was made from (what the cases printed)."""
    root = build_tree(result, source)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(result: dict, path: Path, source=None) -> Path:
    """Write `junit_xml(result, source)` to `path` atomically: a reader sees the old file or the
    new one, never half of one. Creates the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, junit_xml(result, source))
    return path
