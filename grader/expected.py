"""Expected values: computed by the reference (instructor side), or read from the
public-cases file (student side). Either way they stay in the grader's process."""
from __future__ import annotations

import copy
import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import protocol
from .assignment import Assignment, CaseSpec
from .errors import AssignmentError, GraderError
from .i18n import t

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
                fn(*copy.deepcopy(inputs).values())
            except Exception as exc:
                if case.expect_error not in [c.__name__ for c in type(exc).__mro__]:
                    raise AssignmentError(t("expected.reference_raises_other", case=case.id, type=type(exc).__name__,
                                            expected=case.expect_error)) from None
                return Expected(inputs, error=case.expect_error)
            raise AssignmentError(t("expected.reference_returns", case=case.id, expected=case.expect_error))
        return Expected(inputs, value=fn(*copy.deepcopy(inputs).values()))


def reference_available(assignment: Assignment) -> bool:
    return bool(assignment.reference) and (assignment.root / assignment.reference / "__init__.py").is_file()


# --- the public-cases file -------------------------------------------------------------------

def write_public_cases(path: Path, assignment: Assignment, records: dict, seed: int, mistakes=()):
    """`records`: {case id: Expected}. An `.npz` (arrays) with a JSON manifest, loadable with
    allow_pickle=False. With `mistakes` (the variants, instructor side), each case also carries
    the variants' outputs on its inputs, and the manifest their names, slides and explanations:
    what diagnosis needs offline, never their code."""
    from .diagnosis import variant_outputs

    by_id = {c.id: c for c in assignment.cases()}
    cases = {cid: {"inputs": e.inputs, "value": e.value, "error": e.error,
                   "variants": variant_outputs(mistakes, by_id[cid], e.inputs) if mistakes and not e.error else {}}
             for cid, e in records.items()}
    tree, arrays = protocol.split(cases)
    known = {m.name: {"function": m.function, "exercise": m.exercise, "slide": m.slide, "en": m.explanation,
                      "fr": m.explanation_fr} for m in mistakes}
    manifest = json.dumps({"schema_version": 1, "title": assignment.title, "seed": seed, "cases": tree,
                           "mistakes": known})
    np.savez_compressed(path, manifest=np.frombuffer(manifest.encode(), dtype=np.uint8),
                        **{f"a{i}": a for i, a in enumerate(arrays)})


class PublicCasesFile:
    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            with np.load(self.path, allow_pickle=False) as data:
                manifest = json.loads(bytes(data["manifest"]).decode())
                arrays = [data[f"a{i}"] for i in range(len(data.files) - 1)]
            self.seed = manifest["seed"]
            self.records = protocol.join(manifest["cases"], arrays)
            self.mistakes = manifest.get("mistakes", {})  # for diagnosis: names, slides, explanations
        except Exception as exc:  # a truncated or edited file: zip, JSON or layout errors alike
            raise GraderError(t("expected.public_file_unreadable", path=self.path, error=exc)) from None

    def has(self, case_id: str) -> bool:
        return case_id in self.records

    def expected(self, case: CaseSpec, inputs=None) -> Expected:
        record = self.records[case.id]
        return Expected(record["inputs"], value=record["value"], error=record["error"])


def public_diagnoser(assignment: Assignment, public: PublicCasesFile):
    """Diagnosis from the variants' stored outputs (a students' repository)."""
    from .diagnosis import Diagnoser, Known

    diagnoser = Diagnoser(assignment, stored={cid: r.get("variants") or {} for cid, r in public.records.items()})
    for name, m in public.mistakes.items():
        diagnoser.add_known(Known(name, m.get("function", ""), m.get("slide", ""), m.get("en", ""), m.get("fr", "")))
    return diagnoser
