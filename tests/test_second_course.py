"""A second course, graded by the unchanged engine: the engine knows no course.

tests/second_course/ is a tiny course of another topic — descriptive statistics — with every
name its own: its assignment.yaml, the students' package `homework/` (stubs), the reference
`stats_reference/` with one mistake variant (`standardize-sample-std`), and `stats_course/`
with its generators and one property check (a standardized row has mean 0 and standard
deviation 1) carrying its own French and English sentences. Through the real CLI, from a copy
of that folder (nothing is written into the repository):

    grade validate               passes (reference 100, stubs 0, the variant caught and named)
    grade SUBMISSION             a correct submission scores 100; the variant's mistake is
                                 named; an output breaking the property gets the course's
                                 sentence, in English and in French
    grade release OUT            the students' repository: public cases only, no reference,
                                 and `grade` runs there offline, from public_cases.npz
    grade bulk SUBMISSIONS       a class of three (a folder, a .py, a .zip): gradebooks,
                                 results, reports, the class overview with the named mistake
"""
import csv
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_grade

COURSE = ROOT / "tests" / "second_course"
MISTAKE = "standardize-sample-std"
PROPERTY_EN = "each standardized row should have mean 0"
PROPERTY_FR = "chaque ligne centrée-réduite doit avoir une moyenne nulle"


# --- the course and three submissions --------------------------------------------------------

def _solution(target: Path, standardize: str | None = None) -> Path:
    """The reference written as a student would (package `homework`), with `standardize`'s
    return line replaced when given."""
    target.mkdir(parents=True)
    (target / "__init__.py").write_text("")
    for name in ("moments", "correlation"):
        text = (COURSE / "stats_reference" / f"{name}.py").read_text()
        text = text.replace("from .moments import", "from homework.moments import")
        if standardize and name == "moments":
            text, n = re.subn(r"^    return \(x - np\.mean.*$", standardize, text, flags=re.M)
            assert n == 1
        (target / f"{name}.py").write_text(text)
    return target


