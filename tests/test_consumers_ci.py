"""Issue 17: each CI consumer's own logic, re-run here on our outputs, in the worst cases.

* GitHub Classroom (classroom-resources/autograding-grading-reporter v1, dist/main.js): the payload
  read from one environment variable (Linux: 128 KiB), base64 → UTF-8 → JSON.parse, the notice's
  running sum, the count-based console table, `core.setFailed` on the top-level status.
* JUnit: Jenkins' junit-10.xsd (tests/consumers/junit-10.xsd, validated with xmlschema),
  junitparser, laurentb/xunitparser (which merges every suite's properties and asserts each name once).
* One score everywhere: the machine formats carry the exact score, every human-facing place the same
  rounding (grader.model.result.shown_points).
* An unreadable submission in CI: every requested file says `invalid`, score 0 and why; exit 2.
"""
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from grader.export.github import (PAYLOAD_BUDGET, classroom_output, classroom_result, step_summary)
from grader.export.gradebooks import write_gradebooks
from grader.export.gradescope import to_results
from grader.export.junit import junit_xml
from grader.model.result import CaseResult, ExerciseResult, Result, shown_points
from grader.report.terminal import summary

XSD = Path(__file__).parent / "consumers" / "junit-10.xsd"
LINUX_ENV_LIMIT = 128 * 1024            # MAX_ARG_STRLEN: one environment variable


def reporter(encoded: str) -> dict:
    """src/main.js: Buffer.from(env, "base64").toString("utf-8"), then JSON.parse (strict)."""
    raw = base64.b64decode(encoded, validate=True)
    return json.loads(raw.decode("utf-8"), parse_constant=pytest.fail)   # strict UTF-8: a cut character fails


def notice_total(results: dict) -> float:
    """src/notify-classroom.js: acc.totalPoints += score, left to right."""
    total = 0
    for test in results["tests"]:
        total += test["score"]
    return total


def count_based(results: dict) -> float:
    """dist/main.js (v1) getTestScore: passed tests / tests × max_score."""
    passed = sum(test["status"] == "pass" for test in results["tests"])
    return passed / len(results["tests"]) * (results["max_score"] or 0)


def sets_failed(results: dict) -> bool:
    return results["status"] in ("fail", "error")


def case(exercise, index, points, passed, visibility="public", message="", output=""):
    return CaseResult(id=f"{exercise}/f/case-{index}", exercise=exercise, function="f", visibility=visibility,
                      kind="random", status="passed" if passed else "failed", message="" if passed else message,
                      points=points if passed else 0.0, max_points=points, output=output)


def sample(message="the result differs") -> Result:
    """66.625 / 100: a score every rounding writes differently (66.6, 66.62, 66.63, 66.625)."""
    a = [case("alpha", i, 25.0, True, output="hello from alpha\n" if i == 0 else "") for i in range(2)]
    b = [case("beta", i, 1.0, i < 16, "hidden" if i % 2 else "public", message) for i in range(49)]
    c = [case("gamma", i, 0.125, i < 5, message=message) for i in range(8)]
    exercises = [ExerciseResult("alpha", "Alpha", 50.0, 50.0, a), ExerciseResult("beta", "Beta", 16.0, 49.0, b),
                 ExerciseResult("gamma", "Gamma", 0.625, 1.0, c)]
    return Result(submission="exercises", seed=2026, score=66.625, max_score=100.0, exercises=exercises)


# --- 1. the Classroom payload in the worst case ---------------------------------------------------

