"""The public-cases file (`public_cases.npz`): the public cases' inputs and expected values,
and the mistake variants' outputs on them, so a students' repository grades and diagnoses
without the reference. Written by `grade release`, read by `grade` on the student side."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from grader.grading.diagnosis import Diagnoser, Known, variant_outputs
from grader.grading.expected import Expected
from grader.i18n import t
from grader.model.assignment import Assignment, CaseSpec
from grader.model import usercache
from grader.model.errors import GraderError
from grader.sandbox.runtime import protocol


def write_public_cases(path: Path, assignment: Assignment, records: dict, seed: int, mistakes=()):
    """`records`: {case id: Expected}. An `.npz` (arrays) with a JSON manifest, loadable with
    allow_pickle=False. With `mistakes` (the variants, instructor side), each case also carries
    the variants' outputs on its inputs, and the manifest their names, slides and explanations:
    what diagnosis needs offline, never their code."""
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
    """The file read and decoded; its decoded content is kept in the user's cache in the
    protocol's own format (JSON and raw array bytes: no pickle), keyed by the file's sha256, so
    that the next run reads one buffer rather than a zip of a thousand `.npy` members."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise GraderError(t("expected.public_file_unreadable", path=self.path, error=exc)) from None
        key, where = usercache.key(raw), usercache.slot(str(self.path.resolve()))
        cached = usercache.read("public-cases", where, key)
        if cached is not None:
            try:
                content = protocol.decode(cached, kinds=protocol.INPUT_KINDS, max_nodes=None)
                self.seed, self.records, self.mistakes = content["seed"], content["records"], content["mistakes"]
                return
            except Exception:  # not what we wrote: read the file itself
                pass
        try:
            with np.load(io.BytesIO(raw), allow_pickle=False) as data:
                manifest = json.loads(bytes(data["manifest"]).decode())
                arrays = [data[f"a{i}"] for i in range(len(data.files) - 1)]
            self.seed = manifest["seed"]
            self.records = protocol.join(manifest["cases"], arrays)
            self.mistakes = manifest.get("mistakes", {})  # for diagnosis: names, slides, explanations
        except Exception as exc:  # a truncated or edited file: zip, JSON or layout errors alike
            raise GraderError(t("expected.public_file_unreadable", path=self.path, error=exc)) from None
        try:
            usercache.write("public-cases", where, key, protocol.encode(
                {"seed": self.seed, "records": self.records, "mistakes": self.mistakes}))
        except Exception:  # a value the protocol cannot carry: no cache, the file is read each time
            pass

    def has(self, case_id: str) -> bool:
        return case_id in self.records

    def expected(self, case: CaseSpec, inputs=None) -> Expected:
        record = self.records[case.id]
        return Expected(record["inputs"], value=record["value"], error=record["error"])


def public_diagnoser(assignment: Assignment, public: PublicCasesFile):
    """Diagnosis from the variants' stored outputs (a students' repository)."""
    diagnoser = Diagnoser(assignment, stored={cid: r.get("variants") or {} for cid, r in public.records.items()})
    for name, m in public.mistakes.items():
        diagnoser.add_known(Known(name, m.get("function", ""), m.get("slide", ""), m.get("en", ""), m.get("fr", "")))
    return diagnoser
