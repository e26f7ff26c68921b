"""Cross-check the NumPy reference (`reference/`) against PyTorch and Hugging Face.

Every comparison runs in float64. Each check records the largest absolute difference
it observed; the table "check -> largest abs diff" is printed when the module's tests
finish (run with ``-s`` to see it):

    python -m pytest tests/test_crosscheck.py -q -s

The suite needs the optional extra ``crosscheck`` (torch; transformers for the GPT-2
checks). Without torch the whole module is skipped; without transformers only the
GPT-2 checks are skipped. Nothing here touches the network: Hugging Face is forced
offline and the GPT-2 model is built from a config with freshly drawn weights.
"""
import importlib.util
import os
import sys
import warnings
from pathlib import Path

# Before anything can import transformers / huggingface_hub: never touch the network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np
import pytest

_INSTALL_HINT = "install the crosscheck extra: pip install -e '.[crosscheck]'"
if importlib.util.find_spec("torch") is None:
    pytest.skip(f"torch is not installed; {_INSTALL_HINT}", allow_module_level=True)
# torch is imported by the first test that runs here (`_torch`), not while pytest collects: every
# xdist worker collects every module, and importing torch costs each of them 1.5 s of CPU
torch = F = None


@pytest.fixture(scope="module", autouse=True)
def _torch():
    global torch, F
    import torch
    F = torch.nn.functional

# Make `reference` importable when pytest is run without the repository root on sys.path.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from reference.attention import (  # noqa: E402
    attention_weights,
    causal_mask,
    multi_head_attention,
    scaled_dot_product_attention,
)
from reference.positional import positional_encoding  # noqa: E402
from reference.similarity import cosine_similarity  # noqa: E402
from reference.softmax import softmax  # noqa: E402
from reference.transformer import (  # noqa: E402
    gelu,
    generate,
    layer_norm,
    next_token_probabilities,
    transformer_forward,
)

BLOCK_ATOL = 1e-12  # building blocks, float64 vs float64
MODEL_ATOL = 1e-10  # whole GPT-2 logits / probabilities, float64 vs float64


# --------------------------------------------------------------------------------------
# "check -> largest abs diff" recorder
# --------------------------------------------------------------------------------------

MAX_ABS_DIFF = {}  # check name -> largest absolute difference observed


def record(check, value):
    """Remember `value` for `check` if it is the largest seen so far; return it."""
    value = float(value)
    MAX_ABS_DIFF[check] = max(MAX_ABS_DIFF.get(check, 0.0), value)
    return value


