"""Verdicts are data: a case's verdict is stored as a code and its fields (`said` in the JSON),
and rendering a stored result in either language gives exactly the text grading in that language
gives — so `grade bulk` resumed with another --lang, or a result re-read by an exporter, never
mixes languages."""
import json
import re

import numpy as np
import pytest

from conftest import solution_folder, validate_result
from grader.grading.engine import Expectations, grade, select_cases
from grader.i18n import language, set_language, speaking
from grader.model.result import Result
from grader.model.said import Said, concat, joined
from grader.sandbox.supervisor import Limits


# one way to reach each comparison stage, written as students write them
WRONG = {
    "similarity": '''
def dot_product(a, b):
    return np.sum(a * b)                                   # the whole batch summed: a scalar

def cosine_similarity(a, b, eps=1e-8):
    return [float(np.sum(a * b))]                          # a list, not an array

def scaled_dot_product(a, b):
    with open("/tmp/scores-for-later.txt", "w") as f:      # outside its folder: refused by the worker
        f.write("x")
    return np.sum(a * b, axis=-1) / np.sqrt(a.shape[-1])
''',
    "softmax": '''
def softmax(x, axis=-1):
    x -= np.max(x, axis=axis, keepdims=True)               # in place: the caller's array changes
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)
''',
    "embeddings": '''
def analogy(words, E, a, b, c):
    return "w" * 500                                       # a long word: quoted, cut, counted

def skipgram_pairs(tokens, window=2):
    pairs = []
    for i, center in enumerate(tokens):
        for j in range(max(0, i - window), min(len(tokens), i + window + 2)):
            if j != i:
                pairs.append((center, tokens[j]))
    return pairs

def embed(ids, E):
    raise ValueError("E and ids do not fit")

def one_hot(ids, vocab_size):
    raise RuntimeError
''',
    "attention": '''
def causal_mask(n_q, n_k=None):
    n_k = n_q if n_k is None else n_k
    return np.tril(np.ones((n_q, n_k))).astype(int)         # 0/1, not booleans

def attention_weights(Q, K, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(K.shape[-1])
    return scores                                           # no softmax
''',
    "positional": '''
def positional_encoding(n_positions, d_model):
    return np.full((n_positions, d_model), np.nan)
''',
    "transformer": '''
def gelu(x):
    import os
    os._exit(3)                                            # the worker dies: a crash, then "not run"

def layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(x.var(axis=-1, keepdims=True) + eps) * 1.01 + beta
''',
}


def graded_in(lang, assignment, folder):
    before = language()
    set_language(lang)
    try:
        plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment))
        return grade(assignment, folder, plan, limits=Limits(timeout=assignment.timeout,
                                                               memory_mb=assignment.memory_mb))
    finally:
        set_language(before)


@pytest.fixture(scope="module")
def both(assignment, tmp_path_factory):
    folder = solution_folder(tmp_path_factory.mktemp("wrong") / "exercises")
    for module, code in WRONG.items():
        path = folder / f"{module}.py"
        path.write_text(path.read_text() + "\n\n# ---- written the way students write them ----\n" + code)
    return graded_in("en", assignment, folder), graded_in("fr", assignment, folder)


def test_a_stored_result_renders_in_either_language_as_grading_in_it_does(both):
    english, french = both
    stored = Result.from_json(json.loads(json.dumps(english.to_json(instructor=True), allow_nan=False)))
    en_cases, fr_cases = {c.id: c for c in english.cases}, {c.id: c for c in french.cases}
    codes, checked, diagnosed = set(), 0, 0
    for case in stored.cases:  # hidden ones too: the instructor's JSON keeps their data
        if case.said is None:
            continue
        codes.add(case.said.code)
        assert case.render("en") == en_cases[case.id].message, case.id
        assert case.render("fr") == fr_cases[case.id].message, case.id
        if case.visibility == "public":  # hints too (a hidden case's stay out of the JSON)
            assert case.render_diagnosis("fr") == fr_cases[case.id].diagnosis, case.id
            assert case.render_diagnosis("en") == en_cases[case.id].diagnosis, case.id
            diagnosed += case.diagnosis_said is not None
        checked += 1
    # every stage the submission reaches is data, so every one of them was checked
    assert {"compare.wrong_shape", "compare.not_an_array", "compare.modified_input", "compare.exact.named",
            "compare.raised", "compare.raised_no_message", "compare.not_boolean", "compare.nonfinite",
            "compare.outside_tolerance", "engine.refused", "sandbox.exited_status"} <= codes, codes
    assert checked >= 40 and diagnosed >= 3  # property hints and named mistakes among them


def test_the_json_carries_the_code_and_validates(both):
    english, _ = both
    data = english.to_json()
    validate_result(data)
    failing = [c for e in data["exercises"] for c in e["cases"] if c["status"] != "passed"]
    public = [c for c in failing if c["visibility"] == "public"]
    assert public and all(c["code"] and c["said"]["code"] for c in public)
    hidden = [c for c in failing if c["visibility"] == "hidden"]
    # a student's JSON says nothing of a hidden case but its status and points
    assert hidden and all(c["code"] is None and c["said"] is None and c["message"] == "" for c in hidden)
    instructor = english.to_json(instructor=True)
    assert all(c["code"] for e in instructor["exercises"] for c in e["cases"]
               if c["status"] in ("failed", "error") and c["visibility"] == "hidden")


