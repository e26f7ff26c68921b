"""The naive baseline for `grade bulk`: one submission, checked in this one fresh process.

    python bench/naive_check.py SUBMISSION STUDENT_ID

What an nbgrader-style autograder does per student, with the grader's own cases and
comparison and nothing else: import NumPy and the case machinery, compute every case (public,
and this student's hidden ones) with its inputs and expected value from the reference
(`Expectations(assignment, use_reference=True).plan(select_cases(assignment), student=ID)`),
import the student's code directly in this process (no sandbox, no worker, no per-case
timeout, no report), call each function in turn, compare with `grader.grading.compare.compare`, and
print `score S/MAX passed P/N`.

SUBMISSION is a graded entry as `grader.bulk.intake.discover` gives it: a folder (with or without
an `exercises/` inside), a `.py` or a `.ipynb` (zips are extracted by intake beforehand). A
folder is read with `grader.grading.submission.load_submission` and staged as the package `exercises`
in a temporary folder put first on sys.path; a `.py` or notebook runs its code cells in order
in one namespace (a cell that raises is skipped, as in the grader's cells mode).

A submission that loops forever hangs this process: the caller's timeout kills it (30 s, as
nbgrader's default cell timeout). One that calls os._exit ends it with no score line.
"""
from __future__ import annotations

import copy
import importlib
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after everything: the course's own exercises/ (stubs) must never win

import numpy  # noqa: E402,F401  (what a notebook imports first)

from grader.model.assignment import load_assignment  # noqa: E402
from grader.grading.compare import compare  # noqa: E402
from grader.grading.engine import Expectations, select_cases  # noqa: E402
from grader.sandbox.supervisor import Outcome  # noqa: E402
from grader.grading.submission import load_submission  # noqa: E402


def student_functions(path: Path, package: str, stage: Path):
    """A function (module, name) -> the student's function or None."""
    submission = load_submission(path, package)
    if submission.kind == "package":
        submission.stage(package)(stage)
        sys.path.insert(0, str(stage))
        for name in [m for m in list(sys.modules) if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
        modules = {}

        def get(module, name):
            if module not in modules:
                try:
                    modules[module] = importlib.import_module(f"{package}.{module}")
                except Exception:
                    traceback.print_exc()
                    modules[module] = None
            return getattr(modules[module], name, None)
        return get
    namespace = {"__name__": "__main__"}
    for cell in submission.cells:
        try:
            exec(compile(cell["source"], cell["label"], "exec"), namespace)
        except Exception:
            traceback.print_exc()
    return lambda module, name: namespace.get(name)


def outcome_of(fn, inputs: dict) -> Outcome:
    if fn is None:
        return Outcome("missing")
    args = copy.deepcopy(inputs)
    started = time.perf_counter()
    try:
        value = fn(*args.values())
    except Exception as exc:
        return Outcome("raised", exception={"type": type(exc).__name__, "message": str(exc)[:200],
                                             "mro": [c.__name__ for c in type(exc).__mro__]},
                       duration=time.perf_counter() - started)
    return Outcome("returned", value=value, inputs_after=args, duration=time.perf_counter() - started)


def main(argv=None) -> int:
    path, student = (argv or sys.argv[1:])[:2]
    assignment = load_assignment(ROOT / "assignment.yaml")
    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment), student=student)
    with tempfile.TemporaryDirectory(prefix="naive-") as stage:
        get = student_functions(Path(path), assignment.package, Path(stage))
        score = passed = 0.0
        for exercise in assignment.exercises:
            cases = [c for c in plan.cases if c.exercise == exercise.name]
            total_weight = sum(c.weight for c in cases)
            for case in cases:
                outcome = outcome_of(get(case.exercise, case.function), plan.expected[case.id].inputs)
                verdict = compare(case, exercise.functions[case.function], plan.expected[case.id], outcome)
                if verdict.status == "passed":
                    passed += 1
                    score += exercise.points * case.weight / total_weight
    print(f"score {score:.2f}/{assignment.max_score:.2f} passed {passed:.0f}/{len(plan.cases)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
