"""A step slipped inside a function, named without a catalog variant (grader/grading/diagnosis.py,
`slipped` and `slipped_crash`): the reference's function run again with one of its own calls to
another contract function slipped — two arguments swapped, the step left out, given another value,
or moved to the function's input or to its end — names the call and what became of it when the
student's output (or the student's very exception) is what that slip gives. Instructor side only:
it needs the reference."""
import numpy as np
import pytest

from grader.grading.diagnosis import Diagnoser, _argument_text, load_mistakes, slipped_crash
from reference.attention import causal_mask, multi_head_attention
from reference.embeddings import embed
from reference.positional import positional_encoding
from reference.transformer import feed_forward, gelu, layer_norm


@pytest.fixture(scope="module")
def plan(assignment):
    from grader.grading.engine import Expectations, select_cases

    return Expectations(assignment, use_reference=True).plan(
        select_cases(assignment, ["feed_forward", "transformer_block", "transformer_forward"]))


@pytest.fixture(scope="module")
def diagnoser(assignment):
    return Diagnoser(assignment, load_mistakes(assignment))


def case_of(plan, case_id):
    case = next(c for c in plan.cases if c.id == case_id)
    return case, plan.expected[case_id]


def block_parts(inputs):
    x, b, h = inputs["x"], inputs["block"], inputs["n_heads"]

    def mha(v):
        return multi_head_attention(v, b["W_q"], b["W_k"], b["W_v"], b["W_o"], h, causal_mask(len(x)))[0]

    def ffn(v):
        return feed_forward(v, b["W1"], b["b1"], b["W2"], b["b2"])
    return x, b, mha, ffn


def test_a_step_moved_to_the_functions_input_names_the_formulas_argument(plan, diagnoser):
    """GELU on the input, (gelu(x) @ W1 + b1) @ W2 + b2: the formula's own argument is quoted, since
    it reads the same to the student (x @ W1 + b1, made of the function's parameters)."""
    case, expected = case_of(plan, "transformer/feed_forward/random-0")
    i = expected.inputs
    student = (gelu(i["x"]) @ i["W1"] + i["b1"]) @ i["W2"] + i["b2"]
    assert diagnoser.diagnose(case, i, student, expected.value) is None    # no catalog variant, no slipped input
    found = diagnoser.relate(case, i, student, expected.value)
    assert found.name is None   # nothing recorded as a catalog mistake
    assert "You applied gelu() to x, the argument of feed_forward(), where the formula applies it to " \
           "x @ W1 + b1" in found.text("en")
    assert "Vous appliquez gelu() à x, l'argument de feed_forward(), là où la formule l'applique à x @ W1 + b1" \
        in found.text("fr")


def test_a_step_moved_to_the_end_is_named(plan, diagnoser):
    case, expected = case_of(plan, "transformer/feed_forward/random-0")
    i = expected.inputs
    student = gelu((i["x"] @ i["W1"] + i["b1"]) @ i["W2"] + i["b2"])
    found = diagnoser.relate(case, i, student, expected.value)
    assert "You applied gelu() to the result, at the end of feed_forward()" in found.text("en")


def test_a_call_given_another_value_names_which_call_and_which_value(plan, diagnoser):
    """The second LayerNorm of a block taken of the block's input, not of the sum after attention."""
    case, expected = case_of(plan, "transformer/transformer_block/random-0")
    x, b, mha, ffn = block_parts(expected.inputs)
    x1 = x + mha(layer_norm(x, b["ln1_gamma"], b["ln1_beta"]))
    student = x1 + ffn(layer_norm(x, b["ln2_gamma"], b["ln2_beta"]))
    found = diagnoser.relate(case, expected.inputs, student, expected.value)
    text = found.text("en")
    assert "You passed x (the argument of transformer_block()) as x in call 2 of the 2 to layer_norm()" in text
    assert "l'appel n° 2 des 2 à layer_norm()" in found.text("fr")


def test_a_call_left_out_is_named(plan, diagnoser):
    case, expected = case_of(plan, "transformer/transformer_block/random-0")
    x, b, mha, ffn = block_parts(expected.inputs)
    x1 = x + mha(layer_norm(x, b["ln1_gamma"], b["ln1_beta"]))
    student = x1 + ffn(x1)
    found = diagnoser.relate(case, expected.inputs, student, expected.value)
    assert "You left out call 2 of the 2 to layer_norm()" in found.text("en")


