"""Mistake variants run on the cases' inputs: how far each lands from the expected values.

A variant (`reference/mistakes.py`) is trusted instructor code, so it runs here, in the
grader's process, on a deep copy of a case's inputs. A case's margin is the variant's worst
error in units of the case's tolerance (`grader.grading.compare.compare_values`); it is infinite when
the variant raises where the reference does not (or the reverse), returns the wrong shape,
type or an exact value that differs, puts NaN/inf where the expected values are finite, or
modifies its inputs. A margin above 1 fails the case. Used by `grade validate` and by
`bench/mistake_margins.py`.
"""
from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass

import numpy as np

from grader.grading.cases import CaseBuilder
from grader.grading.compare import plain, compare_values
from grader.grading.expected import ReferenceOracle


@dataclass(frozen=True)
class Margin:
    case_id: str
    value: float   # worst error in units of the tolerance; inf when not comparable
    why: str       # tolerance | exact | shape | nonfinite | error | modified | passed

    @property
    def label(self) -> str:
        """How the margin reads in the table."""
        if math.isfinite(self.value):
            return f"{self.value:.3g}"
        return {"nonfinite": "inf", "exact": "exact", "shape": "shape",
                "error": "error", "modified": "modified"}.get(self.why, "inf")


def same_inputs(a, b) -> bool:
    """Exact equality of two input structures (arrays: dtype, shape and values, NaN = NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_inputs(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same_inputs, a, b))
    return type(a) is type(b) and a == b


def _why(verdict, value, expected) -> str:
    """Why `value` fails against `expected`, from the verdict's data, never its message (which is
    in the language of the run)."""
    if verdict.status == "passed":
        return "passed"
    if math.isfinite(verdict.margin):
        return "tolerance"
    if "nonfinite" in verdict.details:
        return "nonfinite"
    if "student_shape" in verdict.details:
        return "shape"    # an array of the wrong shape
    if "mismatches" in verdict.details:
        return "exact"    # exact values that differ
    if not isinstance(expected, (np.ndarray, float, np.floating)) and not isinstance(plain(value), np.ndarray):
        return "exact"    # words, pairs, ids that differ
    return "shape"        # not an array, not a boolean array, an array where a list is expected


def compare_outputs(value, expected, case, outputs) -> tuple[float, str]:
    """(margin, why) of one returned value; tuple outputs compared component-wise (worst)."""
    if outputs:
        if not isinstance(value, (tuple, list)) or len(value) != len(outputs):
            return math.inf, "shape"
        verdicts = [(compare_values(s, e, case.tolerance, name), s, e)
                    for s, e, name in zip(value, expected, outputs)]
    else:
        verdicts = [(compare_values(value, expected, case.tolerance), value, expected)]
    worst, s, e = max(verdicts, key=lambda v: v[0].margin)
    return worst.margin, _why(worst, s, e)


def run_variant(fn, inputs):
    """Call `fn` on a deep copy of `inputs`, quietly: (value, exception, inputs after the call)."""
    args = copy.deepcopy(inputs)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn(*args.values()), None, args
        except Exception as exc:  # a variant that raises is an outcome, not a bench failure
            return None, exc, args


class Variants:
    """The assignment, its case builder and reference, loaded once: runs mistake variants
    (trusted instructor code) in this process, on the cases' inputs."""

    def __init__(self, assignment, seed: int | None = None):
        self.assignment = assignment
        self.seed = self.assignment.seed if seed is None else seed
        self.builder = CaseBuilder(self.assignment)
        self.oracle = ReferenceOracle(self.assignment)

    def cases_of(self, function: str):
        return [c for c in self.assignment.cases() if c.function == function]

    def case_margin(self, mistake, case) -> Margin:
        inputs = self.builder.inputs(case, self.seed)
        expected = self.oracle.expected(case, inputs)
        pristine = copy.deepcopy(inputs)
        value, exc, after = run_variant(mistake.implementation, inputs)
        if expected.error:
            raised_right = exc is not None and expected.error in [k.__name__ for k in type(exc).__mro__]
            margin, why = (0.0, "passed") if raised_right else (math.inf, "error")
        elif exc is not None:
            margin, why = math.inf, "error"
        else:
            outputs = self.assignment.exercise(case.exercise).functions[case.function].outputs
            margin, why = compare_outputs(value, expected.value, case, outputs)
        if not same_inputs(after, pristine):
            margin, why = math.inf, "modified"
        return Margin(case.id, margin, why)

    def case_margins(self, mistake) -> list[Margin]:
        return [self.case_margin(mistake, case) for case in self.cases_of(mistake.function)]
