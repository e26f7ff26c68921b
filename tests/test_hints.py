"""Property hints: sentences built from the student's own output and the case's inputs, never from
the expected value. The checks are the course's (course/properties.py, named by assignment.yaml's
`properties:`), with their own catalogs (course/properties.{fr,en}.yaml); the engine's part
(grader/grading/properties.py) declares, runs and renders them, and is called here as the engine
calls it (`property_hint(assignment, exercise, function, inputs, value)`).

(a) the reference never gets a hint, on every case of the assignment, at several seeds, in
    float64 and in float32, as returned and after the wire (what the engine really sees);
(b) the classic mistakes of reference/mistakes.py that break a property get the hint that
    names it (a table is printed), those that break none get nothing, and a hint never
    fires on an output that passes its case;
(c) each property on hand-made outputs, with the number it quotes;
(d) hostile and odd values give None (or a sentence) and never raise;
(e) the sentence is in the current language: French under set_language("fr"), English under
    "en"; the course's two catalogs have the same keys and fields, every key the course's checks
    say exists and is used, and so are the engine's own `hints.*` keys;
(f) the engine's part: the module is loaded from the assignment's `properties:` (none named, or
    absent from a students' repository: no hints; broken: the course's error), a check declared
    twice is refused, and only exact built-in and NumPy values of bounded size reach a check.
"""
import ast
import copy
import string
import math
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.same_on_every_backend("the property checks run in this process, on values: no worker")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader import i18n  # noqa: E402
from grader.sandbox.runtime import protocol
from grader.model.assignment import load_assignment  # noqa: E402
from grader.grading.compare import compare_values  # noqa: E402
from grader.grading.engine import Expectations, select_cases  # noqa: E402
from grader.grading import properties as engine  # noqa: E402
from grader.model.errors import AssignmentError  # noqa: E402
from reference.mistakes import MISTAKES  # noqa: E402

ASSIGNMENT = load_assignment(ROOT / "assignment.yaml")
COURSE_PROPERTIES = ROOT / "course" / "properties.py"


def property_hint(exercise, function, inputs, value):
    """The hint as the engine computes it for this course (grader.grading.engine.judge)."""
    return engine.property_hint(ASSIGNMENT, exercise, function, inputs, value)

SEEDS = [None, 1, 7, 2024, 31337]          # None: the assignment's own seed (2026)
EXPECTATIONS = Expectations(ASSIGNMENT, use_reference=True)


def _plan(seed=None):
    return EXPECTATIONS.plan(select_cases(ASSIGNMENT), seed=seed)


@pytest.fixture(scope="module")
def plan():
    return _plan()


def _quiet(fn, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args)


def _wire(value):
    """What the engine gets back from the worker: the value after encode/decode."""
    return protocol.decode(protocol.encode(value))


