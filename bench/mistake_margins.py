"""How far each classic mistake (`reference/mistakes.py`) lands from the expected values.

    python bench/mistake_margins.py [--seed N]

For every registered mistake, every case of the assignment that grades its function is run
twice: the reference gives the expected value (or expected error), the variant runs on a copy
of the same inputs. A case's margin is the variant's worst error in units of the case's
tolerance (`grader.compare.compare_values`); it is infinite when the variant raises where
the reference does not (or the reverse), returns the wrong shape, type or an exact value that
differs, puts NaN/inf where the expected values are finite, or modifies its inputs. A margin
above 1 fails the case; `tests/test_mistakes.py` asks every mistake to fail at least one case
by more than 100 times its tolerance, and imports `margins` / `case_margins` from here.

Prints a Markdown table: mistake, function, cases of that function, cases failed, the smallest
and the largest failing margin ("exact", "shape", "inf" (NaN/inf), "error" (wrong exception
behaviour) or "modified" (input modified) for the infinite ones).
Exits with status 1 when some mistake is not caught by more than 100 tolerances.
"""
from __future__ import annotations

import argparse
import copy
import math
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.assignment import load_assignment  # noqa: E402
from grader.cases import CaseBuilder  # noqa: E402
from grader.compare import compare_values  # noqa: E402
from grader.expected import ReferenceOracle  # noqa: E402

ASSIGNMENT = ROOT / "assignment.yaml"
CAUGHT = 100.0  # a mistake is "caught" when some case fails by more than this many tolerances


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


def _why(verdict) -> str:
    if verdict.status == "passed":
        return "passed"
    if math.isfinite(verdict.margin):
        return "tolerance"
    if "nonfinite" in verdict.details:
        return "nonfinite"
    if "shape" in verdict.message or "should be" in verdict.message:
        return "shape"
    return "exact"


def compare_outputs(value, expected, case, outputs) -> tuple[float, str]:
    """(margin, why) of one returned value; tuple outputs compared component-wise (worst)."""
    if outputs:
        if not isinstance(value, (tuple, list)) or len(value) != len(outputs):
            return math.inf, "shape"
        verdicts = [compare_values(s, e, case.tolerance, name)
                    for s, e, name in zip(value, expected, outputs)]
    else:
        verdicts = [compare_values(value, expected, case.tolerance)]
    worst = max(verdicts, key=lambda v: v.margin)
    return worst.margin, _why(worst)


def run_variant(fn, inputs):
    """Call `fn` on a deep copy of `inputs`, quietly: (value, exception, inputs after the call)."""
    args = copy.deepcopy(inputs)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn(*args.values()), None, args
        except Exception as exc:  # a variant that raises is an outcome, not a bench failure
            return None, exc, args


class Bench:
    """The assignment, its case builder and reference, loaded once."""

    def __init__(self, assignment=None, seed: int | None = None):
        self.assignment = assignment if assignment is not None else load_assignment(ASSIGNMENT)
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


def case_margins(mistake, assignment=None, seed: int | None = None) -> list[Margin]:
    """Every case of `mistake.function`, with the variant's margin and why."""
    return Bench(assignment, seed).case_margins(mistake)


def margins(mistake, assignment=None, seed: int | None = None) -> list[tuple[str, float]]:
    """[(case id, margin)] for every case of `mistake.function`."""
    return [(m.case_id, m.value) for m in case_margins(mistake, assignment, seed)]


def table(bench: Bench, mistakes) -> tuple[str, list[str]]:
    """The Markdown table, and the names of the mistakes no case fails by more than CAUGHT."""
    rows = ["| mistake | function | cases | failing | smallest failing margin | largest margin |",
            "| --- | --- | ---: | ---: | ---: | ---: |"]
    missed = []
    for mistake in mistakes:
        found = bench.case_margins(mistake)
        failing = sorted((m for m in found if m.value > 1.0), key=lambda m: m.value)
        largest = max(found, key=lambda m: m.value, default=None)
        if largest is None or not largest.value > CAUGHT:
            missed.append(mistake.name)
        rows.append(f"| {mistake.name} | {mistake.exercise}.{mistake.function} | {len(found)} | {len(failing)} "
                    f"| {failing[0].label if failing else '—'} | {largest.label if largest else '—'} |")
    return "\n".join(rows), missed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=None, help="seed of the random cases (default: the assignment's)")
    args = parser.parse_args(argv)
    from reference.mistakes import MISTAKES

    bench = Bench(seed=args.seed)
    text, missed = table(bench, MISTAKES)
    print(f"Mistake margins (seed {bench.seed}; margin = worst error / tolerance; "
          f"a case fails above 1, a mistake is caught above {CAUGHT:g})\n")
    print(text)
    print()
    if missed:
        print(f"Not caught by {CAUGHT:g}x: {', '.join(missed)}")
    else:
        print(f"Every one of the {len(MISTAKES)} mistakes fails some case by more than {CAUGHT:g}x its tolerance.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
