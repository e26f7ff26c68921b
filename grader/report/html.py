"""The HTML report: one self-contained page per Result (inline CSS and SVG, no JavaScript,
no external resource), so it opens offline and attaches to an LMS.

Python prepares a plain view of the result (strings, small tables, SVG heatmaps) and the
template `templates/report.html.j2` lays it out; Jinja's autoescape escapes everything that
comes from the submission (messages, printed output, tracebacks). The SVG builders below
escape their own labels, since their output is marked safe. Before that, every text from the
submission is bounded and made inert (`_shown`: grader.model.result.clip_text, then no control or
bidirectional character) and every value it returned is a bounded repr (`_repr`); a number
the report cannot format (a str, an int of 400 digits, NaN) is shown as such, never an
exception. The CSS wraps a long word (or scrolls a wide table) inside its box.

Hidden cases show their id and verdict only: no message, inputs, arrays or numbers.
"""
from __future__ import annotations

import marshal
import math
import pickle
import sys
import types
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
from jinja2 import BytecodeCache, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from grader.model.assignment import Assignment, CaseSpec, Lecture
from grader.i18n import language, t
from grader.model.result import (QUOTE, TEXT, CaseResult, ExerciseResult, Result, as_real, bounded_repr, clip_text,
                     inert, shown_points)
from grader.model.said import render
from grader.model.statuses import describe, order
from grader.model import truncation, usercache

TEMPLATES = Path(__file__).parent / "templates"
MAX_CELLS = 64          # a heatmap shows at most MAX_CELLS x MAX_CELLS cells
MAX_TABLE = 16          # value tables (lecture numbers, your values) up to this many rows/columns
MAX_CHIPS = 40          # lists of words or pairs shown as chips, up to this many
MAX_OUTPUT = 20_000     # characters of printed output shown
MAX_INPUTS = 4_000      # characters of the inputs' description
MAX_TRACEBACK_LINE = 1_000   # characters of one traceback entry (its source line included)
MAX_CELL = 60           # characters of one cell of a value table (a value it cannot write as a number)



# --- words of the current language (looked up when a page is built, never at import) --------
# A status's words, icon and whether it repeats one message come from grader/model/statuses.py.

def status_label(status: str) -> str:
    """A case's verdict in words ("passed", "rule violation"…); an unknown status as it is."""
    return describe(status).word()


def status_count(status: str, n: int) -> str:
    """"3 passed", "1 rule violation": a number of cases with that verdict."""
    return describe(status).count(n)


@lru_cache(maxsize=None)
def _kind_labels(lang: str) -> dict:
    return {"lecture": t("html_report.kind.lecture", lang), "error": t("html_report.kind.error", lang),
            "random": t("html_report.kind.random", lang), "fixed": t("html_report.kind.fixed", lang)}


def kind_label(kind: str) -> str:
    """A case's kind in words (the tag beside its id); an unknown kind as it is."""
    return _kind_labels(language()).get(kind, kind)


def source_text(source: str) -> str:
    """Where the expected values came from, in words."""
    texts = {"reference": t("html_report.source.reference"),
             "public-cases file": t("html_report.source.public_cases_file")}
    return texts.get(source, source)


def figure_title(key: str) -> str:
    titles = {"student": t("html_report.figure.student"), "expected": t("html_report.figure.expected"),
              "difference": t("html_report.figure.difference")}
    return titles.get(key, key)


# --- small formatting helpers -------------------------------------------------------------

def _shown(value, limit: int = TEXT, quote: int = QUOTE) -> str:
    """Text from a submission as the report shows it: bounded (grader.model.result.clip_text) and inert
    (no control or bidirectional character; the template escapes the rest)."""
    return inert(clip_text(value, limit, quote))


def _repr(value, limit: int = QUOTE) -> str:
    """A value as the report shows it: a bounded repr (grader.model.result.bounded_repr), inert."""
    return inert(bounded_repr(value, limit))


def points_text(value) -> str:
    """12.0 -> "12", 66.625 -> "66.6": the rounding of every human-facing place (`shown_points`),
    without a trailing ".0"; NaN, ±∞ as such; a value that is no number as a bounded repr."""
    v = as_real(value)
    if math.isnan(v) and not isinstance(value, (float, np.floating)):
        return _repr(value, MAX_CELL)
    if not math.isfinite(v):
        return "NaN" if math.isnan(v) else "∞" if v > 0 else "−∞"
    text = shown_points(v)
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text in ("-0", "") else text


def _number(value, decimals: int | None = None) -> str:
    """A number as the report writes it (`decimals` after the point, else 4 significant digits);
    anything it cannot write so (a str, an int too large for a float, a nested value) as a
    bounded repr. Never raises."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)) and decimals is None:
        return _repr(int(value), MAX_CELL)
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            v = float(value)
        except OverflowError:           # an int of hundreds of digits
            return _repr(int(value), MAX_CELL)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        try:
            return f"{v:.{decimals}f}" if decimals is not None else f"{v:.4g}"
        except (TypeError, ValueError):  # decimals that is no number of digits
            return f"{v:.4g}"
    if isinstance(value, str):
        return _shown(value, MAX_CELL, MAX_CELL)
    return _repr(value, MAX_CELL)


def _short(value: float) -> str:
    """A value short enough to print inside a heatmap cell."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if abs(value) < 100:
        text = f"{value:.2f}"
        return "0" if text in ("0.00", "-0.00") else text
    return f"{value:.0f}" if abs(value) < 10_000 else f"{value:.0e}"


