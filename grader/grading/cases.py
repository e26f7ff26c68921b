"""Build a case's inputs: literal values from the assignment file, or a generator called with
a `numpy.random.default_rng` seeded from (seed, case id) — the same inputs on any machine."""
from __future__ import annotations

import functools
import hashlib
import importlib
import sys

import numpy as np

from grader.model.assignment import Assignment, CaseSpec
from grader.model.errors import AssignmentError
from grader.i18n import t


def case_seed(seed: int, case_id: str) -> list[int]:
    """Entropy for `default_rng`: the run's seed and a stable hash of the case id
    (Python's `hash` is salted per process, so it would not replay)."""
    return [int(seed), _case_hash(case_id)]


@functools.lru_cache(maxsize=4096)  # an assignment's case ids, hashed once per process (bulk: once per class)
def _case_hash(case_id: str) -> int:
    return int.from_bytes(hashlib.sha256(case_id.encode()).digest()[:8], "little")


def student_seed(salt: str, student_id: str) -> int:
    """A student's hidden cases get their own seed: replayable, not guessable without the salt."""
    return int.from_bytes(hashlib.sha256(f"{salt}\0{student_id}".encode()).digest()[:4], "little")


def literal(value, dtype=None):
    """YAML literal -> argument: lists of numbers become float64 arrays (or `dtype`); lists
    of strings stay lists; scalars stay Python scalars."""
    if isinstance(value, list):
        flat = np.ravel(np.array(value, dtype=object)) if value else []
        if all(isinstance(v, str) for v in flat):
            return [literal(v) for v in value] if any(isinstance(v, list) for v in value) else list(value)
        return np.array(value, dtype=dtype or np.float64)
    if dtype is not None:
        return np.array(value, dtype=dtype)
    return value


class CaseBuilder:
    """Turns CaseSpecs into inputs. The generator modules are imported once, from the
    assignment's folder (they are course content, not part of the engine)."""

    def __init__(self, assignment: Assignment):
        self.assignment = assignment
        self._generators = {}
        root = str(assignment.root)
        if assignment.generators and root not in sys.path:
            sys.path.insert(0, root)
        for module_name in assignment.generators:
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:
                raise AssignmentError(t("cases.generator_import", path=assignment.path, module=module_name,
                                        error=exc)) from None
            for name in dir(module):
                if not name.startswith("_") and callable(getattr(module, name)):
                    self._generators.setdefault(name, getattr(module, name))

    def inputs(self, case: CaseSpec, seed: int) -> dict:
        if case.inputs is not None:
            return {k: literal(v, case.dtypes.get(k)) for k, v in case.inputs.items()}
        try:
            generator = self._generators[case.generator]
        except KeyError:
            if self.assignment.generators:
                raise AssignmentError(t("cases.unknown_generator", path=self.assignment.path, case=case.id,
                                        generator=case.generator,
                                        modules=", ".join(self.assignment.generators))) from None
            raise AssignmentError(t("cases.unknown_generator_no_module", path=self.assignment.path, case=case.id,
                                    generator=case.generator)) from None
        rng = np.random.default_rng(case_seed(seed, case.id))
        try:
            return generator(rng, **case.params)
        except TypeError as exc:
            raise AssignmentError(t("cases.generator_rejected", path=self.assignment.path, case=case.id,
                                    generator=case.generator, params=case.params, error=exc)) from None
