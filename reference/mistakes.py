"""Classic mistakes as function variants (instructor side only; never shipped to students).

Each variant is what a student really writes for one contract function: the same signature
as the reference function, one idea wrong, everything else taken from the reference. The
grader names the likely mistake (and the slide it relates to) when a submission's outputs
match a variant's, and `grade validate` / the tests check that every variant registered here
fails at least one case of the assignment — a variant nobody catches means a missing case.

A variant replaces exactly one function: a mistake in a building block is not repeated in
the composite functions that call it (the grader's cases on the block catch it there).

    MISTAKES            every variant, in the order of the contract (docs/contract.md)
    by_name(name)       one variant by its kebab-case id
"""
from __future__ import annotations

import importlib
import inspect
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .attention import (
    attention_weights,
    causal_mask,
    merge_heads,
    multi_head_attention,
    scaled_dot_product_attention,
    split_heads,
)
from .embeddings import embed
from .positional import positional_encoding
from .similarity import cosine_similarity, cosine_similarity_matrix, dot_product
from .softmax import softmax
from .transformer import feed_forward, layer_norm, transformer_block, transformer_forward

EXERCISES = ("similarity", "softmax", "embeddings", "attention", "positional", "transformer")


@dataclass(frozen=True)
class Mistake:
    name: str            # kebab-case id, e.g. "softmax-no-max-shift"
    exercise: str        # module name of the contract (similarity, softmax, ...)
    function: str        # the contract function it replaces
    slide: str           # slide title, as written in the lecture file
    explanation: str     # one line, English: what the student did, what to do
    explanation_fr: str  # the same line in French
    implementation: Callable[..., object]


MISTAKES: list[Mistake] = []


def mistake(*, name, exercise, function, slide, en, fr):
    """Register the decorated function as a variant of `exercise.function`.

    Checked at import, so a typo fails loudly here rather than as a variant the grader can
    never match: unique name, a real contract function, the same parameter names.
    """
    def register(implementation):
        if any(m.name == name for m in MISTAKES):
            raise ValueError(f"mistake {name!r} is registered twice")
        if exercise not in EXERCISES:
            raise ValueError(f"mistake {name!r}: unknown exercise {exercise!r}")
        reference = getattr(importlib.import_module(f".{exercise}", __package__), function)
        if list(inspect.signature(implementation).parameters) != list(inspect.signature(reference).parameters):
            raise TypeError(f"mistake {name!r}: signature differs from {exercise}.{function}")
        MISTAKES.append(Mistake(name, exercise, function, slide, en, fr, implementation))
        return implementation
    return register


def by_name(name):
    for m in MISTAKES:
        if m.name == name:
            return m
    raise KeyError(f"no mistake named {name!r}; known: {', '.join(m.name for m in MISTAKES)}")


# ------------------------------------------------------------------------------------------
# similarity — "Comment faire le calcul?"
# ------------------------------------------------------------------------------------------

@mistake(
    name="dot-product-sums-everything", exercise="similarity", function="dot_product",
    slide="Measure 1: Dot product",
    en="np.sum(a * b) without axis=-1 adds up every pair of vectors into one number: sum over the last axis only.",
    fr="np.sum(a * b) sans axis=-1 additionne toutes les paires de vecteurs en un seul nombre : somme sur le dernier axe seulement.",
)
def dot_product_sums_everything(a, b):
    return np.sum(a * b)  # no axis: fine for one pair, wrong for a batch


@mistake(
    name="cosine-not-normalised", exercise="similarity", function="cosine_similarity",
    slide="Measure 2: Cosine similarity",
    en="Returned the plain dot product a·b: the cosine divides it by ‖a‖·‖b‖ so that only the angle counts.",
    fr="Tu renvoies le simple produit scalaire a·b : le cosinus le divise par ‖a‖·‖b‖ pour ne garder que l'angle.",
)
def cosine_not_normalised(a, b, eps=1e-8):
    return dot_product(a, b)  # forgot / (‖a‖ ‖b‖)