def test_classroom_payload_fits_when_every_function_raises_a_long_emoji_message():
    from grader.grading.engine import select_cases
    from grader.model.assignment import load_assignment

    assignment = load_assignment(ROOT / "assignment.yaml")
    emoji = "💥🔥" * 400                                      # 800 characters, 3,200 bytes
    exercises = {}
    for c in select_cases(assignment):
        exercises.setdefault(c.exercise, []).append(CaseResult(
            id=c.id, exercise=c.exercise, function=c.function, visibility="public", kind="random", status="error",
            message=f"raised RuntimeError: {emoji}", points=0.0, max_points=1.0))
    result = Result("exercises", 2026, 0.0, 100.0,
                    [ExerciseResult(name, name, 0.0, float(len(cs)), cs) for name, cs in exercises.items()])
    data = result.to_json()
    uncut = base64.b64encode(json.dumps(classroom_result(data), ensure_ascii=False).encode()).decode()
    assert len(uncut) > LINUX_ENV_LIMIT        # what made the reporter fail: "Argument list too long"
    encoded = classroom_output(data)
    assert len(encoded) <= PAYLOAD_BUDGET < LINUX_ENV_LIMIT
    decoded = reporter(encoded)                 # valid UTF-8, valid JSON
    assert len(decoded["tests"]) == sum(map(len, exercises.values()))
    assert all("cut: the Classroom result must fit in 64 KiB" in t["message"] or "coupé" in t["message"]
               for t in decoded["tests"])
    assert all(t["message"].startswith(f"{t['name']}: raised RuntimeError") for t in decoded["tests"])  # cut, not dropped
    assert notice_total(decoded) == 0 and decoded["status"] == "fail"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_more_cases_than_64_kib_can_name_fold_into_one_test_per_exercise_with_the_exact_score(lang, request):
    if lang == "fr":
        request.getfixturevalue("french")
    long_id = "x" * 120
    exercises = []
    for name, count, passing in (("alpha", 300, 140), ("beta", 250, 0), ("gamma", 50, 50)):
        cases = [CaseResult(id=f"{name}/f/{long_id}-{i}", exercise=name, function="f", visibility="public",
                            kind="random", status="passed" if i < passing else "error" if name == "beta" else "failed",
                            message="" if i < passing else "the result differs " * 40,
                            points=1 / 3 if i < passing else 0.0, max_points=1 / 3) for i in range(count)]
        exercises.append(ExerciseResult(name, name, passing / 3, count / 3, cases))
    score = sum(e.score for e in exercises)
    data = Result("exercises", 2026, score, 1000.0, exercises).to_json()
    encoded = classroom_output(data)
    assert len(encoded) <= PAYLOAD_BUDGET
    decoded = reporter(encoded)
    assert [(t["name"], t["status"]) for t in decoded["tests"]] == [("alpha", "fail"), ("beta", "error"),
                                                                      ("gamma", "pass")]
    assert notice_total(decoded) == round(data["score"], 6)       # the notice's points: the score, exactly
    words = {"en": "160/300 cases did not pass", "fr": "160/300 cas non réussis"}[lang]
    assert decoded["tests"][0]["message"].startswith(words)
    assert decoded["tests"][1]["message"].startswith("beta: 250/250")   # an error's message names its test
    assert decoded["tests"][2]["message"] is None and decoded["status"] == "fail"


def test_a_payload_that_fits_is_never_cut():
    data = sample().to_json()
    decoded = reporter(classroom_output(data))
    assert not any("64 KiB" in (t["message"] or "") or "64 Kio" in (t["message"] or "") for t in decoded["tests"])


# --- 2. one score, one rounding rule ---------------------------------------------------------------

def test_machine_formats_carry_the_exact_score_and_people_read_one_rounding(tmp_path):
    import xml.etree.ElementTree as ET

    result = sample()
    data = result.to_json()
    assert data["score"] == 66.625                                                   # JSON
    root = ET.fromstring(junit_xml(data, result))
    assert root.find(".//property[@name='total_score']").get("value") == "66.625"    # JUnit
    assert to_results(result, 1.0)["score"] == 66.625                                # Gradescope
    assert notice_total(reporter(classroom_output(data))) == 66.625                  # Classroom notice
    student = {"id": "123456", "name": "Zoé", "origin": "moodle", "fingerprint": "0", "source": "x",
               "lms_id": "123456"}
    write_gradebooks([dict(data, student=student)], [("alpha", 50.0), ("beta", 49.0), ("gamma", 1.0)], tmp_path,
                     "Séance 11")
    import csv
    plain = list(csv.DictReader((tmp_path / "gradebook.csv").read_text(encoding="utf-8-sig").splitlines()))
    moodle = list(csv.DictReader((tmp_path / "gradebook-moodle.csv").read_text().splitlines()))
    canvas = list(csv.reader((tmp_path / "gradebook-canvas.csv").read_text().splitlines()))
    assert plain[0]["total"] == moodle[0]["Grade"] == canvas[2][5] == "66.625"       # gradebooks
    human = shown_points(66.625)
    assert human == "66.6"
    assert f"Points {human}/100.0" in summary(result, colour=False)                  # terminal
    assert f"Points {human}/{shown_points(100)}" in step_summary(data)               # step summary
    assert f"{human}/{shown_points(100)}" in moodle[0]["Feedback comments"]          # Moodle feedback


