"""Diagnosis of classic mistakes: instructor side (live variants), student side (the variants'
outputs stored in a release's public-cases file), the accuracy over a corpus from the variants,
and the dependency-aware hint."""
import json

import pytest

from conftest import run_grade, solution_folder


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


def test_a_students_release_diagnoses_offline_from_stored_outputs(tmp_path, no_max_shift, release_copy):
    release = release_copy(tmp_path / "release")
    assert not (release / "reference").exists()
    proc = run_grade(no_max_shift, "-k", "softmax", "--json", tmp_path / "r.json", "--report", tmp_path / "r.html",
                     "--no-color", cwd=release)
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["expected_from"] == "public-cases file"
    assert "mistake softmax-no-max-shift" in diagnoses(result)["softmax/softmax/huge-values"], proc.stdout


@pytest.mark.same_on_every_backend("the diagnosis runs in this process, on the variants' outputs: no worker")
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


@pytest.mark.same_on_every_backend("renders a hint: no worker")
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


# --- generic diagnoses: no variant per mistake ------------------------------------------------

def _plan_case(assignment, case_id):
    from grader.grading.engine import Expectations, select_cases

    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment))
    case = next(c for c in plan.cases if c.id == case_id)
    return case, plan.expected[case_id]


@pytest.mark.same_on_every_backend("the diagnosis runs in this process, on the variants' outputs: no worker")
def test_a_slipped_input_is_named_by_the_reference_run_on_it(assignment):
    """No catalog variant leaves b1 out or swaps gamma and beta: the reference run with that input
    zeroed or swapped matches, and says so in both languages (no mistake name: nothing recorded)."""
    import numpy as np

    from grader.grading.diagnosis import Diagnoser, load_mistakes
    from reference.transformer import feed_forward, layer_norm

    diagnoser = Diagnoser(assignment, load_mistakes(assignment))
    case, expected = _plan_case(assignment, "transformer/feed_forward/random-0")
    i = expected.inputs
    found = diagnoser.diagnose(case, i, feed_forward(i["x"], i["W1"], np.zeros_like(i["b1"]), i["W2"], i["b2"]),
                               expected.value)
    assert found is not None and found.name is None
    assert "You left out b1" in found.text("en") and "Vous omettez b1" in found.text("fr")
    case, expected = _plan_case(assignment, "transformer/layer_norm/random-0")
    i = expected.inputs
    found = diagnoser.diagnose(case, i, layer_norm(i["x"], i["beta"], i["gamma"]), expected.value)
    assert "You swapped gamma and beta" in found.text("en")
    # the reference's own output, and float32 rounding of it, are never explained
    assert diagnoser.diagnose(case, i, expected.value, expected.value) is None
    assert diagnoser.relate(case, i, expected.value.astype(np.float32), expected.value) is None


@pytest.mark.same_on_every_backend("the diagnosis runs in this process, on the variants' outputs: no worker")
def test_what_an_output_is_relative_to_the_expected_one(assignment):
    """Transposed, scaled by a constant, shifted by one position, residual missing, pairs the
    wrong way round: said from the expected value alone (both sides), only when it explains the
    failure."""
    import numpy as np

    from grader.grading.diagnosis import Diagnoser

    diagnoser = Diagnoser(assignment)   # no variants: a students' repository
    case, expected = _plan_case(assignment, "attention/causal_mask/rectangular-0")
    said = diagnoser.relate(case, expected.inputs, expected.value.T, expected.value)
    assert "transposed" in said.text("en") and "transposé" in said.text("fr")
    case, expected = _plan_case(assignment, "similarity/scaled_dot_product/slide-vectors")
    said = diagnoser.relate(case, expected.inputs, expected.value * np.sqrt(2), expected.value)
    assert "multiplied by √2" in said.text("en")
    case, expected = _plan_case(assignment, "positional/positional_encoding/write-a-story")
    shifted = np.vstack([expected.value[1:], expected.value[-1:]])
    assert "shifted by -1 position along axis -2" in diagnoser.relate(case, expected.inputs, shifted,
                                                                        expected.value).text("en")
    case, expected = _plan_case(assignment, "transformer/transformer_block/random-0")
    x = expected.inputs["x"]
    assert "You left out the residual" in diagnoser.relate(case, expected.inputs, expected.value - x,
                                                             expected.value).text("en")
    case, expected = _plan_case(assignment, "embeddings/skipgram_pairs/quick-brown-fox")
    reversed_pairs = [(b, a) for a, b in expected.value]
    assert "wrong way round" in diagnoser.relate(case, expected.inputs, reversed_pairs, expected.value).text("en")
    assert diagnoser.relate(case, expected.inputs, expected.value, expected.value) is None


