"""The one result model. Every front door builds it; every output format reads it.

`to_json` is the documented, versioned format (schemas/result.schema.json).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from grader.i18n import t
from grader.model.said import Said, render
from grader.model.statuses import Status

SCHEMA_VERSION = 2


@dataclass
class CaseResult:
    id: str
    exercise: str
    function: str
    visibility: str
    kind: str
    status: Status                                 # one of STATUSES (grader/model/statuses.py)
    message: str
    points: float
    max_points: float
    diagnosis: str | None = None                   # the named mistake's hint, or a property hint
    mistake: str | None = None                     # the named mistake (a variant of reference.mistakes)
    details: dict = field(default_factory=dict)
    output: str = ""                               # what the submission printed
    arrays: dict = field(default_factory=dict, repr=False)   # heatmaps, never serialised
    inputs: dict | None = field(default=None, repr=False)    # for --case replays
    expected: object = field(default=None, repr=False)
    student: object = field(default=None, repr=False)
    said: Said | None = None                       # the verdict as data (code and fields), when it is data
    diagnosis_said: Said | None = None             # the diagnosis as data (its hint in every language)
    public_twin: str | None = None                 # a failing hidden case: the public case exercising the same thing

    def twin(self, assignment) -> str | None:
        """The public case a failing hidden case names wherever it is shown: its own `public_twin`
        (the engine chose it among the cases called like this one), else — a result made without
        it — the assignment's (`Assignment.public_twin`)."""
        if self.visibility != "hidden" or self.passed:
            return None
        if self.public_twin is None and assignment is not None and hasattr(assignment, "public_twin"):
            return assignment.public_twin(self.id)
        return self.public_twin

    def render(self, lang: str | None = None) -> str:
        """The message in `lang`: from the data where the verdict is data, else as it was graded."""
        return self.said.render(lang) if self.said is not None else self.message

    def render_diagnosis(self, lang: str | None = None) -> str | None:
        """The diagnosis in `lang`, from the data where there is some."""
        return self.diagnosis_said.render(lang) if self.diagnosis_said is not None else self.diagnosis

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_json(self, instructor: bool = False) -> dict:
        """`instructor`: keep the name of the mistake diagnosed on a hidden case (for the class
        overview); a student never sees anything of a hidden case but its status and points."""
        hidden = self.visibility == "hidden"
        shown = instructor or not hidden
        twin = self.public_twin if hidden and not self.passed and isinstance(self.public_twin, str) else None
        return {"id": self.id, "function": self.function, "visibility": self.visibility, "kind": self.kind,
                "status": self.status, "message": "" if hidden and not self.passed else self.message,
                "code": self.said.code if self.said is not None and shown else None,
                "said": self.said.to_json() if self.said is not None and shown else None,
                "diagnosis_said": self.diagnosis_said.to_json()
                if self.diagnosis_said is not None and not hidden else None,
                "diagnosis": None if hidden else self.diagnosis,
                "mistake": self.mistake if instructor or not hidden else None, "public_twin": twin,
                "points": _round(self.points),
                "max_points": _round(self.max_points),
                "details": {} if hidden else {k: v for k, v in self.details.items() if k != "traceback"}}

    @classmethod
    def from_json(cls, data: dict, exercise: str) -> CaseResult:
        """A case as `to_json` wrote it (schema 2; a schema-1 case has no `said`, an older schema-2
        case no `public_twin`)."""
        twin = data.get("public_twin")
        if not (isinstance(twin, str) and twin and data["visibility"] == "hidden" and data["status"] != "passed"):
            twin = None     # only a failing hidden case names one (a field edited by hand says nothing)
        return cls(id=data["id"], exercise=exercise, function=data["function"], visibility=data["visibility"],
                   kind=data["kind"], status=data["status"], message=data.get("message") or "",
                   points=data["points"], max_points=data["max_points"], diagnosis=data.get("diagnosis"),
                   mistake=data.get("mistake"), details=dict(data.get("details") or {}),
                   said=Said.from_json(data.get("said")), diagnosis_said=Said.from_json(data.get("diagnosis_said")),
                   public_twin=twin)


@dataclass
class ExerciseResult:
    name: str
    title: str
    score: float
    max_score: float
    cases: list
    problems: list = field(default_factory=list)   # import errors, rule violations (Said, or text)

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.cases)

    @classmethod
    def from_json(cls, data: dict) -> ExerciseResult:
        return cls(data["name"], data["title"], data["score"], data["max_score"],
                   [CaseResult.from_json(c, data["name"]) for c in data["cases"]],
                   said_list(data.get("problems"), data.get("problems_said")))

    def to_json(self, instructor: bool = False) -> dict:
        return {"name": self.name, "title": self.title, "score": _round(self.score),
                "max_score": _round(self.max_score), "passed": self.passed, "total": len(self.cases),
                "problems": [render(p) for p in self.problems], "problems_said": said_json(self.problems),
                "cases": [c.to_json(instructor) for c in self.cases]}


