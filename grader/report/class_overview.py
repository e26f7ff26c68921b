"""The class overview: one self-contained page (DIR/index.html) over a whole class's results.

`grade bulk SUBMISSIONS --out DIR` writes one JSON result per student (DIR/results/<id>.json,
`Result.to_json()`, schema_version 2) and one report per student (DIR/reports/<id>.html); this
module reads those result dicts and writes the instructor's overview beside them:

- the header: submissions, graded and invalid counts, mean / median / min / max score;
- a score histogram (bins of 10 points) and the mean score of each exercise, as inline SVG;
- item analysis: the pass rate (passed / graded) of each exercise and of each case, hidden
  cases included, hardest first;
- the most frequent failure reasons: failing cases grouped by the classic mistake diagnosed
  (`mistake`, its name) when there is one, else by their `diagnosis` (a property hint, in
  English whatever the run's language), else by their verdict's code and the fields that name
  things (`said`, schema 2: `said_reason`), else — a result of an older grader — by status and
  message with its numbers and values stripped (`normalise_message`);
- the diagnosed mistakes: one row per mistake name found in the class, with its function, the
  students who made it (once each, however many cases show it), how many of them made it only
  on hidden cases, its hint in the page's language and its slide (from the assignment's
  mistakes module when it is here, else the name alone), most frequent first. Bulk results
  (`Result.to_json(instructor=True)`) keep the mistake of a hidden case; a student's never do;
- the submissions that timed out, crashed, were invalid or broke a rule, the slowest ones, and
  a table of every student, each linking to reports/<id>.html.

Like the per-student report (report/html.py) the page works offline: inline CSS and SVG, no
external resource; a few lines of inline JavaScript make the students table sortable, and
without them it is a plain table sorted by id. Names, ids and messages come from students:
they are bounded and made inert here (grader.model.result.clip_text, inert), Jinja's autoescape
escapes them in the template, and the SVG builders escape their own labels. A field of the
wrong type (a str for a score, a missing key) is read as data, never an exception.
Aggregation is one pass over the cases (a class of 500 with 145 cases each renders in well
under a second). Every word comes from the catalogs (grader/i18n, section class_report), in the
language of the run.
"""
from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from grader.report.html import kind_label, points_text, status_count, status_label
from grader.i18n import language, t
from grader.model.result import QUOTE, bounded_repr, clip_text, inert, said_list
from grader.model.said import CONCAT, JOINED, Said, render
from grader.model.statuses import repeated_statuses
from grader.model import truncation

TEMPLATES = Path(__file__).parent / "templates"
TOP_REASONS = 15        # failure reasons listed
TOP_SLOWEST = 10        # slowest submissions listed
MAX_REASON = 240        # characters of a normalised reason
MAX_EXAMPLE = 300       # characters of a reason's example message
MAX_DETAIL = 400        # characters of an invalid / violation / crash explanation
MAX_STUDENT_LINKS = 60  # students linked under one reason
MAX_NAME = 80           # characters of a function, exercise or status name read from a result
BIN_WIDTH = 10          # points per histogram bin

RESULT_STATUSES = ("ok", "timeout", "crash", "invalid", "violation", "error")
LEVEL_COLORS = {"good": "#2da44e", "fair": "#d4a72c", "poor": "#cf222e"}


# --- reading result dicts defensively ------------------------------------------------------

def _num(value, default: float = 0.0) -> float:
    """A finite float from a JSON value, else `default` (results are data: never trust them)."""
    if isinstance(value, bool):
        return float(value)
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):     # a str, a list, an int of 400 digits
        return default
    return v if math.isfinite(v) else default


def _text(value) -> str:
    """A JSON value as text: a str as it is, anything else (a number, a list…) as a bounded repr."""
    if value is None:
        return ""
    return value if isinstance(value, str) else bounded_repr(value, QUOTE)


def _shown(value, limit: int = QUOTE) -> str:
    """Text from a result shown in the page (a name, an id, a title): bounded (grader.model.result.clip_text)."""
    return inert(clip_text(_text(value), limit))


def _list(value) -> list:
    """A JSON list, or [] for anything else (a result's notes or problems that are not a list)."""
    return value if isinstance(value, list) else []


def _messages(container: dict, key: str) -> list:
    """A result's notes or problems in the reader's language: each from its stored data
    (`key`_said, schema 2) where that reads back, else its stored text."""
    return [render(m) for m in said_list(_list(container.get(key)), container.get(key + "_said"))]


def _clip(text: str, width: int) -> str:
    """At most `width` characters (a slice), inert (no control or bidirectional character)."""
    return inert(text if len(text) <= width else text[:width - 1] + "…")


def _level(percent: float) -> str:
    """The same thresholds as the per-student report's bars."""
    return "good" if percent >= 90 else ("fair" if percent >= 50 else "poor")


