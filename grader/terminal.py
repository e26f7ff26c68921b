"""The terminal summary: a table per exercise, the reason of each failing case, the total."""
from __future__ import annotations

import re
from typing import Callable

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


# --- colours: only where the terminal shows them ------------------------------------------------

_VT_TERMINALS = ("WT_SESSION", "ANSICON")    # Windows Terminal; ANSICON's hook
ENABLE_VIRTUAL_TERMINAL_PROCESSING = 0x0004


def colour_supported(platform: str, environ, isatty: bool, enable_vt=lambda: False) -> bool:
    """Whether to write ANSI colours, from explicit facts (testable anywhere):

    - FORCE_COLOR set (not empty, not "0") → yes, even into a pipe (CI logs that render colours);
    - NO_COLOR set and not empty (no-color.org) → no; it wins over FORCE_COLOR;
    - not a terminal → no; TERM=dumb → no;
    - Windows: yes when the terminal announces it (Windows Terminal's WT_SESSION, ANSICON,
      TERM_PROGRAM such as vscode or mintty, ConEmuANSI=ON) or when `enable_vt()` manages to turn
      on the console's virtual-terminal processing (Windows 10 and later); otherwise the escape
      codes would print as garbage (an old conhost) → no;
    - elsewhere: yes."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    if not isatty or environ.get("TERM") == "dumb":
        return False
    if platform == "win32":
        if any(environ.get(name) for name in _VT_TERMINALS) or environ.get("TERM_PROGRAM") \
                or environ.get("ConEmuANSI", "").upper() == "ON":
            return True
        return bool(enable_vt())
    return True


def enable_windows_vt(stream) -> bool:
    """Turn on ENABLE_VIRTUAL_TERMINAL_PROCESSING for the console behind `stream` (Windows only;
    kernel32 through ctypes, imported here and only here). False when it is not a console or the
    console refuses (before Windows 10)."""
    try:
        import ctypes
        import msvcrt
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = msvcrt.get_osfhandle(stream.fileno())
        mode = wintypes.DWORD()
        if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
            return False
        if mode.value & ENABLE_VIRTUAL_TERMINAL_PROCESSING:
            return True
        return bool(kernel32.SetConsoleMode(handle, mode.value | ENABLE_VIRTUAL_TERMINAL_PROCESSING))
    except (ImportError, AttributeError, OSError, ValueError):
        return False


def use_colour(stream, platform: str | None = None, environ=None) -> bool:
    """`colour_supported` for a real stream (sys.stdout): its isatty, this platform, os.environ."""
    import os
    import sys

    try:
        isatty = stream.isatty()
    except (AttributeError, ValueError):
        isatty = False
    return colour_supported(sys.platform if platform is None else platform,
                            os.environ if environ is None else environ, isatty,
                            lambda: enable_windows_vt(stream))


class Painter:
    def __init__(self, colour: bool):
        self.colour = colour

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text


def summary(result: Result, colour: bool, quiet: bool = False, report: str | None = None,
            replay: Callable[[str], str] | None = None) -> str:
    """The table, the failing cases, `Points X/Y`; `replay(case id)` gives the command that replays
    one (grader/replay.py), shown for the first failing public case."""
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
    failing = [c for c in result.cases if c.visibility == "public" and c.status not in ("passed", "not_implemented")]
    if replay and failing and not quiet:
        lines.append(t("terminal.replay", command=safe(replay(failing[0].id))))
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
