"""Which classic mistake did the student make? Compare a failing output with the mistake
variants' outputs on the same inputs.

Instructor side, the variants (`reference/mistakes.py`, trusted code) run here on a copy of the
case's inputs; student side, the public-cases file carries their outputs on the public cases
(never their code). A variant whose output matches the student's within the case's tolerance
names the mistake, with its slide.
"""
from __future__ import annotations

import copy
import importlib
import warnings
from dataclasses import dataclass

import numpy as np

from .compare import compare_values
from .i18n import language, t


@dataclass(frozen=True)
class Known:
    """A mistake as the report needs it (no code)."""
    name: str
    function: str
    slide: str
    en: str
    fr: str

    def text(self, lang: str | None = None) -> str:
        """The hint in `lang` (default: the current language), its slide and the mistake's name."""
        lang = lang or language()
        hint = self.fr if lang == "fr" and self.fr else self.en
        return t("diagnosis.known", _lang=lang, hint=hint, slide=self.slide, name=self.name)


def load_mistakes(assignment) -> list:
    """The assignment's mistake variants (instructor side), or [] when there are none here."""
    if not assignment.mistakes:
        return []
    try:
        return importlib.import_module(assignment.mistakes).MISTAKES
    except ImportError:
        return []


def variant_outputs(mistakes, case, inputs) -> dict:
    """{mistake name: its output on these inputs} for the mistakes of `case.function`; a
    variant that raises has no output (an error is diagnosed by the exception, not here)."""
    found = {}
    for m in mistakes:
        if m.function != case.function or m.exercise != case.exercise:
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                found[m.name] = m.implementation(*copy.deepcopy(inputs).values())
            except Exception:
                continue
    return found


def _matches(student, variant, case, outputs) -> bool:
    """Does `student` pass against `variant`? False for anything that cannot be compared: a
    student's value is untrusted, and a diagnosis is a bonus, never a reason to fail grading."""
    try:
        return _passes(student, variant, case, outputs)
    except Exception:
        return False


def _passes(student, variant, case, outputs) -> bool:
    if outputs:
        if not isinstance(student, (tuple, list)) or not isinstance(variant, (tuple, list)) \
                or len(student) != len(outputs) or len(variant) != len(outputs):
            return False
        return all(compare_values(s, v, case.tolerance, n).status == "passed"
                   for s, v, n in zip(student, variant, outputs))
    return compare_values(student, variant, case.tolerance).status == "passed"


class Diagnoser:
    """Names the mistake behind a failing output, from live variants or stored outputs."""

    def __init__(self, assignment, mistakes=None, stored: dict | None = None):
        self.assignment = assignment
        self.mistakes = list(mistakes or [])
        self.known = {m.name: Known(m.name, m.function, m.slide, m.explanation, m.explanation_fr)
                      for m in self.mistakes}
        self.stored = stored or {}   # {case id: {mistake name: output}} (the public-cases file)

    def add_known(self, known: Known):
        self.known[known.name] = known

    def diagnose(self, case, inputs, student_value, expected_value=None) -> Known | None:
        """The mistake whose output the student's matches, among those that would fail this
        case (a variant that gives the right answer here explains no failure)."""
        outputs = self.assignment.exercise(case.exercise).functions[case.function].outputs
        candidates = self.stored.get(case.id)
        if candidates is None:
            candidates = variant_outputs(self.mistakes, case, inputs)
        for name, value in candidates.items():
            if name not in self.known:
                continue
            if expected_value is not None and _matches(value, expected_value, case, outputs):
                continue
            if _matches(student_value, value, case, outputs):
                return self.known[name]
        return None


# --- accuracy over a corpus generated from the variants (grade validate, bench) -----------------

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
    from .compare import compare
    from .engine import Expectations, select_cases
    from .sandbox import Outcome
    from .variants import same_inputs

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
    import importlib
    return getattr(importlib.import_module(f"{assignment.reference}.{case.exercise}"), case.function)