def _plain(value):
    """NumPy values and tuples as plain Python lists and scalars."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _slug(case_id) -> str:
    if type(case_id) is str:
        return _slug_of(case_id)
    return "case-" + "".join(c if c.isalnum() or c in "-_" else "--" for c in str(case_id)[:QUOTE])


@lru_cache(maxsize=4096)
def _slug_of(case_id: str) -> str:  # the same case ids, student after student
    return "case-" + "".join(c if c.isalnum() or c in "-_" else "--" for c in case_id[:QUOTE])


# --- heatmaps -----------------------------------------------------------------------------

# ColorBrewer RdBu: blue for negative, near-white for 0, red for positive.
_STOPS = ((-1.0, (33, 102, 172)), (-0.66, (67, 147, 195)), (-0.33, (146, 197, 222)), (0.0, (247, 247, 247)),
          (0.33, (244, 165, 130)), (0.66, (214, 96, 77)), (1.0, (178, 24, 43)))
NONFINITE_COLOR = "#1f2328"


def diverging_color(x: float) -> str:
    """The colour of x in [-1, 1] on a diverging blue–white–red scale."""
    x = max(-1.0, min(1.0, float(x)))
    for (t0, c0), (t1, c1) in zip(_STOPS, _STOPS[1:]):
        if x <= t1:
            f = (x - t0) / (t1 - t0)
            return "#%02x%02x%02x" % tuple(round(a + (b - a) * f) for a, b in zip(c0, c1))
    return "#%02x%02x%02x" % _STOPS[-1][1]


def as_2d(array, lead: tuple | None = None) -> tuple[np.ndarray, str]:
    """The matrix a heatmap draws, and a note saying what was left out (or "").

    0-D and 1-D arrays become one row; N-D arrays show one 2-D slice, the first unless
    `lead` gives its leading indexes; at most MAX_CELLS x MAX_CELLS cells are kept."""
    a = np.asarray(array, dtype=float)
    notes = []
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        a = a.reshape(1, -1)
    elif a.ndim > 2:
        lead = tuple(lead) if lead is not None and len(lead) == a.ndim - 2 and all(
            0 <= i < n for i, n in zip(lead, a.shape)) else (0,) * (a.ndim - 2)
        index = "".join(f"{i}, " for i in lead)
        if not any(lead):
            notes.append(t("html_report.heatmap.first_slice", ndim=a.ndim, shape=tuple(a.shape), index=index))
        else:
            notes.append(t("html_report.heatmap.slice", ndim=a.ndim, shape=tuple(a.shape), index=index))
        a = a[lead]
    rows, cols = a.shape
    if rows > MAX_CELLS or cols > MAX_CELLS:
        notes.append(t("html_report.heatmap.clipped", rows=min(rows, MAX_CELLS), cols=min(cols, MAX_CELLS),
                       all_rows=rows, all_cols=cols))
        a = a[:MAX_CELLS, :MAX_CELLS]
    return a, "; ".join(notes)


def _labels(labels, n: int, full: int):
    """Labels for an axis of `full` entries (kept: the first n), or None if they do not fit."""
    if not labels or len(labels) != full:
        return None
    return [str(x) for x in labels[:n]]


def _clip(text: str, width: int = 14) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _svg_text(x, y, text, size=11, anchor="start", fill="#1f2328", extra="") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{extra}>'
            f"{escape(text)}</text>")


def heatmap_svg(matrix, row_labels=None, col_labels=None, title: str = "", vmax: float | None = None,
                mark: tuple | None = None, lead: tuple | None = None) -> Markup:
    """An inline SVG heatmap of `matrix` on a diverging scale symmetric around 0.

    `row_labels`/`col_labels` name the rows/columns when their length matches the matrix
    (else the indexes are shown); `vmax` fixes the scale (default: the largest |value|), so
    two heatmaps can share one; `mark` = (row, col) outlines one cell; `lead` picks the 2-D
    slice of an N-D array (default: the first). Each cell has a
    <title> with its value (shown on hover); NaN and ±inf cells are drawn dark. A legend
    gives the scale and the min/max."""
    full = np.asarray(matrix, dtype=float)
    full_shape = (1, full.size) if full.ndim <= 1 else full.shape[-2:]
    m, _ = as_2d(full, lead)
    rows, cols = m.shape
    row_labels = _labels(row_labels, rows, full_shape[0]) if full.ndim >= 2 else None
    col_labels = _labels(col_labels, cols, full_shape[1])
    finite = np.isfinite(m)
    values = m[finite]
    if vmax is None or not math.isfinite(vmax) or vmax <= 0:
        vmax = float(np.max(np.abs(values), initial=0.0)) or 1.0

    cell = int(max(6, min(40, 230 // max(rows, cols))))
    char = 6.3  # width of one character at font-size 11
    show_values = cell >= 30
    index_step = next((k for k in (1, 2, 5, 10, 20) if cell * k >= 14), 20)
    if row_labels:
        left = min(max(len(_clip(s)) for s in row_labels) * char + 10, 110)
    else:
        left = len(str(rows - 1)) * 7 + 10
    title_h = 18 if title else 4
    horizontal_cols = bool(col_labels) and max(len(_clip(s)) for s in col_labels) * char + 4 <= cell
    if col_labels and not horizontal_cols:
        # labels rotated by -45°: they rise by 0.71 of their length and lean right by as much
        longest = max(len(_clip(s)) for s in col_labels) * char
        overhang = max((j + 0.5) * cell + len(_clip(s)) * char * 0.71 for j, s in enumerate(col_labels))
        labels_h, right = longest * 0.71 + 10, max(4.0, overhang - cols * cell)
    else:
        labels_h, right = 16, 4
    top = title_h + labels_h
    grid_w, grid_h = cols * cell, rows * cell
    legend_y = top + grid_h + 12
    has_nonfinite = not finite.all()
    scale_text = f"−{vmax:.3g} … 0 … +{vmax:.3g}"
    summary = (t("html_report.heatmap.min_max", min=float(values.min()), max=float(values.max())) if values.size
               else t("html_report.heatmap.no_finite_value"))
    nonfinite_text = f" · ■ {int((~finite).sum())} NaN/inf" if has_nonfinite else ""
    legend_w = max(9 * 12 + 6 + len(scale_text) * 5.6, len(summary + nonfinite_text) * 5.6)
    title_w = len(title) * 7.2
    width = int(max(left + grid_w + right + 4, legend_w + 4, title_w))
    height = int(legend_y + 34)

    out = [f'<svg class="heatmap" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{escape(title or t("html_report.heatmap.label"))}" font-family="system-ui, sans-serif">']
    if title:
        out.append(_svg_text(0, 13, title, size=12, extra=' font-weight="600"'))
    # column labels (names, or every index_step-th index)
    for j in range(cols):
        cx = left + j * cell + cell / 2
        if col_labels:
            text = _clip(col_labels[j])
            if horizontal_cols:
                out.append(_svg_text(cx, top - 5, text, anchor="middle"))
            else:
                out.append(_svg_text(cx, top - 5, text, extra=f' transform="rotate(-45 {cx:.1f} {top - 5:.1f})"'))
        elif j % index_step == 0:
            out.append(_svg_text(cx, top - 4, str(j), size=10, anchor="middle", fill="#656d76"))
    for i in range(rows):
        cy = top + i * cell + cell / 2 + 4
        if row_labels:
            out.append(_svg_text(left - 6, cy, _clip(row_labels[i]), anchor="end"))
        elif i % index_step == 0 and rows > 1:
            out.append(_svg_text(left - 5, cy, str(i), size=10, anchor="end", fill="#656d76"))
    # cells
    grid = ' stroke="#ffffff" stroke-width="0.5"' if cell >= 10 else ""
    out.append(f'<g shape-rendering="crispEdges"{grid}>')
    for i in range(rows):
        for j in range(cols):
            v = float(m[i, j])
            fill = diverging_color(v / vmax) if math.isfinite(v) else NONFINITE_COLOR
            name = " × ".join(x for x in ((row_labels[i] if row_labels else ""), (col_labels[j] if col_labels else "")) if x)
            where = f"[{i}, {j}]" if full.ndim >= 2 else f"[{j}]"
            tip = f"{name} {where} = {v:.6g}" if name else f"{where} = {v:.6g}"
            out.append(f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell}" height="{cell}" '
                       f'fill="{fill}"><title>{escape(tip)}</title></rect>')
    out.append("</g>")
    if show_values:
        for i in range(rows):
            for j in range(cols):
                v = float(m[i, j])
                dark = not math.isfinite(v) or abs(v) / vmax > 0.55
                out.append(_svg_text(left + j * cell + cell / 2, top + i * cell + cell / 2 + 3.5, _short(v), size=9,
                                     anchor="middle", fill="#ffffff" if dark else "#1f2328",
                                     extra=' pointer-events="none"'))
    if mark is not None and 0 <= mark[0] < rows and 0 <= mark[1] < cols:
        out.append(f'<rect x="{left + mark[1] * cell + 1}" y="{top + mark[0] * cell + 1}" width="{cell - 2}" '
                   f'height="{cell - 2}" fill="none" stroke="#000000" stroke-width="2"/>')
    # legend: the scale, then the data's min and max
    steps = 9
    for k in range(steps):
        out.append(f'<rect x="{k * 12}" y="{legend_y}" width="12" height="8" '
                   f'fill="{diverging_color(-1 + 2 * k / (steps - 1))}"/>')
    out.append(_svg_text(steps * 12 + 6, legend_y + 8, scale_text, size=10, fill="#656d76"))
    out.append(f'<text x="0" y="{legend_y + 24:.1f}" font-size="10" fill="#656d76">{escape(summary)}')
    if has_nonfinite:
        out.append(f' · <tspan fill="{NONFINITE_COLOR}">■</tspan> {int((~finite).sum())} NaN/inf')
    out.append("</text>")
    out.append("</svg>")
    return Markup("".join(out))


def _array_groups(arrays: dict, first: str | None = None) -> list[tuple[str, dict]]:
    """{"output/student": a, "output/expected": b, "weights/student": c, …} ->
    [("output", {"student": a, "expected": b}), ("weights", {"student": c})], `first` first."""
    groups: dict = {}
    for key, value in arrays.items():
        prefix, _, part = str(key).rpartition("/")
        groups.setdefault(prefix, {})[part] = value
    order = sorted(groups, key=lambda name: name != first)
    return [(name, groups[name]) for name in order]


def _numeric(value):
    """The value as a float array of at least one dimension, or None (also for an int too large
    for a float, a ragged list, anything NumPy refuses)."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        return None
    try:
        a = np.asarray(value, dtype=float)
    except Exception:
        return None
    return a if a.ndim >= 1 and a.size else None


