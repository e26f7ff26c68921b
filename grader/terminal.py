"""The terminal summary: a table per exercise, the reason of each failing case, the total."""
from __future__ import annotations

import re

import numpy as np

from .i18n import t
from .result import Result

COLOURS = {"passed": "32", "failed": "31", "error": "31", "timeout": "33", "not_implemented": "90",
           "missing": "33", "violation": "35"}


def labels() -> dict:
    """{status: its short label in the table}, in the current language."""
    return {"passed": t("terminal.label.passed"), "failed": t("terminal.label.failed"),
            "error": t("terminal.label.error"), "timeout": t("terminal.label.timeout"),
            "not_implemented": t("terminal.label.not_implemented"), "missing": t("terminal.label.missing"),
            "violation": t("terminal.label.violation")}


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text) -> str:
    """Text that came from a submission, without control characters: an escape sequence in a
    message or in what it printed must not drive the terminal (move the cursor, fake a line)."""
    return _CONTROL.sub("?", str(text))


class Painter:
    def __init__(self, colour: bool):
        self.colour = colour

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text


def summary(result: Result, colour: bool, quiet: bool = False, report: str | None = None) -> str:
    paint = Painter(colour)
    lines = []
    if not quiet:
        for note in result.notes:
            lines.append(paint(t("terminal.note", note=safe(note)), "33"))
    heading = t("terminal.header.exercise")
    width = max([len(e.name) for e in result.exercises] + [len(heading)])
    passed, points = t("terminal.header.passed"), t("terminal.header.points")
    lines.append(f"{heading.ljust(width)}  {passed:>9}  {points:>13}")
    for e in result.exercises:
        state = "32" if e.passed == len(e.cases) else "31" if e.passed else "90"
        lines.append(f"{e.name.ljust(width)}  {paint(f'{e.passed:>4}/{len(e.cases):<4}', state)}  "
                     f"{e.score:>6.1f} / {e.max_score:<5.1f}")
    if not quiet:
        for e in result.exercises:
            for problem in e.problems:
                lines.append(paint("  " + t("terminal.problem", exercise=e.name, problem=safe(problem)), "31"))
            todo = [c for c in e.cases if c.status == "not_implemented"]
            others = [c for c in e.cases if not c.passed and c.status != "not_implemented"]
            if todo:
                functions = sorted({c.function for c in todo}, key=[c.function for c in todo].index)
                lines.append(paint("  " + t("terminal.not_implemented", exercise=e.name,
                                            functions=", ".join(functions), count=len(functions)), "90"))
            label = labels()
            for c in others:
                reason = safe(c.message) if c.visibility == "public" else t("terminal.hidden_case")
                lines.append("  " + t("terminal.case", label=paint(label[c.status], COLOURS[c.status]), id=c.id,
                                      reason=reason))
                if c.diagnosis and c.visibility == "public":
                    lines.append("      " + t("terminal.likely", diagnosis=safe(c.diagnosis)))
    lines.append(paint(t("terminal.points", score=result.score, total=result.max_score), "1"))
    if result.source == "public-cases file":  # a students' repository: no hidden case here
        lines.append(t("terminal.public_only"))
    if report:
        lines.append(t("terminal.report", report=report))
    return "\n".join(lines)


def _show(value) -> str:
    if isinstance(value, np.ndarray):
        body = np.array2string(value, precision=6, threshold=200, max_line_width=100)
        return t("terminal.detail.array", shape=value.shape, dtype=value.dtype) + "\n" + body
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_brief(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _brief(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return t("terminal.detail.dicts", count=len(value))
    return repr(value)


def case_detail(result: Result, case_id: str, colour: bool) -> str:
    """`grade --case ID`: everything about one case (expected values only for public cases)."""
    paint = Painter(colour)
    case = next(c for c in result.cases if c.id == case_id)
    lines = [paint(t("terminal.detail.title", id=case.id, visibility=case.visibility, kind=case.kind,
                     seed=result.seed), "1"),
             t("terminal.detail.status", status=paint(case.status, COLOURS[case.status]), points=case.points,
               max_points=case.max_points)]
    if case.message:
        lines.append(t("terminal.detail.message", message=safe(case.message)))
    for line in case.details.get("traceback", []):
        lines.append("  " + line)
    if case.output:
        lines.append(t("terminal.detail.printed") + "\n" + safe(case.output))
    if case.inputs is not None:
        lines.append(paint(t("terminal.detail.inputs"), "1"))
        for name, value in case.inputs.items():
            lines.append(f"  {name} = {_show(value)}")
    if case.visibility == "public":
        lines.append(paint(t("terminal.detail.expected"), "1") + "\n" + _show(case.expected))
        lines.append(paint(t("terminal.detail.yours"), "1") + "\n" + _show(case.student))
    return "\n".join(lines)
