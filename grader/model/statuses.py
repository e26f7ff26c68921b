"""A case's status, and what every output says and shows for it: one table.

A case ends with one of seven statuses (`Status`, the JSON's `status` of a case). Every output
(the terminal, the HTML report, JUnit, the GitHub step summary and Classroom result, Gradescope,
the gradebooks, the class overview, the pytest plugin) reads what to write for it here, as
pytest's `pytest_report_teststatus` hook says in one place, for a report, its category, its
short letter and its verbose word:

    describe("timeout").tag()        "TIMEOUT"      the terminal's and GitHub's short tag
    describe("timeout").word()       "timed out"    the HTML badge, JUnit, Gradescope, gradebooks
    describe("timeout").count(3)     "3 timed out"  counts ("Show the 5 cases (2 passed · 3 timed out)")
    describe("timeout").colour       "33"           ANSI SGR parameters (the terminal)
    describe("timeout").icon         "◔"            beside the HTML badge
    describe("timeout").repeated     False          one message for every case of a function
    describe("timeout").junit        "error"        JUnit element: "failure", "error", None (passed)
    describe("timeout").gradescope   "failed"       a Gradescope test's status
    describe("timeout").classroom    "error"        a GitHub Classroom test's status

The words are in the catalogs' `status` section (grader/i18n/locales/<lang>.yaml:
`status.<status>.tag`, `.word`, `.count`), in the current language or `lang`. A status that is
none of the seven (a forged or future result) is described too, never an exception: its words
are its own text (each output escapes and bounds what it writes, as for any text of a result),
it is grey, "•", counts as a failure, and is never "repeated".
"""
from __future__ import annotations

import reprlib
from dataclasses import dataclass, field
from typing import Callable, Literal, get_args

from grader.i18n import t

Status = Literal["passed", "failed", "error", "timeout", "not_implemented", "missing", "violation"]
STATUSES: tuple[Status, ...] = get_args(Status)      # in the order outputs list them

JUnitElement = Literal["failure", "error"]          # JUnit's element for a case that did not pass
GradescopeStatus = Literal["passed", "failed"]      # the per-test `status` of Gradescope's results.json
ClassroomStatus = Literal["pass", "fail", "error"]  # GitHub Classroom's runner result (grader/export/github.py)

# ANSI SGR parameters
GREEN, RED, YELLOW, MAGENTA, GREY, PLAIN = "32", "31", "33", "35", "90", "0"


@dataclass(frozen=True)
class StatusStyle:
    """What the outputs write and show for one status (see the module's docstring)."""

    status: str                       # a Status, or the text of an unknown one
    colour: str
    icon: str
    repeated: bool                    # one message for every case of a function: shown closed, grouped once
    junit: JUnitElement | None        # None: a passed case, no element
    gradescope: GradescopeStatus
    classroom: ClassroomStatus
    _tag: Callable[[str | None], str] = field(repr=False, compare=False)
    _word: Callable[[str | None], str] = field(repr=False, compare=False)
    _count: Callable[[int, str | None], str] = field(repr=False, compare=False)

    @property
    def known(self) -> bool:
        return self.status in STATUSES

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def tag(self, lang: str | None = None) -> str:
        """The short tag of the terminal and GitHub's tables: "ok", "FAIL", "TIMEOUT", "todo"…"""
        return self._tag(lang)

    def word(self, lang: str | None = None) -> str:
        """The status in words: "passed", "failed", "timed out", "rule violation"…"""
        return self._word(lang)

    def count(self, n: int, lang: str | None = None) -> str:
        """`n` cases with this status: "3 failed", "1 rule violation" (the language's plural)."""
        return self._count(n, lang)


def _row(status: Status, colour: str, icon: str, repeated: bool, junit: JUnitElement | None,
         gradescope: GradescopeStatus, classroom: ClassroomStatus, tag: Callable[[str | None], str],
         word: Callable[[str | None], str], count: Callable[[int, str | None], str]) -> StatusStyle:
    return StatusStyle(status, colour, icon, repeated, junit, gradescope, classroom, tag, word, count)


# The table. Each catalog key is written out (tests/test_i18n.py checks that every key used exists
# and every key is used: a key built from a variable could not be checked).
TABLE: dict[Status, StatusStyle] = {row.status: row for row in (
    _row("passed", GREEN, "✓", False, None, "passed", "pass",
         lambda lang: t("status.passed.tag", lang), lambda lang: t("status.passed.word", lang),
         lambda n, lang: t("status.passed.count", lang, count=n)),
    _row("failed", RED, "✗", False, "failure", "failed", "fail",
         lambda lang: t("status.failed.tag", lang), lambda lang: t("status.failed.word", lang),
         lambda n, lang: t("status.failed.count", lang, count=n)),
    _row("error", RED, "!", False, "error", "failed", "error",
         lambda lang: t("status.error.tag", lang), lambda lang: t("status.error.word", lang),
         lambda n, lang: t("status.error.count", lang, count=n)),
    _row("timeout", YELLOW, "◔", False, "error", "failed", "error",
         lambda lang: t("status.timeout.tag", lang), lambda lang: t("status.timeout.word", lang),
         lambda n, lang: t("status.timeout.count", lang, count=n)),
    _row("not_implemented", GREY, "…", True, "failure", "failed", "fail",
         lambda lang: t("status.not_implemented.tag", lang), lambda lang: t("status.not_implemented.word", lang),
         lambda n, lang: t("status.not_implemented.count", lang, count=n)),
    _row("missing", YELLOW, "?", True, "failure", "failed", "fail",
         lambda lang: t("status.missing.tag", lang), lambda lang: t("status.missing.word", lang),
         lambda n, lang: t("status.missing.count", lang, count=n)),
    _row("violation", MAGENTA, "⊘", True, "failure", "failed", "fail",
         lambda lang: t("status.violation.tag", lang), lambda lang: t("status.violation.word", lang),
         lambda n, lang: t("status.violation.count", lang, count=n)),
)}


def _text(status: object) -> str:
    """An unknown status as text: a str as it is, anything else (a forged JSON's list, an int of
    5,000 digits) as a short repr or its type. The output bounds and escapes it."""
    if isinstance(status, str):
        return status
    try:
        return reprlib.repr(status)
    except Exception:
        return f"<{type(status).__name__}>"


def unknown(status: object) -> StatusStyle:
    """A status none of the seven: its own text as its words, grey, counted as a failure."""
    text = _text(status)
    word = text.replace("_", " ")
    return StatusStyle(text, PLAIN, "•", False, "failure", "failed", "fail",
                       lambda lang: text, lambda lang: word, lambda n, lang: f"{n} {word}")


def describe(status: object) -> StatusStyle:
    """The row of `status`; for anything that is not one of STATUSES, `unknown(status)`."""
    row = TABLE.get(status) if isinstance(status, str) else None
    return row if row is not None else unknown(status)


def order(status: object) -> int:
    """Where `status` comes in the outputs' lists: STATUSES' order, unknown statuses last."""
    return STATUSES.index(status) if isinstance(status, str) and status in STATUSES else len(STATUSES)


def repeated_statuses() -> tuple[Status, ...]:
    """The statuses whose message is the same for every case of a function (not implemented,
    missing, a rule violation): the HTML report shows those cases closed, the class overview can
    group them once."""
    return tuple(s for s, row in TABLE.items() if row.repeated)
