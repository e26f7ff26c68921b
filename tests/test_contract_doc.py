"""`docs/contract.md` and the code that implements it say the same thing.

The contract document is parsed, not trusted: its tables name every module, function,
argument, default, tolerance class, point, forbidden import, block and params key, and
lecture case, and each of them is checked against `reference/`, `exercises/`,
`assignment.yaml` and `course/`. Its worked examples are evaluated with the reference. A
change on either side that is not made on the other fails here, with what to update.
"""
import ast
import importlib
import inspect
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course.generators import block_params, model_params  # noqa: E402
from grader.model.assignment import load_assignment  # noqa: E402

DOC_PATH = ROOT / "docs" / "contract.md"
DOC = DOC_PATH.read_text(encoding="utf-8")
ASSIGNMENT = load_assignment(ROOT / "assignment.yaml")
RAW = yaml.safe_load((ROOT / "assignment.yaml").read_text(encoding="utf-8"))

MODULE_HEADING = re.compile(r"^#{2,3} .*`exercises/(\w+)\.py`")
CODE = re.compile(r"`([^`]+)`")


# --- parsing the document --------------------------------------------------------------------

def cells(line):
    """The cells of one Markdown table row (no `|` inside a cell in this document)."""
    return [c.strip() for c in line.strip().strip("|").split("|")]


def tables(text=DOC):
    """[(module or None, header, rows)]: every table, with the `exercises/<module>.py` section
    it sits in (None before the first one)."""
    found, module, header, rows = [], None, None, []
    for line in text.splitlines() + [""]:
        if line.lstrip().startswith("|"):
            row = cells(line)
            if header is None:
                header = [h.lower() for h in row]
            elif not all(set(c) <= set("-: ") for c in row):
                rows.append(row)
            continue
        if header is not None:
            found.append((module, header, rows))
            header, rows = None, []
        heading = MODULE_HEADING.match(line)
        if heading:
            module = heading.group(1)
        elif line.startswith("## "):
            module = None
    return found


def table(first_column):
    """The rows of the tables whose first header cell is `first_column`."""
    return [(module, dict(zip(header, row))) for module, header, rows in tables()
            if header and header[0] == first_column for row in rows]


def code_spans(cell):
    return CODE.findall(cell)


def parse_call(text):
    """`name(a, b=1e-8)` -> ("name", [("a", EMPTY), ("b", 1e-8)])."""
    call = ast.parse(text, mode="eval").body
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name), f"not a call: {text}"
    params = [(arg.id, inspect.Parameter.empty) for arg in call.args]
    params += [(kw.arg, ast.literal_eval(kw.value)) for kw in call.keywords]
    return call.func.id, params


def documented_functions():
    """{module: [(name, params, row)]} from the function tables, in the document's order."""
    functions = {}
    for module, row in table("function"):
        assert module is not None, f"a function table outside an `exercises/<module>.py` section: {row}"
        name, params = parse_call(code_spans(row["function"])[0])
        functions.setdefault(module, []).append((name, params, row))
    return functions


FUNCTIONS = documented_functions()
FLAT = [(module, name, params, row) for module, entries in FUNCTIONS.items() for name, params, row in entries]
FLAT_IDS = [f"{module}.{name}" for module, name, _, _ in FLAT]


def graded_functions():
    return {e.name: list(e.functions) for e in ASSIGNMENT.exercises}


def defined_functions(package, module):
    """Public functions defined in `package.module` itself, in source order."""
    mod = importlib.import_module(f"{package}.{module}")
    found = [(f.__code__.co_firstlineno, name) for name, f in vars(mod).items()
             if inspect.isfunction(f) and f.__module__ == mod.__name__ and not name.startswith("_")]
    return [name for _, name in sorted(found)]


def signature(package, module, name):
    function = getattr(importlib.import_module(f"{package}.{module}"), name)
    return [(p.name, p.default) for p in inspect.signature(function).parameters.values()]


def number(text):
    return float(text.replace("exact", "nan"))


# --- modules and functions -------------------------------------------------------------------

def test_the_document_has_a_function_table_for_every_exercise_in_the_assignments_order():
    assert list(FUNCTIONS) == [e.name for e in ASSIGNMENT.exercises], (
        "docs/contract.md: one `exercises/<module>.py` section per exercise of assignment.yaml, same order")


def test_the_documented_functions_are_the_graded_functions_in_order():
    documented = {module: [name for name, _, _ in entries] for module, entries in FUNCTIONS.items()}
    assert documented == graded_functions()


@pytest.mark.parametrize("module", list(FUNCTIONS))
def test_each_stub_module_defines_exactly_the_documented_functions_in_order(module):
    assert defined_functions("exercises", module) == [name for name, _, _ in FUNCTIONS[module]]


