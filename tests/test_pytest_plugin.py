"""The pytest plugin (grader/pytest_plugin.py): in a students' repository, `pytest` collects the
public cases as items, one per case, graded in one run of the engine; elsewhere it does nothing.

Every run is a real `python -m pytest` in a subprocess, in a release written by
`grade release` (grader.instructor.release.write_release). The plugin is loaded with `-p
grader.pytest_plugin` (the entry point may not be installed here) and `-p no:seance11` (so that
an installed entry point cannot register it a second time under its other name). Verdicts and
messages are read from pytest's JUnit XML; how often the engine ran, from a conftest that
counts `grader.grading.engine.grade` calls.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import ROOT, solution_folder

PLUGIN = ["-p", "no:seance11", "-p", "grader.pytest_plugin"]

# Wraps the engine's `grade` to log each call (how many cases) to $GRADE_CALLS.
COUNTING_CONFTEST = '''
import json, os
import grader.grading.engine as engine

_grade = engine.grade

def grade(assignment, submission, plan, *args, **kwargs):
    with open(os.environ["GRADE_CALLS"], "a") as log:
        log.write(json.dumps([c.id for c in plan.cases]) + "\\n")
    return _grade(assignment, submission, plan, *args, **kwargs)

engine.grade = grade
'''


class Run:
    def __init__(self, proc, xml: Path, calls: Path, seconds: float):
        self.proc, self.seconds = proc, seconds
        self.output = proc.stdout + proc.stderr
        self.returncode = proc.returncode
        self.cases = {}   # item name -> (outcome, message, text)
        self.classnames = {}   # item name -> its JUnit classname
        if xml.is_file():
            for case in ET.parse(xml).getroot().iter("testcase"):
                self.classnames[case.get("name")] = case.get("classname")
                failure = case.find("failure")
                if failure is None:
                    failure = case.find("error")
                outcome = "passed" if failure is None else failure.tag
                skipped = case.find("skipped")
                if skipped is not None:
                    outcome = "skipped"
                self.cases[case.get("name")] = (outcome, None if failure is None else failure.get("message"),
                                                None if failure is None else failure.text)
        self.calls = [json.loads(line) for line in calls.read_text().splitlines()] if calls.is_file() else []

    def failed(self):
        return {name for name, (outcome, _, _) in self.cases.items() if outcome != "passed"}


def pytest_in(folder: Path, *args, plugin=PLUGIN, env=None, timeout=180) -> Run:
    """`python -m pytest` in `folder` (its own grader/ comes first on sys.path). Its JUnit XML
    and the engine's call log go to a temporary folder, never into `folder`."""
    folder = Path(folder)
    logs = Path(tempfile.mkdtemp(prefix="plugin-run-"))
    xml, calls = logs / "junit.xml", logs / "calls.jsonl"
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("PYTHONPATH", "PYTEST_ADDOPTS") and not k.startswith("PYTEST_XDIST")}
    # Only the plugins a run names (-p): a student's environment has little more than pytest, and
    # this one's (hypothesis, benchmark…) would triple each run's start-up. `None` unsets a variable.
    environment.update({"GRADE_CALLS": str(calls), "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "200",
                        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    environment.update(env or {})
    environment = {k: v for k, v in environment.items() if v is not None}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", "-q",
                           f"--junitxml={xml}", *map(str, args)], cwd=folder, env=environment,
                          capture_output=True, text=True, timeout=timeout)
    try:
        return Run(proc, xml, calls, time.monotonic() - started)
    finally:
        shutil.rmtree(logs, ignore_errors=True)


@pytest.fixture
def students(release_copy, tmp_path):
    """A fresh copy of the course's release (conftest), with the conftest that counts the engine's runs."""
    copy = release_copy(tmp_path / "students")
    (copy / "conftest.py").write_text(COUNTING_CONFTEST)
    return copy


def public_ids(assignment):
    return [c.id for c in assignment.cases() if c.visibility == "public"]


def collected(run: Run) -> list:
    return [line.strip() for line in run.proc.stdout.splitlines() if "::" in line]


# --- (1) in a students' repository ---------------------------------------------------------------

@pytest.mark.same_on_every_backend("compares two files")
def test_release_ships_the_plugin(built_release):
    assert (built_release / "grader" / "pytest_plugin.py").read_bytes() == \
        (ROOT / "grader" / "pytest_plugin.py").read_bytes()


