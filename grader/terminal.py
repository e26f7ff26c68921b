"""The terminal summary: a table per exercise, the reason of each failing case, the total."""
from __future__ import annotations

import re

import numpy as np

from .result import Result

COLOURS = {"passed": "32", "failed": "31", "error": "31", "timeout": "33", "not_implemented": "90",
           "missing": "33", "violation": "35"}
LABELS = {"passed": "ok", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT",
          "not_implemented": "todo", "missing": "MISSING", "violation": "RULE"}


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
            lines.append(paint(f"note: {safe(note)}", "33"))
    width = max([len(e.name) for e in result.exercises] + [8])
    lines.append(f"{'exercise'.ljust(width)}  {'passed':>9}  {'points':>13}")
    for e in result.exercises:
        state = "32" if e.passed == len(e.cases) else "31" if e.passed else "90"
        lines.append(f"{e.name.ljust(width)}  {paint(f'{e.passed:>4}/{len(e.cases):<4}', state)}  "
                     f"{e.score:>6.1f} / {e.max_score:<5.1f}")
    if not quiet:
        for e in result.exercises:
            for problem in e.problems:
                lines.append(paint(f"  {e.name}: {safe(problem)}", "31"))
            todo = [c for c in e.cases if c.status == "not_implemented"]
            others = [c for c in e.cases if not c.passed and c.status != "not_implemented"]
            if todo:
                functions = sorted({c.function for c in todo}, key=[c.function for c in todo].index)
                lines.append(paint(f"  {e.name}: not implemented yet: {', '.join(functions)}", "90"))
            for c in others:
                reason = safe(c.message) if c.visibility == "public" else "(hidden case)"
                lines.append(f"  {paint(LABELS[c.status], COLOURS[c.status])} {c.id}: {reason}")
                if c.diagnosis and c.visibility == "public":
                    lines.append(f"      likely: {safe(c.diagnosis)}")
    lines.append(paint(f"Points {result.score:.1f}/{result.max_score:.1f}", "1"))
    if result.source == "public-cases file":  # a students' repository: no hidden case here
        lines.append("Public cases only: the hidden cases are graded by the instructor, on the work you hand in.")
    if report:
        lines.append(f"report: {report}")
    return "\n".join(lines)


def _show(value) -> str:
    if isinstance(value, np.ndarray):
        body = np.array2string(value, precision=6, threshold=200, max_line_width=100)
        return f"array shape {value.shape} dtype {value.dtype}\n{body}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_brief(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _brief(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return f"[{len(value)} dicts]"
    return repr(value)


def case_detail(result: Result, case_id: str, colour: bool) -> str:
    """`grade --case ID`: everything about one case (expected values only for public cases)."""
    paint = Painter(colour)
    case = next(c for c in result.cases if c.id == case_id)
    lines = [paint(f"{case.id}  [{case.visibility}, {case.kind}]  seed {result.seed}", "1"),
             f"status: {paint(case.status, COLOURS[case.status])}  ({case.points:.2f}/{case.max_points:.2f} points)"]
    if case.message:
        lines.append(f"message: {safe(case.message)}")
    for line in case.details.get("traceback", []):
        lines.append("  " + line)
    if case.output:
        lines.append("printed:\n" + safe(case.output))
    if case.inputs is not None:
        lines.append(paint("inputs:", "1"))
        for name, value in case.inputs.items():
            lines.append(f"  {name} = {_show(value)}")
    if case.visibility == "public":
        lines.append(paint("expected:", "1") + "\n" + _show(case.expected))
        lines.append(paint("yours:", "1") + "\n" + _show(case.student))
    return "\n".join(lines)
