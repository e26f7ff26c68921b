"""What `grade` prints and the commands it tells people to paste, on Linux, macOS and Windows:

- the replay command is built in one place (grader/model/replay.py) and quoted for the reader's shell
  — POSIX sh, PowerShell, cmd.exe — so that a folder named `devoir;touch PWNED;#` stays one
  argument and runs nothing; every exporter shows that command;
- the output is UTF-8 whatever the console's code page or the pipe's locale;
- colours only where the terminal shows them (grader/report/terminal.py).

PowerShell and cmd.exe are not installed here (no pwsh on this Linux machine): their quoting is
checked against strings derived by hand from each shell's rules, written next to each case.
"""
import html
import io
import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from markupsafe import escape

from conftest import ROOT, grade_argv, solution_folder
from grader.model.replay import (SHELLS, detect_shell, native_path, quote_cmd, quote_command, quote_powershell,
                           replay_argv, replay_command, result_seed)
from grader.report.terminal import colour_supported, enable_windows_vt, use_colour

CASE = "softmax/softmax/huge-values"
FIRST = "softmax/softmax/rows-far-apart"  # the first public case an overflowing softmax fails
HOSTILE = "devoir;touch PWNED;#"
# Folder names a student (or an LMS export) could hand in, each trying to escape its quotes.
NAMES = [
    HOSTILE,
    "$(touch PWNED)",
    "`touch PWNED`",
    "it's'; touch PWNED; '",
    "devoir\ntouch PWNED",
    "mon devoir  à rendre",
    "été 🎉 «devoir» ✓",
    "l’exercice",
    "*",
    "$HOME ~ && touch PWNED || touch PWNED",
    "-rf; touch PWNED",
]
POSIX_SHELLS = [s for s in ("sh", "bash", "dash", "zsh") if shutil.which(s)]


def grade_cli(*args, env=None, cwd=ROOT, timeout=300):
    """The real CLI as bytes (the tests decode them themselves)."""
    environment = {k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None}
    return subprocess.run([*grade_argv(), *map(str, args)], cwd=cwd, env=environment, capture_output=True,
                          timeout=timeout)


