"""No plausible mistake scores full marks: Hypothesis searches the contract's valid inputs of
softmax (any shape, any axis, any scale) for inputs where a mistake variant differs from the
reference, and every kind of input where one does — which axis (first, middle, last), a square
slice or not, far-apart slices — must have a public case on which that variant fails too.

The same search covers attention_weights and scaled_dot_product_attention (batches, a second
"heads" axis, masks per element or broadcast over the batch and heads, odd sizes, exact ties,
slices of very different scales), positional_encoding (odd d_model, other bases) and layer_norm
(batches, tiny and large scales), with the variants of the functions they call composed in."""
import copy
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from grader.grading.variants import Variants, compare_outputs, run_variant  # noqa: E402
from reference.mistakes import MISTAKES  # noqa: E402
from reference.softmax import softmax  # noqa: E402

SOFTMAX = [m for m in MISTAKES if m.function == "softmax" and m.name != "softmax-modifies-input"]


def kind(x, axis):
    """What an input exercises: the axis's place (only, first, middle, last), whether its values
    are large enough for e^x to overflow, and whether its slices lie far apart."""
    ax = axis % x.ndim
    place = "only" if x.ndim == 1 else "last" if ax == x.ndim - 1 else "first" if ax == 0 else "middle"
    big = bool(np.max(np.abs(x)) > 700)
    spread = bool(np.ptp(np.max(x, axis=ax)) > 700) if x.ndim > 1 else False
    return place, big, spread


@pytest.fixture(scope="module")
def public_kinds(assignment):
    """{mistake: the kinds of the public softmax cases it fails}."""
    bench = Variants(assignment)
    found = {}
    for case in bench.cases_of("softmax"):
        if case.visibility != "public":
            continue
        inputs = bench.builder.inputs(case, bench.seed)
        x, axis = np.asarray(inputs["x"], float), inputs.get("axis", -1)
        for m in SOFTMAX:
            if bench.case_margin(m, case).value > 1:
                found.setdefault(m.name, set()).add(kind(x, axis))
    return found


def differs(m, x, axis) -> bool:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        expected = softmax(x, axis)
        value, exc, _ = run_variant(m.implementation, {"x": x, "axis": axis})
    if exc is not None:
        return True
    margin, _ = compare_outputs(value, expected, type("C", (), {"tolerance": TOL})(), None)
    return margin > 1


class _Tol:
    rtol, atol, exact = 1e-5, 1e-6, False


TOL = _Tol()


arrays = st.integers(1, 3).flatmap(lambda ndim: st.tuples(
    st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim),
    st.integers(-ndim, ndim - 1),
    st.sampled_from([1.0, 3.0, 1000.0]),
    st.booleans(),
    st.integers(0, 2**32 - 1)))


@settings(max_examples=150, deadline=None, derandomize=True,  # the same examples on every run: CI stays reproducible
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrays)
def test_every_difference_a_search_finds_has_a_public_case_of_its_kind(public_kinds, drawn):
    shape, axis, scale, apart, seed = drawn
    x = scale * np.random.default_rng(seed).standard_normal(shape)
    if apart and x.ndim > 1:   # slices far apart: a global max underflows the lower ones
        x = x + 2000.0 * np.arange(x.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1))
    for m in SOFTMAX:
        if differs(m, copy.deepcopy(x), axis):
            assert _covered(public_kinds, m.name, kind(x, axis)), (
                f"{m.name} differs on shape {x.shape}, axis {axis} ({kind(x, axis)}), "
                f"but no public case of that kind fails it: {sorted(public_kinds.get(m.name, ()))}")


def _covered(public_kinds, name, k) -> bool:
    """A difference is covered when a public case that shares what makes it differ fails the
    variant too: slices far apart when they are, else large values when they are, else the same
    axis place."""
    place, big, spread = k
    kinds = public_kinds.get(name, set())
    if spread and any(sp for _, _, sp in kinds):
        return True
    if big and any(b for _, b, _ in kinds):
        return True
    return any(p == place for p, _, _ in kinds)


# --- attention, positional encoding, LayerNorm ------------------------------------------------
#
# The same search over three more functions, with every mistake that reaches them: their own
# variants and those of the functions they call, composed into them (a softmax without the max
# shift inside attention_weights). A difference a search finds is covered when a public case
# fails that variant and shares what the difference needs: the search strips each feature of
# the input it found (the mask, the batch, an odd size, a base other than 10000, large or tiny
# values) and keeps those without which the variant no longer differs.

from grader.grading.diagnosis import composed  # noqa: E402
from reference import attention as ref_attention  # noqa: E402
from reference import positional as ref_positional  # noqa: E402
from reference import transformer as ref_transformer  # noqa: E402