def _percent(part: float, whole: float) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _rate_text(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


def result_status_text(status: str) -> str:
    """A submission's status in words; an unknown one as it is."""
    texts = {"ok": t("class_report.result_status.ok"), "timeout": t("class_report.result_status.timeout"),
             "crash": t("class_report.result_status.crash"), "invalid": t("class_report.result_status.invalid"),
             "violation": t("class_report.result_status.violation"), "error": t("class_report.result_status.error")}
    return texts.get(status, status)


def result_status_count(status: str, n: int) -> str:
    """"9 ok", "2 invalid": a number of submissions with that status."""
    texts = {"ok": t("class_report.result_count.ok", count=n),
             "timeout": t("class_report.result_count.timeout", count=n),
             "crash": t("class_report.result_count.crash", count=n),
             "invalid": t("class_report.result_count.invalid", count=n),
             "violation": t("class_report.result_count.violation", count=n),
             "error": t("class_report.result_count.error", count=n)}
    return texts.get(status, f"{n} {status}")


def report_href(student_id: str) -> str:
    """The relative link to a student's report. The id is percent-encoded whole (a '/' or '..'
    in it cannot climb out of reports/, '#' or '?' cannot cut the link short)."""
    return "reports/" + quote(student_id, safe="") + ".html"


# --- failure reasons -------------------------------------------------------------------------

# A message without its data (a result of schema 1, or Python's own text in a verdict's field):
# its numbers, bracketed values and tuples stripped — no pattern knows any language's words.
#
# These run over text a submission controls (the values a message quotes), so each is linear in
# its input: normalise_message first turns every run of spaces into one space and cuts a message
# longer than MAX_NORMALISE (its beginning and its end are kept), and no pattern holds two
# quantifiers that can match the same characters one after the other.
# tests/test_hostile_rendering.py times them on 1 MB strings.
MAX_NORMALISE = 2000    # characters of a message normalised: its first 1,500 and its last 500
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?!\w)")
_PERCENT = re.compile(r" ?\(N ?%\)")
_TUPLE = re.compile(r"\((?: ?N ?,)+ ?(?:N ?)?\)|\(N\)")
_SPACES = re.compile(r"\s+")