def test_two_sizes_swapped_in_a_call_explain_the_crash(plan, assignment):
    """positional_encoding(d, n): the reference with that call's two arguments swapped raises the
    student's exception, so the crash names the call and its parameters, in both languages."""
    case, expected = case_of(plan, "transformer/transformer_forward/random-0")
    ids, E = expected.inputs["token_ids"], expected.inputs["params"]["token_embedding"]
    with pytest.raises(ValueError) as raised:
        embed(ids, E) + positional_encoding(E.shape[1], len(ids))
    exception = {"type": "ValueError", "message": str(raised.value)}
    said = slipped_crash(assignment, case, expected.inputs, exception)
    assert "You passed n_positions and d_model in the wrong order in the call to positional_encoding(), whose " \
           "signature is positional_encoding(n_positions, d_model, base)" in said.render("en")
    assert "lève cette même erreur" in said.render("fr")
    # another exception is not explained by it
    assert slipped_crash(assignment, case, expected.inputs, {"type": "ValueError", "message": "other"}) is None


def test_a_size_from_the_wrong_axis_explains_a_crash_inside_a_callee(plan, assignment):
    """causal_mask(x.shape[-1]) in a block: the mask does not fit the scores deep inside attention;
    the formula's argument x.shape[-2] is quoted (x is not reassigned before that call)."""
    case, expected = case_of(plan, "transformer/transformer_block/random-0")
    x, b, mha, ffn = block_parts(expected.inputs)
    with pytest.raises(ValueError) as raised:
        multi_head_attention(layer_norm(x, b["ln1_gamma"], b["ln1_beta"]), b["W_q"], b["W_k"], b["W_v"], b["W_o"],
                             expected.inputs["n_heads"], causal_mask(x.shape[-1]))
    said = slipped_crash(assignment, case, expected.inputs, {"type": "ValueError", "message": str(raised.value)})
    assert f"You passed x.shape[-1] = {x.shape[-1]} as n_q in the call to causal_mask(), where the formula passes " \
           f"x.shape[-2] = {x.shape[-2]}" in said.render("en")


def test_the_formulas_argument_is_quoted_only_when_it_reads_the_same_to_the_student():
    assert _argument_text("reference", "feed_forward", "gelu", 0, 1, 0) == "x @ W1 + b1"
    assert _argument_text("reference", "transformer_block", "causal_mask", 0, 1, 0) == "x.shape[-2]"
    # the second LayerNorm's x is the sum after attention (x reassigned): a bare `x` would mislead
    assert _argument_text("reference", "transformer_block", "layer_norm", 1, 2, 0) is None


def test_the_reference_and_its_float32_rounding_get_no_slip(plan, diagnoser):
    for case in plan.cases:
        expected = plan.expected[case.id]
        if expected.error or not isinstance(expected.value, np.ndarray):
            continue
        assert diagnoser.relate(case, expected.inputs, expected.value, expected.value) is None, case.id
        assert diagnoser.relate(case, expected.inputs, expected.value.astype(np.float32), expected.value) is None


def test_a_students_repository_has_no_slips(plan, assignment):
    """Without the reference (no variants loaded: a students' repository) nothing is run."""
    case, expected = case_of(plan, "transformer/feed_forward/random-0")
    i = expected.inputs
    student = (gelu(i["x"]) @ i["W1"] + i["b1"]) @ i["W2"] + i["b2"]
    assert Diagnoser(assignment).relate(case, i, student, expected.value) is None


def test_end_to_end_a_crash_gets_the_slip_at_the_students_line(assignment, tmp_path):
    """Graded through the real pipeline: the crash's line, then the slip that explains it."""
    import sys

    from conftest import ROOT
    from grader.grading.engine import Expectations, grade, select_cases

    sys.path.insert(0, str(ROOT / "bench"))
    from student_mistakes import build
    from student_mistakes.corpus import Entry

    source = '''
def transformer_forward(token_ids, params):
    E = params["token_embedding"]
    x = embed(token_ids, E) + positional_encoding(E.shape[1], len(token_ids))
    for block in params["blocks"]:
        x = transformer_block(x, block, params["n_heads"])
    return layer_norm(x, params["lnf_gamma"], params["lnf_beta"]) @ E.T
'''
    folder = build(Entry("pe-swapped", "transformer", "transformer_forward", "crash", "", [], source),
                   tmp_path / "exercises")
    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment, ["transformer_forward"]))
    result = grade(assignment, folder, plan)
    crashed = [c for c in result.cases if c.status == "error"]
    assert crashed
    for c in crashed:
        text = c.render_diagnosis("en")
        assert text.startswith("at exercises/transformer.py:") and "positional_encoding(E.shape[1], len(token_ids))" \
            in text, text
        assert "You passed n_positions and d_model in the wrong order" in text, text
