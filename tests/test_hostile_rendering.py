"""The grader survives its students: every output format treats what a submission put in a result
as data.

A message, a traceback, printed output, a returned value, a name or an id can be of any size, any
type and hold any character. Every renderer — the terminal summary and `grade --case`, the HTML
report, the class overview, the GitHub step summary and Classroom result, JUnit XML, the CSV
gradebooks — must then:

* never raise, whatever the type of a value (a str for a number, NaN, an int of 400 digits,
  a missing key) — a value it cannot format is shown as a bounded repr;
* stay small and fast: a 12 MB word is shown as its first 200 characters and its length;
* never let the text act: no escape sequence or fake line on a terminal, no link, mention or
  HTML in Markdown, no character XML forbids, no formula in a spreadsheet, no markup in HTML;
* recover the class overview's failure reasons with regular expressions that are linear in their
  input (they used to backtrack for minutes on a 25 KB word).

Results are built by hand (grader.model.result objects and their JSON), plus one run of the real CLI.
"""
import copy
import csv
import io
import json
import math
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from conftest import ROOT, run_grade, solution_folder
from grader.report import class_overview as class_report
from grader.export import github as export_github
from grader.export import junit as export_junit
from grader.report import html as html_report
from grader.model import result as result_module
from grader.grading import crash_hints  # its patterns read a worker's exception messages
from grader.report import terminal
from grader.model.assignment import load_assignment
from grader.report.class_overview import _public_messages, normalise_message, reason_key, render_class_report
from grader.export.github import classroom_output, classroom_result, md_code, step_summary
from grader.export.junit import junit_xml
from grader.export.gradebooks import write_gradebooks
from grader.report.html import render_html
from grader.model.result import CaseResult, ExerciseResult, Result, bounded_repr, clip_text
from grader.report.terminal import case_detail, safe, summary

ASSIGNMENT = load_assignment(ROOT / "assignment.yaml")
LECTURE_ID = "attention/similarity_attention/an-apple-and-an-orange"     # a 4 x 4 value matrix, decimals 2
WORD_ID = "embeddings/analogy/king-queen"                               # returns a word
RANDOM_ID = "softmax/softmax/random-0"
BIG = 12 * 2 ** 20                                                       # 12 MB
# what a student's exception message can hold: a fake Points line, a window title (OSC), clear
# screen, concealed text, a bidirectional override, a lone ESC, C1 CSI, DEL, NUL, CR
EVIL = ("\nPoints 100.0/100.0\n\x1b]0;pwned\x07\x1b[2J\x1b[8mhidden\x1b[0m \u202eevil\u202c \u2066x\u2069 "
        "lone\x1b end\x9b31m \x7f\x00\rPoints 100.0/100.0")
TERMINAL_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def replay(case_id):
    return f"grade --case {case_id} --seed 2026"


def case(case_id=RANDOM_ID, status="failed", visibility="public", message="m", **fields):
    exercise, function, _ = case_id.split("/")
    kind = ASSIGNMENT.case(case_id).kind
    return CaseResult(id=case_id, exercise=exercise, function=function, visibility=visibility, kind=kind,
                      status=status, message=message, points=1.0 if status == "passed" else 0.0, max_points=1.0,
                      **fields)


def result(*cases, notes=(), problems=None, student=None):
    by_exercise = {}
    for c in cases:
        by_exercise.setdefault(c.exercise, []).append(c)
    exercises = [ExerciseResult(name, ASSIGNMENT.exercise(name).title, 0.0, float(len(cs)), cs,
                                list((problems or {}).get(name, []))) for name, cs in by_exercise.items()]
    return Result(submission="/home/student/exercises", seed=2026, score=0.0,
                  max_score=float(sum(len(cs) for cs in by_exercise.values())), exercises=exercises,
                  notes=list(notes), student=student, source="reference")


def as_student(data: dict, sid="s01", name="Student") -> dict:
    data = copy.deepcopy(data)
    data["student"] = {"id": sid, "name": name, "origin": "plain", "fingerprint": "f", "source": "folder"}
    return data