def test_a_catalog_mistake_named_on_ids_by_coincidence_is_dropped_when_another_case_refutes_it(tmp_path):
    """Sampling instead of argmax can return, on a short case, exactly the ids a catalog variant
    returns; another case of generate, where that variant gives other ids, refutes it."""
    folder = solution_folder(tmp_path / "exercises")
    edit(folder / "transformer.py", "        ids.append(int(np.argmax(transformer_forward(ids, params)[-1])))",
         "        p = softmax(transformer_forward(ids, params)[-1])\n"
         "        ids.append(int(np.random.default_rng(0).choice(len(p), p=p)))")
    proc = run_grade(folder, "-k", "generate", "--json", tmp_path / "r.json", "--report", tmp_path / "r.html")
    result = json.loads((tmp_path / "r.json").read_text())
    named = [c["mistake"] for e in result["exercises"] for c in e["cases"] if c["mistake"]]
    assert not named, (named, proc.stdout)


@pytest.mark.same_on_every_backend("the diagnosis runs in this process, on the variants' outputs: no worker")
def test_an_output_that_is_a_step_inside_the_function_names_that_step(assignment):
    """A block that returns its feed-forward's output (the residual sum after it left out) gets
    « you returned what feed_forward() gives inside the function »: the reference's own calls,
    traced, not a variant."""
    from grader.grading.diagnosis import Diagnoser, load_mistakes
    from reference.attention import causal_mask, multi_head_attention
    from reference.transformer import feed_forward, layer_norm

    diagnoser = Diagnoser(assignment, load_mistakes(assignment))
    case, expected = _plan_case(assignment, "transformer/transformer_block/random-0")
    x, b, h = expected.inputs["x"], expected.inputs["block"], expected.inputs["n_heads"]
    x1 = x + multi_head_attention(layer_norm(x, b["ln1_gamma"], b["ln1_beta"]), b["W_q"], b["W_k"], b["W_v"],
                                  b["W_o"], h, causal_mask(len(x)))[0]
    student = feed_forward(layer_norm(x1, b["ln2_gamma"], b["ln2_beta"]), b["W1"], b["b1"], b["W2"], b["b2"])
    found = diagnoser.diagnose(case, expected.inputs, student, expected.value)
    assert found is not None and found.name is None
    assert "You returned what feed_forward() gives inside the function" in found.text("en")
    assert "feed_forward()" in found.text("fr") and "résiduelle" in found.text("fr")


@pytest.mark.same_on_every_backend("diagnosis computed in the test's own process")
def test_variant_outputs_run_once_per_inputs_and_only_for_the_same_inputs():
    """The students of a class who fail a public case share its inputs: the variants run once for
    them (grader/grading/diagnosis.py keeps the last outputs by the inputs' content), and only
    inputs equal in every value, dtype and shape get those outputs back."""
    from types import SimpleNamespace

    import numpy as np

    from grader.grading.diagnosis import variant_outputs

    calls = []

    def doubled(x, scale):
        calls.append(1)
        return 2 * x * scale

    mistakes = [SimpleNamespace(name="doubled", function="f", exercise="e", implementation=doubled)]
    case = SimpleNamespace(exercise="e", function="f", id="e/f/public")
    first = variant_outputs(mistakes, case, {"x": np.arange(3.0), "scale": 1})
    again = variant_outputs(mistakes, case, {"x": np.arange(3.0), "scale": 1})   # another student, same case
    assert len(calls) == 1 and again["doubled"].tolist() == first["doubled"].tolist() == [0.0, 2.0, 4.0]
    for other in ({"x": np.arange(3.0) + [0, 0, 1], "scale": 1},         # one value
                  {"x": np.arange(3.0, dtype=np.float32), "scale": 1},   # the dtype
                  {"x": np.arange(3.0).reshape(3, 1), "scale": 1},       # the shape
                  {"x": np.arange(3.0), "scale": 1.0},                   # an int become a float
                  {"scale": 1, "x": np.arange(3.0)}):                    # the order of the arguments
        before = len(calls)
        variant_outputs(mistakes, case, other)
        assert len(calls) == before + 1, other
    # another list of mistakes (a course reloaded, another course) never gets these outputs
    twins = [SimpleNamespace(name="doubled", function="f", exercise="e", implementation=lambda x, scale: -x)]
    assert variant_outputs(twins, case, {"x": np.arange(3.0), "scale": 1})["doubled"].tolist() == [-0.0, -1.0, -2.0]
