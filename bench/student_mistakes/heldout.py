"""A held-out corpus: single-mistake submissions written after the diagnosis was tuned on
corpus.py, to measure how it generalises to mistakes it was not built for.

Same entry format as corpus.py (`Entry`: id, module, function, family, cause, named, source,
wrong). None of these is a copy of a corpus.py entry nor of a reference/mistakes.py variant:
other scale factors, other axis slips, transposes, off-by-one positions, a LayerNorm or a
residual in the wrong place, a missing bias, a wrong constant, wrong frequencies, a sampling
slip. `bench/diagnosis_accuracy.py --only heldout` grades them through the real pipeline; no
catalog variant may be added for one of them (that would measure the catalog, not
generalisation).

Written in rounds, each after the diagnoses built for the previous one, to measure them on
mistakes they were not built for: the first 36 (`h-`), 8 more (`h2-`) after the head-order,
step-moved, greedy-generation and swapped-call diagnoses, 6 more (`h3-`) after those built for the
`h2-` families. A round's figure is the one measured when it was written (the issue's closing
note keeps them); later diagnoses may name its entries too.
"""
from __future__ import annotations

from .corpus import _e

ENTRIES = [
    # --- similarity ---------------------------------------------------------------------------
    _e("h-dot-einsum-2d", "similarity", "dot_product", "crash", "einsum written for 2-D rows only",
       ["axis=-1", "...", "ellipsis"], '''
def dot_product(a, b):
    return np.einsum("ij,ij->i", a, b)
'''),
    _e("h-cosine-squared-norms", "similarity", "cosine_similarity", "formula", "squared norms, no square root",
       ["sqrt", "norm", "‖a‖"], '''
def cosine_similarity(a, b, eps=1e-8):
    na = np.maximum(np.sum(a * a, axis=-1), eps)
    nb = np.maximum(np.sum(b * b, axis=-1), eps)
    return dot_product(a, b) / (na * nb)
'''),
    _e("h-scaled-times-sqrt", "similarity", "scaled_dot_product", "formula", "multiplies by sqrt(d) instead of dividing",
       [("×", "√d"), ("multipl", "√d"), ("divid", "√d"), ("divis", "√d")], '''
def scaled_dot_product(a, b):
    return dot_product(a, b) * np.sqrt(a.shape[-1])
'''),
    _e("h-scaled-by-size", "similarity", "scaled_dot_product", "shape", "sqrt of a.size, not of d",
       ["shape[-1]", ("√d", "coordinates"), ("√d", "coordonnées")], '''
def scaled_dot_product(a, b):
    return dot_product(a, b) / np.sqrt(a.size)
'''),
    _e("h-matrix-transposed", "similarity", "cosine_similarity_matrix", "shape", "B against A: (m, n) instead of (n, m)",
       ["transpos", "(n, m)"], '''
def cosine_similarity_matrix(A, B=None):
    if B is None:
        B = A
    nA = np.maximum(np.linalg.norm(A, axis=1), 1e-8)
    nB = np.maximum(np.linalg.norm(B, axis=1), 1e-8)
    return (B @ A.T) / np.outer(nB, nA)
'''),
    # --- softmax ------------------------------------------------------------------------------
    _e("h-softmax-unshifted-denominator", "softmax", "softmax", "stability",
       "numerator shifted by the max, denominator not", [("same", "max"), ("même", "max")], '''
def softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return np.exp(x - m) / np.sum(np.exp(x), axis=axis, keepdims=True)
'''),
    _e("h-softmax-log", "softmax", "softmax", "formula", "returns log-softmax (forgot the final exp)",
       ["e^x", "exp"], '''
def softmax(x, axis=-1):
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
'''),
    # --- embeddings ---------------------------------------------------------------------------
    _e("h-one-hot-transposed", "embeddings", "one_hot", "shape", "one column per id: (V, n)",
       ["transpos", "(n, vocab_size)"], '''
def one_hot(ids, vocab_size):
    ids = np.asarray(ids)
    if np.any(ids < 0) or np.any(ids >= vocab_size):
        raise ValueError("id out of range")
    return np.eye(vocab_size)[:, ids]
'''),
    _e("h-one-hot-one-based", "embeddings", "one_hot", "off-by-one", "treats ids as 1-based",
       ["ids[k]"], '''
def one_hot(ids, vocab_size):
    ids = np.asarray(ids)
    if np.any(ids < 0) or np.any(ids >= vocab_size):
        raise ValueError("id out of range")
    out = np.zeros((len(ids), vocab_size))
    out[np.arange(len(ids)), ids - 1] = 1.0
    return out
'''),
    _e("h-embed-columns", "embeddings", "embed", "axis", "takes columns E[:, ids] and transposes",
       ["E[ids]", "rows", "lignes"], '''
def embed(ids, E):
    ids = np.asarray(ids)
    if np.any(ids < 0) or np.any(ids >= len(E)):
        raise ValueError("bad id")
    return E[:, ids].T
'''),
    _e("h-skipgram-context-first", "embeddings", "skipgram_pairs", "order", "pairs written (context, center)",
       ["center", "centre", "(tokens[i], tokens[j])"], '''
def skipgram_pairs(tokens, window=2):
    pairs = []
    for i, center in enumerate(tokens):
        for j in range(max(0, i - window), min(len(tokens), i + window + 1)):
            if j != i:
                pairs.append((tokens[j], center))
    return pairs
'''),
    _e("h-analogy-keeps-c", "embeddings", "analogy", "formula", "excludes a and b but not c",
       [("a", "b", "c", "question"), ("a", "b", "c", "candidat")], '''
def analogy(words, E, a, b, c):
    idx = {w: i for i, w in enumerate(words)}
    target = E[idx[b]] - E[idx[a]] + E[idx[c]]
    scores = cosine_similarity(E, target)
    scores[idx[a]] = -np.inf
    scores[idx[b]] = -np.inf
    return words[int(np.argmax(scores))]
'''),
    # --- attention ----------------------------------------------------------------------------
    _e("h-simatt-output-transposed", "attention", "similarity_attention", "formula", "weights.T @ E",
       ["weights @ E", "poids @ E", "transpos"], '''
def similarity_attention(E):
    weights = softmax(cosine_similarity_matrix(E), axis=-1)
    return weights.T @ E, weights
'''),
    _e("h-weights-divided-by-dk", "attention", "attention_weights", "formula", "divides the scores by d_k, not √d_k",
       ["√d_k", "sqrt(d_k)"], '''
def attention_weights(Q, K, mask=None):
    d_k = Q.shape[-1]
    scores = (Q @ np.swapaxes(K, -1, -2)) / d_k
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores, axis=-1)
'''),
    _e("h-weights-sqrt-nk", "attention", "attention_weights", "shape", "scales by √n_k (K.shape[-2])",
       ["√d_k", "sqrt(d_k)", "shape[-1]"], '''
def attention_weights(Q, K, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(K.shape[-2])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores)
'''),
    _e("h-sdpa-mixes-keys", "attention", "scaled_dot_product_attention", "formula", "weights @ K instead of weights @ V",
       ["@ V"], '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    weights = attention_weights(Q, K, mask)
    return weights @ K, weights
'''),
    _e("h-sdpa-temperature-2", "attention", "scaled_dot_product_attention", "formula",
       "divides by 2·√d_k (scale applied twice in spirit)", ["√d_k", "sqrt(d_k)"], '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    d_k = Q.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / (2 * np.sqrt(d_k))
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores)
    return weights @ V, weights
'''),
    _e("h-causal-k1", "attention", "causal_mask", "off-by-one", "np.tril with k=1 lets each position see the next",
       ["k=0", "j <= i"], '''
def causal_mask(n_q, n_k=None):
    n_k = n_q if n_k is None else n_k
    return np.tril(np.ones((n_q, n_k), dtype=bool), k=1)
'''),
    _e("h-mha-heads-reversed", "attention", "multi_head_attention", "order", "concatenates the heads in reverse order",
       ["order", "ordre", ("h·d_k", "(h+1)")], '''
def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    if d_model % n_heads != 0:
        raise ValueError("n_heads must divide d_model")
    d_k = d_model // n_heads
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    outs, ws = [], []
    for h in range(n_heads):
        cols = slice(h * d_k, (h + 1) * d_k)
        o, w = scaled_dot_product_attention(Q[..., cols], K[..., cols], V[..., cols], mask)
        outs.append(o)
        ws.append(w)
    return np.concatenate(outs[::-1], axis=-1) @ W_o, np.stack(ws, axis=-3)
'''),
    _e("h-mha-wq-transposed", "attention", "multi_head_attention", "formula", "X @ W_q.T (weights used as W x)",
       [("W_q", "transpos"), "X @ W"], '''
def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    if d_model % n_heads != 0:
        raise ValueError("n_heads must divide d_model")
    Q, K, V = (split_heads(X @ W, n_heads) for W in (W_q.T, W_k, W_v))
    if mask is not None:
        mask = mask[..., None, :, :]
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return merge_heads(heads) @ W_o, weights
'''),
    _e("h-mha-scale-by-dk", "attention", "multi_head_attention", "formula", "heads from scratch, scores / d_k",
       ["√d_k", "sqrt(d_k)"], '''
def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    if d_model % n_heads != 0:
        raise ValueError("n_heads must divide d_model")
    d_k = d_model // n_heads
    Q, K, V = (split_heads(X @ W, n_heads) for W in (W_q, W_k, W_v))
    s = Q @ np.swapaxes(K, -1, -2) / d_k
    if mask is not None:
        s = np.where(mask[..., None, :, :], s, -np.inf)
    w = softmax(s)
    return merge_heads(w @ V) @ W_o, w
'''),
    # --- positional ---------------------------------------------------------------------------
    _e("h-pe-multiplies", "positional", "positional_encoding", "formula", "p * base**(2i/d) instead of p / base**(2i/d)",
       ["p / base", "divid", "divis"], '''
def positional_encoding(n_positions, d_model, base=10000.0):
    pos = np.arange(n_positions)[:, None]
    two_i = np.arange(0, d_model, 2)[None, :]
    angle = pos * base ** (two_i / d_model)
    PE = np.zeros((n_positions, d_model))
    PE[:, 0::2] = np.sin(angle)
    PE[:, 1::2] = np.cos(angle[:, :d_model // 2])
    return PE
'''),
    _e("h-pe-d-minus-one", "positional", "positional_encoding", "formula", "exponent 2i/(d_model - 1)",
       ["2i / d_model", "2i/d_model"], '''
def positional_encoding(n_positions, d_model, base=10000.0):
    PE = np.zeros((n_positions, d_model))
    for pos in range(n_positions):
        for k in range(0, d_model, 2):
            angle = pos / base ** (k / (d_model - 1))
            PE[pos, k] = np.sin(angle)
            if k + 1 < d_model:
                PE[pos, k + 1] = np.cos(angle)
    return PE
'''),
    _e("h-pe-log-base-10", "positional", "positional_encoding", "formula", "exp(-log10(base)·2i/d): wrong logarithm",
       ["2i / d_model", "2i/d_model", "base"], '''
def positional_encoding(n_positions, d_model, base=10000.0):
    pos = np.arange(n_positions)[:, None]
    div = np.exp(np.arange(0, d_model, 2) * (-np.log10(base) / d_model))
    PE = np.zeros((n_positions, d_model))
    PE[:, 0::2] = np.sin(pos * div)
    PE[:, 1::2] = np.cos(pos * div)[:, :d_model // 2]
    return PE
'''),
    # --- transformer --------------------------------------------------------------------------
    _e("h-ln-no-eps", "transformer", "layer_norm", "formula", "divides by the std, eps left out",
       ["eps"], '''
def layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    return gamma * (x - mu) / x.std(axis=-1, keepdims=True) + beta
'''),
    _e("h-ln-gamma-beta-swapped", "transformer", "layer_norm", "formula", "beta · x̂ + gamma",
       [("gamma", "beta", "swap"), ("gamma", "beta", "invers"), ("gamma", "beta", "échang")], '''
def layer_norm(x, gamma, beta, eps=1e-5):
    xhat = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)
    return beta * xhat + gamma
''', wrong=["subtract the mean", "soustrayez la moyenne"]),
    _e("h-gelu-sqrt-2pi", "transformer", "gelu", "formula", "sqrt(2·π) instead of sqrt(2/π)",
       ["√(2/π)", "sqrt(2 / np.pi)", "sqrt(2/pi)"], '''
def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 * np.pi) * (x + 0.044715 * x ** 3)))
'''),
    _e("h-gelu-constant", "transformer", "gelu", "formula", "0.0447 written for 0.044715, cube as x**2",
       ["0.044715", "x³"], '''
def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 2)))
'''),
    _e("h-ffn-no-b1", "transformer", "feed_forward", "formula", "forgets b1",
       ["b1"], '''
def feed_forward(x, W1, b1, W2, b2):
    hidden = gelu(x @ W1)
    return hidden @ W2 + b2
'''),
    _e("h-ffn-gelu-first", "transformer", "feed_forward", "formula", "GELU on the input, not on the hidden layer",
       [("gelu", "W1 + b1"), ("gelu", "hidden"), ("gelu", "cachée")], '''
def feed_forward(x, W1, b1, W2, b2):
    return (gelu(x) @ W1 + b1) @ W2 + b2
'''),
    _e("h-block-ln-after-ffn", "transformer", "transformer_block", "plumbing",
       "LayerNorm after the feed-forward residual", [("before", "sublayer"), ("avant", "sous-couche"), "pre-LN"], '''
def transformer_block(x, block, n_heads):
    mask = causal_mask(x.shape[-2])
    h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"])
    x = x + multi_head_attention(h, block["W_q"], block["W_k"], block["W_v"], block["W_o"], n_heads, mask)[0]
    x = x + feed_forward(x, block["W1"], block["b1"], block["W2"], block["b2"])
    return layer_norm(x, block["ln2_gamma"], block["ln2_beta"])
'''),
    _e("h-block-ffn-no-residual", "transformer", "transformer_block", "plumbing", "no residual around the feed-forward",
       ["residual", "résiduel", "x +"], '''
def transformer_block(x, block, n_heads):
    n = x.shape[0]
    a = multi_head_attention(layer_norm(x, block["ln1_gamma"], block["ln1_beta"]),
                             block["W_q"], block["W_k"], block["W_v"], block["W_o"], n_heads, causal_mask(n))[0]
    x = x + a
    return feed_forward(layer_norm(x, block["ln2_gamma"], block["ln2_beta"]),
                        block["W1"], block["b1"], block["W2"], block["b2"])
'''),
    _e("h-forward-blocks-reversed", "transformer", "transformer_forward", "order", "blocks applied last to first",
       ["order", "ordre"], '''
def transformer_forward(token_ids, params):
    E = params["token_embedding"]
    x = embed(token_ids, E) + positional_encoding(len(token_ids), E.shape[1])
    for block in reversed(params["blocks"]):
        x = transformer_block(x, block, params["n_heads"])
    return layer_norm(x, params["lnf_gamma"], params["lnf_beta"]) @ E.T
'''),
    _e("h-forward-pe-args-swapped", "transformer", "transformer_forward", "crash",
       "positional_encoding(d_model, n): arguments swapped", ["n_positions", "positional_encoding(n"], '''
def transformer_forward(token_ids, params):
    E = params["token_embedding"]
    n, d = len(token_ids), E.shape[1]
    x = embed(token_ids, E) + positional_encoding(d, n)
    for block in params["blocks"]:
        x = transformer_block(x, block, params["n_heads"])
    return layer_norm(x, params["lnf_gamma"], params["lnf_beta"]) @ E.T
'''),
    _e("h-next-global-sum", "transformer", "next_token_probabilities", "axis",
       "exp of the last row divided by the sum over every position", [("sum", "last"), ("somme", "dernière")], '''
def next_token_probabilities(token_ids, params):
    logits = transformer_forward(token_ids, params)
    e = np.exp(logits - logits.max())
    return e[-1] / e.sum()
'''),
    _e("h-gen-samples", "transformer", "generate", "formula", "samples from the softmax instead of the argmax",
       ["argmax", "greedy", "glouton"], '''
def generate(token_ids, params, n_new):
    rng = np.random.default_rng(0)
    ids = list(token_ids)
    for _ in range(n_new):
        p = next_token_probabilities(ids, params)
        ids.append(int(rng.choice(len(p), p=p)))
    return ids[len(token_ids):]
'''),
    # --- written after the head-order, step-moved, greedy and swapped-call diagnoses (issue 16,
    # second round), to measure them honestly: other families than the ones just built for ------
    _e("h2-dot-keepdims", "similarity", "dot_product", "shape", "keepdims=True leaves a (..., 1) axis",
       ["keepdims", ("shape", "(...)")], '''
def dot_product(a, b):
    return np.sum(a * b, axis=-1, keepdims=True)
'''),
    _e("h2-skipgram-window-short", "embeddings", "skipgram_pairs", "bounds",
       "range(i - window, i + window): the right edge of the window is missed", ["i + window"], '''
def skipgram_pairs(tokens, window=2):
    pairs = []
    for i in range(len(tokens)):
        for j in range(max(0, i - window), min(len(tokens), i + window)):
            if i != j:
                pairs.append((tokens[i], tokens[j]))
    return pairs
'''),
    _e("h2-softmax-minus-min", "softmax", "softmax", "stability", "subtracts the min, not the max",
       [("max", "subtract"), ("max", "soustray")], '''
def softmax(x, axis=-1):
    z = x - np.min(x, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)
'''),
    _e("h2-mha-concat-axis-0", "attention", "multi_head_attention", "axis",
       "heads concatenated along axis 0 (rows), not the last axis", ["axis=-1", "last axis", "dernier axe"], '''
def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    if d_model % n_heads:
        raise ValueError("d_model must be divisible by n_heads")
    d_k = d_model // n_heads
    heads, weights = [], []
    for h in range(n_heads):
        q = X @ W_q[:, h * d_k:(h + 1) * d_k]
        k = X @ W_k[:, h * d_k:(h + 1) * d_k]
        v = X @ W_v[:, h * d_k:(h + 1) * d_k]
        out, w = scaled_dot_product_attention(q, k, v, mask)
        heads.append(out)
        weights.append(w)
    return np.concatenate(heads) @ W_o, np.stack(weights, axis=-3)
'''),
    _e("h2-pe-positions-linspace", "positional", "positional_encoding", "formula",
       "positions normalised to [0, 1] with linspace", ["np.arange", "0, 1, 2", ("position", "integer"),
                                                        ("position", "entier")], '''
def positional_encoding(n_positions, d_model, base=10000.0):
    pos = np.linspace(0, 1, n_positions)[:, None]
    i = np.arange(0, d_model, 2)
    angles = pos / base ** (i / d_model)
    pe = np.zeros((n_positions, d_model))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, :d_model // 2])
    return pe
'''),
    _e("h2-gelu-no-cubic", "transformer", "gelu", "formula", "the 0.044715 x³ term left out",
       ["0.044715", "x³"], '''
def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * x))
'''),
    _e("h2-next-temperature", "transformer", "next_token_probabilities", "formula",
       "logits divided by sqrt(d_model) before the softmax", ["√d", "sqrt(d", "temperature", "température",
                                                              ("logits", "divided"), ("logits", "divis")], '''
def next_token_probabilities(token_ids, params):
    logits = transformer_forward(token_ids, params)[-1]
    logits = logits / np.sqrt(params["token_embedding"].shape[1])
    e = np.exp(logits - logits.max())
    return e / e.sum()
'''),
    _e("h2-next-log-softmax", "transformer", "next_token_probabilities", "formula",
       "returns log-probabilities (log-softmax)", ["log-softmax", "log-probab", "log(softmax", "log(p", "np.log("], '''
def next_token_probabilities(token_ids, params):
    logits = transformer_forward(token_ids, params)[-1]
    m = logits.max()
    return logits - m - np.log(np.sum(np.exp(logits - m)))
'''),
    # --- a third round, written after the diagnoses built for the second round's families (keepdims
    # shapes, temperatures and log-softmax, scaled positions, np.concatenate's default axis) -----
    _e("h3-matrix-ignores-b", "similarity", "cosine_similarity_matrix", "plumbing", "B overwritten by A: always A against A",
       [("B", "ignor"), ("B", "A"), ("B", "défaut")], '''
def cosine_similarity_matrix(A, B=None):
    B = A
    An = A / np.maximum(np.linalg.norm(A, axis=-1, keepdims=True), 1e-8)
    Bn = B / np.maximum(np.linalg.norm(B, axis=-1, keepdims=True), 1e-8)
    return An @ Bn.T
'''),
    _e("h3-softmax-sum-last-axis", "softmax", "softmax", "axis", "max over `axis`, sum hard-coded on the last axis",
       [("axis", "sum"), ("axis", "somme")], '''
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''),
    _e("h3-analogy-returns-index", "embeddings", "analogy", "type", "returns the row index, not the word",
       ["words[", ("word", "index"), ("mot", "indice")], '''
def analogy(words, E, a, b, c):
    pos = {w: k for k, w in enumerate(words)}
    v = E[pos[b]] - E[pos[a]] + E[pos[c]]
    sims = cosine_similarity(E, v)
    for w in (a, b, c):
        sims[pos[w]] = -np.inf
    return int(np.argmax(sims))
'''),
    _e("h3-mha-scales-values", "attention", "multi_head_attention", "formula", "divides V by sqrt(d_k), not the scores",
       ["scores", "√d_k", "sqrt(d_k)"], '''
def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    if d_model % n_heads != 0:
        raise ValueError("n_heads must divide d_model")
    d_k = d_model // n_heads
    Q, K, V = (split_heads(X @ W, n_heads) for W in (W_q, W_k, W_v))
    scores = Q @ np.swapaxes(K, -1, -2)
    if mask is not None:
        scores = np.where(mask[..., None, :, :], scores, -np.inf)
    w = softmax(scores)
    return merge_heads(w @ (V / np.sqrt(d_k))) @ W_o, w
'''),
    _e("h3-ln-uncentred-variance", "transformer", "layer_norm", "formula", "variance as mean(x**2), not of x - mean",
       ["np.var", ("variance", "mean"), ("variance", "moyenne")], '''
def layer_norm(x, gamma, beta, eps=1e-5):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean(x ** 2, axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta
'''),
    _e("h3-ffn-w2-transposed", "transformer", "feed_forward", "shape", "multiplies by W2.T",
       ["(in, out)", "(entrée, sortie)", "transposed at all", "bien être transposée"], '''
def feed_forward(x, W1, b1, W2, b2):
    h = gelu(x @ W1 + b1)
    return h @ W2.T + b2
'''),
]