@dataclass
class Result:
    submission: str
    seed: int
    score: float
    max_score: float
    exercises: list
    notes: list = field(default_factory=list)       # submission-wide remarks (skipped cells, …): Said, or text
    student: dict | None = None                     # bulk grading: {"id", "name"}
    status: str = "ok"
    duration: float = 0.0
    source: str = "reference"                      # where the expected values came from
    isolation: dict | None = None                   # how the worker was isolated (see SECURITY.md)

    @property
    def cases(self):
        for e in self.exercises:
            yield from e.cases

    @property
    def all_passed(self) -> bool:
        return all(c.passed for c in self.cases)

    @classmethod
    def not_graded(cls, submission, seed: int, max_score: float, status: str, notes: list,
                   student: dict | None = None, duration: float = 0.0) -> Result:
        """A result in which nothing was graded (an unreadable submission: "invalid"; the grader's
        own failure: "error"): no exercise, no points, `notes` saying why."""
        return cls(submission=str(submission), seed=seed, score=0.0, max_score=float(max_score), exercises=[],
                   notes=list(notes), student=student, status=status, duration=max(0.0, duration))

    @classmethod
    def from_json(cls, data: dict) -> Result:
        """The Result a `to_json` dict describes (schema 1 or 2): what exporters and the class
        overview read, so that each reads objects, not dictionary keys."""
        return cls(submission=data["submission"], seed=data["seed"], score=data["score"],
                   max_score=data["max_score"], exercises=[ExerciseResult.from_json(e) for e in data["exercises"]],
                   notes=said_list(data.get("notes"), data.get("notes_said")), student=data.get("student"), status=data.get("status", "ok"),
                   duration=data.get("duration", 0.0), source=data.get("expected_from", "reference"),
                   isolation=data.get("isolation"))

    def name_public_twins(self, assignment) -> Result:
        """Give every failing hidden case the public case that exercises the same thing
        (`assignment.public_twin`: same function, generator, params and dtypes), and no other
        case one: the student who fails a hidden case has a public one to look at. Where the
        draws are known (a result just graded), a twin whose plain arguments (an axis, a flag, a
        size) differ from the hidden case's gives way to a public case of the same function
        called with the hidden case's own (`random-axis` drawing axis 1 → `middle-axis`, not a
        draw over the last axis that a softmax ignoring `axis` passes). Idempotent; returns the
        result."""
        public = {c.id: c for c in self.cases if c.visibility == "public"}
        for case in self.cases:
            failing_hidden = case.visibility == "hidden" and not case.passed
            twin = assignment.public_twin(case.id) if failing_hidden else None
            case.public_twin = _same_arguments_twin(assignment, case, twin, public) if twin else None
        return self

    def to_json(self, instructor: bool = False) -> dict:
        return {"schema_version": SCHEMA_VERSION, "submission": self.submission, "student": self.student,
                "status": self.status, "seed": self.seed, "score": _round(self.score),
                "max_score": _round(self.max_score), "duration": _round(self.duration, 3),
                "expected_from": self.source, "isolation": self.isolation,
                "notes": [render(n) for n in self.notes], "notes_said": said_json(self.notes),
                "exercises": [e.to_json(instructor) for e in self.exercises]}


def _plain_arguments(inputs) -> tuple | None:
    """A call's arguments that are no array (the axis, flags, sizes), comparable; None when unknown."""
    if not isinstance(inputs, dict):
        return None
    return tuple(sorted((k, repr(v)) for k, v in inputs.items()
                        if v is None or isinstance(v, (bool, int, float, str))))


def _same_arguments_twin(assignment, case: CaseResult, twin: str, public: dict) -> str:
    """`twin`, unless its plain arguments differ from `case`'s: then a public case of the same
    function called with `case`'s own, else — when `twin` passed — one of that function's failing
    public cases (one the student can debug at home); those of `twin`'s generator first.
    `public`: {id: case} of the result's public cases."""
    own = _plain_arguments(case.inputs)
    if own is None or twin not in public or _plain_arguments(public[twin].inputs) == own:
        return twin
    generator = assignment.case(twin).generator
    mine = sorted((c for c in public.values() if c.function == case.function),  # stable: the assignment's order
                  key=lambda c: assignment.case(c.id).generator != generator)
    same = [c for c in mine if _plain_arguments(c.inputs) == own]
    if same:
        return same[0].id
    failing = [c for c in mine if not c.passed]
    return failing[0].id if failing and public[twin].passed else twin


