"""Issue 16, point 4: a failing hidden case names the public case that exercises the same thing
(`Assignment.public_twin`) wherever a student reads it — the result JSON (`public_twin`), the
GitHub step summary and the Classroom result, JUnit, Gradescope's results.json, the Moodle
feedback comment — in the terminal's words (its key, `terminal.hidden_like`), in English and in
French. A public case never names one; a hidden case without a twin names none. Each output is
read back by its consumer's own parser where one runs here (junitparser, Jenkins' junit-10.xsd,
the Classroom reporter's decoding, Gradescope's results schema, Moodle's worksheet columns)."""
import base64
import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import junitparser
import numpy as np
import pytest
import xmlschema

from conftest import ROOT, solution_folder, validate_result
from grader.export.github import PAYLOAD_BUDGET, classroom_output, classroom_result, step_summary
from grader.export.gradebooks import write_gradebooks
from grader.export.gradescope import to_results
from grader.export.junit import junit_xml
from grader.i18n import speaking, t
from grader.model.result import CaseResult, ExerciseResult, Result
from grader.report.terminal import summary
from test_gradescope import RESULTS_SCHEMA

XSD = Path(__file__).parent / "consumers" / "junit-10.xsd"
AXIS_0, FIRST_AXIS = "softmax/softmax/axis-0", "softmax/softmax/first-axis"   # hidden, and its public twin
FLOAT32 = "softmax/softmax/float32"                                          # hidden, no public twin
TWIN_EN = "the public case softmax/softmax/first-axis exercises the same thing"
TWIN_FR = "le cas public softmax/softmax/first-axis vérifie la même chose"
SAME_THING = ("exercises the same thing", "vérifie la même chose")


def break_softmax(folder: Path):
    """softmax ignores `axis` (the hidden axis-0 case fails, and its twin first-axis) and refuses
    float32 (the hidden float32 case, which has no public twin, raises)."""
    path = folder / "softmax.py"
    text = path.read_text()
    assert "axis=axis" in text and "    e = np.exp" in text
    path.write_text(text.replace("axis=axis", "axis=-1").replace(
        "    e = np.exp", "    if x.dtype == np.float32:\n        raise TypeError('no float32')\n    e = np.exp", 1))


@pytest.fixture(scope="module")
def submission(tmp_path_factory):
    folder = solution_folder(tmp_path_factory.mktemp("twin") / "exercises")
    break_softmax(folder)
    return folder


@pytest.fixture(scope="module")
def graded(assignment, submission):
    """The broken softmax graded with every case, as `grade bulk` and Gradescope grade it."""
    from grader.grading.engine import Expectations, grade, select_cases
    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment), student="ada")
    result = grade(assignment, submission, plan, student={"id": "4242", "name": "Ada", "origin": "moodle",
                                                          "lms_id": "4242"})
    return result.name_public_twins(assignment)


@pytest.fixture
def data(graded):
    return graded.to_json()


def by_id(graded) -> dict:
    return {c.id: c for c in graded.cases}


def failing(data) -> list:
    return [c for e in data["exercises"] for c in e["cases"] if c["status"] != "passed"]


VERDICT = {"failed": "failed", "error": "error"}


def test_the_result_names_the_twin_of_each_failing_hidden_case_and_of_no_other(assignment, graded):
    cases = by_id(graded)
    assert cases[AXIS_0].status == "failed" and cases[AXIS_0].public_twin == FIRST_AXIS
    assert cases[FLOAT32].status == "error" and cases[FLOAT32].public_twin is None   # no public float32 softmax
    assert cases[FIRST_AXIS].status == "failed" and cases[FIRST_AXIS].public_twin is None   # public: never
    passed_with_a_twin = [c for c in graded.cases if c.visibility == "hidden" and c.passed
                          and assignment.public_twin(c.id)]
    assert passed_with_a_twin and all(c.public_twin is None for c in passed_with_a_twin)
    for c in graded.cases:
        base = assignment.public_twin(c.id) if c.visibility == "hidden" and not c.passed else None
        if base is None:
            assert c.public_twin is None, c.id
            continue
        twin = cases[c.public_twin]   # the generator's twin, or one called with this case's own arguments
        assert twin.visibility == "public" and twin.function == c.function, c.id
        if plain(twin) != plain(c):
            assert not any(plain(p) == plain(c) for p in graded.cases if p.visibility == "public"
                           and p.function == c.function), c.id
            assert twin.id == base or (cases[base].passed and not twin.passed), c.id


