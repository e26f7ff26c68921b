"""Property hints: why a failing output is wrong, without looking at the expected value.

`compare` says *that* values are off ("3 of 12 values outside tolerance"); a property hint says
*what* is off, from properties the contract guarantees for every correct output, checked on the
student's own output and the case's inputs only: softmax slices sum to 1 along `axis`,
attention weights are 0 where the mask (True = may attend) forbids, a causal mask is the lower
triangle with its diagonal, cosines lie in [-1, 1], row 0 of the positional encoding is
[0, 1, 0, 1, …], LayerNorm rows have mean 0 and variance var / (var + eps) once beta and gamma
are undone, next-token probabilities are non-negative and sum to 1, …

    property_hint(exercise, function, inputs, value) -> str | None

One short English sentence — the most telling violated property — or None when every property
holds, when the function has no property check, or when the value is not even an array (tuple,
list, word) of the kind the contract returns: those are explained by `compare`. It never
raises: any value, however odd or hostile (object arrays, generators, subclasses, huge
strided views), gives a sentence or None. Only exact built-in and NumPy types are looked at,
so no student-defined method ever runs here.

Tolerances are loose (about 1e-4 on the property, more where float32 rounding accumulates):
a hint explains a failure the comparison has already found; it is never a verdict.
"""
from __future__ import annotations

import math
import warnings
from collections import Counter

import numpy as np

__all__ = ["property_hint"]

TOL = 1e-4                  # absolute slack on a property: sums to 1, values in [0, 1], ...
MAX_ELEMENTS = 1 << 20      # far above any case; beyond, no hint (and no large temporaries here)
MAX_NDIM = 8
MAX_ITEMS = 100_000         # lists (pairs, generated ids)


def property_hint(exercise: str, function: str, inputs: dict, value) -> str | None:
    """The most telling property of the contract that `value` breaks, as one sentence, or None.

    `exercise`, `function`: the contract's names (e.g. "softmax", "softmax"); `inputs`: the
    case's arguments by name (defaults may be absent); `value`: what the student returned.
    """
    try:
        if type(exercise) is not str or type(function) is not str:
            return None
        check = _CHECKS.get((exercise, function))
        if check is None:
            return None
        if type(inputs) is not dict:
            inputs = {}
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            hint = check(inputs, value)
        return hint if type(hint) is str and hint else None
    except Exception:  # a hint is a bonus: never let it break grading
        return None


# --- reading values safely ------------------------------------------------------------------

def _array(value, kinds="iuf"):
    """`value` as a float64 ndarray when it is an exact NumPy array (or NumPy / Python number)
    of an allowed dtype kind and a reasonable size; None otherwise."""
    if type(value) in (int, float):
        return np.asarray(float(value))
    if isinstance(value, np.generic):
        if type(value).__module__ != "numpy":
            return None
        value = np.asarray(value)
    if type(value) is not np.ndarray:
        return None
    if value.dtype.hasobject or value.dtype.kind not in kinds or value.dtype.fields is not None:
        return None
    if value.ndim > MAX_NDIM or value.size > MAX_ELEMENTS:
        return None
    return value.astype(np.float64)


def _pair(value):
    """(first, second) of a 2-tuple/list result, or None."""
    if type(value) not in (tuple, list) or len(value) != 2:
        return None
    first, second = _array(value[0]), _array(value[1])
    if first is None or second is None:
        return None
    return first, second


def _int(value):
    """A plain integer argument (Python or NumPy int, not bool), or None."""
    if type(value) is int or (isinstance(value, np.integer) and type(value).__module__ == "numpy"):
        return int(value)
    if type(value) is np.ndarray and value.ndim == 0 and value.dtype.kind in "iu":
        return int(value)
    return None


def _bool_mask(value):
    if type(value) is not np.ndarray or value.dtype.kind not in "biu" or value.size > MAX_ELEMENTS:
        return None
    return value.astype(bool)


