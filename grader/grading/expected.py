"""Expected values: computed by the reference (instructor side), or read from the
public-cases file (student side, grading/public_cases.py). Either way they stay in the
grader's process."""
from __future__ import annotations

import copy
import importlib
import sys
from dataclasses import dataclass

import numpy as np

from grader.model.assignment import Assignment, CaseSpec
from grader.model.errors import AssignmentError
from grader.i18n import t

PUBLIC_CASES_FILE = "public_cases.npz"


@dataclass
class Expected:
    inputs: dict
    value: object = None
    error: str | None = None      # the exception type name an expected-error case wants


class ReferenceOracle:
    """Calls the reference package (trusted code) on a copy of the inputs."""

    def __init__(self, assignment: Assignment):
        self.assignment = assignment
        root = str(assignment.root)
        if root not in sys.path:
            sys.path.insert(0, root)
        self._modules = {}

    def function(self, exercise: str, name: str):
        if exercise not in self._modules:
            module_name = f"{self.assignment.reference}.{exercise}"
            try:
                self._modules[exercise] = importlib.import_module(module_name)
            except Exception as exc:
                raise AssignmentError(t("expected.reference_import", module=module_name, error=exc)) from None
        return getattr(self._modules[exercise], name)

    def expected(self, case: CaseSpec, inputs: dict) -> Expected:
        fn = self.function(case.exercise, case.function)
        if case.expect_error:
            try:
                fn(*_copied(inputs).values())
            except Exception as exc:
                if case.expect_error not in [c.__name__ for c in type(exc).__mro__]:
                    raise AssignmentError(t("expected.reference_raises_other", case=case.id, type=type(exc).__name__,
                                            expected=case.expect_error)) from None
                return Expected(inputs, error=case.expect_error)
            raise AssignmentError(t("expected.reference_returns", case=case.id, expected=case.expect_error))
        return Expected(inputs, value=fn(*_copied(inputs).values()))


def _copied(value):
    """A deep copy of a case's inputs (the reference may change its arguments): arrays, lists,
    tuples and dicts of them copied directly, anything else by copy.deepcopy."""
    kind = type(value)
    if kind is np.ndarray and not value.dtype.hasobject:
        return value.copy(order="K")  # as deepcopy copies it
    if kind is dict:
        return {k: _copied(v) for k, v in value.items()}
    if kind is list:
        return [_copied(v) for v in value]
    if kind in (int, float, str, bool, type(None)):
        return value
    return copy.deepcopy(value)


def reference_available(assignment: Assignment) -> bool:
    return bool(assignment.reference) and (assignment.root / assignment.reference / "__init__.py").is_file()
