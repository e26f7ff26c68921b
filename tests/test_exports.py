"""CI exports (JUnit XML, GitHub job summary, GitHub Classroom runner result) read the result JSON
of the real CLI: one run on a correct solution, one on a partly wrong one."""
import base64
import json
import os
import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import result_schema, run_grade, solution_folder, validate_result
from grader.export import junit as export_junit
from grader.export.github import (append_step_summary, case_scores, classroom_output, classroom_result,
                                  step_summary, write_classroom_output)
from grader.export.junit import junit_xml, write_junit

# what a student's exception message carries into the result: NUL, BEL, ANSI colours, HTML, pipes
NASTY = "boom\\x00\\x07\\x1b[31m red\\x1b[0m <b>&amp;</b> |pipe| end"
NASTY_CLEAN = "raised RuntimeError: boom red <b>&amp;</b> |pipe| end"


def edit(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def grade(folder: Path, out: Path):
    proc = run_grade(folder, "--json", out / "result.json", "--report", out / "report.html", "--no-color")
    assert proc.returncode in (0, 1), proc.stderr + proc.stdout
    result = json.loads((out / "result.json").read_text())
    validate_result(result)
    return proc, result


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The CLI, twice: the reference as a student folder, and the same with softmax broken (no max
    shift) and skipgram_pairs raising an exception whose message holds control characters."""
    good = solution_folder(tmp_path_factory.mktemp("good") / "exercises")
    wrong = solution_folder(tmp_path_factory.mktemp("wrong") / "exercises")
    edit(wrong / "softmax.py", "np.exp(x - np.max(x, axis=axis, keepdims=True))", "np.exp(x)")
    edit(wrong / "embeddings.py", "    n = len(tokens)\n", f"    raise RuntimeError('{NASTY}')\n")
    return {"good": grade(good, tmp_path_factory.mktemp("good-out")),
            "wrong": grade(wrong, tmp_path_factory.mktemp("wrong-out"))}


@pytest.fixture
def good(runs):
    return runs["good"][1]


@pytest.fixture
def wrong(runs):
    return runs["wrong"][1]


def cases_of(result):
    return [(e, c) for e in result["exercises"] for c in e["cases"]]


def test_the_wrong_run_has_what_the_exports_must_show(wrong):
    status = {c["id"]: c for _, c in cases_of(wrong)}
    assert status["softmax/softmax/huge-values"]["status"] == "failed"
    assert status["embeddings/skipgram_pairs/quick-brown-fox"]["status"] == "error"
    assert "\x00" in status["embeddings/skipgram_pairs/quick-brown-fox"]["message"]  # raw, as the engine wrote it
    assert {c["status"] for _, c in cases_of(wrong) if c["visibility"] == "hidden"} >= {"passed", "failed", "error"}
    assert 0 < wrong["score"] < wrong["max_score"]


# ---------------------------------------------------------------------------------------------
# JUnit XML

JUNIT10_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?")  # SUREFIRE_TIME, junit-10.xsd
XML10_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
EXPECTED_TAG = {"failed": "failure", "violation": "failure", "not_implemented": "failure", "missing": "failure",
                "error": "error", "timeout": "error"}
# a hidden case's verdict in words (English: the catalog's status.<status>.word)
VERDICT_WORDS = {"failed": "failed", "error": "error", "timeout": "timed out", "not_implemented": "not implemented",
                 "missing": "function missing", "violation": "rule violation"}


def hidden_message(case) -> str:
    """What a failing hidden case says in every CI export: its verdict, and the public case that
    exercises the same thing when the JSON names one (the terminal's words)."""
    verdict, twin = VERDICT_WORDS[case["status"]], case.get("public_twin")
    return f"{verdict} (hidden case; the public case {twin} exercises the same thing)" if twin \
        else "hidden case: " + verdict


def parse(result) -> ET.Element:
    text = junit_xml(result)
    assert not XML10_ILLEGAL.search(text)
    return ET.fromstring(text.encode("utf-8"))


@pytest.mark.parametrize("which", ["good", "wrong"])
def test_junit_counts_and_every_case(runs, which):
    result = runs[which][1]
    root = parse(result)
    assert root.tag == "testsuites"
    cases = cases_of(result)
    failures = sum(c["status"] in ("failed", "violation", "not_implemented", "missing") for _, c in cases)
    errors = sum(c["status"] in ("error", "timeout") for _, c in cases)
    assert (int(root.get("tests")), int(root.get("failures")), int(root.get("errors"))) == (len(cases), failures, errors)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [e["name"] for e in result["exercises"]]
    for suite, exercise in zip(suites, result["exercises"]):
        testcases = suite.findall("testcase")
        assert [t.get("name") for t in testcases] == [c["id"] for c in exercise["cases"]]
        assert {t.get("classname") for t in testcases} == {exercise["name"]}
        assert int(suite.get("tests")) == exercise["total"] == len(testcases)
        assert int(suite.get("failures")) == sum(t.find("failure") is not None for t in testcases)
        assert int(suite.get("errors")) == sum(t.find("error") is not None for t in testcases)
        assert suite.get("skipped") == "0" and not suite.findall(".//skipped")
        passed = sum(len(t) == 0 for t in testcases)
        assert passed == exercise["passed"]
        for t, c in zip(testcases, exercise["cases"]):
            assert float(t.get("time")) == pytest.approx(c["details"].get("duration", 0), abs=1e-6)


def test_junit_failure_messages_are_the_graders(wrong):
    root = parse(wrong)
    testcases = {t.get("name"): t for t in root.iter("testcase")}
    for _, case in cases_of(wrong):
        element = testcases[case["id"]]
        if case["status"] == "passed":
            assert len(element) == 0
            continue
        (verdict,) = list(element)
        assert verdict.tag == EXPECTED_TAG[case["status"]] and verdict.get("type") == case["status"]
        if case["visibility"] == "hidden":  # no details exist: none are made up
            assert case["message"] == ""
            assert verdict.get("message") == verdict.text == hidden_message(case)
        elif "\x00" not in case["message"]:
            assert verdict.get("message") == case["message"]
            assert verdict.text.startswith(case["message"] + "\n")
            assert f"grade --case {case['id']}" in verdict.text
    huge = testcases["softmax/softmax/huge-values"].find("failure")
    assert "NaN" in huge.get("message")
    assert testcases["softmax/softmax/large-values"].find("failure").get("message") == "hidden case: failed"


def test_junit_strips_what_xml_cannot_hold(wrong):
    text = junit_xml(wrong)
    assert "\x00" not in text and "\x07" not in text and "\x1b" not in text
    error = ET.fromstring(text.encode()).find(".//testcase[@name='embeddings/skipgram_pairs/quick-brown-fox']/error")
    assert error.get("message") == NASTY_CLEAN  # escaping round-trips: <b>&amp;</b> comes back as written
    # every character XML 1.0 forbids, in a message, a title and a problem
    forged = json.loads(json.dumps(wrong))
    every_bad = "".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32)])) + "\ufffe\uffff\ud800"
    forged["exercises"][0]["title"] = f"t{every_bad}itle"
    forged["exercises"][0]["problems"] = [f"import failed{every_bad}"]
    case = forged["exercises"][0]["cases"][0]
    case.update(status="failed", message=f"a{every_bad}b\ttab\nline", diagnosis="\x1b[1mbold\x1b[0m")
    root = parse(forged)
    failure = root.find(f".//testcase[@name='{case['id']}']/failure")
    assert failure.get("message") == "ab\ttab\nline"  # tab and newline are legal, and survive in the attribute
    assert failure.text.startswith("ab\ttab\nline\nbold\n")
    assert root.find(f".//property[@name='{forged['exercises'][0]['name']}.title']").get("value") == "title"
    assert root.find("testsuite/system-err").text == "import failed"
    assert export_junit.clean_text("ok \U0001F600 é") == "ok \U0001F600 é"


