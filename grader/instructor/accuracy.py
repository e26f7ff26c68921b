"""How well diagnosis names the mistakes, over a corpus made from the variants themselves
(`grade validate`, bench/diagnosis_accuracy.py): each variant's failing outputs must be named
as that variant, and the reference's own outputs (float64 and float32) never named at all."""
from __future__ import annotations

import copy
import importlib
import warnings

import numpy as np

from grader.grading.compare import compare
from grader.grading.diagnosis import Diagnoser, load_mistakes, variant_outputs
from grader.grading.engine import Expectations, select_cases
from grader.grading.variants import same_inputs
from grader.i18n import t
from grader.sandbox.supervisor import Outcome


def _run(fn, inputs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn(*copy.deepcopy(inputs).values()), None
        except Exception as exc:
            return None, exc


def _as_float32(value):
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        with np.errstate(over="ignore"):  # huge-value cases become inf in float32, as a student's would
            return value.astype(np.float32)
    if isinstance(value, dict):
        return {k: _as_float32(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_as_float32(v) for v in value)
    return value


def accuracy(assignment, seed=None):
    """A corpus from the variants themselves: for each mistake, its output on every case of its
    function that it fails must be diagnosed as that mistake (or as a variant returning exactly
    the same output there: indistinguishable, so not a confusion); the reference, in float64 and
    float32, must never be diagnosed. Returns ([(mistake, failing, named right, wrong)],
    [false diagnoses], failing cases of the correct submissions)."""
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
            value, exc = _run(m.implementation, expected.inputs)
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
                wrong.append(t("diagnosis.confused", case=case.id,
                               found=found.name if found else t("diagnosis.nothing")))
        rows.append((m, failing, named, wrong))
    false, correct_failing = [], 0
    for label, convert in ((t("diagnosis.reference"), lambda v: v), (t("diagnosis.reference_float32"), _as_float32)):
        for case in plan.cases:
            expected = plan.expected[case.id]
            if expected.error:
                continue
            value, exc = _run(_reference_function(assignment, case), convert(expected.inputs))
            if exc is not None:
                continue
            spec = assignment.exercise(case.exercise).functions[case.function]
            verdict = compare(case, spec, expected, Outcome("returned", value=value, inputs_after=expected.inputs))
            if verdict.status != "failed":
                continue
            correct_failing += 1  # e.g. float32 beyond a float64 tolerance: a failure, but no mistake
            if diagnoser.diagnose(case, expected.inputs, value, expected.value) is not None:
                false.append(t("diagnosis.false_diagnosis", label=label, case=case.id))
    return rows, false, correct_failing


def _reference_function(assignment, case):
    return getattr(importlib.import_module(f"{assignment.reference}.{case.exercise}"), case.function)