@pytest.mark.same_on_every_backend("collection only: nothing is graded")
def test_one_item_per_public_case_ids_are_case_ids(assignment, students):
    run = pytest_in(students, "--collect-only")
    assert run.returncode == 0, run.output
    assert collected(run) == [f"assignment.yaml::{cid}" for cid in public_ids(assignment)]
    assert run.calls == []  # collecting grades nothing


def test_stubs_every_item_fails_not_implemented_in_one_grading_run(assignment, students):
    run = pytest_in(students)
    assert run.returncode == 1, run.output
    ids = public_ids(assignment)
    assert sorted(run.cases) == sorted(ids) and len(run.cases) == len(ids)
    for cid, (outcome, message, text) in run.cases.items():
        assert outcome == "failure", cid
        assert "is not implemented yet" in message, (cid, message)
        assert text.splitlines()[0] == message          # the grader's message first
        for part in ("inputs:", "expected:", "yours:", f"replay: grade --case {cid}"):
            assert part in text, (cid, part, text)       # then the case as `grade --case` shows it
    assert run.calls == [ids], "the engine must run once, on every selected case"
    assert "pytest_plugin.py" not in run.output and "Traceback" not in run.output
    assert f"FAILED assignment.yaml::{ids[0]} - {run.cases[ids[0]][1]}" in run.proc.stdout
    assert f"Points 0.0/100.0 on {len(ids)} cases" in run.proc.stdout
    print(f"{len(ids)} public cases graded in one run: {run.seconds:.1f} s (pytest start-up included)")
    assert run.seconds < 60


def test_the_reference_as_exercises_passes_every_item(assignment, students):
    shutil.rmtree(students / "exercises")
    solution_folder(students / "exercises")
    run = pytest_in(students)
    assert run.returncode == 0, run.output
    assert len(run.cases) == len(public_ids(assignment))
    assert run.failed() == set()
    assert len(run.calls) == 1
    assert "Points 100.0/100.0" in run.proc.stdout
    # --junitxml: each item's classname is its exercise (not "assignment.yaml" for all of them)
    exercise_of = {c.id: c.exercise for c in assignment.cases() if c.visibility == "public"}
    assert {run.classnames[name] for name in run.cases} == set(exercise_of.values())
    assert set(run.cases) == set(exercise_of)
    assert all(run.classnames[name] == exercise_of[name] for name in run.cases), sorted(run.classnames.items())[:3]


@pytest.mark.same_on_every_backend("the cases the plugin selects, the engine calls: whatever workers return")
@pytest.mark.parametrize("keyword, functions", [("softmax", {"softmax"}), ("generate", {"generate"}),
                                                 ("similarity_attention", {"similarity_attention"})])
def test_k_selects_by_exercise_or_function_and_only_those_are_graded(assignment, students, keyword, functions):
    run = pytest_in(students, "-k", keyword)
    expected = [c.id for c in assignment.cases() if c.visibility == "public" and c.function in functions]
    assert expected and sorted(run.cases) == sorted(expected), run.output
    assert run.calls == [expected]


def test_broken_softmax_fails_its_items_with_the_graders_message(assignment, students, tmp_path):
    shutil.rmtree(students / "exercises")
    exercises = solution_folder(students / "exercises")
    softmax = exercises / "softmax.py"
    softmax.write_text(softmax.read_text().replace("def softmax(", "def _softmax(")
                       + "\n\ndef softmax(x, axis=-1):\n    return 1.01 * _softmax(x, axis)\n")
    for module in exercises.glob("*.py"):  # the other modules keep a correct softmax
        module.write_text(module.read_text().replace("from exercises.softmax import softmax",
                                                     "from exercises.softmax import _softmax as softmax"))
    run = pytest_in(students)
    assert run.returncode == 1, run.output
    softmax_ids = {c.id for c in assignment.cases() if c.visibility == "public" and c.exercise == "softmax"}
    assert run.failed() == softmax_ids
    assert len(run.cases) == len(public_ids(assignment)) and len(run.calls) == 1

    # The same verdicts and messages as `grade` itself.
    report = tmp_path / "grade.json"
    graded = subprocess.run([sys.executable, "-m", "grader.cli", "--no-color", "--json", report,
                             "--report", tmp_path / "r.html"], cwd=students, capture_output=True, text=True,
                            timeout=120)
    assert graded.returncode == 1, graded.stdout + graded.stderr
    cases = {c["id"]: c for e in json.loads(report.read_text())["exercises"] for c in e["cases"]}
    assert {cid for cid, c in cases.items() if c["status"] != "passed"} == softmax_ids
    for cid in softmax_ids:
        outcome, message, text = run.cases[cid]
        assert message == cases[cid]["message"] and message, (cid, message)
        assert "expected:" in text and "yours:" in text
        if cases[cid]["diagnosis"]:  # what `grade` prints under the case as `likely:`
            assert text.splitlines()[1] == f"likely: {cases[cid]['diagnosis']}", text


