"""How far each classic mistake (`reference/mistakes.py`) lands from the expected values.

    python bench/mistake_margins.py [--seed N]

For every registered mistake, every case of the assignment that grades its function is run
twice: the reference gives the expected value (or expected error), the variant runs on a copy
of the same inputs. A case's margin is the variant's worst error in units of the case's
tolerance (`grader.grading.compare.compare_values`); it is infinite when the variant raises where
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
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.model.assignment import load_assignment  # noqa: E402
from grader.grading.variants import Margin, Variants  # noqa: E402,F401  (Margin: imported by the tests)

ASSIGNMENT = ROOT / "assignment.yaml"
CAUGHT = 100.0  # a mistake is "caught" when some case fails by more than this many tolerances


def Bench(assignment=None, seed: int | None = None) -> Variants:
    return Variants(assignment if assignment is not None else load_assignment(ASSIGNMENT), seed)


def case_margins(mistake, assignment=None, seed: int | None = None) -> list[Margin]:
    """Every case of `mistake.function`, with the variant's margin and why."""
    return Bench(assignment, seed).case_margins(mistake)


def margins(mistake, assignment=None, seed: int | None = None) -> list[tuple[str, float]]:
    """[(case id, margin)] for every case of `mistake.function`."""
    return [(m.case_id, m.value) for m in case_margins(mistake, assignment, seed)]


def table(bench: Variants, mistakes) -> tuple[str, list[str]]:
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
