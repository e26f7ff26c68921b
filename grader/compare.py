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
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    if value is None:
        return "None (did you forget `return`?)"
    return f"a {type(value).__name__} ({str(value)[:60]})"


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
                return f"item {i} is {s!r}, expected {e!r} ({len(student)} items, expected {len(expected)})"
        if len(student) > len(expected):
            return f"{len(student) - len(expected)} extra item(s) at the end, from {student[len(expected)]!r}"
        return f"{len(expected) - len(student)} item(s) missing at the end, from {expected[len(student)]!r}"
    return f"returned {student!r}, expected {expected!r}"


def _where(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]" if len(index) else "(the scalar)"


def compare_values(student, expected, tolerance: Tolerance, name: str = "the result") -> Verdict:
    """One value against its expected counterpart."""
    if not isinstance(expected, np.ndarray) and not isinstance(expected, (float, np.floating)):
        # words, pairs, id lists: exact, with a readable diff
        s, e = _plain(student), _plain(expected)
        if _same(s, e):
            return Verdict("passed")
        if isinstance(s, np.ndarray):
            return Verdict("failed", f"{name} should be a {type(e).__name__} (see the contract), got {_describe(s)}",
                           math.inf)
        return Verdict("failed", f"{name}: {_exact_diff(s, e)}", math.inf)
    expected = np.asarray(expected)
    if isinstance(student, (int, float, np.number)) and not isinstance(student, bool) and expected.ndim == 0:
        student = np.asarray(student)
    if not isinstance(student, np.ndarray):
        return Verdict("failed", f"{name} should be a NumPy array, got {_describe(student)}", math.inf)
    if student.shape != expected.shape:
        return Verdict("failed", f"{name} has shape {student.shape}, expected {expected.shape}", math.inf,
                       {"student_shape": list(student.shape), "expected_shape": list(expected.shape)})
    if expected.dtype.kind == "b" or tolerance.exact:
        if expected.dtype.kind == "b" and student.dtype.kind != "b":
            return Verdict("failed", f"{name} should be a boolean array, got dtype {student.dtype}", math.inf)
        wrong = student != expected
        if not np.any(wrong):
            return Verdict("passed")
        index = np.argwhere(wrong)[0]
        return Verdict("failed", f"{name}: {int(wrong.sum())} of {wrong.size} values differ; first at "
                       f"{_where(index)}: {student[tuple(index)].item()!r}, expected {expected[tuple(index)].item()!r}",
                       math.inf, {"mismatches": int(wrong.sum())}, _heatmaps(student, expected))
    s = student.astype(np.float64)
    e = expected.astype(np.float64)
    finite = np.isfinite(e)
    bad_special = (~finite & ~((s == e) | (np.isnan(s) & np.isnan(e)))) | (finite & ~np.isfinite(s))
    if np.any(bad_special):
        index = np.argwhere(bad_special)[0]
        count = int(bad_special.sum())
        return Verdict("failed", f"{name} holds {count} NaN/inf value(s) where the expected values are finite "
                       f"(or the reverse); first at {_where(index)}: {s[tuple(index)]:.6g}, expected "
                       f"{e[tuple(index)]:.6g}", math.inf, {"nonfinite": count}, _heatmaps(s, e))
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
    return Verdict("failed", f"{name}: {details['mismatches']} of {details['size']} values "
                   f"({100 * details['fraction']:.0f}%) outside tolerance; worst at {_where(index)}: "
                   f"{s[index]:.6g}, expected {e[index]:.6g} (max abs error {details['max_abs_error']:.3g}, "
                   f"max rel error {details['max_rel_error']:.3g})", margin, details, _heatmaps(s, e))


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
        if outcome.detail.startswith("not run"):
            return Verdict("timeout", f"{outcome.detail} (an infinite loop?)", details=timing)
        return Verdict("timeout", f"took longer than {case.timeout:g} s: stopped (an infinite loop?)", details=timing)
    if outcome.status in ("crash", "rejected"):
        return Verdict("error", outcome.detail, details=timing)
    if outcome.status == "missing":
        return Verdict("missing", f"no function {case.function}() found: define it with this exact name")
    if outcome.status == "raised":
        exc = outcome.exception or {}
        mro = exc.get("mro") or [exc.get("type") or "Exception"]
        if "NotImplementedError" in mro:
            return Verdict("not_implemented", f"{case.function}() is not implemented yet (it raises NotImplementedError)")
        if expected.error:
            if expected.error in mro:
                return Verdict("passed", details=timing)
            return Verdict("failed", f"raised {exc.get('type')}: {exc.get('message', '')}; expected {expected.error}",
                           math.inf, {"traceback": exc.get("traceback", [])})
        return Verdict("error", f"raised {exc.get('type')}: {exc.get('message', '')}".strip(),
                       math.inf, {"traceback": exc.get("traceback", [])})
    if outcome.status == "unsupported":
        return Verdict("failed", f"returned something that is not plain data: {outcome.detail}", math.inf)
    if expected.error:
        return Verdict("failed", f"should raise {expected.error} for these inputs (see the contract), "
                       f"but returned {_describe(outcome.value)}", math.inf)
    student = outcome.value
    if spec.outputs:
        if not isinstance(student, (tuple, list)) or len(student) != len(spec.outputs):
            return Verdict("failed", f"should return a tuple ({', '.join(spec.outputs)}), "
                           f"got {_describe(student)}", math.inf)
        verdicts = [compare_values(s, e, case.tolerance, name)
                    for s, e, name in zip(student, expected.value, spec.outputs)]
        worst = max(verdicts, key=lambda v: v.margin)
        failed = [v for v in verdicts if v.status != "passed"]
        verdict = Verdict(failed[0].status if failed else "passed", "; ".join(v.message for v in failed),
                          worst.margin, failed[0].details if failed else {},
                          {f"{name}/{k}": a for v, name in zip(verdicts, spec.outputs) for k, a in v.arrays.items()})
    else:
        verdict = compare_values(student, expected.value, case.tolerance)
    if verdict.status == "passed":
        changed = _inputs_changed(expected.inputs, outcome.inputs_after)
        if changed:
            return Verdict("failed", f"modified its input `{changed}` in place: the contract says functions "
                           f"must not modify their inputs (work on a copy, e.g. x = x - x.max(...))", math.inf)
    verdict.details.update(timing)
    return verdict