def said_json(items: list) -> list:
    """Beside a list of rendered messages, each one's data (None for a plain text)."""
    return [i.to_json() if isinstance(i, Said) else None for i in items]


def said_list(texts, saids) -> list:
    """The messages `said_json` stored beside their texts: each a Said where one was stored and
    reads back, else its text (a result of schema 1, a field edited by hand)."""
    texts = [str(x) for x in texts] if isinstance(texts, list) else []
    saids = saids if isinstance(saids, list) and len(saids) == len(texts) else [None] * len(texts)
    return [Said.from_json(d) or text for text, d in zip(texts, saids)]


def _round(value, digits: int = 6):
    """A number of the result rounded for the JSON; anything else (a value only a bug or a forged
    result could put there) as it is, never an exception."""
    try:
        return round(value, digits)
    except (TypeError, ValueError, OverflowError):
        return value


def shown_points(value) -> str:
    """A score as a person reads it, in every human-facing place (the terminal's `Points X/Y`, the
    step summary, the Moodle feedback comment): the nearest tenth of the exact score (Python's
    format: an exact tie, such as 66.25, goes to the even tenth, 66.2). Machine-read formats (the
    JSON, JUnit's properties, Gradescope, the Classroom runner result, the gradebook CSVs) carry
    the exact score, `round(score, 6)`, instead. A value that is no number: "nan"."""
    return f"{as_real(value):.1f}"


def as_real(value) -> float:
    """A value as a float to print with a format such as .1f: an int too large for a float is
    ±inf, a value that is no number (a str, None, a list) NaN. Never raises."""
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except OverflowError:
        try:
            return math.inf if value > 0 else -math.inf
        except Exception:
            return math.nan
    except Exception:
        return math.nan


# --- showing what came from a submission ----------------------------------------------------------
#
# A message quotes what a function returned, printed or raised: a 12 MB word, an int of 400 digits,
# a list of a million items. Every output format shows such text through these helpers, which bound
# it in size and in time: they slice, scan a long word once (to say its length) with a pattern that
# cannot backtrack, and never build the whole repr of a huge value first.

QUOTE = 200         # characters shown of one quoted piece: a word, a value, a traceback line
TEXT = 2000         # characters shown of one message
_CHUNK = re.compile(r"(\s*)(\S*)")       # anchored at a position: spaces, then a word (no backtracking)
_SPACE = re.compile(r"\s")


def clip(text: str, limit: int = QUOTE) -> str:
    """`text` whole when it has at most `limit` characters, else its first `limit` and
    "… (N characters)"."""
    return text if len(text) <= limit else text[:limit] + t("result.clipped", count=len(text))


def _clip_words(text: str, start: int, stop: int, quote: int, budget: float) -> tuple[str, int]:
    """The words (and runs of spaces) of text[start:stop], each clipped to `quote` characters, until
    the output reaches `budget` characters; returns (output, where it stopped)."""
    out, size, pos = [], 0, start
    while pos < stop and size < budget:
        m = _CHUNK.match(text, pos, stop)
        for group in (1, 2):
            a, b = m.span(group)
            piece = text[a:b] if b - a <= quote else text[a:a + quote] + t("result.clipped", count=b - a)
            out.append(piece)
            size += len(piece)
        if m.end() == pos:          # nothing left to match (cannot happen before stop; a guard)
            break
        pos = m.end()
    return "".join(out), pos