def test_junit_properties_hold_the_score(wrong):
    root = parse(wrong)
    for suite, exercise in zip(root.findall("testsuite"), wrong["exercises"]):
        assert suite[0].tag == "properties"  # first, as the Windy Road schema's sequence requires
        props = {p.get("name"): p.get("value") for p in suite[0]}
        name = exercise["name"]   # property names are unique in the file (xunitparser merges them)
        assert float(props[f"{name}.score"]) == pytest.approx(exercise["score"])
        assert float(props[f"{name}.max_score"]) == pytest.approx(exercise["max_score"])
        assert props[f"{name}.title"] == exercise["title"]
    first = {p.get("name"): p.get("value") for p in root.find("testsuite")[0]}   # the totals, once
    assert float(first["total_score"]) == pytest.approx(wrong["score"])
    assert float(first["total_max_score"]) == pytest.approx(wrong["max_score"])
    assert first["status"] == wrong["status"] == "ok"


@pytest.mark.parametrize("which", ["good", "wrong"])
def test_junit_follows_the_junit10_and_windyroad_schemas(runs, which):
    """The constraints of jenkinsci/xunit-plugin's junit-10.xsd and windyroad/JUnit-Schema that
    concern what we write (no XSD validator among the dependencies: checked one by one)."""
    root = parse(runs[which][1])
    assert set(root.attrib) <= {"name", "time", "tests", "failures", "errors"}  # junit-10: testsuites
    assert {child.tag for child in root} == {"testsuite"}  # testsuites: a sequence of testsuite only
    assert JUNIT10_TIME.fullmatch(root.get("time"))
    for index, suite in enumerate(root):
        assert {"name", "tests", "failures", "errors"} <= set(suite.attrib)  # use="required"
        assert set(suite.attrib) <= {"name", "tests", "failures", "errors", "group", "time", "skipped",
                                     "timestamp", "hostname", "id", "package", "file", "log", "url"}
        assert suite.get("id") == str(index) and suite.get("package") == suite.get("name")  # Windy Road, aggregated
        assert JUNIT10_TIME.fullmatch(suite.get("time"))
        assert {child.tag for child in suite} <= {"properties", "testcase", "system-out", "system-err"}
        for prop in suite.find("properties"):
            assert prop.tag == "property" and set(prop.attrib) == {"name", "value"} and prop.get("name")
        for case in suite.findall("testcase"):
            assert set(case.attrib) <= {"name", "time", "classname", "group"} and case.get("name")
            float(case.get("time"))  # xs:decimal (Windy Road): no exponent either
            assert "e" not in case.get("time").lower() and JUNIT10_TIME.fullmatch(case.get("time"))
            assert len(case) <= 1  # Windy Road: <xs:choice minOccurs="0"> — one verdict at most
            for verdict in case:
                assert verdict.tag in ("failure", "error")
                assert set(verdict.attrib) == {"type", "message"}  # type: use="required" (Windy Road)