@pytest.mark.parametrize("module", list(FUNCTIONS))
def test_the_reference_defines_every_documented_function_in_order(module):
    """The reference may hold helpers (split_heads, merge_heads) between them."""
    documented = [name for name, _, _ in FUNCTIONS[module]]
    defined = defined_functions("reference", module)
    assert [name for name in defined if name in documented] == documented


@pytest.mark.parametrize("module,name,params,row", FLAT, ids=FLAT_IDS)
def test_documented_signature_is_the_references(module, name, params, row):
    assert params == signature("reference", module, name), (
        f"docs/contract.md writes {code_spans(row['function'])[0]}, "
        f"reference/{module}.py has {name}{inspect.signature(getattr(importlib.import_module(f'reference.{module}'), name))}")


@pytest.mark.parametrize("module,name,params,row", FLAT, ids=FLAT_IDS)
def test_documented_signature_is_the_stubs(module, name, params, row):
    assert params == signature("exercises", module, name), (
        f"docs/contract.md writes {code_spans(row['function'])[0]}, "
        f"exercises/{module}.py has {name}{inspect.signature(getattr(importlib.import_module(f'exercises.{module}'), name))}")


@pytest.mark.parametrize("module,name,params,row", FLAT, ids=FLAT_IDS)
def test_documented_tolerance_class_is_the_assignments(module, name, params, row):
    exercise = next(e for e in RAW["exercises"] if e["name"] == module)
    assert code_spans(row["tolerance"]) == [exercise["functions"][name]["tolerance"]]


@pytest.mark.parametrize("module,name,params,row", FLAT, ids=FLAT_IDS)
def test_tuple_valued_functions_document_their_outputs_in_order(module, name, params, row):
    outputs = ASSIGNMENT.exercise(module).functions[name].outputs
    shapes = row["shapes → result"]
    if outputs:
        result = shapes.split("→", 1)[1]
        positions = [result.find(f"{output} ") for output in outputs]
        assert -1 not in positions and positions == sorted(positions), (
            f"{name} returns {outputs}: the document should write them in that order, got {result!r}")


# --- tolerances, points, imports ------------------------------------------------------------

def test_tolerance_classes_are_the_assignments():
    documented = {code_spans(row["class"])[0]: (row["rtol"], row["atol"]) for _, row in table("class")}
    expected = {}
    for name, value in RAW["tolerances"].items():
        expected[name] = ("exact", "exact") if value == "exact" else (value["rtol"], value["atol"])
    assert set(documented) == set(expected)
    for name, (rtol, atol) in documented.items():
        if expected[name] == ("exact", "exact"):
            assert (rtol, atol) == ("exact", "exact"), name
        else:
            assert (number(rtol), number(atol)) == (float(expected[name][0]), float(expected[name][1])), name


def test_the_documented_comparison_formula_is_the_graders():
    assert "scale = max(1, max |expected|)" in DOC
    assert "|student − expected| ≤ atol · scale + rtol · |expected|" in DOC
    source = (ROOT / "grader" / "grading" / "compare.py").read_text(encoding="utf-8")
    assert "scale = max(1.0, float(np.max(np.abs(e[finite]), initial=0.0)))" in source
    assert "bound = tolerance.atol * scale + tolerance.rtol * np.abs(e)" in source


def test_points_are_the_assignments():
    documented = {code_spans(row["exercise"])[0]: float(row["points"]) for _, row in table("exercise")
                  if "points" in row}
    assert documented == {e.name: e.points for e in ASSIGNMENT.exercises}
    assert sum(documented.values()) == ASSIGNMENT.max_score == 100


def test_timeout_and_memory_are_the_assignments():
    assert f"{ASSIGNMENT.timeout:g} s timeout" in DOC
    assert f"{ASSIGNMENT.memory_mb} MB memory limit" in DOC


def test_forbidden_imports_are_the_assignments():
    documented = [code_spans(row["forbidden import"])[0] for _, row in table("forbidden import")]
    assert documented == list(ASSIGNMENT.forbidden_imports)


# --- the transformer's dicts ----------------------------------------------------------------

def test_block_keys_are_the_ones_the_generators_build_and_the_reference_reads():
    documented = [code_spans(row["block key"])[0] for _, row in table("block key")]
    built = list(block_params(np.random.default_rng(0), 4))
    assert documented == built
    source = (ROOT / "reference" / "transformer.py").read_text(encoding="utf-8")
    assert set(re.findall(r'block\["(\w+)"\]', source)) == set(documented)


def test_params_keys_are_the_ones_the_generators_build_and_the_reference_reads():
    documented = [code_spans(row["params key"])[0] for _, row in table("params key")]
    built = list(model_params(np.random.default_rng(0), vocab=5, d_model=4, n_heads=2, n_layers=1))
    assert documented == built
    source = (ROOT / "reference" / "transformer.py").read_text(encoding="utf-8")
    assert set(re.findall(r'params\["(\w+)"\]', source)) == set(documented)