def to_numpy(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def t64(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def assert_matches(check, ours, theirs, atol=BLOCK_ATOL):
    """Same shape, same non-finite entries, finite entries within `atol`; records the diff."""
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(to_numpy(theirs), dtype=np.float64)
    assert ours.shape == theirs.shape, f"{check}: shape {ours.shape} != {theirs.shape}"
    finite = np.isfinite(theirs)
    assert np.array_equal(np.isfinite(ours), finite), f"{check}: non-finite entries differ"
    assert np.array_equal(ours[~finite], theirs[~finite]), f"{check}: non-finite values differ"
    diff = np.max(np.abs(ours[finite] - theirs[finite]), initial=0.0)
    record(check, diff)
    print(f"[crosscheck] {check}: max abs diff {diff:.3e}")
    assert diff <= atol, f"{check}: max abs diff {diff:.3e} > {atol:.0e}"


@pytest.fixture(scope="module", autouse=True)
def print_max_abs_diff_table():
    yield
    if not MAX_ABS_DIFF:
        return
    width = max(len(k) for k in MAX_ABS_DIFF)
    lines = [f"{'check'.ljust(width)} | largest abs diff", f"{'-' * width} | ----------------"]
    lines += [f"{k.ljust(width)} | {v:.3e}" for k, v in MAX_ABS_DIFF.items()]
    print("\n\n[crosscheck] largest absolute difference per check (float64)\n" + "\n".join(lines))


def rows_with_some_true(rng, shape):
    """Random boolean mask of `shape` (..., n_q, n_k) where no row is fully masked."""
    mask = rng.random(shape) < 0.5
    n_k = shape[-1]
    forced = rng.integers(0, n_k, size=shape[:-1])
    np.put_along_axis(mask, forced[..., None], True, axis=-1)
    assert mask.any(axis=-1).all()
    assert not mask.all()
    return mask


# --------------------------------------------------------------------------------------
# 1. cosine similarity
# --------------------------------------------------------------------------------------


def test_cosine_similarity_matches_torch_with_broadcast_batch_dims():
    rng = np.random.default_rng(101)
    a = rng.normal(size=(4, 1, 5, 7))
    b = rng.normal(size=(3, 1, 7)) * 3.0
    ours = cosine_similarity(a, b)
    theirs = F.cosine_similarity(t64(a), t64(b), dim=-1)
    assert ours.shape == (4, 3, 5)
    assert_matches("cosine_similarity vs F.cosine_similarity", ours, theirs)


def test_cosine_similarity_of_zero_vector_is_zero_like_torch():
    rng = np.random.default_rng(102)
    a = rng.normal(size=(3, 6))
    a[1] = 0.0
    b = rng.normal(size=(3, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = cosine_similarity(a, b)
    theirs = F.cosine_similarity(t64(a), t64(b), dim=-1)
    assert ours[1] == 0.0
    assert_matches("cosine_similarity zero vector vs F.cosine_similarity", ours, theirs)


# --------------------------------------------------------------------------------------
# 2. softmax
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -2])
def test_softmax_matches_torch_along_axis(axis):
    rng = np.random.default_rng(201)
    x = rng.normal(size=(2, 3, 5, 4)) * 10.0
    x_before = x.copy()
    ours = softmax(x, axis=axis)
    theirs = torch.softmax(t64(x), dim=axis)
    assert np.array_equal(x, x_before), "softmax modified its input"
    assert_matches("softmax vs torch.softmax (moderate values, several axes)", ours, theirs)


@pytest.mark.parametrize("axis", [-1, 1])
def test_softmax_with_minus_inf_entries_matches_torch_and_gives_exact_zeros(axis):
    rng = np.random.default_rng(202)
    x = rng.normal(size=(2, 6, 5)) * 5.0
    keep = rows_with_some_true(rng, np.moveaxis(x, axis, -1).shape)  # >= 1 finite per slice
    x = np.where(np.moveaxis(keep, -1, axis), x, -np.inf)
    ours = softmax(x, axis=axis)
    theirs = torch.softmax(t64(x), dim=axis)
    assert np.all(ours[np.isneginf(x)] == 0.0)
    assert_matches("softmax vs torch.softmax (-inf entries)", ours, theirs)


def test_softmax_reference_is_stable_at_extreme_magnitudes():
    # torch is not the yardstick here: the reference alone must stay finite and exact.
    x = np.array([[1e300, -1e300, 1e300, 0.0],
                  [-1e300, -1e300, -1e300, -1e300],
                  [1e300, 0.9e300, -np.inf, -1e300],
                  [-1e300, 1.0, 0.0, -np.inf]])
    # exp(-2e300) underflowing to 0 is the right answer (NumPy ignores underflow by default);
    # overflow, invalid operations and any warning are failures.
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise",
                                                under="ignore"):
        warnings.simplefilter("error")
        ours = softmax(x)
    assert np.all(np.isfinite(ours))
    assert np.array_equal(ours[0], [0.5, 0.0, 0.5, 0.0])
    assert np.array_equal(ours[1], [0.25, 0.25, 0.25, 0.25])
    assert np.array_equal(ours[2], [1.0, 0.0, 0.0, 0.0])  # gap 1e299: all weight on the max
    np.testing.assert_allclose(ours[3], [0.0, np.e / (np.e + 1), 1 / (np.e + 1), 0.0], rtol=1e-15, atol=0)
    np.testing.assert_allclose(ours.sum(axis=-1), 1.0, rtol=0, atol=1e-15)


def test_softmax_reference_is_invariant_to_a_huge_shift():
    rng = np.random.default_rng(203)
    x = rng.normal(size=(4, 9))
    ours = softmax(x)
    shifted = softmax(x + 1e5)  # exact in float64 up to rounding of x + 1e5 (~1e-11)
    diff = record("softmax(x + 1e5) vs softmax(x) (reference alone)", np.max(np.abs(shifted - ours)))
    assert diff <= 1e-10
    theirs = torch.softmax(t64(x), dim=-1)
    assert_matches("softmax vs torch.softmax (moderate values, several axes)", ours, theirs)


# --------------------------------------------------------------------------------------
# 3. scaled dot-product attention
# --------------------------------------------------------------------------------------

# batch (2, 3), n_q = 5, n_k = 7, d_k = 4, d_v = 6
QKV_SHAPES = ((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6))


def draw_qkv(seed, shapes=QKV_SHAPES):
    rng = np.random.default_rng(seed)
    return rng, tuple(rng.normal(size=s) for s in shapes)


def torch_attention_weights(Q, K, mask=None):
    q, k = t64(Q), t64(K)
    scores = q @ k.transpose(-1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~torch.from_numpy(np.asarray(mask)), float("-inf"))
    return torch.softmax(scores, dim=-1)


def test_sdpa_output_matches_torch_without_mask():
    _, (Q, K, V) = draw_qkv(301)
    ours, _ = scaled_dot_product_attention(Q, K, V)
    theirs = F.scaled_dot_product_attention(t64(Q), t64(K), t64(V))
    assert ours.shape == (2, 3, 5, 6)
    assert_matches("scaled_dot_product_attention output vs F.sdpa (no mask)", ours, theirs)


def test_attention_weights_match_torch_softmax_without_mask():
    _, (Q, K, V) = draw_qkv(302)
    ours = attention_weights(Q, K)
    _, ours_from_sdpa = scaled_dot_product_attention(Q, K, V)
    theirs = torch_attention_weights(Q, K)
    assert ours.shape == (2, 3, 5, 7)
    assert np.array_equal(ours, ours_from_sdpa)
    assert_matches("attention_weights vs torch softmax(QK^T/sqrt d) (no mask)", ours, theirs)


@pytest.mark.parametrize("mask_shape", [(5, 7), (2, 1, 5, 7), (2, 3, 5, 7)],
                         ids=["mask-broadcast-all-batch", "mask-broadcast-heads", "mask-full"])
def test_sdpa_output_matches_torch_with_boolean_mask(mask_shape):
    rng, (Q, K, V) = draw_qkv(303)
    mask = rows_with_some_true(rng, mask_shape)
    ours, _ = scaled_dot_product_attention(Q, K, V, mask)
    theirs = F.scaled_dot_product_attention(t64(Q), t64(K), t64(V), attn_mask=torch.from_numpy(mask))
    assert_matches("scaled_dot_product_attention output vs F.sdpa (boolean mask)", ours, theirs)


def test_attention_weights_with_boolean_mask_match_torch_and_are_zero_where_masked():
    rng, (Q, K, V) = draw_qkv(304)
    mask = rows_with_some_true(rng, (2, 1, 5, 7))
    ours = attention_weights(Q, K, mask)
    theirs = torch_attention_weights(Q, K, mask)
    assert np.all(ours[np.broadcast_to(~mask, ours.shape)] == 0.0)
    np.testing.assert_allclose(ours.sum(axis=-1), 1.0, rtol=0, atol=1e-14)
    assert_matches("attention_weights vs torch masked softmax (boolean mask)", ours, theirs)


def test_sdpa_with_causal_mask_matches_torch_is_causal():
    _, (Q, K, V) = draw_qkv(305, shapes=((2, 3, 6, 4), (2, 3, 6, 4), (2, 3, 6, 5)))
    ours, weights = scaled_dot_product_attention(Q, K, V, causal_mask(6))
    theirs = F.scaled_dot_product_attention(t64(Q), t64(K), t64(V), is_causal=True)
    assert np.all(weights[..., np.triu_indices(6, k=1)[0], np.triu_indices(6, k=1)[1]] == 0.0)
    assert_matches("scaled_dot_product_attention output vs F.sdpa (is_causal)", ours, theirs)
    assert_matches("attention_weights vs torch masked softmax (causal)",
                   weights, torch_attention_weights(Q, K, causal_mask(6)))


@pytest.mark.parametrize("n_q, n_k", [(4, 7), (7, 4)])
def test_rectangular_causal_mask_is_top_left_aligned_like_torch_is_causal(n_q, n_k):
    _, (Q, K, V) = draw_qkv(306, shapes=((3, n_q, 4), (3, n_k, 4), (3, n_k, 6)))
    ours, _ = scaled_dot_product_attention(Q, K, V, causal_mask(n_q, n_k))
    theirs = F.scaled_dot_product_attention(t64(Q), t64(K), t64(V), is_causal=True)
    assert_matches("scaled_dot_product_attention output vs F.sdpa (is_causal, n_q != n_k)", ours, theirs)


# --------------------------------------------------------------------------------------
# 4. multi-head attention
# --------------------------------------------------------------------------------------


def draw_mha(seed, batch=(2, 3), n=9, d_model=15):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(*batch, n, d_model))
    Ws = [rng.normal(size=(d_model, d_model)) / np.sqrt(d_model) for _ in range(4)]
    return X, Ws