def plain(case) -> dict:
    return {k: v for k, v in (case.inputs or {}).items() if not hasattr(v, "shape")}


def softmax_case(case_id, visibility, status, axis):
    return CaseResult(id=f"softmax/softmax/{case_id}", exercise="softmax", function="softmax", visibility=visibility,
                      kind="random", status=status, message="", points=0.0, max_points=1.0,
                      inputs={"x": np.zeros((2, 3, 4)), "axis": axis})


def test_a_twin_drawn_with_other_arguments_gives_way_to_a_public_case_called_like_the_hidden_one(assignment):
    """`random-axis` draws its axis: its public draw (axis 2 here) is passed by a softmax that
    ignores `axis`; a hidden draw over axis 1 names `middle-axis` (called with axis 1), and one
    over an axis no public case uses (-3) names a failing public case of softmax, not the passed
    draw; a twin called like the hidden case stays."""
    result = Result(submission="s", seed=0, score=0.0, max_score=4.0, exercises=[ExerciseResult(
        "softmax", "Softmax", 0.0, 4.0, [softmax_case("random-axis-0", "public", "passed", 2),
                                          softmax_case("random-axis-1", "hidden", "failed", 1),
                                          softmax_case("random-axis-2", "hidden", "failed", -3),
                                          softmax_case("first-axis", "public", "failed", 0),
                                          softmax_case("middle-axis", "public", "failed", 1)])])
    twins = {c.id.rsplit("/", 1)[1]: c.public_twin for c in result.name_public_twins(assignment).cases}
    assert twins == {"random-axis-0": None, "random-axis-1": "softmax/softmax/middle-axis",
                     "random-axis-2": "softmax/softmax/first-axis", "first-axis": None, "middle-axis": None}
    # the terminal and the report show the result's own twin, not the assignment's draw
    from grader.report.html import case_view
    hidden = {c.id.rsplit("/", 1)[1]: c for c in result.cases}
    assert "(hidden case; the public case softmax/softmax/middle-axis exercises the same thing)" in \
        summary(result, colour=False, assignment=assignment)
    assert case_view(hidden["random-axis-1"], assignment, lambda cid: cid)["like"]["id"] == "softmax/softmax/middle-axis"
    assert case_view(hidden["random-axis-2"], assignment, lambda cid: cid)["like"]["id"] == "softmax/softmax/first-axis"
    result.exercises[0].cases[0].inputs["axis"] = 1   # the public draw is called like random-axis-1: it stays
    assert {c.id: c.public_twin for c in result.name_public_twins(assignment).cases}[
        "softmax/softmax/random-axis-1"] == "softmax/softmax/random-axis-0"


def test_the_json_carries_it_follows_the_schema_and_reads_back(graded):
    for instructor in (False, True):                     # grade --json, and grade bulk's results/<id>.json
        data = json.loads(json.dumps(graded.to_json(instructor)))
        validate_result(data)
        assert data["schema_version"] == 2
        written = {c["id"]: c["public_twin"] for e in data["exercises"] for c in e["cases"]}
        assert written == {c.id: c.public_twin for c in graded.cases}
        assert written[AXIS_0] == FIRST_AXIS
        back = Result.from_json(data)
        assert {c.id: c.public_twin for c in back.cases} == written


def test_an_older_result_without_the_field_still_loads_and_names_no_twin(data):
    for exercise in data["exercises"]:
        for case in exercise["cases"]:
            del case["public_twin"]
    validate_result(data)                    # optional: schema 2 as it was written before
    assert all(c.public_twin is None for c in Result.from_json(data).cases)
    assert not any(words in junit_xml(data) + step_summary(data) for words in SAME_THING)
    message = next(test["message"] for test in classroom_result(data)["tests"] if test["name"] == AXIS_0)
    assert message == "hidden case: failed"


def test_a_twin_on_a_public_or_a_passed_case_is_neither_written_nor_read(data):
    case = {c["id"]: c for e in data["exercises"] for c in e["cases"]}
    passed_hidden = next(c for c in case.values() if c["visibility"] == "hidden" and c["status"] == "passed")
    forged = {FIRST_AXIS: "softmax/softmax/random-0", passed_hidden["id"]: FIRST_AXIS}
    for case_id, twin in forged.items():
        case[case_id]["public_twin"] = twin               # a result edited by hand
    back = {c.id: c for c in Result.from_json(data).cases}
    assert all(back[case_id].public_twin is None for case_id in forged)
    for case_id, twin in forged.items():                  # the model never writes one either
        back[case_id].public_twin = twin
        assert back[case_id].to_json()["public_twin"] is None
    cases = {c.name: c for suite in junitparser.JUnitXml.fromstring(junit_xml(data).encode()) for c in suite}
    assert not cases[passed_hidden["id"]].result
    assert not any(w in failure.message for failure in cases[FIRST_AXIS].result for w in SAME_THING)
    text = step_summary(data)
    assert passed_hidden["id"] not in text and "`softmax/softmax/random-0` exercises" not in text