# --- lecture cases --------------------------------------------------------------------------

CASE_ID = re.compile(r"^[\w-]+/\w+/[\w-]+$")


def case_ids(row):
    ids = code_spans(row["case ids"])
    assert all(CASE_ID.match(i) for i in ids), f"not a case id (exercise/function/name): {ids}"
    return ids


LECTURE_ROWS = [row for _, row in table("exercise") if "case ids" in row]
LISTED = {i for row in LECTURE_ROWS for i in case_ids(row)}
REQUIRED = {i for row in LECTURE_ROWS if row["required"].startswith("yes") for i in case_ids(row)}
ASSIGNMENT_LECTURE = {c.id for c in ASSIGNMENT.cases() if c.lecture is not None}


@pytest.mark.parametrize("case_id", sorted(LISTED))
def test_each_listed_lecture_case_is_a_public_lecture_case_of_the_assignment(case_id):
    case = ASSIGNMENT.case(case_id)  # raises when the id does not exist
    assert case.lecture is not None, f"{case_id}: no `lecture:` block in assignment.yaml"
    assert case.visibility == "public"


def test_each_listed_lecture_case_sits_in_its_exercise_row():
    for row in LECTURE_ROWS:
        for case_id in case_ids(row):
            assert case_id.split("/")[0] == row["exercise"], (row["exercise"], case_id)


def test_every_lecture_case_of_the_assignment_is_in_the_document():
    assert ASSIGNMENT_LECTURE - LISTED == set(), "lecture cases missing from docs/contract.md §10"


def test_the_required_lecture_cases_are_the_ones_test_lecture_cases_checks():
    tree = ast.parse((ROOT / "tests" / "test_lecture_cases.py").read_text(encoding="utf-8"))
    value = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and any(getattr(t, "id", None) == "CONTRACT_LECTURE_CASES" for t in node.targets))
    checked = {i for ids in ast.literal_eval(value).values() for i in ids}
    assert REQUIRED == checked


# --- worked examples ------------------------------------------------------------------------

def reference_namespace():
    namespace = {"np": np}
    for module in FUNCTIONS:
        mod = importlib.import_module(f"reference.{module}")
        namespace.update({name: getattr(mod, name) for name, _, _ in FUNCTIONS[module]})
    return namespace


EXAMPLES = [row for _, row in table("convention")]


def plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def numeric(value):
    flat = np.ravel(np.array(value, dtype=object))
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat)


def test_there_are_worked_examples_for_every_module():
    used = {name for row in EXAMPLES for name in re.findall(r"(\w+)\(", code_spans(row["expression"])[0])}
    for module, entries in FUNCTIONS.items():
        assert used & {name for name, _, _ in entries}, f"no worked example calls a function of {module}"


@pytest.mark.parametrize("row", EXAMPLES, ids=[row["convention"] for row in EXAMPLES])
def test_worked_example_holds_for_the_reference(row):
    expression, shown = code_spans(row["expression"])[0], code_spans(row["value"])[0]
    got = plain(eval(expression, reference_namespace()))  # noqa: S307 (the document's own examples)
    expected = ast.literal_eval(shown)
    if numeric(expected) and numeric(got):
        decimals = max((len(d) for d in re.findall(r"\.(\d+)", shown)), default=0)
        got, want = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
        assert got.shape == want.shape, f"{expression}: shape {got.shape}, the document shows {want.shape}"
        assert np.allclose(got, want, rtol=0, atol=0.5 * 10.0**-decimals + 1e-12), (
            f"{expression} gives {got.tolist()}, the document shows {shown}")
    else:
        assert got == plain(expected), f"{expression} gives {got!r}, the document shows {shown}"


# --- the document is the repository's own --------------------------------------------------

def test_the_document_points_nowhere_outside_the_repository():
    for target in re.findall(r"\]\(([^)#]+)", DOC):
        assert not target.startswith(("/", "..")) and (DOC_PATH.parent / target).resolve().is_relative_to(ROOT)
        assert (DOC_PATH.parent / target).exists(), f"broken link {target}"
    for path in code_spans(DOC):
        assert not path.startswith("../"), path
    assert "shared/spec" not in DOC and "EXERCISES.md" not in DOC


def test_the_repository_refers_to_the_contract_document_not_an_outside_file():
    skip = {".git", "__pycache__", ".venv", "venv", "node_modules"}
    offenders = []
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & skip or any(p.endswith(".egg-info") for p in parts) or not path.is_file():
            continue
        if path.suffix not in {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".html", ".json"}:
            continue
        if path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if "EXERCISES.md" in text or "shared/spec" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], f"these files still point to the shared folder's contract: {offenders}"
    assert "docs/contract.md" in (ROOT / "README.md").read_text(encoding="utf-8")
