"""Load and validate the assignment file into small frozen dataclasses.

Errors name the file, the key path and the line, and say what to do.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml

from grader.model.errors import AssignmentError
from grader.i18n import t

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
    properties: str | None = None  # the module of the course's property checks (grader/grading/properties.py)

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
    raise AssignmentError(t("assignment.not_found", file=ASSIGNMENT_FILE, start=start))


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
        raise AssignmentError(t("assignment.unreadable", path=path, error=exc)) from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10× faster
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise AssignmentError(t("assignment.not_yaml", path=path, error=exc)) from None

    def fail(where, message):
        tree = yaml.compose(text, Loader=loader)  # node positions, only to say where an error is
        line = _line_of(tree, where) if tree is not None else None
        key = "/".join(str(k) for k in where) or t("assignment.top_level")
        raise AssignmentError(t("assignment.at", path=path, line=line, where=key, message=message))

    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data),
                    key=lambda e: list(e.absolute_path))
    if errors:
        error = min(errors, key=lambda e: -len(e.absolute_path))
        fail(list(error.absolute_path), schema_message(error))
    return _build(path, data, fail)


def schema_message(error) -> str:
    """A JSON Schema error in the current language. jsonschema writes its messages in English:
    the common ones are rebuilt here from the error's data, and used only when their English
    form is exactly jsonschema's own message (so the English text never changes, whatever the
    jsonschema version); any other error keeps jsonschema's message."""
    try:
        for message in _schema_messages(error):
            if message("en") == error.message:
                return message(None)
    except Exception:  # a shape of error we did not foresee: jsonschema's words
        pass
    return error.message


def _schema_messages(error):
    """Candidate messages for `error`, each a function of the language (None: the current one)."""
    value, expected, schema = error.instance, error.validator_value, error.schema
    v = repr(value)
    kind = error.validator
    if kind == "type":
        types = expected if isinstance(expected, list) else [expected]
        yield lambda lang: t("assignment.schema.type", lang, value=v, expected=", ".join(map(repr, types)))
    elif kind == "required":
        for name in expected:
            if isinstance(value, dict) and name not in value:
                yield lambda lang, name=name: t("assignment.schema.required", lang, name=repr(name))
    elif kind == "additionalProperties" and isinstance(value, dict):
        extras = sorted((k for k in value if k not in schema.get("properties", {})), key=str)
        names = ", ".join(map(repr, extras))
        yield lambda lang: t("assignment.schema.additional", lang, count=len(extras), names=names)
    elif kind == "enum":
        yield lambda lang: t("assignment.schema.enum", lang, value=v, allowed=repr(expected))
    elif kind == "const":
        yield lambda lang: t("assignment.schema.const", lang, expected=repr(expected))
    elif kind == "minimum":
        yield lambda lang: t("assignment.schema.minimum", lang, value=v, limit=repr(expected))
    elif kind == "maximum":
        yield lambda lang: t("assignment.schema.maximum", lang, value=v, limit=repr(expected))
    elif kind == "exclusiveMinimum":
        yield lambda lang: t("assignment.schema.exclusive_minimum", lang, value=v, limit=repr(expected))
    elif kind == "exclusiveMaximum":
        yield lambda lang: t("assignment.schema.exclusive_maximum", lang, value=v, limit=repr(expected))
    elif kind == "pattern":
        yield lambda lang: t("assignment.schema.pattern", lang, value=v, pattern=repr(expected))
    elif kind in ("minItems", "minProperties"):
        yield lambda lang: t("assignment.schema.non_empty", lang, value=v)
        if kind == "minItems":
            yield lambda lang: t("assignment.schema.too_short", lang, value=v, limit=expected)
        else:
            yield lambda lang: t("assignment.schema.too_few_keys", lang, value=v, limit=expected)
    elif kind == "maxItems":
        yield lambda lang: t("assignment.schema.too_long", lang, value=v, limit=expected)
    elif kind in ("oneOf", "anyOf"):
        yield lambda lang: t("assignment.schema.no_variant", lang, value=v)
        valid = [each for each in expected if jsonschema.Draft202012Validator(each).is_valid(value)]
        variants = ", ".join(repr(each) for each in valid[1:] + valid[:1])  # jsonschema's order
        yield lambda lang: t("assignment.schema.several_variants", lang, value=v, variants=variants)


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
                     t("assignment.unknown_tolerance_here", name=repr(tol_name), known=sorted(tolerances)))
            functions[fname] = FunctionSpec(fname, ex["name"], tolerances[tol_name], tuple((fspec or {}).get("outputs", ())))
        cases = []
        for ci, case in enumerate(ex["cases"]):
            where = ["exercises", ei, "cases", ci]
            if case["function"] not in functions:
                fail(where + ["function"], t("assignment.unknown_function", name=repr(case["function"]),
                                             functions=list(functions)))
            tolerance = functions[case["function"]].tolerance
            if "tolerance" in case:
                if case["tolerance"] not in tolerances:
                    fail(where + ["tolerance"], t("assignment.unknown_tolerance", name=repr(case["tolerance"])))
                tolerance = tolerances[case["tolerance"]]
            count = case.get("count")
            if "public" in case and count is None:
                fail(where + ["public"], t("assignment.public_without_count"))
            if "public" in case and "visibility" in case:
                fail(where + ["visibility"], t("assignment.public_and_visibility"))
            if count is not None and "inputs" in case:
                fail(where + ["count"], t("assignment.count_with_inputs"))
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
                    fail(where + ["id"], t("assignment.duplicate_id", case_id=repr(case_id), first=seen_ids[case_id]))
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
        forbidden_imports=tuple(data.get("forbidden_imports", ())), exercises=tuple(exercises),
        properties=data.get("properties"))
