"""Input generators for random and edge cases.

Each generator is `name(rng, **params) -> dict` of the function's arguments, in the
contract's order. Integer parameters given as `[lo, hi]` are drawn inclusively, so one case
id plus one seed always rebuilds the same inputs (NumPy `default_rng`, nothing else).
Shapes are never the degenerate ones that hide bugs: at least two positions, two heads,
`d_k >= 2`, `Q != K`; weights have std `1/sqrt(fan_in)` so outputs stay near unit scale.
"""
import numpy as np

WORDS = ("the quick brown fox jumps over lazy dog bear ate honey because it was hungry "
         "delicious apple orange phone and an king queen man woman").split()


def pick(rng, spec):
    """An int, or an int drawn from `[lo, hi]` (inclusive)."""
    if isinstance(spec, (list, tuple)):
        lo, hi = spec
        return int(rng.integers(lo, hi + 1))
    return spec


def batch_shape(rng, batch):
    """`batch` leading dimensions, each of size 2 to 3."""
    return tuple(int(s) for s in rng.integers(2, 4, size=pick(rng, batch)))


def weight(rng, fan_in, fan_out):
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)


def cast(inputs, dtype):
    """float32 variants: every float array becomes `dtype`."""
    if dtype is None:
        return inputs
    def conv(v):
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            return v.astype(dtype)
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v
    return {k: conv(v) for k, v in inputs.items()}


# --- similarity -----------------------------------------------------------------------------

def vector_pairs(rng, d=(2, 9), batch=(0, 2), broadcast=False, zero=False, dtype=None):
    shape = batch_shape(rng, batch) + (pick(rng, d),)
    a = rng.standard_normal(shape)
    b = rng.standard_normal(shape[-1:] if broadcast else shape)
    if zero:  # some rows of a are the zero vector: cosine must give 0.0, not NaN
        a.reshape(-1, shape[-1])[::2] = 0.0
    return cast({"a": a, "b": b}, dtype)


def matrix_pair(rng, n=(2, 7), m=(2, 7), d=(2, 6), with_b=True, zero=False):
    A = rng.standard_normal((pick(rng, n), pick(rng, d)))
    if zero:
        A[0] = 0.0
    if not with_b:
        return {"A": A}
    return {"A": A, "B": rng.standard_normal((pick(rng, m), A.shape[1]))}


# --- softmax --------------------------------------------------------------------------------

def logits(rng, ndim=(1, 3), size=(2, 6), scale=3.0, axis=None, dtype=None):
    shape = tuple(pick(rng, size) for _ in range(pick(rng, ndim)))
    while len(shape) > 1 and len(set(shape)) == 1:  # square arrays hide a wrong axis
        shape = shape[:-1] + (shape[-1] + 1,)
    x = scale * rng.standard_normal(shape)
    inputs = {"x": x}
    if axis is not None:
        inputs["axis"] = int(rng.integers(-len(shape), len(shape))) if axis == "random" else axis
    return cast(inputs, dtype)


def extreme_logits(rng, rows=(3, 5), size=(3, 6), magnitude=1e300, neg_inf=False):
    """Entries near ±magnitude (a naive exp overflows), or with -inf entries (weight 0)."""
    x = magnitude * rng.uniform(-1, 1, (pick(rng, rows), pick(rng, size)))
    x[:, 0] = magnitude  # every row holds its maximum at full magnitude
    if neg_inf:
        x = rng.standard_normal(x.shape)
        x[:, 1::2] = -np.inf  # column 0 stays finite in every row
    return {"x": x}


# --- embeddings -----------------------------------------------------------------------------

def token_ids(rng, n=(2, 9), vocab=(4, 12), with_table=False, d=(2, 6), out_of_range=None):
    V = pick(rng, vocab)
    ids = rng.integers(0, V, size=pick(rng, n))
    if out_of_range == "high":
        ids[-1] = V
    elif out_of_range == "negative":
        ids[0] = -1  # a wrapping implementation silently takes the last row
    if with_table:
        return {"ids": ids, "E": rng.standard_normal((V, pick(rng, d)))}
    return {"ids": ids, "vocab_size": V}


