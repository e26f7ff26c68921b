"""The terminal summary: a table per exercise, the reason of each failing case, the total."""
from __future__ import annotations

import re
from typing import Callable

import numpy as np

from grader.i18n import t
from grader.model.result import QUOTE, TEXT, Result, as_real, bounded_repr, clip_text, inert
from grader.model.statuses import describe
from grader.model import truncation

SUMMARY_REASON = 500    # characters of a failing case's reason in the summary (one line each)
BLOCK_PREFIX = "  │ "    # before each line of a submission's own text in `grade --case`


# --- text from a submission ---------------------------------------------------------------------
#
# What a terminal must never receive from a submission: a control character — C0 (ESC starts every
# escape sequence: colours, cursor moves, clear screen, window title (OSC), hidden text; CR moves
# back over a line; BEL, BS…), DEL, C1 (0x80-0x9F: 0x9B is a one-character CSI, 0x9D an OSC) — or a
# bidirectional override or isolate (U+202A-U+202E, U+2066-U+2069, and the marks U+200E, U+200F,
# U+061C), which reorder what the reader sees. Each becomes "?", so whole sequences and lone escape
# characters alike are shown, inert. Line breaks (LF, CR, VT, FF, FS-RS, NEL, U+2028, U+2029) are
# shown as "⏎" in one-line text, so a message cannot print a line of its own (a fake `Points`).
# GitHub Actions reads a log line starting with "::" (after spaces) or holding "##[" as a workflow
# command (annotations, masks): a submission's line never starts one (one-line text follows the
# grader's words; a block's lines start with BLOCK_PREFIX) and "##[" is broken by a zero-width space.

_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
NEWLINE = "⏎"


def _inert(text: str) -> str:
    return inert(text).replace("##[", "#\u200b#[")


def safe(text, limit: int = TEXT) -> str:
    """One line of text from a submission (a message, a name, a value), for the terminal: bounded
    (`clip_text`: at most `limit` characters, each word at most QUOTE), line breaks shown as ⏎,
    tabs as spaces, control characters and bidirectional controls as "?". Never raises."""
    return _inert(_LINE_BREAK.sub(NEWLINE, clip_text(text, limit)).replace("\t", " "))


def safe_block(text, limit: int = TEXT, prefix: str = BLOCK_PREFIX) -> str:
    """Several lines from a submission (what it printed, a traceback entry, a value), for the
    terminal: bounded as `safe` bounds them, each line made inert and started with `prefix`, so
    that none is read as a line of the grader's own."""
    lines = _LINE_BREAK.split(clip_text(text, limit))
    return "\n".join(prefix + _inert(line.replace("\t", "    ")) for line in lines)


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
            replay: Callable[[str], str] | None = None, assignment=None) -> str:
    """The table, the failing cases, `Points X/Y`; `replay(case id)` gives the command that replays
    one (grader/model/replay.py), shown for the first failing public case. Whatever a submission put in
    its messages, `Points X/Y` is the one line that starts with "Points".

    Failing cases of one function that say the same thing (a forbidden import, a missing function,
    the same crash) are one line with their count; a failing hidden case names the public case that
    exercises the same thing, when the assignment (`assignment`) has one."""
    paint = Painter(colour)
    lines = []
    if not quiet:
        for note in result.notes:
            lines.append(paint(t("terminal.note", note=_note(note)), "33"))
    heading = t("terminal.header.exercise")
    names = {id(e): safe(e.name, QUOTE) for e in result.exercises}
    width = max([len(name) for name in names.values()] + [len(heading)])
    passed, points = t("terminal.header.passed"), t("terminal.header.points")
    lines.append(f"{heading.ljust(width)}  {passed:>9}  {points:>13}")
    for e in result.exercises:
        state = "32" if e.passed == len(e.cases) else "31" if e.passed else "90"
        lines.append(f"{names[id(e)].ljust(width)}  {paint(f'{e.passed:>4}/{len(e.cases):<4}', state)}  "
                     f"{as_real(e.score):>6.1f} / {as_real(e.max_score):<5.1f}")
    if not quiet:
        for e in result.exercises:
            for problem in e.problems:
                lines.append(paint("  " + t("terminal.problem", exercise=names[id(e)], problem=safe(problem)), "31"))
            todo = [c for c in e.cases if c.status == "not_implemented"]
            others = [c for c in e.cases if not c.passed and c.status != "not_implemented"]
            if todo:
                functions = list(dict.fromkeys(safe(c.function, QUOTE) for c in todo))
                lines.append(paint("  " + t("terminal.not_implemented", exercise=names[id(e)],
                                            functions=", ".join(functions), count=len(functions)),
                                   describe("not_implemented").colour))
            for group in _same_lines(others, assignment):
                c, status = group[0], describe(group[0].status)
                label = paint(safe(status.tag(), QUOTE), status.colour)
                reason = _reason(c, assignment, len(group))
                if len(group) == 1:
                    lines.append("  " + t("terminal.case", label=label, id=safe(c.id, QUOTE), reason=reason))
                else:
                    short = [safe(x.id.rsplit("/", 1)[-1], QUOTE) for x in group]
                    shown = ", ".join(short[:3]) + (", …" if len(short) > 3 else "")
                    lines.append("  " + t("terminal.cases", label=label, count=len(group), names=shown, reason=reason,
                                          function=safe(f"{c.exercise}/{c.function}", QUOTE)))
                if c.diagnosis and c.visibility == "public":
                    lines.append("      " + t("terminal.likely", diagnosis=safe(c.diagnosis, SUMMARY_REASON)))
    lines.append(paint(t("terminal.points", score=as_real(result.score), total=as_real(result.max_score)), "1"))
    if result.source == "public-cases file":  # a students' repository: no hidden case here
        lines.append(t("terminal.public_only"))
    failing = [c for c in result.cases if c.visibility == "public" and not c.passed and c.status != "not_implemented"]
    if replay and failing and not quiet:
        lines.append(t("terminal.replay", command=safe(replay(failing[0].id))))
    if report:
        lines.append(t("terminal.report", report=safe(report)))
    return "\n".join(lines)


