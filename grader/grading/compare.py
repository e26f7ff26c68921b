"""Compare one outcome with its expected value, in stages, each with its own plain message:
raised → not an array → wrong shape → NaN/inf → outside tolerance → input modified.

`Verdict.margin` is the worst error in units of the tolerance (inf for exact mismatches),
which tests use to prove each classic mistake fails by far.

Whatever a submission returns — strings where numbers are expected, an integer too large for
a float, a 12 MB word, inputs swapped for something else — is a verdict with a plain message,
never an exception; every value a message quotes goes through `quote` (at most about
QUOTE_LIMIT characters, built without ever making the whole text of a large value).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from grader.model.assignment import CaseSpec, FunctionSpec, Tolerance
from grader.grading.expected import Expected
from grader.model.said import Quoted, Said, concat, joined, render
from grader.sandbox.supervisor import Outcome


@dataclass
class Verdict:
    status: str                    # passed | failed | error | timeout | not_implemented | missing | violation
    said: Said | str = ""          # what to tell the student, as data (a text for what is not yet data)
    margin: float = 0.0
    details: dict = field(default_factory=dict)   # numbers for the report (JSON-safe)
    arrays: dict = field(default_factory=dict)    # student / expected / difference, for heatmaps

    @property
    def message(self) -> str:
        """The verdict in the current language."""
        return render(self.said)


QUOTE_LIMIT = 80        # characters of a value quoted in a message (then "…" and its size)
MAX_PLAIN = 100_000     # elements of an array turned into a list for an exact comparison
NUMERIC_KINDS = "biuf"  # dtypes compared as numbers


def quote(value, limit: int = QUOTE_LIMIT) -> Quoted:
    """`value` as a message may quote it, in the current language: see `quoted`."""
    return Quoted(render(quoted(value, limit)))


def quoted(value, limit: int = QUOTE_LIMIT) -> Quoted | Said:
    """`value` as a message may quote it: repr-like, at most about `limit` characters (longer
    texts and containers are cut with "…" and their size), and in time proportional to `limit`
    whatever the value's size: a 12 MB word, an integer of 400 digits, a list of a million
    items or an array of any dtype. Data (a Said) where words of a language are needed."""
    parts = _quote(value, max(8, limit), 0)
    parts = [parts] if not isinstance(parts, list) else parts
    if all(isinstance(p, str) for p in parts):
        return Quoted("".join(parts))
    return concat(*parts)


def _size(parts) -> int:
    """The length of the rendered pieces, a Said counted as its quoted start and some 30 words' characters."""
    if isinstance(parts, str):
        return len(parts)
    return sum(len(p) if isinstance(p, str) else len(str(p.fields.get("start", ""))) + 30 for p in parts)


def _quote(value, limit, depth):
    """A str, or a list of str and Said pieces to put end to end."""
    if isinstance(value, np.generic) and type(value).__module__ == "numpy" and value.dtype.kind in "biufc":
        value = value.item()  # a NumPy number: the Python one
    if value is None or type(value) is bool:
        return repr(value)
    if isinstance(value, (str, bytes)):  # np.str_ and np.bytes_ too: sliced before anything is made
        kind = str if isinstance(value, str) else bytes
        if len(value) <= limit:
            return repr(kind(value))
        return [Said("compare.quote.long_text", start=repr(kind(value[:limit])), count=len(value))]
    if type(value) is int:
        if value.bit_length() <= 200:  # at most 61 digits
            return repr(value)
        return [Said("compare.quote.huge_integer", sign="-" if value < 0 else "",
                     exponent=int(math.log10(abs(value))))]
    if type(value) in (float, complex):
        return repr(value)
    if type(value) is np.ndarray:
        return [_array(value)]
    if type(value) in (list, tuple, dict):
        opening, closing = {list: "[]", tuple: "()", dict: "{}"}[type(value)]
        if not value:
            return opening + closing
        if depth >= 3:
            return opening + "…" + closing
        pairs = type(value) is dict
        out, shown, used = [opening], 0, 1
        for item in (value.items() if pairs else value):
            if used >= limit:
                break
            room = limit - used
            piece = _pieces(_quote(item[0], room, depth + 1)) + [": "] + _pieces(_quote(item[1], room, depth + 1)) \
                if pairs else _pieces(_quote(item, room, depth + 1))
            out += ([", "] if shown else []) + piece
            shown += 1
            used += _size(piece) + 2
        if shown < len(value):
            return _merged(out + [", …" + closing, Said("compare.quote.items", count=len(value))])
        return _merged(out + [("," if type(value) is tuple and shown == 1 else "") + closing])
    return "<%s>" % type(value).__name__


