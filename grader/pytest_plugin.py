"""`pytest` in a students' repository: the public cases as test items, one per case.

Registered as the pytest plugin `seance11` (entry point group `pytest11`; `-p no:seance11`
turns it off). Where the entry point is not installed, `-p grader.pytest_plugin` loads it; where
it is, pytest refuses to register the module a second time under that other name: write
`-p no:seance11 -p grader.pytest_plugin` to be safe in both cases.

What a student sees, what pytest and xdist expect of a plugin (quoted from their sources), and
the rules this module follows: docs/consumers.md, section « grader/pytest_plugin.py ».
"""
from __future__ import annotations

import re
import traceback
from pathlib import Path

import pytest

from grader.model.assignment import ASSIGNMENT_FILE, find_assignment
from grader.model.errors import GraderError
from grader.i18n import t
from grader.model.replay import replay_command
from grader.model.statuses import describe

PLUGIN_NAME = "seance11"
STATE = pytest.StashKey()


def pytest_addoption(parser):
    group = parser.getgroup(PLUGIN_NAME, t("pytest_plugin.option.group"))
    group.addoption("--grade", action="store_true", default=False,
                    help=t("pytest_plugin.option.grade", file=ASSIGNMENT_FILE))
    group.addoption("--grade-path", metavar="PATH", default=None, help=t("pytest_plugin.option.grade_path"))


# --- deciding ------------------------------------------------------------------------------------

def _is_course_repository(path: Path) -> bool:
    """True when the assignment file has a `reference:` key (the instructor's repository)."""
    import re

    import yaml
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False  # unreadable: the students' side, where loading it reports the problem
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict):
        return "reference" in data
    return re.search(r"(?m)^reference\s*:", text) is not None  # a broken file: its text decides


class _State:
    """One per pytest run: the assignment, the submission, and the one grading result."""

    def __init__(self, config, path: Path, submission: Path | None):
        self.config = config
        self.path = path                  # the assignment file, resolved
        self.submission = submission      # None: the assignment's package folder
        self.assignment = None
        self.result = None                # the Result, once graded
        self.error = None                 # one message for every item, when grading failed
        self.graded = False
        self.cases = {}                   # case id -> CaseResult

    def load(self):
        if self.assignment is None:
            from grader.model.assignment import load_assignment
            self.assignment = load_assignment(self.path)
        return self.assignment

    def submission_path(self) -> Path:
        assignment = self.load()
        return self.submission or assignment.root / assignment.package

    def grade(self, items):
        """Grade the cases of `items` in one run of the engine (one worker process)."""
        if self.graded:
            return
        self.graded = True
        from grader.grading.engine import Expectations, grade
        try:
            assignment = self.load()
            cases = [item.case for item in items]
            plan = Expectations(assignment).plan(cases)
            self.result = grade(assignment, self.submission_path(), plan)
            self.cases = {c.id: c for c in self.result.cases}
        except GraderError as exc:
            self.error = str(exc)
        except Exception:  # a bug of the grader: its traceback is the useful part
            self.error = t("pytest_plugin.grader_failed", traceback=traceback.format_exc())


def _find(config) -> Path | None:
    """The assignment file in pytest's rootdir or a folder above it; failing that, in the folder
    pytest was started from or above. (pytest fixes its rootdir before it knows this plugin's
    options, so `--grade-path ~/Downloads/devoir.ipynb`, the value as a separate argument, makes
    the rootdir `~/Downloads`; `--grade-path=PATH` does not.)"""
    for start in dict.fromkeys([Path(config.rootpath), Path(config.invocation_params.dir)]):
        try:
            return find_assignment(start).resolve()
        except GraderError:
            continue
    return None


