"""The reference (`reference/`) keeps the contract's invariants, and the case generators
(`course/generators.py`) give it inputs that are replayable and never degenerate.

Random inputs come from `numpy.random.default_rng` with fixed seeds; the assignment's own
cases are built with `grader.grading.cases.CaseBuilder`.
"""
import copy
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from conftest import arrays_in  # noqa: E402
from grader.model.assignment import load_assignment  # noqa: E402
from grader.grading.cases import CaseBuilder  # noqa: E402
from grader.grading.compare import compare_values  # noqa: E402
from grader.grading.expected import ReferenceOracle  # noqa: E402
from reference.attention import (  # noqa: E402
    attention_weights,
    causal_mask,
    multi_head_attention,
    scaled_dot_product_attention,
)
from reference.embeddings import embed, one_hot  # noqa: E402
from reference.positional import positional_encoding  # noqa: E402
from reference.similarity import cosine_similarity, cosine_similarity_matrix  # noqa: E402
from reference.softmax import softmax  # noqa: E402

ASSIGNMENT = load_assignment(ROOT / "assignment.yaml")
BUILDER = CaseBuilder(ASSIGNMENT)
ORACLE = ReferenceOracle(ASSIGNMENT)
CASES = list(ASSIGNMENT.cases())
CASE_IDS = [c.id for c in CASES]
SEEDS = range(20)

# Lecture builders ignore their rng (the lecture's inputs are fixed): not random cases.
RANDOM_CASES = [c for c in CASES if c.generator and c.lecture is None]
FLOAT32_CASES = [c for c in CASES if c.params.get("dtype") == "float32"]
RETURNING_CASES = [c for c in CASES if not c.expect_error]
ATTENTION_FUNCTIONS = ("similarity_attention", "attention_weights", "scaled_dot_product_attention",
                       "multi_head_attention")


def ids(cases):
    return [c.id for c in cases]


def reference(case):
    return ORACLE.function(case.exercise, case.function)


def outputs_of(case, value):
    """The value's components: a tuple for functions with named outputs, else (value,)."""
    names = ASSIGNMENT.exercise(case.exercise).functions[case.function].outputs
    return tuple(value) if names else (value,)


