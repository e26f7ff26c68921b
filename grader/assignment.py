"""Load and validate the assignment file into small frozen dataclasses.

Errors name the file, the key path and the line, and say what to do.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml

from .errors import AssignmentError

ASSIGNMENT_FILE = "assignment.yaml"
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "assignment.schema.json").read_text())


@dataclass(frozen=True)
class Tolerance:
    rtol: float | None = None  # None: exact comparison
    atol: float | None = None

    @property
    def exact(self) -> bool:
        return self.rtol is None


@dataclass(frozen=True)
class Lecture:
    slide: str
    quote: str = ""
    numbers: object = None
    decimals: int | None = None
    tokens: tuple = ()
    labels: tuple = ()
    vocab: tuple = ()
    output: str | None = None
    note: str = ""


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    exercise: str
    tolerance: Tolerance
    outputs: tuple = ()  # names of the tuple's components, () for a single value


@dataclass(frozen=True)
class CaseSpec:
    id: str            # exercise/function/name, e.g. attention/scaled_dot_product_attention/random-7
    exercise: str
    function: str
    name: str
    visibility: str    # "public" | "hidden"
    weight: float
    tolerance: Tolerance
    timeout: float
    generator: str | None = None
    params: dict = field(default_factory=dict, hash=False, compare=False)
    inputs: dict | None = field(default=None, hash=False, compare=False)
    dtypes: dict = field(default_factory=dict, hash=False, compare=False)
    expect_error: str | None = None
    lecture: Lecture | None = None

    @property
    def kind(self) -> str:
        if self.lecture is not None:
            return "lecture"
        if self.expect_error:
            return "error"
        return "random" if self.generator else "fixed"


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    points: float
    functions: dict  # name -> FunctionSpec, in the file's order
    cases: tuple     # CaseSpec, in the file's order
    depends_on: tuple = ()


@dataclass(frozen=True)
class Assignment:
    path: Path
    title: str
    package: str
    reference: str | None
    mistakes: str | None
    generators: tuple
    seed: int
    salt: str
    timeout: float
    memory_mb: int
    forbidden_imports: tuple
    exercises: tuple

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.exercises)

    def exercise(self, name: str) -> Exercise:
        for e in self.exercises:
            if e.name == name:
                return e
        raise KeyError(name)

    def cases(self):
        for e in self.exercises:
            yield from e.cases

    def case(self, case_id: str) -> CaseSpec:
        for c in self.cases():
            if c.id == case_id:
                return c
        raise KeyError(case_id)


def find_assignment(start: Path) -> Path:
    """Walk up from `start` to the first folder holding the assignment file."""
    start = start.resolve()
    for folder in [start, *start.parents]:
        candidate = folder / ASSIGNMENT_FILE
        if candidate.is_file():
            return candidate
    raise AssignmentError(
        f"no {ASSIGNMENT_FILE} found in {start} or any folder above it: "
        "run `grade` from inside the course repository (the folder that holds "
        f"{ASSIGNMENT_FILE}).")


def _line_of(node, path) -> int | None:
    """The 1-based line of the YAML node at `path` (keys and list indexes), or of its parent."""
    line = node.start_mark.line + 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if k.value == key]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def load_assignment(path: Path) -> Assignment:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AssignmentError(f"{path}: cannot read the assignment file ({exc})") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10× faster
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise AssignmentError(f"{path}: not valid YAML: {exc}") from None

    def fail(where, message):
        tree = yaml.compose(text, Loader=loader)  # node positions, only to say where an error is
        line = _line_of(tree, where) if tree is not None else None
        key = "/".join(str(k) for k in where) or "(top level)"
        raise AssignmentError(f"{path}:{line}: at {key}: {message}")

    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data),
                    key=lambda e: list(e.absolute_path))
    if errors:
        error = min(errors, key=lambda e: -len(e.absolute_path))
        fail(list(error.absolute_path), error.message)
    return _build(path, data, fail)


def _build(path, data, fail) -> Assignment:
    tolerances = {name: Tolerance() if spec == "exact" else Tolerance(float(spec["rtol"]), float(spec["atol"]))
                  for name, spec in data["tolerances"].items()}
    timeout = float(data.get("timeout", 3.0))
    exercises = []
    seen_ids = {}
    for ei, ex in enumerate(data["exercises"]):
        ex_timeout = float(ex.get("timeout", timeout))
        functions = {}
        for fname, fspec in ex["functions"].items():
            tol_name = (fspec or {}).get("tolerance", "block")
            if tol_name not in tolerances:
                fail(["exercises", ei, "functions", fname, "tolerance"],
                     f"unknown tolerance {tol_name!r}; define it under `tolerances` (known: {sorted(tolerances)})")
            functions[fname] = FunctionSpec(fname, ex["name"], tolerances[tol_name], tuple((fspec or {}).get("outputs", ())))
        cases = []
        for ci, case in enumerate(ex["cases"]):
            where = ["exercises", ei, "cases", ci]
            if case["function"] not in functions:
                fail(where + ["function"], f"{case['function']!r} is not one of this exercise's functions {list(functions)}")
            tolerance = functions[case["function"]].tolerance
            if "tolerance" in case:
                if case["tolerance"] not in tolerances:
                    fail(where + ["tolerance"], f"unknown tolerance {case['tolerance']!r}")
                tolerance = tolerances[case["tolerance"]]
            count = case.get("count")
            if "public" in case and count is None:
                fail(where + ["public"], "`public: N` splits a group of `count` cases; add `count` or use `visibility`")
            if "public" in case and "visibility" in case:
                fail(where + ["visibility"], "give either `public: N` (for a group) or `visibility`, not both")
            if count is not None and "inputs" in case:
                fail(where + ["count"], "a case with literal `inputs` is a single case: remove `count`")
            lecture = Lecture(**{k: tuple(v) if isinstance(v, list) and k in ("tokens", "labels", "vocab") else v
                                 for k, v in case["lecture"].items()}) if "lecture" in case else None
            names = [case["id"]] if count is None else [f"{case['id']}-{k}" for k in range(count)]
            for k, name in enumerate(names):
                if count is None:
                    visibility = case.get("visibility", "public")
                else:
                    visibility = "public" if k < case.get("public", 0) else case.get("visibility", "hidden")
                case_id = f"{ex['name']}/{case['function']}/{name}"
                if case_id in seen_ids:
                    fail(where + ["id"], f"case id {case_id!r} is used twice (first at case {seen_ids[case_id]}); ids must be unique")
                seen_ids[case_id] = ci
                cases.append(CaseSpec(
                    id=case_id, exercise=ex["name"], function=case["function"], name=name,
                    visibility=visibility, weight=float(case.get("weight", 1.0)), tolerance=tolerance,
                    timeout=float(case.get("timeout", ex_timeout)), generator=case.get("generator"),
                    params=dict(case.get("params", {})), inputs=case.get("inputs"),
                    dtypes=dict(case.get("dtypes", {})), expect_error=case.get("expect_error"),
                    lecture=lecture))
        exercises.append(Exercise(ex["name"], ex.get("title", ex["name"]), float(ex["points"]),
                                  functions, tuple(cases), tuple(ex.get("depends_on", ()))))
    return Assignment(
        path=path.resolve(), title=data["title"], package=data["package"],
        reference=data.get("reference"), mistakes=data.get("mistakes"),
        generators=tuple(data.get("generators", ())), seed=int(data.get("seed", 0)),
        salt=str(data.get("salt", "")), timeout=timeout, memory_mb=int(data.get("memory_mb", 2048)),
        forbidden_imports=tuple(data.get("forbidden_imports", ())), exercises=tuple(exercises))
