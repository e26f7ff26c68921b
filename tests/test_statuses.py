"""One table of case statuses (grader/model/statuses.py): every status has every attribute and its
words in both languages, the per-output status sections of the catalogs are gone, no output holds
a status table of its own, and every output writes what the table says."""
import ast
import re
import string
import typing
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import ROOT, result_schema, validate_result
from grader import i18n
from grader.model import statuses
from grader.model.statuses import STATUSES, TABLE, Status, StatusStyle, describe, order

CASE_STATUS_ENUM = result_schema()["properties"]["exercises"]["items"]["properties"]["cases"]["items"]["properties"]["status"]["enum"]

# the outputs (README, "Output formats") and the modules they are written in
OUTPUTS = ["grader/report/terminal.py", "grader/report/html.py", "grader/export/junit.py", "grader/export/github.py",
           "grader/export/gradescope.py", "grader/export/gradebooks.py", "grader/pytest_plugin.py"]
CLASS_OVERVIEW = "grader/report/class_overview.py"
OLD_SECTIONS = ("export_github.label.", "export_junit.status.", "gradebook.case_status.", "gradescope.status.",
                "html_report.status.", "html_report.status_count.", "terminal.label.")


# --- the table ------------------------------------------------------------------------------------

def test_the_statuses_are_a_literal_type_the_result_and_its_schema_share():
    from grader.model import result
    assert STATUSES == typing.get_args(Status) == tuple(CASE_STATUS_ENUM)
    hints = typing.get_type_hints(result.CaseResult, vars(result))
    assert hints["status"] == Status
    assert list(TABLE) == list(STATUSES) and all(TABLE[s].status == s for s in STATUSES)


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_has_every_attribute(status):
    row = TABLE[status]
    assert row.known and row.passed == (status == "passed")
    assert re.fullmatch(r"\d+(;\d+)*", row.colour), row.colour              # ANSI SGR parameters
    assert len(row.icon) == 1 and not row.icon.isspace()
    assert isinstance(row.repeated, bool)
    assert row.junit in (None, "failure", "error") and (row.junit is None) == row.passed
    assert row.gradescope == ("passed" if row.passed else "failed")
    assert row.classroom == ("pass" if row.passed else "error" if row.junit == "error" else "fail")


def test_what_each_status_is_written_as_in_the_formats_other_programs_read():
    """JUnit, Gradescope and GitHub Classroom: what their readers expect (tests/test_exports.py has
    the reasons: a not-implemented function must fail in every CI reporter, never be skipped)."""
    assert {s: TABLE[s].junit for s in STATUSES} == {
        "passed": None, "failed": "failure", "error": "error", "timeout": "error", "not_implemented": "failure",
        "missing": "failure", "violation": "failure"}
    assert {s: TABLE[s].classroom for s in STATUSES} == {
        "passed": "pass", "failed": "fail", "error": "error", "timeout": "error", "not_implemented": "fail",
        "missing": "fail", "violation": "fail"}
    assert statuses.repeated_statuses() == ("not_implemented", "missing", "violation")


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("status", STATUSES)
def test_every_status_has_its_words_in_both_languages(status, lang):
    catalog = i18n.catalog(lang)
    row = TABLE[status]
    for form in ("tag", "word"):
        key = f"status.{status}.{form}"
        assert isinstance(catalog.get(key), str) and catalog[key].strip() == catalog[key] != "", (key, lang)
    count = catalog.get(f"status.{status}.count")
    assert isinstance(count, dict) and set(count) == {"one", "other"}, (status, lang)
    for text in count.values():
        assert {name for _, name, _, _ in string.Formatter().parse(text) if name} == {"count"}
    assert row.tag(lang) == catalog[f"status.{status}.tag"] and row.word(lang) == catalog[f"status.{status}.word"]
    assert row.count(1, lang).startswith("1 ") and row.count(3, lang).startswith("3 ")
    assert row.count(3, lang) == count["other"].format(count=3)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_no_two_statuses_say_the_same_thing(lang):
    for form in ("tag", "word"):
        texts = [getattr(TABLE[s], form)(lang) for s in STATUSES]
        assert len(set(texts)) == len(texts), (form, lang, texts)
    counts = [TABLE[s].count(2, lang) for s in STATUSES]
    assert len(set(counts)) == len(counts), (lang, counts)