def _to32(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        with np.errstate(over="ignore"):  # 1e300 becomes inf in float32: the hints must cope
            return value.astype(np.float32)
    if isinstance(value, dict):
        return {k: _to32(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to32(v) for v in value)
    return value


def _graded(plan):
    """(case, expected) for every case that expects a value (not an exception)."""
    return [(c, plan.expected[c.id]) for c in plan.cases if not plan.expected[c.id].error]


def _hint(case, inputs, value):
    return property_hint(case.exercise, case.function, inputs, value)


# --- (a) the reference never gets a hint --------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed-{s}" for s in SEEDS])
def test_reference_never_gets_a_hint(seed):
    plan = _plan(seed)
    graded = _graded(plan)
    assert len(graded) > 100
    wrong = []
    for case, expected in graded:
        for label, value in (("float64", expected.value), ("wire", _wire(expected.value)),
                             ("float32 output", _to32(expected.value))):
            hint = _hint(case, expected.inputs, value)
            if hint is not None:
                wrong.append(f"{case.id} [{label}]: {hint}")
    assert not wrong, "the reference got hints:\n" + "\n".join(wrong)


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed-{s}" for s in SEEDS])
def test_reference_on_float32_inputs_never_gets_a_hint(seed):
    plan = _plan(seed)
    wrong = []
    for case, expected in _graded(plan):
        inputs = _to32(copy.deepcopy(expected.inputs))
        value = _quiet(EXPECTATIONS.oracle.function(case.exercise, case.function), *copy.deepcopy(inputs).values())
        hint = _hint(case, inputs, _wire(value))
        if hint is not None:
            wrong.append(f"{case.id}: {hint}")
    assert not wrong, "the reference on float32 inputs got hints:\n" + "\n".join(wrong)


def test_every_graded_function_with_a_property_is_checked(plan):
    """Guard against a renamed function silently losing its hints: each of these gets a hint
    on an obviously broken output."""
    broken = {"softmax": lambda v: v * 2, "attention_weights": lambda v: v * 2,
              "causal_mask": lambda v: ~v, "cosine_similarity_matrix": lambda v: v * 3,
              "positional_encoding": lambda v: v[:, ::-1].copy(), "layer_norm": lambda v: v * 2,
              "next_token_probabilities": lambda v: v * 2, "one_hot": lambda v: v * 2,
              "gelu": lambda v: v + 1, "cosine_similarity": lambda v: v * 5 + 2,
              "similarity_attention": lambda v: (v[0], v[1] * 2),
              "scaled_dot_product_attention": lambda v: (v[0], v[1] * 2),
              "multi_head_attention": lambda v: (v[0], v[1] * 2),
              "skipgram_pairs": lambda v: v[1:], "generate": lambda v: v + [0]}
    seen = set()
    for case, expected in _graded(plan):
        if case.function in broken and case.function not in seen:
            hint = _hint(case, expected.inputs, broken[case.function](expected.value))
            assert hint, f"{case.id}: no hint on a broken output"
            seen.add(case.function)
    assert seen == set(broken)


# --- (b) the classic mistakes -------------------------------------------------------------

# mistake -> words its hint must contain (on at least one case of its function)
HINTED = {
    "dot-product-sums-everything": "sum over the last axis only",
    "cosine-not-normalised": "lie in [-1, 1]",
    "cosine-nan-on-zero-vector": "clamp each norm",
    "cosine-matrix-global-norm": "diagonal (each row with itself) should be 1",
    "softmax-no-max-shift": "subtract the max",
    "softmax-wrong-axis": "you normalised along axis",
    "softmax-whole-array": "whole array sums to 1",
    "skipgram-window-off-by-one": "not symmetric",
    "analogy-returns-input-word": "one of the question's words",
    "similarity-attention-no-softmax": "sum to",
    "attention-mask-inverted": "mask is inverted",
    "attention-softmax-over-queries": "not over the queries",
    "attention-ignores-mask": "mask is ignored",
    "causal-mask-no-diagonal": "the diagonal is False",
    "causal-mask-upper": "upper triangle",
    "pe-sin-cos-swapped": "sin and cos are swapped",
    "pe-concatenated": "interleave",
    "pe-positions-from-one": "positions start at 0",
    "layer-norm-unbiased-variance": "(d - 1) / d",
    "layer-norm-eps-outside-sqrt": "sqrt(var + eps)",
    "next-token-logits-not-probabilities": "look like logits",
    "generate-returns-prompt": "returned the prompt",
    "softmax-ignores-axis": "you normalised along axis",
    "softmax-no-keepdims": "keepdims=True",
    "softmax-global-max": "subtract the max",
    "skipgram-negative-wraps": "not symmetric",
    "similarity-attention-plain-sum": "softmax of the cosine similarities",
    "attention-mask-after-softmax": "applied after the softmax",
    "attention-mask-zero-scores": "mask is ignored",
    "pe-column-exponent": "sin and cos of one angle",
    "next-token-softmax-over-positions": "check which axis the softmax runs over",
    # generic readings of the output (the constant, the frequencies, the normalisation it shows)
    "attention-no-scaling": "softmax of the raw scores",
    "attention-scaled-by-first-axis": "divide them by √d_k",
    "mha-scaled-by-d-model": "divide them by √d_k",
    "scaled-dot-product-by-d": "not by √d",
    "scaled-dot-product-by-norm": "not by √d",
    "scaled-dot-product-by-rows": "not by √d",
    "pe-exponent-i-over-d": "2i / d_model",
    "pe-integer-division": "2i / d_model",
    "pe-base-ignored": "base",
    "gelu-misplaced-parenthesis": "a = 0.056",
    "gelu-sigmoid": "k = 0.851",
    "block-post-ln": "post-LN",
    # greedy generation replayed with the course's model (instructor side): the loop's slip when one
    # alone gives the ids, else the first id that is not the most probable (a tuple: any of them)
    "generate-feeds-last-token": ("the last id only", "the most probable next id"),
    "generate-no-feedback": ("the prompt alone", "the most probable next id"),
    "generate-first-position": ("the first position's logits", "the most probable next id"),
    "generate-argmax-all-positions": ("every position's logits at once", "the most probable next id"),
}
# mistakes whose outputs keep every property: the values are wrong, but no property says so
# (the mistake diagnosis names them); a hint there would be a false lead
UNHINTED = {
    "softmax-modifies-input", "one-hot-wraps-out-of-range",
    "embed-wraps-out-of-range", "similarity-attention-dot-product", "mha-split-heads-reshape", "mha-merge-heads-reshape",
    "mha-no-output-projection", "gelu-exact-erf", "feed-forward-relu",
    "block-no-causal-mask", "embedding-scaled-by-sqrt-d",
    "forward-no-final-layer-norm",
    # the mistakes students write (bench/student_mistakes), one step wrong
    "dot-product-matrix-product", "dot-product-first-axis", "cosine-global-norm", "cosine-eps-added",
    "skipgram-deduplicated",
    "analogy-dot-product", "analogy-euclidean", "analogy-reversed", "causal-mask-ignores-n-k",
    "mha-strided-heads", "feed-forward-no-b2", "feed-forward-gelu-twice",
    "block-no-residuals", "block-residual-from-normalised", "block-ln1-twice", "forward-skips-last-block",
    "forward-no-positional-encoding", "forward-positional-after-blocks", "next-token-first-position",
}


def _fails(case, expected, value) -> bool:
    outputs = ASSIGNMENT.exercise(case.exercise).functions[case.function].outputs
    if outputs:
        return not (isinstance(value, (tuple, list)) and len(value) == len(outputs) and all(
            compare_values(s, e, case.tolerance, n).status == "passed"
            for s, e, n in zip(value, expected.value, outputs)))
    return compare_values(value, expected.value, case.tolerance).status != "passed"


@pytest.fixture(scope="module")
def mistake_hints(plan):
    """mistake name -> [(case, hint or None, fails)] on every graded case of its function."""
    table = {}
    for m in MISTAKES:
        rows = []
        for case, expected in _graded(plan):
            if case.function != m.function or case.exercise != m.exercise:
                continue
            try:
                value = _quiet(m.implementation, *copy.deepcopy(expected.inputs).values())
            except Exception:
                continue
            value = _wire(value)
            rows.append((case, _hint(case, expected.inputs, value), _fails(case, expected, value)))
        table[m.name] = rows
    return table


def test_every_mistake_is_classified():
    names = {m.name for m in MISTAKES}
    assert not set(HINTED) & UNHINTED
    assert names == set(HINTED) | UNHINTED, (
        f"unclassified: {sorted(names - set(HINTED) - UNHINTED)}; gone: {sorted(set(HINTED) | UNHINTED - names)}")


def test_mistake_hint_table(mistake_hints, capsys):
    lines = [f"{'mistake':38s} {'hinted':>7s}  first hint", "-" * 120]
    for name, rows in mistake_hints.items():
        hinted = [(c, h) for c, h, _ in rows if h]
        first = f"{hinted[0][0].name}: {hinted[0][1]}" if hinted else "—"
        lines.append(f"{name:38s} {len(hinted):>3d}/{len(rows):<3d}  {first}")
    count = sum(any(h for _, h, _ in rows) for rows in mistake_hints.values())
    lines.append(f"{count} of {len(mistake_hints)} mistakes get a property hint")
    with capsys.disabled():
        print("\n\nProperty hints for the classic mistakes (assignment seed):\n" + "\n".join(lines))
    assert count >= 10


@pytest.mark.parametrize("name", sorted(HINTED))
def test_mistake_that_breaks_a_property_gets_its_hint(name, mistake_hints):
    rows = mistake_hints[name]
    hints = [h for _, h, _ in rows if h]
    words = HINTED[name] if isinstance(HINTED[name], tuple) else (HINTED[name],)
    assert hints, f"{name}: no hint on any of its {len(rows)} cases"
    assert any(words[0] in h for h in hints), f"{name}: hints {hints[:3]} lack {words[0]!r}"
    others = [h for h in hints if not any(w in h for w in words)]
    assert not others, f"{name}: some hints name another problem: {others[:3]}"


@pytest.mark.parametrize("name", sorted(UNHINTED))
def test_mistake_that_keeps_every_property_gets_no_hint(name, mistake_hints):
    hinted = [(c.id, h) for c, h, _ in mistake_hints[name] if h]
    assert not hinted, f"{name}: a false lead: {hinted[:3]}"


def test_a_hint_never_fires_on_an_output_that_passes(mistake_hints):
    passing = [(name, c.id, h) for name, rows in mistake_hints.items() for c, h, fails in rows if h and not fails]
    assert not passing, passing[:5]


# --- (c) each property, on hand-made outputs ----------------------------------------------

def hint(exercise, function, inputs, value):
    return property_hint(exercise, function, inputs, value)


def test_softmax_reports_the_actual_sum():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    y = np.exp(x) / np.exp(x).sum(-1, keepdims=True) * 1.7
    text = hint("softmax", "softmax", {"x": x}, y)
    assert "sum to 1.7, not 1" in text and "axis -1" in text


def test_softmax_names_the_axis_it_was_normalised_along():
    x = np.arange(12.0).reshape(3, 4)
    along0 = np.exp(x) / np.exp(x).sum(0, keepdims=True)
    assert "normalised along axis -2 instead of axis -1" in hint("softmax", "softmax", {"x": x, "axis": -1}, along0)
    along1 = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    assert "normalised along axis 1 instead of axis 0" in hint("softmax", "softmax", {"x": x, "axis": 0}, along1)
    assert hint("softmax", "softmax", {"x": x, "axis": 1}, along1) is None


def test_softmax_nan_for_finite_inputs_says_subtract_the_max():
    x = np.array([[1000.0, 0.0], [1.0, 2.0]])
    with np.errstate(all="ignore"):
        y = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    assert "subtract the max" in hint("softmax", "softmax", {"x": x}, y)
    # a slice with no finite entry may be NaN: that is not the student's fault
    x = np.array([[-np.inf, -np.inf], [1.0, 2.0]])
    y = np.array([[np.nan, np.nan], [0.2689414213699951, 0.7310585786300049]])
    assert hint("softmax", "softmax", {"x": x}, y) is None


def test_softmax_negative_values():
    x = np.array([1.0, -1.0])
    assert "down to -0.5" in hint("softmax", "softmax", {"x": x}, np.array([1.5, -0.5]))


def test_attention_weights_rows_sum_and_mask():
    Q, K = np.eye(3), np.eye(3)
    causal = np.tril(np.ones((3, 3), dtype=bool))
    good = np.array([[1, 0, 0], [0.4, 0.6, 0], [0.2, 0.3, 0.5]])
    assert hint("attention", "attention_weights", {"Q": Q, "K": K, "mask": causal}, good) is None
    text = hint("attention", "attention_weights", {"Q": Q, "K": K}, good * 1.7)
    assert "sum to 1.7, not 1" in text
    leaky = np.full((3, 3), 1 / 3)
    text = hint("attention", "attention_weights", {"Q": Q, "K": K, "mask": causal}, leaky)
    assert "above the diagonal are not zero" in text and "ignored" in text
    inverted = np.array([[0, 0.5, 0.5], [0, 0, 1], [np.nan, np.nan, np.nan]])
    text = hint("attention", "attention_weights", {"Q": Q, "K": K, "mask": causal}, inverted)
    assert "inverted" in text


def test_attention_weights_normalised_along_the_batch_axis():
    Q, K = np.ones((2, 3, 4)), np.ones((2, 5, 4))
    scores = np.arange(30.0).reshape(2, 3, 5) / 10
    along_batch = np.exp(scores) / np.exp(scores).sum(0, keepdims=True)
    text = hint("attention", "attention_weights", {"Q": Q, "K": K}, along_batch)
    assert "sum to 1 along axis -3, not along the last axis" in text


def test_scaled_dot_product_attention_shapes_and_output():
    Q, K, V = np.ones((2, 3)), np.ones((4, 3)), np.arange(20.0).reshape(4, 5)
    w = np.full((2, 4), 0.25)
    inputs = {"Q": Q, "K": K, "V": V}
    assert hint("attention", "scaled_dot_product_attention", inputs, (w @ V, w)) is None
    assert "d_v" in hint("attention", "scaled_dot_product_attention", inputs, (w @ K, w))
    assert "transposed" in hint("attention", "scaled_dot_product_attention", inputs, (w @ V, w.T))
    assert "not your weights @ V" in hint("attention", "scaled_dot_product_attention", inputs, (w @ V + 1, w))
    assert "wrong order" in hint("attention", "scaled_dot_product_attention",
                                 {"Q": Q, "K": K, "V": np.ones((4, 2))}, (w, np.ones((2, 2))))


def test_multi_head_attention_weights_keep_the_heads():
    X = np.ones((5, 4))
    W = np.eye(4)
    inputs = {"X": X, "W_q": W, "W_k": W, "W_v": W, "W_o": W, "n_heads": 2}
    w = np.full((2, 5, 5), 0.2)
    assert hint("attention", "multi_head_attention", inputs, (X, w)) is None
    assert "per head" in hint("attention", "multi_head_attention", inputs, (X, w[0]))
    text = hint("attention", "multi_head_attention", {**inputs, "mask": np.tril(np.ones((5, 5), bool))}, (X, w))
    assert "above the diagonal" in text


def _mha_inputs(n_heads=3, batch=(), mask=None, seed=0):
    rng = np.random.default_rng(seed)
    d = 2 * n_heads
    inputs = {"X": rng.standard_normal(batch + (4, d))}
    for name in ("W_q", "W_k", "W_v", "W_o"):
        inputs[name] = rng.standard_normal((d, d)) / np.sqrt(d)
    inputs["n_heads"] = n_heads
    if mask is not None:
        inputs["mask"] = mask
    return inputs


def _heads(inputs, order=None, weights_order=None):
    """multi_head_attention with the heads' outputs concatenated in `order`, and their weights
    stacked in `weights_order` (None: 0, 1, …)."""
    from reference.attention import merge_heads, scaled_dot_product_attention, split_heads

    h = inputs["n_heads"]
    Q, K, V = (split_heads(inputs["X"] @ inputs[w], h) for w in ("W_q", "W_k", "W_v"))
    mask = inputs.get("mask")
    heads, w = scaled_dot_product_attention(Q, K, V, None if mask is None else mask[..., None, :, :])
    heads = heads[..., list(order or range(h)), :, :]
    w = w[..., list(weights_order or range(h)), :, :]
    return merge_heads(heads) @ inputs["W_o"], w


@pytest.mark.parametrize("batch, mask", [((), None), ((2,), None), ((), np.tril(np.ones((4, 4), bool)))])
def test_multi_head_attention_heads_in_another_order(batch, mask):
    """Any permutation of the heads, in the concatenation or in the stacked weights, read from the
    student's own weights and the inputs alone (both sides)."""
    inputs = _mha_inputs(3, batch, mask)
    assert hint("attention", "multi_head_attention", inputs, _heads(inputs)) is None
    assert "you concatenated the heads in the order 2, 1, 0" in hint(
        "attention", "multi_head_attention", inputs, _heads(inputs, order=[2, 1, 0]))
    assert "in the order 1, 2, 0" in hint("attention", "multi_head_attention", inputs, _heads(inputs, order=[1, 2, 0]))
    text = hint("attention", "multi_head_attention", inputs, _heads(inputs, weights_order=[0, 2, 1]))
    assert "the weights of your heads are stacked in the order 0, 2, 1" in text
    with i18n.speaking("fr"):
        assert "vous concaténez les têtes dans l'ordre 2, 1, 0" in hint(
            "attention", "multi_head_attention", inputs, _heads(inputs, order=[2, 1, 0]))


def _tiny(seed=3, n=3, n_new=5):
    from course.generators import model_params

    rng = np.random.default_rng(seed)
    return {"token_ids": rng.integers(0, 8, size=n), "params": model_params(rng, 8, 4, 2, 2), "n_new": n_new}


def _generate(inputs, window=lambda seq: seq, pick=lambda logits: int(np.argmax(logits[-1]))):
    from reference.transformer import transformer_forward

    seq = list(inputs["token_ids"])
    for _ in range(inputs["n_new"]):
        seq.append(pick(transformer_forward(window(seq), inputs["params"])))
    return seq[len(inputs["token_ids"]):]


def test_generate_replays_greedy_decoding_with_the_course_model():
    """Instructor side: each id must be the model's most probable next id after the prompt and
    the ids before it; the first that is not is named, with both probabilities."""
    from reference.transformer import next_token_probabilities

    inputs = _tiny()
    good = _generate(inputs)
    assert hint("transformer", "generate", inputs, good) is None
    p = next_token_probabilities(inputs["token_ids"], inputs["params"])
    second = int(np.argsort(p)[-2])                      # the second most probable first id
    sampled = [second] + _generate({**inputs, "token_ids": list(inputs["token_ids"]) + [second],
                                    "n_new": inputs["n_new"] - 1})
    text = hint("transformer", "generate", inputs, sampled)
    assert f"At step 1 you appended id {second}" in text and f"most probable next id after the prompt and the " \
        f"ids before it is {good[0]}" in text and "np.argmax" in text


def test_generate_names_the_loops_slip_when_it_alone_gives_the_ids():
    inputs = _tiny(seed=27, n_new=6)
    prompt_only = _generate(inputs, window=lambda seq: seq[:len(inputs["token_ids"])])
    assert prompt_only != _generate(inputs)
    assert "on the prompt alone at every step" in hint("transformer", "generate", inputs, prompt_only)
    last_two = _generate(inputs, window=lambda seq: seq[-2:])
    assert "on the last 2 ids only" in hint("transformer", "generate", inputs, last_two)


def test_generate_says_nothing_of_the_model_in_a_students_repository():
    """No reference there: the checks that need it get None and say nothing."""
    inputs = _tiny()
    checks = engine.load_properties(ASSIGNMENT)
    sampled = [(i + 1) % 8 for i in _generate(inputs)]
    assert checks.hint("transformer", "generate", inputs, sampled, reference=None) is None
    assert checks.hint("transformer", "generate", inputs, sampled, reference=engine.reference_lookup(ASSIGNMENT))


@pytest.mark.parametrize("pattern, words", [
    (lambda n, m: np.tril(np.ones((n, m), bool), -1), "diagonal is False"),
    (lambda n, m: np.triu(np.ones((n, m), bool)), "upper triangle"),
    (lambda n, m: np.triu(np.ones((n, m), bool), 1), "inverted"),
    (lambda n, m: np.ones((n, m), bool), "hides nothing"),
    (lambda n, m: np.tril(np.ones((n, m), bool), max(1, m - n)), "top-left aligned"),  # bottom-right aligned
])
def test_causal_mask_says_which_pattern(pattern, words):
    for n, m in ((4, 4), (3, 6)):
        assert words in hint("attention", "causal_mask", {"n_q": n, "n_k": m}, pattern(n, m))
    assert hint("attention", "causal_mask", {"n_q": 3}, np.tril(np.ones((3, 3), bool))) is None
    assert hint("attention", "causal_mask", {"n_q": 3}, np.tril(np.ones((3, 3), int))) is None  # dtype: compare's job


def test_cosine_similarity_range_and_zero_vector():
    a, b = np.array([[1.0, 4.0], [0.0, 0.0]]), np.array([[0.0, 3.0], [3.0, 0.0]])
    assert "[-1, 1], yours reach 12" in hint("similarity", "cosine_similarity", {"a": a, "b": b}, np.array([12.0, 0]))
    assert "clamp" in hint("similarity", "cosine_similarity", {"a": a, "b": b}, np.array([0.97, np.nan]))
    assert "one number for a batch of 2 pairs" in hint("similarity", "dot_product", {"a": a, "b": b}, np.float64(12))


def test_cosine_similarity_matrix_symmetry_and_diagonal():
    A = np.array([[0.0, 3, 0], [4, 0, 0], [2, 2, 0]])
    S = (A / np.linalg.norm(A, axis=1, keepdims=True)) @ (A / np.linalg.norm(A, axis=1, keepdims=True)).T
    assert hint("similarity", "cosine_similarity_matrix", {"A": A}, S) is None
    one_side = (A / np.linalg.norm(A, axis=1, keepdims=True)) @ A.T / 4
    assert "not symmetric" in hint("similarity", "cosine_similarity_matrix", {"A": A}, one_side)
    assert "diagonal" in hint("similarity", "cosine_similarity_matrix", {"A": A}, S * 0.5)


def test_positional_encoding_row_zero():
    n, d = 3, 6
    p, two_i = np.arange(n)[:, None], np.arange(0, d, 2)
    angles = p / 10000 ** (two_i / d)
    good = np.empty((n, d))
    good[:, 0::2], good[:, 1::2] = np.sin(angles), np.cos(angles)
    inputs = {"n_positions": n, "d_model": d}
    assert hint("positional", "positional_encoding", inputs, good) is None
    assert "swapped" in hint("positional", "positional_encoding", inputs, good[:, [1, 0, 3, 2, 5, 4]])
    assert "[-1, 1]" in hint("positional", "positional_encoding", inputs, good * 2)
    assert "should be [0, 1, 0, 1" in hint("positional", "positional_encoding", inputs, good + 0.3 * (good == 0))


def test_layer_norm_mean_and_variance_with_unit_gamma():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6)) * 3 + 1
    gamma, beta = np.ones(6), np.zeros(6)
    inputs = {"x": x, "gamma": gamma, "beta": beta}
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    good = (x - mean) / np.sqrt(var + 1e-5)
    assert hint("transformer", "layer_norm", inputs, good) is None
    assert "each row should have mean 0" in hint("transformer", "layer_norm", inputs, x / np.sqrt(var + 1e-5))
    assert "variance 1, yours 4" in hint("transformer", "layer_norm", inputs, 2 * good)
    assert "(d - 1) / d" in hint("transformer", "layer_norm", inputs,
                                 (x - mean) / np.sqrt(x.var(-1, ddof=1, keepdims=True) + 1e-5))
    columns = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    assert "not axis -2" in hint("transformer", "layer_norm", inputs, columns)


