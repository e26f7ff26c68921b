"""The HTML report (grader/report/html.py): a self-contained page a student reads offline.

Results are built by hand over the real assignment file, so lecture cases find their slide.
"""
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape

from grader.model.assignment import load_assignment
from grader.report.html import as_2d, heatmap_svg, render_html, value_table, write_html
from grader.model.result import CaseResult, ExerciseResult, Result

ASSIGNMENT = load_assignment(Path(__file__).parents[1] / "assignment.yaml")
LECTURE_ID = "attention/similarity_attention/an-apple-and-an-orange"   # tokens Orange, Apple, And, An
TOKENS = ["Orange", "Apple", "And", "An"]


def replay(case_id):
    return f"grade --case {case_id} --seed 2026"


def case(case_id, status="passed", visibility="public", message="", **fields):
    exercise, function, _ = case_id.split("/")
    kind = ASSIGNMENT.case(case_id).kind if case_id in {c.id for c in ASSIGNMENT.cases()} else "random"
    return CaseResult(id=case_id, exercise=exercise, function=function, visibility=visibility, kind=kind,
                      status=status, message=message, points=1.0 if status == "passed" else 0.0,
                      max_points=1.0, **fields)


def result(*cases, notes=(), problems=None):
    by_exercise = {}
    for c in cases:
        by_exercise.setdefault(c.exercise, []).append(c)
    exercises = [ExerciseResult(name, ASSIGNMENT.exercise(name).title, sum(c.points for c in cs),
                                sum(c.max_points for c in cs), cs, list((problems or {}).get(name, [])))
                 for name, cs in by_exercise.items()]
    return Result(submission="/home/student/exercises", seed=2026, score=sum(e.score for e in exercises),
                  max_score=sum(e.max_score for e in exercises), exercises=exercises, notes=list(notes),
                  source="reference")


def heatmap_arrays(student, expected, prefix=""):
    s, e = np.asarray(student, float), np.asarray(expected, float)
    return {f"{prefix}student": s, f"{prefix}expected": e, f"{prefix}difference": s - e}


def failing_lecture_case(**fields):
    rng = np.random.default_rng(0)
    w = rng.random((4, 4))
    return case(LECTURE_ID, "failed", message="weights: 16 of 16 values outside tolerance",
                arrays=heatmap_arrays(w, w / 2, "weights/"),
                details={"max_abs_error": 0.4, "mismatches": 16, "size": 16, "fraction": 1.0,
                         "worst_index": [0, 0], "student_value": float(w[0, 0]),
                         "expected_value": float(w[0, 0] / 2)}, **fields)


def section(html, anchor):
    """The HTML of one exercise section."""
    start = html.index(f'<section class="card exercise" id="{anchor}"')
    return html[start:html.index("</section>", start)]