REFERENCE = {"attention_weights": ref_attention.attention_weights,
             "scaled_dot_product_attention": ref_attention.scaled_dot_product_attention,
             "positional_encoding": ref_positional.positional_encoding,
             "layer_norm": ref_transformer.layer_norm}
EXERCISE = {"attention_weights": "attention", "scaled_dot_product_attention": "attention",
            "positional_encoding": "positional", "layer_norm": "transformer"}
OUTPUTS = {"scaled_dot_product_attention": ["output", "weights"]}


def variants_of(function):
    """(name, implementation) of every variant that reaches `function`: its own and its callees'."""
    own = [(m.name, m.implementation) for m in MISTAKES if m.function == function and "modifies" not in m.name]
    steps = [(m.name, fn) for m, fn in composed(MISTAKES, EXERCISE[function], function) if "modifies" not in m.name]
    return own + steps


def margin_of(function, fn, inputs) -> float:
    """The variant's worst error on `inputs`, in tolerances of the `block` class (inf: it raises
    where the reference does not, or returns another shape)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        expected = REFERENCE[function](*copy.deepcopy(inputs).values())
    value, exc, _ = run_variant(fn, inputs)
    if exc is not None:
        return np.inf
    margin, _ = compare_outputs(value, expected, type("C", (), {"tolerance": TOL})(), OUTPUTS.get(function))
    return margin


# features of an input, and the input without each of them

def _scores_shape(inputs):
    return np.broadcast_shapes(inputs["Q"].shape[:-1], inputs["K"].shape[:-2] + (1,))[:-1] + \
        (inputs["Q"].shape[-2], inputs["K"].shape[-2])


def attention_features(inputs) -> dict:
    mask = inputs.get("mask")
    s = inputs["Q"] @ np.swapaxes(inputs["K"], -1, -2)
    return {"batched": inputs["Q"].ndim > 2,
            "mask": mask is not None,
            "broadcast-mask": mask is not None and mask.ndim < len(_scores_shape(inputs)),
            "large": bool(np.max(np.abs(s)) / np.sqrt(inputs["Q"].shape[-1]) > 100)}   # e^x past float32, slices apart


def attention_without(inputs, feature):
    """The input without `feature`: a list of inputs (without a batch: each of its elements)."""
    out = dict(inputs)
    if feature == "batched":
        shape = _scores_shape(inputs)[:-2]
        slices = []
        for index in list(np.ndindex(*shape))[:8]:
            one = {}
            for k, v in inputs.items():
                if isinstance(v, np.ndarray):
                    lead = np.broadcast_to(v, shape + v.shape[v.ndim - 2:]) if v.ndim > 2 or k != "mask" else v
                    one[k] = lead[index] if lead.ndim > 2 else lead
                else:
                    one[k] = v
            slices.append(one)
        return slices
    if feature == "mask":
        out["mask"] = None
    elif feature == "broadcast-mask":
        out["mask"] = np.broadcast_to(inputs["mask"], _scores_shape(inputs)).copy()
    elif feature == "large":   # each slice's scores brought down to at most 3
        top = np.max(np.abs(inputs["Q"] @ np.swapaxes(inputs["K"], -1, -2)), axis=-1, keepdims=True)
        top = np.max(top, axis=-2, keepdims=True)
        out["Q"] = inputs["Q"] * np.where(top > 0, 3.0 / np.where(top > 0, top, 1.0), 1.0)
    return [out]


def pe_features(inputs) -> dict:
    return {"odd": inputs["d_model"] % 2 == 1, "other-base": inputs.get("base", 10000.0) != 10000.0,
            "many-positions": inputs["n_positions"] > 8}


def pe_without(inputs, feature):
    out = dict(inputs)
    if feature == "odd":
        out["d_model"] = inputs["d_model"] + 1
    elif feature == "other-base":
        out["base"] = 10000.0
    elif feature == "many-positions":
        out["n_positions"] = 8
    return [out]


def ln_features(inputs) -> dict:
    x = inputs["x"]
    return {"batched": x.ndim > 2, "tiny": bool(np.max(np.std(x, axis=-1)) < 1e-2)}


def ln_without(inputs, feature):
    out = dict(inputs)
    if feature == "batched":
        out["x"] = inputs["x"].reshape(-1, inputs["x"].shape[-1])     # the same rows, one matrix
    elif feature == "tiny":
        out["x"] = inputs["x"] / max(float(np.max(np.std(inputs["x"], axis=-1))), 1e-300)
    return [out]


FEATURES = {"attention_weights": (attention_features, attention_without),
            "scaled_dot_product_attention": (attention_features, attention_without),
            "positional_encoding": (pe_features, pe_without),
            "layer_norm": (ln_features, ln_without)}


def needed(function, fn, inputs) -> frozenset:
    """The features of `inputs` without which the variant `fn` no longer differs."""
    features, without = FEATURES[function]
    return frozenset(f for f, present in features(inputs).items()
                     if present and all(margin_of(function, fn, one) <= 1 for one in without(inputs, f)))


@pytest.fixture(scope="module")
def public_failures(assignment):
    """{function: {variant name: [the feature sets of the public cases it fails]}}."""
    bench = Variants(assignment)
    found = {}
    for function in REFERENCE:
        features = FEATURES[function][0]
        for case in bench.cases_of(function):
            if case.visibility != "public":
                continue
            expected = bench.oracle.expected(case, bench.builder.inputs(case, bench.seed))
            if expected.error:
                continue
            inputs = expected.inputs
            for name, fn in variants_of(function):
                if margin_of(function, fn, inputs) > 1:
                    kind = frozenset(f for f, present in features(inputs).items() if present)
                    found.setdefault(function, {}).setdefault(name, []).append(kind)
    return found


def _check(public_failures, function, inputs):
    for name, fn in variants_of(function):
        if margin_of(function, fn, inputs) <= 1:
            continue
        need = needed(function, fn, inputs)
        kinds = public_failures.get(function, {}).get(name, [])
        assert any(need <= kind for kind in kinds), (
            f"{name} differs from {function} on {_describe(inputs)} (needs {sorted(need)}), but no public case "
            f"with those features fails it: {[sorted(k) for k in kinds]}")


def _describe(inputs):
    return {k: (v.shape if isinstance(v, np.ndarray) else v) for k, v in inputs.items()}


SEARCH = settings(max_examples=80, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def attention_inputs(draw, with_v):
    """Q, K (and V), any batch (0–2 axes, the second one a "heads" axis), odd sizes, exact ties,
    slices of very different scales, and a mask — none, per element, or one broadcast over the
    batch and heads — that never masks out a whole row."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    batch = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    n_q, n_k, d_k, d_v = (draw(st.integers(1, 5)) for _ in range(4))
    Q = rng.standard_normal(batch + (n_q, d_k))
    K = rng.standard_normal(batch + (n_k, d_k))
    if draw(st.booleans()) and n_k > 1:           # exact ties: two equal keys
        K[..., -1, :] = K[..., 0, :]
    if batch and draw(st.booleans()):              # slices of very different scales
        Q = Q * np.logspace(-2, 3, batch[0]).reshape((-1,) + (1,) * (Q.ndim - 1))
    Q = Q * draw(st.sampled_from([1.0, 1.0, 30.0, 1000.0]))
    inputs = {"Q": Q, "K": K}
    if with_v:
        inputs["V"] = rng.standard_normal(batch + (n_k, d_v))
    kind = draw(st.sampled_from(["none", "full", "2d", "heads"]))
    if kind != "none":
        shape = {"full": batch + (n_q, n_k), "2d": (n_q, n_k),
                 "heads": batch[:1] + (1,) * len(batch[1:]) + (n_q, n_k)}[kind]
        mask = rng.random(shape) < 0.6
        mask[..., 0] |= ~np.any(mask, axis=-1)     # at least one key per row
        inputs["mask"] = mask
    return inputs