def pytest_configure(config):
    asked = config.getoption("grade", False) or config.getoption("grade_path", None) is not None
    path = _find(config)
    if path is None:
        if asked:
            raise pytest.UsageError(t("pytest_plugin.no_assignment", file=ASSIGNMENT_FILE,
                                      rootpath=config.rootpath)) from None
        return  # not a course: inert
    if not asked and _is_course_repository(path):
        return  # the instructor's repository: its own test suite, nothing added
    option = config.getoption("grade_path", None)
    submission = (Path(config.invocation_params.dir) / option).absolute() if option is not None else None
    config.stash[STATE] = _State(config, path, submission)
    config.pluginmanager.register(JUnitClassnames(config, path), "seance11-junit-classnames")
    config.addinivalue_line("markers", t("pytest_plugin.marker", name=PLUGIN_NAME, file=ASSIGNMENT_FILE))
    _add_assignment_to_args(config, path)


class JUnitClassnames:
    """`--junitxml`: each case's `classname` is its exercise, as in `grade --junit`, rather than the
    file pytest derives it from (_pytest/junitxml.py, record_testreport: classname = the node id's
    parts before the name, "assignment.yaml" for every case). It sets the attribute as the
    `record_xml_attribute` fixture does — `node_reporter(report).add_attribute(...)`, which
    record_testreport keeps ("Restore any user-defined attributes") — from the report, in the
    process that writes the file (the controller under pytest-xdist, where no item exists)."""

    def __init__(self, config, path: Path):
        self.config, self.file = config, path.name

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report):
        where, _, case_id = report.nodeid.partition("::")
        if not case_id or where.replace("\\", "/").rsplit("/", 1)[-1] != self.file:
            return
        for plugin in self.config.pluginmanager.get_plugins():
            if type(plugin).__name__ == "LogXML" and hasattr(plugin, "node_reporter"):
                plugin.node_reporter(report).add_attribute("classname", case_id.split("/", 1)[0])


def _add_assignment_to_args(config, path: Path):
    """With no path on the command line, collect the assignment file too if the default search
    (the current folder, or `testpaths`) would not reach it."""
    source = getattr(config, "args_source", None)
    if source is None or source == pytest.Config.ArgsSource.ARGS or config.option.pyargs:
        return
    base = Path(config.invocation_params.dir)
    for arg in config.args:
        folder = (base / str(arg).split("::")[0]).resolve()
        if folder == path or folder in path.parents:
            return
    config.args.append(str(path))


def _safe(text) -> str:
    """Student text without control characters (grader.report.terminal.safe, where the engine has it)."""
    from grader.report import terminal
    return getattr(terminal, "safe", str)(text)


def _state(config) -> _State | None:
    return config.stash.get(STATE, None)


# --- collecting ----------------------------------------------------------------------------------

def pytest_collect_file(file_path, parent):
    state = _state(parent.config)
    if state is not None and Path(file_path).resolve() == state.path:
        return AssignmentFile.from_parent(parent, path=file_path)
    return None


class AssignmentFile(pytest.File):
    """The assignment file: one item per public case."""

    def collect(self):
        state = _state(self.config)
        try:
            assignment = state.load()
        except GraderError as exc:
            raise self.CollectError(str(exc)) from None
        xdist = hasattr(self.config, "workerinput")  # collecting in a pytest-xdist worker
        for case in assignment.cases():
            if case.visibility != "public":
                continue
            item = CaseItem.from_parent(self, name=case.id, case=case)
            item.add_marker(PLUGIN_NAME)  # `-m "not seance11"`: the student's own tests only
            if xdist:
                item.add_marker(pytest.mark.xdist_group(PLUGIN_NAME))
            yield item


class CaseFailed(Exception):
    """Raised by a failing case item; `repr_failure` shows `self.text` and nothing else."""

    def __init__(self, message: str, text: str, colour_text: str | None = None):
        super().__init__(message)
        self.message, self.text, self.colour_text = message, text, colour_text or text