def _collapse_brackets(text: str) -> str:
    """Every [ … ] and array( … ) (balanced, possibly nested) becomes […] / array(…)."""
    if "[" not in text and "array(" not in text:
        return text
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i] == "[" or text.startswith("array(", i):
            opening = "[" if text[i] == "[" else "("
            start = i + (1 if opening == "[" else len("array("))
            depth, j = 1, start
            while j < n and depth:
                if text[j] in "[(":
                    depth += 1
                elif text[j] in "])":
                    depth -= 1
                j += 1
            if depth:                       # unbalanced: leave the rest as it is
                out.append(text[i:])
                break
            out.append("[…]" if opening == "[" else "array(…)")
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@lru_cache(maxsize=8192)
def normalise_message(message: str) -> str:
    """A message with its numbers, indexes, shapes and bracketed values stripped, so that the
    same failure on different cases (and different students) reads the same:

    "raised ValueError: shapes (3,4) and (5,6) not aligned: 4 (dim 1) != 5 (dim 0)"
      -> "raised ValueError: shapes (…) and (…) not aligned: N (dim N) != N (dim N)"
    """
    if len(message) > MAX_NORMALISE:        # slices: as fast for 12 MB as for 2 KB
        message = message[:MAX_NORMALISE * 3 // 4] + " … " + message[-(MAX_NORMALISE // 4):]
    text = _SPACES.sub(" ", message).strip()
    text = _collapse_brackets(text)
    text = _NUMBER.sub("N", text)
    text = _PERCENT.sub("", text)
    text = _TUPLE.sub("(…)", text)
    return _clip(_SPACES.sub(" ", text).strip(), MAX_REASON)


# --- grouping by code: a verdict stored as data (schema 2) -------------------------------------------
#
# What identifies a failure is its code and the fields that name things (which output, which
# type or dtype, which function to fix first); the numbers, shapes, indexes and values quoted
# from the submission differ from case to case and are left out — no text is parsed, in no
# language. An exception's own text (Python's, in English) keeps its words, its numbers stripped.
NAMING_FIELDS = ("name", "type", "dtype", "function", "error", "outputs", "names")  # and, but in compare
# (where it is an index), `where`: the file of an import or a forbidden import
TEXT_FIELDS = ("message", "detail")   # free text from Python or the sandbox: numbers stripped
SETTINGS = ("sandbox.skipped_timeouts", "sandbox.skipped_crashes", "sandbox.skipped_callee_timeouts",
            "sandbox.skipped_callee_crashes", "compare.timeout")   # their numbers are the grader's limits


class _Elided:
    """A field left out of a reason: "…" whatever the format asks for."""

    def __format__(self, spec):
        return "…"

    def __repr__(self):
        return "…"

    __str__ = __repr__


ELIDED = _Elided()


def _kept(said: Said) -> Said:
    """`said` with only what identifies the failure: values elided, free text without numbers."""
    fields = {}
    for name, value in said.fields.items():
        if isinstance(value, Said):
            fields[name] = _kept(value)
        elif name == "parts" and said.key in (CONCAT, JOINED):
            fields[name] = tuple(_kept(p) if isinstance(p, Said) else ELIDED for p in value)
        elif isinstance(value, str) and (name in NAMING_FIELDS or name == "where" and not said.key.startswith("compare.")):
            fields[name] = _shown(value, MAX_NAME)
        elif isinstance(value, str) and name in TEXT_FIELDS:
            fields[name] = normalise_message(value)
        elif said.key in SETTINGS and type(value) in (int, float):
            fields[name] = value
        else:
            fields[name] = ELIDED
    return Said(said.key, **fields)


def _identity(value):
    """A hashable form of a kept Said."""
    if isinstance(value, Said):
        return (value.key,) + tuple((k, _identity(v)) for k, v in sorted(value.fields.items()))
    if isinstance(value, tuple):
        return tuple(_identity(v) for v in value)
    return "…" if value is ELIDED else value


def _short(kept: Said) -> Said | None:
    """A shorter sentence for the verdicts whose every other field is a value."""
    name = kept.fields.get("name", ELIDED)
    return {"compare.outside_tolerance": Said("class_report.codes.outside_tolerance", name=name),
            "compare.nonfinite": Said("class_report.codes.nonfinite", name=name),
            "compare.wrong_shape": Said("class_report.codes.wrong_shape", name=name),
            "compare.exact_values_differ": Said("class_report.codes.exact_values_differ", name=name)}.get(kept.key)


def said_reason(said: Said) -> tuple[tuple, str]:
    """(group key, text shown) of a verdict stored as data."""
    kept = _kept(said)
    first = kept.fields["parts"][0] if kept.key in (CONCAT, JOINED) and kept.fields.get("parts") else kept
    short = _short(first) if isinstance(first, Said) and kept.key != JOINED else None
    if short is not None:
        rest = kept.fields["parts"][1:] if kept.key == CONCAT else ()
        text = short.render() + "".join(p.render() if isinstance(p, Said) else "" for p in rest)
    else:
        text = kept.render()
    return _identity(kept), _clip(_SPACES.sub(" ", text).strip(), MAX_REASON)


def _reason_status_text(status: str) -> str:
    return t("class_report.reasons.likely_mistake") if status == "mistake" else status_label(status)




def reason_key(case: dict, exercise_problems: set, public: dict | None = None) -> tuple[tuple, str, str]:
    """What a failing case is grouped under: (key, status, text shown).

    A diagnosed mistake (`mistake`, the name of a known mistake) groups by its name, across
    functions and statuses, hidden cases included (bulk results keep it for them); its text is
    the name here, the hint replaces it once the class is counted (_mistake_reason_text). A
    diagnosis without a name (a property hint) groups by its text. A problem of the whole
    exercise (import error, rule violation: every case of it carries the same text) groups by
    its text across functions. Any other failure groups by function, status and normalised
    message.

    A hidden case's message is not in the results. It takes the message of the public cases
    of the same function (same submission) with the same status when those say one thing
    (`public`: (function, status) -> message, see _public_messages); otherwise it groups by
    function and status, as "hidden case: no message in the results"."""
    status = _text(case.get("status"))
    mistake = case.get("mistake")
    if mistake:
        return ("mistake", _shown(mistake)), "mistake", _shown(mistake)
    diagnosis = case.get("diagnosis")
    if diagnosis:
        said = Said.from_json(case.get("diagnosis_said"))  # the hint in every language: one group in any
        group = _text(said.render("en")) if said is not None else _text(diagnosis)
        shown = _text(said.render()) if said is not None else _text(diagnosis)
        return ("diagnosis", _clip(group, MAX_REASON)), "mistake", _clip(shown, MAX_REASON)
    function = _shown(case.get("function"), MAX_NAME)
    said = Said.from_json(case.get("said"))
    message = _text(case.get("message"))
    if said is None and not message and public:  # a hidden case of a student's JSON: its public cases' verdict
        message, said = public.get((function, status), ("", None))
    if said is not None:  # a verdict stored as data: grouped by its code
        key, text = said_reason(said)
        if status == "violation" or message in exercise_problems:  # the whole exercise's: across functions
            return ("said", status, key), status, text
        return ("said", function, status, key), status, text
    if not message:
        return ("hidden", function, status), status, t("class_report.reasons.hidden_case")
    normal = normalise_message(message)
    if status == "violation" and normal.startswith("rule violation: "):
        normal = normal[len("rule violation: "):]
    if status == "violation" or message in exercise_problems:
        return ("problem", status, normal), status, normal
    return ("function", function, status, normal), status, normal


def _public_messages(cases: list[dict]) -> dict:
    """(function, status) -> (the message, the verdict as data or None) a hidden case of that
    function and status takes.

    Not implemented, missing, a rule violation: the message is the same for every case of a
    function. A timeout or an error: when every public case of the function with that status
    has the same normalised message (an import error, "not run: it calls softmax(), whose
    cases timed out", a crash), the hidden ones almost surely share it. A failed comparison
    depends on the case's values: a hidden case never takes a public case's message."""
    seen: dict = {}
    for c in cases:
        status, message = c.get("status"), c.get("message")
        if not message or status in (None, "passed", "failed") or c.get("visibility") == "hidden":
            continue
        key = (_shown(c.get("function"), MAX_NAME), status)
        said = Said.from_json(c.get("said"))
        entry = seen.setdefault(key, [(_text(message), said), set()])
        entry[1].add(said_reason(said)[0] if said is not None else normalise_message(_text(message)))
    return {key: first for key, (first, normals) in seen.items()
            if key[1] in repeated_statuses() or len(normals) == 1}


# --- SVG charts ------------------------------------------------------------------------------

def _svg_text(x, y, text, size=11, anchor="start", fill="#1f2328", extra="") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{extra}>'
            f"{escape(text)}</text>")


