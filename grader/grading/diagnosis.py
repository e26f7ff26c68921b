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
import inspect
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.grading.compare import compare_values
from grader.grading.rules import call_graph
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


def variant_outputs(mistakes, case, inputs, compose: bool = True) -> dict:
    """{mistake name: its output on these inputs}: the mistakes of `case.function` first, then
    (`compose`) the mistakes of every function it calls, each composed into the reference's
    `case.function` (a step's mistake is named in every function that contains the step:
    `composed`). A variant that raises has no output (an error is diagnosed by the exception,
    not here)."""
    found = {}
    own = [(m, m.implementation) for m in mistakes if m.function == case.function and m.exercise == case.exercise]
    steps = composed(mistakes, case.exercise, case.function) if compose else []
    for m, implementation in own + steps:
        if m.name in found:
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                found[m.name] = implementation(*copy.deepcopy(inputs).values())
            except Exception:
                continue
    return found


_worlds = {}   # (reference package, mistake name) -> {function name: the reference function, rebound}
_callees = {}  # reference package -> {function: the contract functions it calls, directly or not}


def composed(mistakes, exercise: str, function: str) -> list:
    """[(mistake, the reference's `exercise.function` with that mistake's function replaced by
    the mistake)] for the mistakes of the functions `function` calls (in the reference, directly
    or not). The reference package is the one the variants live in (`reference.mistakes` →
    `reference`); nothing when it cannot be read."""
    found = []
    for m in mistakes:
        if m.function == function:
            continue
        package = _package_of(m)
        if package is None or m.function not in _calls(package).get(function, ()):
            continue
        world = _world(package, m)
        if world and function in world:
            found.append((m, world[function]))
    return found


def _package_of(m):
    module = getattr(m.implementation, "__module__", "") or ""
    return module.rsplit(".", 1)[0] if "." in module else None


def _modules(package):
    root = importlib.import_module(package)
    names = [p.stem for p in Path(root.__file__).parent.glob("*.py") if not p.stem.startswith("_")]
    modules = []
    for name in sorted(names):
        try:
            modules.append(importlib.import_module(f"{package}.{name}"))
        except Exception:
            continue
    return modules


def _functions(package) -> dict:
    """{function object: its module} of the functions the reference package's modules define."""
    found = {}
    for module in _modules(package):
        for value in vars(module).values():
            if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
                found[value] = module
    return found


def _calls(package) -> dict:
    if package not in _callees:
        try:
            functions = _functions(package)
            sources = {m.__name__: inspect.getsource(m) for m in set(functions.values())}
            _callees[package] = call_graph(sources, {f.__name__ for f in functions})
        except Exception:
            _callees[package] = {}
    return _callees[package]


def _world(package, m) -> dict:
    """The reference's functions, each a copy whose globals see the copies of the others and
    the mistake in place of its function: the reference with one step wrong."""
    key = (package, m.name)
    if key not in _worlds:
        try:
            functions = _functions(package)
            spaces = {module: dict(vars(module)) for module in set(functions.values())}
            copies = {}
            for f, module in functions.items():
                clone = types.FunctionType(f.__code__, spaces[module], f.__name__, f.__defaults__, f.__closure__)
                clone.__kwdefaults__ = f.__kwdefaults__
                copies[f] = clone
            for space in spaces.values():
                for name, value in list(space.items()):
                    if isinstance(value, types.FunctionType) and value in copies:
                        space[name] = copies[value]
                if m.function in space:
                    space[m.function] = m.implementation
            _worlds[key] = {clone.__name__: clone for clone in copies.values()}
        except Exception:
            _worlds[key] = {}
    return _worlds[key]


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
        # a step's mistake named in a function that calls the one it belongs to: its step words
        self.steps = {m.name: Known(m.name, m.function, m.slide, getattr(m, "step_en", "") or m.explanation,
                                    getattr(m, "step_fr", "") or getattr(m, "step_en", "") or m.explanation_fr)
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
                known = self.known[name]
                return self.steps.get(name, known) if known.function != case.function else known
        return None
