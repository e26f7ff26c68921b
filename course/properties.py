"""Property checks of séance 11: what a correct output always satisfies, checked on the
student's own output and the case's inputs only (never the expected value).

`assignment.yaml` names this module (`properties: course.properties`); the engine
(grader/grading/properties.py) runs the check of a failing case's function on what the student
returned and shows its sentence under the case, as `likely:` when no classic mistake matched:
softmax slices sum to 1 along `axis`, attention weights are 0 where the mask (True = may attend)
forbids, a causal mask is the lower triangle with its diagonal, cosines lie in [-1, 1], row 0 of
the positional encoding is [0, 1, 0, 1, …], LayerNorm rows have mean 0 and variance
var / (var + eps) once beta and gamma are undone, next-token probabilities are non-negative and
sum to 1, …

Two checks read more than the output's own invariants. Multi-head attention: the output is
Concat(w_h @ V_h) @ W_o with the student's own weights, so out @ W_o⁻¹ shows which head sits in
which columns, and each head's weights are the softmax of its own scores — any permutation of the
heads is named. Generation (`reference=True`, instructor side only): each new id must be the
course model's most probable next id after the prompt and the ids before it; replaying the
student's own sequence names the loop's slip when exactly one gives the ids (the prompt alone,
the last L ids, the first position's logits, the argmax over every position), else the first id
that is not the most probable, with both probabilities.

Each check is `check(inputs, value) -> str | None`: one short sentence — the most telling
violated property — or None when every property holds or the value is not even of the kind
the contract returns (tuple, list, word): those are explained by `compare`. The engine hands a
check only exact built-in and NumPy values of bounded size and silences its warnings; the
readers below (`as_array`, `as_pair`, …) return None for anything else, so no student-defined
method ever runs here. The sentences are this course's own, in French and in English:
properties.fr.yaml and properties.en.yaml, rendered by `say` in the grading run's language.

Tolerances are loose (about 1e-4 on the property, more where float32 rounding accumulates):
a hint explains a failure the comparison has already found; it is never a verdict.
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

from grader.grading.properties import (
    MAX_ITEMS,
    TOL,
    PropertyChecks,
    as_array,
    as_bool_mask,
    as_int,
    as_pair,
    constant_text,
    number,
    quote,
    shape_text,
    value_range,
)

HERE = Path(__file__).resolve().parent
PROPERTIES = PropertyChecks({"en": HERE / "properties.en.yaml", "fr": HERE / "properties.fr.yaml"})
say = PROPERTIES.say


# --- helpers of several checks --------------------------------------------------------------

def _along(axis: int, ndim: int) -> str:
    """What sums along `axis`, as the `along` field of the softmax.*sums* sentences."""
    if ndim == 1:
        return say("along.values")
    if ndim == 2:
        return say("along.rows", axis=axis) if axis % 2 == 1 else say("along.columns", axis=axis)
    return say("along.slices", axis=axis)


def _sum_tol(n: int) -> float:
    return TOL + 1e-6 * n  # float32 rounding grows with the number of terms


# --- similarity -----------------------------------------------------------------------------

def _batch_shape(inputs):
    a, b = as_array(inputs.get("a")), as_array(inputs.get("b"))
    if a is None or b is None or a.ndim < 1 or b.ndim < 1:
        return None
    try:
        return np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    except ValueError:
        return None


def _one_number_for_a_batch(inputs, y):
    batch = _batch_shape(inputs)
    if batch and y.ndim == 0:
        return say("similarity.one_number_for_batch", count=int(np.prod(batch)), shape=shape_text(batch))
    return None


@PROPERTIES.check("similarity", "dot_product")
def _dot_product(inputs, value):
    y = as_array(value)
    return None if y is None else _one_number_for_a_batch(inputs, y)


@PROPERTIES.check("similarity", "scaled_dot_product")
def _scaled_dot_product(inputs, value):
    y = as_array(value)
    if y is None:
        return None
    hint = _one_number_for_a_batch(inputs, y)
    if hint:
        return hint
    a, b = as_array(inputs.get("a")), as_array(inputs.get("b"))
    if a is None or b is None or a.ndim < 1 or not np.all(np.isfinite(a)) or not np.all(np.isfinite(b)):
        return None
    try:
        dot = np.sum(a * b, axis=-1)
    except ValueError:
        return None
    factor = _constant_factor(y, dot)           # y = dot × factor for one constant?
    d = a.shape[-1]
    if factor is None or abs(factor * math.sqrt(d) - 1) <= 1e-6:
        return None
    if abs(factor - math.sqrt(d)) <= 1e-6 * math.sqrt(d):
        return say("scaled.multiplied", d=d)
    return say("scaled.divided_by", divisor=constant_text(1 / factor) if factor else "0", d=d)


def _constant_factor(y, base):
    """c when y = c · base element by element (within 1e-6 of the largest), else None."""
    if y.shape != np.shape(base) or not np.all(np.isfinite(y)):
        return None
    base = np.asarray(base, dtype=np.float64)
    bb = float(np.sum(base * base))
    if bb == 0 or not math.isfinite(bb):
        return None
    c = float(np.sum(y * base)) / bb
    scale = max(1e-12, float(np.max(np.abs(base))) * max(1.0, abs(c)))
    return c if float(np.max(np.abs(y - c * base))) <= 1e-6 * scale else None


def _norms_zero(x):
    return x is not None and x.ndim >= 1 and bool(np.any(np.linalg.norm(x, axis=-1) == 0))


@PROPERTIES.check("similarity", "cosine_similarity")
def _cosine_similarity(inputs, value):
    y = as_array(value)
    if y is None:
        return None
    hint = _one_number_for_a_batch(inputs, y)
    if hint:
        return hint
    a, b = as_array(inputs.get("a")), as_array(inputs.get("b"))
    finite_inputs = all(v is None or np.all(np.isfinite(v)) for v in (a, b))
    bad = ~np.isfinite(y)
    if finite_inputs and np.any(bad):
        if _norms_zero(a) or _norms_zero(b):
            return say("similarity.nan_zero_vector", count=int(bad.sum()))
        return say("similarity.nan_finite_inputs", count=int(bad.sum()))
    finite = y[np.isfinite(y)]
    if finite.size and np.max(np.abs(finite)) > 1 + TOL:
        worst = finite[np.argmax(np.abs(finite))]
        return say("similarity.out_of_range", worst=number(worst))
    return None


@PROPERTIES.check("similarity", "cosine_similarity_matrix")
def _cosine_similarity_matrix(inputs, value):
    y = as_array(value)
    A = as_array(inputs.get("A"))
    B = inputs.get("B")
    B = None if B is None else as_array(B)
    if y is None or A is None or A.ndim != 2 or y.ndim != 2:
        return None
    other = A if B is None else B
    if other is None or other.ndim != 2 or y.shape != (A.shape[0], other.shape[0]):
        return None
    bad = ~np.isfinite(y)
    if np.all(np.isfinite(A)) and np.all(np.isfinite(other)) and np.any(bad):
        if _norms_zero(A) or _norms_zero(other):
            return say("similarity.matrix_nan_zero_row", count=int(bad.sum()))
        return say("similarity.matrix_nan_finite_inputs", count=int(bad.sum()))
    finite = y[np.isfinite(y)]
    if finite.size and np.max(np.abs(finite)) > 1 + TOL:
        worst = finite[np.argmax(np.abs(finite))]
        return say("similarity.matrix_out_of_range", worst=number(worst))
    same = B is None or (B.shape == A.shape and np.array_equal(A, B))
    if same and y.shape[0] == y.shape[1] and np.all(np.isfinite(y)):
        asym = np.abs(y - y.T)
        if np.max(asym, initial=0.0) > TOL:
            i, j = np.unravel_index(int(np.argmax(asym)), asym.shape)
            return say("similarity.matrix_not_symmetric", i=int(i), j=int(j), s_ij=number(y[i, j]),
                     s_ji=number(y[j, i]))
        nonzero = np.linalg.norm(A, axis=-1) > 1e-6
        diagonal = np.diagonal(y)[nonzero]
        if diagonal.size and np.max(np.abs(diagonal - 1)) > TOL:
            return say("similarity.matrix_diagonal", diagonal=value_range(diagonal, 1.0))
    return None


# --- softmax --------------------------------------------------------------------------------

@PROPERTIES.check("softmax", "softmax")
def _softmax(inputs, value):
    y = as_array(value)
    x = as_array(inputs.get("x"))
    axis = inputs.get("axis", -1)
    axis = as_int(axis)
    if y is None or y.ndim == 0 or axis is None or not -y.ndim <= axis < y.ndim:
        return None
    if x is not None and x.shape != y.shape:
        return None
    ax = axis % y.ndim
    # slices the contract says must come out finite: no NaN nor +inf, at least one finite entry
    if x is not None:
        good = np.all(np.isfinite(x) | (x == -np.inf), axis=ax, keepdims=True) & \
            np.any(np.isfinite(x), axis=ax, keepdims=True)
    else:
        good = np.ones([1 if k == ax else n for k, n in enumerate(y.shape)], dtype=bool)
    bad = ~np.isfinite(y) & good
    if np.any(bad):
        k = _normalised_along(y, x, ax)
        if k is not None:
            shown = k if axis >= 0 else k - y.ndim
            return say("softmax.wrong_axis_nan", shown=shown, axis=axis)
        big = float(np.max(np.abs(x[np.isfinite(x)]), initial=0.0)) if x is not None else 0.0
        if big > 80:  # e^x overflows float32 past 88, float64 past 709
            return say("softmax.overflow", count=int(bad.sum()), big=number(big))
        return say("softmax.nan_with_finite_entry", count=int(bad.sum()))
    ok = good & np.all(np.isfinite(y), axis=ax, keepdims=True)   # slices to check
    if not np.any(ok):
        return None
    okb = np.broadcast_to(ok, y.shape)
    checked = y[okb]
    negative = float(np.min(checked)) < -TOL
    sums = np.sum(y, axis=ax, keepdims=True)[ok]
    tol = _sum_tol(y.shape[ax])
    if np.max(np.abs(sums - 1)) > tol:
        if x is not None and _no_keepdims(x, y, ax):
            return say("softmax.no_keepdims", along=_along(axis, y.ndim), sums=value_range(sums, 1.0))
        if np.all(ok):
            k = _normalised_along(y, x, ax)
            if k is not None:
                shown = k if axis >= 0 else k - y.ndim
                return say("softmax.wrong_axis_sums", shown=shown, axis=axis, along=_along(axis, y.ndim),
                         sums=value_range(sums, 1.0))
            if y.size > y.shape[ax] and abs(float(np.sum(y)) - 1) <= _sum_tol(y.size):
                return say("softmax.whole_array", axis=axis)
        if x is not None and np.all(ok) and np.all(np.isfinite(x)) and not negative:
            # e^(x - max) over the sum of the unshifted e^x: every slice sums to e^-max
            shift = np.exp(-np.max(x, axis=ax, keepdims=True))
            if np.all(np.isfinite(shift)) and np.max(np.abs(np.sum(y, axis=ax, keepdims=True) - shift)) <= \
                    _sum_tol(y.shape[ax]) * max(1.0, float(np.max(shift))):
                return say("softmax.unshifted_sum", along=_along(axis, y.ndim), sums=value_range(sums, 1.0))
        if negative:
            return say("softmax.sums_and_negative", along=_along(axis, y.ndim), sums=value_range(sums, 1.0),
                     lowest=number(np.min(checked)))
        return say("softmax.sums", along=_along(axis, y.ndim), sums=value_range(sums, 1.0))
    if negative:
        return say("softmax.negative", lowest=number(np.min(checked)))
    if float(np.max(checked)) > 1 + TOL:
        return say("softmax.above_one", highest=number(np.max(checked)))
    return None


def _no_keepdims(x, y, ax) -> bool:
    """Is `y` e / np.sum(e, axis) without keepdims (the sums lined up with the wrong axis)?"""
    if not np.all(np.isfinite(x)):
        return False
    e = np.exp(x - np.max(x, axis=ax, keepdims=True))
    try:
        wrong = e / np.sum(e, axis=ax)
    except ValueError:
        return False
    return wrong.shape == y.shape and bool(np.all(np.abs(wrong - y) <= 1e-6 * np.maximum(1.0, np.abs(wrong))))


def _normalised_along(y, x, ax):
    """The other axis k along which `y` is a softmax (slices summing to 1; a slice of x with no
    finite entry along k may be NaN), or None."""
    for k in range(y.ndim):
        if k == ax or y.shape[k] < 2:
            continue
        sums = np.sum(y, axis=k)
        ok = np.abs(sums - 1) <= _sum_tol(y.shape[k])
        if x is not None:
            dead = ~np.any(np.isfinite(x), axis=k)
            if np.all(dead):
                continue
            ok |= dead & np.all(~np.isfinite(y), axis=k)
        if np.all(ok):
            return k
    return None


# --- embeddings -----------------------------------------------------------------------------

@PROPERTIES.check("embeddings", "one_hot")
def _one_hot(inputs, value):
    y = as_array(value, "biuf")
    ids = inputs.get("ids")
    ids = as_array(ids, "iu") if type(ids) is np.ndarray else None
    V = as_int(inputs.get("vocab_size"))
    if y is None or y.ndim != 2 or (V is not None and y.shape[1] != V):
        return None
    if ids is not None and (ids.shape != y.shape[:1] or np.any(ids < 0) or np.any(ids >= y.shape[1])):
        return None  # wrong length is a shape problem; an id out of range must raise (compare says so)
    if not np.all(np.isfinite(y)):
        return say("one_hot.nan")
    odd = (y != 0) & (y != 1)
    if np.any(odd):
        i, j = np.argwhere(odd)[0]
        return say("one_hot.not_binary", value=number(y[i, j]), i=int(i), j=int(j))
    ones = np.sum(y == 1, axis=1)
    if np.any(ones != 1):
        k = int(np.argmax(ones != 1))
        return say("one_hot.ones_per_row", row=k, count=int(ones[k]))
    if ids is not None:
        where = np.argmax(y, axis=1)
        wrong = where != ids
        if np.any(wrong):
            k = int(np.argmax(wrong))
            shift = np.unique(where - ids)
            if shift.size == 1:
                return say("one_hot.shifted", row=k, column=int(where[k]), id=int(ids[k]), count=int(shift[0]))
            return say("one_hot.wrong_column", row=k, column=int(where[k]), id=int(ids[k]))
    return None


@PROPERTIES.check("embeddings", "skipgram_pairs")
def _skipgram_pairs(inputs, value):
    if type(value) not in (list, tuple) or len(value) > MAX_ITEMS:
        return None
    pairs = []
    for item in value:
        if type(item) not in (list, tuple) or len(item) != 2 or type(item[0]) is not str or type(item[1]) is not str:
            return None
        pairs.append((item[0], item[1]))
    tokens = inputs.get("tokens")
    if type(tokens) in (list, tuple) and all(type(token) is str for token in tokens):
        words = set(tokens)
        stray = [p for p in pairs if p[0] not in words or p[1] not in words]
        if stray:
            return say("skipgram.stray_word", pair=quote(stray[0]))
    counts = Counter(pairs)
    for (center, context), n in counts.items():
        back = counts.get((context, center), 0)
        if back != n:
            return say("skipgram.not_symmetric", center=quote(center), context=quote(context), n=n, back=back)
    window = as_int(inputs.get("window", 2))
    if type(tokens) in (list, tuple) and window is not None and window >= 0:
        n = len(tokens)   # the centers, in order: tokens[i] once per neighbour of i within the window
        centers = []
        for i, token in enumerate(tokens):
            centers += [token] * (min(n - 1, i + window) - max(0, i - window))
        if len(centers) == len(pairs) and [p[0] for p in pairs] != centers and [p[1] for p in pairs] == centers:
            return say("skipgram.context_first")
    return None


@PROPERTIES.check("embeddings", "embed")
def _embed(inputs, value):
    if type(value) in (list, tuple) and value and all(type(v) is np.ndarray for v in value):
        return say("embed.list_of_rows", count=len(value))
    return None


@PROPERTIES.check("embeddings", "analogy")
def _analogy(inputs, value):
    if type(value) is not str:
        return None
    asked = [inputs.get(k) for k in ("a", "b", "c")]
    if value in [w for w in asked if type(w) is str]:
        return say("analogy.question_word", word=quote(value))
    words = inputs.get("words")
    if type(words) in (list, tuple) and all(type(w) is str for w in words) and value not in words:
        return say("analogy.not_in_words", word=quote(value))
    return None


# --- attention ------------------------------------------------------------------------------

def _is_causal(mask) -> bool:
    return mask.ndim == 2 and np.array_equal(mask, np.tril(np.ones(mask.shape, dtype=bool)))


def _weights_hint(w, mask=None, per_head=False, fix="", causal=False):
    """Attention weights: 0 where the mask is False, finite, rows (last axis) summing to 1,
    values in [0, 1]. `mask` is already broadcast to w's shape (or None); `per_head`: the
    weights of each head (multi-head attention); `fix`: the advice ending a sum or range
    sentence, when not the default one."""
    if w.ndim < 2 or w.size == 0:
        return None
    # "the weights" as a subject, and as a complement ("each column of the weights")
    what = say("weights.what_per_head") if per_head else say("weights.what")
    of_what = say("weights.of_what_per_head") if per_head else say("weights.of_what")
    if mask is None:
        mask = np.ones(w.shape, dtype=bool)
    live = np.any(mask, axis=-1, keepdims=True)          # rows that may attend somewhere
    finite = np.isfinite(w)
    leak = ~mask & finite & (np.abs(w) > TOL)
    if np.any(leak):
        allowed = mask & live
        inverted = bool(np.any(allowed)) and bool(np.all(~finite[allowed] | (np.abs(w[allowed]) <= TOL)))
        ignored = not inverted and bool(np.all(leak | mask))    # every forbidden pair got a weight
        how = say("weights.how.inverted") if inverted else say("weights.how.ignored") if ignored \
            else say("weights.how.ignored_or_inverted")
        biggest = number(np.max(np.abs(w[leak])))
        if causal:
            if inverted:
                return say("weights.causal_inverted", what=what, biggest=biggest)
            return say("weights.causal_leak", what=what, biggest=biggest, how=how)
        if inverted:
            return say("weights.mask_inverted", what=what, biggest=biggest)
        return say("weights.mask_leak", count=int(leak.sum()), of_what=of_what, biggest=biggest, how=how)
    rows_ok = live & np.all(finite, axis=-1, keepdims=True)
    cols_ok = np.any(mask, axis=-2, keepdims=True) & np.all(finite, axis=-2, keepdims=True)
    row_sums = np.sum(w, axis=-1, keepdims=True)[rows_ok]
    rows_bad = bool(row_sums.size) and np.max(np.abs(row_sums - 1)) > _sum_tol(w.shape[-1])
    if (rows_bad or not row_sums.size) and w.shape[-2] >= 2:
        col_sums = np.sum(w, axis=-2, keepdims=True)[cols_ok]
        if col_sums.size and np.max(np.abs(col_sums - 1)) <= _sum_tol(w.shape[-2]) and \
                (rows_bad or np.any(~finite)):
            return say("weights.columns_sum", of_what=of_what)
    if rows_bad and mask is not None and not np.all(mask) and np.all(finite):
        # the mask applied after the softmax: zeros where it forbids, rows short of 1 exactly there
        full = np.all(mask, axis=-1, keepdims=True) & rows_ok
        short = np.sum(w, axis=-1, keepdims=True)
        masked_rows = rows_ok & ~np.all(mask, axis=-1, keepdims=True)
        if np.any(masked_rows) and np.max(short[masked_rows]) <= 1 + _sum_tol(w.shape[-1]) \
                and np.min(short[masked_rows]) < 1 - _sum_tol(w.shape[-1]) \
                and (not np.any(full) or np.max(np.abs(short[full] - 1)) <= _sum_tol(w.shape[-1])):
            return say("weights.mask_after_softmax", of_what=of_what, sums=value_range(short[masked_rows], 1.0))
    if rows_bad and w.ndim > 2 and np.all(finite):
        k = _normalised_along(w, None, w.ndim - 1)
        if k is not None:
            return say("weights.wrong_axis", what=what, axis=k - w.ndim)
    bad = ~finite & live
    if np.any(bad):
        return say("weights.nan", what=what, count=int(bad.sum()))
    if rows_bad:
        values = w[np.broadcast_to(rows_ok, w.shape)]
        fix = fix or say("weights.fix.last_axis")
        if values.size and float(np.min(values)) < -TOL:
            return say("weights.rows_sum_and_negative", of_what=of_what, sums=value_range(row_sums, 1.0),
                     lowest=number(np.min(values)), fix=fix)
        return say("weights.rows_sum", of_what=of_what, sums=value_range(row_sums, 1.0), fix=fix)
    values = w[np.broadcast_to(live, w.shape) & finite]
    if values.size and float(np.min(values)) < -TOL:
        return say("weights.below_zero", what=what, lowest=number(np.min(values)),
                 fix=fix or say("weights.fix.softmax"))
    if values.size and float(np.max(values)) > 1 + TOL:
        return say("weights.above_one", what=what, highest=number(np.max(values)),
                 fix=fix or say("weights.fix.softmax"))
    return None


def _broadcast_mask(raw, shape, heads=False):
    """(mask broadcast to `shape`, whether it is the causal mask) or (None, False)."""
    if raw is None:
        return None, False
    mask = as_bool_mask(raw)
    if mask is None or mask.ndim < 2:
        return None, False
    causal = _is_causal(mask)
    if heads:
        mask = mask[..., np.newaxis, :, :]  # one mask for every head
    try:
        return np.broadcast_to(mask, shape), causal
    except ValueError:
        return None, False


@PROPERTIES.check("attention", "attention_weights")
def _attention_weights(inputs, value):
    w = as_array(value)
    Q, K = as_array(inputs.get("Q")), as_array(inputs.get("K"))
    if w is None or w.ndim < 2:
        return None
    if Q is not None and K is not None and Q.ndim >= 2 and K.ndim >= 2 and w.shape[-2:] != (Q.shape[-2], K.shape[-2]):
        return _weights_shape_hint(w.shape, Q.shape[-2], K.shape[-2])
    mask, causal = _broadcast_mask(inputs.get("mask"), w.shape)
    return _weights_hint(w, mask, causal=causal) or _scale_hint(w, Q, K, mask)


def _scores(Q, K):
    try:
        return Q @ np.swapaxes(K, -1, -2)
    except ValueError:
        return None


def _scale_hint(w, Q, K, mask, d_k=None):
    """Weights that are a softmax of the scores Q Kᵀ times a constant c other than 1/√d_k: say c.
    Fitted on the log-weights of the pairs the mask allows (a softmax is e^(c·s) up to one
    constant per row)."""
    if Q is None or K is None or Q.ndim < 2 or K.ndim < 2:
        return None
    s = _scores(Q, K)
    if s is None or not np.all(np.isfinite(s)):
        return None
    try:
        s = np.broadcast_to(s, w.shape)
    except ValueError:
        return None
    allowed = np.ones(w.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if not np.all(np.isfinite(w)) or np.any(w[allowed] <= 1e-12) or np.any(np.abs(w[~allowed]) > TOL):
        return None
    n = np.sum(allowed, axis=-1, keepdims=True)
    if not np.any(n >= 2):
        return None
    logw = np.where(allowed, np.log(np.where(allowed, w, 1.0)), 0.0)
    centred_l = np.where(allowed, logw - np.sum(logw, axis=-1, keepdims=True) / np.maximum(n, 1), 0.0)
    centred_s = np.where(allowed, s - np.sum(np.where(allowed, s, 0.0), axis=-1, keepdims=True) / np.maximum(n, 1), 0.0)
    ss = float(np.sum(centred_s * centred_s))
    if ss <= 1e-12:
        return None
    c = float(np.sum(centred_l * centred_s)) / ss
    spread = float(np.max(np.abs(centred_s)))
    if not math.isfinite(c) or float(np.max(np.abs(centred_l - c * centred_s))) > 1e-4 * max(1.0, abs(c) * spread):
        return None
    d_k = Q.shape[-1] if d_k is None else d_k
    if abs(c * math.sqrt(d_k) - 1) <= 1e-3:
        return None
    if abs(c) <= 1e-9:
        return say("scale.none_of_the_scores", d_k=d_k)
    if abs(c - 1) <= 1e-3:
        return say("scale.not_scaled", d_k=d_k, sqrt=number(math.sqrt(d_k)))
    return say("scale.divided_by", divisor=constant_text(1 / c), d_k=d_k, sqrt=number(math.sqrt(d_k)))


def _weights_shape_hint(shape, n_q, n_k):
    if shape[-2:] == (n_k, n_q):
        return say("weights.transposed", shape=shape_text(shape), n_q=n_q, n_k=n_k)
    return say("weights.shape", n_q=n_q, n_k=n_k)


def _values_hint(out, w, V, name="V"):
    """The output must be weights @ V (on the student's own weights)."""
    try:
        mixed = w @ V
    except ValueError:
        return None
    if mixed.shape != out.shape or not np.all(np.isfinite(mixed)) or not np.all(np.isfinite(out)):
        return None
    scale = max(1.0, float(np.max(np.abs(mixed), initial=0.0)))
    gap = float(np.max(np.abs(out - mixed), initial=0.0))
    if gap > 1e-3 * scale:
        return say("attention.output_not_weights_at_values", name=name, gap=number(gap))
    return None


@PROPERTIES.check("attention", "similarity_attention")
def _similarity_attention(inputs, value):
    pair = as_pair(value)
    E = as_array(inputs.get("E"))
    if pair is None or E is None or E.ndim != 2:
        return None
    out, w = pair
    n, d = E.shape
    if w.shape != (n, n) or out.shape != (n, d):
        if out.shape == (n, n) and w.shape == (n, d):
            return say("attention.wrong_order")
        return None
    return _weights_hint(w, None, fix=say("weights.fix.cosine")) or _values_hint(out, w, E, "E")


@PROPERTIES.check("attention", "scaled_dot_product_attention")
def _scaled_dot_product_attention(inputs, value):
    pair = as_pair(value)
    Q, K, V = (as_array(inputs.get(k)) for k in ("Q", "K", "V"))
    if pair is None or Q is None or K is None or V is None or min(Q.ndim, K.ndim, V.ndim) < 2:
        return None
    out, w = pair
    n_q, n_k, d_k, d_v = Q.shape[-2], K.shape[-2], Q.shape[-1], V.shape[-1]
    if out.ndim < 2 or w.ndim < 2:
        return None
    if w.shape[-2:] != (n_q, n_k):
        if out.shape[-2:] == (n_q, n_k) and w.shape[-2:] == (n_q, d_v):
            return say("attention.wrong_order")
        return _weights_shape_hint(w.shape, n_q, n_k)
    if out.shape[-2:] != (n_q, d_v):
        if out.shape[-1] == d_k and d_k != d_v:
            return say("attention.output_d_k", d_k=d_k, d_v=d_v)
        return say("attention.output_shape", n_q=n_q, d_v=d_v)
    mask, causal = _broadcast_mask(inputs.get("mask"), w.shape)
    return _weights_hint(w, mask, causal=causal) or _values_hint(out, w, V) or _scale_hint(w, Q, K, mask)


@PROPERTIES.check("attention", "causal_mask")
def _causal_mask(inputs, value):
    y = as_array(value, "biuf")
    n_q = as_int(inputs.get("n_q"))
    n_k = inputs.get("n_k")
    n_k = n_q if n_k is None else as_int(n_k)
    if y is None or y.ndim != 2 or n_q is None or n_k is None or y.shape != (n_q, n_k):
        return None
    if not np.all((y == 0) | (y == 1)):
        return None  # not a mask at all: compare explains the dtype and values
    b = y != 0
    i, j = np.indices(b.shape)
    want = j <= i
    if np.array_equal(b, want):
        return None  # right pattern: any remaining failure is the dtype (bool), which compare explains
    below, diag, above = j < i, j == i, j > i
    if b.all():
        return say("causal_mask.all_true")
    if not b.any():
        return say("causal_mask.all_false")
    if np.array_equal(b, below):
        return say("causal_mask.no_diagonal")
    if np.array_equal(b, above | diag):
        return say("causal_mask.upper_triangle")
    if np.array_equal(b, above):
        return say("causal_mask.inverted")
    counts = b.sum(axis=1)
    partial = np.flatnonzero((counts > 0) & (counts < n_k))
    if partial.size:                     # np.tril(…, k): row r holds r + k + 1 Trues (clipped)
        k = int(counts[partial[0]]) - int(partial[0]) - 1
        if k not in (0, -1) and np.array_equal(b, j <= i + k):
            return say("causal_mask.shifted_diagonal", k=k)
    wrong = np.argwhere(b != want)[0]
    return say("causal_mask.first_wrong", i=int(wrong[0]), j=int(wrong[1]))


@PROPERTIES.check("attention", "multi_head_attention")
def _multi_head_attention(inputs, value):
    pair = as_pair(value)
    X = as_array(inputs.get("X"))
    h = as_int(inputs.get("n_heads"))
    if pair is None or X is None or X.ndim < 2 or h is None or h < 1:
        return None
    out, w = pair
    n = X.shape[-2]
    want_w = X.shape[:-2] + (h, n, n)
    if w.shape != want_w:
        if w.shape == X.shape[:-2] + (n, n):
            return say("multi_head.one_matrix_per_head", want=shape_text(want_w), got=shape_text(w.shape))
        if w.ndim >= 3 and w.shape[-2:] == (n, n) and w.shape[-3] != h:
            return say("multi_head.head_count", count=int(w.shape[-3]), n_heads=h)
        return None
    if out.shape != X.shape:
        return say("multi_head.output_shape", want=shape_text(X.shape), got=shape_text(out.shape))
    mask, causal = _broadcast_mask(inputs.get("mask"), w.shape, heads=True)
    hint = _weights_hint(w, mask, per_head=True, causal=causal)
    if hint or X.shape[-1] % h:
        return hint
    heads = []
    for name in ("W_q", "W_k", "W_v"):
        W = as_array(inputs.get(name))
        if W is None or W.ndim != 2 or W.shape != (X.shape[-1], X.shape[-1]):
            return None
        heads.append(_split_heads(X @ W, h))   # head h: columns h·d_k…
    d_k = X.shape[-1] // h
    return _scale_hint(w, heads[0], heads[1], mask, d_k) \
        or _weights_head_order(w, heads[0], heads[1], mask, d_k) \
        or _output_head_order(out, w, heads[2], as_array(inputs.get("W_o")))


def _split_heads(P, h):
    """(..., n, d_model) -> (..., h, n, d_k): head k takes columns k·d_k:(k+1)·d_k."""
    return np.swapaxes(P.reshape(*P.shape[:-1], h, P.shape[-1] // h), -2, -3)


def _order_text(order) -> str:
    return ", ".join(str(k) for k in order)


def _permutation(matches, h):
    """The order [j for each place k] when place k matches exactly one head j and every head is
    used once, and it is not 0, 1, …; else None."""
    order = []
    for k in range(h):
        js = [j for j in range(h) if matches(k, j)]
        if len(js) != 1:
            return None
        order.append(js[0])
    return order if sorted(order) == list(range(h)) and order != list(range(h)) else None


def _weights_head_order(w, Q, K, mask, d_k):
    """The weights of each head are the softmax of its own scores Q_h K_hᵀ / √d_k: when the
    weights at place k are those of head j ≠ k, the heads are stacked in another order."""
    h = w.shape[-3]
    if Q.shape[-3] != h or not np.all(np.isfinite(w)) or np.any(w < 0):
        return None
    s = _scores(Q, K)
    if s is None:
        return None
    s = s / math.sqrt(d_k)
    allowed = np.ones(w.shape, dtype=bool) if mask is None else np.broadcast_to(mask, w.shape)

    def matches(k, j):
        wk, sj, ok = w[..., k, :, :], np.broadcast_to(s[..., j, :, :], w[..., k, :, :].shape), allowed[..., k, :, :]
        if np.any(np.abs(wk[~ok]) > TOL) or np.any(wk[ok] <= 1e-12):
            return False
        gap = np.where(ok, np.log(np.where(ok, wk, 1.0)) - sj, 0.0)   # log-softmax minus the scores: a constant per row
        n = np.maximum(np.sum(ok, axis=-1, keepdims=True), 1)
        mean = np.sum(gap, axis=-1, keepdims=True) / n
        return bool(np.max(np.abs(np.where(ok, gap - mean, 0.0)), initial=0.0) <= 1e-4)

    order = _permutation(matches, h)
    return say("multi_head.weights_head_order", order=_order_text(order)) if order else None


def _output_head_order(out, w, V, W_o):
    """The output is Concat(w_0 @ V_0, …, w_{h-1} @ V_{h-1}) @ W_o, with the student's own
    weights: when the columns k·d_k:(k+1)·d_k of out @ W_o⁻¹ hold head j ≠ k, the heads were
    concatenated in another order."""
    h = w.shape[-3]
    d = out.shape[-1]
    if W_o is None or W_o.shape != (d, d) or d % h or not np.all(np.isfinite(out)) or not np.all(np.isfinite(w)):
        return None
    if np.linalg.cond(W_o) > 1e8:
        return None
    d_k = d // h
    try:
        heads = w @ V                                        # (..., h, n, d_k), the student's own weights
        concat = np.linalg.solve(W_o.T, np.swapaxes(out, -1, -2))
        concat = np.swapaxes(concat, -1, -2)                 # out @ W_o⁻¹
    except (ValueError, np.linalg.LinAlgError):
        return None
    scale = max(1.0, float(np.max(np.abs(heads))))

    def matches(k, j):
        block = concat[..., k * d_k:(k + 1) * d_k]
        return block.shape == heads[..., j, :, :].shape and \
            bool(np.max(np.abs(block - heads[..., j, :, :])) <= 1e-6 * scale)

    order = _permutation(matches, h)
    return say("multi_head.head_order", order=_order_text(order)) if order else None


# --- positional -----------------------------------------------------------------------------

@PROPERTIES.check("positional", "positional_encoding")
def _positional_encoding(inputs, value):
    y = as_array(value)
    n = as_int(inputs.get("n_positions"))
    d = as_int(inputs.get("d_model"))
    if y is None or y.ndim != 2 or n is None or d is None or y.shape != (n, d) or n < 1 or d < 1:
        return None
    if not np.all(np.isfinite(y)):
        return say("positional.nan", count=int(np.sum(~np.isfinite(y))))
    top = float(np.max(np.abs(y)))
    if top > 1 + TOL:
        return say("positional.out_of_range", top=number(top))
    row0 = y[0]
    want = np.zeros(d)
    want[1::2] = 1.0
    if np.max(np.abs(row0 - want)) > TOL:
        start = ", ".join(number(v) for v in row0[:4]) + (", …" if d > 4 else "")
        swapped = np.zeros(d)
        swapped[0::2] = 1.0
        if d >= 2 and np.max(np.abs(row0 - swapped[:d])) <= TOL:
            return say("positional.swapped")
        half = np.concatenate([np.zeros((d + 1) // 2), np.ones(d // 2)])
        if d >= 4 and np.max(np.abs(row0 - half)) <= TOL:
            return say("positional.halves")
        if d >= 2 and abs(row0[0] - math.sin(1.0)) <= TOL and abs(row0[1] - math.cos(1.0)) <= TOL:
            return say("positional.starts_at_one", start=start)
        return say("positional.row_zero", start=start)
    if d >= 2:
        pairs = y[:, 0:2 * (d // 2):2] ** 2 + y[:, 1:2 * (d // 2):2] ** 2
        off = np.abs(pairs - 1)
        if np.max(off) > 1e-3:
            p, i = np.unravel_index(int(np.argmax(off)), off.shape)
            return say("positional.not_a_pair", even=2 * int(i), odd=2 * int(i) + 1, position=int(p),
                     value=number(pairs[p, i]))
    base = inputs.get("base", 10000.0)
    base = float(base) if type(base) in (int, float) else None
    if n >= 2 and d >= 2 and base is not None and base > 1:
        return _frequency_hint(y, n, d, base)
    return None


def _frequency_hint(y, n, d, base):
    """Each column pair (2i, 2i+1) holds sin and cos of p·ω_i: read ω_i at position 1, check it
    holds at every position, and compare it with the formula's 1/base^(2i/d_model)."""
    m = d // 2
    omega = np.arctan2(y[1, 0:2 * m:2], y[1, 1:2 * m:2])          # ω_i modulo 2π
    p = np.arange(n)[:, None]
    if np.max(np.abs(np.sin(p * omega) - y[:, 0:2 * m:2])) > 1e-3 or \
            np.max(np.abs(np.cos(p * omega) - y[:, 1:2 * m:2])) > 1e-3:
        return None                                                 # not one angle per pair: no reading
    two_i = np.arange(0, 2 * m, 2)
    want = 1.0 / base ** (two_i / d)
    wrapped = np.angle(np.exp(1j * (omega - want)))
    if np.max(np.abs(wrapped)) <= 1e-4:
        return None
    k = int(np.argmax(np.abs(wrapped) > 1e-4))                      # the first pair that turns wrong
    grows = np.abs(np.angle(np.exp(1j * (omega - np.angle(np.exp(1j * base ** (two_i / d))))))) <= 1e-4
    if m >= 2 and np.all(grows):
        return say("positional.multiplied")
    ratio = omega / want
    if m >= 2 and np.ptp(ratio) <= 1e-4 * np.max(np.abs(ratio)) and abs(ratio[0] - 1) > 1e-3 and ratio[0] > 0:
        return say("positional.scaled_positions", ratio=constant_text(float(ratio[0])))   # p·r for p: np.linspace
    low = (omega > 1e-9) & (omega < 3.0) & (two_i > 0)
    if np.count_nonzero(low) >= 2:
        exponent = -np.log(omega[low]) / math.log(base)           # your base**(-exponent), per pair
        denominator = two_i[low] / exponent                         # 2i / exponent: d_model, if right
        D = float(np.mean(denominator))
        ratio = exponent / (two_i[low] / d)
        constant = np.ptp(ratio) <= 1e-3 * np.max(np.abs(ratio))
        if constant and base != 10000.0 and abs(base ** ratio[0] / 10000.0 - 1) <= 1e-3:
            return say("positional.default_base", base=number(base))   # 10000 where `base` was given
        if np.ptp(denominator) <= 1e-3 * abs(D) and abs(D - round(D)) <= 1e-3 * abs(D):
            return say("positional.denominator", denominator=int(round(D)), d=d)
        if constant:
            return say("positional.other_base", got=number(base ** ratio[0]), base=number(base))
    return say("positional.frequency", even=2 * k, odd=2 * k + 1, got=number(omega[k]), want=number(want[k]))


# --- transformer ----------------------------------------------------------------------------

@PROPERTIES.check("transformer", "layer_norm")
def _layer_norm(inputs, value):
    y = as_array(value)
    x = as_array(inputs.get("x"))
    gamma, beta = as_array(inputs.get("gamma")), as_array(inputs.get("beta"))
    eps = inputs.get("eps", 1e-5)
    eps = float(eps) if type(eps) in (int, float) or (isinstance(eps, np.floating) and type(eps).__module__ == "numpy") \
        else None
    if y is None or x is None or gamma is None or beta is None or eps is None or eps < 0:
        return None
    if y.shape != x.shape or x.ndim < 1 or x.shape[-1] < 2 or not np.all(np.isfinite(x)):
        return None
    d = x.shape[-1]
    try:
        gamma, beta = np.broadcast_to(gamma, (d,)), np.broadcast_to(beta, (d,))
    except ValueError:
        return None
    if np.min(np.abs(gamma)) < 1e-3 or not np.all(np.isfinite(gamma)) or not np.all(np.isfinite(beta)):
        return None  # (y - beta) / gamma would magnify rounding: no reliable hint
    if not np.all(np.isfinite(y)):
        return say("layer_norm.nan", count=int(np.sum(~np.isfinite(y))))
    who = say("layer_norm.each_row") if np.all(gamma == 1) and np.all(beta == 0) \
        else say("layer_norm.each_row_undone")
    z = (y - beta) / gamma
    var_x = np.var(x, axis=-1)
    spread = var_x > 1e-12 * np.maximum(1.0, np.mean(x, axis=-1) ** 2)   # a constant row has no variance
    if not np.any(spread):
        return None
    target = var_x / (var_x + eps)                                      # the variance the contract gives
    mean_z, var_z = np.mean(z, axis=-1)[spread], np.var(z, axis=-1)[spread]
    if np.max(np.abs(mean_z)) > 1e-3:
        worst = number(mean_z[np.argmax(np.abs(mean_z))])
        if x.ndim >= 2 and x.shape[-2] >= 2 and np.max(np.abs(np.mean(z, axis=-2))) <= 1e-3:
            return say("layer_norm.mean_over_columns", who=who, worst=worst)
        return say("layer_norm.mean", who=who, worst=worst)
    target_t = target[spread]
    vx = var_x[spread]
    if np.max(np.abs(var_z / target_t - 1)) > 2e-3:
        shown = value_range(var_z, 1.0)
        unit = np.max(np.abs(target_t - 1)) < 1e-3
        want = "1" if unit else say("layer_norm.target_variance", target=value_range(target_t))
        unbiased = vx / (vx * d / (d - 1) + eps)
        if np.max(np.abs(var_z / unbiased - 1)) <= 2e-3:
            if unit:
                return say("layer_norm.unbiased_unit", who=who, shown=shown)
            return say("layer_norm.unbiased", who=who, want=want, shown=shown, ratio=number((d - 1) / d))
        outside = vx / (np.sqrt(vx) + eps) ** 2
        if np.max(np.abs(var_z / outside - 1)) <= 2e-3 or np.max(np.abs(var_z - 1)) <= 2e-3:
            return say("layer_norm.eps_outside_root", who=who, target=value_range(target_t), eps=number(eps),
                       shown=shown)
        return say("layer_norm.variance", who=who, want=want, shown=shown)
    return None


@PROPERTIES.check("transformer", "gelu")
def _gelu(inputs, value):
    y = as_array(value)
    x = as_array(inputs.get("x"))
    if y is None or x is None or y.shape != x.shape:
        return None
    fin = np.isfinite(x)
    bad = fin & ~np.isfinite(y)
    if np.any(bad):
        return say("gelu.nan", count=int(bad.sum()), x=number(x[bad][0]))
    zero = (x == 0) & (np.abs(y) > TOL)
    if np.any(zero):
        return say("gelu.zero", value=number(y[zero][0]))
    large = fin & (x >= 4) & (np.abs(y - x) > 1e-3 * np.maximum(1.0, np.abs(x)))
    if np.any(large):
        k = np.flatnonzero(large.ravel())[0]
        return say("gelu.large", x=number(x.ravel()[k]), y=number(y.ravel()[k]))
    small = fin & (x <= -4) & (np.abs(y) > 1e-2)
    if np.any(small):
        k = np.flatnonzero(small.ravel())[0]
        return say("gelu.very_negative", x=number(x.ravel()[k]), y=number(y.ravel()[k]))
    relu = fin & (x <= -0.1) & (x >= -2.5) & (y >= 0)
    if np.any(relu):
        k = np.flatnonzero(relu.ravel())[0]
        return say("gelu.relu", x=number(x.ravel()[k]), y=number(y.ravel()[k]))
    return _gelu_constants(x[fin], y[fin])


def _gelu_constants(x, y):
    """0.5 x (1 + tanh(k (x + a x³))) with other constants k, a: fit them on the inputs where the
    tanh is not saturated, and say which is off."""
    use = (np.abs(x) > 0.05) & (np.abs(x) < 3)
    if np.count_nonzero(use) < 3:
        return None
    g = 2 * y[use] / x[use] - 1
    if np.any(np.abs(g) >= 1 - 1e-9):
        return None
    t = np.arctanh(g)
    A = np.stack([x[use], x[use] ** 3], axis=1)
    (k, ka), *_ = np.linalg.lstsq(A, t, rcond=None)
    if np.max(np.abs(A @ np.array([k, ka]) - t)) > 1e-4 * max(1.0, float(np.max(np.abs(t)))) or abs(k) < 1e-9:
        return None
    a = ka / k
    a = 0.0 if abs(a) < 1e-5 else a   # float32 inputs: a fit of a few 1e-8
    right_k, right_a = abs(k - math.sqrt(2 / math.pi)) <= 1e-4, abs(a - 0.044715) <= 1e-5
    if right_k and right_a:
        return None
    return say("gelu.constants", k=number(k), a=number(a))


@PROPERTIES.check("transformer", "transformer_block")
def _transformer_block(inputs, value):
    """Pre-LN: the block's output is x + sublayers, never a LayerNorm's output. Rows of
    (y - beta) / gamma with mean 0 and variance 1 for a block's LayerNorm mean it came last."""
    y = as_array(value)
    block = inputs.get("block")
    if y is None or y.ndim < 1 or y.shape[-1] < 3 or type(block) is not dict or not np.all(np.isfinite(y)):
        return None
    for which in ("ln2", "ln1"):
        gamma, beta = as_array(block.get(f"{which}_gamma")), as_array(block.get(f"{which}_beta"))
        if gamma is None or beta is None or gamma.shape != y.shape[-1:] or beta.shape != y.shape[-1:] \
                or np.min(np.abs(gamma)) < 1e-3:
            continue
        z = (y - beta) / gamma
        if np.max(np.abs(np.mean(z, axis=-1))) <= 1e-4 and np.max(np.abs(np.var(z, axis=-1) - 1)) <= 1e-2:
            return say("block.normalised_output", ln=which)
    return None


@PROPERTIES.check("transformer", "next_token_probabilities")
def _next_token_probabilities(inputs, value):
    y = as_array(value)
    params = inputs.get("params")
    V = None
    if type(params) is dict:
        table = as_array(params.get("token_embedding"))
        V = table.shape[0] if table is not None and table.ndim == 2 else None
    if y is None or y.ndim == 0 or (V is not None and y.shape[-1] != V):
        return None
    if y.ndim == 2 and np.all(np.isfinite(y)) and np.max(np.abs(y.sum(-1) - 1)) <= _sum_tol(y.shape[-1]) \
            and np.min(y) >= -TOL:
        if y.shape[0] == 1:   # logits[-1:] keeps the row axis
            return say("next_token.kept_row", shape=shape_text(y.shape), vocab=int(y.shape[-1]))
        return say("next_token.every_position", shape=shape_text(y.shape), vocab=int(y.shape[-1]))
    if y.ndim != 1:
        return None
    if not np.all(np.isfinite(y)):
        return say("next_token.nan", count=int(np.sum(~np.isfinite(y))))
    total = float(np.sum(y))
    if np.max(y) <= TOL and abs(float(np.sum(np.exp(y))) - 1) <= _sum_tol(y.size) and np.min(y) < -TOL:
        return say("next_token.log_probabilities", total=number(float(np.sum(np.exp(y))), 0.0))
    if np.min(y) < -TOL or np.max(y) > 1 + TOL:
        return say("next_token.logits", lowest=number(np.min(y)), highest=number(np.max(y)), total=number(total, 1.0))
    if abs(total - 1) > _sum_tol(y.size):
        return say("next_token.sums", total=number(total, 1.0))
    return None


@PROPERTIES.check("transformer", "generate", reference=True)
def _generate(inputs, value, reference=None):
    if type(value) is np.ndarray:
        if value.ndim != 1 or value.dtype.kind not in "iu" or value.size > MAX_ITEMS:
            return None
        ids = [int(v) for v in value]
    elif type(value) in (list, tuple) and len(value) <= MAX_ITEMS:
        ids = [as_int(v) for v in value]
        if any(v is None for v in ids):
            return None
    else:
        return None
    n_new = as_int(inputs.get("n_new"))
    prompt = inputs.get("token_ids")
    if type(prompt) is np.ndarray and prompt.ndim == 1 and prompt.dtype.kind in "iu" and prompt.size <= MAX_ITEMS:
        prompt = [int(v) for v in prompt]
    elif type(prompt) in (list, tuple) and len(prompt) <= MAX_ITEMS:
        prompt = [as_int(v) for v in prompt]
        prompt = None if any(v is None for v in prompt) else prompt
    else:
        prompt = None
    if n_new is not None and len(ids) != n_new:
        if prompt is not None and len(ids) == len(prompt) + n_new and ids[:len(prompt)] == prompt:
            return say("generate.prompt_included", count=len(ids), n_new=n_new)
        return say("generate.wrong_count", count=len(ids), n_new=n_new)
    params = inputs.get("params")
    if type(params) is dict:
        table = as_array(params.get("token_embedding"))
        if table is not None and table.ndim == 2:
            outside = [v for v in ids if not 0 <= v < table.shape[0]]
            if outside:
                return say("generate.outside_vocabulary", id=quote(outside[0]), vocab=int(table.shape[0]))
            if prompt is not None and reference is not None:
                return _greedy(prompt, ids, params, reference)
    return None


def _loop(prompt, ids, params, forward):
    """The one slip of the loop that gives the student's ids exactly, when only one does: the
    model run on the prompt alone, or on the last L ids only; the first position's logits, or
    the argmax over every position's. None when none does, or several do (a constant output
    fits many: no claim)."""
    def run(window, pick):
        seq, out = list(prompt), []
        for _ in ids:
            out.append(pick(forward(window(seq), params)))
            seq.append(out[-1])
        return out

    last = lambda logits: int(np.argmax(logits[-1]))          # noqa: E731
    rules = [(say("generate.fed_prompt"), lambda seq: seq[:len(prompt)], last)] if len(ids) >= 2 else []
    rules += [(say("generate.fed_suffix", count=n), lambda seq, n=n: seq[-n:], last)
              for n in range(1, len(prompt) + len(ids) - 1)]
    rules += [(say("generate.first_position"), lambda seq: seq, lambda logits: int(np.argmax(logits[0]))),
              (say("generate.every_position"), lambda seq: seq, lambda logits: int(np.argmax(logits)) % logits.shape[-1])]
    found = [text for text, window, pick in rules if run(window, pick) == ids]
    return found[0] if len(found) == 1 else None


def _greedy(prompt, ids, params, reference):
    """Greedy generation: each new id is the model's most probable next id after the prompt and
    the ids before it (the first on a tie). Replays the student's own sequence with the course's
    model (the reference's forward pass: instructor side only) and says where it first is not."""
    forward, softmax = reference("transformer", "transformer_forward"), reference("softmax", "softmax")
    if forward is None or softmax is None:
        return None
    first = None                                 # (step, id, its probability, the most probable id, its probability)
    for t, got in enumerate(ids):
        p = softmax(forward(list(prompt) + ids[:t], params)[-1])
        best = int(np.argmax(p))
        if got != best:
            if p[best] - p[got] <= 1e-6 * max(float(p[best]), 1e-300):
                if p[best] != p[got]:
                    return None                  # a near tie: rounding may decide it, no claim
                return say("generate.tie", step=t + 1, got=got, best=best, p=number(p[best]))
            first = (t, got, float(p[got]), best, float(p[best]))
            break
    if first is None:
        return None                              # every id is the most probable one: greedy, whatever else is wrong
    loop = _loop(prompt, ids, params, forward)
    if loop:
        return loop
    t, got, p_got, best, p_best = first
    return say("generate.not_most_probable", step=t + 1, got=got, p=number(p_got), best=best, q=number(p_best))


