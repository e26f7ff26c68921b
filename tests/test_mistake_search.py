"""No plausible mistake scores full marks: Hypothesis searches the contract's valid inputs of
softmax (any shape, any axis, any scale) for inputs where a mistake variant differs from the
reference, and every kind of input where one does — which axis (first, middle, last), a square
slice or not, far-apart slices — must have a public case on which that variant fails too.

The same search covers attention_weights and scaled_dot_product_attention (batches, a second
"heads" axis, masks per element or broadcast over the batch and heads, odd sizes, exact ties,
slices of very different scales), positional_encoding (odd d_model, other bases) and layer_norm
(batches, tiny and large scales), the embeddings (ids out of range on either side, repeated
pairs, windows wider than the sentence, analogy tables whose rows differ in length or not), multi_head_attention (one to four heads, batches, causal and
random masks) and the decoder — transformer_forward, next_token_probabilities and generate on
tiny models (one or two blocks, one to four tokens, one to three new ids) —, with the variants
of the functions they call composed in."""
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
    """The variant's worst error on `inputs`, in tolerances of the function's class (`block`,
    `model` or exact); inf when it raises where the reference does not, does not raise the
    reference's exception where it raises one, or returns another shape."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            expected = REFERENCE[function](*copy.deepcopy(inputs).values())
        except Exception as error:   # an expected-error input: the variant must raise the same
            _, exc, _ = run_variant(fn, inputs)
            return 0.0 if isinstance(exc, type(error)) else np.inf
    value, exc, _ = run_variant(fn, inputs)
    if exc is not None:
        return np.inf
    tolerance = type("C", (), {"tolerance": TOLERANCES.get(function, TOL)})()
    margin, _ = compare_outputs(value, expected, tolerance, OUTPUTS.get(function))
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
            inputs = bench.oracle.expected(case, bench.builder.inputs(case, bench.seed)).inputs
            for name, fn in variants_of(function):
                if margin_of(function, fn, inputs) > 1:
                    kind = frozenset(f for f, present in features(inputs).items() if present)
                    found.setdefault(function, {}).setdefault(name, []).append(kind)
    return found


# An exactly compared function that rounds what a continuous one computes (generate takes the argmax
# of next_token_probabilities) changes only at near ties: a step's mistake inside it (composed, not its
# own) is covered by a public case of that continuous function with the same features, where the
# student who makes it loses the points.
ROUNDS = {"generate": "next_token_probabilities"}


def _check(public_failures, function, inputs):
    own = {m.name for m in MISTAKES if m.function == function}
    for name, fn in variants_of(function):
        if margin_of(function, fn, inputs) <= 1:
            continue
        need = needed(function, fn, inputs)
        kinds = public_failures.get(function, {}).get(name, [])
        if name not in own and function in ROUNDS:
            kinds = kinds + [kind | {"steps"} for kind in public_failures.get(ROUNDS[function], {}).get(name, [])]
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


# --- embeddings, multi-head attention and the decoder --------------------------------------------
#
# The same search, with the contract's other inputs: ids (in range or not), sentences and windows,
# analogy tables, multi-head inputs, and tiny models. Exactly compared functions (ids, pairs,
# words) count any difference; an input the reference refuses (an id out of range) counts a
# variant that does not raise the same exception.

from grader.model.assignment import Tolerance  # noqa: E402
from reference import embeddings as ref_embeddings  # noqa: E402

TOLERANCES = {"one_hot": Tolerance(), "skipgram_pairs": Tolerance(), "analogy": Tolerance(),
              "generate": Tolerance(),
              "transformer_forward": Tolerance(1e-4, 1e-5), "next_token_probabilities": Tolerance(1e-4, 1e-5)}

REFERENCE.update({"one_hot": ref_embeddings.one_hot, "embed": ref_embeddings.embed,
                  "skipgram_pairs": ref_embeddings.skipgram_pairs, "analogy": ref_embeddings.analogy,
                  "multi_head_attention": ref_attention.multi_head_attention,
                  "transformer_forward": ref_transformer.transformer_forward,
                  "next_token_probabilities": ref_transformer.next_token_probabilities,
                  "generate": ref_transformer.generate})
EXERCISE.update({"one_hot": "embeddings", "embed": "embeddings", "skipgram_pairs": "embeddings",
                 "analogy": "embeddings", "multi_head_attention": "attention", "transformer_forward": "transformer",
                 "next_token_probabilities": "transformer", "generate": "transformer"})
OUTPUTS["multi_head_attention"] = ["output", "weights"]


def ids_features(inputs) -> dict:
    ids = np.asarray(inputs["ids"])
    size = inputs["vocab_size"] if "vocab_size" in inputs else len(inputs["E"])
    return {"too-large": bool(np.any(ids >= size)), "negative": bool(np.any(ids < 0))}


def ids_without(inputs, feature):
    out = dict(inputs)
    size = inputs["vocab_size"] if "vocab_size" in inputs else len(inputs["E"])
    ids = np.asarray(inputs["ids"]).copy()
    if feature == "too-large":
        ids[ids >= size] = size - 1
    elif feature == "negative":
        ids[ids < 0] = 0
    out["ids"] = ids
    return [out]


def skipgram_features(inputs) -> dict:
    pairs = ref_embeddings.skipgram_pairs(inputs["tokens"], inputs["window"])
    return {"repeated-pair": len(set(pairs)) < len(pairs), "wide-window": inputs["window"] >= len(inputs["tokens"])}


def skipgram_without(inputs, feature):
    out = dict(inputs)
    if feature == "repeated-pair":      # the same sentence with every word told apart
        out["tokens"] = [f"{t}{i}" for i, t in enumerate(inputs["tokens"])]
    elif feature == "wide-window":
        out["window"] = max(1, len(inputs["tokens"]) - 1)
    return [out]


def analogy_features(inputs) -> dict:
    norms = np.linalg.norm(inputs["E"], axis=-1)
    return {"lengths-differ": bool(np.ptp(norms) > 1e-9 * np.max(norms))}


def analogy_without(inputs, feature):
    out = dict(inputs)                  # every row brought to length 1: the cosines are unchanged
    norms = np.linalg.norm(inputs["E"], axis=-1, keepdims=True)
    out["E"] = inputs["E"] / np.where(norms > 0, norms, 1.0)
    return [out]


def mha_features(inputs) -> dict:
    mask = inputs.get("mask")
    return {"batched": inputs["X"].ndim > 2, "mask": mask is not None,
            "causal": mask is not None and bool(np.array_equal(mask, np.tril(np.ones(mask.shape, dtype=bool)))),
            "heads": inputs["n_heads"] > 1}


def mha_without(inputs, feature):
    out = dict(inputs)
    if feature == "batched":
        return [{**inputs, "X": inputs["X"][index]} for index in list(np.ndindex(*inputs["X"].shape[:-2]))[:4]]
    if feature in ("mask", "causal"):
        out["mask"] = None
    elif feature == "heads":
        out["n_heads"] = 1
    return [out]


def model_features(inputs) -> dict:
    found = {"layers": len(inputs["params"]["blocks"]) > 1, "positions": len(inputs["token_ids"]) > 1}
    if "n_new" in inputs:
        found["steps"] = inputs["n_new"] > 1
    return found


def model_without(inputs, feature):
    out = dict(inputs)
    if feature == "layers":
        out["params"] = {**inputs["params"], "blocks": inputs["params"]["blocks"][:1]}
    elif feature == "positions":
        out["token_ids"] = inputs["token_ids"][-1:]
    elif feature == "steps":
        out["n_new"] = 1
    return [out]


FEATURES.update({"one_hot": (ids_features, ids_without), "embed": (ids_features, ids_without),
                 "skipgram_pairs": (skipgram_features, skipgram_without),
                 "analogy": (analogy_features, analogy_without),
                 "multi_head_attention": (mha_features, mha_without),
                 "transformer_forward": (model_features, model_without),
                 "next_token_probabilities": (model_features, model_without),
                 "generate": (model_features, model_without)})

WORDS = ["the", "bear", "ate", "honey", "it", "was", "king", "queen", "man", "woman", "apple", "orange"]
SMALL = settings(max_examples=25, deadline=None, derandomize=True,   # each example runs a model per variant
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def ids_inputs(draw, with_table):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    V = draw(st.integers(1, 6))
    ids = rng.integers(0, V, size=draw(st.integers(1, 6)))
    where = draw(st.sampled_from(["inside", "inside", "too-large", "negative", "both"]))
    if where in ("too-large", "both"):
        ids[-1] = V + draw(st.integers(0, 2))
    if where in ("negative", "both"):
        ids[0] = -draw(st.integers(1, V))
    if with_table:
        return {"ids": ids, "E": rng.standard_normal((V, draw(st.integers(1, 4))))}
    return {"ids": ids, "vocab_size": V}


@SEARCH
@given(ids_inputs(with_table=False))
def test_one_hot_every_difference_has_a_public_case(public_failures, inputs):
    _check(public_failures, "one_hot", inputs)


@SEARCH
@given(ids_inputs(with_table=True))
def test_embed_every_difference_has_a_public_case(public_failures, inputs):
    _check(public_failures, "embed", inputs)


@SEARCH
@given(st.lists(st.sampled_from(WORDS[:4]), min_size=1, max_size=7), st.integers(1, 4))
def test_skipgram_pairs_every_difference_has_a_public_case(public_failures, tokens, window):
    _check(public_failures, "skipgram_pairs", {"tokens": tokens, "window": window})


@SEARCH
@given(st.integers(4, 8), st.integers(2, 5), st.booleans(), st.integers(0, 2**32 - 1))
def test_analogy_every_difference_has_a_public_case(public_failures, n, d, long_rows, seed):
    rng = np.random.default_rng(seed)
    words = list(rng.choice(WORDS, size=n, replace=False))
    E = rng.standard_normal((n, d))
    if long_rows:                       # rows of very different lengths: dot products favour the long ones
        E = E * rng.choice([0.2, 1.0, 8.0], size=(n, 1))
    a, b, c = (str(w) for w in rng.choice(words, size=3, replace=False))
    _check(public_failures, "analogy", {"words": [str(w) for w in words], "E": E, "a": a, "b": b, "c": c})


@st.composite
def mha_inputs(draw):
    """One to four heads of width 1 to 3, a batch or not, and no mask, the causal one or a random
    one (never a whole row masked)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    h, d_k, n = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 5))
    d = h * d_k
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=1)))
    inputs = {"X": rng.standard_normal(batch + (n, d))}
    for name in ("W_q", "W_k", "W_v", "W_o"):
        inputs[name] = rng.standard_normal((d, d)) / np.sqrt(d)
    inputs["n_heads"] = h
    kind = draw(st.sampled_from(["none", "causal", "random"]))
    if kind == "causal":
        inputs["mask"] = np.tril(np.ones((n, n), dtype=bool))
    elif kind == "random":
        mask = rng.random((n, n)) < 0.6
        mask[:, 0] |= ~np.any(mask, axis=-1)
        inputs["mask"] = mask
    return inputs