def test_the_words_follow_the_current_language(french):
    assert describe("failed").word() == "échoué" and describe("failed").tag() == "ÉCHEC"
    assert describe("failed").word("en") == "failed"
    assert describe("passed").count(2) == "2 réussis"


def test_the_status_section_is_the_only_one_the_catalogs_say_statuses_in():
    for lang in i18n.LANGUAGES:
        old = sorted(k for k in i18n.catalog(lang) if k.startswith(OLD_SECTIONS))
        assert not old, (lang, old)
        assert {k.split(".")[1] for k in i18n.catalog(lang) if k.startswith("status.")} == set(STATUSES)


@pytest.mark.parametrize("status", ["no-such-status", "", None, ["x"], {"a": 1}, "huge int"])
def test_an_unknown_status_is_described_never_an_exception(status):
    status = 10 ** 5000 if status == "huge int" else status       # Python refuses to write it
    row = describe(status)
    assert isinstance(row, StatusStyle) and not row.known and not row.passed and not row.repeated
    assert row.junit == "failure" and row.gradescope == "failed" and row.classroom == "fail"
    assert row.icon == "•" and row.colour == "0"
    assert isinstance(row.tag(), str) and isinstance(row.word(), str) and row.count(2).startswith("2")
    assert len(row.word()) < 100
    assert order(status) == len(STATUSES)


def test_an_unknown_status_says_its_own_text():
    row = describe("not_graded")
    assert (row.tag(), row.word(), row.count(3)) == ("not_graded", "not graded", "3 not graded")
    assert [order(s) for s in STATUSES] == list(range(len(STATUSES)))


# --- no output holds a table of its own ------------------------------------------------------------