def torch_mha(Ws, n_heads):
    W_q, W_k, W_v, W_o = Ws
    d_model = W_q.shape[0]
    mha = torch.nn.MultiheadAttention(embed_dim=d_model, num_heads=n_heads, bias=False,
                                      batch_first=True).double().eval()
    with torch.no_grad():
        mha.in_proj_weight.copy_(t64(np.concatenate([W_q.T, W_k.T, W_v.T])))  # torch: x @ W.T
        mha.out_proj.weight.copy_(t64(W_o.T))
    return mha


def run_torch_mha(X, Ws, n_heads, attn_mask=None):
    """nn.MultiheadAttention takes (N, L, E): flatten the reference's batch dims."""
    *batch, n, d_model = X.shape
    x = t64(X.reshape(-1, n, d_model))
    with torch.no_grad():
        out, w = torch_mha(Ws, n_heads)(x, x, x, attn_mask=attn_mask, need_weights=True,
                                        average_attn_weights=False)
    return out.reshape(*batch, n, d_model), w.reshape(*batch, n_heads, n, n)


@pytest.mark.parametrize("n_heads", [1, 3, 5])
def test_multi_head_attention_output_matches_torch_multiheadattention(n_heads):
    X, Ws = draw_mha(401)
    ours, _ = multi_head_attention(X, *Ws, n_heads)
    theirs, _ = run_torch_mha(X, Ws, n_heads)
    assert ours.shape == X.shape
    assert_matches("multi_head_attention output vs nn.MultiheadAttention", ours, theirs)