SUBMISSIONS = {
    "correct": None,
    # the mistake variant: the sample standard deviation
    "mistake": "    return (x - np.mean(x, axis=-1, keepdims=True)) / np.std(x, axis=-1, ddof=1, keepdims=True)",
    # no variant does this, but it breaks the course's property: rows keep their mean
    "no-centering": "    return x / np.std(x, axis=-1, keepdims=True)",
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course: `grade` runs from there and writes nothing into the repository."""
    folder = tmp_path_factory.mktemp("second") / "course"
    shutil.copytree(COURSE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    base = tmp_path_factory.mktemp("homework")
    return {kind: _solution(base / kind / "homework", line) for kind, line in SUBMISSIONS.items()}


def _grade(course_folder, submission, tmp, *args):
    """(exit status, JSON result, terminal output) of `grade SUBMISSION` run in `course_folder`."""
    tmp.mkdir(parents=True, exist_ok=True)
    out = tmp / "result.json"
    proc = run_grade(submission, "--json", out, "--report", tmp / "report.html", "--no-color", *args,
                     cwd=course_folder, timeout=120)
    assert out.is_file(), proc.stdout + proc.stderr
    return proc.returncode, json.loads(out.read_text()), proc.stdout


def _cases(result) -> dict:
    return {c["id"]: c for e in result["exercises"] for c in e["cases"]}


# --- instructor side -------------------------------------------------------------------------

def test_the_course_is_its_own():
    """No name of séance 11: another package, reference, generators and property module."""
    data = yaml.safe_load((COURSE / "assignment.yaml").read_text())
    main = yaml.safe_load((ROOT / "assignment.yaml").read_text())
    assert (data["package"], data["reference"], data["mistakes"], data["properties"]) == \
        ("homework", "stats_reference", "stats_reference.mistakes", "stats_course.properties")
    functions = {f for e in data["exercises"] for f in e["functions"]}
    assert functions == {"weighted_mean", "standardize", "pearson"}
    assert not functions & {f for e in main["exercises"] for f in e["functions"]}
    assert not {data["package"], data["reference"], *data["generators"]} & \
        {main["package"], main["reference"], *main["generators"]}


def test_validate_passes(course):
    proc = run_grade("validate", "--seeds", "3", cwd=course, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for check in ("the reference scores 100 on all 10 cases, for 3 seeds", "the stubs score 0",
                  "every mistake variant is caught", "every mistake variant is named"):
        assert f"ok   {check}" in proc.stdout, proc.stdout


def test_a_correct_submission_scores_full_marks(course, submissions, tmp_path):
    status, result, _ = _grade(course, submissions["correct"], tmp_path)
    assert status == 0
    assert result["score"] == pytest.approx(100) and result["max_score"] == pytest.approx(100)
    cases = _cases(result)
    assert len(cases) == 10 and {c["status"] for c in cases.values()} == {"passed"}
    assert {c["visibility"] for c in cases.values()} == {"public", "hidden"}
    assert cases["moments/weighted_mean/zero-weights"]["kind"] == "error"   # ValueError expected, raised


def test_the_variants_mistake_is_named(course, submissions, tmp_path):
    status, result, output = _grade(course, submissions["mistake"], tmp_path)
    assert status == 1
    failed = {cid: c for cid, c in _cases(result).items() if c["status"] != "passed"}
    standardize = [c for cid, c in failed.items() if cid.startswith("moments/standardize/")]
    assert len(standardize) == 3                         # every standardize case, the hidden one included
    public = [c for c in standardize if c["visibility"] == "public"]
    assert len(public) == 2 and {c["mistake"] for c in public} == {MISTAKE}
    assert all("sample standard deviation (ddof=1)" in c["diagnosis"] for c in public)
    # of a hidden case a student sees the status alone (the class's results keep the name: below)
    assert [c["mistake"] for c in standardize if c["visibility"] == "hidden"] == [None]
    assert f"mistake {MISTAKE}" in output and "likely:" in output
    # pearson calls the broken standardize: the engine says to fix it first, and names no mistake
    assert all(c["mistake"] is None for cid, c in failed.items() if cid.startswith("correlation/"))
    assert "fix standardize() first" in output


@pytest.mark.parametrize("lang, sentence", [("en", PROPERTY_EN), ("fr", PROPERTY_FR)])
def test_an_output_breaking_the_property_gets_the_courses_hint(course, submissions, tmp_path, lang, sentence):
    status, result, output = _grade(course, submissions["no-centering"], tmp_path, "--lang", lang)
    assert status == 1
    cases = _cases(result)
    standardize = [c for cid, c in cases.items() if cid.startswith("moments/standardize/")]
    assert {c["status"] for c in standardize} == {"failed"}
    assert all(c["mistake"] is None for c in standardize)  # not the variant: the property explains it
    public = [c for c in standardize if c["visibility"] == "public"]
    assert public and all(c["diagnosis"].startswith(sentence) for c in public), [c["diagnosis"] for c in public]
    assert sentence in output
    # the functions without a check get no property sentence
    assert all(not c["diagnosis"] for cid, c in cases.items() if cid.startswith("correlation/"))


# --- the students' repository ----------------------------------------------------------------

@pytest.fixture(scope="module")
def released(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("released") / "students"
    proc = run_grade("release", out, cwd=course, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_release_holds_the_public_cases_and_nothing_of_the_instructor(released):
    data = yaml.safe_load((released / "assignment.yaml").read_text())
    assert data["package"] == "homework"
    assert not {"reference", "mistakes", "salt", "generators"} & set(data)
    counts = {c["id"]: c.get("count") for e in data["exercises"] for c in e["cases"]}
    assert counts["random"] == 1  # each random group keeps its public member only
    assert not (released / "stats_reference").exists()
    assert not (released / "stats_course" / "generators.py").exists()
    shipped = "\n".join(p.read_text(errors="replace") for p in released.rglob("*.py"))
    assert "ddof=1" not in shipped and "second-course" not in shipped  # no variant, no salt
    assert (released / "homework" / "moments.py").read_text() == (COURSE / "homework" / "moments.py").read_text()


def test_grade_runs_offline_in_the_released_repository(released, submissions, tmp_path):
    which = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], cwd=released,
                           capture_output=True, text=True, timeout=60)
    assert Path(which.stdout.strip()).is_relative_to(released)   # its own engine, not the instructor's

    status, result, output = _grade(released, submissions["correct"], tmp_path / "correct")
    assert status == 0, output
    assert result["expected_from"] == "public-cases file" and result["score"] == pytest.approx(100)
    cases = _cases(result)
    assert len(cases) == 7 and {c["visibility"] for c in cases.values()} == {"public"}

    status, result, output = _grade(released, submissions["mistake"], tmp_path / "mistake")
    assert status == 1
    named = [c for c in _cases(result).values() if c["id"].startswith("moments/standardize/")]
    assert named and {c["mistake"] for c in named} == {MISTAKE}   # from the variants' stored outputs


def test_the_released_repository_gives_the_property_hint(released, submissions, tmp_path):
    status, result, _ = _grade(released, submissions["no-centering"], tmp_path)
    assert status == 1
    public = [c for c in _cases(result).values() if c["id"].startswith("moments/standardize/")]
    assert public and all((c["diagnosis"] or "").startswith(PROPERTY_EN) for c in public)


# --- a class ---------------------------------------------------------------------------------

def test_bulk_grades_a_small_class(course, submissions, tmp_path):
    subs = tmp_path / "submissions"
    shutil.copytree(submissions["correct"], subs / "alice")                      # a folder of modules
    mistake = submissions["mistake"]
    (subs / "bob.py").write_text((mistake / "moments.py").read_text() + "\n\n" +   # one file
                                 (mistake / "correlation.py").read_text().replace(
                                     "from homework.moments import standardize\n", ""))
    with zipfile.ZipFile(subs / "carol.zip", "w") as z:                          # a zip
        for path in submissions["no-centering"].glob("*.py"):
            z.write(path, f"homework/{path.name}")
    out = tmp_path / "out"
    proc = run_grade("bulk", subs, "--out", out, "-j", "2", cwd=course, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    assert set(results) == {"alice", "bob", "carol"}
    assert results["alice"]["score"] == pytest.approx(100)
    assert results["bob"]["score"] < 100 and results["carol"]["score"] < 100
    assert {r["status"] for r in results.values()} == {"ok"}
    bob = _cases(results["bob"])
    assert [c["mistake"] for cid, c in bob.items() if cid.startswith("moments/standardize/")] == [MISTAKE] * 3
    with open(out / "gradebook.csv", encoding="utf-8-sig") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert set(rows) == set(results)
    for sid, row in rows.items():
        assert float(row["total"]) == pytest.approx(results[sid]["score"], abs=0.01)
    assert all((out / "reports" / f"{sid}.html").is_file() for sid in results)
    index = (out / "index.html").read_text()
    assert MISTAKE in index and "bob" in index