def test_next_token_probabilities():
    params = {"token_embedding": np.ones((4, 2))}
    logits = np.array([2.0, -1.0, 0.5, 0.0])
    assert "look like logits" in hint("transformer", "next_token_probabilities", {"params": params}, logits)
    assert "sum to 2, not 1" in hint("transformer", "next_token_probabilities", {"params": params},
                                     np.array([0.5, 0.5, 0.5, 0.5]))
    assert hint("transformer", "next_token_probabilities", {"params": params}, np.full(4, 0.25)) is None
    assert "every position" in hint("transformer", "next_token_probabilities", {"params": params}, np.full((3, 4), 0.25))


def test_one_hot_rows():
    ids = np.array([2, 0])
    good = np.array([[0.0, 0, 1, 0], [1, 0, 0, 0]])
    assert hint("embeddings", "one_hot", {"ids": ids, "vocab_size": 4}, good) is None
    assert "exactly one 1, row 0 holds 2" in hint("embeddings", "one_hot", {"ids": ids, "vocab_size": 4},
                                                  good + np.array([[1.0, 0, 0, 0], [0, 0, 0, 0]]))
    shifted = np.array([[0.0, 0, 0, 1], [0, 1, 0, 0]])
    assert "+1 column off" in hint("embeddings", "one_hot", {"ids": ids, "vocab_size": 4}, shifted)