def _status_tables(path: Path) -> list[str]:
    """Where a module writes a collection of two or more case statuses and nothing else (the keys
    of a dict, a tuple, a list, a set): a status table of its own."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            items = node.keys
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = node.elts
        else:
            continue
        values = [item.value if isinstance(item, ast.Constant) else object() for item in items]
        if len(values) >= 2 and all(isinstance(v, str) and v in STATUSES for v in values):
            found.append(f"{path.name}:{node.lineno}: {values}")
    return found


def _imports_statuses(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.ImportFrom) and node.module == "grader.model.statuses" for node in ast.walk(tree))


@pytest.mark.parametrize("module", [
    *OUTPUTS, CLASS_OVERVIEW,
])
def test_no_output_holds_its_own_status_table(module):
    path = ROOT / module
    assert _imports_statuses(path), f"{module} does not read grader/model/statuses.py"
    assert not _status_tables(path)


def test_the_check_finds_a_status_table(tmp_path):
    """The check above, on the kind of table each output had before (a submission's statuses,
    "ok", "crash"…, and a case's kinds are other words)."""
    sample = tmp_path / "sample.py"
    sample.write_text('COLOURS = {"passed": "32", "failed": "31"}\nX = ("error", "timeout")\n'
                      'KINDS = {"lecture": 1, "error": 2}\nRESULT = ("ok", "timeout", "crash")\n', encoding="utf-8")
    assert [line.split(":")[1] for line in _status_tables(sample)] == ["1", "2"]


def test_only_the_table_and_the_html_template_name_every_status():
    """The HTML report's CSS styles a badge per status (by its class, the JSON's word): every status has one."""
    css = (ROOT / "grader" / "report" / "templates" / "report.html.j2").read_text(encoding="utf-8")
    for status in STATUSES:
        assert re.search(rf"\.badge\.{status} \{{", css), status


# --- every output writes what the table says ------------------------------------------------------

@pytest.fixture
def odd_timeout(monkeypatch):
    """The table's row for "timeout" replaced by one no output could have made up by itself."""
    row = StatusStyle("timeout", "36", "⌛", True, "failure", "failed", "fail", lambda lang: "T-TAG",
                      lambda lang: "T-WORD", lambda n, lang: f"{n} T-COUNT")
    monkeypatch.setitem(TABLE, "timeout", row)
    return row


def _result():
    from grader.model.result import CaseResult, ExerciseResult, Result

    def case(name, status, visibility="public", message=""):
        return CaseResult(id=f"softmax/softmax/{name}", exercise="softmax", function="softmax", visibility=visibility,
                          kind="random", status=status, message=message, points=1.0 if status == "passed" else 0.0,
                          max_points=1.0)
    cases = [case("hidden-0", "timeout", "hidden"), case("random-0", "passed"),
             case("random-1", "timeout", message="took longer than 3 s")]
    return Result(submission="exercises", seed=2026, score=1.0, max_score=3.0,
                  exercises=[ExerciseResult("softmax", "Softmax", 1.0, 3.0, cases)])


def test_the_terminal_writes_the_tables_tag_in_its_colour(odd_timeout):
    from grader.report.terminal import case_detail, summary
    out = summary(_result(), colour=True)
    assert "\033[36mT-TAG\033[0m softmax/softmax/random-1" in out
    assert "\033[36mT-WORD\033[0m" in case_detail(_result(), "softmax/softmax/random-1", colour=True)  # the word, in the colour


def test_the_html_report_writes_the_tables_word_icon_count_and_repetition(odd_timeout):
    from grader.model.assignment import load_assignment
    from grader.report.html import exercise_view, render_html
    assignment = load_assignment(ROOT / "assignment.yaml")
    html = render_html(_result(), assignment, lambda case_id: f"grade --case {case_id}")
    assert '<span class="badge timeout"><span aria-hidden="true">⌛</span> T-WORD</span>' in html
    view = exercise_view(_result().exercises[0], assignment, lambda case_id: "")
    assert view["statuses"] == "1 passed · 2 T-COUNT"
    assert not any(c["open"] for c in view["cases"])          # "repeated": shown closed


def test_junit_writes_the_tables_element_and_word(odd_timeout):
    from grader.export.junit import junit_xml
    root = ET.fromstring(junit_xml(_result().to_json()).encode())
    assert (root.get("failures"), root.get("errors")) == ("2", "0")
    hidden = next(t for t in root.iter("testcase") if t.get("name") == "softmax/softmax/hidden-0")
    assert hidden.find("failure").get("message") == "hidden case: T-WORD"


def test_github_writes_the_tables_tag_and_classroom_status(odd_timeout):
    from grader.export.github import classroom_result, step_summary
    assert "| `softmax/softmax/random-1` | T-TAG | took longer than 3 s |" in step_summary(_result().to_json())
    assert {t["name"]: t["status"] for t in classroom_result(_result().to_json())["tests"]}["softmax/softmax/random-1"] \
        == "fail"


def test_gradescope_writes_the_tables_word_and_status(odd_timeout, monkeypatch):
    from grader.export.gradescope import to_results
    monkeypatch.setitem(TABLE, "failed", StatusStyle("failed", "31", "✗", False, "failure", "failed", "fail",
                                                     lambda lang: "F", lambda lang: "F-WORD", lambda n, lang: f"{n} F"))
    tests = {t["name"]: t for t in to_results(_result(), 1.0)["tests"]}
    assert tests["softmax/softmax/random-1"]["output"].startswith("T-WORD: took longer than 3 s")
    assert tests["softmax/softmax/hidden-0"]["output"] == "F-WORD"       # a hidden case: its Gradescope verdict
    assert tests["softmax/softmax/hidden-0"]["status"] == "failed"


def test_the_gradebooks_write_the_tables_word(odd_timeout):
    from grader.export.gradebooks import _first_problem
    assert _first_problem(_result().to_json()) == "softmax/softmax: a hidden case: T-WORD"


def test_the_suites_result_check_refuses_what_the_schema_refuses():
    """validate_result (tests/conftest.py), which the suite's checks of every JSON result go through,
    keeps one validator per process: it must still refuse a result the schema refuses."""
    import jsonschema
    good = _result().to_json()
    validate_result(good)
    for broken in ({**good, "score": "full"}, {k: v for k, v in good.items() if k != "exercises"},
                   {**good, "exercises": [{**good["exercises"][0], "cases": [{"id": 3}]}]}):
        with pytest.raises(jsonschema.ValidationError):
            validate_result(broken)