def _pieces(parts) -> list:
    return [parts] if isinstance(parts, str) else list(parts)


def _merged(parts):
    """Adjacent texts joined: a plain str when no piece needs a language."""
    out = []
    for p in parts:
        if isinstance(p, str) and out and isinstance(out[-1], str):
            out[-1] += p
        else:
            out.append(p)
    return out[0] if len(out) == 1 and isinstance(out[0], str) else out


def _array(value) -> Said:
    return Said("compare.describe.array", shape=tuple(int(n) for n in value.shape), dtype=str(value.dtype))


def _describe(value) -> Said:
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, (list, tuple)):
        return Said("compare.describe.sequence", type=type(value).__name__, count=len(value))
    if value is None:
        return Said("compare.describe.none")
    return Said("compare.describe.other", type=type(value).__name__, text=quoted(value, 60))


def plain(value, depth=0):
    """Containers normalised for exact comparison: tuples and 1-D int arrays become lists
    (an array larger than MAX_PLAIN stays an array: it cannot equal a list of expected ids)."""
    if isinstance(value, np.ndarray) and value.ndim <= 1 and value.dtype.kind in "iub" \
            and value.size <= MAX_PLAIN:
        value = value.astype(np.int64) if value.dtype.kind == "b" else value
        return value.tolist()  # Python ints (a 0-d array: one int)
    if isinstance(value, (list, tuple)) and depth < 32:
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _same(a, b) -> bool:
    """Structural equality that never truth-tests an array."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    if not (numbers or type(a) is type(b)):
        return False
    equal = a == b  # numbers of any size (int == float is exact), words, None
    return equal if type(equal) is bool else False


def _exact_diff(student, expected) -> Said:
    if isinstance(expected, list) and isinstance(student, list):
        for i, (s, e) in enumerate(zip(student, expected)):
            if not _same(s, e):
                return Said("compare.exact.item_differs", index=i, student=quoted(s), expected=quoted(e),
                         count=len(student), expected_count=len(expected))
        if len(student) > len(expected):
            return Said("compare.exact.extra_items", count=len(student) - len(expected),
                        first=quoted(student[len(expected)]))
        return Said("compare.exact.missing_items", count=len(expected) - len(student),
                    first=quoted(expected[len(student)]))
    return Said("compare.exact.returned", student=quoted(student), expected=quoted(expected))


def _where(index) -> str | Said:
    return "[" + ", ".join(str(int(i)) for i in index) + "]" if len(index) else Said("compare.the_scalar")


def compare_values(student, expected, tolerance: Tolerance, name: str | Said | None = None) -> Verdict:
    """One value against its expected counterpart (`name`: what to call it, "the result" by default)."""
    if name is None:
        name = Said("compare.the_result")
    student_value = student
    if not isinstance(expected, np.ndarray) and not isinstance(expected, (float, np.floating)):
        # words, pairs, id lists: exact, with a readable diff
        s, e = plain(student), plain(expected)
        if _same(s, e):
            return Verdict("passed")
        if isinstance(s, np.ndarray):
            if isinstance(e, list) and s.ndim == 1 and s.dtype.kind in "iub":  # ids, but far too many of them
                return Verdict("failed", Said("compare.exact.named", name=name, diff=Said(
                    "compare.exact.returned", student=_describe(s), expected=quoted(e))), math.inf)
            return Verdict("failed", Said("compare.should_be_type", name=name, type=type(e).__name__, got=_describe(s)),
                           math.inf)
        return Verdict("failed", Said("compare.exact.named", name=name, diff=_exact_diff(s, e)), math.inf)
    expected = np.asarray(expected)
    if expected.ndim == 0 and (type(student) in (int, float) or isinstance(student, np.number)):
        student = _scalar_array(student)
        if student is None:  # an int beyond any float
            return Verdict("failed", Said("compare.too_large", name=name, value=quoted(student_value)), math.inf)
    if not isinstance(student, np.ndarray):
        return Verdict("failed", Said("compare.not_an_array", name=name, got=_describe(student)), math.inf)
    if expected.dtype.kind in "US":  # words in an array: compared exactly, as words
        if student.dtype.kind not in "US":
            return Verdict("failed", Said("compare.should_be_type", name=name, type=Said("compare.str_array"),
                                       got=_describe(student)), math.inf)
    elif expected.dtype.kind != "b" and student.dtype.kind not in NUMERIC_KINDS:
        return Verdict("failed", Said("compare.strings_not_numbers" if student.dtype.kind in "US" else "compare.not_numbers",
                                      name=name, dtype=str(student.dtype)), math.inf)
    if student.shape != expected.shape:
        return Verdict("failed", Said("compare.wrong_shape", name=name, shape=tuple(map(int, student.shape)),
                                            expected=tuple(map(int, expected.shape))),
                       math.inf,
                       {"student_shape": list(student.shape), "expected_shape": list(expected.shape)})
    with np.errstate(all="ignore"):
        return _compare_arrays(student, expected, tolerance, name)


def _scalar_array(value):
    """A number returned where the expected value is a scalar, as a 0-d array (an int keeps its
    exactness when it fits int64); None for an int too large for any float."""
    if type(value) is int and not -2**63 <= value < 2**63:
        try:
            return np.asarray(float(value))
        except OverflowError:
            return None
    return np.asarray(value)


def _compare_arrays(student, expected, tolerance, name) -> Verdict:
    """Two arrays of the same shape, `student` of a numeric (or boolean) dtype."""
    if expected.dtype.kind in "bUS" or tolerance.exact:
        if expected.dtype.kind == "b" and student.dtype.kind != "b":
            return Verdict("failed", Said("compare.not_boolean", name=name, dtype=str(student.dtype)), math.inf)
        wrong = student != expected
        if not np.any(wrong):
            return Verdict("passed")
        index = np.argwhere(wrong)[0]
        return Verdict("failed", Said("compare.exact_values_differ", name=name, count=int(wrong.sum()), size=int(wrong.size),
                                      where=_where(index), student=quoted(student[tuple(index)]),
                                      expected=quoted(expected[tuple(index)])),
                       math.inf, {"mismatches": int(wrong.sum())}, _heatmaps(student, expected))
    if student.dtype.kind in "iuf" and np.array_equal(student, expected):
        # every value exactly the expected one (no NaN: NaN never equals): no error anywhere, so
        # the full computation below could only end in a margin of 0 — said at a fraction of its cost
        return Verdict("passed", margin=0.0)
    s = student.astype(np.float64)
    e = expected.astype(np.float64)
    finite = np.isfinite(e)
    bad_special = (~finite & ~((s == e) | (np.isnan(s) & np.isnan(e)))) | (finite & ~np.isfinite(s))
    if np.any(bad_special):
        index = np.argwhere(bad_special)[0]
        count = int(bad_special.sum())
        return Verdict("failed", Said("compare.nonfinite", name=name, count=count, where=_where(index),
                                      student=float(s[tuple(index)]), expected=float(e[tuple(index)])),
                       math.inf, {"nonfinite": count}, _heatmaps(s, e))
    scale = max(1.0, float(np.max(np.abs(e[finite]), initial=0.0)))
    bound = tolerance.atol * scale + tolerance.rtol * np.abs(e)
    error = np.where(finite, np.abs(s - e), 0.0)  # inf when the difference overflows: a failure, still
    # error / bound, where a zero bound (atol 0, expected 0) allows no error at all: never 0/0
    ratio = np.divide(error, bound, out=np.where(error > 0, np.inf, 0.0), where=bound > 0)
    margin = float(np.max(ratio, initial=0.0))
    if margin <= 1.0:
        return Verdict("passed", margin=margin)
    wrong = ratio > 1.0
    index = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    rel = np.where(np.abs(e) > 0, error / np.where(np.abs(e) > 0, np.abs(e), 1.0), 0.0)
    details = {"max_abs_error": float(error.max()), "max_rel_error": float(np.max(np.where(finite, rel, 0))),
               "mismatches": int(wrong.sum()), "size": int(wrong.size), "fraction": float(wrong.mean()),
               "worst_index": [int(i) for i in index], "student_value": float(s[index]),
               "expected_value": float(e[index]), "margin": margin}
    return Verdict("failed", Said("compare.outside_tolerance", name=name, count=details["mismatches"],
                                  size=details["size"], percent=100 * details["fraction"], where=_where(index),
                                  student=float(s[index]), expected=float(e[index]),
                                  max_abs=details["max_abs_error"], max_rel=details["max_rel_error"]), margin, details, _heatmaps(s, e))


def _heatmaps(student, expected) -> dict:
    if student.ndim < 1 or student.ndim > 3 or student.size > 64 * 64 * 4 \
            or student.dtype.kind not in NUMERIC_KINDS or expected.dtype.kind not in NUMERIC_KINDS:
        return {}
    s, e = np.asarray(student, float), np.asarray(expected, float)
    return {"student": s, "expected": e, "difference": s - e}


_MISSING = object()


def _same_array(original: np.ndarray, new) -> bool:
    """Is `new` still `original` (an input array after the call)? Anything else — another type,
    dtype or shape, strings where numbers were — is a change; never an exception."""
    if type(new) is not np.ndarray or new.dtype != original.dtype or new.shape != original.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(np.array_equal(new, original, equal_nan=original.dtype.kind in "fc"))


def _inputs_changed(before: dict, after, depth: int = 0) -> str | None:
    """The name of the first input the call changed (an array's values, dtype or shape; a dict's
    or a list's arrays), or None. `after`: what the worker sent back, untrusted: any type, extra
    or missing keys, values of any size."""
    if type(after) is not dict or depth > 12:
        return None
    for name, original in before.items():
        new = after.get(name, _MISSING)
        if isinstance(original, np.ndarray):
            if not _same_array(original, new):
                return name
        elif isinstance(original, (dict, list)):
            if isinstance(original, list):
                if type(new) is not list or len(new) != len(original):
                    return name if any(isinstance(v, (np.ndarray, dict)) for v in original) else None
                original, new = dict(enumerate(original)), dict(enumerate(new))
            elif type(new) is not dict:
                return name
            inner = _inputs_changed(original, new, depth + 1)
            if inner:
                return f"{name}[{inner!r}]"
    return None


def compare(case: CaseSpec, spec: FunctionSpec, expected: Expected, outcome: Outcome) -> Verdict:
    timing = {"duration": round(outcome.duration, 6)}
    if outcome.status == "timeout":
        if outcome.skipped:  # not run: its function (or one it calls) timed out twice
            return Verdict("timeout", Said("compare.not_run", detail=outcome.detail), details=timing)
        return Verdict("timeout", Said("compare.timeout", timeout=case.timeout), details=timing)
    if outcome.status in ("crash", "rejected"):  # the worker died or misbehaved: the class overview counts it
        return Verdict("error", outcome.detail, details={**timing, "worker": outcome.status})
    if outcome.status == "missing":
        return Verdict("missing", Said("compare.missing", function=case.function))
    if outcome.status == "raised":
        exc = outcome.exception or {}
        mro = exc.get("mro") or [exc.get("type") or "Exception"]
        if "NotImplementedError" in mro:
            return Verdict("not_implemented", Said("compare.not_implemented", function=case.function))
        if expected.error:
            if expected.error in mro:
                return Verdict("passed", details=timing)
            return Verdict("failed", Said("compare.raised_other", type=exc.get("type"), message=exc.get("message", ""),
                                       expected=expected.error),
                           math.inf, {"traceback": exc.get("traceback", [])})
        return Verdict("error", Said("compare.raised", type=exc.get("type"), message=exc.get("message", ""))
                       if exc.get("message") else Said("compare.raised_no_message", type=exc.get("type")),
                       math.inf, {"traceback": exc.get("traceback", [])})
    if outcome.status == "unsupported":
        return Verdict("failed", Said("compare.unsupported", detail=outcome.detail), math.inf)
    if expected.error:
        return Verdict("failed", Said("compare.should_raise", error=expected.error, got=_describe(outcome.value)),
                       math.inf)
    student = outcome.value
    if spec.outputs:
        if not isinstance(student, (tuple, list)) or len(student) != len(spec.outputs):
            return Verdict("failed", Said("compare.should_return_tuple", outputs=", ".join(spec.outputs),
                                       got=_describe(student)), math.inf)
        verdicts = [compare_values(s, e, case.tolerance, name)
                    for s, e, name in zip(student, expected.value, spec.outputs)]
        worst = max(verdicts, key=lambda v: v.margin)
        failed = [v for v in verdicts if v.status != "passed"]
        verdict = Verdict(failed[0].status if failed else "passed", joined(v.said for v in failed),
                          worst.margin, failed[0].details if failed else {},
                          {f"{name}/{k}": a for v, name in zip(verdicts, spec.outputs) for k, a in v.arrays.items()})
    else:
        verdict = compare_values(student, expected.value, case.tolerance)
    if verdict.status == "passed":
        changed = _inputs_changed(expected.inputs, outcome.inputs_after)
        if changed:
            return Verdict("failed", Said("compare.modified_input", name=changed), math.inf)
    verdict.details.update(timing)
    return verdict
