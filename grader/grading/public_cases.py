"""The public-cases file (`public_cases.npz`): the public cases' inputs and expected values,
and the mistake variants' outputs on them, so a students' repository grades and diagnoses
without the reference. Written by `grade release`, read by `grade` on the student side."""
from __future__ import annotations

import io
import json
from collections.abc import Mapping
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
    that the next run reads one buffer rather than a zip of a thousand `.npy` members.

    The variants' outputs (most of the file: 990 of its 1,388 arrays) are cached apart and
    decoded only when diagnosis first asks for them, i.e. when a case failed: a submission that
    passes everything never pays for them."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise GraderError(t("expected.public_file_unreadable", path=self.path, error=exc)) from None
        self._key = usercache.key(raw)
        self._where = usercache.content_slot(self._key)
        self._variants = None
        cached = usercache.read("public-cases", self._where, self._key)
        if cached is not None:
            try:
                content = protocol.decode(cached, kinds=protocol.INPUT_KINDS, max_nodes=None)
                self.seed, self.records, self.mistakes = content["seed"], content["records"], content["mistakes"]
                return
            except Exception:  # not what we wrote: read the file itself
                pass
        self._read(raw)
        try:
            usercache.write("public-cases", self._where, self._key, protocol.encode(
                {"seed": self.seed, "records": self.records, "mistakes": self.mistakes}))
            usercache.write("public-variants", self._where, self._key, protocol.encode(self._variants))
        except Exception:  # a value the protocol cannot carry: no cache, the file is read each time
            pass

    def _read(self, raw: bytes):
        try:
            with np.load(io.BytesIO(raw), allow_pickle=False) as data:
                manifest = json.loads(bytes(data["manifest"]).decode())
                arrays = [data[f"a{i}"] for i in range(len(data.files) - 1)]
            self.seed = manifest["seed"]
            records = protocol.join(manifest["cases"], arrays)
            self.mistakes = manifest.get("mistakes", {})  # for diagnosis: names, slides, explanations
        except Exception as exc:  # a truncated or edited file: zip, JSON or layout errors alike
            raise GraderError(t("expected.public_file_unreadable", path=self.path, error=exc)) from None
        self._variants = {cid: r.pop("variants", None) or {} for cid, r in records.items()}
        self.records = records

    def has(self, case_id: str) -> bool:
        return case_id in self.records

    def expected(self, case: CaseSpec, inputs=None) -> Expected:
        record = self.records[case.id]
        return Expected(record["inputs"], value=record["value"], error=record["error"])

    def variants(self) -> dict:
        """{case id: {mistake name: that variant's output}}, decoded on the first call."""
        if self._variants is None:
            cached = usercache.read("public-variants", self._where, self._key)
            if cached is not None:
                try:
                    self._variants = protocol.decode(cached, kinds=protocol.INPUT_KINDS, max_nodes=None)
                except Exception:  # not what we wrote
                    pass
            if self._variants is None:  # no entry: the file itself, once more
                self._read(self.path.read_bytes())
        return self._variants


class _Stored(Mapping):
    """The variants' stored outputs as the diagnoser reads them, decoded at the first lookup."""

    def __init__(self, public: PublicCasesFile):
        self._public = public

    def __bool__(self):  # there are some (the diagnoser's `stored or {}` must not decode them)
        return True

    def __getitem__(self, case_id):
        return self._public.variants()[case_id]

    def __iter__(self):
        return iter(self._public.variants())

    def __len__(self):
        return len(self._public.variants())


def public_diagnoser(assignment: Assignment, public: PublicCasesFile):
    """Diagnosis from the variants' stored outputs (a students' repository)."""
    diagnoser = Diagnoser(assignment, stored=_Stored(public))
    for name, m in public.mistakes.items():
        diagnoser.add_known(Known(name, m.get("function", ""), m.get("slide", ""), m.get("en", ""), m.get("fr", "")))
    return diagnoser