class CaseItem(pytest.Item):
    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case
        self.extra_keyword_matches.update({case.exercise, case.function, case.kind})

    def runtest(self):
        state = _state(self.config)
        if not state.graded:
            selected = [i for i in self.session.items if isinstance(i, CaseItem)]
            state.grade(selected if self in selected else [*selected, self])
        if state.error is not None:
            raise CaseFailed(state.error.splitlines()[0], state.error)
        case = state.cases.get(self.case.id)
        if case is None:
            raise CaseFailed(t("pytest_plugin.no_expected.short", case_id=self.case.id),
                             t("pytest_plugin.no_expected.long", case_id=self.case.id))
        status = describe(case.status)
        if not status.passed:     # the short summary: the message, else the verdict ("timed out"…)
            raise CaseFailed(_safe(case.message) or _safe(status.word()), self._detail(state, case, False),
                             self._detail(state, case, True))

    def _detail(self, state, case, colour: bool) -> str:
        """The grader's message, its `likely:` diagnosis, then the case as `grade --case` prints it."""
        from grader.report.terminal import case_detail
        message = _safe(case.message)  # student text: no control character reaches the terminal
        detail = case_detail(state.result, case.id, colour, state.assignment)
        if message:  # said once, on the first line: drop case_detail's own "message: …" line
            detail = re.sub(r"\n[^\n:]{1,40}:[ \u00a0\u202f]" + re.escape(message) + r"(?=\n|$)", "", detail, count=1)
        head = f"\033[31m{message}\033[0m" if colour and message else message
        likely = t("pytest_plugin.likely", diagnosis=_safe(case.diagnosis)) \
            if case.diagnosis and case.visibility == "public" else ""
        replay = _safe(replay_command(case.id, state.submission))  # quoted for this shell (grader/model/replay.py)
        return "\n".join(filter(None, [head, likely, detail, t("pytest_plugin.replay", command=replay)]))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CaseFailed):
            return _FailureRepr(self, excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, self.name


class _Crash:
    """What pytest's short summary (`FAILED id - message`), `--tb=line` and JUnit XML read."""

    def __init__(self, path, message):
        self.path, self.lineno, self.message = str(path), 0, message

    def toterminal(self, tw):
        tw.line(str(self))

    def __str__(self):
        return f"{self.path}: {self.message}"


class _FailureRepr:
    """The failure as pytest prints it: the grader's text, coloured when the terminal is."""

    def __init__(self, item, failure: CaseFailed):
        self.failure = failure
        self.reprcrash = _Crash(item.nodeid, failure.message)

    def toterminal(self, tw):
        text = self.failure.colour_text if getattr(tw, "hasmarkup", False) else self.failure.text
        for line in text.splitlines():
            tw.line(line)

    def __str__(self):
        return self.failure.text


# --- reporting -----------------------------------------------------------------------------------

def pytest_report_header(config):
    state = _state(config)
    if state is None:
        return None
    try:
        where = state.submission or f"{state.load().package}/"
    except GraderError:
        where = t("pytest_plugin.header_package")  # the collection error says why
    return t("pytest_plugin.header", name=PLUGIN_NAME, path=state.path, where=where)


def pytest_terminal_summary(terminalreporter):
    state = _state(terminalreporter.config)
    if state is None or not state.graded:
        return
    terminalreporter.write_sep("-", t("pytest_plugin.summary.title", name=PLUGIN_NAME))
    if state.error is not None:
        terminalreporter.write_line(t("pytest_plugin.summary.not_graded", error=state.error.splitlines()[0]), red=True)
        return
    result = state.result
    for note in result.notes:
        terminalreporter.write_line(t("pytest_plugin.summary.note", note=_safe(note)), yellow=True)
    passed = sum(c.passed for c in state.cases.values())
    terminalreporter.write_line(t("pytest_plugin.summary.points", score=result.score, total=result.max_score,
                                  cases=len(state.cases), passed=passed, count=passed, duration=result.duration),
                                bold=True)
    if result.source == "public-cases file":
        terminalreporter.write_line(t("pytest_plugin.summary.public_only"))
