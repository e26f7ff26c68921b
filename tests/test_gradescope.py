"""Gradescope (grader/export/gradescope.py): the autograder zip holds what Gradescope's container needs
and nothing of the tests; its real run_autograder, run on a fake /autograder tree with this
interpreter, writes a results.json that follows Gradescope's specification."""
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT, solution_folder
from grader.model.assignment import load_assignment
from grader.grading.cases import student_seed
from grader.model.errors import GraderError
from grader.export.gradescope import PINNED, build_autograder_zip, run, split_units, student_id

# Gradescope's results.json ("Autograder Specifications", gradescope-autograders.readthedocs.io/
# en/latest/specs/): every key the page lists, the values it allows; plus what this grader always
# writes (each test: score, max_score, status, name, number, output, tags, visibility).
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
RESULTS_SCHEMA = {
    "type": "object",
    "required": ["score", "execution_time", "output", "tests", "stdout_visibility"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": FORMAT, "test_output_format": FORMAT, "test_name_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["score", "max_score", "status", "name", "number", "output", "tags", "visibility"],
            "additionalProperties": False,
            "properties": {
                "score": {"type": "number", "minimum": 0},
                "max_score": {"type": "number", "exclusiveMinimum": 0},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string", "minLength": 1},
                "name_format": FORMAT,
                "number": {"type": "string", "pattern": r"^\d+(\.\d+)*$"},
                "output": {"type": "string"},
                "output_format": FORMAT,
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": VISIBILITY,
                "extra_data": {"type": "object"},
            },
        }},
    },
}
METADATA = {"id": 987654, "created_at": "2026-03-01T14:22:32.365935+01:00", "submission_method": "upload",
            "assignment": {"id": 25828, "title": "Séance 11", "total_points": "100.0"},
            "users": [{"email": "ada@example.com", "id": 1234, "name": "Ada Lovelace"}],
            "previous_submissions": []}


@pytest.fixture(scope="module")
def autograder_zip(assignment, tmp_path_factory):
    return build_autograder_zip(assignment, tmp_path_factory.mktemp("gradescope") / "autograder.zip")