@mistake(
    name="cosine-nan-on-zero-vector", exercise="similarity", function="cosine_similarity",
    slide="Measure 2: Cosine similarity",
    en="a·b / (‖a‖‖b‖) divides 0 by 0 for a zero vector (NaN): clamp each norm with max(‖a‖, eps).",
    fr="a·b / (‖a‖‖b‖) divise 0 par 0 pour un vecteur nul (NaN) : borne chaque norme avec max(‖a‖, eps).",
)
def cosine_nan_on_zero_vector(a, b, eps=1e-8):
    with np.errstate(all="ignore"):  # the student sees a RuntimeWarning; keep the grader quiet
        return dot_product(a, b) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


@mistake(
    name="scaled-dot-product-by-d", exercise="similarity", function="scaled_dot_product",
    slide="Measure 3: Scaled dot product",
    en="Divided by the length d instead of its square root: the slide divides by √d (12/√2 = 8.49).",
    fr="Tu divises par la longueur d au lieu de sa racine carrée : la diapositive divise par √d (12/√2 = 8,49).",
)
def scaled_dot_product_by_d(a, b):
    return dot_product(a, b) / np.shape(a)[-1]  # d, not sqrt(d)


@mistake(
    name="cosine-matrix-global-norm", exercise="similarity", function="cosine_similarity_matrix",
    slide="Cosine similarity",
    en="np.linalg.norm(A) without axis=-1 is the norm of the whole table: divide by the norm of each row (each word).",
    fr="np.linalg.norm(A) sans axis=-1 est la norme de tout le tableau : divise par la norme de chaque ligne (chaque mot).",
)
def cosine_matrix_global_norm(A, B=None):
    B = A if B is None else B
    return A @ B.T / (np.linalg.norm(A) * np.linalg.norm(B))  # one norm for all rows


# ------------------------------------------------------------------------------------------
# softmax — "Normalization" / "Softmax"
# ------------------------------------------------------------------------------------------

@mistake(
    name="softmax-no-max-shift", exercise="softmax", function="softmax",
    slide="Softmax",
    en="e^x overflows for large x (inf/inf = NaN): subtract the max along the axis first; the result is unchanged.",
    fr="e^x déborde pour x grand (inf/inf = NaN) : soustrais d'abord le max le long de l'axe ; le résultat ne change pas.",
)
def softmax_no_max_shift(x, axis=-1):
    with np.errstate(all="ignore"):  # the student sees overflow warnings; keep the grader quiet
        e = np.exp(x)
        return e / np.sum(e, axis=axis, keepdims=True)


@mistake(
    name="softmax-wrong-axis", exercise="softmax", function="softmax",
    slide="Softmax",
    en="Normalised over axis 0 whatever `axis` says: use the axis argument for both the max and the sum.",
    fr="Tu normalises sur l'axe 0 quel que soit `axis` : utilise l'argument axis pour le max et pour la somme.",
)
def softmax_wrong_axis(x, axis=-1):
    e = np.exp(x - np.max(x, axis=0, keepdims=True))  # axis=0 hard-coded
    return e / np.sum(e, axis=0, keepdims=True)


@mistake(
    name="softmax-whole-array", exercise="softmax", function="softmax",
    slide="Softmax",
    en="Divided by the sum of the whole array: each slice along `axis` must add up to 1 (np.sum(e, axis=axis, keepdims=True)).",
    fr="Tu divises par la somme de tout le tableau : chaque tranche le long de `axis` doit sommer à 1 (np.sum(e, axis=axis, keepdims=True)).",
)
def softmax_whole_array(x, axis=-1):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)  # one sum for every row


@mistake(
    name="softmax-modifies-input", exercise="softmax", function="softmax",
    slide="Softmax",
    en="x -= x.max(...) changes the caller's array: write x - x.max(...) into a new array; functions must not modify inputs.",
    fr="x -= x.max(...) modifie le tableau de l'appelant : écris x - x.max(...) dans un nouveau tableau ; une fonction ne modifie pas ses entrées.",
)
def softmax_modifies_input(x, axis=-1):
    x -= np.max(x, axis=axis, keepdims=True)  # in place: the values are right, the input is not
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


# ------------------------------------------------------------------------------------------
# embeddings — "Plongement lexical"
# ------------------------------------------------------------------------------------------