def same(a, b):
    """Exact equality of input structures: arrays by dtype, shape and value (NaN = NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


def as_float64(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    if isinstance(value, dict):
        return {k: as_float64(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_float64(v) for v in value]
    return value


class strict:
    """Any NumPy floating-point problem or Python warning raises inside the block."""

    def __enter__(self):
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("error")
        self._errstate = np.errstate(over="raise", invalid="raise", divide="raise")
        self._errstate.__enter__()

    def __exit__(self, *exc):
        self._errstate.__exit__(*exc)
        self._warnings.__exit__(*exc)


# --- softmax --------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_slices_sum_to_one(seed, axis):
    x = 3 * np.random.default_rng(seed).standard_normal((4, 5, 6))
    np.testing.assert_allclose(softmax(x, axis=axis).sum(axis=axis), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_softmax_is_positive(seed):
    x = 3 * np.random.default_rng(seed).standard_normal((4, 7))
    assert np.all(softmax(x) > 0)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shift", [-1000.0, -3.5, 7.0, 1e4])
def test_softmax_is_invariant_to_adding_a_constant_along_the_axis(seed, shift):
    rng = np.random.default_rng(seed)
    x = 3 * rng.standard_normal((4, 6))
    constant = shift * (1 + rng.random((4, 1)))  # one constant per row
    np.testing.assert_allclose(softmax(x + constant), softmax(x), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("magnitude", [1e300, -1e300, 1e3, 710.0])
def test_softmax_of_huge_values_is_finite_without_warning(magnitude):
    x = magnitude * np.random.default_rng(0).uniform(-1, 1, (4, 6))
    x[:, 0] = magnitude
    with strict():
        weights = softmax(x)
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


def test_softmax_of_plus_and_minus_1e300_gives_all_weight_to_the_maximum():
    with strict():
        weights = softmax(np.array([1e300, -1e300, 0.0]))
    np.testing.assert_array_equal(weights, [1.0, 0.0, 0.0])


@pytest.mark.parametrize("seed", range(5))
def test_softmax_gives_minus_inf_weight_exactly_zero(seed):
    x = np.random.default_rng(seed).standard_normal((3, 6))
    x[:, 1::2] = -np.inf
    with strict():
        weights = softmax(x)
    assert np.all(weights[:, 1::2] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(weights[:, 0::2], softmax(x[:, 0::2]), rtol=1e-12, atol=0)


# --- similarity -----------------------------------------------------------------------------

@pytest.mark.parametrize("d", [2, 5])
def test_cosine_of_a_zero_vector_is_zero_without_warning(d):
    b = np.random.default_rng(d).standard_normal(d)
    with strict():
        value = cosine_similarity(np.zeros(d), b)
        both_zero = cosine_similarity(np.zeros(d), np.zeros(d))
    assert value == 0.0 and both_zero == 0.0


def test_cosine_matrix_of_a_zero_row_is_zero_without_warning():
    A = np.random.default_rng(1).standard_normal((4, 3))
    A[2] = 0.0
    with strict():
        C = cosine_similarity_matrix(A)
    assert np.all(C[2] == 0.0) and np.all(C[:, 2] == 0.0)


@pytest.mark.parametrize("seed", range(3))
def test_cosine_matrix_matches_pairwise_cosine(seed):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    np.testing.assert_allclose(cosine_similarity_matrix(A, B), cosine_similarity(A[:, None], B[None]),
                               rtol=1e-12, atol=1e-15)


# --- embeddings -----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_embed_equals_one_hot_times_the_table(seed):
    rng = np.random.default_rng(seed)
    E = rng.standard_normal((9, 4))
    token_ids = rng.integers(0, 9, size=7)
    np.testing.assert_allclose(embed(token_ids, E), one_hot(token_ids, len(E)) @ E, rtol=0, atol=1e-15)


def test_one_hot_is_float64_zeros_and_ones():
    out = one_hot(np.array([4, 0, 2]), 7)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.eye(7)[[4, 0, 2]])


@pytest.mark.parametrize("bad", [-1, 7, 100], ids=["minus-one", "vocab-size", "far-above"])
def test_one_hot_raises_value_error_out_of_range(bad):
    with pytest.raises(ValueError):
        one_hot(np.array([0, bad, 2]), 7)


@pytest.mark.parametrize("bad", [-1, 7, 100], ids=["minus-one", "vocab-size", "far-above"])
def test_embed_raises_value_error_out_of_range(bad):
    with pytest.raises(ValueError):
        embed(np.array([0, bad, 2]), np.ones((7, 3)))


# --- attention ------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_q,n_k", [(5, 5), (3, 6)])
def test_causal_weights_are_exactly_zero_above_the_diagonal(seed, n_q, n_k):
    rng = np.random.default_rng(seed)
    Q, K = rng.standard_normal((2, n_q, 4)), rng.standard_normal((2, n_k, 4))
    weights = attention_weights(Q, K, causal_mask(n_q, n_k))
    above = ~np.tril(np.ones((n_q, n_k), dtype=bool))
    assert np.all(weights[..., above] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


def test_causal_mask_is_lower_triangular_with_the_diagonal():
    np.testing.assert_array_equal(causal_mask(2, 3), [[True, False, False], [True, True, False]])
    np.testing.assert_array_equal(causal_mask(3), np.tril(np.ones((3, 3), dtype=bool)))


@pytest.mark.parametrize("seed", range(3))
def test_masked_pairs_get_weight_exactly_zero(seed):
    rng = np.random.default_rng(seed)
    Q, K = rng.standard_normal((4, 3)), rng.standard_normal((6, 3))
    mask = rng.random((4, 6)) < 0.5
    mask[:, 0] = True
    assert np.all(attention_weights(Q, K, mask)[~mask] == 0.0)


@pytest.mark.parametrize("d_model,n_heads", [(8, 3), (6, 4), (5, 2)])
def test_multi_head_attention_raises_value_error_when_heads_do_not_divide_d_model(d_model, n_heads):
    rng = np.random.default_rng(0)
    W = rng.standard_normal((d_model, d_model))
    with pytest.raises(ValueError):
        multi_head_attention(rng.standard_normal((4, d_model)), W, W, W, W, n_heads)


def test_one_head_multi_head_attention_is_scaled_dot_product_attention():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 4))
    W_q, W_k, W_v, W_o = (rng.standard_normal((4, 4)) for _ in range(4))
    out, weights = multi_head_attention(X, W_q, W_k, W_v, W_o, 1)
    expected, expected_weights = scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v)
    np.testing.assert_allclose(out, expected @ W_o, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(weights[0], expected_weights, rtol=1e-12, atol=1e-14)


# --- positional encoding --------------------------------------------------------------------

@pytest.mark.parametrize("d_model", [2, 7, 8, 31])
def test_positional_encoding_row_zero_is_zero_one_alternating(d_model):
    expected = np.arange(d_model) % 2  # [0, 1, 0, 1, ...]: sin 0, cos 0, ...
    np.testing.assert_array_equal(positional_encoding(5, d_model)[0], expected)


@pytest.mark.parametrize("d_model", [7, 9])
def test_positional_encoding_last_column_of_odd_d_model_is_a_sine(d_model):
    PE = positional_encoding(6, d_model)
    p = np.arange(6)
    np.testing.assert_allclose(PE[:, -1], np.sin(p / 10000.0 ** ((d_model - 1) / d_model)), rtol=0, atol=1e-15)


# --- the assignment's cases -----------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_reference_does_not_modify_its_inputs(case):
    inputs = BUILDER.inputs(case, ASSIGNMENT.seed)
    pristine = copy.deepcopy(inputs)
    args = copy.deepcopy(inputs)
    try:
        reference(case)(*args.values())
    except Exception as exc:
        if not case.expect_error or case.expect_error not in [k.__name__ for k in type(exc).__mro__]:
            raise
    for name in pristine:
        assert same(args[name], pristine[name]), f"{case.id}: the reference modified its input {name!r}"


@pytest.mark.parametrize("case", FLOAT32_CASES, ids=ids(FLOAT32_CASES))
def test_float32_inputs_stay_within_the_case_tolerance_of_float64(case):
    inputs = BUILDER.inputs(case, ASSIGNMENT.seed)
    assert any(a.dtype == np.float32 for a in arrays_in(inputs)), f"{case.id} has no float32 input"
    fn = reference(case)
    low = outputs_of(case, fn(*copy.deepcopy(inputs).values()))
    high = outputs_of(case, fn(*as_float64(inputs).values()))
    for component, (l, h) in enumerate(zip(low, high)):
        verdict = compare_values(l, h, case.tolerance)
        assert verdict.status == "passed", f"{case.id} output {component}: {verdict.message}"


@pytest.mark.parametrize("case", RETURNING_CASES, ids=ids(RETURNING_CASES))
def test_reference_runs_without_warning_and_gives_finite_outputs_for_20_seeds(case):
    fn = reference(case)
    for seed in SEEDS if case.generator else [ASSIGNMENT.seed]:
        inputs = BUILDER.inputs(case, seed)
        with strict():
            value = fn(*inputs.values())
        for array in arrays_in(value):
            assert array.dtype.kind in "biuf" and (array.dtype.kind != "f" or np.all(np.isfinite(array))), (
                f"{case.id} seed {seed}: non-finite output")


@pytest.mark.parametrize("case", [c for c in CASES if c.expect_error], ids=ids([c for c in CASES if c.expect_error]))
def test_reference_raises_the_expected_error_for_20_seeds(case):
    for seed in SEEDS:
        with pytest.raises(Exception) as info:
            reference(case)(*BUILDER.inputs(case, seed).values())
        assert case.expect_error in [k.__name__ for k in type(info.value).__mro__], f"seed {seed}: {info.value!r}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_case_inputs_are_the_same_for_the_same_id_and_seed(case):
    again = CaseBuilder(ASSIGNMENT)  # a fresh builder: nothing is cached between the two
    for seed in (ASSIGNMENT.seed, 7):
        assert same(BUILDER.inputs(case, seed), again.inputs(case, seed)), f"{case.id} seed {seed}"


@pytest.mark.parametrize("case", RANDOM_CASES, ids=ids(RANDOM_CASES))
def test_random_case_inputs_change_with_the_seed(case):
    draws = [BUILDER.inputs(case, seed) for seed in range(10)]
    distinct = [d for i, d in enumerate(draws) if not any(same(d, e) for e in draws[:i])]
    if any(a.dtype.kind == "f" for a in arrays_in(draws[0])):
        assert len(distinct) == len(draws), f"{case.id}: two seeds gave the same random arrays"
    else:  # sizes only (causal_mask, positional_encoding): a few small integers may repeat
        assert len(distinct) >= 3, f"{case.id}: 10 seeds gave only {len(distinct)} different inputs"


def _attention_shapes(case, inputs):
    """(n_q, d_k, heads or None, Q, K) of an attention case's inputs."""
    if case.function == "similarity_attention":
        E = inputs["E"]
        return E.shape[-2], E.shape[-1], None, None, None
    if case.function == "multi_head_attention":
        X, h = inputs["X"], inputs["n_heads"]
        return X.shape[-2], X.shape[-1] // h, h, X @ inputs["W_q"], X @ inputs["W_k"]
    Q, K = inputs["Q"], inputs["K"]
    return Q.shape[-2], Q.shape[-1], None, Q, K