def test_gelu_properties():
    x = np.array([-5.0, -1.0, 0.0, 1.0, 5.0])
    good = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    assert hint("transformer", "gelu", {"x": x}, good) is None
    assert "gelu(0) should be 0" in hint("transformer", "gelu", {"x": x}, good + 0.5)
    assert "≈ x for large x" in hint("transformer", "gelu", {"x": x}, good * 0.5)
    assert "ReLU" in hint("transformer", "gelu", {"x": x}, np.maximum(x, 0))


# --- (d) hostile and odd values -----------------------------------------------------------

class Evil:
    """Raises from everything a careless check might call."""
    def __getattr__(self, name):
        raise RuntimeError(f"Evil.{name}")

    def __array__(self, *args, **kwargs):
        raise RuntimeError("Evil.__array__")

    def __len__(self):
        raise RuntimeError("Evil.__len__")

    def __iter__(self):
        raise RuntimeError("Evil.__iter__")

    def __eq__(self, other):
        raise RuntimeError("Evil.__eq__")

    def __hash__(self):
        raise RuntimeError("Evil.__hash__")

    def __float__(self):
        raise RuntimeError("Evil.__float__")

    def __index__(self):
        raise RuntimeError("Evil.__index__")


class EvilArray(np.ndarray):
    def __array_finalize__(self, obj):
        if obj is not None and getattr(obj, "_armed", False):
            raise RuntimeError("EvilArray")