def every_format(r: Result, case_id: str) -> dict:
    """{format: its text} for one result, through every renderer."""
    data = as_student(r.to_json(instructor=True))
    return {"terminal": summary(r, colour=False, replay=replay), "case": case_detail(r, case_id, colour=False),
            "html": render_html(r, ASSIGNMENT, replay), "class": render_class_report([data], ASSIGNMENT),
            "github": step_summary(data), "classroom": classroom_output(data), "junit": junit_xml(data)}


# --- bounded text and values (grader/model/result.py) ----------------------------------------------------

def test_clip_text_keeps_short_text_and_cuts_a_huge_word_saying_its_length():
    assert clip_text("the result: 3 of 4 values differ") == "the result: 3 of 4 values differ"
    text = clip_text("returned '" + "a" * 5000 + "', expected 'queen'")
    assert text.startswith("returned '" + "a" * 190) and "… (5003 characters)" in text
    assert text.endswith(" expected 'queen'") and len(text) < 300


def test_clip_text_keeps_the_beginning_and_the_end_of_a_long_text():
    text = clip_text("start " + "word " * 100_000 + "the end", limit=400)
    assert text.startswith("start word") and text.endswith("the end") and len(text) < 500
    assert "characters left out" in text


def test_clip_text_of_12_mb_is_small_and_fast():
    huge = "x" * BIG
    for text in (huge, "a " * (BIG // 2), "[0, " * (BIG // 4), "\n" * BIG):
        start = time.process_time()
        out = clip_text(text)
        assert len(out) < 3_000, len(out)
        assert time.process_time() - start < 0.5


def test_bounded_repr_of_huge_values_is_short_and_fast():
    values = [10 ** 400, 10 ** 5000, -10 ** 400, "w" * BIG, b"b" * BIG, list(range(10 ** 6)),
              [[["deep"] * 1000] * 1000], {i: "v" * 1000 for i in range(10 ** 5)}, np.arange(10 ** 7),
              np.array(["x" * 100_000] * 1000), (1,), set(), float("nan"), -math.inf, np.float32(1.5),
              np.str_("é" * 10_000)]
    start = time.process_time()
    texts = [bounded_repr(v) for v in values]
    assert time.process_time() - start < 2
    assert all(len(t) < 1_000 for t in texts), [len(t) for t in texts]
    assert texts[0] == "<an integer of 401 digits>" and texts[1] == "<an integer of 5001 digits>"
    assert texts[3].startswith("'www") and f"({BIG} characters)" in texts[3]
    assert "(999" in texts[5] and "more items" in texts[5]
    assert texts[10:14] == ["(1,)", "set()", "nan", "-inf"]


def test_bounded_repr_never_raises():
    class Hostile:
        def __repr__(self):
            raise RuntimeError("no repr for you")

    assert bounded_repr(Hostile()) == "<Hostile>"
    assert bounded_repr([Hostile()]) == "<list>"


def test_result_to_json_keeps_a_value_it_cannot_round():
    c = case(status="passed")
    c.points = "1.0"
    r = result(c)
    r.score, r.duration = 10 ** 400, None
    data = r.to_json()
    assert data["exercises"][0]["cases"][0]["points"] == "1.0" and data["score"] == 10 ** 400
    assert data["duration"] is None


# --- every renderer is total --------------------------------------------------------------------------

HOSTILE_DETAILS = [
    {"max_abs_error": "abc", "max_rel_error": None, "mismatches": "x", "size": [1], "fraction": "z",
     "worst_index": "ab", "student_value": "q", "expected_value": None, "student_shape": 5, "margin": "big"},
    {"max_abs_error": 10 ** 400, "max_rel_error": math.inf, "mismatches": 10 ** 400, "size": 10 ** 400,
     "fraction": math.nan, "worst_index": [10 ** 400, -1], "student_value": 10 ** 400,
     "expected_value": math.nan, "margin": 10 ** 400, "nonfinite": 10 ** 400, "student_shape": [10 ** 400]},
    {"worst_index": [0, 0], "student_value": math.nan, "expected_value": math.inf, "duration": "slow",
     "traceback": "not a list", "x" * 5000: "y" * BIG},
    {},
]


@pytest.mark.parametrize("details", HOSTILE_DETAILS, ids=["str", "huge-int", "nan-and-odd-keys", "empty"])
def test_details_of_the_wrong_types_render_in_every_format(details):
    rng = np.random.default_rng(0)
    w = rng.random((4, 4))
    c = case(LECTURE_ID, details=details, arrays={"weights/student": w, "weights/expected": w / 2,
                                                    "weights/difference": w / 2})
    outputs = every_format(result(c), c.id)
    assert all(outputs.values())
    assert max(len(text) for text in outputs.values()) < 300_000


def test_a_lecture_case_holding_a_huge_int_renders():
    values = [[10 ** 400, 0.5, "x" * 5000, math.nan], [math.inf, -math.inf, None, 2]] + [[0.1] * 4] * 2
    c = case(LECTURE_ID, student=values, expected=[[0.0] * 4] * 4)
    html = render_html(result(c), ASSIGNMENT, replay)
    assert "&lt;an integer of 401 digits&gt;" in html and "NaN" in html and "∞" in html
    assert "x" * 601 not in html and "(5000 characters)" in html


def test_heatmaps_of_extreme_values_render():
    s = np.array([[1e308, -1e308, math.nan, math.inf], [-math.inf, 5e-324, 0.0, -0.0]] * 2)
    c = case(LECTURE_ID, arrays={"weights/student": s, "weights/expected": np.zeros((4, 4)),
                                 "weights/difference": s - 0.0},
             details={"worst_index": [0, 0], "student_value": 1e308, "expected_value": 0.0})
    html = render_html(result(c), ASSIGNMENT, replay)
    assert html.count('<svg class="heatmap"') == 3 and "NaN/inf" in html


def test_a_value_that_is_no_array_draws_no_heatmap_and_raises_nothing():
    c = case(LECTURE_ID, student=[[10 ** 400] * 4] * 4, expected=np.zeros((4, 4)),
             arrays={"weights/student": [[10 ** 400] * 4] * 4, "weights/expected": "nope", 5: object()})
    assert render_html(result(c), ASSIGNMENT, replay).count("<svg") == 0


def test_scores_points_seed_and_duration_of_the_wrong_types_render_everywhere():
    c = case(status="passed")
    r = result(c, case("softmax/softmax/random-1", status="no-such-status", message=None))
    c.points, c.max_points = "one", 10 ** 400
    r.score, r.max_score, r.duration, r.seed = 10 ** 400, "x", "slow", 10 ** 5000
    r.exercises[0].score = math.nan
    outputs = every_format(r, c.id)
    assert "Points inf/nan" in outputs["terminal"]
    assert all(outputs.values())


def test_gradebooks_leave_an_unreadable_score_empty_and_say_why(tmp_path):
    good = as_student(result(case(status="passed")).to_json(), "a01", "Ada")
    good["exercises"][0]["score"] = good["score"] = 1.0
    bad = as_student(good, "b01", "Bob")
    bad["exercises"][0]["score"] = "lots"
    huge = as_student(good, "c01", "Cy")
    huge["exercises"][0]["score"] = 10 ** 400
    odd = as_student(good, "d01", "Di")
    odd["exercises"], odd["notes"], odd["status"] = [None, {"name": "softmax", "score": None}], "a str", ["x"]
    write_gradebooks([good, bad, huge, odd], [("softmax", 10.0)], tmp_path, "Séance 11")
    rows = {r[0]: r for r in csv.reader(io.StringIO((tmp_path / "gradebook.csv").read_text(encoding="utf-8-sig")))}
    assert rows["a01"][2:4] == ["1", "1"] and rows["d01"][2:4] == ["0", "1"]  # the exact score; Di's total is hers
    assert rows["b01"][2:4] == ["", ""] and rows["c01"][2:4] == ["", ""]
    moodle = list(csv.DictReader(io.StringIO((tmp_path / "gradebook-moodle.csv").read_text(encoding="utf-8"))))
    bob = next(r for r in moodle if r["Full name"] == "Bob")
    assert bob["Grade"] == "" and "not a number of points: 'lots'" in bob["Feedback comments"]
    canvas = list(csv.reader(io.StringIO((tmp_path / "gradebook-canvas.csv").read_text(encoding="utf-8"))))
    assert next(r for r in canvas if r[0] == "Bob")[-1] == ""


def test_gradebook_cells_starting_with_a_formula_after_any_whitespace_are_quoted(tmp_path):
    names = ["\n=HYPERLINK(\"http://evil.example\")", "\u00a0+cmd|' /C calc'!A0", " \t@SUM(1)", "-1+1"]
    base = as_student(result(case(status="passed")).to_json(), "x", "x")
    results = [as_student(base, f"s{i}", name) for i, name in enumerate(names)]
    results.append(as_student(base, "=1+1", "Eve"))
    write_gradebooks(results, [("softmax", 10.0)], tmp_path, "Séance 11")
    for name in ("gradebook.csv", "gradebook-moodle.csv", "gradebook-canvas.csv"):
        for row in csv.reader(io.StringIO((tmp_path / name).read_text(encoding="utf-8-sig"))):
            for cell in row[:3]:
                assert not cell.lstrip().startswith(("=", "+", "-", "@")) or cell.startswith("'"), (name, cell)


def test_the_class_overview_survives_results_of_the_wrong_types():
    base = as_student(result(case(message="the result: 1 of 3 values differ"), case(WORD_ID)).to_json(True))
    odd = []
    for i, change in enumerate([
            {"score": "lots", "max_score": None, "duration": 10 ** 400},
            {"score": math.nan, "duration": math.inf, "notes": "not a list", "status": ["ok"]},
            {"exercises": {"not": "a list"}}, {"exercises": [{"name": 5, "cases": "none", "problems": 7}]},
            {"exercises": [{"name": "softmax", "score": 10 ** 400, "max_score": "x",
                            "cases": [{"id": 5, "status": None, "message": 10 ** 400, "function": ["f"],
                                       "details": "x", "mistake": {"a": 1}, "diagnosis": 3.5}, "not a case"]}]},
            {"student": {"id": "z" * 100_000, "name": 10 ** 400}}]):
        r = as_student(base, f"o{i}")
        r.update(change)
        odd.append(r)
    html = render_class_report([base, *odd, None, 5], ASSIGNMENT)
    assert ">" + "z" * 200 + "… (100000 characters)</a>" in html            # shown bounded,
    assert 'href="reports/' + "z" * 100_000 + '.html"' in html                 # linked whole


# --- the class overview's regular expressions are linear ---------------------------------------------

N = 10 ** 6
ADVERSARIAL = {"a": "a" * N, "quotes": "'" * N, "list": "[0, " * (N // 4), "digits then a letter": "1" * N + "x",
               "item/expected": "item 0 is , expected " * (N // 21), "spaces": " " * N,
               "got a (": "got a x (" * (N // 9), "pas une (": "pas une x (" * (N // 11),
               "returned": ": returned " * (N // 11), "renvoyé": ": a renvoyé " * (N // 12),
               "élément": "l'élément 0 vaut  au lieu de " * (N // 28), "tuples": "(1," * (N // 3),
               "brackets": "[" * N, "semicolons": " ; la pire en " * (N // 14)}
TEMPLATES = ["the result: returned {!r}, expected ['queen']", "raised ValueError: {}",
             "the result: item 0 is {!r}, expected 'b' (3 items, expected 3)",
             "le résultat : l'élément 0 vaut {!r} au lieu de 'b' (3 éléments au lieu de 3)",
             "the result should be a NumPy array, got a str ({})"]


def test_reason_extraction_is_fast_on_1_mb_adversarial_messages():
    """Before: a 25 KB word took 42 s ("1"*25_000 + "x") or 118 s (", expected " repeated) in
    normalise_message; a 1 MB one would take days. Now each message costs a slice."""
    messages = [template.format(text) for text in ADVERSARIAL.values() for template in TEMPLATES]
    cases = [{"id": f"softmax/softmax/c{i}", "function": "softmax", "status": "error", "message": m,
              "visibility": "public"} for i, m in enumerate(messages)]
    normalise_message.cache_clear()
    start = time.process_time()
    reasons = [reason_key(c, set()) for c in cases]
    _public_messages(cases)
    elapsed = time.process_time() - start
    assert elapsed < 2, f"{elapsed:.2f} s for {len(messages)} messages of 1 MB"
    assert all(len(text) <= class_report.MAX_REASON for _, _, text in reasons)
    assert any(r[0][:3] == ("function", "softmax", "error") and r[0][3].startswith("the result: returned ")
               for r in reasons)


def test_every_pattern_over_student_text_is_linear():
    """Each module-level pattern of the renderers, on 100 KB of each adversarial text, without the
    length bound normalise_message puts in front: linear patterns take milliseconds; the old
    ones (nested or consecutive quantifiers over the same characters) took minutes."""
    patterns = {f"{m.__name__}.{name}": p for m in (class_report, export_junit, export_github, terminal, result_module,
                                                                 crash_hints)
                for name, p in vars(m).items() if isinstance(p, re.Pattern)}
    assert {"grader.report.class_overview._TUPLE", "grader.report.class_overview._NUMBER", "grader.export.junit._ANSI",
            "grader.grading.crash_hints._BROADCAST"} <= set(patterns)
    texts = {name: text[:100_000] for name, text in ADVERSARIAL.items()}
    texts.update({"csi": "\x1b[" + "0" * 100_000, "osc": "\x1b]" * 50_000, "backticks": "`" * 100_000,
                  "at": "@" * 100_000, "newlines": "\n" * 100_000})
    slow = []
    for pattern_name, pattern in patterns.items():
        for text_name, text in texts.items():
            start = time.process_time()
            pattern.sub("", text)
            elapsed = time.process_time() - start
            if elapsed > 0.5:
                slow.append((pattern_name, text_name, round(elapsed, 2)))
    assert not slow, slow


def test_the_class_overview_of_students_with_huge_messages_renders_fast():
    base = as_student(result(case(), case(WORD_ID)).to_json(True))
    results = []
    for i, text in enumerate(ADVERSARIAL.values()):
        r = as_student(base, f"s{i:02d}")
        r["exercises"][0]["cases"][0]["message"] = TEMPLATES[i % len(TEMPLATES)].format(text)
        r["exercises"][1]["cases"][0]["message"] = "raised ValueError: " + text
        r["notes"] = [text]
        results.append(r)
    normalise_message.cache_clear()
    start = time.process_time()
    html = render_class_report(results, ASSIGNMENT)
    assert time.process_time() - start < 4
    assert len(html) < 1_000_000


# --- sizes: a 12 MB word -----------------------------------------------------------------------------

def test_a_12_mb_word_gives_small_outputs_in_every_format():
    word = "a" * BIG
    c = case(WORD_ID, message=f"the result: returned {word!r}, expected 'queen'", student=word, expected="queen",
             output=word + "\n" + word, details={"traceback": ["exercises/embeddings.py, line 3, in analogy\n    "
                                                               + word]}, diagnosis=word)
    r = result(c, notes=[word], problems={"embeddings": [word]}, student={"id": "s", "name": word})
    start = time.process_time()
    outputs = every_format(r, c.id)
    assert time.process_time() - start < 10
    sizes = {name: len(text) for name, text in outputs.items()}
    assert all(size < 100_000 for size in sizes.values()), sizes
    assert "returned 'aaaa" in outputs["terminal"]
    assert f"… ({BIG + 3} characters) expected 'queen'" in outputs["terminal"]
    assert f"… ({BIG} characters)" in outputs["html"]


# --- the terminal ------------------------------------------------------------------------------------

def hostile_result() -> Result:
    c = case(status="error", message="raised ValueError: " + EVIL, output="hi" + EVIL + "\n::error::fake\n##[error]x",
             details={"traceback": ["exercises/softmax.py, line 3, in softmax\n    raise ValueError('" + EVIL + "')"]},
             diagnosis=EVIL, student=EVIL, expected=np.ones(3), inputs={"x": np.ones((2, 3))})
    return result(c, case("softmax/softmax/random-1", message=EVIL), notes=[EVIL], problems={"softmax": [EVIL]},
                  student={"id": EVIL, "name": EVIL})


def test_a_message_cannot_print_a_line_of_its_own_in_the_summary():
    text = summary(hostile_result(), colour=False, replay=replay)
    points = [line for line in text.splitlines() if line.startswith("Points")]
    assert points == ["Points 0.0/2.0"]
    assert "raised ValueError: ⏎Points 100.0/100.0⏎" in text                # a case's reason: one line
    assert "  │ Points 100.0/100.0" in text.splitlines()                      # a note's lines: prefixed
    assert len(text.splitlines()) == len(text.split("\n"))     # no other line break (CR, VT, U+2028…) either


def test_no_control_or_bidi_character_reaches_the_terminal():
    r = hostile_result()
    for text in (summary(r, colour=False, replay=replay), case_detail(r, RANDOM_ID, colour=False),
                 case_detail(r, "softmax/softmax/random-1", colour=False)):
        assert not TERMINAL_FORBIDDEN.search(text), repr(TERMINAL_FORBIDDEN.search(text).group())
        assert "?]0;pwned??[2J?[8mhidden" in text                 # shown, inert


def test_colours_are_the_graders_only():
    text = summary(hostile_result(), colour=True, replay=replay)
    assert set(re.findall("\x1b\\[[0-9;]*m", text)) <= {"\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[33m", "\x1b[90m",
                                                         "\x1b[32m", "\x1b[35m"}
    assert not re.search("\x1b[^\\[]", text)


def test_case_detail_prefixes_every_line_of_student_text():
    text = case_detail(hostile_result(), RANDOM_ID, colour=False)
    lines = text.splitlines()
    assert not [line for line in lines if line.startswith("Points")]
    printed = lines.index("printed:")
    assert lines[printed + 1] == "  │ hi" and lines[printed + 2] == "  │ Points 100.0/100.0"
    traceback = [line for line in lines if "softmax.py, line 3" in line]
    assert traceback == ["  │ exercises/softmax.py, line 3, in softmax"]
    yours = lines.index("yours:")
    assert lines[yours + 1].startswith("  │ '\\nPoints 100.0/100.0\\n")


def test_no_line_of_the_terminal_output_is_a_github_workflow_command():
    r = hostile_result()
    for text in (summary(r, colour=False, replay=replay), case_detail(r, RANDOM_ID, colour=False)):
        assert not [line for line in text.splitlines() if line.lstrip().startswith("::")]
        assert "##[" not in text


def test_safe_bounds_a_huge_message_and_keeps_it_on_one_line():
    text = safe("x\n" * BIG)
    assert "\n" not in text and len(text) < 3_000


# --- the GitHub step summary and Classroom result ----------------------------------------------------

LINKS = ("[click](http://evil.example/a) ![img](https://evil.example/i.png) <https://evil.example> "
         "www.evil.example mail@evil.example @octocat @org/team #12 javascript:alert(1) "
         "<img src=x onerror=alert(1)> </details></table> <!-- x --> &#64;octocat $\\href{http://e}{x}$ $x^2$")


def _code_spans(markdown: str) -> tuple[list, str]:
    """(contents of the inline code spans, the text outside them), as CommonMark reads backtick
    strings: a span closes at the first backtick string of the same length."""
    spans, outside, i = [], [], 0
    while i < len(markdown):
        if markdown[i] == "`":
            j = i
            while j < len(markdown) and markdown[j] == "`":
                j += 1
            fence = markdown[i:j]
            close = re.compile(f"(?<!`){fence}(?!`)").search(markdown, j)
            if close:
                spans.append(markdown[j:close.start()])
                i = close.end()
                continue
            outside.append(fence)
            i = j
        else:
            outside.append(markdown[i])
            i += 1
    return spans, "".join(outside)


def summary_of(message: str, **student) -> str:
    r = result(case(message=message), case("softmax/softmax/random-1", message="ok"), notes=[message],
               problems={"softmax": [message]})
    data = r.to_json()
    data["student"] = student or None
    return step_summary(data)


def test_step_summary_shows_links_urls_and_mentions_only_as_code():
    markdown = summary_of(LINKS)
    spans, outside = _code_spans(markdown)
    for risky in ("http", "www.", "@", "javascript:", "#12"):
        assert risky not in outside.replace("<br>", ""), risky
    assert "[click](http://evil.example/a)" in spans and "@octocat" in spans
    assert "<img" not in outside and "</details></table>" not in markdown and "<!--" not in outside
    assert "&lt;img src=x onerror=alert(1)&gt;" in outside and "\\$x^2\\$" in outside


def test_step_summary_code_spans_cannot_be_closed_by_the_students_backticks():
    markdown = summary_of("a ``` b", id="x```y|z")
    assert "student ````x```y|z````" in markdown
    assert md_code("`start") == "`` `start ``" and md_code("a|b") == "`a\\|b`"
    assert md_code("a|b", table=False) == "`a|b`"
    spans, _ = _code_spans(markdown)
    assert "x```y|z" in spans


def test_step_summary_keeps_each_message_in_its_table_row():
    markdown = summary_of("line one\nPoints 100.0/100.0\n| --- | --- |\r\nx|y\u2028z")
    row = next(line for line in markdown.splitlines() if line.startswith("| `softmax/softmax/random-0`"))
    cells = re.split(r"(?<!\\)\|", row.strip())[1:-1]
    assert len(cells) == 3 and cells[1].strip() == "FAIL"
    assert "line one<br>Points 100.0/100.0<br>\\| --- \\| --- \\|<br>x\\|y<br>z" in cells[2]
    assert not [line for line in markdown.splitlines() if line.startswith("Points")]


def test_classroom_messages_are_one_line_without_workflow_commands():
    data = hostile_result().to_json()
    for test in classroom_result(data)["tests"]:
        message = test["message"] or ""
        assert "\n" not in message and "\r" not in message and "##[" not in message
        assert not TERMINAL_FORBIDDEN.search(message)
    json.loads(__import__("base64").b64decode(classroom_output(data)))


def test_classroom_result_of_scores_of_the_wrong_types_is_valid_json():
    data = result(case(status="passed")).to_json()
    data["score"], data["max_score"] = 10 ** 400, "x"
    data["exercises"][0]["cases"][0]["points"] = math.nan
    payload = classroom_result(data)
    json.dumps(payload, allow_nan=False)
    assert payload["max_score"] == 0.0


# --- JUnit XML ---------------------------------------------------------------------------------------

FORBIDDEN_IN_XML = "".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32)])) + "\x7f\x85\x9b\ufffe\uffff\ud800\udfff"


def test_junit_stays_parseable_with_every_forbidden_character(tmp_path):
    message = f"a{FORBIDDEN_IN_XML}b {EVIL} ]]> <![CDATA[ & \"'"
    data = as_student(hostile_result().to_json(), sid=f"id{FORBIDDEN_IN_XML}")
    data["exercises"][0]["cases"][0]["message"] = message
    data["exercises"][0]["title"] = message
    text = junit_xml(data)
    root = ET.fromstring(text.encode("utf-8"))
    error = root.find(".//testcase/error")
    assert error.get("message").startswith("ab ") and "]]> <![CDATA[ & \"'" in error.get("message")
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff\u202a-\u202e]", text)
    junitparser = pytest.importorskip("junitparser")
    path = tmp_path / "junit.xml"
    path.write_text(text, encoding="utf-8")
    suites = list(junitparser.JUnitXml.fromfile(str(path)))
    assert sum(len(list(suite)) for suite in suites) == 2


def test_junit_survives_missing_keys_and_wrong_types():
    data = {"score": "x", "max_score": 10 ** 400, "duration": 10 ** 400, "student": "not a dict",
            "exercises": [{"cases": [{}, {"status": "failed", "message": 10 ** 400, "details": [1]},
                                     "not a case"], "problems": "not a list"}, "not an exercise"]}
    root = ET.fromstring(junit_xml(data).encode())
    assert root.get("tests") == "2" and root.get("failures") == "1" and root.get("time") == "0.000000"


# --- HTML: autoescape, no |safe, inert characters ----------------------------------------------------

def test_both_html_environments_autoescape_and_no_template_marks_text_safe():
    assert html_report._environment().autoescape is True
    assert class_report._environment().autoescape is True
    for name in ("report.html.j2", "class.html.j2"):
        template = (ROOT / "grader" / "report" / "templates" / name).read_text(encoding="utf-8")
        assert "|safe" not in template.replace(" ", "") and "autoescape false" not in template


def test_html_report_shows_markup_and_control_characters_as_inert_text():
    evil = '"><img src=x onerror=alert(1)><script>alert(2)</script>\x1b[2J\u202eevil'
    c = case(WORD_ID, message=evil, student=evil, expected="queen", output=evil, diagnosis=evil,
             details={"traceback": [evil], evil: evil})
    html = render_html(result(c, notes=[evil], problems={"embeddings": [evil]}, student={"id": evil, "name": evil}),
                       ASSIGNMENT, replay)
    assert "<img" not in html and "<script>alert" not in html and 'onerror=alert(1)>' not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "\x1b" not in html and "\u202e" not in html and "?[2J?evil" in html


def test_class_overview_attributes_carry_no_student_quote():
    evil = 'x" onmouseover="alert(1)'
    data = as_student(result(case()).to_json(True), sid=evil, name=evil)
    html = render_class_report([data], ASSIGNMENT)
    assert 'onmouseover="alert(1)' not in html and "x&#34; onmouseover=&#34;alert(1)" in html


@pytest.mark.skipif(not shutil.which("chromium"), reason="headless chromium is not installed")
def test_a_10_kb_word_does_not_widen_the_report(tmp_path):
    word = "W" * 10_000
    c = case(WORD_ID, message=f"the result: returned {word!r}, expected 'queen'", student=word, expected="queen",
             output=word, details={word: word, "max_abs_error": word})
    c2 = case("embeddings/skipgram_pairs/quick-brown-fox", student=[word, "b"], expected=["a"])
    lecture = case(LECTURE_ID, student=[[word, 10 ** 400, 1.0, 2.0]] * 4, expected=[[0.0] * 4] * 4)
    html = render_html(result(c, c2, lecture, notes=[word], problems={"embeddings": [word]},
                              student={"id": word, "name": word}), ASSIGNMENT, replay)
    probe = "<script>document.title = 'W=' + document.documentElement.scrollWidth;</script></body>"
    page = tmp_path / "report.html"
    page.write_text(html.replace("</body>", probe), encoding="utf-8")
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,2000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    width = int(re.search(r"<title>W=(\d+)</title>", dom).group(1))
    assert width <= 1200, width


# --- the real CLI ------------------------------------------------------------------------------------

CLI_EVIL = "\\nPoints 100.0/100.0\\n\\x1b]0;pwned\\x07\\x1b[2J"


@pytest.fixture(scope="module")
def hostile_submission(tmp_path_factory):
    """The reference, with cosine_similarity_matrix printing and raising what a terminal would obey
    and analogy returning a 2 MB word."""
    folder = solution_folder(tmp_path_factory.mktemp("hostile") / "exercises")
    similarity = folder / "similarity.py"
    text = similarity.read_text()
    old = "def cosine_similarity_matrix(A, B=None):\n"
    assert old in text
    similarity.write_text(text.replace(old, old + f"    print('{CLI_EVIL}\\n::error::fake\\n\\x1b[8mhidden')\n"
                                                  f"    raise ValueError('{CLI_EVIL}')\n"))
    embeddings = folder / "embeddings.py"
    text = embeddings.read_text()
    old = "def analogy(words, E, a, b, c):\n"
    assert old in text
    embeddings.write_text(text.replace(old, old + "    return 'a' * 2_000_000\n"))
    return folder


def test_the_cli_shows_one_points_line_and_no_escape_byte(hostile_submission, tmp_path):
    proc = run_grade(hostile_submission, "-k", "cosine_similarity_matrix", "analogy", "--no-color",
                     "--report", tmp_path / "r.html", "--json", tmp_path / "r.json")
    assert proc.returncode == 1, proc.stderr + proc.stdout
    data = json.loads((tmp_path / "r.json").read_text())
    points = [line for line in proc.stdout.splitlines() if line.startswith("Points")]
    assert points == [f"Points {data['score']:.1f}/{data['max_score']:.1f}"], proc.stdout
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "raised ValueError: ⏎Points 100.0/100.0⏎?]0;pwned??[2J" in proc.stdout
    assert len(proc.stdout) < 50_000 and (tmp_path / "r.html").stat().st_size < 1_000_000


def test_the_cli_case_detail_shows_the_printed_text_inert(hostile_submission, tmp_path):
    case_id = next(c.id for c in ASSIGNMENT.cases() if c.function == "cosine_similarity_matrix"
                   and c.visibility == "public")
    proc = run_grade(hostile_submission, "--case", case_id, "--no-color", "--report", tmp_path / "r.html")
    assert proc.returncode == 1, proc.stderr + proc.stdout
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    lines = proc.stdout.splitlines()
    assert not [line for line in lines if line.startswith("Points") or line.lstrip().startswith("::")]
    assert "  │ Points 100.0/100.0" in lines and "  │ ?[8mhidden" in lines