def test_in_french_a_student_reads_the_plugins_words_in_french(assignment, students):
    """GRADE_LANG=fr (a student's default is French): the summary, the `replay:` line and a
    missing expected value, in French. The grader's own messages are their modules' business."""
    (students / "public_cases.npz").rename(students / "elsewhere.npz")  # grading fails: one message for all
    broken = pytest_in(students, "-k", "softmax", env={"GRADE_LANG": "fr"})
    assert broken.returncode == 1, broken.output
    assert "seance11 : note" in broken.proc.stdout and "non corrigé : " in broken.proc.stdout, broken.output
    (students / "elsewhere.npz").rename(students / "public_cases.npz")

    run = pytest_in(students, "-k", "softmax", env={"GRADE_LANG": "fr"})
    ids = [c.id for c in assignment.cases() if c.visibility == "public" and c.exercise == "softmax"]
    assert run.returncode == 1 and sorted(run.cases) == sorted(ids), run.output
    for cid, (outcome, message, text) in run.cases.items():
        assert outcome == "failure" and text.splitlines()[0] == message, (cid, text)
        assert text.splitlines()[-1] == f"rejouer : grade --case {cid}", text
        assert text.count(message) == 1, text  # said once, whatever the label of case_detail's own line
    assert f"Points 0.0/10.0 sur {len(ids)} cas, dont 0 réussi (une seule correction, " in run.proc.stdout, run.output
    assert "Cas publics seulement : les cas cachés sont notés par l'enseignant·e, sur le travail que vous rendez." \
        in run.proc.stdout
    assert "Traceback" not in run.output


@pytest.mark.same_on_every_backend("the submission is refused before any worker runs")
def test_an_unreadable_submission_fails_every_item_with_one_message(assignment, students):
    (students / "devoir.ipynb").write_text("this is not a notebook")
    run = pytest_in(students, "--grade-path", "devoir.ipynb")
    assert run.returncode == 1, run.output
    messages = {message for _, message, _ in run.cases.values()}
    assert len(run.cases) == len(public_ids(assignment)) and len(messages) == 1, messages
    assert "devoir.ipynb" in messages.pop()
    assert "pytest_plugin.py" not in run.output and "Traceback" not in run.output

    missing = pytest_in(students, "--grade-path", "nowhere", "-k", "softmax")
    assert missing.returncode == 1
    assert {m for _, m, _ in missing.cases.values()} == {f"{students / 'nowhere'}: no such file or folder. "
                                                         "Give a folder of modules, a .py file or a .ipynb notebook."}


def test_grade_path_grades_another_folder(assignment, students, tmp_path):
    solved = solution_folder(tmp_path / "elsewhere" / "mon-travail")
    attention = [c.id for c in assignment.cases() if c.visibility == "public" and "attention" in c.id]
    run = pytest_in(students, f"--grade-path={solved}", "-k", "attention")
    assert run.returncode == 0, run.output
    assert sorted(run.cases) == sorted(attention) and run.failed() == set()
    stubs = pytest_in(students, "--grade-path=exercises", "-k", "orange-apple")
    assert [text.splitlines()[-1] for _, _, text in stubs.cases.values()] == \
        [f"replay: grade {students / 'exercises'} --case softmax/softmax/orange-apple"]
    # `--grade-path PATH` as two arguments: pytest takes PATH into account for its rootdir (it
    # does not know the option yet); the assignment is then found from the current folder.
    split = pytest_in(students, "--grade-path", solved, "-k", "attention")
    assert split.returncode == 0, split.output
    assert sorted(split.cases) == sorted(attention)


