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
import copy
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.assignment import load_assignment  # noqa: E402
from grader.compare import compare  # noqa: E402
from grader.diagnosis import Diagnoser, load_mistakes, variant_outputs  # noqa: E402
from grader.engine import Expectations, select_cases  # noqa: E402
from grader.sandbox import Outcome  # noqa: E402
from grader.variants import same_inputs  # noqa: E402


def run(fn, inputs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn(*copy.deepcopy(inputs).values()), None
        except Exception as exc:
            return None, exc


def as_float32(value):
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        return value.astype(np.float32)
    if isinstance(value, dict):
        return {k: as_float32(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(as_float32(v) for v in value)
    return value


def accuracy(assignment, seed=None):
    """Rows per mistake, and the false diagnoses on correct submissions."""
    mistakes = load_mistakes(assignment)
    diagnoser = Diagnoser(assignment, mistakes)
    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment), seed=seed)
    rows = []
    for m in mistakes:
        failing = named = 0
        wrong = []
        for case in plan.cases:
            if case.function != m.function or case.exercise != m.exercise:
                continue
            expected = plan.expected[case.id]
            value, exc = run(m.implementation, expected.inputs)
            if exc is not None or expected.error:
                continue  # an exception is explained by its message, not by diagnosis
            spec = assignment.exercise(case.exercise).functions[case.function]
            verdict = compare(case, spec, expected, Outcome("returned", value=value, inputs_after=expected.inputs))
            if verdict.status != "failed":
                continue
            failing += 1
            found = diagnoser.diagnose(case, expected.inputs, value, expected.value)
            twins = {name for name, out in variant_outputs(mistakes, case, expected.inputs).items()
                     if same_inputs(out, value)}
            if found is not None and (found.name == m.name or found.name in twins):
                named += 1
            else:
                wrong.append(f"{case.id}: {found.name if found else 'nothing'}")
        rows.append((m, failing, named, wrong))
    false, correct_failing = [], 0
    for label, convert in (("reference", lambda v: v), ("reference in float32", as_float32)):
        for case in plan.cases:
            expected = plan.expected[case.id]
            if expected.error:
                continue
            value, exc = run(diagnoser_reference(assignment, case), convert(expected.inputs))
            if exc is not None:
                continue
            spec = assignment.exercise(case.exercise).functions[case.function]
            verdict = compare(case, spec, expected, Outcome("returned", value=value, inputs_after=expected.inputs))
            if verdict.status != "failed":
                continue
            correct_failing += 1  # e.g. float32 beyond a float64 tolerance: a failure, but no mistake
            if diagnoser.diagnose(case, expected.inputs, value, expected.value) is not None:
                false.append(f"{label}: {case.id}")
    return rows, false, correct_failing


def diagnoser_reference(assignment, case):
    import importlib
    return getattr(importlib.import_module(f"{assignment.reference}.{case.exercise}"), case.function)


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
