"""How often diagnosis names the right mistake.

    python bench/diagnosis_accuracy.py [--seed N]

A corpus generated from the variants: for every mistake of `reference/mistakes.py`, a
submission whose function is that variant, graded on every case of its function (public and
hidden). On each case it fails, the grader's diagnosis must name that mistake — or a variant
that returns exactly the same output on that case (indistinguishable there, so not a
confusion). Then the correct submissions: the reference, and the reference computing in
float32, must never get a diagnosis. Prints a Markdown table and exits 1 below 100%.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.model.assignment import load_assignment  # noqa: E402
from grader.instructor.accuracy import accuracy  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int)
    args = p.parse_args(argv)
    assignment = load_assignment(ROOT / "assignment.yaml")
    rows, false, correct_failing = accuracy(assignment, args.seed)
    print("| mistake | function | failing cases | named right | accuracy |")
    print("| --- | --- | ---: | ---: | ---: |")
    total = right = 0
    for m, failing, named, wrong in rows:
        total, right = total + failing, right + named
        print(f"| {m.name} | {m.exercise}.{m.function} | {failing} | {named} | "
              f"{(100 * named / failing if failing else 100):.0f}% |")
        for w in wrong[:3]:
            print(f"|   ↳ {w} | | | | |")
    print(f"\n{right}/{total} failing cases diagnosed right ({100 * right / max(total, 1):.1f}%); "
          f"{len(rows)} mistakes; correct submissions (float64 and float32): {correct_failing} failing cases, "
          f"{len(false)} diagnosed (false diagnoses)")
    for f in false[:10]:
        print("  false:", f)
    return 0 if right == total and not false else 1


if __name__ == "__main__":
    sys.exit(main())