# --- the same words everywhere ---------------------------------------------------------------------------

def test_every_output_says_it_in_the_terminals_words(assignment, graded, data):
    words = t("terminal.hidden_like", case=FIRST_AXIS, count=1)
    assert words == f"(hidden case; {TWIN_EN})"
    terminal = summary(graded, colour=False, assignment=assignment)
    assert names_twin(terminal, AXIS_0, f"the public case {FIRST_AXIS} exercises the same thing")
    assert f"failed {words}" in junit_xml(data)
    assert names_twin(step_summary(data), AXIS_0, f"the public case `{FIRST_AXIS}` exercises the same thing")
    classroom = {test["name"]: test for test in classroom_result(data)["tests"]}
    gradescope = {test["name"]: test for test in to_results(graded, 1.0)["tests"]}
    assert classroom[AXIS_0]["message"] == gradescope[AXIS_0]["output"] == f"failed {words}"


# --- each consumer, read back by its own parser ----------------------------------------------------------

def test_junit_failure_message_and_body_name_the_twin(data, tmp_path):
    path = tmp_path / "grade-junit.xml"
    path.write_text(junit_xml(data), encoding="utf-8")
    xmlschema.XMLSchema(str(XSD)).validate(str(path))    # Jenkins' junit-10.xsd
    cases = {c.name: c for suite in junitparser.JUnitXml.fromfile(str(path)) for c in suite}
    (failure,) = cases[AXIS_0].result
    assert isinstance(failure, junitparser.Failure) and failure.type == "failed"
    assert failure.message == failure.text == f"failed (hidden case; {TWIN_EN})"   # GitLab reads the text only
    (error,) = cases[FLOAT32].result
    assert isinstance(error, junitparser.Error) and error.message == error.text == "hidden case: error"
    for case in failing(data):                           # whichever hidden cases this student's draws fail
        (verdict,) = cases[case["id"]].result
        if case["visibility"] == "public" or not case["public_twin"]:
            assert not any(w in verdict.message + verdict.text for w in SAME_THING), case["id"]
        else:
            assert verdict.message == verdict.text == f"{VERDICT[case['status']]} (hidden case; the public case " \
                f"{case['public_twin']} exercises the same thing)"


def test_step_summary_lists_the_failing_hidden_cases_that_have_a_twin(data):
    text = step_summary(data)
    hidden = [c for c in failing(data) if c["visibility"] == "hidden"]
    assert {c["id"] for c in hidden if c["public_twin"]} >= {AXIS_0}
    assert f"**Hidden cases:** {len(hidden)} failing" in text
    lines = [line for line in text.splitlines() if any(w in line for w in SAME_THING)]
    assert len(lines) == len({(c["function"], c["status"], c["public_twin"]) for c in hidden if c["public_twin"]})
    assert all(line.startswith("- FAIL `softmax/softmax") for line in lines)
    assert names_twin(text, AXIS_0, f"the public case `{FIRST_AXIS}` exercises the same thing")
    assert FLOAT32 not in text                           # no twin: only counted
    failing_public = text[text.index("### Failing public cases"):text.index("**Hidden cases:**")]
    assert FIRST_AXIS in failing_public and not any(w in failing_public for w in SAME_THING)


def names_twin(text: str, case_id: str, words: str) -> bool:
    """The line of the terminal or the step summary for `case_id` — its own (`FAIL id: …`) or its
    function's group (`FAIL exercise/function (2 cases: random-axis-2, axis-0): …`, in backticks
    in the step summary) — holds `words`."""
    function, short = case_id.rsplit("/", 1)
    own = re.compile(rf"`?{re.escape(case_id)}`? ?:|`?{re.escape(function)}`? \(.*[:,] {re.escape(short)}[,)]")
    return any(words in line for line in text.splitlines() if own.search(line))


def reporter(encoded: str) -> dict:
    """classroom-resources/autograding-grading-reporter, src/main.js: base64 → UTF-8 → JSON.parse."""
    return json.loads(base64.b64decode(encoded, validate=True).decode("utf-8"))


