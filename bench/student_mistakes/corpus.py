"""Single-mistake submissions written the way students write them (by hand, not generated from
reference/mistakes.py). Each entry:

    id        a short name
    module    the exercise module whose function is replaced (similarity, softmax, …)
    function  the contract function replaced; every other function is the reference's
    family    which family of the issue it belongs to (crash, step, plumbing, hidden, …)
    cause     the cause in a few words (for the table)
    named     what an explanation must contain to count as naming the cause: a list of
              alternatives, each a word or a tuple of words that must all appear (case-
              insensitive); or {"en": [...], "fr": [...]} when the words differ by language
    wrong     words that, in an explanation of this submission, would be a wrong remedy
    source    the student's function (module-level code: it may import what it uses)
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    id: str
    module: str
    function: str
    family: str
    cause: str
    named: object
    source: str
    wrong: tuple = field(default_factory=tuple)


def _e(id, module, function, family, cause, named, source, wrong=()):
    return Entry(id, module, function, family, cause, named, source, tuple(wrong))


ENTRIES = [
    # --- similarity ---------------------------------------------------------------------------
    _e("dot-np-dot-batch", "similarity", "dot_product", "crash", "np.dot on batched rows",
       ["axis=-1"], '''
def dot_product(a, b):
    return np.dot(a, b)
'''),
    _e("dot-matmul-transpose", "similarity", "dot_product", "shape", "a @ b.T gives every pair, not row by row",
       ["axis=-1"], '''
def dot_product(a, b):
    return a @ b.T
'''),
    _e("dot-sum-axis-0", "similarity", "dot_product", "axis", "sums over axis 0",
       ["axis=-1"], '''
def dot_product(a, b):
    return np.sum(a * b, axis=0)
'''),
    _e("cosine-norm-no-axis", "similarity", "cosine_similarity", "axis", "np.linalg.norm without axis on batches",
       ["axis=-1"], '''
def cosine_similarity(a, b, eps=1e-8):
    na = max(np.linalg.norm(a), eps)
    nb = max(np.linalg.norm(b), eps)
    return dot_product(a, b) / (na * nb)
'''),
    _e("cosine-if-zero-batch", "similarity", "cosine_similarity", "crash", "if on an array of norms",
       ["np.maximum", "np.where", "max("], '''
def cosine_similarity(a, b, eps=1e-8):
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    if na == 0 or nb == 0:
        return 0.0
    return dot_product(a, b) / (na * nb)
'''),
    _e("cosine-eps-added", "similarity", "cosine_similarity", "formula", "adds eps to the norm product, no floor",
       ["max(", "maximum"], '''
def cosine_similarity(a, b, eps=1e-8):
    return dot_product(a, b) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + eps)
'''),
    _e("scaled-len-not-d", "similarity", "scaled_dot_product", "shape", "len(a) is the number of rows, not d",
       ["shape[-1]"], '''
def scaled_dot_product(a, b):
    return dot_product(a, b) / np.sqrt(len(a))
'''),
    _e("scaled-by-norm", "similarity", "scaled_dot_product", "formula", "divides by the norm instead of sqrt(d)",
       ["shape[-1]", ("√d", "coordinates"), ("√d", "coordonnées")], '''
def scaled_dot_product(a, b):
    return dot_product(a, b) / np.linalg.norm(a, axis=-1)
'''),
    _e("matrix-b-eq-none", "similarity", "cosine_similarity_matrix", "crash", "B == None on an array",
       ["is None"], '''
def cosine_similarity_matrix(A, B=None):
    if B == None:
        B = A
    return (A @ B.T) / np.outer(np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1))
'''),
    _e("matrix-only-a-normalised", "similarity", "cosine_similarity_matrix", "formula", "only A's rows normalised",
       ["‖B", "each row of B", "chaque ligne de B", "np.outer"], '''
def cosine_similarity_matrix(A, B=None):
    B = A if B is None else B
    nA = np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-8)
    return (A @ B.T) / nA
'''),
    _e("matrix-loops-no-floor", "similarity", "cosine_similarity_matrix", "formula", "loops, 0/0 on a zero row",
       ["max(", "maximum", "eps"], '''
def cosine_similarity_matrix(A, B=None):
    if B is None:
        B = A
    S = np.zeros((len(A), len(B)))
    for i in range(len(A)):
        for j in range(len(B)):
            S[i, j] = np.dot(A[i], B[j]) / (np.linalg.norm(A[i]) * np.linalg.norm(B[j]))
    return S
'''),
    # --- softmax ------------------------------------------------------------------------------
    _e("softmax-no-keepdims", "softmax", "softmax", "crash", "sum without keepdims",
       ["keepdims"], '''
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis)
''', wrong=["subtract the max", "soustrai"]),
    _e("softmax-ignores-axis", "softmax", "softmax", "hidden", "always the last axis",
       ["axis"], '''
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
''', wrong=["divide e^x by its sum", "divisez e^x"]),
    _e("softmax-global-max", "softmax", "softmax", "stability", "subtracts the global max, not the slice's",
       [("max", "axis"), ("max", "axe")], '''
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x))
    return e / e.sum(axis=axis, keepdims=True)
'''),
    _e("softmax-axis-0", "softmax", "softmax", "axis", "hard-coded axis=0 with keepdims",
       ["axis"], '''
def softmax(x, axis=-1):
    x = x - x.max(axis=0)
    return np.exp(x) / np.exp(x).sum(axis=0)
'''),
    _e("softmax-loop-rows", "softmax", "softmax", "axis", "loops over rows of a 2-D array, ignores axis",
       ["axis", "axe"], '''
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        e = np.exp(x - x.max())
        return e / e.sum()
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        e = np.exp(x[i] - x[i].max())
        out[i] = e / e.sum()
    return out
'''),
    # --- embeddings ---------------------------------------------------------------------------
    _e("one-hot-zeros-args", "embeddings", "one_hot", "crash", "np.zeros(n, V): the shape must be a tuple",
       ["tuple", "(("], '''
def one_hot(ids, vocab_size):
    ids = np.asarray(ids)
    if np.any(ids < 0) or np.any(ids >= vocab_size):
        raise ValueError("id out of range")
    out = np.zeros(len(ids), vocab_size)
    out[np.arange(len(ids)), ids] = 1
    return out
'''),
    _e("one-hot-check-gt", "embeddings", "one_hot", "bounds", "checks id > V instead of id >= V",
       [">="], '''
def one_hot(ids, vocab_size):
    ids = np.asarray(ids)
    if np.any(ids < 0) or np.any(ids > vocab_size):
        raise ValueError("id out of range")
    return np.eye(vocab_size)[ids]
'''),
    _e("one-hot-no-negative-check", "embeddings", "one_hot", "bounds", "no check for negative ids",
       ["0 <=", "negative", "négati"], '''
def one_hot(ids, vocab_size):
    ids = np.asarray(ids)
    if np.any(ids >= vocab_size):
        raise ValueError("id out of range")
    return np.eye(vocab_size)[ids]
'''),
    _e("embed-d-not-v", "embeddings", "embed", "shape", "one_hot(ids, E.shape[1]): d instead of V",
       ["len(E)", "shape[0]"], '''
def embed(ids, E):
    return one_hot(ids, E.shape[1]) @ E
'''),
    _e("embed-list-rows", "embeddings", "embed", "type", "returns a list of rows",
       ["np.array", "E[ids]", "ndarray"], '''
def embed(ids, E):
    ids = np.asarray(ids)
    if np.any(ids < 0) or np.any(ids >= len(E)):
        raise ValueError("bad id")
    return [E[i] for i in ids]
'''),
    _e("skipgram-no-lower-bound", "embeddings", "skipgram_pairs", "bounds", "j may be negative: tokens[-1] wraps",
       ["0 <=", "negative", "négati", "max(0"], '''
def skipgram_pairs(tokens, window=2):
    pairs = []
    for i in range(len(tokens)):
        for j in range(i - window, i + window + 1):
            if j != i and j < len(tokens):
                pairs.append((tokens[i], tokens[j]))
    return pairs
'''),
    _e("skipgram-right-only", "embeddings", "skipgram_pairs", "loop", "context only to the right",
       ["i - window", "left", "gauche"], '''
def skipgram_pairs(tokens, window=2):
    pairs = []
    for i in range(len(tokens)):
        for j in range(i + 1, min(len(tokens), i + window + 1)):
            pairs.append((tokens[i], tokens[j]))
    return pairs
'''),
    _e("skipgram-set", "embeddings", "skipgram_pairs", "loop", "deduplicates through a set",
       ["dedup", "set(", "doublon"], '''
def skipgram_pairs(tokens, window=2):
    pairs = []
    for i in range(len(tokens)):
        for j in range(max(0, i - window), min(len(tokens), i + window + 1)):
            if j != i and (tokens[i], tokens[j]) not in pairs:
                pairs.append((tokens[i], tokens[j]))
    return pairs
'''),
    _e("analogy-dot", "embeddings", "analogy", "formula", "ranks by dot product, not cosine",
       ["cosine", "cosinus"], '''
def analogy(words, E, a, b, c):
    idx = {w: i for i, w in enumerate(words)}
    target = E[idx[b]] - E[idx[a]] + E[idx[c]]
    best, best_score = None, -np.inf
    for i, w in enumerate(words):
        if w in (a, b, c):
            continue
        score = np.dot(E[i], target)
        if score > best_score:
            best, best_score = w, score
    return best
'''),
    _e("analogy-sign", "embeddings", "analogy", "formula", "E[a] - E[b] + E[c]",
       ["b − a + c", "b - a + c", "E[b] - E[a]"], '''
def analogy(words, E, a, b, c):
    idx = {w: i for i, w in enumerate(words)}
    target = E[idx[a]] - E[idx[b]] + E[idx[c]]
    scores = cosine_similarity(E, target)
    for w in (a, b, c):
        scores[idx[w]] = -np.inf
    return words[int(np.argmax(scores))]
'''),
    _e("analogy-euclid", "embeddings", "analogy", "formula", "nearest by Euclidean distance",
       ["cosine", "cosinus"], '''
def analogy(words, E, a, b, c):
    idx = {w: i for i, w in enumerate(words)}
    target = E[idx[b]] - E[idx[a]] + E[idx[c]]
    dist = np.linalg.norm(E - target, axis=1)
    for w in (a, b, c):
        dist[idx[w]] = np.inf
    return words[int(np.argmin(dist))]
'''),
    # --- attention ----------------------------------------------------------------------------
    _e("simatt-plain-sum", "attention", "similarity_attention", "step", "normalises by the plain sum, not a softmax",
       ["softmax"], '''
def similarity_attention(E):
    S = cosine_similarity_matrix(E)
    weights = S / S.sum(axis=1, keepdims=True)
    return weights @ E, weights
'''),
    _e("simatt-axis-0", "attention", "similarity_attention", "axis", "softmax over the columns",
       ["axis=-1", "last axis", "dernier axe"], '''
def similarity_attention(E):
    weights = softmax(cosine_similarity_matrix(E), axis=0)
    return weights @ E, weights
'''),
    _e("simatt-order", "attention", "similarity_attention", "plumbing", "returns (weights, output)",
       ["order", "ordre"], '''
def similarity_attention(E):
    weights = softmax(cosine_similarity_matrix(E))
    return weights, weights @ E
'''),
    _e("weights-kt-batched", "attention", "attention_weights", "crash", "K.T on batched inputs",
       ["swapaxes"], '''
def attention_weights(Q, K, mask=None):
    scores = Q @ K.T / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores)
'''),
    _e("weights-mask-after-softmax", "attention", "attention_weights", "step", "mask applied after the softmax",
       ["before the softmax", "avant le softmax", "-inf"], '''
def attention_weights(Q, K, mask=None):
    d_k = Q.shape[-1]
    w = softmax(Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k))
    if mask is not None:
        w = w * mask
    return w
''', wrong=["over the last axis", "sur le dernier axe"]),
    _e("weights-mask-multiply", "attention", "attention_weights", "step", "scores * mask: 0 instead of -inf",
       ["-inf"], '''
def attention_weights(Q, K, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores * mask
    return softmax(scores)
''', wrong=["over the last axis", "sur le dernier axe"]),
    _e("weights-dk-rows", "attention", "attention_weights", "shape", "d_k = Q.shape[0]",
       ["shape[-1]", "√d_k"], '''
def attention_weights(Q, K, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[0])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores)
'''),
    _e("sdpa-no-scaling", "attention", "scaled_dot_product_attention", "step", "no 1/sqrt(d_k), written from scratch",
       ["√d_k", "sqrt(d_k)"], '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores)
    return weights @ V, weights
'''),
    _e("sdpa-mask-after-softmax", "attention", "scaled_dot_product_attention", "step", "mask after the softmax",
       ["before the softmax", "avant le softmax", "-inf"], '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    weights = attention_weights(Q, K)
    if mask is not None:
        weights = np.where(mask, weights, 0.0)
    return weights @ V, weights
''', wrong=["over the last axis", "sur le dernier axe"]),
    _e("sdpa-transpose-batched", "attention", "scaled_dot_product_attention", "crash",
       "K.transpose() reverses every axis of a batch", ["swapaxes"], '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.transpose() / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores)
    return weights @ V, weights
'''),
    _e("causal-float", "attention", "causal_mask", "type", "float mask, not boolean",
       ["bool"], '''
def causal_mask(n_q, n_k=None):
    if n_k is None:
        n_k = n_q
    return np.tril(np.ones((n_q, n_k)))
'''),
    _e("causal-ignores-nk", "attention", "causal_mask", "shape", "ignores n_k",
       ["n_k"], '''
def causal_mask(n_q, n_k=None):
    return np.tril(np.ones((n_q, n_q), dtype=bool))
'''),
    _e("causal-bottom-right", "attention", "causal_mask", "formula", "aligned bottom-right",
       ["top-left", "haut à gauche", "k=0"], '''
def causal_mask(n_q, n_k=None):
    n_k = n_q if n_k is None else n_k
    return np.tril(np.ones((n_q, n_k), dtype=bool), k=n_k - n_q)
'''),
    _e("mha-float-dk", "attention", "multi_head_attention", "crash", "d_model / n_heads is a float",
       ["//"], '''
def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    if d_model % n_heads != 0:
        raise ValueError("heads")
    d_k = d_model / n_heads
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    heads, weights = [], []
    for h in range(n_heads):
        s = slice(h * d_k, (h + 1) * d_k)
        o, w = scaled_dot_product_attention(Q[..., s], K[..., s], V[..., s], mask)
        heads.append(o)
        weights.append(w)
    return np.concatenate(heads, axis=-1) @ W_o, np.stack(weights, axis=-3)
'''),
    _e("mha-loop-no-scaling", "attention", "multi_head_attention", "step", "heads written from scratch, no 1/sqrt(d_k)",
       ["√d_k", "sqrt(d_k)"], '''
def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    if d_model % n_heads != 0:
        raise ValueError("heads")
    d_k = d_model // n_heads
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    heads, weights = [], []
    for h in range(n_heads):
        q, k, v = (M[..., h * d_k:(h + 1) * d_k] for M in (Q, K, V))
        s = q @ np.swapaxes(k, -1, -2)
        if mask is not None:
            s = np.where(mask, s, -np.inf)
        w = softmax(s)
        heads.append(w @ v)
        weights.append(w)
    return np.concatenate(heads, axis=-1) @ W_o, np.stack(weights, axis=-3)
'''),
    _e("mha-drops-mask", "attention", "multi_head_attention", "step", "mask not passed to the heads",
       ["mask", "masque"], '''
def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    if d_model % n_heads != 0:
        raise ValueError("heads")
    Q, K, V = (split_heads(X @ W, n_heads) for W in (W_q, W_k, W_v))
    heads, weights = scaled_dot_product_attention(Q, K, V)
    return merge_heads(heads) @ W_o, weights
'''),
    _e("mha-strided-heads", "attention", "multi_head_attention", "formula", "head h takes every n_heads-th column",
       [("h·d_k", "(h+1)"), "reshape", "consecutive", "consécutives"], '''
def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    if d_model % n_heads != 0:
        raise ValueError("heads")
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    heads, weights = [], []
    for h in range(n_heads):
        o, w = scaled_dot_product_attention(Q[..., h::n_heads], K[..., h::n_heads], V[..., h::n_heads], mask)
        heads.append(o)
        weights.append(w)
    return np.concatenate(heads, axis=-1) @ W_o, np.stack(weights, axis=-3)
'''),
    _e("mha-mean-weights", "attention", "multi_head_attention", "shape", "averages the weights over heads",
       ["per head", "par tête", "n_heads"], '''
def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    if d_model % n_heads != 0:
        raise ValueError("heads")
    Q, K, V = (split_heads(X @ W, n_heads) for W in (W_q, W_k, W_v))
    if mask is not None:
        mask = np.expand_dims(mask, -3)
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return merge_heads(heads) @ W_o, weights.mean(axis=-3)
'''),
    _e("mha-softmax-queries", "attention", "multi_head_attention", "axis", "softmax over the queries axis",
       ["last axis", "dernier axe", "axis=-1"], '''
def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    if d_model % n_heads != 0:
        raise ValueError("heads")
    d_k = d_model // n_heads
    Q, K, V = (split_heads(X @ W, n_heads) for W in (W_q, W_k, W_v))
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    w = softmax(s, axis=-2)
    return merge_heads(w @ V) @ W_o, w
'''),
    # --- positional ---------------------------------------------------------------------------
    _e("pe-odd-broadcast", "positional", "positional_encoding", "crash", "cos of every angle: fails for odd d_model",
       ["odd", "impair", "d_model // 2"], '''
def positional_encoding(n_positions, d_model, base=10000.0):
    pos = np.arange(n_positions)[:, None]
    i = np.arange(0, d_model, 2)
    angles = pos / base ** (i / d_model)
    PE = np.zeros((n_positions, d_model))
    PE[:, 0::2] = np.sin(angles)
    PE[:, 1::2] = np.cos(angles)
    return PE
'''),
    _e("pe-floor-div", "positional", "positional_encoding", "crash", "// where / was meant in the exponent",
       ["//"], '''
def positional_encoding(n_positions, d_model, base=10000.0):
    PE = np.zeros((n_positions, d_model))
    for p in range(n_positions):
        for j in range(0, d_model, 2):
            angle = p / base ** (j // d_model)
            PE[p, j] = np.sin(angle)
            if j + 1 < d_model:
                PE[p, j + 1] = np.cos(angle)
    return PE
'''),
    _e("pe-column-index", "positional", "positional_encoding", "formula", "odd column uses (2i+1)/d",
       ["2i"], '''
def positional_encoding(n_positions, d_model, base=10000.0):
    PE = np.zeros((n_positions, d_model))
    for p in range(n_positions):
        for j in range(d_model):
            angle = p / base ** (j / d_model)
            PE[p, j] = np.sin(angle) if j % 2 == 0 else np.cos(angle)
    return PE
'''),
    _e("pe-ignores-base", "positional", "positional_encoding", "hidden", "10000 hard-coded, base ignored",
       ["base"], '''
def positional_encoding(n_positions, d_model, base=10000.0):
    PE = np.zeros((n_positions, d_model))
    for p in range(n_positions):
        for i in range(0, d_model, 2):
            PE[p, i] = np.sin(p / 10000 ** (i / d_model))
            if i + 1 < d_model:
                PE[p, i + 1] = np.cos(p / 10000 ** (i / d_model))
    return PE
'''),
    # --- transformer --------------------------------------------------------------------------
    _e("ln-no-keepdims", "transformer", "layer_norm", "crash", "mean/var without keepdims",
       ["keepdims"], '''
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=-1)
    var = x.var(axis=-1)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta
'''),
    _e("ln-no-gamma-beta", "transformer", "layer_norm", "formula", "forgets gamma and beta",
       ["gamma", "γ"], '''
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)
'''),
    _e("ln-axis-0", "transformer", "layer_norm", "axis", "mean and variance over axis 0",
       ["last axis", "dernier axe", "axis=-1"], '''
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=0, keepdims=True)
    var = np.var(x, axis=0, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta
'''),
    _e("ln-std-ddof", "transformer", "layer_norm", "formula", "np.std(ddof=1), eps inside",
       ["ddof", "biased", "biaisée"], '''
def layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    sigma2 = x.std(-1, ddof=1, keepdims=True) ** 2
    return gamma * (x - mu) / np.sqrt(sigma2 + eps) + beta
'''),
    _e("gelu-parenthesis", "transformer", "gelu", "formula", "√(2/π) applied to x only",
       ["√(2/π) (x + 0.044715", "sqrt(2 / np.pi) * (x + 0.044715"], '''
def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * x + 0.044715 * x ** 3))
'''),
    _e("gelu-sigmoid", "transformer", "gelu", "formula", "sigmoid approximation x·σ(1.702x)",
       ["tanh"], '''
def gelu(x):
    return x / (1 + np.exp(-1.702 * x))
'''),
    _e("ffn-no-b2", "transformer", "feed_forward", "formula", "forgets b2",
       ["b2"], '''
def feed_forward(x, W1, b1, W2, b2):
    return gelu(x @ W1 + b1) @ W2
'''),
    _e("ffn-gelu-twice", "transformer", "feed_forward", "formula", "GELU after the second layer too",
       [("gelu", "W2 + b2"), ("second", "gelu"), ("seconde", "gelu")], '''
def feed_forward(x, W1, b1, W2, b2):
    h = gelu(x @ W1 + b1)
    return gelu(h @ W2 + b2)
'''),
    _e("block-no-residuals", "transformer", "transformer_block", "plumbing", "both residual connections missing",
       ["residual", "résiduel", "x +"], '''
def transformer_block(x, block, n_heads):
    mask = causal_mask(x.shape[-2])
    h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"])
    x = multi_head_attention(h, block["W_q"], block["W_k"], block["W_v"], block["W_o"], n_heads, mask)[0]
    h = layer_norm(x, block["ln2_gamma"], block["ln2_beta"])
    return feed_forward(h, block["W1"], block["b1"], block["W2"], block["b2"])
'''),
    _e("block-residual-from-ln", "transformer", "transformer_block", "plumbing", "adds the normalised h, not x",
       ["residual", "résiduel", "x +"], '''
def transformer_block(x, block, n_heads):
    mask = causal_mask(x.shape[-2])
    h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"])
    x = h + multi_head_attention(h, block["W_q"], block["W_k"], block["W_v"], block["W_o"], n_heads, mask)[0]
    h = layer_norm(x, block["ln2_gamma"], block["ln2_beta"])
    return h + feed_forward(h, block["W1"], block["b1"], block["W2"], block["b2"])
'''),
    _e("block-tuple-added", "transformer", "transformer_block", "crash", "adds the (output, weights) tuple",
       ["[0]", "tuple"], '''
def transformer_block(x, block, n_heads):
    mask = causal_mask(x.shape[-2])
    h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"])
    x = x + multi_head_attention(h, block["W_q"], block["W_k"], block["W_v"], block["W_o"], n_heads, mask)
    h = layer_norm(x, block["ln2_gamma"], block["ln2_beta"])
    return x + feed_forward(h, block["W1"], block["b1"], block["W2"], block["b2"])
'''),
    _e("block-ln1-twice", "transformer", "transformer_block", "plumbing", "ln1 parameters used for both LayerNorms",
       ["ln2"], '''
def transformer_block(x, block, n_heads):
    mask = causal_mask(x.shape[-2])
    h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"])
    x = x + multi_head_attention(h, block["W_q"], block["W_k"], block["W_v"], block["W_o"], n_heads, mask)[0]
    h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"])
    return x + feed_forward(h, block["W1"], block["b1"], block["W2"], block["b2"])
'''),
    _e("block-mask-d-model", "transformer", "transformer_block", "shape", "causal_mask(d_model) instead of n",
       ["shape[-2]", "causal_mask(n)"], '''
def transformer_block(x, block, n_heads):
    mask = causal_mask(x.shape[-1])
    h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"])
    x = x + multi_head_attention(h, block["W_q"], block["W_k"], block["W_v"], block["W_o"], n_heads, mask)[0]
    h = layer_norm(x, block["ln2_gamma"], block["ln2_beta"])
    return x + feed_forward(h, block["W1"], block["b1"], block["W2"], block["b2"])
'''),
    _e("forward-skips-last-block", "transformer", "transformer_forward", "plumbing", "range(len(blocks) - 1)",
       ["every block", "last block", "dernier bloc", "chaque bloc", "tous les blocs"], '''
def transformer_forward(token_ids, params):
    E = params["token_embedding"]
    x = embed(token_ids, E) + positional_encoding(len(token_ids), E.shape[1])
    blocks = params["blocks"]
    for i in range(len(blocks) - 1):
        x = transformer_block(x, blocks[i], params["n_heads"])
    x = layer_norm(x, params["lnf_gamma"], params["lnf_beta"])
    return x @ E.T
'''),
    _e("forward-no-pe", "transformer", "transformer_forward", "plumbing", "positional encoding not added",
       ["positional", "positionnel"], '''
def transformer_forward(token_ids, params):
    E = params["token_embedding"]
    x = embed(token_ids, E)
    for block in params["blocks"]:
        x = transformer_block(x, block, params["n_heads"])
    x = layer_norm(x, params["lnf_gamma"], params["lnf_beta"])
    return x @ E.T
'''),
    _e("forward-untied-e", "transformer", "transformer_forward", "crash", "x @ E without .T",
       [".T"], '''
def transformer_forward(token_ids, params):
    E = params["token_embedding"]
    x = embed(token_ids, E) + positional_encoding(len(token_ids), E.shape[1])
    for block in params["blocks"]:
        x = transformer_block(x, block, params["n_heads"])
    x = layer_norm(x, params["lnf_gamma"], params["lnf_beta"])
    return x @ E
'''),
    _e("forward-pe-after", "transformer", "transformer_forward", "plumbing", "positional encoding added after the blocks",
       [("positional", "before"), ("positionnel", "avant"), "embed(token_ids"], '''
def transformer_forward(token_ids, params):
    E = params["token_embedding"]
    x = embed(token_ids, E)
    for block in params["blocks"]:
        x = transformer_block(x, block, params["n_heads"])
    x = x + positional_encoding(len(token_ids), E.shape[1])
    x = layer_norm(x, params["lnf_gamma"], params["lnf_beta"])
    return x @ E.T
'''),
    _e("next-first-position", "transformer", "next_token_probabilities", "plumbing", "logits of the first position",
       ["[-1]", "last position", "dernière position"], '''
def next_token_probabilities(token_ids, params):
    logits = transformer_forward(token_ids, params)
    return softmax(logits[0])
'''),
    _e("next-keeps-row-axis", "transformer", "next_token_probabilities", "shape", "logits[-1:] keeps a (1, V) row",
       ["[-1]", "(V,)"], '''
def next_token_probabilities(token_ids, params):
    logits = transformer_forward(token_ids, params)
    return softmax(logits[-1:])
''', wrong=["every position", "chaque position"]),
    _e("next-softmax-axis-0", "transformer", "next_token_probabilities", "axis", "softmax over positions, then last row",
       ["axis", "axe"], '''
def next_token_probabilities(token_ids, params):
    logits = transformer_forward(token_ids, params)
    return softmax(logits, axis=0)[-1]
'''),
    _e("gen-last-token-only", "transformer", "generate", "plumbing", "feeds back only the last token",
       ["whole sequence", "toute la séquence", "every id", "tous les ids"], '''
def generate(token_ids, params, n_new):
    ids = list(token_ids)
    new = []
    for _ in range(n_new):
        logits = transformer_forward([ids[-1]], params)
        nxt = int(np.argmax(logits[-1]))
        ids.append(nxt)
        new.append(nxt)
    return new
''', wrong=["logits[-1]", "first position", "première position"]),
    _e("gen-append-input", "transformer", "generate", "crash", "appends to token_ids itself",
       ["list(token_ids)", "copy", "copie"], '''
def generate(token_ids, params, n_new):
    for _ in range(n_new):
        logits = transformer_forward(token_ids, params)
        token_ids.append(int(np.argmax(logits[-1])))
    return token_ids[-n_new:]
'''),
    _e("gen-off-by-one", "transformer", "generate", "loop", "range(n_new - 1)",
       ["n_new"], '''
def generate(token_ids, params, n_new):
    ids = list(token_ids)
    for _ in range(n_new - 1):
        ids.append(int(np.argmax(transformer_forward(ids, params)[-1])))
    return ids[len(token_ids):]
'''),
    _e("gen-no-feedback", "transformer", "generate", "plumbing", "never feeds the new id back",
       ["append", "feed", "réinjecte", "ajoute"], '''
def generate(token_ids, params, n_new):
    out = []
    for _ in range(n_new):
        logits = transformer_forward(token_ids, params)
        out.append(int(np.argmax(logits[-1])))
    return out
'''),
    _e("gen-argmax-flat", "transformer", "generate", "axis", "argmax over every position's logits",
       ["[-1]", "last row", "dernière ligne"], '''
def generate(token_ids, params, n_new):
    ids = list(token_ids)
    for _ in range(n_new):
        logits = transformer_forward(ids, params)
        ids.append(int(np.argmax(logits)) % logits.shape[-1])
    return ids[len(token_ids):]
'''),
]