def clip_text(text, limit: int = TEXT, quote: int = QUOTE) -> str:
    """Text from a submission (a message, printed output), bounded for display: every word (and
    run of spaces) longer than `quote` characters keeps its first `quote` and says
    "… (N characters)"; a text longer than `limit` keeps its beginning and its end around
    "… (N characters left out) …". Anything that is not a str is shown by `bounded_repr`."""
    if isinstance(text, Said):  # a grader's message as data: in the reader's language
        text = text.render()
    if not isinstance(text, str):
        return bounded_repr(text, limit)
    n = len(text)
    if n <= quote:
        return text
    if n <= limit:
        return _clip_words(text, 0, n, quote, math.inf)[0]
    head, pos = _clip_words(text, 0, n, quote, limit * 3 // 4)
    if pos >= n:
        return head
    tail_start = max(pos, n - limit // 4)
    space = _SPACE.search(text, tail_start, n)        # the end starts at a word, when it holds one
    if space is not None:
        tail_start = space.start()
    tail = _clip_words(text, tail_start, n, quote, math.inf)[0] if tail_start < n else ""
    return head + (t("result.left_out", count=tail_start - pos) if tail_start > pos else "") + tail


# C0 controls but TAB and LF, DEL, C1 controls, and the bidirectional marks, embeddings,
# overrides and isolates (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which reorder
# what a reader sees ("Trojan source")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def inert(text: str, replacement: str = "?") -> str:
    """Text with every control character (but TAB and LF; CR LF counts as LF) and every
    bidirectional control replaced by `replacement`: an escape sequence, whole or lone, shows as
    text (`?[2J`) and drives nothing."""
    return _CONTROL.sub(replacement, text.replace("\r\n", "\n"))


class _Budget:
    def __init__(self, left: int):
        self.left = left


def bounded_repr(value, limit: int = QUOTE) -> str:
    """repr(value) in about `limit` characters at most, in time proportional to `limit`, whatever
    the value: a str or bytes is sliced before it is quoted, a list or dict shows its first items
    and how many there are, an int too long to write says how many digits it has (Python refuses
    to write one of more than 4,300), an array shows NumPy's summary. Never raises."""
    try:
        return _repr(value, _Budget(limit), 0)
    except Exception:                   # a value whose own methods fail: its type, at least
        return f"<{type(value).__name__}>"


def _repr(value, budget: _Budget, depth: int) -> str:
    if budget.left <= 0 or depth > 20:
        return "…"
    start = budget.left
    if isinstance(value, np.generic):
        value = value.item() if value.dtype.kind in "biufcUS" else value
    if isinstance(value, (str, bytes)):
        keep = max(budget.left, 1)
        if len(value) <= keep:
            text = repr(value)
        else:
            text = repr(value[:keep]) + t("result.clipped", count=len(value))
    elif isinstance(value, bool) or value is None or isinstance(value, float):
        text = repr(value)
    elif isinstance(value, int):
        if value.bit_length() <= 4 * max(budget.left, 16):
            text = clip(str(value), max(budget.left, 16))
        else:
            text = t("result.big_int", digits=_digits(value))
    elif isinstance(value, np.ndarray):
        text = _array_repr(value, budget, depth)
    elif isinstance(value, (list, tuple, set, frozenset, dict)):
        text = _container_repr(value, budget, depth)
    else:
        text = clip(repr(value), max(budget.left, 16))
    budget.left = start - len(text)     # a container's items counted once, in its text
    return text


def _digits(value: int) -> int:
    """How many decimal digits |value| has, without writing it (Python refuses beyond 4,300)."""
    digits = int(math.log10(abs(value))) + 1
    if value.bit_length() < 100_000 and abs(value) < 10 ** (digits - 1):    # log10 rounded up
        digits -= 1
    return digits


def _container_repr(value, budget: _Budget, depth: int) -> str:
    if isinstance(value, dict):
        brackets = "{}"
    elif isinstance(value, list):
        brackets = "[]"
    elif isinstance(value, tuple):
        brackets = "()"
    elif not value:
        return f"{type(value).__name__}()"
    else:
        brackets = "{}"
    parts, shown = [], 0
    for item in (value.items() if isinstance(value, dict) else value):
        if budget.left <= 0:
            break
        if isinstance(value, dict):
            parts.append(_repr(item[0], budget, depth + 1) + ": " + _repr(item[1], budget, depth + 1))
        else:
            parts.append(_repr(item, budget, depth + 1))
        budget.left -= 2
        shown += 1
    if shown < len(value):
        parts.append(t("result.more_items", count=len(value) - shown))
    elif isinstance(value, tuple) and len(value) == 1:
        parts[0] += ","
    return brackets[0] + ", ".join(parts) + brackets[1]


def _array_repr(value: np.ndarray, budget: _Budget, depth: int) -> str:
    if value.dtype.kind in "biuf" and value.dtype.names is None:
        with np.printoptions(threshold=max(8, min(200, budget.left // 8)), edgeitems=3, precision=6,
                             linewidth=100):
            return clip(repr(value), max(budget.left, 60))
    first = np.asarray(value.flat[:max(1, min(50, budget.left // 4))])
    items = _repr(first.tolist(), budget, depth + 1)
    more = t("result.more_items", count=value.size - first.size) if value.size > first.size else ""
    return f"array({items}{more}, shape={value.shape}, dtype={value.dtype})"