def _evil_array():
    a = np.ones((3, 3)).view(EvilArray)
    a._armed = True
    return a


def _recursive_list():
    x = []
    x.append(x)
    return x


HOSTILE = {
    "None": lambda: None,
    "string": lambda: "0.5 0.5",
    "bytes": lambda: b"\x93NUMPY",
    "generator": lambda: (i for i in range(3)),
    "object-array": lambda: np.array([1, "a", None], dtype=object),
    "object-matrix": lambda: np.array([[0.5, 0.5], [0.5, 0.5]], dtype=object),
    "huge-view": lambda: np.broadcast_to(np.float64(0.5), (1 << 20, 1 << 20)),
    "huge-bool-view": lambda: np.broadcast_to(np.True_, (1 << 16, 1 << 16)),
    "complex": lambda: np.full((3, 3), 0.5 + 1j),
    "structured": lambda: np.zeros(3, dtype=[("a", "f8"), ("b", "f8")]),
    "datetime": lambda: np.array(["2024-01-01"], dtype="datetime64[D]"),
    "unicode-array": lambda: np.array(["a", "b"]),
    "np.matrix": lambda: np.asarray([[1.0, 0.0], [0.0, 1.0]]).view(np.matrix),
    "masked-array": lambda: np.ma.array([[0.5, 0.5]], mask=[[True, False]]),
    "subclass": _evil_array,
    "evil": Evil,
    "tuple-of-evil": lambda: (Evil(), Evil()),
    "tuple-of-object-arrays": lambda: (np.array([None], dtype=object), np.array([None], dtype=object)),
    "tuple-of-huge": lambda: (np.broadcast_to(0.0, (1 << 20, 1 << 20)), np.broadcast_to(0.0, (1 << 20, 1 << 20))),
    "list-of-evil": lambda: [Evil()] * 3,
    "recursive-list": _recursive_list,
    "dict": lambda: {"output": np.ones(3)},
    "set": lambda: {1, 2},
    "bool": lambda: True,
    "type": lambda: np.ndarray,
    "function": lambda: (lambda: 1),
    "long-list": lambda: list(range(300_000)),
    "pairs-of-evil": lambda: [(Evil(), "x")] * 3,
}
FUNCTIONS = sorted({(c.exercise, c.function) for c in ASSIGNMENT.cases()})


