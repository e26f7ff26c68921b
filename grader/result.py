"""The one result model. Every front door builds it; every output format reads it.

`to_json` is the documented, versioned format (schemas/result.schema.json).
"""
from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = 1
STATUSES = ("passed", "failed", "error", "timeout", "not_implemented", "missing", "violation")


@dataclass
class CaseResult:
    id: str
    exercise: str
    function: str
    visibility: str
    kind: str
    status: str
    message: str
    points: float
    max_points: float
    diagnosis: str | None = None                   # the named mistake's hint, or a property hint
    mistake: str | None = None                     # the named mistake (a variant of reference.mistakes)
    details: dict = field(default_factory=dict)
    output: str = ""                               # what the submission printed
    arrays: dict = field(default_factory=dict, repr=False)   # heatmaps, never serialised
    inputs: dict | None = field(default=None, repr=False)    # for --case replays
    expected: object = field(default=None, repr=False)
    student: object = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_json(self, instructor: bool = False) -> dict:
        """`instructor`: keep the name of the mistake diagnosed on a hidden case (for the class
        overview); a student never sees anything of a hidden case but its status and points."""
        hidden = self.visibility == "hidden"
        return {"id": self.id, "function": self.function, "visibility": self.visibility, "kind": self.kind,
                "status": self.status, "message": "" if hidden and not self.passed else self.message,
                "diagnosis": None if hidden else self.diagnosis,
                "mistake": self.mistake if instructor or not hidden else None, "points": round(self.points, 6),
                "max_points": round(self.max_points, 6),
                "details": {} if hidden else {k: v for k, v in self.details.items() if k != "traceback"}}


@dataclass
class ExerciseResult:
    name: str
    title: str
    score: float
    max_score: float
    cases: list
    problems: list = field(default_factory=list)   # import errors, rule violations (strings)

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.cases)

    def to_json(self, instructor: bool = False) -> dict:
        return {"name": self.name, "title": self.title, "score": round(self.score, 6),
                "max_score": round(self.max_score, 6), "passed": self.passed, "total": len(self.cases),
                "problems": self.problems, "cases": [c.to_json(instructor) for c in self.cases]}


@dataclass
class Result:
    submission: str
    seed: int
    score: float
    max_score: float
    exercises: list
    notes: list = field(default_factory=list)       # submission-wide remarks (skipped cells, …)
    student: dict | None = None                     # bulk grading: {"id", "name"}
    status: str = "ok"
    duration: float = 0.0
    source: str = "reference"                      # where the expected values came from
    isolation: dict | None = None                   # how the worker was isolated (see SECURITY.md)

    @property
    def cases(self):
        for e in self.exercises:
            yield from e.cases

    @property
    def all_passed(self) -> bool:
        return all(c.passed for c in self.cases)

    def to_json(self, instructor: bool = False) -> dict:
        return {"schema_version": SCHEMA_VERSION, "submission": self.submission, "student": self.student,
                "status": self.status, "seed": self.seed, "score": round(self.score, 6),
                "max_score": round(self.max_score, 6), "duration": round(self.duration, 3),
                "expected_from": self.source, "isolation": self.isolation, "notes": self.notes,
                "exercises": [e.to_json(instructor) for e in self.exercises]}
