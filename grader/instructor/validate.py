"""`grade validate`: the instructor's pre-flight check, before a release or a bulk run.

Each check returns the problems it found, in plain words; `validate` runs them all:
  1. the assignment file is valid (loading it already says file, line and key);
  2. the reference, graded like a student through the real pipeline, scores 100 on every case,
     public and hidden, for many seeds (cases, generators and tolerances agree);
  3. the stubs score 0;
  4. every mistake variant is caught by at least one case of its exercise;
  5. the public-cases file holds exactly what the reference computes.
"""
from __future__ import annotations

import importlib
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader.model.assignment import Assignment
from grader.grading.engine import Expectations, grade, select_cases
from grader.grading.expected import PUBLIC_CASES_FILE, reference_available
from grader.grading.public_cases import PublicCasesFile
from grader.i18n import t
from grader.grading.submission import load_submission
from grader.grading.variants import Variants, same_inputs

SEEDS = 20


def reference_as_submission(assignment: Assignment, target: Path) -> Path:
    """The reference written as a student would: modules of the package `exercises` importing
    each other absolutely. Only the modules the exercises name (never the mistakes)."""
    folder = target / assignment.package
    folder.mkdir(parents=True)
    source = assignment.root / assignment.reference.replace(".", "/")
    for exercise in assignment.exercises:
        text = (source / f"{exercise.name}.py").read_text(encoding="utf-8")
        text = re.sub(r"from \.(\w+) import", rf"from {assignment.package}.\1 import", text)
        (folder / f"{exercise.name}.py").write_text(text, encoding="utf-8")
    return folder


def check_reference(assignment: Assignment, expectations: Expectations, seeds: list[int], jobs: int = 2) -> list:
    cases = select_cases(assignment)
    with tempfile.TemporaryDirectory(prefix="validate-") as tmp:
        submission = load_submission(reference_as_submission(assignment, Path(tmp)), assignment.package)

        def one(seed):
            result = grade(assignment, submission, expectations.plan(cases, seed=seed))
            return [t("validate.reference_fails", case_id=c.id, seed=seed, status=c.status, message=c.message)
                    for c in result.cases if c.status != "passed"]

        with ThreadPoolExecutor(jobs) as pool:  # each grade waits on its own worker process
            return [problem for found in pool.map(one, seeds) for problem in found]


def check_stubs(assignment: Assignment, expectations: Expectations) -> list:
    stubs = assignment.root / assignment.package
    result = grade(assignment, stubs, expectations.plan(select_cases(assignment)))
    return [t("validate.stub_passes", function=c.function, case_id=c.id, points=c.max_points)
            for c in result.cases if c.status == "passed"]


def check_mistakes(assignment: Assignment) -> list:
    if not assignment.mistakes:
        return []
    try:
        mistakes = importlib.import_module(assignment.mistakes).MISTAKES
    except Exception as exc:  # the instructor's module: say what broke, do not crash
        return [t("validate.mistakes_unimportable", module=assignment.mistakes, error=f"{type(exc).__name__}: {exc}")]
    variants = Variants(assignment)
    problems = []
    for mistake in mistakes:
        found = variants.case_margins(mistake)
        if not any(m.value > 1.0 for m in found):
            problems.append(t("validate.mistake_uncaught", name=mistake.name, exercise=mistake.exercise,
                              function=mistake.function, count=len(found)))
    return problems


def check_diagnosis(assignment: Assignment) -> list:
    """Each variant is named on every case it fails, never confused with another; a correct
    submission (float64 or float32) is never diagnosed."""
    from grader.instructor.accuracy import accuracy

    rows, false, _ = accuracy(assignment)
    problems = [t("validate.mistake_unrecognised", name=m.name, wrong=len(wrong), count=failing,
                  examples="; ".join(wrong[:2])) for m, failing, named, wrong in rows if wrong]
    return problems + [t("validate.correct_diagnosed", where=f) for f in false]


def check_public_file(assignment: Assignment, expectations: Expectations) -> list:
    path = assignment.root / PUBLIC_CASES_FILE
    if not path.is_file():
        return None  # not written here: `grade release` writes a fresh one
    public = PublicCasesFile(path)
    cases = [c for c in select_cases(assignment) if c.visibility == "public"]
    plan = expectations.plan(cases)
    problems = []
    if public.seed != plan.seed:
        problems.append(t("validate.public_seed", file=PUBLIC_CASES_FILE, written=public.seed, seed=plan.seed))
    for case in cases:
        if not public.has(case.id):
            problems.append(t("validate.public_missing", file=PUBLIC_CASES_FILE, case_id=case.id))
            continue
        stored, fresh = public.expected(case), plan.expected[case.id]
        if not (same_inputs(stored.inputs, fresh.inputs) and stored.error == fresh.error
                and same_inputs(stored.value, fresh.value)):
            problems.append(t("validate.public_differs", file=PUBLIC_CASES_FILE, case_id=case.id))
    extra = set(public.records) - {c.id for c in cases}
    problems += [t("validate.public_extra", file=PUBLIC_CASES_FILE, case_id=cid) for cid in sorted(extra)]
    if problems:
        problems.append(t("validate.public_rewrite", file=PUBLIC_CASES_FILE))
    return problems


def validate(assignment: Assignment, seeds: int = SEEDS, report=print) -> list:
    """All the checks; `report` hears one line per check. Returns every problem found."""
    if not reference_available(assignment):  # a students' repository: say why, not just "1 problem"
        problem = t("validate.needs_reference")
        report(problem)
        return [problem]
    expectations = Expectations(assignment, use_reference=True)
    seed_list = [assignment.seed] + [assignment.seed + 1 + i for i in range(seeds - 1)]
    checks = [
        (t("validate.check.reference", cases=len(select_cases(assignment)), count=seeds),
         lambda: check_reference(assignment, expectations, seed_list)),
        (t("validate.check.stubs"), lambda: check_stubs(assignment, expectations)),
        (t("validate.check.mistakes_caught"), lambda: check_mistakes(assignment)),
        (t("validate.check.mistakes_named"), lambda: check_diagnosis(assignment)),
        (t("validate.check.public_file", file=PUBLIC_CASES_FILE), lambda: check_public_file(assignment, expectations)),
    ]
    problems = []
    for title, check in checks:
        found = check()
        if found is None:
            report(t("validate.line.skipped", title=title))
            continue
        report(t("validate.line.failed", title=title, count=len(found)) if found else t("validate.line.ok", title=title))
        for problem in found:
            report(t("validate.line.problem", problem=problem))
        problems += found
    return problems