# --- 3. what Classroom shows, records and colours ----------------------------------------------------

def test_the_reporter_turns_the_job_red_exactly_when_grade_ci_does():
    data = sample().to_json()
    assert sets_failed(reporter(classroom_output(data)))                       # no --min-score: a case fails
    assert not sets_failed(reporter(classroom_output(data, min_score=50)))     # --min-score 50: 66.625 passes
    assert sets_failed(reporter(classroom_output(data, min_score=70)))


def test_the_step_summary_says_which_number_classroom_records():
    data = sample().to_json()
    decoded = reporter(classroom_output(data, min_score=50))
    text = step_summary(data, classroom=True, min_score=50)
    assert "Points 66.625/100" in text                              # the notice, what Classroom records
    assert f"{count_based(decoded):.2f}" in text                    # the table's count, named as not the grade
    assert "not the grade" in text or "n'est pas la note" in text
    assert "green" in text or "verte" in text


# --- 5. JUnit, as its consumers read it --------------------------------------------------------------

def test_junit_passes_the_xsd_junitparser_and_xunitparser_with_output_and_summed_time(tmp_path):
    import junitparser
    import xmlschema
    import xunitparser

    result = sample()
    for exercise in result.exercises:
        for i, c in enumerate(exercise.cases):
            c.details = {"duration": 0.001 * (i + 1)}
    data = result.to_json()
    path = tmp_path / "grade-junit.xml"
    path.write_text(junit_xml(data, result), encoding="utf-8")
    xmlschema.XMLSchema(str(XSD)).validate(str(path))
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert float(xml.time) == pytest.approx(sum(s.time for s in suites), abs=1e-5)   # not the wall time
    printed = {c.name: c.system_out for s in suites for c in s}
    assert printed["alpha/f/case-0"].strip() == "hello from alpha"
    ts, tr = xunitparser.parse(open(path, encoding="utf-8"))      # asserts each property name once
    assert ts.properties["total_score"] == "66.625" and ts.properties["beta.score"] == "16"
    assert len(tr.failures) == sum(not c.passed for c in result.cases)


def test_junit_never_carries_a_hidden_case_output():
    result = sample()
    hidden = next(c for c in result.cases if c.visibility == "hidden")
    hidden.output = "SECRET PRINT"
    assert "SECRET PRINT" not in junit_xml(result.to_json(), result)


# --- 7. an unreadable submission in CI -----------------------------------------------------------------

def test_grade_ci_on_an_empty_folder_writes_every_requested_file(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, GITHUB_OUTPUT=str(out / "output"), GITHUB_STEP_SUMMARY=str(out / "summary.md"),
               GRADE_LANG="en")
    proc = subprocess.run([sys.executable, "-m", "grader.cli", str(empty), "--ci", "--json", str(out / "r.json"),
                           "--junit", str(out / "j.xml"), "--report", str(out / "report.html")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr.startswith("grade: error: ") and "Traceback" not in proc.stderr
    reason = proc.stderr.removeprefix("grade: error: ").strip()
    result = json.loads((out / "r.json").read_text())
    assert result["status"] == "invalid" and result["score"] == 0 and result["notes"] == [reason]
    import junitparser
    import xmlschema
    xmlschema.XMLSchema(str(XSD)).validate(str(out / "j.xml"))
    (suite,) = list(junitparser.JUnitXml.fromfile(str(out / "j.xml")))
    (testcase,) = list(suite)
    assert testcase.result and testcase.result[0].type == "invalid" and reason[:40] in testcase.result[0].message
    line = (out / "output").read_text().strip()
    assert line.startswith("result=")
    decoded = reporter(line.removeprefix("result="))
    assert decoded["status"] == "error" and notice_total(decoded) == 0
    assert decoded["tests"][0]["status"] == "error" and reason[:40] in decoded["tests"][0]["message"]
    assert "invalid" in (out / "summary.md").read_text()