def test_classroom_messages_name_the_twin(data):
    tests = {test["name"]: test for test in reporter(classroom_output(data))["tests"]}
    assert tests[AXIS_0]["status"] == "fail" and tests[AXIS_0]["message"] == f"failed (hidden case; {TWIN_EN})"
    assert tests[AXIS_0]["test_code"] == ""               # still no replay of a hidden case
    assert tests[FLOAT32]["message"] == f"{FLOAT32}: hidden case: error"
    for case in failing(data):
        named = any(w in tests[case["id"]]["message"] for w in SAME_THING)
        assert named == bool(case["visibility"] == "hidden" and case["public_twin"]), case["id"]


def test_the_payload_limits_hold_and_every_twin_survives_the_worst_case(assignment):
    """Every public case of the real assignment raising 800 emoji, every hidden one failing with its
    twin: the Classroom payload still fits its 64 KiB (the public messages are cut to equal bytes)
    and each hidden case's message, short, keeps its twin whole."""
    from grader.grading.engine import select_cases

    exercises = {}
    for c in select_cases(assignment):
        hidden = c.visibility == "hidden"
        exercises.setdefault(c.exercise, []).append(CaseResult(
            id=c.id, exercise=c.exercise, function=c.function, visibility=c.visibility, kind="random",
            status="failed" if hidden else "error",
            message="" if hidden else "raised RuntimeError: " + "💥🔥" * 400,
            points=0.0, max_points=1.0))
    result = Result("exercises", 2026, 0.0, 100.0, [ExerciseResult(name, name, 0.0, float(len(cs)), cs)
                                                    for name, cs in exercises.items()]).name_public_twins(assignment)
    data = result.to_json()
    encoded = classroom_output(data)
    assert len(encoded) <= PAYLOAD_BUDGET                 # the reporter's environment variable
    tests = {test["name"]: test for test in reporter(encoded)["tests"]}
    twins = {c["id"]: c["public_twin"] for c in failing(data) if c["public_twin"]}
    assert len(twins) > 50
    for case_id, twin in twins.items():
        assert tests[case_id]["message"] == f"failed (hidden case; the public case {twin} exercises the same thing)"
    assert all("64 KiB" in test["message"] for test in tests.values() if test["name"] not in twins
               and test["message"].startswith(test["name"] + ": raised"))
    lines = [line for line in step_summary(data).splitlines() if any(w in line for w in SAME_THING)]
    groups = {(c["function"], c["public_twin"]) for c in failing(data) if c["public_twin"]}
    assert len(groups) > 20 and len(lines) == 20          # LISTED_SHORT lines, then how many more
    assert step_summary(data).splitlines().count(f"- … and {len(groups) - 20} more") == 1


def test_grouped_like_the_terminal_with_a_count():
    cases = [CaseResult(id=f"softmax/softmax/h-{i}", exercise="softmax", function="softmax", visibility="hidden",
                        kind="random", status="failed", message="", points=0.0, max_points=1.0,
                        public_twin="softmax/softmax/random-0") for i in range(4)]
    data = Result(submission="s", seed=1, score=0.0, max_score=4.0,
                  exercises=[ExerciseResult("softmax", "Softmax", 0.0, 4.0, cases)]).to_json()
    assert ("- FAIL `softmax/softmax` (4 cases: h-0, h-1, h-2, …): (hidden cases; the public case "
            "`softmax/softmax/random-0` exercises the same thing)") in step_summary(data).splitlines()


def test_gradescope_results_name_the_twin(graded):
    results = json.loads(json.dumps(to_results(graded, 1.0), allow_nan=False))
    jsonschema.validate(results, RESULTS_SCHEMA)          # Gradescope's results.json specification
    tests = {test["name"]: test for test in results["tests"]}
    assert tests[AXIS_0]["visibility"] == "after_published"
    assert tests[AXIS_0]["output"] == f"failed (hidden case; {TWIN_EN})"
    assert tests[FLOAT32]["output"] == "failed"           # no twin: the verdict, nothing else
    assert "exercises the same thing" not in tests[FIRST_AXIS]["output"]