def _fmt(x, avoid=None) -> str:
    """A short number; with more digits when the short form would read as `avoid`
    (never "sums to 1, not 1")."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    for digits in (3, 4, 5, 6, 8, 10):
        text = f"{x:.{digits}g}"
        if avoid is None or float(text) != avoid:
            return text
    return repr(x)


def _range(values, avoid=None) -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    if abs(hi - lo) <= TOL:
        return _fmt((lo + hi) / 2, avoid)
    return f"{_fmt(lo, avoid)} to {_fmt(hi, avoid)}"


def _shape(shape) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _along(axis: int, ndim: int) -> str:
    if ndim == 1:
        return "the values"
    if ndim == 2:
        return f"the {'rows' if axis % 2 == 1 else 'columns'} (axis {axis})"
    return f"the slices along axis {axis}"


def _sum_tol(n: int) -> float:
    return TOL + 1e-6 * n  # float32 rounding grows with the number of terms


# --- similarity -----------------------------------------------------------------------------

def _batch_shape(inputs):
    a, b = _array(inputs.get("a")), _array(inputs.get("b"))
    if a is None or b is None or a.ndim < 1 or b.ndim < 1:
        return None
    try:
        return np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    except ValueError:
        return None


def _one_number_for_a_batch(inputs, y):
    batch = _batch_shape(inputs)
    if batch and y.ndim == 0:
        return (f"the result is one number for a batch of {int(np.prod(batch))} pairs (expected shape "
                f"{_shape(batch)}): sum over the last axis only (axis=-1), one value per pair")
    return None


def _dot_product(inputs, value):
    y = _array(value)
    return None if y is None else _one_number_for_a_batch(inputs, y)


def _norms_zero(x):
    return x is not None and x.ndim >= 1 and bool(np.any(np.linalg.norm(x, axis=-1) == 0))


def _cosine_similarity(inputs, value):
    y = _array(value)
    if y is None:
        return None
    hint = _one_number_for_a_batch(inputs, y)
    if hint:
        return hint
    a, b = _array(inputs.get("a")), _array(inputs.get("b"))
    finite_inputs = all(v is None or np.all(np.isfinite(v)) for v in (a, b))
    bad = ~np.isfinite(y)
    if finite_inputs and np.any(bad):
        if _norms_zero(a) or _norms_zero(b):
            return (f"the result holds {int(bad.sum())} NaN/inf value(s) where a vector is zero (0 / 0): "
                    f"clamp each norm with max(‖a‖, eps), so a zero vector gives 0")
        return f"the result holds {int(bad.sum())} NaN/inf value(s) for finite inputs: a cosine is always finite"
    finite = y[np.isfinite(y)]
    if finite.size and np.max(np.abs(finite)) > 1 + TOL:
        worst = finite[np.argmax(np.abs(finite))]
        return (f"cosine similarities lie in [-1, 1], yours reach {_fmt(worst)}: divide the dot product by both "
                f"norms, ‖a‖·‖b‖ (each over the last axis)")
    return None


def _cosine_similarity_matrix(inputs, value):
    y = _array(value)
    A = _array(inputs.get("A"))
    B = inputs.get("B")
    B = None if B is None else _array(B)
    if y is None or A is None or A.ndim != 2 or y.ndim != 2:
        return None
    other = A if B is None else B
    if other is None or other.ndim != 2 or y.shape != (A.shape[0], other.shape[0]):
        return None
    bad = ~np.isfinite(y)
    if np.all(np.isfinite(A)) and np.all(np.isfinite(other)) and np.any(bad):
        if _norms_zero(A) or _norms_zero(other):
            return (f"the matrix holds {int(bad.sum())} NaN/inf value(s) for a zero row (0 / 0): clamp each "
                    f"row's norm with eps, so a zero row gives 0")
        return f"the matrix holds {int(bad.sum())} NaN/inf value(s) for finite inputs"
    finite = y[np.isfinite(y)]
    if finite.size and np.max(np.abs(finite)) > 1 + TOL:
        worst = finite[np.argmax(np.abs(finite))]
        return (f"cosine similarities lie in [-1, 1], yours reach {_fmt(worst)}: divide A @ B.T by the norm of "
                f"each row of A and of each row of B")
    same = B is None or (B.shape == A.shape and np.array_equal(A, B))
    if same and y.shape[0] == y.shape[1] and np.all(np.isfinite(y)):
        asym = np.abs(y - y.T)
        if np.max(asym, initial=0.0) > TOL:
            i, j = np.unravel_index(int(np.argmax(asym)), asym.shape)
            return (f"the similarity of a set with itself is not symmetric (S[{i}, {j}] = {_fmt(y[i, j])} but "
                    f"S[{j}, {i}] = {_fmt(y[j, i])}): did you normalise only one side? Divide by the norms of "
                    f"both A's rows and B's rows")
        nonzero = np.linalg.norm(A, axis=-1) > 1e-6
        diagonal = np.diagonal(y)[nonzero]
        if diagonal.size and np.max(np.abs(diagonal - 1)) > TOL:
            return (f"the diagonal (each row with itself) should be 1, yours is {_range(diagonal, 1.0)}: divide by "
                    f"the norm of each row (axis=-1), not by the norm of the whole table")
    return None


# --- softmax --------------------------------------------------------------------------------

def _softmax(inputs, value):
    y = _array(value)
    x = _array(inputs.get("x"))
    axis = inputs.get("axis", -1)
    axis = _int(axis)
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
            return (f"you normalised along axis {shown} instead of axis {axis}: along axis {shown}, a slice with no "
                    f"finite entry gives NaN; use `axis` for both the max and the sum")
        big = float(np.max(np.abs(x[np.isfinite(x)]), initial=0.0)) if x is not None else 0.0
        if big > 80:  # e^x overflows float32 past 88, float64 past 709
            return (f"softmax holds {int(bad.sum())} NaN/inf value(s) for finite inputs (up to ±{_fmt(big)}): "
                    f"e^x overflows, so subtract the max along the axis before exp (the result is unchanged)")
        return (f"softmax holds {int(bad.sum())} NaN/inf value(s) although every slice has a finite entry: "
                f"subtract the max along the axis before exp, and let e^-inf give 0")
    ok = good & np.all(np.isfinite(y), axis=ax, keepdims=True)   # slices to check
    if not np.any(ok):
        return None
    okb = np.broadcast_to(ok, y.shape)
    checked = y[okb]
    negative = float(np.min(checked)) < -TOL
    sums = np.sum(y, axis=ax, keepdims=True)[ok]
    tol = _sum_tol(y.shape[ax])
    if np.max(np.abs(sums - 1)) > tol:
        if np.all(ok):
            k = _normalised_along(y, x, ax)
            if k is not None:
                shown = k if axis >= 0 else k - y.ndim
                return (f"you normalised along axis {shown} instead of axis {axis}: {_along(axis, y.ndim)} sum to "
                        f"{_range(sums, 1.0)}, not 1; use `axis` for both the max and the sum")
            if y.size > y.shape[ax] and abs(float(np.sum(y)) - 1) <= _sum_tol(y.size):
                return (f"the whole array sums to 1, but each slice along axis {axis} should: divide by "
                        f"np.sum(e, axis=axis, keepdims=True)")
        text = f"{_along(axis, y.ndim)} sum to {_range(sums, 1.0)}, not 1"
        if negative:
            return text + f", and some values are negative ({_fmt(np.min(checked))}): take e^x, then divide by the sum"
        return text + ": divide e^x by its sum along the axis"
    if negative:
        return (f"softmax values lie in [0, 1], yours go down to {_fmt(np.min(checked))}: take e^x before "
                f"dividing by the sum")
    if float(np.max(checked)) > 1 + TOL:
        return f"softmax values lie in [0, 1], yours reach {_fmt(np.max(checked))}"
    return None


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

def _one_hot(inputs, value):
    y = _array(value, "biuf")
    ids = inputs.get("ids")
    ids = _array(ids, "iu") if type(ids) is np.ndarray else None
    V = _int(inputs.get("vocab_size"))
    if y is None or y.ndim != 2 or (V is not None and y.shape[1] != V):
        return None
    if ids is not None and (ids.shape != y.shape[:1] or np.any(ids < 0) or np.any(ids >= y.shape[1])):
        return None  # wrong length is a shape problem; an id out of range must raise (compare says so)
    if not np.all(np.isfinite(y)):
        return "a one-hot array holds only 0s and 1s, yours holds NaN/inf"
    odd = (y != 0) & (y != 1)
    if np.any(odd):
        i, j = np.argwhere(odd)[0]
        return f"a one-hot array holds only 0s and 1s, yours holds {_fmt(y[i, j])} at [{i}, {j}]"
    ones = np.sum(y == 1, axis=1)
    if np.any(ones != 1):
        k = int(np.argmax(ones != 1))
        return f"each row should hold exactly one 1, row {k} holds {int(ones[k])}"
    if ids is not None:
        where = np.argmax(y, axis=1)
        wrong = where != ids
        if np.any(wrong):
            k = int(np.argmax(wrong))
            shift = np.unique(where - ids)
            extra = f" (every 1 is {int(shift[0]):+d} column(s) off)" if shift.size == 1 else ""
            return f"row {k}'s 1 is in column {int(where[k])}, not at its id {int(ids[k])}{extra}: out[k, ids[k]] = 1"
    return None


def _skipgram_pairs(inputs, value):
    if type(value) not in (list, tuple) or len(value) > MAX_ITEMS:
        return None
    pairs = []
    for item in value:
        if type(item) not in (list, tuple) or len(item) != 2 or type(item[0]) is not str or type(item[1]) is not str:
            return None
        pairs.append((item[0], item[1]))
    tokens = inputs.get("tokens")
    if type(tokens) in (list, tuple) and all(type(t) is str for t in tokens):
        words = set(tokens)
        stray = [p for p in pairs if p[0] not in words or p[1] not in words]
        if stray:
            return f"the pair {stray[0]!r} holds a word that is not in the tokens: pair tokens[i] with tokens[j]"
    counts = Counter(pairs)
    for (center, context), n in counts.items():
        back = counts.get((context, center), 0)
        if back != n:
            return (f"the pairs are not symmetric: ({center!r}, {context!r}) appears {n} time(s) but "
                    f"({context!r}, {center!r}) {back}; the window reaches `window` words on both sides, "
                    f"from i - window to i + window included")
    return None


def _analogy(inputs, value):
    if type(value) is not str:
        return None
    asked = [inputs.get(k) for k in ("a", "b", "c")]
    if value in [w for w in asked if type(w) is str]:
        return (f"the answer {value!r} is one of the question's words: leave a, b and c out of the candidates "
                f"(the nearest vector to b − a + c is often b itself)")
    words = inputs.get("words")
    if type(words) in (list, tuple) and all(type(w) is str for w in words) and value not in words:
        return f"{value!r} is not one of `words`: return the word of the row you found"
    return None


# --- attention ------------------------------------------------------------------------------

def _is_causal(mask) -> bool:
    return mask.ndim == 2 and np.array_equal(mask, np.tril(np.ones(mask.shape, dtype=bool)))


def _weights_hint(w, mask=None, what="the weights", fix="", causal=False):
    """Attention weights: 0 where the mask is False, finite, rows (last axis) summing to 1,
    values in [0, 1]. `mask` is already broadcast to w's shape (or None)."""
    if w.ndim < 2 or w.size == 0:
        return None
    if mask is None:
        mask = np.ones(w.shape, dtype=bool)
    live = np.any(mask, axis=-1, keepdims=True)          # rows that may attend somewhere
    finite = np.isfinite(w)
    leak = ~mask & finite & (np.abs(w) > TOL)
    if np.any(leak):
        allowed = mask & live
        inverted = bool(np.any(allowed)) and bool(np.all(~finite[allowed] | (np.abs(w[allowed]) <= TOL)))
        ignored = not inverted and bool(np.all(leak | mask))    # every forbidden pair got a weight
        how = "inverted" if inverted else "ignored" if ignored else "ignored or inverted"
        biggest = _fmt(np.max(np.abs(w[leak])))
        if causal:
            if inverted:
                return (f"{what} above the diagonal are not zero (up to {biggest}) and those on and below it are: "
                        f"the causal mask is inverted; True means may attend, so put -inf where the mask is False")
            return (f"{what} above the diagonal are not zero (up to {biggest}): the causal mask is {how}; a pair "
                    f"where the mask is False must get weight exactly 0 (its score set to -inf before the softmax)")
        if inverted:
            return (f"{what} are zero where the mask is True and not where it is False (up to {biggest}): the mask "
                    f"is inverted; True means may attend, so put -inf where the mask is False")
        return (f"{int(leak.sum())} of {what} where the mask is False are not zero (up to {biggest}): the mask is "
                f"{how}; True means may attend, a False pair must get weight exactly 0 (score -inf)")
    rows_ok = live & np.all(finite, axis=-1, keepdims=True)
    cols_ok = np.any(mask, axis=-2, keepdims=True) & np.all(finite, axis=-2, keepdims=True)
    row_sums = np.sum(w, axis=-1, keepdims=True)[rows_ok]
    rows_bad = bool(row_sums.size) and np.max(np.abs(row_sums - 1)) > _sum_tol(w.shape[-1])
    if (rows_bad or not row_sums.size) and w.shape[-2] >= 2:
        col_sums = np.sum(w, axis=-2, keepdims=True)[cols_ok]
        if col_sums.size and np.max(np.abs(col_sums - 1)) <= _sum_tol(w.shape[-2]) and \
                (rows_bad or np.any(~finite)):
            return (f"each column of {what} sums to 1, not each row: take the softmax over the keys (last axis), "
                    f"not over the queries (axis -2)")
    if rows_bad and w.ndim > 2 and np.all(finite):
        k = _normalised_along(w, None, w.ndim - 1)
        if k is not None:
            return (f"{what} sum to 1 along axis {k - w.ndim}, not along the last axis: take the softmax over the "
                    f"keys, softmax(scores, axis=-1)")
    bad = ~finite & live
    if np.any(bad):
        return (f"{what} hold {int(bad.sum())} NaN/inf value(s) in rows that may attend to some key: subtract the "
                f"row's max before exp, and mask with -inf before the softmax")
    if rows_bad:
        text = f"the rows of {what} (last axis) sum to {_range(row_sums, 1.0)}, not 1"
        values = w[np.broadcast_to(rows_ok, w.shape)]
        if values.size and float(np.min(values)) < -TOL:
            text += f", and some are negative ({_fmt(np.min(values))})"
        return text + (fix or ": take the softmax over the last axis")
    values = w[np.broadcast_to(live, w.shape) & finite]
    if values.size and float(np.min(values)) < -TOL:
        return f"{what} lie in [0, 1], yours go down to {_fmt(np.min(values))}" + (fix or ": take the softmax")
    if values.size and float(np.max(values)) > 1 + TOL:
        return f"{what} lie in [0, 1], yours reach {_fmt(np.max(values))}" + (fix or ": take the softmax")
    return None


