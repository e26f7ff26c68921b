"""The student stubs (`exercises/`) are the contract's interface and nothing more.

Every contract function exists with exactly the reference's signature, is documented in
French then English with its slide, and raises NotImplementedError on a case's inputs; no
stub holds a solution.
"""
import ast
import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.model.assignment import load_assignment  # noqa: E402
from grader.grading.cases import CaseBuilder  # noqa: E402

# The contract (docs/contract.md): module -> functions, in its order.
CONTRACT = {
    "similarity": ["dot_product", "cosine_similarity", "scaled_dot_product", "cosine_similarity_matrix"],
    "softmax": ["softmax"],
    "embeddings": ["one_hot", "embed", "skipgram_pairs", "analogy"],
    "attention": ["similarity_attention", "attention_weights", "scaled_dot_product_attention", "causal_mask",
                  "multi_head_attention"],
    "positional": ["positional_encoding"],
    "transformer": ["layer_norm", "gelu", "feed_forward", "transformer_block", "transformer_forward",
                    "next_token_probabilities", "generate"],
}
FUNCTIONS = [(module, name) for module, names in CONTRACT.items() for name in names]
FUNCTION_IDS = [f"{module}.{name}" for module, name in FUNCTIONS]
STUB_FILES = sorted((ROOT / "exercises").glob("*.py"))

ASSIGNMENT = load_assignment(ROOT / "assignment.yaml")
BUILDER = CaseBuilder(ASSIGNMENT)

FRENCH = set("le la les des du un une et est sur chaque avec dans par aux au sa son ses qui que pas de "
             "ce cette leur leurs ou où puis pour".split())
ENGLISH = set("the of and is each with by to its which that not from into an over for every one in it "
              "or then on at".split())


def stub(module, name):
    return getattr(importlib.import_module(f"exercises.{module}"), name, None)


def reference(module, name):
    return getattr(importlib.import_module(f"reference.{module}"), name)


def language(text):
    """'fr', 'en' or None, by counting each language's function words."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    fr, en = sum(w in FRENCH for w in words), sum(w in ENGLISH for w in words)
    return "fr" if fr > en else "en" if en > fr else None


def paragraphs(doc):
    return [p for p in doc.split("\n\n") if p.strip()]


# --- the interface --------------------------------------------------------------------------

def test_the_assignment_grades_exactly_the_contract_functions():
    graded = {e.name: list(e.functions) for e in ASSIGNMENT.exercises}
    assert graded == CONTRACT


@pytest.mark.parametrize("module,name", FUNCTIONS, ids=FUNCTION_IDS)
def test_stub_exists(module, name):
    assert callable(stub(module, name)), f"exercises/{module}.py has no function {name}"


@pytest.mark.parametrize("module,name", FUNCTIONS, ids=FUNCTION_IDS)
def test_stub_has_the_reference_signature(module, name):
    ours = inspect.signature(stub(module, name)).parameters
    theirs = inspect.signature(reference(module, name)).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == \
           [(p.name, p.kind, p.default) for p in theirs.values()]


@pytest.mark.parametrize("module,name", FUNCTIONS, ids=FUNCTION_IDS)
def test_stub_raises_not_implemented_error_on_every_case(module, name):
    cases = [c for c in ASSIGNMENT.cases() if c.exercise == module and c.function == name]
    assert cases, f"no case grades {module}.{name}"
    for case in cases:
        with pytest.raises(NotImplementedError, match=name):
            stub(module, name)(*BUILDER.inputs(case, ASSIGNMENT.seed).values())


# --- the documentation ----------------------------------------------------------------------

@pytest.mark.parametrize("module,name", FUNCTIONS, ids=FUNCTION_IDS)
def test_stub_docstring_is_long_and_names_its_slide(module, name):
    doc = inspect.getdoc(stub(module, name)) or ""
    assert len(doc.splitlines()) >= 8, f"{module}.{name}: docstring of {len(doc.splitlines())} lines"
    assert "Diapo" in doc, f"{module}.{name}: the docstring names no slide (« Diapo : … »)"
    for section in ("Paramètres / Parameters", "Renvoie / Returns", "Exemple / Example"):
        assert section in doc, f"{module}.{name}: no section {section!r}"


@pytest.mark.parametrize("module,name", FUNCTIONS, ids=FUNCTION_IDS)
def test_stub_docstring_is_french_then_english(module, name):
    first, second = paragraphs(inspect.getdoc(stub(module, name)) or "\n\n")[:2]
    assert (language(first), language(second)) == ("fr", "en"), (
        f"{module}.{name}: the summary should be French, then English:\n{first}\n---\n{second}")


@pytest.mark.parametrize("path", STUB_FILES, ids=[p.name for p in STUB_FILES])
def test_stub_module_docstring_is_french_then_english(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    languages = [language(p) for p in paragraphs(doc)]
    assert languages and languages[0] == "fr", f"{path.name}: the module docstring should open in French"
    assert "en" in languages, f"{path.name}: the module docstring has no English part"


# --- no solution ----------------------------------------------------------------------------

def _raises_not_implemented(statement):
    return (isinstance(statement, ast.Raise) and isinstance(statement.exc, ast.Call)
            and isinstance(statement.exc.func, ast.Name) and statement.exc.func.id == "NotImplementedError")


@pytest.mark.parametrize("path", STUB_FILES, ids=[p.name for p in STUB_FILES])
def test_stub_module_holds_no_solution(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
    for node in body:
        assert isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef)), (
            f"{path.name}:{node.lineno}: only imports and stub functions belong here, found {type(node).__name__}")
        if isinstance(node, ast.FunctionDef):
            statements = node.body[1:] if ast.get_docstring(node) is not None else node.body
            assert len(statements) == 1 and _raises_not_implemented(statements[0]), (
                f"{path.name}:{node.lineno}: {node.name}() should only raise NotImplementedError")


@pytest.mark.parametrize("path", STUB_FILES, ids=[p.name for p in STUB_FILES])
def test_stub_module_defines_only_contract_functions(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert defined == CONTRACT.get(path.stem, [])


@pytest.mark.parametrize("path", STUB_FILES, ids=[p.name for p in STUB_FILES])
def test_stub_module_imports_only_numpy(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = [a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module for n in tree.body if isinstance(n, ast.ImportFrom)]
    assert all(m == "numpy" or m.startswith("exercises") for m in imported), imported