def moodle_feedback(assignment, results: list, out: Path) -> dict:
    exercises = [(e.name, e.points) for e in assignment.exercises]
    write_gradebooks(results, exercises, out, "Séance 11")
    with open(out / "gradebook-moodle.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))               # Moodle's worksheet: columns by header
    return {row["Identifier"]: row["Feedback comments"] for row in rows}


def test_moodle_feedback_comment_names_the_twin(assignment, graded, tmp_path):
    instructor = graded.to_json(instructor=True)          # what grade bulk stores in results/<id>.json
    first = next(c for e in instructor["exercises"] for c in e["cases"] if c["status"] != "passed")
    comment = moodle_feedback(assignment, [instructor], tmp_path)["Participant 4242"]
    assert first["visibility"] == "hidden" and first["public_twin"], "the first failing case: hidden, with a twin"
    assert f"First problem: {first['id']}: failed (hidden case; the public case {first['public_twin']} " \
           "exercises the same thing)" in comment
    # the comment's cap holds: a twin id of 500 characters is cut with the problem
    for e in instructor["exercises"]:
        for c in e["cases"]:
            if c["public_twin"]:
                c["public_twin"] = "softmax/softmax/" + "x" * 500
    comment = moodle_feedback(assignment, [instructor], tmp_path / "long")["Participant 4242"]
    assert comment.endswith("…") and len(comment.split("First problem: ", 1)[1]) == 200


def test_in_french(assignment, graded, data, tmp_path):
    with speaking("fr"):
        junit = junit_xml(data)
        text = step_summary(data)
        tests = {test["name"]: test for test in classroom_result(data)["tests"]}
        scope = {test["name"]: test for test in to_results(graded, 1.0)["tests"]}
        comment = moodle_feedback(assignment, [graded.to_json(instructor=True)], tmp_path)["Participant 4242"]
        terminal = summary(graded, colour=False, assignment=assignment)
    words = f"(cas caché ; {TWIN_FR})"
    assert names_twin(terminal, AXIS_0, f"le cas public {FIRST_AXIS} vérifie la même chose")
    assert f'message="échoué {words}"' in junit
    assert names_twin(text, AXIS_0, f"le cas public `{FIRST_AXIS}` vérifie la même chose")
    assert tests[AXIS_0]["message"] == scope[AXIS_0]["output"] == f"échoué {words}"
    assert "vérifie la même chose" in comment and "exercises" not in comment


# --- from grading itself (grader/grading/engine.py fills it) ----------------------------------------------

def test_grade_names_the_twins_itself_and_every_ci_file_carries_them(submission, tmp_path):
    """`grade --ci --json --junit`, as a CI job runs it: the result JSON, the JUnit file, the step
    summary and the Classroom result all name the twin (the engine fills it where it builds the
    cases, so `grade bulk`'s stored results carry it too)."""
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, GITHUB_OUTPUT=str(out / "output"), GITHUB_STEP_SUMMARY=str(out / "summary.md"),
               GRADE_LANG="en")
    proc = subprocess.run([sys.executable, "-m", "grader.cli", str(submission), "--ci", "--json", str(out / "r.json"),
                           "--junit", str(out / "j.xml"), "--report", str(out / "report.html")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    result = json.loads((out / "r.json").read_text())
    validate_result(result)
    assert {c["id"]: c["public_twin"] for e in result["exercises"] for c in e["cases"]}[AXIS_0] == FIRST_AXIS
    assert f"failed (hidden case; {TWIN_EN})" in (out / "j.xml").read_text()
    assert names_twin((out / "summary.md").read_text(), AXIS_0, f"the public case `{FIRST_AXIS}` exercises")
    decoded = reporter((out / "output").read_text().strip().removeprefix("result="))
    assert {test["name"]: test["message"] for test in decoded["tests"]}[AXIS_0] == f"failed (hidden case; {TWIN_EN})"


def test_grade_bulk_stores_the_twins_and_the_moodle_comment_names_one(submission, tmp_path):
    """`grade bulk`: each student's results/<id>.json carries the twins (the engine fills them), and
    the gradebooks, which read a compact copy of each result (grader/bulk/run.py, `_CASE_KEYS`),
    put the first one in the Moodle worksheet's feedback comment."""
    import shutil
    shutil.copytree(submission, tmp_path / "class" / "ada" / "exercises")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "bulk", str(tmp_path / "class"), "--out", str(out),
                           "-j", "1", "--quiet", "--lang", "en"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    stored = json.loads((out / "results" / "ada.json").read_text())
    validate_result(stored)
    twins = {c["id"]: c["public_twin"] for e in stored["exercises"] for c in e["cases"]}
    assert twins[AXIS_0] == FIRST_AXIS and twins[FLOAT32] is None and twins[FIRST_AXIS] is None
    first = next(c for e in stored["exercises"] for c in e["cases"] if c["status"] != "passed")
    with open(out / "gradebook-moodle.csv", newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["Feedback comments"].endswith(f"First problem: {first['id']}: failed (hidden case; the public case "
                                             f"{first['public_twin']} exercises the same thing)")