def _broadcast_mask(raw, shape, heads=False):
    """(mask broadcast to `shape`, whether it is the causal mask) or (None, False)."""
    if raw is None:
        return None, False
    mask = _bool_mask(raw)
    if mask is None or mask.ndim < 2:
        return None, False
    causal = _is_causal(mask)
    if heads:
        mask = mask[..., np.newaxis, :, :]  # one mask for every head
    try:
        return np.broadcast_to(mask, shape), causal
    except ValueError:
        return None, False


def _attention_weights(inputs, value):
    w = _array(value)
    Q, K = _array(inputs.get("Q")), _array(inputs.get("K"))
    if w is None or w.ndim < 2:
        return None
    if Q is not None and K is not None and Q.ndim >= 2 and K.ndim >= 2 and w.shape[-2:] != (Q.shape[-2], K.shape[-2]):
        return _weights_shape_hint(w.shape, Q.shape[-2], K.shape[-2])
    mask, causal = _broadcast_mask(inputs.get("mask"), w.shape)
    return _weights_hint(w, mask, "the weights", causal=causal)


def _weights_shape_hint(shape, n_q, n_k):
    if shape[-2:] == (n_k, n_q):
        return (f"the weights have shape {_shape(shape)}, (…, n_k, n_q): they are transposed; the scores are "
                f"Q @ Kᵀ, one row per query (…, n_q, n_k) = (…, {n_q}, {n_k})")
    return f"the weights should have shape (…, n_q, n_k) = (…, {n_q}, {n_k}): one row per query, one column per key"


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
        return (f"the output is not your weights @ {name} (they differ by up to {_fmt(gap)}): each output row is "
                f"the weighted average of the rows of {name}")
    return None


