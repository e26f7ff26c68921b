"""Check from inside a notebook: the functions as the running kernel has them, graded by the same
pipeline and the same isolated worker as `grade`, the report inline.

In a notebook (JupyterLab, Notebook, VS Code, Colab):

    %load_ext grader.notebook          # once: the %check magic
    %check softmax                     # an exercise (or a function); `%check` alone: all of them
    %check --case softmax/softmax/random-0     # one case in full
    %check attention --lang en

or from Python (a console, a script, a cell):

    from grader.notebook import check
    check("softmax")                   # shows the report; `run("softmax")` returns it instead

A notebook handed in is graded cell by cell by `grade seance11.ipynb`, which drops `%` lines:
the magic costs nothing there, where `from grader.notebook import check` would be a forbidden
import of `grader` — use the magic in a notebook you hand in.

Expected values: the public cases of `public_cases.npz` in a students' repository, every case
(hidden ones too) where the reference is (the instructor's repository). The repository is the
one holding `assignment.yaml` above the working folder (where the notebook was opened); in
Colab, the starter notebook's first cell clones it and goes into it.

Nothing in the kernel changes: the functions are copied out of the kernel's cells
(grader/notebook/kernel.py) and run in a worker; the kernel's namespace, modules and random
state are only read, and `check` returns None (no Out[] entry). IPython is imported only when
there is a kernel to display in: the grader does not depend on Jupyter.
"""
from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from grader.i18n import LANGUAGES, language, speaking, t
from grader.model.errors import GraderError

__all__ = ["check", "run", "load_ipython_extension", "CheckReport"]

_STATE = {}   # the grader's own cache in this process: {assignment file: (stamp, assignment, expectations)}


class CheckReport:
    """What `check` shows: `_repr_html_` for a notebook, `repr` (text) for a console; `result`
    is the grader's Result (`result.to_json()` as in `grade --json`)."""

    def __init__(self, result, html: str, text: str, seconds: float):
        self.result, self.html, self.text, self.seconds = result, html, text, seconds

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def max_score(self) -> float:
        return self.result.max_score

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer, cycle):
        printer.text(self.text)