@mistake(
    name="one-hot-wraps-out-of-range", exercise="embeddings", function="one_hot",
    slide="Plongement lexical (Embedding)",
    en="np.eye(V)[ids] silently wraps negative ids (and raises IndexError for large ones): check 0 <= id < V and raise ValueError.",
    fr="np.eye(V)[ids] accepte en silence les ids négatifs (et lève IndexError pour les grands) : vérifie 0 <= id < V et lève ValueError.",
)
def one_hot_wraps_out_of_range(ids, vocab_size):
    return np.eye(vocab_size)[ids]  # no range check


@mistake(
    name="embed-wraps-out-of-range", exercise="embeddings", function="embed",
    slide="2) Encastrement",
    en="E[ids] silently wraps negative ids to the end of the table: check 0 <= id < len(E) and raise ValueError.",
    fr="E[ids] renvoie en silence la fin de la table pour un id négatif : vérifie 0 <= id < len(E) et lève ValueError.",
)
def embed_wraps_out_of_range(ids, E):
    return E[np.asarray(ids)]  # no range check


@mistake(
    name="skipgram-window-off-by-one", exercise="embeddings", function="skipgram_pairs",
    slide="Plongement lexical",
    en="range(i - window, i + window) stops before i + window: the context runs up to i + window included (range(..., i + window + 1)).",
    fr="range(i - window, i + window) s'arrête avant i + window : le contexte va jusqu'à i + window inclus (range(..., i + window + 1)).",
)
def skipgram_window_off_by_one(tokens, window=2):
    n = len(tokens)
    return [(tokens[i], tokens[j])
            for i in range(n)
            for j in range(i - window, i + window)  # right end excluded
            if 0 <= j < n and j != i]


@mistake(
    name="analogy-returns-input-word", exercise="embeddings", function="analogy",
    slide="king - man + woman \\approx queen",
    en="The nearest vector to b - a + c is often b or c itself: leave a, b and c out of the candidates.",
    fr="Le vecteur le plus proche de b - a + c est souvent b ou c lui-même : exclus a, b et c des candidats.",
)
def analogy_returns_input_word(words, E, a, b, c):
    index = {w: i for i, w in enumerate(words)}
    target = E[index[b]] - E[index[a]] + E[index[c]]
    return words[int(np.argmax(cosine_similarity(E, target)))]  # a, b, c not excluded


# ------------------------------------------------------------------------------------------
# attention — "Mécanismes attentionnels"
# ------------------------------------------------------------------------------------------

@mistake(
    name="similarity-attention-dot-product", exercise="attention", function="similarity_attention",
    slide="Word math",
    en="softmax(E @ E.T) uses raw dot products, so long vectors dominate: the word math uses the cosine similarity matrix.",
    fr="softmax(E @ E.T) utilise les produits scalaires bruts, les vecteurs longs dominent : le calcul de mots utilise la matrice des cosinus.",
)
def similarity_attention_dot_product(E):
    weights = softmax(E @ E.T)  # dot products, not cosines
    return weights @ E, weights


@mistake(
    name="similarity-attention-no-softmax", exercise="attention", function="similarity_attention",
    slide="Normalization",
    en="Used the cosine similarities themselves as coefficients: they must be positive and add to 1, so take their softmax.",
    fr="Tu prends les similarités cosinus comme coefficients : ils doivent être positifs et sommer à 1, prends-en le softmax.",
)
def similarity_attention_no_softmax(E):
    weights = cosine_similarity_matrix(E)  # "1 Orange + 0.71 Apple", not normalised
    return weights @ E, weights


@mistake(
    name="attention-no-scaling", exercise="attention", function="attention_weights",
    slide="Self-attention",
    en="softmax(Q Kᵀ) without dividing by √d_k: the formula is softmax(Q Kᵀ / √d_k), which keeps the softmax from saturating.",
    fr="softmax(Q Kᵀ) sans diviser par √d_k : la formule est softmax(Q Kᵀ / √d_k), ce qui évite de saturer le softmax.",
)
def attention_no_scaling(Q, K, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2)  # forgot / sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores)