def _similarity_attention(inputs, value):
    pair = _pair(value)
    E = _array(inputs.get("E"))
    if pair is None or E is None or E.ndim != 2:
        return None
    out, w = pair
    n, d = E.shape
    if w.shape != (n, n) or out.shape != (n, d):
        if out.shape == (n, n) and w.shape == (n, d):
            return "the tuple is in the wrong order: return (output, weights)"
        return None
    fix = ": the weights are the softmax of the cosine similarities, row by row"
    return _weights_hint(w, None, "the weights", fix) or _values_hint(out, w, E, "E")


def _scaled_dot_product_attention(inputs, value):
    pair = _pair(value)
    Q, K, V = (_array(inputs.get(k)) for k in ("Q", "K", "V"))
    if pair is None or Q is None or K is None or V is None or min(Q.ndim, K.ndim, V.ndim) < 2:
        return None
    out, w = pair
    n_q, n_k, d_k, d_v = Q.shape[-2], K.shape[-2], Q.shape[-1], V.shape[-1]
    if out.ndim < 2 or w.ndim < 2:
        return None
    if w.shape[-2:] != (n_q, n_k):
        if out.shape[-2:] == (n_q, n_k) and w.shape[-2:] == (n_q, d_v):
            return "the tuple is in the wrong order: return (output, weights)"
        return _weights_shape_hint(w.shape, n_q, n_k)
    if out.shape[-2:] != (n_q, d_v):
        if out.shape[-1] == d_k and d_k != d_v:
            return (f"the output's last dimension is d_k = {d_k}, not d_v = {d_v}: the output is weights @ V, "
                    f"shape (…, n_q, d_v)")
        return f"the output should have shape (…, n_q, d_v) = (…, {n_q}, {d_v}): the output is weights @ V"
    mask, causal = _broadcast_mask(inputs.get("mask"), w.shape)
    return _weights_hint(w, mask, "the weights", causal=causal) or _values_hint(out, w, V)