def _first_inputs(plan):
    found = {}
    for case, expected in _graded(plan):
        found.setdefault((case.exercise, case.function), expected.inputs)
    return found


@pytest.fixture(scope="module")
def first_inputs(plan):
    return _first_inputs(plan)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_values_give_none(kind, first_inputs):
    for exercise, function in FUNCTIONS:
        value = HOSTILE[kind]()
        if kind == "string" and function == "analogy":  # a word is what analogy returns
            assert "is not one of `words`" in property_hint(exercise, function, first_inputs[(exercise, function)],
                                                            value)
            continue
        started = time.monotonic()
        assert property_hint(exercise, function, first_inputs[(exercise, function)], value) is None, \
            f"{exercise}.{function} on {kind}"
        assert time.monotonic() - started < 1.0, f"{exercise}.{function} on {kind} took too long"


ODD = {
    "nan-array": lambda shape: np.full(shape, np.nan),
    "inf-array": lambda shape: np.full(shape, np.inf),
    "empty": lambda shape: np.zeros((0,) + tuple(shape[1:])),
    "zero-d": lambda shape: np.float64(0.5),
    "python-float": lambda shape: float("nan"),
    "wrong-ndim": lambda shape: np.ones(tuple(shape) + (2,)),
    "int8": lambda shape: np.ones(shape, dtype=np.int8),
    "float16": lambda shape: np.full(shape, 0.5, dtype=np.float16),
    "huge-values": lambda shape: np.full(shape, 1e308),
    "bool": lambda shape: np.ones(shape, dtype=bool),
    "tuple-of-nan": lambda shape: (np.full(shape, np.nan), np.full(shape, np.nan)),
    "tuple-of-three": lambda shape: (np.ones(shape),) * 3,
}


@pytest.mark.parametrize("kind", sorted(ODD))
def test_odd_values_never_raise(kind, plan):
    for case, expected in _graded(plan):
        value = expected.value[0] if isinstance(expected.value, tuple) else expected.value
        shape = np.shape(value) if isinstance(value, np.ndarray) else (3,)
        result = property_hint(case.exercise, case.function, expected.inputs, ODD[kind](shape))
        assert result is None or (type(result) is str and result), f"{case.id} on {kind}: {result!r}"


@pytest.mark.parametrize("inputs", [None, {}, {"x": Evil(), "axis": Evil(), "mask": Evil()}, [1, 2], "inputs",
                                    {"x": np.ones(3), "axis": 7}, {"n_q": -3, "n_k": 2}, {"n_heads": 0}],
                         ids=["none", "empty", "evil", "list", "str", "bad-axis", "negative-size", "zero-heads"])
def test_odd_inputs_never_raise(inputs, plan):
    for case, expected in _graded(plan):
        result = property_hint(case.exercise, case.function, inputs, expected.value)
        assert result is None or type(result) is str


@pytest.mark.parametrize("exercise, function", [("softmax", "nope"), ("nope", "softmax"), (None, None),
                                                (["softmax"], "softmax"), (Evil(), Evil())],
                         ids=["unknown-function", "unknown-exercise", "none", "list", "evil"])
def test_unknown_functions_give_none(exercise, function):
    assert property_hint(exercise, function, {"x": np.ones(2)}, np.ones(2)) is None


def test_wire_forms_of_tuple_results_are_read(plan):
    """The worker turns a returned list into a list and NumPy scalars into 0-d arrays: the
    hints read both forms."""
    params = {"token_embedding": np.ones((12, 2))}
    ids = [np.int64(3), 4, np.array(5)]
    assert "returned the prompt" in hint("transformer", "generate",
                                         {"token_ids": np.array([3]), "params": params, "n_new": 2}, ids)
    Q = K = V = np.eye(2)
    w = np.array([[2.0, 0.0], [0.0, 2.0]])
    assert "sum to 2, not 1" in hint("attention", "scaled_dot_product_attention", {"Q": Q, "K": K, "V": V}, [w, w])
    assert math.isclose(len(_graded(plan)), len([c for c in plan.cases if not plan.expected[c.id].error]))