@pytest.mark.parametrize("n_heads", [3, 5])
def test_multi_head_attention_per_head_weights_match_torch(n_heads):
    X, Ws = draw_mha(402)
    _, ours = multi_head_attention(X, *Ws, n_heads)
    _, theirs = run_torch_mha(X, Ws, n_heads)
    assert ours.shape == (2, 3, n_heads, 9, 9)
    assert_matches("multi_head_attention per-head weights vs nn.MultiheadAttention", ours, theirs)


def test_multi_head_attention_with_causal_mask_matches_torch_inverted_mask():
    X, Ws = draw_mha(403, batch=(4,), n=8, d_model=12)
    mask = causal_mask(8)
    ours, ours_w = multi_head_attention(X, *Ws, 4, mask)
    # nn.MultiheadAttention's boolean attn_mask means True = NOT allowed: pass ~mask.
    theirs, theirs_w = run_torch_mha(X, Ws, 4, attn_mask=torch.from_numpy(~mask))
    assert np.all(ours_w[..., ~mask] == 0.0)
    assert_matches("multi_head_attention output vs nn.MultiheadAttention (causal)", ours, theirs)
    assert_matches("multi_head_attention per-head weights vs nn.MultiheadAttention (causal)",
                   ours_w, theirs_w)


def test_multi_head_attention_rejects_d_model_not_divisible_by_n_heads():
    X, Ws = draw_mha(404, batch=(2,), n=5, d_model=10)
    with pytest.raises(ValueError):
        multi_head_attention(X, *Ws, 3)