class _Message:
    """A one-line answer (no repository, a function unknown…): text and HTML alike."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        from markupsafe import escape
        return f'<div style="border-left:4px solid #cf222e;padding:6px 12px;white-space:pre-wrap">{escape(self.text)}</div>'

    def __repr__(self) -> str:
        return self.text


def _shell():
    """The running IPython shell, or None (a plain Python console, a script): IPython is only
    looked for where it is already imported."""
    module = sys.modules.get("IPython")
    if module is None:
        return None
    try:
        return module.get_ipython()
    except Exception:
        return None


def _repository(repo) -> Path:
    """The assignment file: `repo` when given, else above the working folder; one clear line
    otherwise."""
    from grader.model.assignment import ASSIGNMENT_FILE, find_assignment
    if repo is not None:
        candidate = Path(repo).expanduser()
        candidate = candidate if candidate.name == ASSIGNMENT_FILE else candidate / ASSIGNMENT_FILE
        if not candidate.is_file():
            raise GraderError(t("notebook.no_assignment_there", path=candidate))
        return candidate.resolve()
    try:
        return find_assignment(Path.cwd())
    except GraderError:
        raise GraderError(t("notebook.no_assignment", file=ASSIGNMENT_FILE, cwd=Path.cwd())) from None


def _course(path: Path):
    """(assignment, expectations), kept for this process while the course's files are unchanged:
    a warm kernel loads the assignment and computes the expected values once."""
    from grader.grading.engine import Expectations
    from grader.grading.expected import PUBLIC_CASES_FILE
    from grader.model.assignment import load_assignment

    def stamp():
        files = [path, path.parent / PUBLIC_CASES_FILE]
        return tuple(f.stat().st_mtime_ns if f.is_file() else None for f in files)

    now = stamp()
    cached = _STATE.get(path)
    if cached is None or cached[0] != now:
        assignment = load_assignment(path)
        try:
            expectations = Expectations(assignment)
        except GraderError as exc:
            raise GraderError(f"{exc} {t('notebook.public_cases_hint', file=PUBLIC_CASES_FILE, root=path.parent)}") \
                from None
        if "started" not in _STATE:
            from grader.sandbox.tempfiles import remove_stale
            remove_stale()   # what a killed earlier run left in the temporary directory
            _STATE["started"] = True
        cached = _STATE[path] = (now, assignment, expectations)
    return cached[1], cached[2]


def run(*names: str, case: str | None = None, lang: str | None = None, repo=None, shell=None):
    """Grade the kernel's functions for the exercises or functions `names` (all when none) and
    return the CheckReport (or a one-line message when there is nothing to grade)."""
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"lang: one of {', '.join(LANGUAGES)}")
    with speaking(lang or language()):
        try:
            return _run(names, case, repo, shell if shell is not None else _shell())
        except GraderError as exc:
            from grader.model.result import inert
            return _Message(t("notebook.error", error=inert(str(exc))))


def _run(names, case, repo, shell) -> CheckReport:
    from grader.grading.engine import grade, select_cases
    from grader.notebook.inline import render_inline_html, render_text
    from grader.notebook.kernel import Kernel, kernel_submission
    from grader.sandbox.supervisor import prepare

    started = time.perf_counter()
    if shell is None:
        raise GraderError(t("notebook.no_kernel"))
    prepare()   # the worker template (Python, NumPy) starts while the kernel is read
    assignment, expectations = _course(_repository(repo))
    cases = select_cases(assignment, list(names) or None, case)
    plan = expectations.plan(cases)
    if case and not plan.cases:
        raise GraderError(t("cli.hidden_case", case=case))
    wanted = list(dict.fromkeys(c.function for c in plan.cases))
    submission = kernel_submission(Kernel.of(shell), wanted)
    result = grade(assignment, submission, plan)

    def replay(case_id: str) -> str:
        return f"%check --case {case_id}"

    if case:
        from grader.report.terminal import case_detail
        text = case_detail(result, case, False)
        html = render_inline_html(result, assignment, [_render(n) for n in result.notes], replay)
    else:
        text = render_text(result, replay)
        html = render_inline_html(result, assignment, [_render(n) for n in result.notes], replay)
    return CheckReport(result, html, text, time.perf_counter() - started)


def _render(note) -> str:
    from grader.model.said import render
    return render(note)


def check(*names: str, case: str | None = None, lang: str | None = None, repo=None) -> None:
    """Grade and show the report inline (text/html beside text/plain); returns None, so that the
    kernel keeps no Out[] entry of it. `run(...)` returns the report instead."""
    report = run(*names, case=case, lang=lang, repo=repo)
    _show(report)


def _show(report):
    shell = _shell()
    if shell is not None:
        from IPython.display import display   # only where a kernel already imported IPython
        display(report)
    else:
        print(report.text)


def _magic(line: str):
    """%check [NAME …] [--case ID] [--lang fr|en] [--repo PATH]"""
    words, names, options = shlex.split(line or ""), [], {}
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("--case", "--lang", "--repo") and i + 1 < len(words):
            options[word[2:]] = words[i + 1]
            i += 2
            continue
        if word.startswith(("--case=", "--lang=", "--repo=")):
            key, _, value = word[2:].partition("=")
            options[key] = value
        elif word.startswith("-"):
            _show(_Message(t("notebook.magic_usage")))
            return None
        else:
            names.append(word)
        i += 1
    if options.get("lang") not in (None, *LANGUAGES):
        _show(_Message(t("notebook.magic_usage")))
        return None
    check(*names, **options)
    return None


def load_ipython_extension(shell):
    """`%load_ext grader.notebook`: registers the %check magic (and nothing else)."""
    shell.register_magic_function(_magic, "line", "check")