def _fallback_arrays(case: CaseResult, outputs: tuple) -> dict:
    """Arrays for a failing case whose comparison drew none (4-D values, wrong shapes).
    Only NumPy arrays: lists (token ids, words, pairs) are shown as values, not pictures."""
    pairs = [("", case.student, case.expected)]
    if outputs and isinstance(case.student, (tuple, list)) and isinstance(case.expected, (tuple, list)) \
            and len(case.student) == len(case.expected) == len(outputs):
        pairs = [(f"{name}/", s, e) for name, s, e in zip(outputs, case.student, case.expected)]
    arrays = {}
    for prefix, student, expected in pairs:
        if not isinstance(student, np.ndarray) or not isinstance(expected, np.ndarray):
            continue
        s, e = _numeric(student), _numeric(expected)
        if s is None or e is None or s.size > MAX_CELLS * MAX_CELLS * 16 or e.size > MAX_CELLS * MAX_CELLS * 16:
            continue
        arrays[prefix + "student"] = s
        arrays[prefix + "expected"] = e
        if s.shape == e.shape:
            arrays[prefix + "difference"] = s - e
    return arrays


def _axis_labels(shape: tuple, lecture: Lecture | None):
    """Row and column labels from the lecture's tokens/vocab/labels, where the lengths match."""
    if lecture is None:
        return None, None
    candidates = [list(x) for x in (lecture.tokens, lecture.vocab, lecture.labels) if x]
    if len(shape) <= 1:
        rows, cols = None, (shape[0] if shape else 1)
    else:
        rows, cols = shape[-2], shape[-1]
    row = next((c for c in candidates if len(c) == rows), None)
    col = next((c for c in candidates if len(c) == cols), None)
    return row, col