def test_fix_first_is_data_appended_to_the_verdict(both):
    english, french = both
    cases = [c for c in english.cases if c.function == "scaled_dot_product_attention" and c.status == "failed"]
    assert cases
    for case in cases:
        assert case.said.key == "concat" and case.said.fields["parts"][-1].key == "engine.fix_first"
        assert case.said.code == case.said.fields["parts"][0].code  # grouped by what failed, not by the advice


def test_said_survives_json_with_tuples_nested_data_and_no_language_inside():
    value = concat(Said("compare.wrong_shape", name=Said("compare.the_result"), shape=(3, 4), expected=(4,)),
                   joined([Said("compare.the_scalar"), Said("compare.str_array")]))
    back = Said.from_json(json.loads(json.dumps(value.to_json(), allow_nan=False)))
    assert back == value
    nan = Said("compare.nonfinite", name="x", count=1, where="[0]", student=float("nan"), expected=float("-inf"))
    again = Said.from_json(json.loads(json.dumps(nan.to_json(), allow_nan=False)))  # strict JSON: no NaN literal
    assert again.render("en") == nan.render("en") and "nan" in nan.render("en")
    for lang in ("en", "fr"):
        assert back.render(lang) == value.render(lang)
    assert "(3, 4)" in value.render("en") and "(4,)" in value.render("fr")
    assert Said.from_json({"code": 3}) is None and Said.from_json("text") is None


def test_the_class_overview_groups_by_code_whatever_the_language_and_the_values(both):
    from grader.report.class_overview import reason_key
    english, french = both
    en = {c["id"]: c for e in english.to_json(instructor=True)["exercises"] for c in e["cases"]}
    fr = {c["id"]: c for e in french.to_json(instructor=True)["exercises"] for c in e["cases"]}
    keys = {}
    for cid, case in en.items():
        if case["said"] is None:
            continue
        key = reason_key(case, set())[0]
        assert key == reason_key(fr[cid], set())[0], cid  # a class graded half in French groups as one
        if not case["diagnosis"] and not case["mistake"]:
            keys.setdefault((case["function"], case["code"]), []).append(key)
    # cases of one function failing the same way on different values are one reason
    several = {k: v for k, v in keys.items() if len(v) > 1}
    assert several and all(len(set(v)) == 1 for v in several.values()), several


def test_notes_and_problems_render_in_either_language_as_grading_in_it_does(assignment, tmp_path):
    """A submission's notes (a function defined twice, a cell magic skipped, a cell that fails,
    what a module printed) and an exercise's problems (a syntax error, a refused operation) are
    data too: a result stored in English reads in French exactly as grading in French does."""
    import nbformat
    cells = [nbformat.v4.new_code_cell("import numpy as np\nprint('loading…')"),
             nbformat.v4.new_code_cell("%%timeit\nx = 1"),
             nbformat.v4.new_code_cell("def softmax(x, axis=-1):\n    return x"),
             nbformat.v4.new_code_cell("def softmax(x, axis=-1):\n    e = np.exp(x - x.max(axis, keepdims=True))\n"
                                       "    return e / e.sum(axis, keepdims=True)"),
             nbformat.v4.new_code_cell("def dot_product(a, b:\n    return a @ b"),
             nbformat.v4.new_code_cell("raise RuntimeError('a cell that fails')")]
    path = tmp_path / "devoir.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    english, french = graded_in("en", assignment, path), graded_in("fr", assignment, path)
    with speaking("fr"):
        french_json = french.to_json()
    with speaking("en"):
        english_json = english.to_json()
    stored = Result.from_json(json.loads(json.dumps(english_json, allow_nan=False)))
    validate_result(english_json)
    assert len(stored.notes) >= 3 and all(isinstance(n, Said) for n in stored.notes)
    assert [n.render("fr") for n in stored.notes] == french_json["notes"]
    assert [n.render("en") for n in stored.notes] == english_json["notes"]
    # nothing of the English grading is left in the French text
    assert any(n.startswith("cellule 5, ligne 1 : SyntaxError") for n in french_json["notes"])
    assert not any(re.search(r"(?<!<)\b[Cc]ell \d|, line \d+:", n) for n in french_json["notes"]), french_json["notes"]

    # a folder: a module that does not compile, a forbidden import, an operation refused
    folder = solution_folder(tmp_path / "work" / "exercises")
    (folder / "positional.py").write_text((folder / "positional.py").read_text() + "\ndef broken(:\n")
    (folder / "similarity.py").write_text("import subprocess\n" + (folder / "similarity.py").read_text())
    (folder / "softmax.py").write_text((folder / "softmax.py").read_text() +
                                       "\nopen('/tmp/leak.txt', 'w').write('x')\n")
    english, french = graded_in("en", assignment, folder), graded_in("fr", assignment, folder)
    with speaking("fr"):
        french_json = french.to_json()
    stored = Result.from_json(json.loads(json.dumps(english.to_json(), allow_nan=False)))
    problems = [p for e in stored.exercises for p in e.problems]
    assert len(problems) >= 3 and all(isinstance(p, Said) for p in problems)
    assert [p.render("fr") for p in problems] == [p for e in french_json["exercises"] for p in e["problems"]]