@pytest.mark.same_on_every_backend("pytest's own tests, collection and its errors: nothing is graded")
def test_explicit_paths_are_respected_and_pytest_from_a_subfolder_collects(assignment, students):
    (students / "tests").mkdir()
    (students / "tests" / "test_mine.py").write_text("def test_mine():\n    assert True\n")
    mine = pytest_in(students, "tests")
    assert mine.returncode == 0 and list(mine.cases) == ["test_mine"], mine.output
    everything = pytest_in(students, "--collect-only")
    assert len(collected(everything)) == len(public_ids(assignment)) + 1
    own = pytest_in(students, "--strict-markers", "-m", "not seance11")
    assert own.returncode == 0 and list(own.cases) == ["test_mine"], own.output
    # From exercises/, pytest searches that folder only: the assignment file is added.
    below = pytest_in(students / "exercises", "--collect-only", env={"PYTHONPATH": str(students)})
    assert len(collected(below)) == len(public_ids(assignment)), below.output


@pytest.mark.same_on_every_backend("pytest's own tests, collection and its errors: nothing is graded")
def test_an_invalid_assignment_file_is_one_clear_collection_error(students):
    path = students / "assignment.yaml"
    path.write_text(path.read_text().replace("\npackage:", "\npackag:"))
    run = pytest_in(students)
    assert run.returncode == 2, run.output
    assert "assignment.yaml:" in run.output and "package" in run.output
    assert "Traceback" not in run.output and "pytest_plugin.py" not in run.output


@pytest.mark.same_on_every_backend("collection only: nothing is graded")
def test_entry_point_loads_it_and_p_no_seance11_disables_it(assignment, students, tmp_path):
    """The `pytest11` entry point, as `pip install -e .` would register it."""
    site = tmp_path / "site"
    info = site / "seance11_plugin_probe-0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: seance11-plugin-probe\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text("[pytest11]\nseance11 = grader.pytest_plugin\n")
    env = {"PYTHONPATH": str(site), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": None}
    on = pytest_in(students, "--collect-only", plugin=[], env=env)
    assert len(collected(on)) == len(public_ids(assignment)), on.output
    off = pytest_in(students, "--collect-only", plugin=["-p", "no:seance11"], env=env)
    assert collected(off) == [] and off.returncode == 5, off.output


@pytest.mark.same_on_every_backend("the cases the plugin selects, the engine calls: whatever workers return")
def test_xdist_loadgroup_grades_once(assignment, students):
    pytest.importorskip("xdist")
    run = pytest_in(students, "-p", "xdist.plugin", "-n", "2", "--dist", "loadgroup", "-k", "similarity")
    assert len(run.calls) == 1 and len(run.calls[0]) == len(run.cases) > 0, run.output


# --- (2) where there is no assignment file -------------------------------------------------------

@pytest.mark.same_on_every_backend("pytest's own tests, collection and its errors: nothing is graded")
def test_no_assignment_file_the_plugin_does_nothing(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_thing.py").write_text("def test_thing():\n    assert True\n")
    env = {"PYTHONPATH": str(ROOT)}
    run = pytest_in(project, env=env)
    assert run.returncode == 0 and list(run.cases) == ["test_thing"], run.output
    assert "seance11" not in run.output
    asked = pytest_in(project, "--grade", env=env)
    assert asked.returncode == 4 and "no assignment.yaml" in asked.output, asked.output


# --- (3) in the course repository ----------------------------------------------------------------

@pytest.mark.same_on_every_backend("collection only: nothing is graded")
def test_course_repository_collects_nothing_extra_without_grade(assignment):
    args = ["--collect-only", "-n", "0", "tests/test_grade_cli.py"]
    installed = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": None}  # the course's own environment, as it is
    without = pytest_in(ROOT, *args, plugin=["-p", "no:seance11"], env=installed)
    with_plugin = pytest_in(ROOT, *args, env=installed)
    assert without.returncode == with_plugin.returncode == 0, with_plugin.output
    assert collected(with_plugin) == collected(without) and collected(without)
    assert "seance11" not in with_plugin.output
    # Even the assignment file itself is not a test there, unless asked.
    named = pytest_in(ROOT, "--collect-only", "-n", "0", "assignment.yaml", env=installed)
    assert collected(named) == [] and named.returncode == 4 and "not found" in named.output, named.output


@pytest.mark.same_on_every_backend("collection only: nothing is graded")
def test_course_repository_with_grade_collects_the_public_cases_only(assignment):
    run = pytest_in(ROOT, "-p", "xdist.plugin", "--collect-only", "-n", "0", "--grade", "assignment.yaml")
    assert run.returncode == 0, run.output
    assert collected(run) == [f"assignment.yaml::{cid}" for cid in public_ids(assignment)]
    assert len(public_ids(assignment)) < len(list(assignment.cases()))  # the hidden ones are left out
