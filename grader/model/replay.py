"""The command that replays a case, built in one place and quoted for the shell it is pasted into.

    replay_argv(case_id, path=None, seed=None, student=None)
                                     ["grade", PATH, "--student", ID, "--case", ID, "--seed", N]
    quote_command(argv, shell)       the command as "posix", "powershell" or "cmd" reads it back
    detect_shell(platform, environ)  which of them the person reading this output most likely uses
    replay_command(...)              the two together: what every exporter prints

What its consumers read, quoted from their sources, and the rules this module follows:
docs/consumers.md, section « grader/model/replay.py ».
"""
from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path, PurePath, PureWindowsPath

SHELLS = ("posix", "powershell", "cmd")

_POWERSHELL_SAFE = re.compile(r"[A-Za-z0-9_./:\\=-]+")
_POWERSHELL_OPTION = re.compile(r"-[A-Za-z0-9-]*")
_POWERSHELL_QUOTES = "'\u2018\u2019\u201a\u201b"   # ' ‘ ’ ‚ ‛: all end a single-quoted string
_CMD_SAFE = re.compile(r"[A-Za-z0-9_./:\\=-]+")
_CMD_EXPANDS = re.compile(r'[%!"]')
_CMD_META = re.compile(r'([\^&|<>()%!"])')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def native_path(path) -> str:
    """A path as this platform writes it (a PurePath keeps its own flavour: PureWindowsPath
    gives backslashes anywhere); a relative one starting with `-` gets `./` (`.\\`) in front."""
    path = path if isinstance(path, PurePath) else Path(path)
    text = str(path)
    if text.startswith("-"):
        text = ("." + ("\\" if isinstance(path, PureWindowsPath) else "/")) + text
    return text


def replay_argv(case_id: str, path=None, seed: int | None = None, student: str | None = None) -> list[str]:
    """`grade [PATH] [--student ID] --case CASE_ID [--seed N]` as an argument list (unquoted).
    `seed` only where the reference is: a students' repository's public cases have fixed inputs."""
    argv = ["grade"]
    if path is not None and str(path) != "":
        argv.append(native_path(path))
    if student is not None:
        argv += ["--student", str(student)]
    argv += ["--case", str(case_id)]
    if seed is not None:
        argv += ["--seed", str(seed)]
    return argv


def quote_posix(word: str) -> str:
    return shlex.quote(word)


def quote_powershell(word: str) -> str:
    if word and _POWERSHELL_SAFE.fullmatch(word) and (not word.startswith("-") or _POWERSHELL_OPTION.fullmatch(word)):
        return word
    return "'" + "".join(ch * 2 if ch in _POWERSHELL_QUOTES else ch for ch in word) + "'"


def _c_runtime_quote(word: str) -> str:
    """`"word"` as the C runtime's command-line splitter reads it back: backslashes are literal
    except before a quote, where they are doubled; a quote is `\\"`."""
    out, backslashes = ['"'], 0
    for ch in word:
        if ch == "\\":
            backslashes += 1
            continue
        out.append("\\" * (2 * backslashes + 1) + ch if ch == '"' else "\\" * backslashes + ch)
        backslashes = 0
    out.append("\\" * (2 * backslashes) + '"')
    return "".join(out)


def quote_cmd(word: str) -> str:
    word = _CONTROL.sub("?", word)
    if word and _CMD_SAFE.fullmatch(word):
        return word
    quoted = _c_runtime_quote(word)
    if _CMD_EXPANDS.search(word):
        quoted = _CMD_META.sub(r"^\1", quoted)
    return quoted


_QUOTERS = {"posix": quote_posix, "powershell": quote_powershell, "cmd": quote_cmd}


def quote_command(argv: list[str], shell: str) -> str:
    """One line that `shell` ("posix", "powershell" or "cmd") splits back into exactly `argv`."""
    try:
        quote = _QUOTERS[shell]
    except KeyError:
        raise ValueError(f"unknown shell {shell!r}: one of {', '.join(SHELLS)}") from None
    return " ".join(quote(str(word)) for word in argv)


def detect_shell(platform: str | None = None, environ=None) -> str:
    """The shell the person reading this output most likely types into (see the module's text)."""
    platform = sys.platform if platform is None else platform
    environ = os.environ if environ is None else environ
    chosen = (environ.get("GRADE_SHELL") or "").strip().lower()
    if chosen in SHELLS:
        return chosen
    if platform != "win32":
        return "posix"
    if environ.get("MSYSTEM"):
        return "posix"
    if environ.get("PROMPT"):
        return "cmd"
    return "powershell"


def replay_command(case_id: str, path=None, seed: int | None = None, student: str | None = None,
                   shell: str | None = None) -> str:
    """The replay command, quoted for `shell` (default: `detect_shell()` of this machine)."""
    return quote_command(replay_argv(case_id, path, seed, student), shell or detect_shell())


def result_seed(result: dict) -> int | None:
    """The `--seed` of a replay, from a result's JSON: its seed where the reference computed the
    expected values, none in a students' repository (the public cases have fixed inputs)."""
    return result.get("seed") if result.get("expected_from") == "reference" else None