class TagChecker(HTMLParser):
    """Walks the page; checks every element is closed in order; collects tags and attributes."""
    VOID = {"meta", "link", "br", "img", "input", "hr", "col", "source", "wbr", "area", "base"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def parse(html):
    checker = TagChecker()
    checker.feed(html)
    checker.close()
    return checker


# --- structure ----------------------------------------------------------------------------

def test_report_parses_as_html_with_every_element_closed():
    html = render_html(result(failing_lecture_case(output="hello\n"), case("softmax/softmax/random-0")),
                       ASSIGNMENT, replay)
    checker = parse(html)
    assert html.startswith("<!DOCTYPE html>")
    assert checker.errors == []
    assert checker.stack == []


def test_summary_comes_before_the_exercise_sections():
    html = render_html(result(case("softmax/softmax/random-0"), failing_lecture_case()), ASSIGNMENT, replay)
    summary = html.index('id="summary"')
    assert all(summary < m.start() for m in re.finditer(r'<section class="card exercise"', html))


def test_one_section_per_exercise_anchored_by_its_name():
    html = render_html(result(case("softmax/softmax/random-0"), failing_lecture_case(),
                              case("transformer/gelu/random-0")), ASSIGNMENT, replay)
    ids = [attrs["id"] for tag, attrs in parse(html).tags if tag == "section" and "exercise" in attrs["class"]]
    assert ids == ["softmax", "attention", "transformer"]


def test_summary_shows_title_total_score_seed_source_and_submission():
    html = render_html(result(case("softmax/softmax/random-0"), failing_lecture_case()), ASSIGNMENT, replay)
    summary = html[:html.index('<section class="card exercise"')]
    assert str(escape(ASSIGNMENT.title)) in summary
    assert "1 / 2" in summary                       # total score
    assert "2026" in summary                        # seed
    assert "reference solution" in summary          # where the expected values came from
    assert "/home/student/exercises" in summary


def test_summary_table_has_a_row_per_exercise_with_cases_passed_and_points():
    html = render_html(result(case("softmax/softmax/random-0"), case("softmax/softmax/random-1", "failed")),
                       ASSIGNMENT, replay)
    row = re.search(r'<a href="#softmax">.*?</tr>', html, re.S).group(0)
    assert "1 / 2" in row


def test_notes_are_listed_in_the_summary():
    html = render_html(result(case("softmax/softmax/random-0"), notes=["cell 3 skipped: it runs a shell command"]),
                       ASSIGNMENT, replay)
    assert "<li>cell 3 skipped: it runs a shell command</li>" in html


def test_exercise_problems_are_listed_in_its_section():
    html = render_html(result(case("softmax/softmax/random-0", "violation", message="rule violation"),
                              problems={"softmax": ["softmax.py imports torch"]}), ASSIGNMENT, replay)
    assert "softmax.py imports torch" in section(html, "softmax")
    assert 'class="problems"' in section(html, "softmax")


# --- cases --------------------------------------------------------------------------------

@pytest.mark.parametrize("status, text", [("passed", "passed"), ("failed", "failed"), ("error", "error"),
                                          ("timeout", "timed out"), ("not_implemented", "not implemented"),
                                          ("missing", "function missing"), ("violation", "rule violation")])
def test_status_badge_says_the_status_in_words(status, text):
    html = render_html(result(case("softmax/softmax/random-0", status)), ASSIGNMENT, replay)
    assert re.search(rf'<span class="badge {status}"><span aria-hidden="true">[^<]*</span> {text}</span>', html)


def test_failing_public_case_shows_its_message_numbers_and_replay_command():
    html = render_html(result(failing_lecture_case()), ASSIGNMENT, replay)
    assert "weights: 16 of 16 values outside tolerance" in html
    assert f"<code>grade --case {LECTURE_ID} --seed 2026</code>" in html
    assert "16 of 16 (100%)" in html and "max abs error" in html


def test_passing_case_shows_no_replay_command():
    html = render_html(result(case("softmax/softmax/random-0")), ASSIGNMENT, replay)
    assert "grade --case" not in html


def test_traceback_and_printed_output_are_shown():
    html = render_html(result(case("softmax/softmax/random-0", "error", message="raised ZeroDivisionError",
                                   details={"traceback": ["exercises/softmax.py, line 3, in softmax\n    1 / 0"]},
                                   output="debug: x has shape (2, 3)\n")), ASSIGNMENT, replay)
    assert "exercises/softmax.py, line 3, in softmax" in html
    assert "debug: x has shape (2, 3)" in html


def test_failing_case_with_2d_arrays_draws_student_expected_and_difference():
    html = render_html(result(case("softmax/softmax/random-0", "failed", message="wrong",
                                   arrays=heatmap_arrays(np.ones((3, 4)), np.zeros((3, 4))))), ASSIGNMENT, replay)
    svgs = re.findall(r'<svg class="heatmap"[^>]*aria-label="([^"]*)"', html)
    assert svgs == ["yours", "expected", "difference (yours − expected)"]


def test_lecture_heatmaps_label_rows_and_columns_with_the_tokens():
    html = render_html(result(failing_lecture_case()), ASSIGNMENT, replay)
    first_svg = re.search(r'<svg class="heatmap".*?</svg>', html, re.S).group(0)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", first_svg)
    assert [t for t in texts if t in TOKENS] == TOKENS + TOKENS      # columns, then rows


def test_lecture_case_shows_the_slide_quote_numbers_and_note():
    lecture = ASSIGNMENT.case(LECTURE_ID).lecture
    html = render_html(result(failing_lecture_case()), ASSIGNMENT, replay)
    assert str(escape(lecture.slide)) in html
    assert lecture.quote in html
    assert "<td>0.40</td>" in html            # the slide's numbers, with its decimals
    assert "are illustrative, not a softmax" in html


def test_passing_lecture_case_draws_the_students_matrix_from_its_value():
    weights = np.full((4, 4), 0.25)
    c = case(LECTURE_ID, student=(np.ones((4, 3)), weights))
    html = render_html(result(c), ASSIGNMENT, replay)
    assert re.findall(r'<svg class="heatmap"[^>]*aria-label="([^"]*)"', html) == ["yours"]


def test_vocab_case_maps_generated_ids_to_words():
    c = case("transformer/generate/rince-et-repete", "failed", message="item 0 is 0, expected 5",
             student=[5, 6, 1], expected=[5, 6, 2])
    html = render_html(result(c), ASSIGNMENT, replay)
    assert "« modèle prédit rince »" in html
    assert "« modèle prédit et »" in html


def test_heatmaps_outline_the_worst_element_the_grader_reported():
    html = render_html(result(failing_lecture_case()), ASSIGNMENT, replay)
    assert "outlined: the worst element" in html


def test_failures_open_by_default_but_cases_repeating_the_exercise_problem_stay_closed():
    problem = "softmax.py imports torch (line 1): the contract allows only NumPy and the standard library"
    html = render_html(result(case("softmax/softmax/random-0", "failed", message="wrong values"),
                              case("softmax/softmax/random-1", "violation", message=f"rule violation: {problem}"),
                              problems={"softmax": [problem]}), ASSIGNMENT, replay)
    assert re.search(r'<details class="case failed" id="[^"]*random-0" open>', html)
    assert re.search(r'<details class="case violation" id="[^"]*random-1">', html)


def test_exercise_without_a_failure_to_read_folds_its_case_list():
    html = render_html(result(case("softmax/softmax/random-0", "not_implemented", message="not implemented yet")),
                       ASSIGNMENT, replay)
    assert "Show the 1 case (1 not implemented)" in section(html, "softmax")


def test_hidden_failing_case_shows_only_its_id_and_verdict():
    rng = np.random.default_rng(1)
    c = case("softmax/softmax/axis-0", "failed", visibility="hidden", message="SECRET-MESSAGE",
             arrays=heatmap_arrays(rng.random((3, 3)), rng.random((3, 3))),
             details={"max_abs_error": 0.123456, "traceback": ["SECRET-TRACE"]}, output="SECRET-OUTPUT",
             inputs={"x": np.array([123456.0])}, student=np.array([1.0]), expected=np.array([2.0]))
    html = render_html(result(c), ASSIGNMENT, replay)
    assert "softmax/softmax/axis-0" in html and 'class="badge failed"' in html
    for secret in ("SECRET", "<svg", "0.123456", "123456", "grade --case"):
        assert secret not in html


def test_submission_text_is_escaped():
    attack = "<script>alert(1)</script>"
    c = case("softmax/softmax/random-0", "error", message=f"raised ValueError: {attack}",
             details={"traceback": [f"softmax.py, line 1\n    {attack}"]}, output=f"{attack}\n")
    html = render_html(result(c, notes=[attack]), ASSIGNMENT, replay)
    assert "<script" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4


def test_report_loads_no_external_resource():
    html = render_html(result(failing_lecture_case(), case("softmax/softmax/random-0", "error", message="x")),
                       ASSIGNMENT, replay)
    tags = parse(html).tags
    assert "http://" not in html and "https://" not in html
    assert not [t for t, _ in tags if t in ("script", "link", "img", "iframe", "object", "embed")]
    assert not [a for _, a in tags if "src" in a or ("href" in a and not a["href"].startswith("#"))]
    assert "url(" not in html and "@import" not in html


def test_write_html_writes_the_page_and_returns_its_path(tmp_path):
    path = write_html(result(case("softmax/softmax/random-0")), ASSIGNMENT, tmp_path / "out" / "report.html", replay)
    assert path == tmp_path / "out" / "report.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# --- building blocks ------------------------------------------------------------------------

def test_heatmap_gives_each_cell_its_value_on_hover_and_a_min_max_legend():
    svg = heatmap_svg(np.array([[0.5, -1.0], [2.0, 0.0]]))
    assert svg.count("<rect") >= 4 and "[1, 0] = 2</title>" in svg
    assert "min -1 · max 2" in svg


def test_heatmap_of_a_vector_is_one_row():
    assert as_2d(np.arange(5))[0].shape == (1, 5)


def test_heatmap_of_a_3d_array_draws_its_first_slice_and_says_so():
    matrix, note = as_2d(np.zeros((2, 3, 4)))
    assert matrix.shape == (3, 4)
    assert "first 2-D slice [0, :, :]" in note


def test_heatmap_keeps_at_most_64_by_64_cells():
    matrix, note = as_2d(np.zeros((100, 10)))
    assert matrix.shape == (64, 10) and "64 × 10 of 100 × 10" in note


def test_heatmap_draws_nan_cells_and_counts_them():
    svg = heatmap_svg(np.array([[np.nan, 1.0]]))
    assert "= nan</title>" in svg and "1 NaN/inf" in svg


def test_heatmap_escapes_its_labels():
    svg = heatmap_svg(np.eye(2), ["<b>", "x"], ["y", "z"])
    assert "<b>" not in svg and "&lt;b&gt;" in svg


def test_value_table_rounds_to_the_slides_decimals():
    table = value_table([[1, 0.7071]], decimals=2)
    assert table["rows"][0]["cells"] == ["1.00", "0.71"]


def test_value_table_shows_word_pairs_as_chips():
    assert value_table([["the", "quick"], ["the", "brown"]]) == {
        "kind": "chips", "items": ["(the, quick)", "(the, brown)"], "more": 0}


# --- language -------------------------------------------------------------------------------



def test_report_in_english_says_so_in_its_lang_attribute():
    html = render_html(result(case("softmax/softmax/random-0")), ASSIGNMENT, replay)
    assert '<html lang="en">' in html


def test_report_in_french(french):
    c = failing_lecture_case(diagnosis="tu as oublié de soustraire le max")
    html = render_html(result(c, case("softmax/softmax/random-0"),
                              case("softmax/softmax/axis-0", "failed", visibility="hidden")), ASSIGNMENT, replay)
    checker = parse(html)
    assert checker.errors == [] and checker.stack == []
    assert '<html lang="fr">' in html
    assert "Cause probable :</strong> tu as oublié de soustraire le max" in html
    assert f"Rejouez ce cas : <code>grade --case {LECTURE_ID} --seed 2026</code>" in html
    assert re.search(r'<span class="badge failed"><span aria-hidden="true">[^<]*</span> échoué</span>', html)
    assert re.findall(r'<svg class="heatmap"[^>]*aria-label="([^"]*)"', html)[:3] == [
        "votre résultat", "attendu", "différence (votre résultat − attendu)"]
    assert "encadré : le pire élément" in html
    assert "16 sur 16 (100 %)" in html and "erreur absolue max" in html
    assert "Dans le cours" in html and "Votre fonction" in html
    assert "points · 1 cas réussi sur 3" in html
    assert '<span class="tag">caché</span>' in html
    assert "Rapport autonome : aucun script, aucune ressource externe." in html
    # identifiers stay: case ids, the replay command, the kind's CSS class
    assert 'class="tag lecture">cours</span>' in html