@mistake(
    name="attention-mask-inverted", exercise="attention", function="attention_weights",
    slide="Self-attention",
    en="Masked the pairs where mask is True: True means 'may attend', so put -inf where the mask is False.",
    fr="Tu masques les paires où le masque vaut True : True veut dire « peut regarder », mets -inf là où il vaut False.",
)
def attention_mask_inverted(Q, K, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)  # polarity of nn.MultiheadAttention, not the contract's
    with np.errstate(invalid="ignore"):  # fully masked rows give NaN; keep the grader quiet
        return softmax(scores)


@mistake(
    name="attention-softmax-over-queries", exercise="attention", function="attention_weights",
    slide="Self-attention",
    en="Took the softmax over axis -2 (the queries): each query's weights over the keys must add to 1, so use the last axis.",
    fr="Tu prends le softmax sur l'axe -2 (les requêtes) : les poids d'une requête sur les clés doivent sommer à 1, utilise le dernier axe.",
)
def attention_softmax_over_queries(Q, K, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    with np.errstate(invalid="ignore"):  # a key no query may see gives a NaN column
        return softmax(scores, axis=-2)  # normalises each column


@mistake(
    name="attention-ignores-mask", exercise="attention", function="scaled_dot_product_attention",
    slide="Self-attention",
    en="Computed the weights without passing the mask on: call attention_weights(Q, K, mask).",
    fr="Tu calcules les poids sans transmettre le masque : appelle attention_weights(Q, K, mask).",
)
def attention_ignores_mask(Q, K, V, mask=None):
    weights = attention_weights(Q, K)  # mask dropped
    return weights @ V, weights


@mistake(
    name="causal-mask-no-diagonal", exercise="attention", function="causal_mask",
    slide="Self-attention",
    en="np.tril(..., k=-1) forbids a word to attend to itself (and leaves the first word nothing): keep the diagonal, k=0.",
    fr="np.tril(..., k=-1) interdit à un mot de se regarder lui-même (et le premier mot n'a plus rien) : garde la diagonale, k=0.",
)
def causal_mask_no_diagonal(n_q, n_k=None):
    n_k = n_q if n_k is None else n_k
    return np.tril(np.ones((n_q, n_k), dtype=bool), k=-1)  # strictly below the diagonal


@mistake(
    name="causal-mask-upper", exercise="attention", function="causal_mask",
    slide="Self-attention",
    en="np.triu lets each word attend to the words after it: a causal mask is lower-triangular (np.tril), the past and itself.",
    fr="np.triu laisse chaque mot regarder les mots suivants : un masque causal est triangulaire inférieur (np.tril), le passé et lui-même.",
)
def causal_mask_upper(n_q, n_k=None):
    n_k = n_q if n_k is None else n_k
    return np.triu(np.ones((n_q, n_k), dtype=bool))  # the future, not the past


def _check_heads(d_model, n_heads):
    if d_model % n_heads != 0:
        raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")


@mistake(
    name="mha-scaled-by-d-model", exercise="attention", function="multi_head_attention",
    slide="Multi-head attention",
    en="Scaled each head's scores by √d_model: every head is an Attention of width d_k = d_model / h, so divide by √d_k.",
    fr="Tu divises les scores de chaque tête par √d_model : chaque tête est une Attention de largeur d_k = d_model / h, divise par √d_k.",
)
def mha_scaled_by_d_model(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    _check_heads(d_model, n_heads)
    Q, K, V = (split_heads(X @ W, n_heads) for W in (W_q, W_k, W_v))
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_model)  # the model's width, not the head's
    if mask is not None:
        scores = np.where(np.expand_dims(mask, -3), scores, -np.inf)
    weights = softmax(scores)
    return merge_heads(weights @ V) @ W_o, weights


@mistake(
    name="mha-split-heads-reshape", exercise="attention", function="multi_head_attention",
    slide="Multi-head attention",
    en="reshape(n, d_model) -> (h, n, d_k) mixes positions across heads: reshape to (n, h, d_k), then swap to (h, n, d_k).",
    fr="reshape(n, d_model) -> (h, n, d_k) mélange les positions entre les têtes : reshape en (n, h, d_k), puis échange en (h, n, d_k).",
)
def mha_split_heads_reshape(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    *batch, n, d_model = X.shape
    _check_heads(d_model, n_heads)
    d_k = d_model // n_heads
    Q, K, V = ((X @ W).reshape(*batch, n_heads, n, d_k) for W in (W_q, W_k, W_v))  # no transpose
    if mask is not None:
        mask = np.expand_dims(mask, -3)
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return heads.reshape(*batch, n, d_model) @ W_o, weights  # the matching (wrong) inverse reshape


@mistake(
    name="mha-merge-heads-reshape", exercise="attention", function="multi_head_attention",
    slide="Multi-head attention",
    en="reshape(h, n, d_k) -> (n, d_model) without swapping axes back scrambles Concat(head_1, ..., head_h): swap to (n, h, d_k) first.",
    fr="reshape(h, n, d_k) -> (n, d_model) sans rééchanger les axes brouille Concat(head_1, ..., head_h) : échange d'abord en (n, h, d_k).",
)
def mha_merge_heads_reshape(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    *batch, n, d_model = X.shape
    _check_heads(d_model, n_heads)
    Q, K, V = (split_heads(X @ W, n_heads) for W in (W_q, W_k, W_v))
    if mask is not None:
        mask = np.expand_dims(mask, -3)
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return heads.reshape(*batch, n, d_model) @ W_o, weights  # no swapaxes before the reshape


@mistake(
    name="mha-no-output-projection", exercise="attention", function="multi_head_attention",
    slide="Multi-head attention",
    en="Returned Concat(head_1, ..., head_h) without the final W^O: MultiHead = Concat(...) W^O.",
    fr="Tu renvoies Concat(head_1, ..., head_h) sans le W^O final : MultiHead = Concat(...) W^O.",
)
def mha_no_output_projection(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    _check_heads(X.shape[-1], n_heads)
    Q, K, V = (split_heads(X @ W, n_heads) for W in (W_q, W_k, W_v))
    if mask is not None:
        mask = np.expand_dims(mask, -3)
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return merge_heads(heads), weights  # forgot @ W_o


# ------------------------------------------------------------------------------------------
# positional — "Encodage positionnel"
# ------------------------------------------------------------------------------------------

def _angles(n_positions, d_model, base, start=0):
    """p / base**(2i/d_model) for the even columns 2i, as in the reference."""
    p = np.arange(start, start + n_positions)[:, None]
    return p / base ** (np.arange(0, d_model, 2) / d_model)


@mistake(
    name="pe-sin-cos-swapped", exercise="positional", function="positional_encoding",
    slide="Positional encoding",
    en="Put cos on the even columns and sin on the odd ones: PE[p, 2i] = sin, PE[p, 2i+1] = cos (row 0 is [0, 1, 0, 1, ...]).",
    fr="Tu mets cos sur les colonnes paires et sin sur les impaires : PE[p, 2i] = sin, PE[p, 2i+1] = cos (la ligne 0 vaut [0, 1, 0, 1, ...]).",
)
def pe_sin_cos_swapped(n_positions, d_model, base=10000.0):
    angles = _angles(n_positions, d_model, base)
    PE = np.empty((n_positions, d_model))
    PE[:, 0::2] = np.cos(angles)  # swapped
    PE[:, 1::2] = np.sin(angles[:, : d_model // 2])
    return PE


@mistake(
    name="pe-concatenated", exercise="positional", function="positional_encoding",
    slide="Positional encoding",
    en="Put all the sines first, then all the cosines: interleave them, sin in column 2i and cos in column 2i+1.",
    fr="Tu mets tous les sinus puis tous les cosinus : entrelace-les, sin en colonne 2i et cos en colonne 2i+1.",
)
def pe_concatenated(n_positions, d_model, base=10000.0):
    angles = _angles(n_positions, d_model, base)
    return np.concatenate([np.sin(angles), np.cos(angles[:, : d_model // 2])], axis=-1)  # not interleaved


@mistake(
    name="pe-exponent-i-over-d", exercise="positional", function="positional_encoding",
    slide="Positional encoding",
    en="Used base**(i/d_model) for the pair i: the exponent is 2i/d_model (the even column's index), so frequencies fall too slowly.",
    fr="Tu utilises base**(i/d_model) pour la paire i : l'exposant est 2i/d_model (l'indice de la colonne paire), les fréquences baissent trop lentement.",
)
def pe_exponent_i_over_d(n_positions, d_model, base=10000.0):
    p = np.arange(n_positions)[:, None]
    i = np.arange((d_model + 1) // 2)  # the pair index i ...
    angles = p / base ** (i / d_model)  # ... where the formula has 2i
    PE = np.empty((n_positions, d_model))
    PE[:, 0::2] = np.sin(angles)
    PE[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return PE


@mistake(
    name="pe-positions-from-one", exercise="positional", function="positional_encoding",
    slide="Positional encoding",
    en="Numbered positions from 1: positions start at 0, so row 0 is [0, 1, 0, 1, ...].",
    fr="Tu numérotes les positions à partir de 1 : elles commencent à 0, la ligne 0 vaut [0, 1, 0, 1, ...].",
)
def pe_positions_from_one(n_positions, d_model, base=10000.0):
    angles = _angles(n_positions, d_model, base, start=1)  # 1..n instead of 0..n-1
    PE = np.empty((n_positions, d_model))
    PE[:, 0::2] = np.sin(angles)
    PE[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return PE


# ------------------------------------------------------------------------------------------
# transformer — "Transformeurs" (GPT-2 style decoder)
# ------------------------------------------------------------------------------------------

@mistake(
    name="layer-norm-unbiased-variance", exercise="transformer", function="layer_norm",
    slide="Tout ensemble:",
    en="np.var(..., ddof=1) is the unbiased variance: LayerNorm uses the biased one, np.var(x, axis=-1) (ddof=0).",
    fr="np.var(..., ddof=1) est la variance non biaisée : LayerNorm utilise la variance biaisée, np.var(x, axis=-1) (ddof=0).",
)
def layer_norm_unbiased_variance(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True, ddof=1)  # divides by d - 1
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


@mistake(
    name="layer-norm-eps-outside-sqrt", exercise="transformer", function="layer_norm",
    slide="Tout ensemble:",
    en="Added eps after the square root: it belongs inside, (x - mean) / sqrt(var + eps); it matters for small-scale inputs.",
    fr="Tu ajoutes eps après la racine : il va dedans, (x - mean) / sqrt(var + eps) ; ça compte pour les entrées de petite échelle.",
)
def layer_norm_eps_outside_sqrt(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    return gamma * (x - mean) / (np.sqrt(var) + eps) + beta  # eps outside


_erf = np.vectorize(math.erf, otypes=[float])  # the student's way to get erf without scipy


@mistake(
    name="gelu-exact-erf", exercise="transformer", function="gelu",
    slide="Tout ensemble:",
    en="Used the exact erf GELU: GPT-2's is the tanh approximation 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).",
    fr="Tu utilises la GELU exacte avec erf : celle de GPT-2 est l'approximation tanh 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).",
)
def gelu_exact_erf(x):
    return 0.5 * x * (1 + _erf(x / np.sqrt(2)))


@mistake(
    name="feed-forward-relu", exercise="transformer", function="feed_forward",
    slide="Tout ensemble:",
    en="Used ReLU between the two layers: the feed-forward layer uses gelu(x @ W1 + b1) @ W2 + b2.",
    fr="Tu utilises ReLU entre les deux couches : la couche feed-forward utilise gelu(x @ W1 + b1) @ W2 + b2.",
)
def feed_forward_relu(x, W1, b1, W2, b2):
    return np.maximum(0, x @ W1 + b1) @ W2 + b2  # ReLU, not GELU


@mistake(
    name="block-post-ln", exercise="transformer", function="transformer_block",
    slide="Tout ensemble:",
    en="Normalised after each residual sum (post-LN, the 2017 paper): GPT-2 is pre-LN, x + MHA(LN(x)) then x + FFN(LN(x)).",
    fr="Tu normalises après chaque somme résiduelle (post-LN, l'article de 2017) : GPT-2 est pre-LN, x + MHA(LN(x)) puis x + FFN(LN(x)).",
)
def block_post_ln(x, block, n_heads):
    mask = causal_mask(x.shape[-2])
    attn = multi_head_attention(x, block["W_q"], block["W_k"], block["W_v"], block["W_o"], n_heads, mask)[0]
    x = layer_norm(x + attn, block["ln1_gamma"], block["ln1_beta"])  # LN after the sum
    ffn = feed_forward(x, block["W1"], block["b1"], block["W2"], block["b2"])
    return layer_norm(x + ffn, block["ln2_gamma"], block["ln2_beta"])


@mistake(
    name="block-no-causal-mask", exercise="transformer", function="transformer_block",
    slide="Transformeurs",
    en="Attention without the causal mask lets each word see the words after it: pass causal_mask(n) to multi_head_attention.",
    fr="Une attention sans masque causal laisse chaque mot voir les mots suivants : passe causal_mask(n) à multi_head_attention.",
)
def block_no_causal_mask(x, block, n_heads):
    h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"])
    x = x + multi_head_attention(h, block["W_q"], block["W_k"], block["W_v"], block["W_o"], n_heads)[0]  # no mask
    h = layer_norm(x, block["ln2_gamma"], block["ln2_beta"])
    return x + feed_forward(h, block["W1"], block["b1"], block["W2"], block["b2"])


@mistake(
    name="embedding-scaled-by-sqrt-d", exercise="transformer", function="transformer_forward",
    slide="2) Encastrement",
    en="Multiplied the token embedding by √d_model (as in the 2017 paper): this decoder adds E[ids] and the positional encoding as they are.",
    fr="Tu multiplies l'encastrement par √d_model (comme l'article de 2017) : ce décodeur additionne E[ids] et l'encodage positionnel tels quels.",
)
def embedding_scaled_by_sqrt_d(token_ids, params):
    E = params["token_embedding"]
    d_model = E.shape[1]
    x = embed(token_ids, E) * np.sqrt(d_model) + positional_encoding(len(token_ids), d_model)  # extra sqrt(d)
    for block in params["blocks"]:
        x = transformer_block(x, block, params["n_heads"])
    x = layer_norm(x, params["lnf_gamma"], params["lnf_beta"])
    return x @ E.T


@mistake(
    name="forward-no-final-layer-norm", exercise="transformer", function="transformer_forward",
    slide="Tout ensemble:",
    en="Went from the last block straight to the output: apply the final layer_norm (lnf) before x @ token_embedding.T.",
    fr="Tu passes du dernier bloc directement à la sortie : applique la layer_norm finale (lnf) avant x @ token_embedding.T.",
)
def forward_no_final_layer_norm(token_ids, params):
    E = params["token_embedding"]
    x = embed(token_ids, E) + positional_encoding(len(token_ids), E.shape[1])
    for block in params["blocks"]:
        x = transformer_block(x, block, params["n_heads"])
    return x @ E.T  # no lnf


@mistake(
    name="next-token-logits-not-probabilities", exercise="transformer", function="next_token_probabilities",
    slide="5) Softmax",
    en="Returned the raw scores (logits): turn them into probabilities with a softmax.",
    fr="Tu renvoies les scores bruts (logits) : transforme-les en probabilités avec un softmax.",
)
def next_token_logits_not_probabilities(token_ids, params):
    return transformer_forward(token_ids, params)[-1]  # no softmax


@mistake(
    name="generate-returns-prompt", exercise="transformer", function="generate",
    slide="Transformeurs",
    en="Returned the prompt followed by the new ids: return only the n_new generated ids.",
    fr="Tu renvoies le prompt suivi des nouveaux ids : ne renvoie que les n_new ids générés.",
)
def generate_returns_prompt(token_ids, params, n_new):
    ids = list(token_ids)
    for _ in range(n_new):
        ids.append(int(np.argmax(transformer_forward(ids, params)[-1])))
    return ids  # prompt included


@mistake(
    name="generate-first-position", exercise="transformer", function="generate",
    slide="Transformeurs",
    en="Took the argmax of the first position's logits: the next word is predicted by the last position, logits[-1].",
    fr="Tu prends l'argmax des logits de la première position : le mot suivant est prédit par la dernière position, logits[-1].",
)
def generate_first_position(token_ids, params, n_new):
    ids = list(token_ids)
    for _ in range(n_new):
        ids.append(int(np.argmax(transformer_forward(ids, params)[0])))  # [0], not [-1]
    return ids[len(token_ids):]