def token_sequence(rng, n=(3, 12), window=(1, 3)):
    tokens = [str(w) for w in rng.choice(WORDS, size=pick(rng, n))]
    return {"tokens": tokens, "window": pick(rng, window)}


def analogy_table(rng, n_words=(6, 12), d=(3, 8)):
    words = [str(w) for w in rng.choice(WORDS, size=pick(rng, n_words), replace=False)]
    E = rng.standard_normal((len(words), pick(rng, d)))
    a, b, c = (str(w) for w in rng.choice(words, size=3, replace=False))
    return {"words": words, "E": E, "a": a, "b": b, "c": c}


# --- attention ------------------------------------------------------------------------------

def embedding_table(rng, n=(3, 7), d=(2, 6), scale=2.0):
    return {"E": scale * rng.standard_normal((pick(rng, n), pick(rng, d)))}


def random_mask(rng, shape):
    """A boolean mask with at least one True and one False in every row (so the inverted mask
    is gradable too)."""
    mask = rng.random(shape) < 0.6
    flat = mask.reshape(-1, shape[-1])
    rows = np.arange(len(flat))
    flat[rows, rng.integers(0, shape[-1], len(flat))] = True
    no_false = flat.all(axis=-1)
    flat[no_false, 0] = False
    flat[no_false, 1] = True
    return mask


def qkv(rng, n_q=(2, 6), n_k=(3, 7), d_k=(2, 6), d_v=(3, 7), batch=(0, 2), mask=None,
        with_v=True, dtype=None):
    b = batch_shape(rng, batch)
    nq, nk, dk, dv = pick(rng, n_q), pick(rng, n_k), pick(rng, d_k), pick(rng, d_v)
    if mask == "causal":
        nk = nq
    inputs = {"Q": rng.standard_normal(b + (nq, dk)), "K": rng.standard_normal(b + (nk, dk))}
    if with_v:
        inputs["V"] = rng.standard_normal(b + (nk, dv))
    if mask == "random":
        inputs["mask"] = random_mask(rng, b + (nq, nk))
    elif mask == "causal":
        inputs["mask"] = np.tril(np.ones((nq, nk), dtype=bool))
    return cast(inputs, dtype)


def mask_sizes(rng, n_q=(2, 8), n_k=None):
    inputs = {"n_q": pick(rng, n_q)}
    if n_k is not None:
        inputs["n_k"] = pick(rng, n_k)
    return inputs


def mha_inputs(rng, n=(3, 7), n_heads=(2, 4), d_k=(2, 5), batch=(0, 1), mask=None,
               d_model=None, dtype=None):
    h = pick(rng, n_heads)
    d_model = pick(rng, d_model) if d_model is not None else h * pick(rng, d_k)
    length = pick(rng, n)
    inputs = {"X": rng.standard_normal(batch_shape(rng, batch) + (length, d_model))}
    for name in ("W_q", "W_k", "W_v", "W_o"):
        inputs[name] = weight(rng, d_model, d_model)
    inputs["n_heads"] = h
    if mask == "causal":
        inputs["mask"] = np.tril(np.ones((length, length), dtype=bool))
    elif mask == "random":
        inputs["mask"] = random_mask(rng, (length, length))
    return cast(inputs, dtype)


# --- positional -----------------------------------------------------------------------------

def pe_sizes(rng, n_positions=(2, 40), d_model=(4, 32), odd=False, base=None):
    d = pick(rng, d_model)
    if odd and d % 2 == 0:
        d += 1
    inputs = {"n_positions": pick(rng, n_positions), "d_model": d}
    if base is not None:
        inputs["base"] = float(base)
    return inputs


# --- transformer ----------------------------------------------------------------------------

def ln_inputs(rng, n=(2, 6), d=(3, 9), batch=(0, 1), scale=1.0, dtype=None):
    d = pick(rng, d)
    x = scale * rng.standard_normal(batch_shape(rng, batch) + (pick(rng, n), d))
    x += scale * rng.standard_normal(d)  # a non-zero mean per feature
    return cast({"x": x,
                 "gamma": 1 + 0.5 * rng.standard_normal(d),
                 "beta": 0.5 * rng.standard_normal(d)}, dtype)


