"""The engine names no function of a course: every course-specific behaviour (cases, generators,
reference, mistake variants, property checks and their sentences) is the course's, named from
its assignment.yaml. Checked for both courses the suite grades — séance 11 (assignment.yaml) and
the second course (tests/second_course/assignment.yaml): no module of grader/ uses one of their
function names as an identifier (a name, an attribute, a function, class, parameter, keyword or
import name) or inside a string literal (as a word: "softmax", "hints.softmax.sums",
f"…{x}softmax…" alike).

Docstrings are documentation, not behaviour, and are not read: they may take a course's
functions as examples ("grade -k softmax"), as comments may.

ALLOWED lists function names that are also generic words the engine may use for itself, each
with its reason. It is empty: no function of either course collides with a word the engine
uses today (e.g. `generate` is a word of the engine's docstrings only). A name added here must
say why its use in the engine is not about the course.
"""
import ast
import re
from functools import lru_cache

import pytest
import yaml

from conftest import ROOT

GRADER = ROOT / "grader"
COURSES = [ROOT / "assignment.yaml", ROOT / "tests" / "second_course" / "assignment.yaml"]
ALLOWED: dict = {}   # function name -> why the engine may use that word
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@lru_cache(maxsize=None)
def course_functions() -> dict:
    """{function name: the assignment files declaring it}."""
    found = {}
    for path in COURSES:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for exercise in data["exercises"]:
            for name in exercise["functions"]:
                found.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    return found


def docstrings(tree) -> set:
    """ids of the docstring nodes of a module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def named(source: str, names) -> list:
    """(line, name, how) for every identifier or string-literal word of `source` in `names`."""
    tree = ast.parse(source)
    skip = docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        identifiers = []
        if isinstance(node, ast.Name):
            identifiers = [node.id]
        elif isinstance(node, ast.Attribute):
            identifiers = [node.attr]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            identifiers = [node.name]
        elif isinstance(node, ast.arg):
            identifiers = [node.arg]
        elif isinstance(node, ast.keyword) and node.arg:
            identifiers = [node.arg]
        elif isinstance(node, ast.alias):
            identifiers = [part for name in (node.name, node.asname) if name for part in name.split(".")]
        elif isinstance(node, (ast.ImportFrom,)) and node.module:
            identifiers = node.module.split(".")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            identifiers = list(node.names)
        hits += [(getattr(node, "lineno", 0), name, "identifier") for name in identifiers if name in names]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            hits += [(node.lineno, word, "string") for word in WORD.findall(node.value) if word in names]
    return hits


def test_both_courses_declare_functions():
    functions = course_functions()
    assert len(functions) >= 25, sorted(functions)
    assert {"softmax", "scaled_dot_product_attention", "standardize", "pearson"} <= set(functions)
    assert set(ALLOWED) <= set(functions), f"allowed but no course's function: {sorted(set(ALLOWED) - set(functions))}"


def test_the_check_sees_every_way_of_naming():
    names = {"softmax"}
    source = '''"""A docstring may say softmax."""
import softmax
from course.softmax import x as softmax
def softmax(softmax=1):
    """softmax here too."""
    global softmax
    y.softmax = f(softmax=2)
    z = "hints.softmax.sums" + f"{y}softmax"
    # a comment may say softmax
'''
    hows = sorted((line, how) for line, _, how in named(source, names))
    assert hows == [(2, "identifier"), (3, "identifier"), (3, "identifier"), (4, "identifier"), (4, "identifier"),
                    (6, "identifier"), (7, "identifier"), (7, "identifier"), (8, "string"), (8, "string")], hows


@pytest.mark.parametrize("path", sorted(GRADER.rglob("*.py")), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_of_the_engine_names_a_course_function(path):
    functions = course_functions()
    names = set(functions) - set(ALLOWED)
    hits = named(path.read_text(encoding="utf-8"), names)
    assert not hits, "\n".join(f"{path.relative_to(ROOT)}:{line}: {how} names {name!r}, a function of "
                               f"{', '.join(functions[name])}" for line, name, how in hits)


def test_the_engines_hint_messages_name_no_course_function():
    """The engine's own `hints` messages: the course's sentences live in its property module's
    catalogs (course/properties.{fr,en}.yaml), not in grader/i18n/locales/."""
    from grader import i18n
    names = set(course_functions()) - set(ALLOWED)
    for lang in i18n.LANGUAGES:
        for key, message in i18n.catalog(lang).items():
            if key.startswith("hints."):
                words = set(WORD.findall(key + " " + str(message)))
                assert not words & names, (lang, key, sorted(words & names))