def _causal_mask(inputs, value):
    y = _array(value, "biuf")
    n_q = _int(inputs.get("n_q"))
    n_k = inputs.get("n_k")
    n_k = n_q if n_k is None else _int(n_k)
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
        return "every entry is True, so the mask hides nothing: causal means True only where j <= i (np.tril)"
    if not b.any():
        return "every entry is False: causal means True where j <= i, the past and the position itself (np.tril)"
    if np.array_equal(b, below):
        return ("the diagonal is False: each position must also attend to itself, mask[i, j] = (j <= i) "
                "(np.tril with k=0, not k=-1)")
    if np.array_equal(b, above | diag):
        return ("the mask is the upper triangle (np.triu), so each position sees the future: causal is the lower "
                "triangle, diagonal included, mask[i, j] = (j <= i)")
    if np.array_equal(b, above):
        return ("the mask is inverted: True must mean may attend, the past and the position itself, "
                "mask[i, j] = (j <= i); yours is True where j > i")
    counts = b.sum(axis=1)
    partial = np.flatnonzero((counts > 0) & (counts < n_k))
    if partial.size:                     # np.tril(…, k): row r holds r + k + 1 Trues (clipped)
        k = int(counts[partial[0]]) - int(partial[0]) - 1
        if k not in (0, -1) and np.array_equal(b, j <= i + k):
            return (f"the mask is np.tril(…, k={k}): the causal mask is lower triangular and top-left aligned, "
                    f"mask[i, j] = (j <= i), k=0")
    wrong = np.argwhere(b != want)[0]
    return (f"mask[i, j] should be True exactly where j <= i (lower triangle, diagonal included); first wrong at "
            f"[{wrong[0]}, {wrong[1]}]")