def _reason(case, assignment, count: int = 1) -> str:
    """A failing case's reason on its line (`count` cases that say the same): its message (public),
    or that it is hidden and which public case exercises the same thing."""
    if case.visibility == "public":
        return safe(case.message, SUMMARY_REASON)
    twin = case.twin(assignment)
    return t("terminal.hidden_like", case=safe(twin, QUOTE), count=count) if twin \
        else t("terminal.hidden_case", count=count)


def _same_lines(cases, assignment) -> list:
    """The failing cases in groups that would print the same line: same function, status, reason
    and `likely:` line, in the order of their first case."""
    groups: dict = {}
    for c in cases:
        key = (c.exercise, c.function, c.status, c.visibility, _reason(c, assignment),
               c.diagnosis if c.visibility == "public" else None)
        groups.setdefault(key, []).append(c)
    return list(groups.values())


def _note(text, max_lines: int = 20) -> str:
    """A submission-wide note (what a module printed at import, a cell that failed): its first
    line as `safe` makes it, its other lines (at most `max_lines`) inert and started with
    BLOCK_PREFIX, like printed output in `grade --case`."""
    first, *rest = _LINE_BREAK.split(clip_text(text))
    more = [BLOCK_PREFIX + _inert(line.replace("\t", "    ")) for line in rest[:max_lines]]
    if len(rest) > max_lines:
        more.append(BLOCK_PREFIX + "…")
    return "\n".join([_inert(first.replace("\t", " ")), *more])


def _show(value) -> str:
    """A value (an input, the expected value, the submission's) in a few lines, bounded."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        with np.printoptions(threshold=200, edgeitems=3, precision=6, linewidth=100):
            body = np.array2string(value)
        return t("terminal.detail.array", shape=value.shape, dtype=value.dtype) + "\n" + clip_text(body)
    if isinstance(value, np.ndarray):
        return t("terminal.detail.array", shape=value.shape, dtype=value.dtype) + "\n" + bounded_repr(value, TEXT)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{bounded_repr(k)}: {_brief(v)}" for k, v in list(value.items())[:truncation.LISTED]) + "}"
    return bounded_repr(value, TEXT)


def _brief(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return t("terminal.detail.dicts", count=len(value))
    return bounded_repr(value)


def _show_result(value, names: tuple) -> str:
    """A returned or expected value; a tuple the contract names (output, weights) labelled part by part."""
    if names and isinstance(value, (tuple, list)) and len(value) == len(names):
        return "\n".join(f"{name} = {_show(part)}" for name, part in zip(names, value))
    return _show(value)


def case_detail(result: Result, case_id: str, colour: bool, assignment=None) -> str:
    """`grade --case ID`: everything about one case (expected values only for public cases). What
    came from the submission — its message, traceback, printed output, returned value — is made
    inert (`safe`, `safe_block`): each of its lines starts with BLOCK_PREFIX. With the assignment,
    a tuple result is labelled by the names the contract gives its parts (output / weights)."""
    paint = Painter(colour)
    case = next(c for c in result.cases if c.id == case_id)
    try:
        names = tuple(assignment.exercise(case.exercise).functions[case.function].outputs) if assignment else ()
    except (KeyError, AttributeError):
        names = ()
    lines = [paint(t("terminal.detail.title", id=safe(case.id, QUOTE), visibility=safe(case.visibility, QUOTE),
                     kind=safe(case.kind, QUOTE), seed=safe(result.seed, QUOTE)), "1"),
             t("terminal.detail.status", status=paint(safe(describe(case.status).word(), QUOTE), describe(case.status).colour),
               points=as_real(case.points), max_points=as_real(case.max_points))]
    lines += [paint(t("terminal.note", note=_note(n)), "33") for n in result.notes
              if getattr(n, "key", None) == "engine.partial"]  # the total of this run is not the assignment's
    if case.message:
        lines.append(t("terminal.detail.message", message=safe(case.message)))
    traceback = case.details.get("traceback") if isinstance(case.details, dict) else None
    for line in (traceback if isinstance(traceback, list) else [])[-20:]:
        lines.append(safe_block(line, QUOTE * 2))
    if case.output:
        lines.append(t("terminal.detail.printed") + "\n" + safe_block(case.output, TEXT * 2))
    if case.inputs is not None:
        lines.append(paint(t("terminal.detail.inputs"), "1"))
        for name, value in list(case.inputs.items())[:truncation.LISTED]:
            lines.append(safe_block(f"{name} = {_show(value)}", TEXT, "  "))
    if case.visibility == "public":
        lines.append(paint(t("terminal.detail.expected"), "1") + "\n" + safe_block(_show_result(case.expected, names), TEXT * 2, ""))
        lines.append(paint(t("terminal.detail.yours"), "1") + "\n" + safe_block(_show_result(case.student, names), TEXT * 2))
    return "\n".join(lines)