def histogram_bins(scores: list[float], max_score: float, width: float = BIN_WIDTH) -> list[dict]:
    """Bins of `width` points from 0 to max_score: [lo, hi), the last one also holding
    max_score itself (a perfect score counts in 90–100). Scores outside are clipped in."""
    count = max(1, math.ceil(max_score / width)) if max_score > 0 else 1
    bins = [{"lo": i * width, "hi": min((i + 1) * width, max_score) if max_score > 0 else width, "count": 0}
            for i in range(count)]
    for s in scores:
        index = min(count - 1, max(0, int(s // width)))
        bins[index]["count"] += 1
    for b in bins:
        b["label"] = f"{points_text(b['lo'])}–{points_text(b['hi'])}"
        b["level"] = _level(_percent(b["lo"], max_score)) if max_score > 0 else "poor"
    return bins


def histogram_svg(bins: list[dict]) -> Markup:
    """Vertical bars, the count above each bar, the bin's range below."""
    n = len(bins)
    bar_w = max(14, min(56, 600 // max(n, 1)))
    gap = max(4, bar_w // 6)
    left, top, plot_h = 34, 20, 150
    biggest = max((b["count"] for b in bins), default=0)
    width = left + n * (bar_w + gap) + 10
    height = top + plot_h + 40
    out = [f'<svg class="chart histogram" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="{escape(t("class_report.charts.histogram_label"))}" '
           f'font-family="system-ui, sans-serif">']
    # axis and a few grid lines
    ticks = sorted({0, biggest, (biggest + 1) // 2}) if biggest else [0]
    for tick in ticks:
        y = top + plot_h - (plot_h * tick / biggest if biggest else 0)
        out.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{width - 6}" y2="{y:.1f}" stroke="#eaeef2"/>')
        out.append(_svg_text(left - 7, y + 4, str(tick), size=10, anchor="end", fill="#656d76"))
    for i, b in enumerate(bins):
        x = left + gap / 2 + i * (bar_w + gap)
        h = plot_h * b["count"] / biggest if biggest else 0
        y = top + plot_h - h
        tip = t("class_report.charts.bin_title", count=b["count"], label=b["label"])
        out.append(f'<rect class="bin" x="{x:.1f}" y="{y:.1f}" width="{bar_w}" height="{h:.1f}" rx="2" '
                   f'fill="{LEVEL_COLORS[b["level"]]}" data-bin="{escape(b["label"])}" data-count="{b["count"]}">'
                   f'<title>{escape(tip)}</title></rect>')
        out.append(_svg_text(x + bar_w / 2, y - 5, str(b["count"]), size=11, anchor="middle",
                             extra=' font-weight="600" class="count"'))
        out.append(_svg_text(x + bar_w / 2, top + plot_h + 15, b["label"], size=10, anchor="middle",
                             fill="#656d76"))
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 6}" y2="{top + plot_h}" stroke="#8c959f"/>')
    out.append(_svg_text(left, top + plot_h + 33, t("class_report.charts.points_axis"), size=10, fill="#656d76"))
    out.append("</svg>")
    return Markup("".join(out))


def exercise_bars_svg(exercises: list[dict]) -> Markup:
    """One horizontal bar per exercise: mean score / points, in the assignment's order."""
    row_h, label_w, bar_w = 26, 230, 300
    width = label_w + bar_w + 150
    height = max(row_h, row_h * len(exercises)) + 8
    out = [f'<svg class="chart exercise-means" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="{escape(t("class_report.charts.means_label"))}" '
           f'font-family="system-ui, sans-serif">']
    for i, e in enumerate(exercises):
        y = 4 + i * row_h
        tip = t("class_report.charts.mean_title", title=e["title"], mean=e["mean"], points=e["points"],
                percent=e["percent"])
        out.append(f'<g><title>{escape(tip)}</title>')
        out.append(_svg_text(label_w - 8, y + 15, _clip(e["title"], 34), anchor="end"))
        out.append(f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="14" rx="7" fill="#eaeef2"/>')
        filled = bar_w * min(max(e["percent"], 0.0), 100.0) / 100
        if filled > 0:
            out.append(f'<rect x="{label_w}" y="{y + 4}" width="{filled:.1f}" height="14" rx="7" '
                       f'fill="{LEVEL_COLORS[_level(e["percent"])]}"/>')
        value = (f'{e["mean"]} / {e["points"]} ({e["percent"]:.0f}%)' if e["graded"]
                 else t("class_report.charts.not_graded"))
        out.append(_svg_text(label_w + bar_w + 8, y + 15, value, size=11, fill="#424a53"))
        out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))


# --- the view the template reads ---------------------------------------------------------------

def _student(result: dict, index: int) -> tuple[str, str]:
    student = result.get("student") if isinstance(result.get("student"), dict) else {}
    sid = _text(student.get("id")).strip() or Path(_text(result.get("submission")) or f"submission-{index + 1}").name
    return sid, _shown(student.get("name"))


def _exercises_of(result: dict) -> list[dict]:
    exercises = result.get("exercises")
    return [e for e in exercises if isinstance(e, dict)] if isinstance(exercises, list) else []


def _cases_of(exercise: dict) -> list[dict]:
    cases = exercise.get("cases")
    return [c for c in cases if isinstance(c, dict)] if isinstance(cases, list) else []


def _breakdown(counter: Counter) -> str:
    """"12 failed · 3 timeout", the non-passing statuses, most frequent first."""
    return " · ".join(status_count(s, n) for s, n in sorted(counter.items(), key=lambda x: (-x[1], x[0])))


def _known_mistakes(assignment) -> dict:
    """{name: mistake} from the assignment's mistakes module (instructor side), {} without it."""
    from grader.grading.diagnosis import load_mistakes
    try:
        found = load_mistakes(assignment) if getattr(assignment, "mistakes", None) else []
    except Exception:           # a broken or absent module: the overview still shows the names
        found = []
    return {getattr(m, "name", None): m for m in found or [] if getattr(m, "name", None)}


def _mistake_hint(mistake) -> str:
    """The mistake's one-line explanation in the page's language (reference/mistakes.py's
    Mistake has explanation / explanation_fr; a Known has en / fr)."""
    if language() == "fr":
        text = getattr(mistake, "fr", None) or getattr(mistake, "explanation_fr", None)
    else:
        text = None
    return _text(text or getattr(mistake, "en", None) or getattr(mistake, "explanation", None))


def _mistake_reason_text(name: str, mistake, diagnosis: str) -> str:
    """What a reason grouped by a mistake's name says: the line a student reads for it (hint,
    slide, name: diagnosis.Known.text) when the mistake is known here, else the first diagnosis
    seen (a public case's hint), else the name."""
    from grader.grading.diagnosis import Known
    if mistake is not None and _mistake_hint(mistake):
        known = Known(name=name, function=_text(getattr(mistake, "function", "")),
                      slide=_text(getattr(mistake, "slide", "")),
                      en=_text(getattr(mistake, "en", None) or getattr(mistake, "explanation", None)),
                      fr=_text(getattr(mistake, "fr", None) or getattr(mistake, "explanation_fr", None)))
        return known.text(language())
    return diagnosis or name


@dataclass
class ClassStatistics:
    """What the class did, counted in one pass over every result and case: numbers and groups,
    no formatting (that is `class_view`'s)."""
    max_score: float
    students: list = field(default_factory=list)   # per result: id, name, status, score, max, duration, passed, total, detail
    graded_scores: list = field(default_factory=list)
    exercises: dict = field(default_factory=dict)  # name -> title, points, scores, passed, total, full, zero (in order)
    cases: dict = field(default_factory=dict)      # case id -> exercise, function, visibility, kind, passed, graded, statuses
    reasons: dict = field(default_factory=dict)    # reason key -> text, status, cases, functions, students, example…
    mistakes: dict = field(default_factory=dict)   # name -> functions (Counter), students {index: [sid, hidden only]}, cases


def class_statistics(results: list, assignment) -> ClassStatistics:
    results = [r.to_json(instructor=True) if hasattr(r, "to_json") else r for r in results]
    results = [r for r in results if isinstance(r, dict)]
    max_score = _num(getattr(assignment, "max_score", 0)) or max((_num(r.get("max_score")) for r in results),
                                                                  default=0.0) or 100.0
    st = ClassStatistics(max_score=max_score)
    st.exercises = {e.name: {"title": str(e.title), "points": _num(e.points), "scores": [], "passed": 0, "total": 0,
                             "full": 0, "zero": 0} for e in assignment.exercises}
    case_stats, reasons, mistakes, ex_stats = st.cases, st.reasons, st.mistakes, st.exercises
    for index, r in enumerate(results):
        sid, name = _student(r, index)
        status = _shown(r.get("status"), MAX_NAME) or "ok"
        score, r_max = _num(r.get("score")), _num(r.get("max_score"))
        exercises = _exercises_of(r)
        graded = status not in ("invalid", "error")  # not graded: out of every statistic
        passed = total = 0
        if graded:
            st.graded_scores.append(score)
        for e in exercises:
            ename = _shown(e.get("name"), MAX_NAME)
            problems = {p for p in _messages(e, "problems") if p}
            cases = _cases_of(e)
            public = _public_messages(cases) if graded else {}
            if graded:
                stats = ex_stats.get(ename)
                if stats is None:
                    stats = ex_stats[ename] = {"title": _shown(e.get("title")) or ename,
                                               "points": _num(e.get("max_score")), "scores": [], "passed": 0,
                                               "total": 0, "full": 0, "zero": 0}
                escore, emax = _num(e.get("score")), _num(e.get("max_score"))
                stats["scores"].append(escore)
                stats["full"] += emax > 0 and escore >= emax - 1e-9
                stats["zero"] += escore <= 1e-9
            for c in cases:
                cid = _shown(c.get("id"))
                cstatus = _shown(c.get("status"), MAX_NAME)
                ok = cstatus == "passed"
                total += 1
                passed += ok
                if not graded:
                    continue
                stats["total"] += 1
                stats["passed"] += ok
                cs = case_stats.get(cid)
                if cs is None:
                    cs = case_stats[cid] = {"id": cid, "exercise": ename,
                                            "function": _shown(c.get("function"), MAX_NAME),
                                            "visibility": _shown(c.get("visibility"), MAX_NAME),
                                            "kind": _shown(c.get("kind"), MAX_NAME),
                                            "passed": 0, "graded": 0, "statuses": Counter()}
                cs["graded"] += 1
                if ok:
                    cs["passed"] += 1
                    continue
                cs["statuses"][cstatus] += 1
                if c.get("mistake"):
                    mname = _shown(c.get("mistake"))
                    m = mistakes.get(mname)
                    if m is None:
                        m = mistakes[mname] = {"functions": Counter(), "students": {}, "cases": 0}
                    m["functions"][cs["function"]] += 1
                    m["cases"] += 1
                    seen = m["students"].setdefault(index, [sid, True])
                    seen[1] = seen[1] and cs["visibility"] == "hidden"
                key, rstatus, text = reason_key(c, problems, public)
                reason = reasons.get(key)
                if reason is None:
                    reason = reasons[key] = {"text": text, "status": rstatus, "cases": 0,
                                             "functions": Counter(), "students": {}, "example": "",
                                             "example_case": "", "diagnosis": ""}
                if not reason["diagnosis"] and c.get("diagnosis"):
                    reason["diagnosis"] = _clip(_text(c.get("diagnosis")), MAX_REASON)
                reason["cases"] += 1
                reason["functions"][cs["function"]] += 1
                reason["students"].setdefault(index, sid)
                if not reason["example_case"] and c.get("message"):
                    message = _text(c.get("message"))
                    # an example only says more when grouping took something out
                    reason["example"] = _clip(message, MAX_EXAMPLE) if text != message else ""
                    reason["example_case"] = cid
        st.students.append({"id": _shown(sid), "name": name, "status": status, "score": score,
                            "max": r_max or max_score, "duration": _num(r.get("duration")),
                            "passed": passed, "total": total, "detail": _problem_detail(r, status, exercises),
                            "order": index})
    return st


def class_view(results: list, assignment, now: datetime | None = None) -> dict:
    """The class overview's page model: `class_statistics` worded, sorted and drawn."""
    st = class_statistics(results, assignment)
    max_score, graded_scores, reasons, mistakes = st.max_score, st.graded_scores, st.reasons, st.mistakes
    ex_stats, case_stats, order = st.exercises, st.cases, list(st.exercises)
    students = [{**row, "href": report_href(row["id"]), "status_text": result_status_text(row["status"]),
                 "score_text": points_text(row["score"]), "max_text": points_text(row["max"]),
                 "percent": _percent(row["score"], row["max"])} for row in st.students]
    by_status = {s: [] for s in RESULT_STATUSES}
    for row in students:
        by_status.setdefault(row["status"], []).append(row)

    # header numbers
    n_graded = len(graded_scores)
    stats = None
    if graded_scores:
        stats = {"mean": points_text(statistics.fmean(graded_scores)),
                 "median": points_text(statistics.median(graded_scores)),
                 "min": points_text(min(graded_scores)), "max": points_text(max(graded_scores))}
    bins = histogram_bins(graded_scores, max_score)

    # exercises: the assignment's order for the chart, hardest first for the table
    exercises = []
    for name in order:
        s = ex_stats[name]
        mean = statistics.fmean(s["scores"]) if s["scores"] else 0.0
        exercises.append({"name": name, "title": s["title"], "points": points_text(s["points"]),
                          "mean": points_text(mean), "percent": _percent(mean, s["points"]),
                          "graded": len(s["scores"]), "passed": s["passed"], "total": s["total"],
                          "rate": s["passed"] / s["total"] if s["total"] else 1.0,
                          "rate_text": _rate_text(s["passed"], s["total"]), "full": s["full"], "zero": s["zero"]})
    for e in exercises:
        e["rate_percent"] = round(100 * e["rate"], 1)
    exercise_rank = {e["name"]: i for i, e in enumerate(exercises)}
    exercises_hardest = sorted(exercises, key=lambda e: (e["rate"], exercise_rank[e["name"]]))

    cases = []
    for cs in case_stats.values():
        rate = cs["passed"] / cs["graded"] if cs["graded"] else 1.0
        cases.append({**cs, "rate": rate, "rate_percent": round(100 * rate, 1),
                      "rate_text": _rate_text(cs["passed"], cs["graded"]), "breakdown": _breakdown(cs["statuses"]),
                      "hidden": cs["visibility"] == "hidden"})
    cases.sort(key=lambda c: (c["rate"], exercise_rank.get(c["exercise"], len(exercise_rank)), c["id"]))

    # diagnosed mistakes: the hint and slide from the assignment's mistakes module
    known = _known_mistakes(assignment) if mistakes or any(k[0] == "mistake" for k in reasons) else {}
    for key, x in reasons.items():
        if key[0] == "mistake":
            x["text"] = _mistake_reason_text(key[1], known.get(key[1]), x["diagnosis"])
    mistake_rows = []
    for mname, m in mistakes.items():
        k = known.get(mname)
        who = sorted(({"id": _shown(sid), "href": report_href(sid), "hidden_only": hidden_only}
                      for sid, hidden_only in m["students"].values()),
                     key=lambda s: (s["id"].casefold(), s["id"]))
        functions = [f for f, _ in sorted(m["functions"].items(), key=lambda item: (-item[1], item[0]))]
        mistake_rows.append({
            "name": mname, "known": k is not None,
            "function": _text(getattr(k, "function", "")) if k is not None else ", ".join(functions),
            "exercise": _text(getattr(k, "exercise", "")) if k is not None else "",
            "hint": _mistake_hint(k) if k is not None else "",
            "slide": _text(getattr(k, "slide", "")) if k is not None else "",
            "students": len(who), "hidden_only": sum(s["hidden_only"] for s in who),
            "cases": m["cases"], "links": who})
    mistake_rows.sort(key=lambda m: (-m["students"], -m["cases"], m["name"]))

    # failure reasons: most students first
    ranked = sorted(reasons.values(), key=lambda x: (-len(x["students"]), -x["cases"], x["text"]))
    top = []
    for x in ranked[:TOP_REASONS]:
        ids = sorted(x["students"].values())
        top.append({"text": x["text"], "status": x["status"], "status_text": _reason_status_text(x["status"]),
                    "cases": x["cases"],
                    "students": len(ids),
                    "functions": [{"name": f, "count": n} for f, n in
                                  sorted(x["functions"].items(), key=lambda item: (-item[1], item[0]))],
                    "example": x["example"], "example_case": x["example_case"],
                    "example_html": _example_html(x["example_case"], x["example"]) if x["example"] else "",
                    "links": [{"id": _shown(i), "href": report_href(i)} for i in ids[:MAX_STUDENT_LINKS]],
                    "more": max(0, len(ids) - MAX_STUDENT_LINKS)})

    attention = [{"status": s, "title": title, "rows": sorted(by_status.get(s, []), key=_id_order)}
                 for s, title in (("timeout", t("class_report.attention.timeout")),
                                  ("crash", t("class_report.attention.crash")),
                                  ("invalid", t("class_report.attention.invalid")),
                                  ("violation", t("class_report.attention.violation")),
                                  ("error", t("class_report.attention.error")))]
    slowest = sorted(students, key=lambda s: (-s["duration"], _id_order(s)))[:TOP_SLOWEST]
    for s in students:
        s["duration_text"] = f"{s['duration']:.2f} s"

    return {
        "title": _text(getattr(assignment, "title", "")) or t("class_report.default_title"),
        "generated": (now or datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M %Z").strip(),
        "submissions": len(students), "graded": n_graded, "invalid": len(by_status.get("invalid", [])),
        "counts": [{"status": s, "text": result_status_count(s, len(by_status.get(s, []))),
                    "n": len(by_status.get(s, []))}
                   for s in [*RESULT_STATUSES, *sorted(set(by_status) - set(RESULT_STATUSES))]
                   if by_status.get(s)],
        "stats": stats, "max_score": points_text(max_score), "bin_width": points_text(BIN_WIDTH),
        "bins": bins, "histogram": histogram_svg(bins), "exercise_chart": exercise_bars_svg(exercises),
        "exercises": exercises_hardest, "cases": cases,
        "hidden_cases": sum(c["hidden"] for c in cases),
        "reasons": top, "reasons_total": len(reasons), "failing_cases": sum(x["cases"] for x in reasons.values()),
        "mistakes": mistake_rows, "mistakes_known": bool(known),
        "attention": attention, "slowest": slowest,
        "students": sorted(students, key=_id_order),
    }


def _example_html(case_id: str, message: str) -> Markup:
    """"e.g. <case id in a monospace span>: message", the catalog's sentence with the case id
    styled; the id and the message (students' text) escaped."""
    sentence = Markup(escape(t("class_report.reasons.example")))    # the template, its fields unfilled
    return sentence.format(case=Markup('<span class="case-id">{}</span>').format(case_id), message=message)


def _id_order(row: dict):
    return (row["id"].casefold(), row["id"], row["order"])


def _problem_detail(result: dict, status: str, exercises: list[dict]) -> str:
    """Why a submission is listed among the problems: the invalid reason, the rule it broke,
    what crashed, which functions timed out."""
    if status in ("invalid", "error"):
        notes = [_clip(n, MAX_DETAIL) for n in _messages(result, "notes")[:truncation.LISTED] if n]
        return _clip("; ".join(notes) or t("class_report.detail.no_reason"), MAX_DETAIL)
    if status == "violation":
        texts = []
        for e in exercises:
            cases = _cases_of(e)
            if any(c.get("status") == "violation" for c in cases):
                texts += [_clip(p, MAX_DETAIL) for p in _messages(e, "problems")[:truncation.LISTED] if p] or \
                    [_clip(_text(c.get("message")), MAX_DETAIL) for c in cases
                     if c.get("status") == "violation" and c.get("message")][:truncation.LISTED]
        return _clip("; ".join(dict.fromkeys(texts)) or t("class_report.detail.rule_violation"), MAX_DETAIL)
    if status == "crash":
        texts = [_clip(_text(c.get("message")), MAX_DETAIL) for e in exercises for c in _cases_of(e)
                 if c.get("status") == "error" and isinstance(c.get("details"), dict)
                 and c["details"].get("worker") in ("crash", "rejected")]
        return _clip("; ".join(dict.fromkeys(texts)) or t("class_report.detail.crashed"), MAX_DETAIL)
    if status == "timeout":
        functions = Counter(_shown(c.get("function"), MAX_NAME) for e in exercises for c in _cases_of(e)
                            if c.get("status") == "timeout")
        if functions:
            listed = ", ".join(t("class_report.detail.function_cases", count=n, function=f)
                               for f, n in functions.items())
            return _clip(t("class_report.detail.timed_out_in", functions=listed), MAX_DETAIL)
        return t("class_report.detail.timed_out")
    return ""


# --- rendering ---------------------------------------------------------------------------------

def _environment() -> Environment:
    from grader.report.html import CompiledTemplates  # the compiled template from the user's cache
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined, bytecode_cache=CompiledTemplates())
    env.globals["t"] = t                # the template's words, from the catalogs (section class_report)
    env.globals["kind_label"] = kind_label
    return env


def render_class_report(results: list[dict], assignment, now: datetime | None = None) -> str:
    """The class overview as one self-contained HTML page, in the current language (grader.i18n)."""
    return _environment().get_template("class.html.j2").render(v=class_view(results, assignment, now),
                                                               lang=language())


def write_class_report(results: list[dict], assignment, out: Path) -> Path:
    """Write the class overview and return its path.

    `out` is the bulk output folder (the page goes to out/index.html, beside results/ and
    reports/) or, if it ends in .html, the page itself; links to the students' reports are
    relative: reports/<id>.html next to the page."""
    out = Path(out)
    path = out if out.suffix.lower() in (".html", ".htm") else out / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_class_report(results, assignment), encoding="utf-8")
    return path
