"""The public cases as a plain pytest module — what a teacher would write without the grader.

The baseline `bench/speed.py` compares `grade` with. It needs a students' repository (made by
`grade release`) whose `exercises/` holds the submission to test:

    PLAIN_STUDENTS_DIR=/path/to/release python -m pytest -q -p no:cacheprovider -p no:xdist \\
        -p no:randomly -p no:seance11 -o addopts= bench/plain_public_test.py

(`-o addopts=`: the course's pyproject adds `-n auto`, which needs xdist; `-p no:seance11`:
the grader's own pytest plugin stays out of a plain pytest run.)

One test per public case, parametrized over `public_cases.npz`, read directly (NumPy and a few
lines decoding its JSON manifest; no grader import). The student's functions are imported
in the pytest process (no sandbox) from `exercises.<module>`. Tolerances and tuple outputs come
from the release's `assignment.yaml` (plain YAML). The check is the grader's rule with
`numpy.testing.assert_allclose`: `|yours - expected| <= atol*scale + rtol*|expected|`,
`scale = max(1, max|expected|)`; exact cases compare with equality, expected-error cases
with `pytest.raises`.
"""
from __future__ import annotations

import copy
import importlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

STUDENTS = Path(os.environ.get("PLAIN_STUDENTS_DIR", ".")).resolve()
if str(STUDENTS) not in sys.path:
    sys.path.insert(0, str(STUDENTS))


# --- the public-cases file: {"manifest": JSON bytes, "a0".."aN": arrays} --------------------------

def _decode(tree, archive):
    """The manifest's tree -> values: {"$nd": k} is array a<k>, {"$tuple"|"$dict"|"$float": ...}."""
    if isinstance(tree, list):
        return [_decode(v, archive) for v in tree]
    if isinstance(tree, dict):
        (tag, inner), = tree.items()
        if tag == "$nd":
            return archive[f"a{inner}"]
        if tag == "$float":
            return float(inner)
        if tag == "$tuple":
            return tuple(_decode(v, archive) for v in inner)
        if tag == "$dict":
            return {k: _decode(v, archive) for k, v in inner.items()}
        raise ValueError(f"unexpected tag {tag!r} in the public-cases file")
    return tree


def load_cases(folder: Path) -> list:
    """[(case id, inputs, expected value, expected error type name or None)]."""
    with np.load(folder / "public_cases.npz", allow_pickle=False) as archive:
        manifest = json.loads(bytes(archive["manifest"]).decode())
        records = manifest["cases"]["$dict"]
        cases = []
        for case_id, record in records.items():
            record = record["$dict"]
            cases.append((case_id, _decode(record["inputs"], archive), _decode(record["value"], archive),
                          record["error"]))
    return cases


def load_rules(folder: Path) -> dict:
    """{case id: ((rtol, atol) or None for exact, output names)} from the release's assignment.yaml."""
    data = yaml.load((folder / "assignment.yaml").read_text(encoding="utf-8"),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    tolerances = {name: None if spec == "exact" else (float(spec["rtol"]), float(spec["atol"]))
                  for name, spec in data["tolerances"].items()}
    rules = {}
    for exercise in data["exercises"]:
        functions = {name: spec or {} for name, spec in exercise["functions"].items()}
        for case in exercise["cases"]:
            spec = functions[case["function"]]
            tolerance = tolerances[case.get("tolerance", spec.get("tolerance", "block"))]
            count = case.get("count")
            names = [case["id"]] if count is None else [f"{case['id']}-{k}" for k in range(count)]
            for name in names:
                rules[f"{exercise['name']}/{case['function']}/{name}"] = (tolerance, tuple(spec.get("outputs", ())))
    return rules


CASES = load_cases(STUDENTS)
RULES = load_rules(STUDENTS)


# --- the check ---------------------------------------------------------------------------------------

def _plain(value):
    """Exact values normalised: tuples -> lists, 1-D integer arrays -> lists, NumPy scalars -> Python."""
    if isinstance(value, np.ndarray) and value.ndim <= 1 and value.dtype.kind in "iub":
        return [int(v) for v in value] if value.ndim == 1 else int(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def check(actual, expected, tolerance):
    if not isinstance(expected, (np.ndarray, float, np.floating)):  # words, pairs, ids: exact
        assert _plain(actual) == _plain(expected)
        return
    expected = np.asarray(expected)
    actual = np.asarray(actual)
    assert actual.shape == expected.shape
    if tolerance is None or expected.dtype.kind == "b":
        np.testing.assert_array_equal(actual, expected)
        return
    rtol, atol = tolerance
    finite = np.isfinite(expected)
    scale = max(1.0, float(np.max(np.abs(expected[finite]), initial=0.0)))
    np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol * scale)


def student_function(case_id: str):
    exercise, function, _ = case_id.split("/", 2)
    return getattr(importlib.import_module(f"exercises.{exercise}"), function)


@pytest.mark.parametrize("case_id, inputs, expected, error", CASES, ids=[c[0] for c in CASES])
def test_public_case(case_id, inputs, expected, error):
    fn = student_function(case_id)
    tolerance, outputs = RULES[case_id]
    args = copy.deepcopy(inputs).values()
    if error:
        with pytest.raises(Exception) as raised:
            fn(*args)
        assert error in [c.__name__ for c in type(raised.value).__mro__]
        return
    actual = fn(*args)
    if outputs:
        assert isinstance(actual, (tuple, list)) and len(actual) == len(outputs)
        for a, e in zip(actual, expected):
            check(a, e, tolerance)
    else:
        check(actual, expected, tolerance)
