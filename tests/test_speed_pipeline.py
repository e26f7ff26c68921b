"""Issue 19, second part: what was made faster behaves as before (never its timings). The worker
sends a call's inputs back only when the call changed them, and a changed input is still caught;
expected values computed while the worker runs are the ones computed before it; the report's
parts rendered once per process are the parts the report renders; a pool process grades two
students at once and the class comes out the same; values exactly equal to the expected ones get
the verdict the full comparison gives them."""
import re

import numpy as np
import pytest

from conftest import solution_folder
from grader.grading.engine import Expectations, grade, select_cases
from grader.report import html as report_html


def _graded(assignment, folder, patterns=None, student=None, later=False):
    expectations = Expectations(assignment, use_reference=True)
    plan = expectations.plan(select_cases(assignment, patterns), student=student, later=later)
    return plan, grade(assignment, folder, plan)


def test_a_changed_input_is_still_caught_and_an_untouched_one_never_flagged(assignment, tmp_path):
    folder = solution_folder(tmp_path / "exercises")
    text = (folder / "softmax.py").read_text()
    old = "    e = np.exp(x - np.max(x, axis=axis, keepdims=True))"
    changed = text.replace(old, "    if isinstance(x, np.ndarray) and x.dtype.kind == 'f' and x.size:\n"
                                "        x -= np.max(x, axis=axis, keepdims=True)  # the same values, computed in place\n"
                                "        e = np.exp(x)\n"
                                "    else:\n    " + old)
    assert changed != text
    (folder / "softmax.py").write_text(changed)
    _, result = _graded(assignment, folder, ["softmax", "similarity"])
    softmax = [c for c in result.cases if c.function == "softmax" and c.kind != "error"]
    others = [c for c in result.cases if c.exercise == "similarity"]
    assert others and all(c.status == "passed" for c in others), [(c.id, c.message) for c in others]
    flagged = [c for c in softmax if c.said is not None and c.said.code == "compare.modified_input"]
    assert flagged, [(c.id, c.status, c.message) for c in softmax]


def test_expected_values_computed_while_the_worker_runs_are_the_same(assignment, solution):
    cases = select_cases(assignment)
    now = Expectations(assignment, use_reference=True).plan(cases, student="alice")
    later = Expectations(assignment, use_reference=True).plan(cases, student="alice", later=True)
    assert later.pending is not None
    later.settle()
    assert later.pending is None
    assert set(now.expected) == set(later.expected)
    for case_id, expected in now.expected.items():
        other = later.expected[case_id]
        assert (expected.error, type(expected.value)) == (other.error, type(other.value)), case_id
        values = expected.value if isinstance(expected.value, tuple) else (expected.value,)
        others = other.value if isinstance(other.value, tuple) else (other.value,)
        for a, b in zip(values, others):
            assert repr(a) == repr(b), case_id


def test_a_failure_computing_them_is_raised_by_settle(assignment, monkeypatch):
    expectations = Expectations(assignment, use_reference=True)

    def broken(case, inputs):
        raise RuntimeError("the reference broke")
    monkeypatch.setattr(expectations.oracle, "expected", broken)
    plan = expectations.plan([c for c in select_cases(assignment) if c.visibility == "hidden"][:3],
                             student="bob", later=True)
    with pytest.raises(RuntimeError, match="the reference broke"):
        plan.settle()


def test_the_parts_rendered_once_are_the_parts_the_report_renders(assignment, tmp_path, monkeypatch):
    """A correct student's report and a failing one's: rendered with every part from the
    per-process caches (cold, then warm) and with none, byte for byte the same."""
    good = solution_folder(tmp_path / "good" / "exercises")
    bad = solution_folder(tmp_path / "bad" / "exercises")
    (bad / "softmax.py").write_text((bad / "softmax.py").read_text().replace(
        "np.exp(x - np.max(x, axis=axis, keepdims=True))", "np.exp(x)"))
    for folder in (good, bad):
        plan, result = _graded(assignment, folder, student="carol", later=True)
        assert any(c.visibility == "hidden" for c in result.cases)

        def replay(case_id):
            return f"grade --case {case_id}"
        for cache in (report_html._PUBLIC_CASES, report_html._HIDDEN_CASES, report_html._HIDDEN_VIEWS):
            cache.clear()
        cold = report_html.render_html(result, assignment, replay)
        warm = report_html.render_html(result, assignment, replay)
        with monkeypatch.context() as m:
            m.setattr(report_html, "_passed_case_html", lambda view: None)
            m.setattr(report_html, "case_view", report_html._case_view)
            m.setattr(report_html, "_HIDDEN_CASES", {})
            plain = report_html.render_html(result, assignment, replay)
        strip = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d[^<]*")  # the minute it was generated
        assert strip.sub("", cold) == strip.sub("", warm) == strip.sub("", plain)
        assert 'class="case hidden-case passed"' in cold
        assert '<details class="case passed"' in cold
    assert "failed" in plain


def test_a_pool_process_grades_two_students_at_once_and_the_class_is_the_same(tmp_path):
    from classgen import make_class
    from conftest import run_grade
    import json
    subs = tmp_path / "subs"
    expected = make_class(subs, 6, {"correct": 0.5, "wrong": 0.5}, seed=11, naming="plain-folders")
    outs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        done = run_grade("bulk", subs, "--out", out, "-j", jobs, "--quiet", timeout=600)
        assert done.returncode in (0, 1), done.stderr[-2000:]
        outs[jobs] = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    assert set(outs["1"]) == set(outs["2"]) == set(expected)
    for sid in expected:
        one, two = outs["1"][sid], outs["2"][sid]
        assert (one["status"], one["score"]) == (two["status"], two["score"]), sid
        assert [c["status"] for e in one["exercises"] for c in e["cases"]] == \
            [c["status"] for e in two["exercises"] for c in e["cases"]], sid


@pytest.mark.parametrize("value", [
    np.array([[0.25, -1.5], [3.0, 0.0]]), np.arange(6).reshape(2, 3), np.array([1.0, np.inf, -np.inf]),
    np.array([0.0, -0.0]), np.array(2.5), np.array([1e30, 1e-30], dtype=np.float32)])
def test_an_exact_match_gets_the_verdict_the_full_comparison_gives(value, monkeypatch):
    """Values equal to the expected ones pass at once; the verdict (status, margin, details) is
    the one the full computation gives, which the same values still take without the shortcut."""
    from grader.grading import compare as comparing
    from grader.model.assignment import Tolerance
    tolerance = Tolerance(rtol=1e-7, atol=1e-9)
    quick = comparing.compare_values(value.copy(), value, tolerance)
    with monkeypatch.context() as m:
        m.setattr(comparing.np, "array_equal", lambda a, b: False)
        full = comparing.compare_values(value.copy(), value, tolerance)
    assert (quick.status, quick.margin, quick.details, quick.said) == (full.status, full.margin, full.details, full.said)
    assert quick.status == "passed" and quick.margin == 0.0
    if value.dtype.kind == "f" and value.size:  # one value a hair off: the full comparison, margin > 0
        nudged = value.copy()
        kind = value.dtype.type
        nudged.flat[0] = np.nextafter(kind(nudged.flat[0]), kind(np.inf)) if np.isfinite(nudged.flat[0]) else 0.5
        assert comparing.compare_values(nudged, value, tolerance).margin > 0