def _worst_element(parts: dict, details: dict | None):
    """The grader's worst element (details["worst_index"]) if it lies in this group's arrays:
    (leading indexes of its 2-D slice, (row, col) in that slice), else None."""
    index = (details or {}).get("worst_index") if isinstance(details, dict) else None
    if not isinstance(index, (list, tuple)) or not index or "student" not in parts or "expected" not in parts:
        return None
    if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in index):
        return None
    s, e = np.asarray(parts["student"], float), np.asarray(parts["expected"], float)
    if s.shape != e.shape or len(index) != s.ndim or not all(0 <= i < n for i, n in zip(index, s.shape)):
        return None
    index = tuple(int(i) for i in index)
    same = [np.isclose(a[index], as_real(details.get(k, np.nan)), rtol=1e-9, atol=0, equal_nan=True)
            for a, k in ((s, "student_value"), (e, "expected_value"))]
    if not all(same):
        return None     # the worst element of another output of the tuple
    cell = (0, index[0]) if s.ndim == 1 else index[-2:]
    if max(cell) >= MAX_CELLS:
        return None
    return index[:-2], cell


def heatmap_groups(arrays: dict, lecture: Lecture | None = None, details: dict | None = None) -> list[dict]:
    """One group per output (student | expected | difference side by side), for the template.

    The cell outlined is the grader's worst element (`details`) when it belongs to the group,
    else the largest |difference|; an N-D group shows the 2-D slice that holds it."""
    groups = []
    for name, parts in _array_groups(arrays, lecture.output if lecture else None):
        parts = {k: v for k, v in parts.items() if _numeric(v) is not None}
        if not parts:
            continue
        main = parts.get("student", next(iter(parts.values())))
        shape = tuple(np.shape(main))
        rows, cols = _axis_labels(shape, lecture)
        shared = [np.asarray(parts[k], float) for k in ("student", "expected") if k in parts]
        vmax = max((float(np.max(np.abs(a[np.isfinite(a)]), initial=0.0)) for a in shared), default=0.0) or None
        lead, mark, marked = None, None, ""
        worst = _worst_element(parts, details)
        if worst is not None:
            (lead, mark), marked = worst, t("html_report.heatmap.outlined_worst")
        elif "difference" in parts and np.ndim(parts["difference"]) >= 1:
            diff = np.asarray(parts["difference"], float)
            magnitude = np.where(np.isfinite(diff), np.abs(diff), -1.0)
            if magnitude.max() > 0:
                index = np.unravel_index(int(np.argmax(magnitude)), magnitude.shape)
                cell = (0, int(index[0])) if diff.ndim == 1 else tuple(int(i) for i in index[-2:])
                if max(cell) < MAX_CELLS:
                    lead, mark = tuple(int(i) for i in index[:-2]), cell
                    marked = t("html_report.heatmap.outlined_largest")
        figures = []
        for key in ("student", "expected", "difference"):
            if key in parts:
                figures.append(heatmap_svg(parts[key], rows, cols, figure_title(key),
                                           vmax if key != "difference" else None, mark, lead))
        notes = sorted({as_2d(v, lead)[1] for v in parts.values()} - {""})
        shapes = sorted({str(tuple(np.shape(v))) for k, v in parts.items() if k != "difference"})
        if len(shapes) == 1:
            caption = t("html_report.heatmap.shape", shape=shapes[0])
        else:
            caption = t("html_report.heatmap.shapes_differ", yours=tuple(np.shape(parts.get("student"))),
                        expected=tuple(np.shape(parts.get("expected"))))
        if notes:
            caption += " — " + "; ".join(notes)
        if mark is not None:
            caption += " — " + marked
        groups.append({"name": name or t("html_report.result"), "caption": caption, "figures": figures})
    return groups


# --- tables of values (lecture numbers, your values, generated words) ----------------------