def gelu_inputs(rng, n=(5, 40), batch=(0, 2), low=-6.0, high=6.0, dtype=None):
    x = rng.uniform(low, high, batch_shape(rng, batch) + (pick(rng, n),))
    return cast({"x": x}, dtype)


def ffn_inputs(rng, n=(2, 6), d_model=(3, 8), expansion=4, dtype=None):
    d = pick(rng, d_model)
    d_ff = expansion * d
    return cast({"x": rng.standard_normal((pick(rng, n), d)),
                 "W1": weight(rng, d, d_ff), "b1": 0.1 * rng.standard_normal(d_ff),
                 "W2": weight(rng, d_ff, d), "b2": 0.1 * rng.standard_normal(d)}, dtype)


def block_params(rng, d_model, expansion=4):
    d_ff = expansion * d_model
    block = {"ln1_gamma": 1 + 0.2 * rng.standard_normal(d_model),
             "ln1_beta": 0.2 * rng.standard_normal(d_model)}
    for name in ("W_q", "W_k", "W_v", "W_o"):
        block[name] = weight(rng, d_model, d_model)
    block.update({"ln2_gamma": 1 + 0.2 * rng.standard_normal(d_model),
                  "ln2_beta": 0.2 * rng.standard_normal(d_model),
                  "W1": weight(rng, d_model, d_ff), "b1": 0.1 * rng.standard_normal(d_ff),
                  "W2": weight(rng, d_ff, d_model), "b2": 0.1 * rng.standard_normal(d_model)})
    return block


def block_inputs(rng, n=(3, 7), n_heads=(2, 3), d_k=(2, 4), dtype=None):
    h = pick(rng, n_heads)
    d_model = h * pick(rng, d_k)
    return cast({"x": rng.standard_normal((pick(rng, n), d_model)),
                 "block": block_params(rng, d_model), "n_heads": h}, dtype)


def model_params(rng, vocab, d_model, n_heads, n_layers, embedding_std=1.0):
    """A tiny GPT: embeddings of std `embedding_std` (the tied output then gives logits of a
    few units, so greedy decoding is not decided by rounding)."""
    return {"token_embedding": embedding_std * rng.standard_normal((vocab, d_model)),
            "blocks": [block_params(rng, d_model) for _ in range(n_layers)],
            "lnf_gamma": 1 + 0.2 * rng.standard_normal(d_model),
            "lnf_beta": 0.2 * rng.standard_normal(d_model),
            "n_heads": n_heads}


def model_inputs(rng, n=(3, 7), vocab=(8, 16), n_heads=(2, 3), d_k=(2, 4), n_layers=(1, 2),
                 n_new=None):
    h = pick(rng, n_heads)
    V = pick(rng, vocab)
    params = model_params(rng, V, h * pick(rng, d_k), h, pick(rng, n_layers))
    ids = rng.integers(0, V, size=pick(rng, n))
    inputs = {"token_ids": ids, "params": params}
    if n_new is not None:
        inputs["n_new"] = pick(rng, n_new)
    return inputs



def flat_rows_model(rng, n=(3, 4), vocab=(6, 8), n_heads=(1, 2), d_model=4, n_layers=2, noise=0.01):
    """A tiny two-block model and a prompt of distinct ids whose token embeddings cancel the
    positional encoding up to a small noise: the first LayerNorm of every position sees a row of
    tiny variance (about noise²), so where eps goes (inside the square root) and which variance
    is taken (biased) show in the logits — as in a row of nearly equal features, which random
    weights of a few units rarely give (tests/test_mistake_search.py)."""
    h = pick(rng, n_heads)
    d = d_model   # of 2 features a LayerNorm's output is ±1 whatever the scale: nothing after it would show
    V = pick(rng, vocab)
    params = model_params(rng, V, d, h, pick(rng, n_layers))
    m = min(pick(rng, n), V)
    ids = rng.choice(V, size=m, replace=False)
    p, two_i = np.arange(m)[:, None], np.arange(0, d, 2)
    angles = p / 10000.0 ** (two_i / d)
    pe = np.zeros((m, d))
    pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles[:, : d // 2])
    params["token_embedding"][ids] = rng.standard_normal((m, 1)) - pe + noise * rng.standard_normal((m, d))
    return {"token_ids": ids, "params": params}