def _multi_head_attention(inputs, value):
    pair = _pair(value)
    X = _array(inputs.get("X"))
    h = _int(inputs.get("n_heads"))
    if pair is None or X is None or X.ndim < 2 or h is None or h < 1:
        return None
    out, w = pair
    n = X.shape[-2]
    want_w = X.shape[:-2] + (h, n, n)
    if w.shape != want_w:
        if w.shape == X.shape[:-2] + (n, n):
            return (f"the weights should keep one (n, n) matrix per head: shape (…, n_heads, n, n) = "
                    f"{_shape(want_w)}, not {_shape(w.shape)}")
        if w.ndim >= 3 and w.shape[-2:] == (n, n) and w.shape[-3] != h:
            return (f"the weights have {w.shape[-3]} heads on axis -3, not n_heads = {h}: split d_model into "
                    f"n_heads slices of d_k = d_model // n_heads columns")
        return None
    if out.shape != X.shape:
        return (f"the output should have X's shape (…, n, d_model) = {_shape(X.shape)}, not {_shape(out.shape)}: "
                f"concatenate the heads back, then multiply by W_o")
    mask, causal = _broadcast_mask(inputs.get("mask"), w.shape, heads=True)
    return _weights_hint(w, mask, "the weights of each head", causal=causal)


# --- positional -----------------------------------------------------------------------------