def value_table(value, decimals: int | None = None, lecture: Lecture | None = None) -> dict | None:
    """A small table (or a list of chips) for a scalar, list or nested list; None if too big.

    Returns {"kind": "table", "header": [...] | None, "rows": [{"label", "cells"}]} or
    {"kind": "chips", "items": [...], "more": n}."""
    value = _plain(value)
    if value is None:
        return None
    if not isinstance(value, list):
        return {"kind": "table", "header": None, "rows": [{"label": None, "cells": [_number(value, decimals)]}]}
    if not value:
        return {"kind": "chips", "items": [t("html_report.empty_list")], "more": 0}
    nested = [isinstance(v, list) for v in value]
    words = all(isinstance(v, str) for v in value) or (all(nested) and all(
        isinstance(x, str) for v in value for x in v))
    if words:
        items = [_shown(v, QUOTE) if isinstance(v, str) else "(" + ", ".join(_shown(x, QUOTE) for x in v[:MAX_CHIPS])
                 + (", …" if len(v) > MAX_CHIPS else "") + ")" for v in value[:MAX_CHIPS]]
        return {"kind": "chips", "items": items, "more": max(0, len(value) - MAX_CHIPS)}
    if not any(nested):
        if len(value) > MAX_TABLE * 2:
            return None
        _, header = _axis_labels((len(value),), lecture)
        return {"kind": "table", "header": header,
                "rows": [{"label": None, "cells": [_number(v, decimals) for v in value]}]}
    if not all(nested) or any(isinstance(x, list) for v in value for x in v):
        return None
    if len(value) > MAX_TABLE or max(len(v) for v in value) > MAX_TABLE:
        return None
    row_labels, header = _axis_labels((len(value), max(len(v) for v in value)), lecture)
    return {"kind": "table", "header": header,
            "rows": [{"label": row_labels[i] if row_labels else None, "cells": [_number(x, decimals) for x in v]}
                     for i, v in enumerate(value)]}


def vocab_words(value, vocab) -> list[dict] | None:
    """[{"id": 5, "word": "modèle"}, …] for a list (or 1-D int array) of token ids."""
    value = _plain(value)
    if not vocab or not isinstance(value, list) or not value:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return None
    return [{"id": v, "word": vocab[v] if 0 <= v < len(vocab) else "?"} for v in value[:MAX_CHIPS * 2]]


def _selected_output(value, outputs: tuple, lecture: Lecture):
    """The component of a tuple result the slide is about (lecture.output), else the value."""
    if outputs and lecture.output in outputs and isinstance(value, (tuple, list)) and len(value) == len(outputs):
        return value[outputs.index(lecture.output)]
    return value


# --- the view the template reads -----------------------------------------------------------

_DETAIL_SKIP = {"traceback", "size", "fraction", "student_value", "expected_value", "margin", "duration",
                "expected_shape"}