@SEARCH
@given(mha_inputs())
def test_multi_head_attention_every_difference_has_a_public_case(public_failures, inputs):
    _check(public_failures, "multi_head_attention", inputs)


@st.composite
def tiny_models(draw, n_new=False):
    """A tiny GPT (vocabulary 3–8, one or two heads of width 1–2, d_model 2 to 4 — with one feature
    a LayerNorm returns beta whatever its input —, one or two blocks) and a prompt of one to four
    ids; weights drawn as course/generators.py draws them."""
    from course.generators import model_params

    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    h = draw(st.integers(1, 2))
    d_k = draw(st.integers(1, 2)) if h > 1 else 2
    V = draw(st.integers(3, 8))
    params = model_params(rng, V, h * d_k, h, draw(st.integers(1, 2)))
    inputs = {"token_ids": rng.integers(0, V, size=draw(st.integers(1, 4))), "params": params}
    if n_new:
        inputs["n_new"] = draw(st.integers(1, 3))
    return inputs


@SMALL
@given(tiny_models())
def test_transformer_forward_every_difference_has_a_public_case(public_failures, inputs):
    _check(public_failures, "transformer_forward", inputs)


@SMALL
@given(tiny_models())
def test_next_token_probabilities_every_difference_has_a_public_case(public_failures, inputs):
    _check(public_failures, "next_token_probabilities", inputs)


@SMALL
@given(tiny_models(n_new=True))
def test_generate_every_difference_has_a_public_case(public_failures, inputs):
    _check(public_failures, "generate", inputs)
