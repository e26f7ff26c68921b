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

from grader.grading.compare import compare_values
from grader.i18n import language
from grader.model.said import Said, Texts


@dataclass(frozen=True)
class Known:
    """A mistake as the report needs it (no code)."""
    name: str
    function: str
    slide: str
    en: str
    fr: str

    def said(self) -> Said:
        """The hint, its slide and the mistake's name, as data (the hint in both languages)."""
        return Said("diagnosis.known", hint=Texts({"en": self.en, "fr": self.fr or self.en}), slide=self.slide,
                    name=self.name)

    def text(self, lang: str | None = None) -> str:
        """The hint in `lang` (default: the current language), its slide and the mistake's name."""
        return self.said().render(lang or language())


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