# --- (e) the current language ---------------------------------------------------------------

@pytest.fixture
def in_language():
    """set_language(lang) for the test's duration, then the language the suite was in."""
    previous = i18n.language()
    yield i18n.set_language
    i18n.set_language(previous)


def _softmax_rows_sum_to_1_7():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    return ("softmax", "softmax", {"x": x}, np.exp(x) / np.exp(x).sum(-1, keepdims=True) * 1.7)


def _causal_mask_ignored():
    inputs = {"Q": np.eye(3), "K": np.eye(3), "mask": np.tril(np.ones((3, 3), dtype=bool))}
    return ("attention", "attention_weights", inputs, np.full((3, 3), 1 / 3))


def _pe_outside_minus_one_one():
    n, d = 3, 6
    angles = np.arange(n)[:, None] / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.empty((n, d))
    pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
    return ("positional", "positional_encoding", {"n_positions": n, "d_model": d}, 2 * pe)


def _one_nan_cosine():
    a, b = np.array([[1.0, 4.0], [2.0, 0.0]]), np.array([[0.0, 3.0], [3.0, 0.0]])
    return ("similarity", "cosine_similarity", {"a": a, "b": b}, np.array([0.97, np.nan]))


def _every_one_shifted_left():
    ids = np.array([2, 1])
    return ("embeddings", "one_hot", {"ids": ids, "vocab_size": 3}, np.array([[0.0, 1, 0], [1, 0, 0]]))


IN_BOTH_LANGUAGES = {
    "softmax-rows-sum-to-1.7": (
        _softmax_rows_sum_to_1_7,
        "the rows (axis -1) sum to 1.7, not 1: divide e^x by its sum along the axis",
        "la somme de chaque ligne (axe -1) vaut 1.7, pas 1 : divisez e^x par sa somme le long de l'axe"),
    "weights-above-the-diagonal": (
        _causal_mask_ignored,
        "the weights above the diagonal are not zero (up to 0.333): the causal mask is ignored; a pair where "
        "the mask is False must get weight exactly 0 (its score set to -inf before the softmax)",
        "les poids au-dessus de la diagonale ne sont pas nuls (jusqu'à 0.333) : le masque causal est ignoré ; "
        "une paire où le masque vaut False doit recevoir un poids exactement nul (son score mis à -inf avant le "
        "softmax)"),
    "pe-outside-minus-one-one": (
        _pe_outside_minus_one_one,
        "sines and cosines lie in [-1, 1], yours reach 2: PE[p, 2i] = sin(angle) and PE[p, 2i+1] = cos(angle), "
        "with angle = p / base**(2i / d_model)",
        "les sinus et les cosinus sont compris dans [-1, 1], les vôtres atteignent 2 : PE[p, 2i] = sin(angle) et "
        "PE[p, 2i+1] = cos(angle), avec angle = p / base**(2i / d_model)"),
    "one-nan-cosine": (  # a count: French singular
        _one_nan_cosine,
        "the result holds 1 NaN/inf value for finite inputs: a cosine is always finite",
        "le résultat contient 1 valeur NaN/inf pour des entrées finies : un cosinus est toujours fini"),
    "one-hot-shifted": (  # a signed count: French singular for -1
        _every_one_shifted_left,
        "row 0's 1 is in column 1, not at its id 2 (every 1 is -1 column off): out[k, ids[k]] = 1",
        "le 1 de la ligne 0 est dans la colonne 1, pas à son id 2 (chaque 1 est décalé de -1 colonne) : "
        "out[k, ids[k]] = 1"),
}


@pytest.mark.parametrize("name", sorted(IN_BOTH_LANGUAGES))
def test_the_hint_is_in_the_current_language(name, in_language):
    make, english, french = IN_BOTH_LANGUAGES[name]
    in_language("fr")
    assert property_hint(*make()) == french
    in_language("en")
    assert property_hint(*make()) == english