@SEARCH
@given(attention_inputs(with_v=False))
def test_attention_weights_every_difference_has_a_public_case(public_failures, inputs):
    _check(public_failures, "attention_weights", inputs)


@SEARCH
@given(attention_inputs(with_v=True))
def test_scaled_dot_product_attention_every_difference_has_a_public_case(public_failures, inputs):
    _check(public_failures, "scaled_dot_product_attention", inputs)


@SEARCH
@given(st.integers(1, 30), st.integers(1, 17), st.sampled_from([10000.0, 10000.0, 100.0, 7.0]))
def test_positional_encoding_every_difference_has_a_public_case(public_failures, n, d, base):
    inputs = {"n_positions": n, "d_model": d}
    if base != 10000.0:
        inputs["base"] = base
    _check(public_failures, "positional_encoding", inputs)


@SEARCH
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(2, 7),
       st.sampled_from([1.0, 1e-3, 1e-4, 100.0]), st.integers(0, 2**32 - 1))
def test_layer_norm_every_difference_has_a_public_case(public_failures, lead, d, scale, seed):
    rng = np.random.default_rng(seed)
    x = scale * (rng.standard_normal(tuple(lead) + (d,)) + rng.standard_normal(d))
    if x.ndim == 1:
        x = x[None]
    inputs = {"x": x, "gamma": 1 + 0.5 * rng.standard_normal(d), "beta": 0.5 * rng.standard_normal(d)}
    _check(public_failures, "layer_norm", inputs)