def run_posix(command: str, shell: str, cwd: Path) -> list:
    """Run a replay command with `grade` replaced by a function that prints its arguments
    (NUL-separated, so that a newline inside one shows); returns those arguments."""
    assert command.startswith("grade ")
    script = "grade() { printf '%s\\0' \"$@\"; }\n" + command + "\n"
    proc = subprocess.run([shell, "-c", script], cwd=cwd, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode("utf-8").split("\0")[:-1]


def broken_softmax(folder: Path) -> Path:
    """The reference as a student folder, with softmax overflowing (huge-values fails)."""
    solution_folder(folder)
    softmax = folder / "softmax.py"
    text = softmax.read_text()
    assert "np.exp(x - np.max(x, axis=axis, keepdims=True))" in text
    softmax.write_text(text.replace("np.exp(x - np.max(x, axis=axis, keepdims=True))", "np.exp(x)"))
    return folder


# --- (1) one builder ------------------------------------------------------------------------------

def test_replay_argv_puts_path_student_case_and_seed_in_order():
    assert replay_argv(CASE) == ["grade", "--case", CASE]
    assert replay_argv(CASE, "devoir", seed=7) == ["grade", "devoir", "--case", CASE, "--seed", "7"]
    assert replay_argv("CASE_ID", "SUBMISSION", student="1234") == \
        ["grade", "SUBMISSION", "--student", "1234", "--case", "CASE_ID"]


def test_seed_is_given_only_where_the_reference_computed_the_expected_values():
    assert result_seed({"seed": 2026, "expected_from": "reference"}) == 2026
    assert result_seed({"seed": 2026, "expected_from": "public-cases file"}) is None


def test_windows_paths_are_shown_with_backslashes():
    path = PureWindowsPath("C:/Users/Jean Dupont/devoir")
    assert native_path(path) == "C:\\Users\\Jean Dupont\\devoir"
    assert replay_argv(CASE, path)[1] == "C:\\Users\\Jean Dupont\\devoir"
    assert quote_command(replay_argv(CASE, path), "powershell") == \
        f"grade 'C:\\Users\\Jean Dupont\\devoir' --case {CASE}"
    assert quote_command(replay_argv(CASE, path), "cmd") == f'grade "C:\\Users\\Jean Dupont\\devoir" --case {CASE}'
    assert native_path(PurePosixPath("/home/jean/devoir")) == "/home/jean/devoir"


def test_a_path_starting_with_a_dash_is_not_read_as_an_option():
    assert native_path(PurePosixPath("-rf")) == "./-rf"
    assert native_path(PureWindowsPath("-rf")) == ".\\-rf"
    assert native_path(PurePosixPath("/tmp/-rf")) == "/tmp/-rf"


def test_no_site_builds_its_own_replay_command():
    """Every exporter imports the builder; none formats "grade … --case" itself any more."""
    for module in ("cli", "bulk/run", "bulk/student", "export/github", "export/junit", "export/gradescope",
                   "pytest_plugin"):
        text = (ROOT / "grader" / f"{module}.py").read_text(encoding="utf-8")
        assert "from grader.model.replay import" in text, module
        assert "replay_command" not in text or "from grader.cli import" not in text, module
        assert not re.search(r'"grade [^"\n]*--(case|student)', text), module
        assert '"grade " +' not in text, module


# --- (1) POSIX: the hostile names, run by a real shell -------------------------------------------

@pytest.mark.parametrize("shell", POSIX_SHELLS)
@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
def test_posix_command_of_a_hostile_folder_runs_nothing_and_keeps_the_name(tmp_path, shell, name):
    argv = replay_argv(CASE, name, seed=7)
    command = quote_command(argv, "posix")
    assert run_posix(command, shell, tmp_path) == argv[1:]
    assert list(tmp_path.iterdir()) == [], f"{command!r} created files in {shell}"


def test_posix_command_of_a_windows_path_in_git_bash_keeps_its_backslashes(tmp_path):
    argv = replay_argv(CASE, PureWindowsPath("C:/Users/Jean Dupont/devoir"))
    assert run_posix(quote_command(argv, "posix"), "sh", tmp_path) == argv[1:]


# --- (1) PowerShell and cmd.exe: hand-derived strings (neither shell is installed here) --------------

@pytest.mark.parametrize("word, expected", [
    (HOSTILE, "'devoir;touch PWNED;#'"),                 # ; and # would end the command / start a comment
    ("$(touch PWNED)", "'$(touch PWNED)'"),              # nothing expands inside single quotes
    ("`touch PWNED`", "'`touch PWNED`'"),                 # the backtick is PowerShell's escape character
    ("it's'; touch PWNED; '", "'it''s''; touch PWNED; '''"),  # a quote is doubled inside single quotes
    ("l’exercice", "'l’’exercice'"),                      # ’ (U+2019) ends a single-quoted string too
    ("‘a‛b‚", "'‘‘a‛‛b‚‚'"),                             # as do ‘ ‛ ‚
    ("devoir\ntouch PWNED", "'devoir\ntouch PWNED'"),     # a newline inside quotes is part of the string
    ("mon devoir", "'mon devoir'"),
    ("été 🎉", "'été 🎉'"),
    ("--%", "'--%'"),                                    # the stop-parsing token
    ("@args", "'@args'"),                                # splatting
    ("{x}", "'{x}'"), ("(x)", "'(x)'"), ("#x", "'#x'"), ("a|b", "'a|b'"), ("a&b", "'a&b'"),
    ("a,b", "'a,b'"),                                    # an array: two arguments
    ("-a.b", "'-a.b'"),                                  # Windows PowerShell splits it at the dot
    ("<x>", "'<x>'"), ("a\"b", "'a\"b'"), ("a“b”", "'a“b”'"),  # double quotes are literal in single quotes
    ("--case", "--case"), ("-5", "-5"), ("2026", "2026"), (CASE, CASE),
    ("C:\\Users\\jean\\devoir", "C:\\Users\\jean\\devoir"), ("./devoir", "./devoir"),
])
def test_powershell_quoting_of_a_word(word, expected):
    assert quote_powershell(word) == expected


def test_powershell_command_of_the_hostile_folder():
    assert quote_command(replay_argv(CASE, HOSTILE, seed=7), "powershell") == \
        f"grade 'devoir;touch PWNED;#' --case {CASE} --seed 7"
    assert quote_command(replay_argv(CASE, "-rf; touch PWNED"), "powershell") == \
        f"grade './-rf; touch PWNED' --case {CASE}"


@pytest.mark.parametrize("word, expected", [
    (HOSTILE, '"devoir;touch PWNED;#"'),                 # inside double quotes cmd.exe takes ; # literally
    ("a&calc", '"a&calc"'), ("a|b>c<d", '"a|b>c<d"'), ("(x)^y", '"(x)^y"'),  # … and & | < > ( ) ^
    ("mon devoir", '"mon devoir"'),
    ("C:\\my dir\\", '"C:\\my dir\\\\"'),                # a backslash before the closing quote is doubled
    ("100%PATH%", '^"100^%PATH^%^"'),                     # %…% expands even in quotes: all caret-escaped
    ("wow!x!", '^"wow^!x^!^"'),                           # !…! under delayed expansion
    ('say "hi" & go', '^"say \\^"hi\\^" ^& go^"'),       # \" for the C runtime, then carets for cmd
    ("devoir\ntouch PWNED", '"devoir?touch PWNED"'),     # a newline cannot be quoted for cmd at all
    ("été 🎉", '"été 🎉"'),
    ("$(touch PWNED)", '"$(touch PWNED)"'), ("`x`", '"`x`"'),  # not special to cmd
    ("--case", "--case"), (CASE, CASE), ("C:\\Users\\jean\\devoir", "C:\\Users\\jean\\devoir"),
])
def test_cmd_quoting_of_a_word(word, expected):
    assert quote_cmd(word) == expected


def test_unknown_shell_is_refused():
    with pytest.raises(ValueError, match="posix, powershell, cmd"):
        quote_command(["grade"], "fish")


# --- (1) which shell ------------------------------------------------------------------------------

@pytest.mark.parametrize("platform, environ, expected", [
    ("linux", {}, "posix"),
    ("darwin", {"PROMPT": "$P$G"}, "posix"),
    ("win32", {}, "powershell"),                                  # Windows Terminal's, VS Code's default
    ("win32", {"PROMPT": "$P$G"}, "cmd"),                         # cmd.exe sets PROMPT, PowerShell does not
    ("win32", {"MSYSTEM": "MINGW64", "PROMPT": "$P$G"}, "posix"),  # Git Bash
    ("win32", {"GRADE_SHELL": "cmd"}, "cmd"),                     # the override
    ("linux", {"GRADE_SHELL": "PowerShell"}, "powershell"),
    ("win32", {"GRADE_SHELL": "fish", "PROMPT": "$P$G"}, "cmd"),  # not a shell we quote for: ignored
])
def test_detect_shell(platform, environ, expected):
    assert detect_shell(platform, environ) == expected
    assert expected in SHELLS


def test_replay_command_quotes_for_the_detected_shell(monkeypatch):
    monkeypatch.setenv("GRADE_SHELL", "powershell")
    assert replay_command(CASE, "mon devoir") == f"grade 'mon devoir' --case {CASE}"
    monkeypatch.setenv("GRADE_SHELL", "cmd")
    assert replay_command(CASE, "mon devoir") == f'grade "mon devoir" --case {CASE}'


# --- (1) every exporter shows the command ---------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """`grade --ci` on a folder named `devoir;touch PWNED;#` whose softmax overflows, with every
    output: terminal, HTML report, JSON, JUnit, step summary, Classroom result."""
    base = tmp_path_factory.mktemp("hostile")
    folder = broken_softmax(base / HOSTILE)
    out = base / "out"
    out.mkdir()
    summary, output = out / "summary.md", out / "github-output"
    proc = grade_cli(folder, "-k", "softmax", "--ci", "--report", out / "r.html", "--json", out / "r.json",
                     "--junit", out / "junit.xml",
                     env={"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output), "GRADE_SHELL": None})
    assert proc.returncode == 1, proc.stderr.decode()
    result = json.loads((out / "r.json").read_text())
    return {"folder": folder, "out": out, "stdout": proc.stdout.decode("utf-8"), "result": result,
            "html": (out / "r.html").read_text(encoding="utf-8"), "junit": (out / "junit.xml").read_text("utf-8"),
            "summary": summary.read_text(encoding="utf-8"), "github_output": output.read_text(encoding="utf-8")}


def test_terminal_shows_the_quoted_replay_command(hostile_run):
    command = replay_command(FIRST, hostile_run["folder"], 2026, shell="posix")
    assert f"'{hostile_run['folder']}'" in command
    assert f"replay a failing case in full: {command}\n" in hostile_run["stdout"]


def test_html_report_shows_the_quoted_replay_command(hostile_run):
    command = replay_command(CASE, hostile_run["folder"], 2026, shell="posix")
    assert f"<code>{escape(command)}</code>" in hostile_run["html"]


def test_replay_command_copied_from_the_html_report_runs_nothing(hostile_run, tmp_path):
    start = hostile_run["html"].index("<code>grade ") + len("<code>")
    command = html.unescape(hostile_run["html"][start:hostile_run["html"].index("</code>", start)])
    assert run_posix(command, "sh", tmp_path) == [str(hostile_run["folder"]), "--case", FIRST, "--seed", "2026"]
    assert list(tmp_path.iterdir()) == []


def test_junit_shows_the_builders_replay_command(hostile_run):
    assert f"replay: {replay_command(CASE, seed=2026, shell='posix')}" in hostile_run["junit"]


def test_github_step_summary_shows_the_builders_replay_command(hostile_run):
    assert f"`{replay_command('CASE_ID', shell='posix')}`" in hostile_run["summary"]


def test_classroom_result_test_code_is_the_builders_replay_command(hostile_run):
    import base64
    encoded = hostile_run["github_output"].strip().removeprefix("result=")
    tests = {t["name"]: t for t in json.loads(base64.b64decode(encoded))["tests"]}
    assert tests[CASE]["test_code"] == replay_command(CASE, seed=2026, shell="posix")


def test_gradescope_output_and_instructor_stdout_show_the_builders_command(assignment):
    from grader.export.gradescope import _case_output, _instructor_summary
    from grader.model.result import CaseResult, ExerciseResult, Result

    case = CaseResult(id=CASE, exercise="softmax", function="softmax", visibility="public", kind="random",
                      status="failed", message="NaN", points=0.0, max_points=1.0)
    result = Result(submission="s", seed=1, score=0.0, max_score=1.0,
                    exercises=[ExerciseResult("softmax", "Softmax", 0.0, 1.0, [case])])
    assert _case_output(case).endswith(f"Replay it in your repository: {replay_command(CASE)}")
    assert f": {replay_command('CASE_ID', 'SUBMISSION', student='1234')}" in \
        _instructor_summary(result, assignment, "1234", "exercises")


def test_pytest_plugin_failure_text_shows_a_hostile_grade_path_quoted(release_copy, tmp_path):
    from test_pytest_plugin import pytest_in

    students = release_copy(tmp_path / "students")
    folder = tmp_path / HOSTILE
    shutil.copytree(students / "exercises", folder)
    run = pytest_in(students, f"--grade-path={folder}", "-k", "orange-apple", env={"GRADE_SHELL": None})
    (text,) = [text for _, _, text in run.cases.values()]
    command = replay_command("softmax/softmax/orange-apple", folder, shell="posix")
    assert text.splitlines()[-1] == f"replay: {command}", text
    assert run_posix(command, "sh", students) == [str(folder), "--case", "softmax/softmax/orange-apple"]
    assert not (students / "PWNED").exists()


def test_bulk_reports_quote_for_the_shell_of_the_machine_running_bulk(tmp_path):
    submissions = tmp_path / "rendus"
    name = f"{HOSTILE} l'été"                # a quote: written '' for PowerShell, '"'"' for sh
    broken_softmax(submissions / name)
    out = tmp_path / "notes"
    proc = grade_cli("bulk", submissions, "--out", out, "-j", "1", "--quiet", env={"GRADE_SHELL": "powershell"})
    assert proc.returncode == 0, proc.stderr.decode()
    (report,) = (out / "reports").glob("*.html")
    (result,) = [json.loads(p.read_text()) for p in (out / "results").glob("*.json")]
    seed = result["seed"]
    path = str(submissions / name).replace("'", "''")
    expected = f"grade '{path}' --case {CASE} --seed {seed}"
    assert f"<code>{escape(expected)}</code>" in report.read_text(encoding="utf-8")


# --- (2) UTF-8 whatever the console's code page ---------------------------------------------------

SHOUTY = "raté ❌ « ✓ » 🎉"
PRINTED = "✓ « affiché » ❌ 🎉"


@pytest.fixture(scope="module")
def unicode_submission(tmp_path_factory):
    """A folder with a non-ASCII name whose softmax prints, then raises, non-ASCII text."""
    folder = solution_folder(tmp_path_factory.mktemp("unicode") / "devoir été 🎉")
    softmax = folder / "softmax.py"
    text = softmax.read_text()
    head, sep, body = text.partition("def softmax(")
    body_head, colon, rest = body.partition(":\n")
    softmax.write_text(head + sep + body_head + colon +
                       f"    print({PRINTED!r})\n    raise ValueError({SHOUTY!r})\n" + rest)
    return folder


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_summary_is_utf8_whatever_the_output_encoding(unicode_submission, tmp_path, encoding):
    proc = grade_cli(unicode_submission, "-k", "softmax", "--no-color", "--report", tmp_path / "r.html",
                     env={"PYTHONIOENCODING": encoding})
    assert proc.returncode == 1, proc.stderr
    assert b"Traceback" not in proc.stderr and b"UnicodeEncodeError" not in proc.stderr
    stdout = proc.stdout.decode("utf-8")  # strict: every byte is UTF-8
    assert SHOUTY in stdout
    assert "devoir été 🎉" in stdout           # the replay command's path


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_case_detail_shows_what_the_code_printed_in_utf8(unicode_submission, tmp_path, encoding):
    proc = grade_cli(unicode_submission, "--case", CASE, "--no-color", "--report", tmp_path / "r.html",
                     env={"PYTHONIOENCODING": encoding})
    assert proc.returncode == 1, proc.stderr
    assert b"Traceback" not in proc.stderr
    stdout = proc.stdout.decode("utf-8")
    assert PRINTED in stdout and SHOUTY in stdout


def test_error_messages_on_stderr_are_utf8_whatever_the_output_encoding(tmp_path):
    proc = grade_cli(tmp_path / "nulle part « é » 🎉", "--report", tmp_path / "r.html",
                     env={"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 2
    assert b"Traceback" not in proc.stderr
    assert "nulle part « é » 🎉" in proc.stderr.decode("utf-8")


def test_utf8_output_reconfigures_a_stream_that_is_not_utf8():
    from grader.cli import utf8_output
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252")
    utf8_output(stream)
    stream.write("🎉 « ✓ »\udcff")  # a lone surrogate too: replaced, never an exception
    stream.flush()
    assert stream.encoding == "utf-8"
    assert raw.getvalue().startswith("🎉 « ✓ »".encode("utf-8"))


# --- (3) colours ----------------------------------------------------------------------------------

def never():
    raise AssertionError("the console was not to be asked")


@pytest.mark.parametrize("platform, environ, isatty, enable_vt, expected", [
    ("linux", {}, True, never, True),
    ("linux", {}, False, never, False),                                  # a pipe, a file
    ("linux", {"NO_COLOR": "1"}, True, never, False),
    ("linux", {"NO_COLOR": ""}, True, never, True),                      # empty: ignored (no-color.org)
    ("linux", {"TERM": "dumb"}, True, never, False),
    ("linux", {"FORCE_COLOR": "1"}, False, never, True),                 # forced, even into a pipe
    ("linux", {"FORCE_COLOR": "0"}, False, never, False),
    ("linux", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True, never, False),  # NO_COLOR wins
    ("darwin", {"TERM": "xterm-256color"}, True, never, True),
    ("win32", {}, True, lambda: True, True),                             # VT processing switched on
    ("win32", {}, True, lambda: False, False),                           # an old console: no escapes
    ("win32", {}, False, never, False),
    ("win32", {"WT_SESSION": "0b9c…"}, True, never, True),               # Windows Terminal
    ("win32", {"ANSICON": "120x30"}, True, never, True),
    ("win32", {"TERM_PROGRAM": "vscode"}, True, never, True),
    ("win32", {"ConEmuANSI": "ON"}, True, never, True),
    ("win32", {"ConEmuANSI": "OFF"}, True, lambda: False, False),
    ("win32", {"WT_SESSION": "x", "TERM": "dumb"}, True, never, False),
])
def test_colour_decision(platform, environ, isatty, enable_vt, expected):
    assert colour_supported(platform, environ, isatty, enable_vt) is expected


def test_no_colour_for_a_stream_that_is_not_a_terminal():
    assert use_colour(io.StringIO(), platform="linux", environ={}) is False


@pytest.mark.skipif(sys.platform == "win32", reason="off Windows only: there kernel32 is really asked")
def test_virtual_terminal_switch_is_false_off_windows_without_raising():
    assert enable_windows_vt(sys.stdout) is False


def run_in_terminal(*args, env):
    """The CLI with its stdout on a pseudo-terminal (a real TTY); returns what it wrote there."""
    master, slave = pty.openpty()
    environment = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    proc = subprocess.Popen([*grade_argv(), *map(str, args)], cwd=ROOT, env=environment, stdout=slave,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(master)
    return b"".join(chunks).decode("utf-8")


@pytest.mark.skipif(not hasattr(pty, "openpty") or sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("env, coloured", [
    ({"TERM": "xterm-256color", "NO_COLOR": None, "FORCE_COLOR": None}, True),
    ({"TERM": "dumb", "NO_COLOR": None, "FORCE_COLOR": None}, False),
    ({"TERM": "xterm-256color", "NO_COLOR": "1", "FORCE_COLOR": None}, False),
])
def test_cli_colours_on_a_terminal_only_when_it_shows_them(tmp_path, env, coloured):
    text = run_in_terminal("-k", "softmax", "--report", tmp_path / "r.html", env=env)
    assert "Points" in text
    assert ("\x1b[" in text) is coloured, text


def test_cli_force_color_colours_a_pipe_and_no_color_wins(tmp_path):
    forced = grade_cli("-k", "softmax", "--report", tmp_path / "r.html", env={"FORCE_COLOR": "1", "NO_COLOR": None})
    assert b"\x1b[" in forced.stdout
    both = grade_cli("-k", "softmax", "--report", tmp_path / "r.html", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert b"\x1b[" not in both.stdout and b"Points" in both.stdout