def test_write_junit_is_atomic(tmp_path, wrong, good, monkeypatch):
    path = tmp_path / "reports" / "junit.xml"
    assert write_junit(wrong, path) == path
    assert path.read_text(encoding="utf-8") == junit_xml(wrong)
    write_junit(good, path)  # replaces
    assert path.read_text(encoding="utf-8") == junit_xml(good)

    def crash(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        write_junit(wrong, path)
    assert path.read_text(encoding="utf-8") == junit_xml(good)  # the old file, whole
    assert sorted(p.name for p in path.parent.iterdir()) == ["junit.xml"]  # no temporary left behind


# ---------------------------------------------------------------------------------------------
# GitHub job summary

def table_cells(line: str) -> list:
    return re.split(r"(?<!\\)\|", line.strip())[1:-1]


def test_step_summary_shows_points_and_failing_public_cases(runs):
    proc, wrong = runs["wrong"]
    summary = step_summary(wrong)
    points = re.search(r"Points \d+\.\d/\d+\.\d", proc.stdout).group(0)  # the terminal's total line
    assert summary.startswith(f"## ❌ {points}\n")
    for e in wrong["exercises"]:
        row = next(line for line in summary.splitlines() if line.startswith("| ") and f" {e['name']} |" in line)
        assert table_cells(row)[1:] == [f" {e['passed']}/{e['total']} ", f" {e['score']:.1f} / {e['max_score']:.1f} "]
    assert "<details><summary>softmax: 2 failing public cases</summary>" in summary
    assert "<details><summary>embeddings: 3 failing public cases</summary>" in summary
    softmax_row = next(line for line in summary.splitlines() if "`softmax/softmax/huge-values`" in line)
    assert table_cells(softmax_row)[1].strip() == "FAIL"
    assert "NaN/inf value" in softmax_row
    hidden = [c for _, c in cases_of(wrong) if c["visibility"] == "hidden" and c["status"] != "passed"]
    # hidden cases: counts, and the public case that exercises the same thing where there is one
    assert hidden and not any(c["id"] in summary for c in hidden if not c.get("public_twin"))
    assert all(f"the public case `{c['public_twin']}` exercises the same thing" in summary
               for c in hidden if c.get("public_twin"))
    assert f"**Hidden cases:** {len(hidden)} failing (softmax: 1, embeddings: 3)." in summary


def test_step_summary_escapes_student_text(wrong):
    summary = step_summary(wrong)
    assert "<b>" not in summary and "&lt;b&gt;&amp;amp;&lt;/b&gt;" in summary
    assert "\x00" not in summary and "\x1b" not in summary and "\x07" not in summary
    row = next(line for line in summary.splitlines() if "`embeddings/skipgram_pairs/quick-brown-fox`" in line)
    cells = table_cells(row)
    assert len(cells) == 3 and cells[1].strip() == "ERROR"  # the message's pipes do not split the row
    assert r"\|pipe\|" in cells[2]


def test_step_summary_of_a_perfect_run(good):
    summary = step_summary(good)
    assert summary.startswith("## ✅ Points 100.0/100.0\n")
    assert "Failing public cases" not in summary and "Hidden cases" not in summary
    n = sum(1 for _ in cases_of(good))
    assert f"{n}/{n} cases passed" in summary


def test_append_step_summary_appends_to_the_github_file(tmp_path, wrong, good, monkeypatch):
    target = tmp_path / "step_summary.md"
    target.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    assert append_step_summary(wrong) == target
    append_step_summary(good)
    assert target.read_text(encoding="utf-8") == f"earlier step\n{step_summary(wrong)}\n{step_summary(good)}\n"
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    assert append_step_summary(wrong) is None  # not on GitHub: nothing written anywhere
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step_summary.md"]


# ---------------------------------------------------------------------------------------------
# GitHub Classroom — the reporter's own steps, in Python

def reporter_decode(env: dict, runners: str) -> list:
    """classroom-resources/autograding-grading-reporter src/main.js: the runners input must match
    /^([a-zA-Z0-9]+,)*[a-zA-Z0-9]+$/; each runner's result is
    Buffer.from(process.env[`${runner.trim().toUpperCase()}_RESULTS`], "base64").toString("utf-8"),
    then JSON.parse (strict: no NaN or Infinity)."""
    assert re.fullmatch(r"([a-zA-Z0-9]+,)*[a-zA-Z0-9]+", runners)
    out = []
    for runner in runners.split(","):
        raw = base64.b64decode(env[f"{runner.strip().upper()}_RESULTS"], validate=True)
        out.append({"runner": runner, "results": json.loads(raw.decode("utf-8"), parse_constant=pytest.fail)})
    return out


def reporter_points(runner_results: list) -> str:
    """src/notify-classroom.js: `Points ${totalPoints}/${maxPoints}`, summing each test's score."""
    total = max_points = 0
    for r in runner_results:
        if not r["results"].get("max_score"):
            continue
        max_points += r["results"]["max_score"]
        for test in r["results"]["tests"]:
            total += test["score"]
    return f"Points {js_number(total)}/{js_number(max_points)}"


def js_number(x) -> str:
    """JavaScript's Number#toString for the values at hand (shortest round trip, no '.0')."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def reporter_failed(runner_results: list):
    """src/main.js: core.setFailed when some runner's status is "fail", else "error"."""
    if any(r["results"]["status"] == "fail" for r in runner_results):
        return "Some tests failed."
    if any(r["results"]["status"] == "error" for r in runner_results):
        return "Some tests errored."
    return None


@pytest.mark.parametrize("which", ["good", "wrong"])
def test_classroom_output_decodes_to_the_runner_shape(runs, which):
    result = runs[which][1]
    encoded = classroom_output(result)
    assert re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", encoded)  # one line: `result=<base64>` in $GITHUB_OUTPUT
    assert len(encoded) < 100_000  # the reporter reads it from an environment variable (128 KiB a string)
    (decoded,) = reporter_decode({"GRADE_RESULTS": encoded}, "grade")
    payload = decoded["results"]
    assert payload == classroom_result(result)
    assert set(payload) == {"version", "status", "max_score", "tests"} and payload["version"] == 1
    assert payload["max_score"] == result["max_score"]
    cases = [c for _, c in cases_of(result)]
    assert [t["name"] for t in payload["tests"]] == [c["id"] for c in cases]
    for test, case in zip(payload["tests"], cases):
        assert set(test) == {"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}
        assert test["status"] == {"passed": "pass", "error": "error", "timeout": "error"}.get(case["status"], "fail")
        assert test["line_no"] == 0 and test["filename"] == ""  # console-results.js: `test.line_no !== 0`
        assert isinstance(test["duration"], int) and test["duration"] >= 0
        if case["status"] == "passed":
            assert test["message"] is None and test["test_code"] == ""
            assert test["score"] == pytest.approx(case["points"], abs=0.01)
        else:
            assert test["score"] == 0
            assert test["message"]
            if case["visibility"] == "hidden":
                assert test["message"].endswith(hidden_message(case))
                assert test["test_code"] == ""
            else:
                assert test["test_code"].startswith(f"grade --case {case['id']}")
            if test["status"] == "error":  # printed without its name: the message names the case
                assert test["message"].startswith(case["id"] + ": ")
    expected_status = "pass" if all(c["status"] == "passed" for c in cases) else "fail"
    assert payload["status"] == expected_status
    assert reporter_failed([decoded]) == (None if which == "good" else "Some tests failed.")


@pytest.mark.parametrize("which", ["good", "wrong"])
def test_classroom_points_are_our_score(runs, which):
    result = runs[which][1]
    (decoded,) = reporter_decode({"GRADE_RESULTS": classroom_output(result)}, "grade")
    total = 0
    for test in decoded["results"]["tests"]:  # the reporter's acc.totalPoints += score
        total += test["score"]
    assert total == round(result["score"], 6)  # exact, not approximately: the JSON's score
    assert reporter_points([decoded]) == f"Points {js_number(round(result['score'], 6))}/{js_number(result['max_score'])}"
    assert sum(round(t["score"] * 10**6) for t in decoded["results"]["tests"]) == round(result["score"] * 10**6)



def test_classroom_scores_stay_exact_for_any_mix_of_verdicts(wrong):
    """The real result's cases and weights, with random verdicts: the running sum is always
    round(score, 2), no failed case scores, no case scores more than its points (to the cent)."""
    rng = random.Random(11)
    for _ in range(200):
        forged = json.loads(json.dumps(wrong))
        total = 0.0
        for e in forged["exercises"]:
            for c in e["cases"]:
                c["status"] = "passed" if rng.random() < rng.choice([0.1, 0.5, 0.9]) else "failed"
                c["points"] = c["max_points"] if c["status"] == "passed" else 0.0
            e["score"] = round(sum(c["points"] for c in e["cases"]), 6)
            total += e["score"]
        forged["score"] = round(total, 6)
        scores = case_scores(forged)
        running = 0
        for s in scores:
            running += s
        assert running == round(forged["score"], 6)
        for s, (_, c) in zip(scores, cases_of(forged)):
            assert s == 0 if c["status"] != "passed" else abs(s - c["points"]) < 1e-4
            assert s == pytest.approx(round(s, 6), abs=1e-9)  # millionths, up to the last scorer's 1e-12


def test_classroom_error_status_when_the_submission_could_not_be_graded(wrong):
    forged = dict(wrong, status="crash")
    assert classroom_result(forged)["status"] == "error"


def test_write_classroom_output_appends_to_github_output(tmp_path, wrong, monkeypatch):
    target = tmp_path / "github_output"
    target.write_text("previous=1\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_OUTPUT", str(target))
    assert write_classroom_output(wrong) == target
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "previous=1" and len(lines) == 2
    key, _, value = lines[1].partition("=")
    assert key == "result" and value == classroom_output(wrong)
    (decoded,) = reporter_decode({"GRADE_RESULTS": value}, "grade")
    assert decoded["results"]["max_score"] == wrong["max_score"]
    monkeypatch.delenv("GITHUB_OUTPUT")
    assert write_classroom_output(wrong) is None
    explicit = tmp_path / "out.txt"
    assert write_classroom_output(wrong, explicit) == explicit
    assert explicit.read_text(encoding="utf-8") == f"result={classroom_output(wrong)}\n"


def test_every_status_shows_as_failing_never_skipped(wrong):
    """A not-implemented function must read as failing in every CI reporter (a <skipped> would turn
    mikepenz/action-junit-report green); each verdict of the result schema, on a public and a hidden case."""
    forged = json.loads(json.dumps(wrong))
    statuses = result_schema()["properties"]["exercises"]["items"]["properties"]["cases"]["items"]["properties"]["status"]["enum"]
    cases = [c for _, c in cases_of(forged)]
    chosen = {}
    for status in statuses:
        for visibility in ("public", "hidden"):
            case = next(c for c in cases if c["visibility"] == visibility and c["id"] not in chosen)
            case.update(status=status, points=case["max_points"] if status == "passed" else 0.0,
                        message="" if visibility == "hidden" or status == "passed" else f"why: {status}")
            chosen[case["id"]] = (status, visibility)
    for e in forged["exercises"]:
        e["passed"] = sum(c["status"] == "passed" for c in e["cases"])
        e["score"] = round(sum(c["points"] for c in e["cases"]), 6)
    forged["score"] = round(sum(e["score"] for e in forged["exercises"]), 6)
    validate_result(forged)
    root = parse(forged)
    tests = {t["name"]: t for t in classroom_result(forged)["tests"]}
    assert not root.findall(".//skipped")
    for case_id, (status, visibility) in chosen.items():
        (element,) = [t for t in root.iter("testcase") if t.get("name") == case_id]
        if status == "passed":
            assert len(element) == 0 and tests[case_id]["status"] == "pass"
            continue
        (verdict,) = list(element)
        assert verdict.tag == EXPECTED_TAG[status] and verdict.get("type") == status
        forged_case = next(c for c in cases if c["id"] == case_id)
        assert verdict.get("message") == (f"why: {status}" if visibility == "public" else hidden_message(forged_case))
        assert tests[case_id]["status"] == ("error" if status in ("error", "timeout") else "fail")
        assert tests[case_id]["score"] == 0


# ---------------------------------------------------------------------------------------------
# language: the words change, never the formats' names



def test_exports_in_french_translate_the_words_and_keep_the_formats(wrong, french):
    summary = step_summary(wrong)
    assert summary.startswith(f"## ❌ Points {wrong['score']:.1f}/{wrong['max_score']:.1f}\n")  # as the reporter's
    assert "### Cas publics en échec" in summary
    assert "<details><summary>softmax : 2 cas publics en échec</summary>" in summary
    assert "<details><summary>embeddings : 3 cas publics en échec</summary>" in summary
    assert "| exercice | réussis | points |" in summary and "| cas | verdict | message |" in summary
    softmax_row = next(line for line in summary.splitlines() if "softmax/softmax/huge-values" in line)
    assert softmax_row.split("|")[2].strip() == "ÉCHEC"
    hidden = [c for _, c in cases_of(wrong) if c["visibility"] == "hidden" and c["status"] != "passed"]
    assert f"**Cas cachés :** {len(hidden)} en échec (softmax: 1, embeddings: 3)." in summary
    assert "Rejouez un cas avec tous ses détails : `grade --case CASE_ID`" in summary

    root = ET.fromstring(junit_xml(wrong).encode("utf-8"))
    testcases = {t.get("name"): t for t in root.iter("testcase")}
    failure = testcases["softmax/softmax/large-values"].find("failure")
    assert failure.get("type") == "failed" and failure.get("message") == "cas caché : échoué"
    public = testcases["softmax/softmax/huge-values"].find("failure")
    assert "rejouer : grade --case softmax/softmax/huge-values" in public.text
    assert {p.get("name").rpartition(".")[2] for p in root.iter("property")} == {
        "score", "max_score", "title", "total_score", "total_max_score", "status"}

    payload = classroom_result(wrong)
    assert payload["status"] == "fail" and {t["status"] for t in payload["tests"]} == {"pass", "fail", "error"}
    assert {t["message"] for t in payload["tests"] if t["name"] == "softmax/softmax/large-values"} == {
        "cas caché : échoué"}
