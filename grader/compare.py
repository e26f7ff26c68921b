"""Compare one outcome with its expected value, in stages, each with its own plain message:
raised → not an array → wrong shape → NaN/inf → outside tolerance → input modified.

`Verdict.margin` is the worst error in units of the tolerance (inf for exact mismatches),
which tests use to prove each classic mistake fails by far.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .assignment import CaseSpec, FunctionSpec, Tolerance
from .expected import Expected
from .i18n import t
from .sandbox import Outcome


@dataclass
class Verdict:
    status: str                    # passed | failed | error | timeout | not_implemented | missing | violation
    message: str = ""
    margin: float = 0.0
    details: dict = field(default_factory=dict)   # numbers for the report (JSON-safe)
    arrays: dict = field(default_factory=dict)    # student / expected / difference, for heatmaps


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return t("compare.describe.array", shape=value.shape, dtype=value.dtype)
    if isinstance(value, (list, tuple)):
        return t("compare.describe.sequence", type=type(value).__name__, count=len(value))
    if value is None:
        return t("compare.describe.none")
    return t("compare.describe.other", type=type(value).__name__, text=str(value)[:60])


def _plain(value):
    """Containers normalised for exact comparison: tuples and 1-D int arrays become lists."""
    if isinstance(value, np.ndarray) and value.ndim <= 1 and value.dtype.kind in "iub":
        return [int(v) for v in np.atleast_1d(value)] if value.ndim == 1 else int(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
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
    return (numbers or type(a) is type(b)) and a == b


def _exact_diff(student, expected) -> str:
    if isinstance(expected, list) and isinstance(student, list):
        for i, (s, e) in enumerate(zip(student, expected)):
            if not _same(s, e):
                return t("compare.exact.item_differs", index=i, student=s, expected=e, count=len(student),
                         expected_count=len(expected))
        if len(student) > len(expected):
            return t("compare.exact.extra_items", count=len(student) - len(expected), first=student[len(expected)])
        return t("compare.exact.missing_items", count=len(expected) - len(student), first=expected[len(student)])
    return t("compare.exact.returned", student=student, expected=expected)


def _where(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]" if len(index) else t("compare.the_scalar")


def compare_values(student, expected, tolerance: Tolerance, name: str | None = None) -> Verdict:
    """One value against its expected counterpart (`name`: what to call it, "the result" by default)."""
    if name is None:
        name = t("compare.the_result")
    if not isinstance(expected, np.ndarray) and not isinstance(expected, (float, np.floating)):
        # words, pairs, id lists: exact, with a readable diff
        s, e = _plain(student), _plain(expected)
        if _same(s, e):
            return Verdict("passed")
        if isinstance(s, np.ndarray):
            return Verdict("failed", t("compare.should_be_type", name=name, type=type(e).__name__, got=_describe(s)),
                           math.inf)
        return Verdict("failed", t("compare.exact.named", name=name, diff=_exact_diff(s, e)), math.inf)
    expected = np.asarray(expected)
    if isinstance(student, (int, float, np.number)) and not isinstance(student, bool) and expected.ndim == 0:
        student = np.asarray(student)
    if not isinstance(student, np.ndarray):
        return Verdict("failed", t("compare.not_an_array", name=name, got=_describe(student)), math.inf)
    if student.shape != expected.shape:
        return Verdict("failed", t("compare.wrong_shape", name=name, shape=student.shape, expected=expected.shape),
                       math.inf,
                       {"student_shape": list(student.shape), "expected_shape": list(expected.shape)})
    if expected.dtype.kind == "b" or tolerance.exact:
        if expected.dtype.kind == "b" and student.dtype.kind != "b":
            return Verdict("failed", t("compare.not_boolean", name=name, dtype=student.dtype), math.inf)
        wrong = student != expected
        if not np.any(wrong):
            return Verdict("passed")
        index = np.argwhere(wrong)[0]
        return Verdict("failed", t("compare.exact_values_differ", name=name, count=int(wrong.sum()), size=wrong.size,
                                   where=_where(index), student=student[tuple(index)].item(),
                                   expected=expected[tuple(index)].item()),
                       math.inf, {"mismatches": int(wrong.sum())}, _heatmaps(student, expected))
    s = student.astype(np.float64)
    e = expected.astype(np.float64)
    finite = np.isfinite(e)
    bad_special = (~finite & ~((s == e) | (np.isnan(s) & np.isnan(e)))) | (finite & ~np.isfinite(s))
    if np.any(bad_special):
        index = np.argwhere(bad_special)[0]
        count = int(bad_special.sum())
        return Verdict("failed", t("compare.nonfinite", name=name, count=count, where=_where(index),
                                   student=s[tuple(index)], expected=e[tuple(index)]),
                       math.inf, {"nonfinite": count}, _heatmaps(s, e))
    scale = max(1.0, float(np.max(np.abs(e[finite]), initial=0.0)))
    bound = tolerance.atol * scale + tolerance.rtol * np.abs(e)
    error = np.where(finite, np.abs(s - e), 0.0)
    ratio = np.where(finite, error / bound, 0.0)
    margin = float(np.max(ratio, initial=0.0))
    if margin <= 1.0:
        return Verdict("passed", margin=margin)
    wrong = ratio > 1.0
    index = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    with np.errstate(all="ignore"):
        rel = np.where(np.abs(e) > 0, error / np.where(np.abs(e) > 0, np.abs(e), 1.0), 0.0)
    details = {"max_abs_error": float(error.max()), "max_rel_error": float(np.max(np.where(finite, rel, 0))),
               "mismatches": int(wrong.sum()), "size": int(wrong.size), "fraction": float(wrong.mean()),
               "worst_index": [int(i) for i in index], "student_value": float(s[index]),
               "expected_value": float(e[index]), "margin": margin}
    return Verdict("failed", t("compare.outside_tolerance", name=name, count=details["mismatches"],
                               size=details["size"], percent=100 * details["fraction"], where=_where(index),
                               student=s[index], expected=e[index], max_abs=details["max_abs_error"],
                               max_rel=details["max_rel_error"]), margin, details, _heatmaps(s, e))


def _heatmaps(student, expected) -> dict:
    if student.ndim < 1 or student.ndim > 3 or student.size > 64 * 64 * 4:
        return {}
    s, e = np.asarray(student, float), np.asarray(expected, float)
    return {"student": s, "expected": e, "difference": s - e}


def _inputs_changed(before: dict, after) -> str | None:
    if not isinstance(after, dict):
        return None
    for name, original in before.items():
        if isinstance(original, np.ndarray):
            new = after.get(name)
            if not isinstance(new, np.ndarray) or new.shape != original.shape or not np.array_equal(
                    new, original, equal_nan=original.dtype.kind == "f"):
                return name
        elif isinstance(original, (dict, list)):
            new = after.get(name)
            if isinstance(original, list):
                if not isinstance(new, list) or len(new) != len(original):
                    return name if any(isinstance(v, (np.ndarray, dict)) for v in original) else None
                original, new = dict(enumerate(original)), dict(enumerate(new))
            inner = _inputs_changed(original, new)
            if inner:
                return f"{name}[{inner!r}]"
    return None


def compare(case: CaseSpec, spec: FunctionSpec, expected: Expected, outcome: Outcome) -> Verdict:
    timing = {"duration": round(outcome.duration, 6)}
    if outcome.status == "timeout":
        if outcome.skipped:  # not run: its function (or one it calls) timed out twice
            return Verdict("timeout", t("compare.not_run", detail=outcome.detail), details=timing)
        return Verdict("timeout", t("compare.timeout", timeout=case.timeout), details=timing)
    if outcome.status in ("crash", "rejected"):  # the worker died or misbehaved: the class overview counts it
        return Verdict("error", outcome.detail, details={**timing, "worker": outcome.status})
    if outcome.status == "missing":
        return Verdict("missing", t("compare.missing", function=case.function))
    if outcome.status == "raised":
        exc = outcome.exception or {}
        mro = exc.get("mro") or [exc.get("type") or "Exception"]
        if "NotImplementedError" in mro:
            return Verdict("not_implemented", t("compare.not_implemented", function=case.function))
        if expected.error:
            if expected.error in mro:
                return Verdict("passed", details=timing)
            return Verdict("failed", t("compare.raised_other", type=exc.get("type"), message=exc.get("message", ""),
                                       expected=expected.error),
                           math.inf, {"traceback": exc.get("traceback", [])})
        return Verdict("error", t("compare.raised", type=exc.get("type"), message=exc.get("message", "")).strip(),
                       math.inf, {"traceback": exc.get("traceback", [])})
    if outcome.status == "unsupported":
        return Verdict("failed", t("compare.unsupported", detail=outcome.detail), math.inf)
    if expected.error:
        return Verdict("failed", t("compare.should_raise", error=expected.error, got=_describe(outcome.value)),
                       math.inf)
    student = outcome.value
    if spec.outputs:
        if not isinstance(student, (tuple, list)) or len(student) != len(spec.outputs):
            return Verdict("failed", t("compare.should_return_tuple", outputs=", ".join(spec.outputs),
                                       got=_describe(student)), math.inf)
        verdicts = [compare_values(s, e, case.tolerance, name)
                    for s, e, name in zip(student, expected.value, spec.outputs)]
        worst = max(verdicts, key=lambda v: v.margin)
        failed = [v for v in verdicts if v.status != "passed"]
        verdict = Verdict(failed[0].status if failed else "passed", t("compare.separator").join(v.message for v in failed),
                          worst.margin, failed[0].details if failed else {},
                          {f"{name}/{k}": a for v, name in zip(verdicts, spec.outputs) for k, a in v.arrays.items()})
    else:
        verdict = compare_values(student, expected.value, case.tolerance)
    if verdict.status == "passed":
        changed = _inputs_changed(expected.inputs, outcome.inputs_after)
        if changed:
            return Verdict("failed", t("compare.modified_input", name=changed), math.inf)
    verdict.details.update(timing)
    return verdict