def _positional_encoding(inputs, value):
    y = _array(value)
    n = _int(inputs.get("n_positions"))
    d = _int(inputs.get("d_model"))
    if y is None or y.ndim != 2 or n is None or d is None or y.shape != (n, d) or n < 1 or d < 1:
        return None
    if not np.all(np.isfinite(y)):
        return f"the encoding holds {int(np.sum(~np.isfinite(y)))} NaN/inf value(s): sines and cosines are finite"
    top = float(np.max(np.abs(y)))
    if top > 1 + TOL:
        return (f"sines and cosines lie in [-1, 1], yours reach {_fmt(top)}: PE[p, 2i] = sin(angle) and "
                f"PE[p, 2i+1] = cos(angle), with angle = p / base**(2i / d_model)")
    row0 = y[0]
    want = np.zeros(d)
    want[1::2] = 1.0
    if np.max(np.abs(row0 - want)) > TOL:
        start = ", ".join(_fmt(v) for v in row0[:4]) + (", …" if d > 4 else "")
        swapped = np.zeros(d)
        swapped[0::2] = 1.0
        if d >= 2 and np.max(np.abs(row0 - swapped[:d])) <= TOL:
            return ("row 0 is [1, 0, 1, 0, …]: sin and cos are swapped; even columns hold sines (sin 0 = 0), "
                    "odd columns cosines (cos 0 = 1)")
        half = np.concatenate([np.zeros((d + 1) // 2), np.ones(d // 2)])
        if d >= 4 and np.max(np.abs(row0 - half)) <= TOL:
            return ("row 0 is [0, …, 0, 1, …, 1]: all the sines, then all the cosines; interleave them, sin in "
                    "column 2i and cos in column 2i+1 (row 0 = [0, 1, 0, 1, …])")
        if d >= 2 and abs(row0[0] - math.sin(1.0)) <= TOL and abs(row0[1] - math.cos(1.0)) <= TOL:
            return (f"row 0 starts [{start}] = sin 1, cos 1: positions start at 0, so row 0 is [0, 1, 0, 1, …] "
                    f"(sin 0 = 0, cos 0 = 1)")
        return (f"row 0 (position 0) should be [0, 1, 0, 1, …] (sin 0 = 0 in even columns, cos 0 = 1 in odd "
                f"ones), yours starts [{start}]")
    if d >= 2:
        pairs = y[:, 0:2 * (d // 2):2] ** 2 + y[:, 1:2 * (d // 2):2] ** 2
        off = np.abs(pairs - 1)
        if np.max(off) > 1e-3:
            p, i = np.unravel_index(int(np.argmax(off)), off.shape)
            return (f"columns {2 * i} and {2 * i + 1} should hold the sin and cos of one angle (sin² + cos² = 1), "
                    f"but at position {p} they give {_fmt(pairs[p, i])}")
    return None


# --- transformer ----------------------------------------------------------------------------

def _layer_norm(inputs, value):
    y = _array(value)
    x = _array(inputs.get("x"))
    gamma, beta = _array(inputs.get("gamma")), _array(inputs.get("beta"))
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
        return (f"the result holds {int(np.sum(~np.isfinite(y)))} NaN/inf value(s) for finite inputs: "
                f"eps goes inside the square root, sqrt(var + eps)")
    who = "each row" if np.all(gamma == 1) and np.all(beta == 0) else "each row of (y - beta) / gamma"
    z = (y - beta) / gamma
    var_x = np.var(x, axis=-1)
    spread = var_x > 1e-12 * np.maximum(1.0, np.mean(x, axis=-1) ** 2)   # a constant row has no variance
    if not np.any(spread):
        return None
    target = var_x / (var_x + eps)                                      # the variance the contract gives
    mean_z, var_z = np.mean(z, axis=-1)[spread], np.var(z, axis=-1)[spread]
    if np.max(np.abs(mean_z)) > 1e-3:
        worst = _fmt(mean_z[np.argmax(np.abs(mean_z))])
        if x.ndim >= 2 and x.shape[-2] >= 2 and np.max(np.abs(np.mean(z, axis=-2))) <= 1e-3:
            return (f"{who} should have mean 0, yours reach {worst} while the columns have mean 0: normalise over "
                    f"the last axis (each vector), not axis -2")
        return f"{who} should have mean 0, yours reach {worst}: subtract the mean over the last axis (keepdims=True)"
    t = target[spread]
    vx = var_x[spread]
    if np.max(np.abs(var_z / t - 1)) > 2e-3:
        shown = _range(var_z, 1.0)
        want = "1" if np.max(np.abs(t - 1)) < 1e-3 else f"var / (var + eps) = {_range(t)}"
        unbiased = vx / (vx * d / (d - 1) + eps)
        if np.max(np.abs(var_z / unbiased - 1)) <= 2e-3:
            of = " = (d - 1) / d" if want == "1" else f", (d - 1) / d = {_fmt((d - 1) / d)} of it"
            return (f"{who} should have variance {want}, yours {shown}{of}: you divided by d - 1 (ddof=1); "
                    f"LayerNorm uses the biased variance, np.var(x, axis=-1)")
        outside = vx / (np.sqrt(vx) + eps) ** 2
        if np.max(np.abs(var_z / outside - 1)) <= 2e-3 or np.max(np.abs(var_z - 1)) <= 2e-3:
            return (f"{who} should have variance var / (var + eps) = {_range(t)} (eps = {_fmt(eps)} inside the square "
                    f"root), yours {shown}: use sqrt(var + eps), not sqrt(var) + eps")
        return (f"{who} should have variance {want}, yours {shown}: divide x - mean by "
                f"np.sqrt(np.var(x, axis=-1, keepdims=True) + eps)")
    return None


def _gelu(inputs, value):
    y = _array(value)
    x = _array(inputs.get("x"))
    if y is None or x is None or y.shape != x.shape:
        return None
    fin = np.isfinite(x)
    bad = fin & ~np.isfinite(y)
    if np.any(bad):
        return f"gelu gives NaN/inf for {int(bad.sum())} finite input(s), e.g. gelu({_fmt(x[bad][0])})"
    zero = (x == 0) & (np.abs(y) > TOL)
    if np.any(zero):
        return f"gelu(0) should be 0, yours gives {_fmt(y[zero][0])}"
    large = fin & (x >= 4) & (np.abs(y - x) > 1e-3 * np.maximum(1.0, np.abs(x)))
    if np.any(large):
        k = np.flatnonzero(large.ravel())[0]
        return (f"gelu(x) ≈ x for large x, but yours gives gelu({_fmt(x.ravel()[k])}) = {_fmt(y.ravel()[k])}: "
                f"check 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))")
    small = fin & (x <= -4) & (np.abs(y) > 1e-2)
    if np.any(small):
        k = np.flatnonzero(small.ravel())[0]
        return (f"gelu(x) ≈ 0 for very negative x, but yours gives gelu({_fmt(x.ravel()[k])}) = {_fmt(y.ravel()[k])}: "
                f"check 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))")
    relu = fin & (x <= -0.1) & (x >= -2.5) & (y >= 0)
    if np.any(relu):
        k = np.flatnonzero(relu.ravel())[0]
        return (f"gelu is slightly negative for negative x (gelu(-1) ≈ -0.159), yours gives gelu({_fmt(x.ravel()[k])}) "
                f"= {_fmt(y.ravel()[k])}: that is ReLU, not GELU")
    return None


def _next_token_probabilities(inputs, value):
    y = _array(value)
    params = inputs.get("params")
    V = None
    if type(params) is dict:
        table = _array(params.get("token_embedding"))
        V = table.shape[0] if table is not None and table.ndim == 2 else None
    if y is None or y.ndim == 0 or (V is not None and y.shape[-1] != V):
        return None
    if y.ndim == 2 and np.all(np.isfinite(y)) and np.max(np.abs(y.sum(-1) - 1)) <= _sum_tol(y.shape[-1]) \
            and np.min(y) >= -TOL:
        return (f"you returned a distribution for every position, shape {_shape(y.shape)}: the next token's is the "
                f"last position's alone, softmax(logits[-1]), shape ({y.shape[-1]},)")
    if y.ndim != 1:
        return None
    if not np.all(np.isfinite(y)):
        return (f"the probabilities hold {int(np.sum(~np.isfinite(y)))} NaN/inf value(s): subtract the max of the "
                f"logits before exp")
    total = float(np.sum(y))
    if np.min(y) < -TOL or np.max(y) > 1 + TOL:
        return (f"these look like logits, not probabilities (values from {_fmt(np.min(y))} to {_fmt(np.max(y))}, "
                f"sum {_fmt(total, 1.0)}): apply softmax to the last position's logits")
    if abs(total - 1) > _sum_tol(y.size):
        return f"the probabilities sum to {_fmt(total, 1.0)}, not 1: divide e^x by its sum (softmax)"
    return None


def _generate(inputs, value):
    if type(value) is np.ndarray:
        if value.ndim != 1 or value.dtype.kind not in "iu" or value.size > MAX_ITEMS:
            return None
        ids = [int(v) for v in value]
    elif type(value) in (list, tuple) and len(value) <= MAX_ITEMS:
        ids = [_int(v) for v in value]
        if any(v is None for v in ids):
            return None
    else:
        return None
    n_new = _int(inputs.get("n_new"))
    prompt = inputs.get("token_ids")
    if type(prompt) is np.ndarray and prompt.ndim == 1 and prompt.dtype.kind in "iu" and prompt.size <= MAX_ITEMS:
        prompt = [int(v) for v in prompt]
    elif type(prompt) in (list, tuple) and len(prompt) <= MAX_ITEMS:
        prompt = [_int(v) for v in prompt]
        prompt = None if any(v is None for v in prompt) else prompt
    else:
        prompt = None
    if n_new is not None and len(ids) != n_new:
        if prompt is not None and len(ids) == len(prompt) + n_new and ids[:len(prompt)] == prompt:
            return (f"you returned the prompt followed by the new ids ({len(ids)} ids): return only the "
                    f"n_new = {n_new} generated ones")
        return f"you returned {len(ids)} ids, but n_new = {n_new}: generate exactly n_new tokens"
    params = inputs.get("params")
    if type(params) is dict:
        table = _array(params.get("token_embedding"))
        if table is not None and table.ndim == 2:
            outside = [v for v in ids if not 0 <= v < table.shape[0]]
            if outside:
                return f"id {outside[0]} is outside the vocabulary [0, {table.shape[0]})"
    return None


_CHECKS = {
    ("similarity", "dot_product"): _dot_product,
    ("similarity", "cosine_similarity"): _cosine_similarity,
    ("similarity", "scaled_dot_product"): _dot_product,
    ("similarity", "cosine_similarity_matrix"): _cosine_similarity_matrix,
    ("softmax", "softmax"): _softmax,
    ("embeddings", "one_hot"): _one_hot,
    ("embeddings", "skipgram_pairs"): _skipgram_pairs,
    ("embeddings", "analogy"): _analogy,
    ("attention", "similarity_attention"): _similarity_attention,
    ("attention", "attention_weights"): _attention_weights,
    ("attention", "scaled_dot_product_attention"): _scaled_dot_product_attention,
    ("attention", "causal_mask"): _causal_mask,
    ("attention", "multi_head_attention"): _multi_head_attention,
    ("positional", "positional_encoding"): _positional_encoding,
    ("transformer", "layer_norm"): _layer_norm,
    ("transformer", "gelu"): _gelu,
    ("transformer", "next_token_probabilities"): _next_token_probabilities,
    ("transformer", "generate"): _generate,
}
