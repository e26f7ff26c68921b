"""Load and validate the assignment file into small frozen dataclasses.

Errors name the file, the key path and the line, and say what to do.

A file validated once is not validated again: its parsed content is kept in the user's cache
(grader/model/usercache.py), keyed by the sha256 of the file, of the schema and of the grader's
version, so that a run whose assignment did not change imports neither YAML nor jsonschema.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from grader.model import usercache
from grader.model.errors import AssignmentError
from grader.model.said import Texts
from grader.i18n import t

ASSIGNMENT_FILE = "assignment.yaml"
SCHEMA_BYTES = (Path(__file__).parent / "schemas" / "assignment.schema.json").read_bytes()
SCHEMA = json.loads(SCHEMA_BYTES)
CACHE_KIND = "assignment"


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
    note: str | Texts = ""   # Texts: one per language, shown in the reader's


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
    title: str | Texts   # Texts: one per language, shown in the reader's
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
        index = self.__dict__.get("_by_id")
        if index is None:  # built once (a report looks up every case: linear each time was quadratic)
            index = {}
            for c in self.cases():
                index.setdefault(c.id, c)
            object.__setattr__(self, "_by_id", index)
        return index[case_id]

    def public_twin(self, case_id: str) -> str | None:
        """The id of the public case that exercises what the hidden case `case_id` does (same
        function, generator, params and dtypes: another draw of the same kind), or None."""
        try:
            hidden = self.case(case_id)
        except KeyError:
            return None
        if hidden.visibility != "hidden" or hidden.generator is None:
            return None
        return next((c.id for c in self.exercise(hidden.exercise).cases
                     if c.visibility == "public" and c.function == hidden.function and c.generator == hidden.generator
                     and c.params == hidden.params and c.dtypes == hidden.dtypes and c.expect_error == hidden.expect_error),
                    None)


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
    import yaml

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
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AssignmentError(t("assignment.unreadable", path=path, error=exc)) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as read_text reads it

    def fail(where, message):
        import yaml
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        tree = yaml.compose(text, Loader=loader)  # node positions, only to say where an error is
        line = _line_of(tree, where) if tree is not None else None
        key = "/".join(str(k) for k in where) or t("assignment.top_level")
        raise AssignmentError(t("assignment.at", path=path, line=line, where=key, message=message))

    entry_key = usercache.key(raw, SCHEMA_BYTES)
    where = usercache.content_slot(entry_key)  # parsed from the bytes alone: any copy of the file
    cached = usercache.read(CACHE_KIND, where, entry_key)
    if cached is not None:
        try:
            return _build(path, json.loads(cached), fail)
        except Exception:  # an entry that is not what we wrote: validated afresh below
            pass
    data = _validated(path, text, fail)
    assignment = _build(path, data, fail)
    try:
        encoded = json.dumps(data, allow_nan=False, ensure_ascii=False)
        if json.loads(encoded) == data:  # JSON holds it exactly (no date, no non-string key, no NaN)
            usercache.write(CACHE_KIND, where, entry_key, encoded.encode("utf-8"))
    except (TypeError, ValueError, RecursionError):
        pass
    return assignment


def _validated(path, text, fail):
    """The file's content, parsed and checked against the schema (else AssignmentError)."""
    import jsonschema
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10× faster
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise AssignmentError(t("assignment.not_yaml", path=path, error=exc)) from None
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data),
                    key=lambda e: list(e.absolute_path))
    if errors:
        error = min(errors, key=lambda e: -len(e.absolute_path))
        fail(list(error.absolute_path), schema_message(error))
    return data


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
        import jsonschema
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
            lecture = Lecture(**{k: tuple(v) if isinstance(v, list) and k in ("tokens", "labels", "vocab")
                                 else Texts(v) if isinstance(v, dict) and k == "note" else v  # {fr: …, en: …}
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
        title = ex.get("title", ex["name"])  # a text, or one per language {fr: …, en: …}
        exercises.append(Exercise(ex["name"], Texts(title) if isinstance(title, dict) else title, float(ex["points"]),
                                  functions, tuple(cases), tuple(ex.get("depends_on", ()))))
    return Assignment(
        path=path.resolve(), title=data["title"], package=data["package"],
        reference=data.get("reference"), mistakes=data.get("mistakes"),
        generators=tuple(data.get("generators", ())), seed=int(data.get("seed", 0)),
        salt=str(data.get("salt", "")), timeout=timeout, memory_mb=int(data.get("memory_mb", 2048)),
        forbidden_imports=tuple(data.get("forbidden_imports", ())), exercises=tuple(exercises),
        properties=data.get("properties"))