# --------------------------------------------------------------------------------------
# 5. layer norm, 6. GELU
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 1e-3], ids=["unit-scale", "scale-1e-3"])
def test_layer_norm_matches_torch_layer_norm(scale):
    rng = np.random.default_rng(501)
    d = 13
    x = rng.normal(size=(2, 3, 7, d)) * scale + 0.3 * scale
    gamma = 1.0 + 0.2 * rng.normal(size=d)
    beta = 0.1 * rng.normal(size=d)
    ours = layer_norm(x, gamma, beta, eps=1e-5)
    theirs = F.layer_norm(t64(x), (d,), weight=t64(gamma), bias=t64(beta), eps=1e-5)
    assert_matches(f"layer_norm vs F.layer_norm (input scale {scale:g})", ours, theirs)


def test_gelu_matches_torch_gelu_tanh_approximation():
    rng = np.random.default_rng(601)
    x = np.concatenate([np.linspace(-12.0, 12.0, 2401), rng.normal(size=500) * 3.0,
                        [-1e3, -50.0, 0.0, 50.0, 1e3]]).reshape(2, -1, 1)
    ours = gelu(x)
    theirs = F.gelu(t64(x), approximate="tanh")
    assert_matches('gelu vs F.gelu(approximate="tanh")', ours, theirs)


# --------------------------------------------------------------------------------------
# 7. Hugging Face GPT-2 (GPT2LMHeadModel) built offline from a tiny random config
# --------------------------------------------------------------------------------------

GPT2_VOCAB, GPT2_POSITIONS, GPT2_D, GPT2_LAYERS, GPT2_HEADS = 23, 32, 12, 2, 3
GPT2_STD = 0.5  # large enough that logits are far from flat


@pytest.fixture(scope="module")
def gpt2():
    """(hf_model, reference_params): the same tiny GPT-2 in Hugging Face and in the contract."""
    pytest.importorskip("transformers",
                        reason=f"transformers is not installed; {_INSTALL_HINT}")
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=GPT2_VOCAB, n_positions=GPT2_POSITIONS, n_embd=GPT2_D,
        n_layer=GPT2_LAYERS, n_head=GPT2_HEADS, activation_function="gelu_new",
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5,
        bos_token_id=None, eos_token_id=None, tie_word_embeddings=True,
        attn_implementation="eager",
    )
    model = GPT2LMHeadModel(config).double().eval()
    assert model.config.scale_attn_weights and not model.config.scale_attn_by_inverse_layer_idx

    rng = np.random.default_rng(707)  # seed chosen so greedy decoding is not constant
    d = GPT2_D

    def normal(*shape):
        return rng.normal(size=shape) * GPT2_STD

    def ln():
        return 1.0 + 0.1 * rng.normal(size=d), 0.1 * rng.normal(size=d)

    new = {"transformer.wte.weight": normal(GPT2_VOCAB, d),
           "transformer.wpe.weight": positional_encoding(GPT2_POSITIONS, d)}
    blocks = []
    for i in range(GPT2_LAYERS):
        p = f"transformer.h.{i}."
        ln1_g, ln1_b = ln()
        ln2_g, ln2_b = ln()
        c_attn = normal(d, 3 * d)  # Conv1D: x @ W + b, columns [W_q | W_k | W_v]
        W_o = normal(d, d)
        W1, b1, W2, b2 = normal(d, 4 * d), normal(4 * d), normal(4 * d, d), normal(d)
        new.update({
            p + "ln_1.weight": ln1_g, p + "ln_1.bias": ln1_b,
            p + "attn.c_attn.weight": c_attn, p + "attn.c_attn.bias": np.zeros(3 * d),
            p + "attn.c_proj.weight": W_o, p + "attn.c_proj.bias": np.zeros(d),
            p + "ln_2.weight": ln2_g, p + "ln_2.bias": ln2_b,
            p + "mlp.c_fc.weight": W1, p + "mlp.c_fc.bias": b1,
            p + "mlp.c_proj.weight": W2, p + "mlp.c_proj.bias": b2,
        })
        blocks.append(dict(ln1_gamma=ln1_g, ln1_beta=ln1_b,
                           W_q=c_attn[:, :d], W_k=c_attn[:, d:2 * d], W_v=c_attn[:, 2 * d:],
                           W_o=W_o, ln2_gamma=ln2_g, ln2_beta=ln2_b, W1=W1, b1=b1, W2=W2, b2=b2))
    lnf_g, lnf_b = ln()
    new.update({"transformer.ln_f.weight": lnf_g, "transformer.ln_f.bias": lnf_b})

    named = dict(model.named_parameters())
    assert set(named) == set(new), f"unassigned parameters: {set(named) ^ set(new)}"
    with torch.no_grad():
        for name, value in new.items():
            assert tuple(named[name].shape) == value.shape, name
            named[name].copy_(t64(value))
    # tied output layer: lm_head is wte
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()

    params = dict(token_embedding=new["transformer.wte.weight"], blocks=blocks,
                  lnf_gamma=lnf_g, lnf_beta=lnf_b, n_heads=GPT2_HEADS)
    return model, params