def extract(archive: Path, dest: Path):
    """As unzip does: the members' Unix modes are applied (Python's extractall drops them)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, dest))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(path, mode)


def fake_autograder(autograder_zip: Path, tmp_path: Path, metadata=METADATA) -> Path:
    """<tmp>/autograder as Gradescope lays it out: source/ (the zip's contents), run_autograder
    copied beside it, an empty submission/, and the submission's metadata."""
    root = tmp_path / "autograder"
    extract(autograder_zip, root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    return root


def run_autograder(root: Path):
    """The real script, with this interpreter (setup.sh is not run here: no pip install)."""
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GRADER_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)  # the script must find the engine in source/ by itself
    proc = subprocess.run(["bash", str(root / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, RESULTS_SCHEMA)
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(results["score"], abs=1e-6)
    return proc, results


def edit(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new))


# --- the zip ------------------------------------------------------------------------------------

def test_zip_holds_the_engine_the_full_assignment_the_reference_and_never_the_tests(assignment, autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        names = set(zf.namelist())
        infos = {i.filename: i for i in zf.infolist()}
        shipped_assignment = zf.read("assignment.yaml")
    assert {"setup.sh", "run_autograder"} <= names  # at the archive's root, not in a folder
    assert not [n for n in names if n.split("/")[0] in ("tests", "exercises", "bench", "source")]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/." in "/" + n]
    reference = {f"reference/{p.name}" for p in (ROOT / "reference").glob("*.py")}
    assert reference <= names and "reference/mistakes.py" in names
    assert {"course/__init__.py", "course/generators.py", "course/lecture.py"} <= names
    engine = {f"grader/{p.relative_to(ROOT / 'grader').as_posix()}" for p in (ROOT / "grader").rglob("*")
              if p.is_file() and "__pycache__" not in p.parts}
    assert engine <= names and "grader/export/gradescope.py" in names and "grader/model/schemas/result.schema.json" in names
    assert shipped_assignment == (ROOT / "assignment.yaml").read_bytes()  # every case, hidden ones too
    assert any(c.visibility == "hidden" for c in assignment.cases())
    for name in ("setup.sh", "run_autograder"):
        assert infos[name].create_system == 3 and (infos[name].external_attr >> 16) & 0o111 == 0o111
    assert (infos["grader/export/gradescope.py"].external_attr >> 16) & 0o111 == 0


def test_zip_is_reproducible_and_replaced_atomically(assignment, autograder_zip, tmp_path):
    again = build_autograder_zip(assignment, tmp_path / "again.zip")
    assert again.read_bytes() == autograder_zip.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["again.zip"]  # no temporary left behind
    with pytest.raises(GraderError, match="is a folder"):
        build_autograder_zip(assignment, tmp_path)


def test_zip_needs_the_reference(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "assignment.yaml", course / "assignment.yaml")
    with pytest.raises(GraderError, match="needs the reference"):
        build_autograder_zip(load_assignment(course / "assignment.yaml"), tmp_path / "a.zip")


def test_scripts_parse_and_setup_pins_every_dependency(autograder_zip, tmp_path):
    extract(autograder_zip, tmp_path)
    for script in ("setup.sh", "run_autograder"):
        proc = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / script).read_text().startswith("#!/usr/bin/env bash\n")
    setup = (tmp_path / "setup.sh").read_text()
    assert "pip install" in setup and "apt-get install" in setup
    from importlib.metadata import requires  # the installed project's own list (tomllib is 3.11+)
    dependencies = [r for r in requires("seance11-grader") if "extra ==" not in r]
    for dependency in dependencies:
        name, minimum = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([\d.]+)", dependency).groups()
        pinned = PINNED[name.lower()]
        assert f'"{name.lower()}=={pinned}"' in setup
        as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
        assert as_tuple(pinned) >= as_tuple(minimum), f"{name} {pinned} is older than pyproject's {minimum}"


def test_points_split_in_millionths_add_up_exactly():
    units = split_units(10, [10 / 14] * 14)
    assert sum(units) == 10_000_000 and max(units) - min(units) <= 1
    raw = [26 * w / 9 for w in (2, 1, 1, 1, 1, 1, 1, 1)]
    units = split_units(26, raw)
    assert sum(units) == 26_000_000 and all(abs(u - r * 1e6) < 1 for u, r in zip(units, raw))


def test_student_id_comes_from_gradescope_metadata(tmp_path):
    path = tmp_path / "submission_metadata.json"
    assert student_id(path) == "gradescope"  # no metadata: one fixed id
    path.write_text(json.dumps(METADATA))
    assert student_id(path) == "1234"
    path.write_text(json.dumps({**METADATA, "users": []}))
    assert student_id(path) == "987654"
    path.write_text(json.dumps({"users": [{"id": "../x y"}]}))
    assert student_id(path) == "x_y"
    path.write_text("not json")
    assert student_id(path) == "gradescope"


# --- run_autograder on a fake /autograder ---------------------------------------------------------

def test_correct_submission_scores_100_with_hidden_cases_after_published(assignment, autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path)
    solution_folder(root / "submission" / "exercises")
    proc, results = run_autograder(root)
    assert results["score"] == 100
    tests = results["tests"]
    assert [t["name"] for t in tests] == [c.id for c in assignment.cases()]  # one test per case, in order
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in tests)
    visibility = {c.id: c.visibility for c in assignment.cases()}
    for t in tests:
        exercise = t["name"].split("/")[0]
        assert t["tags"] == [exercise]
        assert t["visibility"] == ("after_published" if visibility[t["name"]] == "hidden" else "visible")
        if visibility[t["name"]] == "hidden":
            assert t["output"] == "passed"  # a verdict, nothing else
    for exercise in assignment.exercises:
        total = sum(t["max_score"] for t in tests if t["tags"] == [exercise.name])
        assert total == pytest.approx(exercise.points, abs=1e-9)
    assert results["stdout_visibility"] == "hidden"
    assert "hidden cases count in your score" in results["output"]
    assert "softmax: public cases" in results["output"]
    # the instructor's stdout: which seed ran, and how to replay a case
    assert f"hidden cases seeded with {student_seed(assignment.salt, '1234')}" in proc.stdout
    assert "--student 1234 --case" in proc.stdout


def test_broken_softmax_fails_only_softmax_cases(assignment, autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path)
    folder = solution_folder(root / "submission" / "exercises")
    edit(folder / "softmax.py", "np.exp(x - np.max(x, axis=axis, keepdims=True))", "np.exp(x)")  # overflows
    _, results = run_autograder(root)
    tests = {t["name"]: t for t in results["tests"]}
    failed = [t for t in tests.values() if t["status"] == "failed"]
    # softmax's cases, and the attention cases whose scores are large enough to overflow e^x (large-scores)
    callers = {t["name"] for t in failed if t["tags"] == ["attention"] and t["name"].endswith("/large-scores")}
    assert failed and all((t["tags"] == ["softmax"] or t["name"] in callers) and t["score"] == 0 for t in failed)
    assert all(t["score"] == t["max_score"] for t in tests.values()
               if t["tags"] != ["softmax"] and t["name"] not in callers)
    assert results["score"] == pytest.approx(100 - sum(t["max_score"] for t in failed), abs=1e-6)
    assert results["score"] < 100
    public = tests["softmax/softmax/huge-values"]
    assert public["status"] == "failed" and public["visibility"] == "visible"
    assert "NaN" in public["output"] and "grade --case softmax/softmax/huge-values" in public["output"]
    hidden = [t for t in failed if t["visibility"] == "after_published"]
    assert hidden and all(t["output"] == hidden_output(assignment, t["name"]) for t in hidden)  # no message, no inputs
    assert tests["softmax/softmax/random-0"]["status"] == "passed"


def hidden_output(assignment, case_id: str, verdict: str = "failed") -> str:
    """A failing hidden case's test output: its verdict, and its public twin when it has one."""
    twin = assignment.public_twin(case_id)
    return f"{verdict} (hidden case; the public case {twin} exercises the same thing)" if twin else verdict


def test_a_failing_hidden_case_names_its_public_twin(assignment, autograder_zip, tmp_path):
    """softmax ignores `axis` and refuses float32: the hidden axis-0 case names the public case that
    exercises the same thing (first-axis); the hidden float32 case has no public twin and names none;
    a public case's output never holds a twin line."""
    root = fake_autograder(autograder_zip, tmp_path)
    folder = solution_folder(root / "submission" / "exercises")
    edit(folder / "softmax.py", "axis=axis", "axis=-1")
    edit(folder / "softmax.py", "    e = np.exp",
         "    if x.dtype == np.float32:\n        raise TypeError('no float32')\n    e = np.exp")
    _, results = run_autograder(root)
    tests = {t["name"]: t for t in results["tests"]}
    assert tests["softmax/softmax/axis-0"]["output"] == \
        "failed (hidden case; the public case softmax/softmax/first-axis exercises the same thing)"
    assert tests["softmax/softmax/axis-0"]["visibility"] == "after_published"
    float32 = tests["softmax/softmax/float32"]
    assert float32["status"] == "failed" and float32["output"] == "failed"
    failing_public = [t for t in tests.values() if t["visibility"] == "visible" and t["status"] == "failed"]
    assert failing_public and not any("exercises the same thing" in t["output"] for t in failing_public)
    assert all(t["output"] == "passed" for t in tests.values() if t["status"] == "passed")


def test_hidden_cases_are_seeded_per_student(assignment, autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path, metadata={**METADATA, "users": [{"id": 42}]})
    solution_folder(root / "submission" / "exercises")
    proc, results = run_autograder(root)
    assert results["score"] == 100
    assert f"hidden cases seeded with {student_seed(assignment.salt, '42')}" in proc.stdout
    assert student_seed(assignment.salt, "42") != student_seed(assignment.salt, "1234")


def test_a_zip_of_the_modules_is_graded(autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path, metadata=None)
    modules = solution_folder(tmp_path / "devoir" / "exercises")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted(modules.glob("*.py")):
            zf.write(path, f"devoir/exercises/{path.name}")
    (root / "submission" / "devoir.zip").write_bytes(buffer.getvalue())
    _, results = run_autograder(root)
    assert results["score"] == 100 and results["output"].startswith("Graded: your zip")


def test_empty_submission_scores_0_and_says_why(autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path)
    _, results = run_autograder(root)
    assert results["score"] == 0 and results["tests"] == []
    assert "Nothing was graded" in results["output"] and "empty" in results["output"]
    assert str(root) not in results["output"]  # the student's names, not the container's folders


def test_unreadable_notebook_scores_0_and_says_why(autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path)
    (root / "submission" / "devoir.ipynb").write_text("{ this is not a notebook")
    _, results = run_autograder(root)
    assert results["score"] == 0 and results["tests"] == []
    assert "Nothing was graded" in results["output"] and "devoir.ipynb" in results["output"]


def test_a_grader_failure_still_writes_results(autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path)
    solution_folder(root / "submission" / "exercises")
    (root / "source" / "assignment.yaml").unlink()  # a broken autograder: not the student's fault
    proc, results = run_autograder(root)
    assert results["score"] == 0 and "grader's side, not in your code" in results["output"]
    assert "Traceback" in proc.stdout  # the details, for the instructor only


def test_run_in_process_returns_what_it_writes(autograder_zip, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))  # the reference oracle adds source/ to it
    root = fake_autograder(autograder_zip, tmp_path)
    solution_folder(root / "submission" / "exercises")
    results = run(root)
    assert json.loads((root / "results" / "results.json").read_text()) == results
    assert results["score"] == 100