ATTENTION_CASES = [c for c in RANDOM_CASES if c.function in ATTENTION_FUNCTIONS]


@pytest.mark.parametrize("case", ATTENTION_CASES, ids=ids(ATTENTION_CASES))
def test_random_attention_cases_never_use_degenerate_shapes(case):
    for seed in SEEDS:
        inputs = BUILDER.inputs(case, seed)
        n_q, d_k, heads, Q, K = _attention_shapes(case, inputs)
        where = f"{case.id} seed {seed}"
        assert n_q >= 2, f"{where}: a single position"
        assert d_k >= 2, f"{where}: d_k = {d_k}"
        if case.function == "multi_head_attention":
            assert heads >= 2, f"{where}: a single head"
        if Q is not None:
            assert Q is not K and not (Q.shape == K.shape and np.array_equal(Q, K)), f"{where}: Q equals K"
        if "V" in inputs:
            assert not np.shares_memory(inputs["V"], K), f"{where}: V is K"


SOFTMAX_ND_CASES = [c for c in RANDOM_CASES if c.function == "softmax" and c.generator == "logits"]


@pytest.mark.parametrize("case", SOFTMAX_ND_CASES, ids=ids(SOFTMAX_ND_CASES))
def test_random_softmax_arrays_are_never_square(case):
    for seed in SEEDS:
        shape = BUILDER.inputs(case, seed)["x"].shape
        assert len(shape) < 2 or len(set(shape)) > 1, f"{case.id} seed {seed}: shape {shape} hides a wrong axis"


@pytest.mark.parametrize("case", FLOAT32_CASES, ids=ids(FLOAT32_CASES))
def test_float32_cases_are_float32_twins_of_float64_cases(case):
    twin = [c for c in CASES if c.function == case.function and c.generator == case.generator
            and c.params.get("dtype") is None]
    assert twin, f"{case.id}: no float64 case of the same generator"
