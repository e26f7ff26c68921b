"""Diagnosis of classic mistakes: instructor side (live variants), student side (the variants'
outputs stored in a release's public-cases file), the accuracy over a corpus from the variants,
and the dependency-aware hint."""
import json

import pytest

from conftest import ROOT, run_grade, solution_folder


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="module")
def no_max_shift(tmp_path_factory):
    folder = solution_folder(tmp_path_factory.mktemp("diag") / "exercises")
    edit(folder / "softmax.py", "np.exp(x - np.max(x, axis=axis, keepdims=True))", "np.exp(x)")
    return folder


def diagnoses(result):
    return {c["id"]: c["diagnosis"] for e in result["exercises"] for c in e["cases"] if c["diagnosis"]}


def test_the_instructor_side_names_the_mistake_and_its_slide(tmp_path, no_max_shift):
    proc = run_grade(no_max_shift, "-k", "softmax", "--json", tmp_path / "r.json", "--report", tmp_path / "r.html",
                     "--no-color")
    found = diagnoses(json.loads((tmp_path / "r.json").read_text()))
    assert "mistake softmax-no-max-shift" in found["softmax/softmax/huge-values"]
    assert "slide « Softmax »" in found["softmax/softmax/huge-values"]
    assert "likely: " in proc.stdout


def test_a_students_release_diagnoses_offline_from_stored_outputs(tmp_path, no_max_shift, assignment):
    from grader.instructor.release import write_release

    release = tmp_path / "release"
    write_release(assignment, release)
    assert not (release / "reference").exists()
    proc = run_grade(no_max_shift, "-k", "softmax", "--json", tmp_path / "r.json", "--report", tmp_path / "r.html",
                     "--no-color", cwd=release)
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["expected_from"] == "public-cases file"
    assert "mistake softmax-no-max-shift" in diagnoses(result)["softmax/softmax/huge-values"], proc.stdout


def test_every_variant_is_named_on_its_failing_cases_and_no_correct_submission_is(assignment):
    from grader.instructor.accuracy import accuracy

    rows, false, _ = accuracy(assignment)
    assert len(rows) >= 20 and {m.exercise for m, *_ in rows} == {e.name for e in assignment.exercises}
    assert sum(failing for _, failing, _, _ in rows) > 100
    assert [(m.name, wrong) for m, failing, named, wrong in rows if wrong] == []
    # three mistakes return the right values: one modifies its input, two do not raise on an id out
    # of range; the grader's own message says exactly that, so there is no output to match
    explained_elsewhere = {"softmax-modifies-input", "one-hot-wraps-out-of-range", "embed-wraps-out-of-range"}
    assert {m.name for m, failing, _, _ in rows if failing == 0} == explained_elsewhere
    assert false == []


def test_a_failing_caller_is_told_to_fix_its_callee_first(tmp_path):
    folder = solution_folder(tmp_path / "callee" / "exercises")
    edit(folder / "softmax.py", "return e / np.sum(e, axis=axis, keepdims=True)", "return e / np.sum(e)")
    proc = run_grade(folder, "-k", "softmax", "attention", "--no-color", "--report", tmp_path / "r.html")
    assert "fix softmax() first" in proc.stdout
    assert "likely:" in proc.stdout  # softmax's own cases: a hint or a named mistake


def test_a_known_mistake_is_explained_in_the_current_language():
    from grader.grading.diagnosis import Known
    from grader.i18n import set_language

    known = Known("softmax-no-max-shift", "softmax", "Softmax", "e^x overflows", "e^x déborde")
    try:
        set_language("fr")
        assert known.text() == "e^x déborde (diapositive « Softmax » ; erreur softmax-no-max-shift)"
        assert Known("m", "f", "S", "only English", "").text() == "only English (diapositive « S » ; erreur m)"
        set_language("en")
        assert known.text() == "e^x overflows (slide « Softmax »; mistake softmax-no-max-shift)"
    finally:
        set_language("en")


def test_the_diagnosis_is_french_under_fr(tmp_path, no_max_shift, monkeypatch):
    from reference.mistakes import MISTAKES

    french = next(m.explanation_fr for m in MISTAKES if m.name == "softmax-no-max-shift")
    monkeypatch.setenv("GRADE_LANG", "fr")
    proc = run_grade(no_max_shift, "-k", "softmax", "--json", tmp_path / "r.json", "--report", tmp_path / "r.html",
                     "--no-color")
    found = diagnoses(json.loads((tmp_path / "r.json").read_text()))["softmax/softmax/huge-values"]
    assert found == f"{french} (diapositive « Softmax » ; erreur softmax-no-max-shift)", proc.stdout
    assert f"probablement : {found}" in proc.stdout