def test_results_json_speaks_french_and_keeps_gradescopes_fields():
    from grader.export.gradescope import _unreadable, to_results
    from grader.i18n import set_language
    from grader.model.result import CaseResult, ExerciseResult, Result

    def case(name, visibility, status, message=""):
        return CaseResult(id=f"softmax/softmax/{name}", exercise="softmax", function="softmax",
                          visibility=visibility, kind="random", status=status, message=message,
                          points=1.0 if status == "passed" else 0.0, max_points=1.0,
                          diagnosis="tu as oublié de soustraire le max" if status == "failed" else None)
    cases = [case("random-0", "public", "passed"), case("huge-values", "public", "failed", "NaN partout"),
             case("large-values", "hidden", "failed")]
    result = Result(submission="s", seed=1, score=1.0, max_score=3.0, notes=["cellule 3 ignorée"],
                    exercises=[ExerciseResult("softmax", "Softmax", 1.0, 3.0, cases)])
    set_language("fr")
    try:
        results = to_results(result, 2.5)
        unreadable = _unreadable("le zip est vide.")
    finally:
        set_language("en")
    jsonschema.validate(results, RESULTS_SCHEMA)
    tests = {t["name"]: t for t in results["tests"]}
    assert [t["status"] for t in results["tests"]] == ["passed", "failed", "failed"]   # Gradescope's words, kept
    assert tests["softmax/softmax/random-0"]["output"] == "réussi"
    assert tests["softmax/softmax/large-values"]["output"] == "échoué"                  # a verdict, nothing else
    assert tests["softmax/softmax/huge-values"]["output"] == (
        "échoué : NaN partout\ntu as oublié de soustraire le max\n"
        "Rejouez-le dans votre dépôt : grade --case softmax/softmax/huge-values")
    assert results["output"].startswith("Corrigé : votre rendu.\n")
    assert "softmax : cas publics 1/2 réussis, 1.00/2.00 points ; 1 cas caché corrigé" in results["output"]
    assert "1 cas caché compte dans votre note" in results["output"]
    assert "Remarques :\n  cellule 3 ignorée" in results["output"]
    assert unreadable.startswith("Rien n'a été corrigé : le zip est vide.\n\nSoumettez vos modules")