def hf_logits(model, ids):
    with torch.no_grad():
        return model(torch.tensor([list(ids)], dtype=torch.long)).logits[0]


@pytest.mark.parametrize("n", [1, 9, GPT2_POSITIONS], ids=lambda n: f"len{n}")
def test_transformer_forward_matches_hf_gpt2_logits(gpt2, n):
    model, params = gpt2
    ids = np.random.default_rng(710 + n).integers(0, GPT2_VOCAB, size=n).tolist()
    ours = transformer_forward(ids, params)
    theirs = hf_logits(model, ids)
    assert ours.shape == (n, GPT2_VOCAB)
    assert np.ptp(ours, axis=-1).min() > 1.0, "logits are nearly flat: weights too small"
    assert_matches("transformer_forward logits vs HF GPT2LMHeadModel", ours, theirs, atol=MODEL_ATOL)


@pytest.mark.parametrize("n", [4, 17], ids=lambda n: f"len{n}")
def test_next_token_probabilities_match_torch_softmax_of_hf_last_logits(gpt2, n):
    model, params = gpt2
    ids = np.random.default_rng(720 + n).integers(0, GPT2_VOCAB, size=n).tolist()
    ours = next_token_probabilities(ids, params)
    theirs = torch.softmax(hf_logits(model, ids)[-1], dim=-1)
    assert ours.shape == (GPT2_VOCAB,)
    assert_matches("next_token_probabilities vs softmax(HF last logits)", ours, theirs, atol=MODEL_ATOL)


def hf_greedy(model, prompt, n_new):
    ids = list(prompt)
    for _ in range(n_new):
        ids.append(int(torch.argmax(hf_logits(model, ids)[-1])))  # first index on ties
    return ids[len(prompt):]


def test_generate_matches_hf_greedy_decoding(gpt2):
    model, params = gpt2
    prompt = [7, 22, 5, 11, 8, 19, 4]
    ours = generate(prompt, params, 10)
    theirs = hf_greedy(model, prompt, 10)
    assert len(ours) == 10 and all(isinstance(t, int) for t in ours)
    same_prefix = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), len(ours))
    record("generate: tokens differing from HF greedy (of 10)", 10 - same_prefix)
    print(f"[crosscheck] generate: reference {ours}, HF greedy {theirs}")
    assert same_prefix >= 8, f"greedy sequences diverge at step {same_prefix}: {ours} vs {theirs}"
    assert len(set(ours)) > 1, f"greedy sequence is constant ({ours}): logits are too flat"