def _g(value, spec: str = ".3g") -> str:
    """A recorded number in `spec`; a value that is none (a str, an int too large) as a bounded repr."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = as_real(value)
        if math.isfinite(v) or isinstance(value, (float, np.floating)):
            return format(v, spec)
    return _repr(value, MAX_CELL)


def _index_text(index) -> str:
    if isinstance(index, (list, tuple)):
        return "[" + ", ".join(_repr(i, MAX_CELL) for i in index[:8]) + (", …" if len(index) > 8 else "") + "]"
    return _repr(index, MAX_CELL)


def _shape_text(shape) -> str:
    return _repr(tuple(shape[:8]) if isinstance(shape, (list, tuple)) else shape, MAX_CELL)


def detail_rows(details: dict) -> list[tuple[str, str]]:
    """The numbers a comparison recorded, as (label, text) rows; a value that is not what the
    comparison writes there (a str for a number, an int too large for a float) shows as a
    bounded repr, never an exception."""
    d = details if isinstance(details, dict) else {}
    rows = []
    if "mismatches" in d:
        numbers = all(isinstance(d.get(k), (int, float, np.integer, np.floating)) and not isinstance(d.get(k), bool)
                      for k in ("mismatches", "size", "fraction"))
        if numbers:
            rows.append((t("html_report.details.outside_tolerance"),
                         t("html_report.details.outside_tolerance_value", count=_repr(d["mismatches"], MAX_CELL),
                           size=_repr(d["size"], MAX_CELL), percent=100 * as_real(d["fraction"]))))
        else:
            rows.append((t("html_report.details.values_differ"), _repr(d["mismatches"], MAX_CELL)))
    if "max_abs_error" in d:
        rows.append((t("html_report.details.max_abs_error"), _g(d["max_abs_error"])))
    if "max_rel_error" in d:
        rows.append((t("html_report.details.max_rel_error"), _g(d["max_rel_error"])))
    if "worst_index" in d:
        where = _index_text(d["worst_index"])
        text = where
        if "student_value" in d and "expected_value" in d:
            yours, expected = d["student_value"], d["expected_value"]
            if all(isinstance(v, (float, np.floating)) or isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                   and math.isfinite(as_real(v)) for v in (yours, expected)):
                text = t("html_report.details.worst_value", where=where, yours=as_real(yours),
                         expected=as_real(expected))
            else:                       # not numbers: as they are, bounded
                text = t("html_report.details.worst_value_text", where=where, yours=_repr(yours, MAX_CELL),
                         expected=_repr(expected, MAX_CELL))
        rows.append((t("html_report.details.worst_element"), text))
    if "nonfinite" in d:
        rows.append((t("html_report.details.nonfinite"), _repr(d["nonfinite"], MAX_CELL)))
    if "student_shape" in d:
        rows.append((t("html_report.details.shape"),
                     t("html_report.details.shape_value", yours=_shape_text(d["student_shape"]),
                       expected=_shape_text(d.get("expected_shape", ())))))
    margin = d.get("margin")
    if isinstance(margin, (int, float)) and not isinstance(margin, bool) and math.isfinite(as_real(margin)) \
            and as_real(margin) > 1:
        rows.append((t("html_report.details.margin"), f"{as_real(margin):.3g} ×"))
    for key, value in list(d.items())[:40]:
        if key in _DETAIL_SKIP or key in ("mismatches", "max_abs_error", "max_rel_error", "worst_index",
                                          "nonfinite", "student_shape"):
            continue
        rows.append((_shown(str(key), 40, 40).replace("_", " "), _shown(value, QUOTE)))
    return rows


def _inputs_text(inputs: dict | None) -> str:
    if not isinstance(inputs, dict) or not inputs:
        return ""
    lines = []
    with np.printoptions(threshold=60, edgeitems=3, precision=4, linewidth=100):
        for name, value in list(inputs.items())[:truncation.LISTED]:
            name = _shown(str(name), QUOTE)
            if isinstance(value, np.ndarray):
                lines.append(t("html_report.inputs.array", name=name, shape=value.shape, dtype=value.dtype)
                             + "\n" + (repr(value) if value.dtype.kind in "biuf" else _repr(value, 400)))
            elif isinstance(value, dict):
                inner = ", ".join(f"{_shown(str(k), QUOTE)}: {getattr(v, 'shape', type(v).__name__)}"
                                  for k, v in list(value.items())[:truncation.LISTED])
                lines.append(f"{name}: dict {{{inner}}}")
            else:
                lines.append(f"{name} = {_repr(value, 400)}")
    text = "\n".join(lines)
    return text if len(text) <= MAX_INPUTS else text[:MAX_INPUTS] + "\n[…]"


def _spec_of(assignment: Assignment, case: CaseResult) -> CaseSpec | None:
    try:
        return assignment.case(case.id)
    except KeyError:
        return None


def _outputs_of(assignment: Assignment, case: CaseResult) -> tuple:
    try:
        return assignment.exercise(case.exercise).functions[case.function].outputs
    except (KeyError, AttributeError):
        return ()


_SLIDE_NUMBERS: dict = {}  # {(the lecture, language): its numbers' table}: the slide's, the same for every student


def _slide_numbers(lecture: Lecture) -> dict | None:
    if lecture.numbers is None:
        return None
    key = (id(lecture), language())
    found = _SLIDE_NUMBERS.get(key)
    if found is None or found[0] is not lecture:
        if len(_SLIDE_NUMBERS) >= 1024:
            _SLIDE_NUMBERS.clear()
        found = _SLIDE_NUMBERS[key] = (lecture, value_table(lecture.numbers, lecture.decimals, lecture))
    return found[1]


def _lecture_view(case: CaseResult, lecture: Lecture, outputs: tuple) -> dict:
    chosen = _selected_output(case.student, outputs, lecture)
    words = vocab_words(chosen, lecture.vocab)
    yours = None if words else value_table(chosen, lecture.decimals if lecture.decimals is not None else 3, lecture)
    expected_words = None
    if lecture.vocab and not case.passed:
        expected_words = vocab_words(_selected_output(case.expected, outputs, lecture), lecture.vocab)
    return {"slide": lecture.slide, "quote": lecture.quote, "note": render(lecture.note),
            "numbers": _slide_numbers(lecture),
            "output": lecture.output or "", "yours": yours, "words": words, "expected_words": expected_words,
            "student_returned": case.student is not None}


_PASSED_HEATMAPS: dict = {}  # {(case, language, the matrix's bytes…): groups}: every correct student's is the same


def _passed_lecture_heatmap(case_id: str, chosen: np.ndarray, lecture: Lecture) -> list[dict]:
    """The student's matrix on the lecture's example, drawn once per process for a given value:
    in `grade bulk`, the correct students of a class return the same bytes (fixed inputs)."""
    key = (case_id, language(), chosen.dtype.str, chosen.shape, chosen.tobytes())
    groups = _PASSED_HEATMAPS.get(key)
    if groups is None:
        name = lecture.output or t("html_report.result")
        groups = heatmap_groups({f"{name}/student": chosen}, lecture)
        if len(_PASSED_HEATMAPS) >= 256:
            _PASSED_HEATMAPS.clear()
        _PASSED_HEATMAPS[key] = groups
    return groups


_HIDDEN_CASES: dict = {}  # {(language, the view's fields…): its HTML}: the same for every student with that verdict


LARGE = 512  # entries of a cache whose entries hold a case's values or figures (a few KB each)


def _memoised(cache: dict, key, make, limit: int = 4096):
    """cache[key], made by `make()` the first time; a cache past `limit` entries starts again (a
    process grading a whole class keeps a bounded memory)."""
    html = cache.get(key)
    if html is None:
        html = make()
        if len(cache) >= limit:
            cache.clear()
        cache[key] = html
    return html


def _hidden_case_html(view: dict) -> Markup:
    """A hidden case's line of the report (cases.html.j2), rendered once per process for a given
    language, case, verdict and points."""
    like = view["like"]
    key = (language(), view["id"], view["anchor"], view["status"], view["icon"], view["status_text"],
           view["points"], view["max_points"], (like["id"], like["anchor"]) if like else None)
    return _memoised(_HIDDEN_CASES, key, lambda: _environment().get_template("cases.html.j2").module.hidden_case(view))


_PUBLIC_CASES: dict = {}  # {(language, the view pickled): its HTML}: a passed public case, the same for every
                          # student whose case shows the same things (its line, the slide, the same values)


def _passed_case_html(view: dict) -> Markup | None:
    """A passed public case's part of the report (cases.html.j2), rendered once per process for a
    given view (its line; a lecture case's slide and values, which every correct student shares on
    the lecture's fixed inputs). None for any other case (the report renders it)."""
    if not view["passed"]:
        return None
    try:  # the view's bytes (only dumped, as a key): equal only for views that render the same
        frozen = pickle.dumps(view, pickle.HIGHEST_PROTOCOL)
    except Exception:  # a field that does not pickle: rendered by the report
        return None
    return _memoised(_PUBLIC_CASES, (language(), frozen),
                     lambda: _environment().get_template("cases.html.j2").module.public_case(view), LARGE)


_HIDDEN_VIEWS: dict = {}  # {(language, case, verdict, points, twin): its view}: hidden views depend on no more
_PASSED_VIEWS: dict = {}  # {(language, the case's fields pickled): (its spec, its view)}: a passed public case


def case_view(case: CaseResult, assignment: Assignment, replay: Callable[[str], str]) -> dict:
    if case.visibility == "hidden":  # the same view for every student with this verdict: made once
        twin = case.twin(assignment)
        key = (language(), case.id, case.status, case.kind, case.passed, case.points, case.max_points, twin)
        try:
            hash(key)
        except TypeError:  # a field that is no plain value: not memoised
            return _case_view(case, assignment, replay)
        return dict(_memoised(_HIDDEN_VIEWS, key, lambda: _case_view(case, assignment, replay)))
    spec = _spec_of(assignment, case) if case.passed else None
    if spec is not None:  # passed: what its view shows makes it (in the lecture, the values it returned too)
        details = case.details if isinstance(case.details, dict) else {}
        try:
            key = (language(), pickle.dumps((case.id, case.status, case.kind, case.passed, case.points,
                                             case.max_points, case.message, case.diagnosis, case.output,
                                             detail_rows(details), details.get("traceback"),
                                             case.student if spec.lecture is not None else None),
                                            pickle.HIGHEST_PROTOCOL))
        except Exception:
            return _case_view(case, assignment, replay)
        found = _memoised(_PASSED_VIEWS, key, lambda: _passed_view(case, assignment, replay, spec), LARGE)
        if found[0] is not spec:  # another assignment's case of that id (its lecture, its outputs)
            found = _PASSED_VIEWS[key] = _passed_view(case, assignment, replay, spec)
        return dict(found[1])
    return _case_view(case, assignment, replay)


def _passed_view(case: CaseResult, assignment: Assignment, replay: Callable[[str], str], spec) -> tuple:
    """(the case's spec, its view with its HTML): a passed case is never open."""
    view = _case_view(case, assignment, replay)
    view["open"] = False
    view["html"] = _passed_case_html(view)
    return spec, view


def _case_view(case: CaseResult, assignment: Assignment, replay: Callable[[str], str]) -> dict:
    status = describe(case.status)
    view = {"id": case.id, "anchor": _slug(case.id), "status": case.status,
            "icon": status.icon, "status_text": _shown(status.word(), QUOTE),
            "kind": case.kind, "kind_text": kind_label(case.kind), "points": points_text(case.points),
            "max_points": points_text(case.max_points), "hidden": case.visibility == "hidden",
            "passed": case.passed}
    if view["hidden"]:  # id and verdict only, and the public case that exercises the same thing
        twin = case.twin(assignment)
        view["like"] = {"id": twin, "anchor": _slug(twin)} if twin else None
        view["html"] = _hidden_case_html(view)
        return view
    spec = _spec_of(assignment, case)
    lecture = spec.lecture if spec is not None else None
    outputs = _outputs_of(assignment, case)
    arrays = case.arrays or ({} if case.passed else _fallback_arrays(case, outputs))
    details = case.details if isinstance(case.details, dict) else {}
    groups = heatmap_groups(arrays, lecture, details) if not case.passed and isinstance(arrays, dict) else []
    if case.passed and lecture is not None:
        chosen = _numeric(_selected_output(case.student, outputs, lecture))
        if chosen is not None and chosen.ndim == 2:
            groups = _passed_lecture_heatmap(case.id, chosen, lecture)
    traceback = details.get("traceback") or []
    traceback = traceback[-20:] if isinstance(traceback, list) else [traceback]
    output = case.output or ""
    if isinstance(output, str) and len(output) > MAX_OUTPUT:
        output = _shown(output, MAX_OUTPUT) + "\n" + t("html_report.output_truncated")
    else:
        output = _shown(output, MAX_OUTPUT)
    values = []
    if not case.passed and not groups and case.student is not None and not (lecture and lecture.vocab):
        values = [(t("html_report.values.yours"), _brief(case.student)),
                  (t("html_report.values.expected"), _brief(case.expected))]
    view.update({
        "message": _shown(case.message or ""), "diagnosis": _shown(case.diagnosis) if case.diagnosis else "",
        "traceback": "\n".join(_shown(line, MAX_TRACEBACK_LINE) for line in traceback),
        "output": output, "details": detail_rows(details), "groups": groups, "values": values,
        "replay": replay(case.id) if not case.passed else "",
        "inputs": _inputs_text(case.inputs) if not case.passed else "",
        "lecture": _lecture_view(case, lecture, outputs) if lecture is not None else None,
    })
    if view["lecture"]:
        if groups and view["lecture"]["numbers"] is None:
            view["lecture"]["yours"] = None      # the heatmap already shows your values
        view["lecture"]["see_heatmaps"] = bool(groups) and not view["lecture"]["yours"]
    return view


def _brief(value) -> str:
    """A value in a few lines (600 characters at most), in time bounded by that, whatever it holds."""
    if isinstance(value, np.ndarray):
        head = t("html_report.values.array", shape=value.shape, dtype=value.dtype)
        if value.dtype.kind in "biuf":
            with np.printoptions(threshold=40, edgeitems=3, precision=4, linewidth=100):
                return head + f"\n{value!r}"
        return head + "\n" + _repr(value, 600)
    return _repr(value, 600)


def exercise_view(exercise: ExerciseResult, assignment: Assignment, replay: Callable[[str], str]) -> dict:
    cases = [case_view(c, assignment, replay) for c in exercise.cases]
    for view, case in zip(cases, exercise.cases):
        # open the failures that say something of their own; a case that only repeats the
        # exercise's problem (import error, rule violation) or "not implemented" stays closed
        message = case.message if isinstance(case.message, str) else ""
        view["open"] = not case.passed and not describe(case.status).repeated and not any(
            message and (message in render(p) or render(p) in message) for p in exercise.problems)
    for view in cases:
        if not view["hidden"] and "html" not in view:
            view["html"] = _passed_case_html(view)
    first_open = next((c for c in cases if c.get("open")), None)
    counts = {}
    for c in exercise.cases:
        counts[c.status] = counts.get(c.status, 0) + 1
    statuses = " · ".join(status_count(status, n) for status, n in sorted(counts.items(), key=lambda kv: order(kv[0])))
    public_failures = [c for c in cases if not c["passed"] and not c["hidden"]]
    return {"name": exercise.name, "title": exercise.title, "score": points_text(exercise.score),
            "max_score": points_text(exercise.max_score), "percent": _percent(exercise.score, exercise.max_score),
            "passed": exercise.passed, "total": len(exercise.cases),
            "problems": [_shown(p) for p in exercise.problems],
            "cases": cases, "first_failing": first_open["anchor"] if first_open else "",
            "public_failures": len(public_failures), "statuses": statuses,
            "collapsed": first_open is None}


def _percent(score, max_score) -> float:
    """score / max_score in percent, between 0 and 100 (a bar's width); 0 when either is no number."""
    score, max_score = as_real(score), as_real(max_score)
    if not (math.isfinite(score) and math.isfinite(max_score)) or max_score <= 0:
        return 0.0
    return round(min(100.0, max(0.0, 100 * score / max_score)), 1)


def status_text(result: Result) -> str:
    """The result's status in words, with the number of cases behind it ("2 cases timed out")."""
    cases = {"timeout": [c for c in result.cases if c.status == "timeout"],
             "violation": [c for c in result.cases if c.status == "violation"],
             "crash": [c for c in result.cases if c.status == "error" and isinstance(c.details, dict)
                       and c.details.get("worker") in ("crash", "rejected")]}.get(result.status)
    words = {"timeout": lambda n: t("html_report.summary.status_text.timeout", count=n),
             "crash": lambda n: t("html_report.summary.status_text.crash", count=n),
             "violation": lambda n: t("html_report.summary.status_text.violation", count=n),
             "invalid": lambda n: t("html_report.summary.status_text.invalid"),
             "error": lambda n: t("html_report.summary.status_text.error")}.get(result.status)
    return words(len(cases or ())) if words else _shown(result.status, QUOTE)


def report_view(result: Result, assignment: Assignment, replay: Callable[[str], str]) -> dict:
    student = result.student if isinstance(result.student, dict) else {}
    return {
        "title": assignment.title, "score": points_text(result.score), "max_score": points_text(result.max_score),
        "percent": _percent(result.score, result.max_score), "seed": _shown(result.seed, QUOTE),
        "source": _shown(source_text(result.source), QUOTE),
        "generated": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip(),
        "submission": _shown(result.submission, QUOTE * 2), "notes": [_shown(n) for n in result.notes],
        "status": result.status, "status_text": status_text(result), "duration": f"{as_real(result.duration):.2f} s",
        "student": " ".join(x for x in (_shown(student.get("name"), QUOTE) if student.get("name") else None,
                                        f"({_shown(student['id'], QUOTE)})" if student.get("id") else None) if x),
        "passed": sum(c.passed for c in result.cases), "total": sum(1 for _ in result.cases),
        "exercises": [exercise_view(e, assignment, replay) for e in result.exercises],
    }


class CompiledTemplates(BytecodeCache):
    """The templates' compiled code in the user's cache (grader/model/usercache.py): compiling
    the report's template costs ~100 ms, loading its code ~1 ms. An entry's key holds the
    template's source checksum, the Python and the Jinja2 versions; its data is the code object
    alone (marshal), read without jinja's own format (which pickles its checksum)."""

    def _key(self, bucket) -> str:
        import jinja2
        return usercache.key("jinja", bucket.key, bucket.checksum, sys.version, jinja2.__version__)

    def load_bytecode(self, bucket):
        data = usercache.read("template", usercache.slot(bucket.key), self._key(bucket))
        if data is not None:
            try:
                code = marshal.loads(data)
            except (EOFError, ValueError, TypeError):
                return
            if isinstance(code, types.CodeType):
                bucket.code = code

    def dump_bytecode(self, bucket):
        if bucket.code is not None:
            usercache.write("template", usercache.slot(bucket.key), self._key(bucket), marshal.dumps(bucket.code))


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """One per process: compiling the template costs ~100 ms (once per machine: then it comes
    from the user's cache), rendering it a few (bulk: per student)."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined, bytecode_cache=CompiledTemplates())
    env.globals["t"] = t        # the template's words come from the catalogs, section html_report
    return env


def preload():
    """Load the report's template now (Jinja2's code, the template's compiled code from the
    cache): `grade` calls it from a thread while it waits for the worker, off the critical path."""
    _environment().get_template("report.html.j2")


def render_html(result: Result, assignment: Assignment, replay: Callable[[str], str]) -> str:
    """The report as one self-contained HTML page, in the current language (grader.i18n)."""
    return _environment().get_template("report.html.j2").render(r=report_view(result, assignment, replay),
                                                                lang=language())


def write_html(result: Result, assignment: Assignment, path: Path, replay: Callable[[str], str]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(result, assignment, replay), encoding="utf-8")
    return path