def _keys_used(path, function):
    """The keys of every `function(...)` call in `path`; each must be a string literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    used, computed = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function:
            key = node.args[0] if node.args else None
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                used.add(key.value)
            else:
                computed.append(node.lineno)
    assert not computed, f"t() with a key that is not a string literal, lines {computed}"
    return used


def _fields(message):
    forms = message.values() if isinstance(message, dict) else [message]
    return [{field for _, field, _, _ in string.Formatter().parse(str(form)) if field} for form in forms]


def _same_keys_and_fields(english, french, used, who):
    assert set(english) == set(french), sorted(set(english) ^ set(french))
    assert used <= set(english), f"missing from the catalogs: {sorted(used - set(english))}"
    assert set(english) <= used, f"never used by {who}: {sorted(set(english) - used)}"
    for key in english:   # same fields in every form of both languages, and plural forms alike
        assert isinstance(english[key], dict) == isinstance(french[key], dict), key
        if isinstance(english[key], dict):
            assert set(english[key]) == set(french[key]) == {"one", "other"}, key
        forms = _fields(english[key]) + _fields(french[key])
        assert all(f == forms[0] for f in forms), (key, forms)


def test_every_key_the_course_says_is_used_and_exists_in_both_of_its_catalogs():
    checks = engine.load_properties(ASSIGNMENT)
    assert set(checks.catalogs) == set(i18n.LANGUAGES)
    _same_keys_and_fields(checks.messages("en"), checks.messages("fr"), _keys_used(COURSE_PROPERTIES, "say"),
                          "course/properties.py")


def test_every_engine_hints_key_is_used_and_exists_in_both_catalogs():
    english = {k: v for k, v in i18n.catalog("en").items() if k.startswith("hints.")}
    french = {k: v for k, v in i18n.catalog("fr").items() if k.startswith("hints.")}
    _same_keys_and_fields(english, french, _keys_used(ROOT / "grader" / "grading" / "properties.py", "t"),
                          "grader/grading/properties.py")


# --- (f) the engine's part: loading, declaring, what a check may see --------------------------

def _course_module(tmp_path, name, source):
    """A course folder holding one module `name` (a fresh name: modules are imported once)."""
    (tmp_path / f"{name}.py").write_text(source)
    return replace(ASSIGNMENT, path=tmp_path / "assignment.yaml", properties=name)


def test_no_properties_named_or_none_in_a_students_repository_means_no_hint():
    value = np.exp(np.ones(3)) / 2   # a softmax summing to 4: this course's check has a hint for it
    assert property_hint("softmax", "softmax", {"x": np.ones(3)}, value)
    students = replace(ASSIGNMENT, reference=None)    # no reference here: a students' repository
    for other in (replace(ASSIGNMENT, properties=None), replace(students, properties="course.no_such_module"),
                  replace(students, properties="no_such_package.properties")):
        assert engine.load_properties(other) is None, other.properties
        assert engine.property_hint(other, "softmax", "softmax", {"x": np.ones(3)}, value) is None
    assert engine.property_hint(None, "softmax", "softmax", {"x": np.ones(3)}, value) is None


@pytest.mark.parametrize("name", ["course.no_such_module", "no_such_package.properties"])
def test_a_property_module_missing_beside_the_reference_is_the_courses_error(name):
    """A typo in `properties:` is said where the instructor grades, not silently hint-less."""
    with pytest.raises(AssignmentError, match=name.split(".")[-1]):
        engine.property_hint(replace(ASSIGNMENT, properties=name), "softmax", "softmax", {}, np.ones(3))


@pytest.mark.parametrize("source, words", [
    ("raise RuntimeError('boom')\n", "boom"),
    ("import no_such_dependency_of_the_course\n", "no_such_dependency_of_the_course"),
    ("CHECKS = {}\n", "PROPERTIES"),
], ids=["raises", "missing-dependency", "no-PROPERTIES"])
def test_a_broken_property_module_is_the_courses_error(tmp_path, source, words):
    broken = _course_module(tmp_path, f"broken_properties_{abs(hash(source)) % 10**8}", source)
    with pytest.raises(AssignmentError, match=words):
        engine.property_hint(broken, "softmax", "softmax", {}, np.ones(3))
    with pytest.raises(AssignmentError, match=words):  # remembered: not imported again for every case
        engine.load_properties(broken)


def test_a_check_is_declared_once():
    checks = engine.PropertyChecks({})
    checks.check("ex", "f")(lambda inputs, value: None)
    with pytest.raises(ValueError, match="declared twice"):
        checks.check("ex", "f")(lambda inputs, value: None)


def test_only_plain_values_of_bounded_size_reach_a_check():
    seen = []
    checks = engine.PropertyChecks({})

    @checks.check("ex", "f")
    def record(inputs, value):
        seen.append(value)
        return "broken"

    plain = [np.ones(3), np.float32(1), 3, 2.5, "word", None, (np.ones(2), [1, 2]), {"a": np.zeros(2)},
             [[1, 2]] * 1000, np.ones(engine.MAX_ELEMENTS)]
    for value in plain:
        assert checks.hint("ex", "f", {}, value) == "broken"
    assert len(seen) == len(plain)
    seen.clear()
    for kind in ("object-array", "huge-view", "subclass", "evil", "tuple-of-evil", "long-list", "recursive-list",
                 "generator", "set", "type", "function", "np.matrix", "masked-array", "tuple-of-huge"):
        assert checks.hint("ex", "f", {}, HOSTILE[kind]()) is None, kind
    assert not seen, "a check saw a value it should not"


def test_a_check_that_raises_or_returns_nonsense_gives_no_hint():
    checks = engine.PropertyChecks({})
    checks.check("ex", "raises")(lambda inputs, value: 1 / 0)
    checks.check("ex", "number")(lambda inputs, value: 42)
    checks.check("ex", "empty")(lambda inputs, value: "")
    checks.check("ex", "warns")(lambda inputs, value: str(np.float64(1) / 0))
    for function in ("raises", "number", "empty", "nothing"):
        assert checks.hint("ex", function, {}, np.ones(2)) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert checks.hint("ex", "warns", {}, np.ones(2)) == "inf"   # warnings silenced, not raised


def test_say_renders_the_courses_catalog_in_the_current_language(tmp_path, in_language):
    (tmp_path / "en.yaml").write_text('a:\n  n:\n    one: "{count} thing"\n    other: "{count} things"\n'
                                      'only_en: "in English"\n')
    (tmp_path / "fr.yaml").write_text('a:\n  n:\n    one: "{count} chose"\n    other: "{count} choses"\n')
    checks = engine.PropertyChecks({"en": tmp_path / "en.yaml", "fr": tmp_path / "fr.yaml"})
    in_language("fr")
    assert [checks.say("a.n", count=n) for n in (0, 1, 2)] == ["0 chose", "1 chose", "2 choses"]
    assert checks.say("only_en") == "in English"     # missing in French: English, as the engine's messages
    assert checks.say("unknown.key") == "unknown.key"
    in_language("en")
    assert [checks.say("a.n", count=n) for n in (0, 1, 2)] == ["0 things", "1 thing", "2 things"]
    assert checks.say("a.n", other=1) in ("{count} things",)  # a field missing: the message as it is


def test_every_check_is_of_a_function_of_the_assignment():
    checks = engine.load_properties(ASSIGNMENT)
    declared = {(e.name, f) for e in ASSIGNMENT.exercises for f in e.functions}
    assert checks.functions() <= declared, sorted(checks.functions() - declared)
    assert len(checks.functions()) == 20


def test_property_files_are_the_module_its_package_and_its_catalogs():
    files = [p.relative_to(ROOT).as_posix() for p in engine.property_files(ASSIGNMENT)]
    assert files == ["course/properties.py", "course/__init__.py", "course/properties.en.yaml",
                     "course/properties.fr.yaml"]
    assert engine.property_files(replace(ASSIGNMENT, properties=None)) == []
