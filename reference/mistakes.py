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

Adding a mistake is one place: a function decorated with `@mistake(...)` below (name,
exercise, the innermost contract function holding the step, slide as the deck titles it, `en`
and `fr` lines that say what the student did and what to do — "You divided…", « Vous
divisez… » —, optionally `step_en`/`step_fr` for when it is named in a calling function). The
grader composes it into every caller, the public-cases file carries its outputs, and the tests
check that a case catches it and that diagnosis names it.
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
from .embeddings import embed, skipgram_pairs
from .positional import positional_encoding
from .similarity import cosine_similarity, cosine_similarity_matrix, dot_product
from .softmax import softmax
from .transformer import feed_forward, gelu, layer_norm, transformer_block, transformer_forward

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
    step_en: str = ""    # the line when the step is named in a function that calls this one (default: explanation)
    step_fr: str = ""    # the same line in French


MISTAKES: list[Mistake] = []


def mistake(*, name, exercise, function, slide, en, fr, step_en="", step_fr=""):
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
        MISTAKES.append(Mistake(name, exercise, function, slide, en, fr, implementation, step_en, step_fr))
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
    en="You returned the plain dot product a·b: the cosine divides it by ‖a‖·‖b‖ so that only the angle counts.",
    fr="Vous renvoyez le simple produit scalaire a·b : le cosinus le divise par ‖a‖·‖b‖ pour ne garder que l'angle.",
)
def cosine_not_normalised(a, b, eps=1e-8):
    return dot_product(a, b)  # forgot / (‖a‖ ‖b‖)


@mistake(
    name="cosine-nan-on-zero-vector", exercise="similarity", function="cosine_similarity",
    slide="Measure 2: Cosine similarity",
    en="a·b / (‖a‖‖b‖) divides 0 by 0 for a zero vector (NaN): clamp each norm with max(‖a‖, eps).",
    fr="a·b / (‖a‖‖b‖) divise 0 par 0 pour un vecteur nul (NaN) : bornez chaque norme avec max(‖a‖, eps).",
)
def cosine_nan_on_zero_vector(a, b, eps=1e-8):
    with np.errstate(all="ignore"):  # the student sees a RuntimeWarning; keep the grader quiet
        return dot_product(a, b) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


@mistake(
    name="scaled-dot-product-by-d", exercise="similarity", function="scaled_dot_product",
    slide="Measure 3: Scaled dot product",
    en="You divided by the length d instead of its square root: the slide divides by √d (12/√2 = 8.49).",
    fr="Vous divisez par la longueur d au lieu de sa racine carrée : la diapositive divise par √d (12/√2 = 8,49).",
)
def scaled_dot_product_by_d(a, b):
    return dot_product(a, b) / np.shape(a)[-1]  # d, not sqrt(d)


@mistake(
    name="cosine-matrix-global-norm", exercise="similarity", function="cosine_similarity_matrix",
    slide="Cosine similarity",
    en="np.linalg.norm(A) without axis=-1 is the norm of the whole table: divide by the norm of each row (each word).",
    fr="np.linalg.norm(A) sans axis=-1 est la norme de tout le tableau : divisez par la norme de chaque ligne (chaque mot).",
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
    fr="e^x déborde pour x grand (inf/inf = NaN) : soustrayez d'abord le max le long de l'axe ; le résultat ne change pas.",
)
def softmax_no_max_shift(x, axis=-1):
    with np.errstate(all="ignore"):  # the student sees overflow warnings; keep the grader quiet
        e = np.exp(x)
        return e / np.sum(e, axis=axis, keepdims=True)


@mistake(
    name="softmax-wrong-axis", exercise="softmax", function="softmax",
    slide="Softmax",
    en="You normalised over axis 0 whatever `axis` says: use the axis argument for both the max and the sum.",
    fr="Vous normalisez sur l'axe 0 quel que soit `axis` : utilisez l'argument axis pour le max et pour la somme.",
    step_en='You took the softmax over axis 0: the weights of one query (one row) must sum to 1, so take it over the last axis, softmax(scores, axis=-1).',
    step_fr="Vous prenez le softmax sur l'axe 0 : les poids d'une requête (une ligne) doivent sommer à 1, prenez-le sur le dernier axe, softmax(scores, axis=-1).",
)
def softmax_wrong_axis(x, axis=-1):
    e = np.exp(x - np.max(x, axis=0, keepdims=True))  # axis=0 hard-coded
    return e / np.sum(e, axis=0, keepdims=True)


@mistake(
    name="softmax-whole-array", exercise="softmax", function="softmax",
    slide="Softmax",
    en="You divided by the sum of the whole array: each slice along `axis` must add up to 1 (np.sum(e, axis=axis, keepdims=True)).",
    fr="Vous divisez par la somme de tout le tableau : chaque tranche le long de `axis` doit sommer à 1 (np.sum(e, axis=axis, keepdims=True)).",
    step_en='You divided by the sum of the whole array: each row must sum to 1 on its own, so normalise over the last axis, np.sum(e, axis=-1, keepdims=True).',
    step_fr='Vous divisez par la somme de tout le tableau : chaque ligne doit sommer à 1, normalisez sur le dernier axe, np.sum(e, axis=-1, keepdims=True).',
)
def softmax_whole_array(x, axis=-1):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)  # one sum for every row


@mistake(
    name="softmax-modifies-input", exercise="softmax", function="softmax",
    slide="Softmax",
    en="x -= x.max(...) changes the caller's array: write x - x.max(...) into a new array; functions must not modify inputs.",
    fr="x -= x.max(...) modifie le tableau de l'appelant : écrivez x - x.max(...) dans un nouveau tableau ; une fonction ne modifie pas ses entrées.",
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
    fr="np.eye(V)[ids] accepte en silence les ids négatifs (et lève IndexError pour les grands) : vérifiez 0 <= id < V et levez ValueError.",
)
def one_hot_wraps_out_of_range(ids, vocab_size):
    return np.eye(vocab_size)[ids]  # no range check


@mistake(
    name="embed-wraps-out-of-range", exercise="embeddings", function="embed",
    slide="2) Encastrement",
    en="E[ids] silently wraps negative ids to the end of the table: check 0 <= id < len(E) and raise ValueError.",
    fr="E[ids] renvoie en silence la fin de la table pour un id négatif : vérifiez 0 <= id < len(E) et levez ValueError.",
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
    slide="king - man + woman ≈ queen",
    en="The nearest vector to b - a + c is often b or c itself: leave a, b and c out of the candidates.",
    fr="Le vecteur le plus proche de b - a + c est souvent b ou c lui-même : excluez a, b et c des candidats.",
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
    en="You used the cosine similarities themselves as coefficients: they must be positive and add to 1, so take their softmax.",
    fr="Vous prenez les similarités cosinus comme coefficients : ils doivent être positifs et sommer à 1, prenez-en le softmax.",
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
    en="You masked the pairs where mask is True: True means 'may attend', so put -inf where the mask is False.",
    fr="Vous masquez les paires où le masque vaut True : True veut dire « peut regarder », mettez -inf là où il vaut False.",
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
    en="You took the softmax over axis -2 (the queries): each query's weights over the keys must add to 1, so use the last axis.",
    fr="Vous prenez le softmax sur l'axe -2 (les requêtes) : les poids d'une requête sur les clés doivent sommer à 1, utilisez le dernier axe.",
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
    en="You computed the weights without passing the mask on: call attention_weights(Q, K, mask).",
    fr="Vous calculez les poids sans transmettre le masque : appelez attention_weights(Q, K, mask).",
    step_en='You computed the attention weights without the mask: a pair whose mask is False gets weight 0, its score set to -inf before the softmax (np.where(mask, scores, -np.inf)).',
    step_fr="Vous calculez les poids d'attention sans le masque : une paire dont le masque vaut False a un poids 0, son score mis à -inf avant le softmax (np.where(mask, scores, -np.inf)).",
)
def attention_ignores_mask(Q, K, V, mask=None):
    weights = attention_weights(Q, K)  # mask dropped
    return weights @ V, weights


@mistake(
    name="causal-mask-no-diagonal", exercise="attention", function="causal_mask",
    slide="Self-attention",
    en="np.tril(..., k=-1) forbids a word to attend to itself (and leaves the first word nothing): keep the diagonal, k=0.",
    fr="np.tril(..., k=-1) interdit à un mot de se regarder lui-même (et le premier mot n'a plus rien) : gardez la diagonale, k=0.",
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
    en="You scaled each head's scores by √d_model: every head is an Attention of width d_k = d_model / h, so divide by √d_k.",
    fr="Vous divisez les scores de chaque tête par √d_model : chaque tête est une Attention de largeur d_k = d_model / h, divisez par √d_k.",
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
    fr="reshape(n, d_model) -> (h, n, d_k) mélange les positions entre les têtes : reshape en (n, h, d_k), puis échangez en (h, n, d_k).",
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
    fr="reshape(h, n, d_k) -> (n, d_model) sans rééchanger les axes brouille Concat(head_1, ..., head_h) : échangez d'abord en (n, h, d_k).",
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
    en="You returned Concat(head_1, ..., head_h) without the final W^O: MultiHead = Concat(...) W^O.",
    fr="Vous renvoyez Concat(head_1, ..., head_h) sans le W^O final : MultiHead = Concat(...) W^O.",
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
    en="You put cos on the even columns and sin on the odd ones: PE[p, 2i] = sin, PE[p, 2i+1] = cos (row 0 is [0, 1, 0, 1, ...]).",
    fr="Vous mettez cos sur les colonnes paires et sin sur les impaires : PE[p, 2i] = sin, PE[p, 2i+1] = cos (la ligne 0 vaut [0, 1, 0, 1, ...]).",
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
    en="You put all the sines first, then all the cosines: interleave them, sin in column 2i and cos in column 2i+1.",
    fr="Vous mettez tous les sinus puis tous les cosinus : entrelacez-les, sin en colonne 2i et cos en colonne 2i+1.",
)
def pe_concatenated(n_positions, d_model, base=10000.0):
    angles = _angles(n_positions, d_model, base)
    return np.concatenate([np.sin(angles), np.cos(angles[:, : d_model // 2])], axis=-1)  # not interleaved


@mistake(
    name="pe-exponent-i-over-d", exercise="positional", function="positional_encoding",
    slide="Positional encoding",
    en="You used base**(i/d_model) for the pair i: the exponent is 2i/d_model (the even column's index), so frequencies fall too slowly.",
    fr="Vous utilisez base**(i/d_model) pour la paire i : l'exposant est 2i/d_model (l'indice de la colonne paire), les fréquences baissent trop lentement.",
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
    en="You numbered positions from 1: positions start at 0, so row 0 is [0, 1, 0, 1, ...].",
    fr="Vous numérotez les positions à partir de 1 : elles commencent à 0, la ligne 0 vaut [0, 1, 0, 1, ...].",
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
    slide="Tout ensemble",
    en="np.var(..., ddof=1) is the unbiased variance: LayerNorm uses the biased one, np.var(x, axis=-1) (ddof=0).",
    fr="np.var(..., ddof=1) est la variance non biaisée : LayerNorm utilise la variance biaisée, np.var(x, axis=-1) (ddof=0).",
)
def layer_norm_unbiased_variance(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True, ddof=1)  # divides by d - 1
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


@mistake(
    name="layer-norm-eps-outside-sqrt", exercise="transformer", function="layer_norm",
    slide="Tout ensemble",
    en="You added eps after the square root: it belongs inside, (x - mean) / sqrt(var + eps); it matters for small-scale inputs.",
    fr="Vous ajoutez eps après la racine : il va dedans, (x - mean) / sqrt(var + eps) ; ça compte pour les entrées de petite échelle.",
)
def layer_norm_eps_outside_sqrt(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    return gamma * (x - mean) / (np.sqrt(var) + eps) + beta  # eps outside


_erf = np.vectorize(math.erf, otypes=[float])  # the student's way to get erf without scipy


@mistake(
    name="gelu-exact-erf", exercise="transformer", function="gelu",
    slide="Tout ensemble",
    en="You used the exact erf GELU: GPT-2's is the tanh approximation 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).",
    fr="Vous utilisez la GELU exacte avec erf : celle de GPT-2 est l'approximation tanh 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).",
)
def gelu_exact_erf(x):
    return 0.5 * x * (1 + _erf(x / np.sqrt(2)))


@mistake(
    name="feed-forward-relu", exercise="transformer", function="feed_forward",
    slide="Tout ensemble",
    en="You used ReLU between the two layers: the feed-forward layer uses gelu(x @ W1 + b1) @ W2 + b2.",
    fr="Vous utilisez ReLU entre les deux couches : la couche feed-forward utilise gelu(x @ W1 + b1) @ W2 + b2.",
)
def feed_forward_relu(x, W1, b1, W2, b2):
    return np.maximum(0, x @ W1 + b1) @ W2 + b2  # ReLU, not GELU


@mistake(
    name="block-post-ln", exercise="transformer", function="transformer_block",
    slide="Tout ensemble",
    en="You normalised after each residual sum (post-LN, the 2017 paper): GPT-2 is pre-LN, x + MHA(LN(x)) then x + FFN(LN(x)).",
    fr="Vous normalisez après chaque somme résiduelle (post-LN, l'article de 2017) : GPT-2 est pre-LN, x + MHA(LN(x)) puis x + FFN(LN(x)).",
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
    fr="Une attention sans masque causal laisse chaque mot voir les mots suivants : passez causal_mask(n) à multi_head_attention.",
    step_en='Attention without the causal mask lets each word see the words after it: pass causal_mask(n) to multi_head_attention.',
    step_fr='Une attention sans masque causal laisse chaque mot voir les mots suivants : passez causal_mask(n) à multi_head_attention.',
)
def block_no_causal_mask(x, block, n_heads):
    h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"])
    x = x + multi_head_attention(h, block["W_q"], block["W_k"], block["W_v"], block["W_o"], n_heads)[0]  # no mask
    h = layer_norm(x, block["ln2_gamma"], block["ln2_beta"])
    return x + feed_forward(h, block["W1"], block["b1"], block["W2"], block["b2"])


@mistake(
    name="embedding-scaled-by-sqrt-d", exercise="transformer", function="transformer_forward",
    slide="2) Encastrement",
    en="You multiplied the token embedding by √d_model (as in the 2017 paper): this decoder adds E[ids] and the positional encoding as they are.",
    fr="Vous multipliez l'encastrement par √d_model (comme l'article de 2017) : ce décodeur additionne E[ids] et l'encodage positionnel tels quels.",
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
    slide="Tout ensemble",
    en="You went from the last block straight to the output: apply the final layer_norm (lnf) before x @ token_embedding.T.",
    fr="Vous passez du dernier bloc directement à la sortie : appliquez la layer_norm finale (lnf) avant x @ token_embedding.T.",
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
    en="You returned the raw scores (logits): turn them into probabilities with a softmax.",
    fr="Vous renvoyez les scores bruts (logits) : transformez-les en probabilités avec un softmax.",
)
def next_token_logits_not_probabilities(token_ids, params):
    return transformer_forward(token_ids, params)[-1]  # no softmax


@mistake(
    name="generate-returns-prompt", exercise="transformer", function="generate",
    slide="Transformeurs",
    en="You returned the prompt followed by the new ids: return only the n_new generated ids.",
    fr="Vous renvoyez le prompt suivi des nouveaux ids : ne renvoyez que les n_new ids générés.",
)
def generate_returns_prompt(token_ids, params, n_new):
    ids = list(token_ids)
    for _ in range(n_new):
        ids.append(int(np.argmax(transformer_forward(ids, params)[-1])))
    return ids  # prompt included


@mistake(
    name="generate-first-position", exercise="transformer", function="generate",
    slide="Transformeurs",
    en="You took the argmax of the first position's logits: the next word is predicted by the last position, logits[-1].",
    fr="Vous prenez l'argmax des logits de la première position : le mot suivant est prédit par la dernière position, logits[-1].",
)
def generate_first_position(token_ids, params, n_new):
    ids = list(token_ids)
    for _ in range(n_new):
        ids.append(int(np.argmax(transformer_forward(ids, params)[0])))  # [0], not [-1]
    return ids[len(token_ids):]


# ------------------------------------------------------------------------------------------
# Mistakes students write (bench/student_mistakes): one step wrong. Each is a variant of the
# innermost function holding the step; the grader composes it into every function that calls
# that one (grader.grading.diagnosis.composed), so it is named wherever the step is written.
# ------------------------------------------------------------------------------------------

@mistake(
    name="dot-product-matrix-product", exercise="similarity", function="dot_product",
    slide="Measure 1: Dot product",
    en="a @ b.T (or np.dot) multiplies every row of a by every row of b: the dot product pairs row k with row k, np.sum(a * b, axis=-1).",
    fr="a @ b.T (ou np.dot) multiplie chaque ligne de a par chaque ligne de b : le produit scalaire associe la ligne k à la ligne k, np.sum(a * b, axis=-1).",
)
def dot_product_matrix_product(a, b):
    return a @ np.swapaxes(b, -1, -2) if np.ndim(b) >= 2 else a @ b


@mistake(
    name="dot-product-first-axis", exercise="similarity", function="dot_product",
    slide="Measure 1: Dot product",
    en="You summed a * b over axis 0 (the rows): the coordinates are on the last axis, np.sum(a * b, axis=-1).",
    fr="Vous sommez a * b sur l'axe 0 (les lignes) : les coordonnées sont sur le dernier axe, np.sum(a * b, axis=-1).",
)
def dot_product_first_axis(a, b):
    return np.sum(a * b, axis=0)


@mistake(
    name="cosine-global-norm", exercise="similarity", function="cosine_similarity",
    slide="Measure 2: Cosine similarity",
    en="np.linalg.norm(a) without axis=-1 is the norm of the whole batch: divide by the norm of each vector, np.linalg.norm(a, axis=-1).",
    fr="np.linalg.norm(a) sans axis=-1 est la norme de tout le lot : divisez par la norme de chaque vecteur, np.linalg.norm(a, axis=-1).",
)
def cosine_global_norm(a, b, eps=1e-8):
    return dot_product(a, b) / (max(np.linalg.norm(a), eps) * max(np.linalg.norm(b), eps))


@mistake(
    name="cosine-eps-added", exercise="similarity", function="cosine_similarity",
    slide="Measure 2: Cosine similarity",
    en="You added eps to the product of the norms: for tiny vectors that changes the cosine; floor each norm instead, max(‖a‖, eps) · max(‖b‖, eps) (np.maximum).",
    fr="Vous ajoutez eps au produit des normes : pour de tout petits vecteurs le cosinus change ; bornez plutôt chaque norme, max(‖a‖, eps) · max(‖b‖, eps) (np.maximum).",
)
def cosine_eps_added(a, b, eps=1e-8):
    return dot_product(a, b) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + eps)


@mistake(
    name="scaled-dot-product-by-rows", exercise="similarity", function="scaled_dot_product",
    slide="Measure 3: Scaled dot product",
    en="len(a) counts the rows of a batch: d is the number of coordinates, a.shape[-1], and the product is divided by √d.",
    fr="len(a) compte les lignes d'un lot : d est le nombre de coordonnées, a.shape[-1], et le produit est divisé par √d.",
)
def scaled_dot_product_by_rows(a, b):
    return dot_product(a, b) / np.sqrt(len(a))


@mistake(
    name="scaled-dot-product-by-norm", exercise="similarity", function="scaled_dot_product",
    slide="Measure 3: Scaled dot product",
    en="You divided by the norm of a: the slide's \"length\" is the number of coordinates d = a.shape[-1], and the product is divided by √d.",
    fr="Vous divisez par la norme de a : la « longueur » de la diapositive est le nombre de coordonnées d = a.shape[-1], et le produit est divisé par √d.",
)
def scaled_dot_product_by_norm(a, b):
    return dot_product(a, b) / np.linalg.norm(a, axis=-1)


@mistake(
    name="softmax-ignores-axis", exercise="softmax", function="softmax",
    slide="Softmax",
    en="You normalised over the last axis whatever `axis` says: pass axis=axis to both the max and the sum.",
    fr="Vous normalisez sur le dernier axe quel que soit `axis` : passez axis=axis au max et à la somme.",
    step_en='The softmax runs over the last axis whatever axis is asked: pass the axis on, to the max and to the sum.',
    step_fr="Le softmax porte sur le dernier axe quel que soit l'axe demandé : transmettez l'axe, au max et à la somme.",
)
def softmax_ignores_axis(x, axis=-1):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))  # axis=-1 hard-coded
    return e / np.sum(e, axis=-1, keepdims=True)


@mistake(
    name="softmax-no-keepdims", exercise="softmax", function="softmax",
    slide="Softmax",
    en="np.sum(e, axis=axis) without keepdims=True drops the axis, so e / sum lines the sums up with the wrong axis (or fails to broadcast): pass keepdims=True.",
    fr="np.sum(e, axis=axis) sans keepdims=True supprime l'axe, e / somme aligne alors les sommes sur le mauvais axe (ou ne se diffuse pas) : passez keepdims=True.",
)
def softmax_no_keepdims(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis)  # (n, n) / (n,): divides column j by row j's sum


@mistake(
    name="softmax-global-max", exercise="softmax", function="softmax",
    slide="Softmax",
    en="You subtracted the max of the whole array: a slice far below it underflows to 0/0; subtract each slice's own max, np.max(x, axis=axis, keepdims=True).",
    fr="Vous soustrayez le max de tout le tableau : une tranche bien plus basse tombe à 0/0 ; soustrayez le max de chaque tranche, np.max(x, axis=axis, keepdims=True).",
)
def softmax_global_max(x, axis=-1):
    with np.errstate(all="ignore"):
        e = np.exp(x - np.max(x))
        return e / np.sum(e, axis=axis, keepdims=True)


@mistake(
    name="skipgram-negative-wraps", exercise="embeddings", function="skipgram_pairs",
    slide="Plongement lexical",
    en="j < 0 reads tokens[j] from the end of the sentence: keep 0 <= j, range(max(0, i - window), …).",
    fr="j < 0 lit tokens[j] depuis la fin de la phrase : gardez 0 <= j, range(max(0, i - window), …).",
)
def skipgram_negative_wraps(tokens, window=2):
    n = len(tokens)
    return [(tokens[i], tokens[j]) for i in range(n) for j in range(i - window, i + window + 1) if j != i and j < n]


@mistake(
    name="skipgram-deduplicated", exercise="embeddings", function="skipgram_pairs",
    slide="Plongement lexical",
    en="You skipped pairs already seen: every (center, context) occurrence is a training sample, so pairs are never deduplicated.",
    fr="Vous sautez les paires déjà vues : chaque occurrence (centre, contexte) est un exemple d'entraînement, les paires ne sont jamais dédoublonnées.",
)
def skipgram_deduplicated(tokens, window=2):
    pairs = []
    for pair in skipgram_pairs(tokens, window):
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def _analogy_scores(words, E, a, b, c, score):
    index = {w: i for i, w in enumerate(words)}
    target = E[index[b]] - E[index[a]] + E[index[c]]
    scores = np.array(score(E, target), dtype=float)
    scores[[index[w] for w in (a, b, c)]] = -np.inf
    return words[int(np.argmax(scores))]


@mistake(
    name="analogy-dot-product", exercise="embeddings", function="analogy",
    slide="king - man + woman ≈ queen",
    en="You ranked the words by dot product with b - a + c, which favours long vectors: rank them by cosine similarity.",
    fr="Vous classez les mots par produit scalaire avec b - a + c, ce qui favorise les vecteurs longs : classez-les par similarité cosinus.",
)
def analogy_dot_product(words, E, a, b, c):
    return _analogy_scores(words, E, a, b, c, lambda E, t: E @ t)


@mistake(
    name="analogy-euclidean", exercise="embeddings", function="analogy",
    slide="king - man + woman ≈ queen",
    en="You took the nearest word by Euclidean distance to b - a + c: the analogy ranks the words by cosine similarity.",
    fr="Vous prenez le mot le plus proche de b - a + c en distance euclidienne : l'analogie classe les mots par similarité cosinus.",
)
def analogy_euclidean(words, E, a, b, c):
    return _analogy_scores(words, E, a, b, c, lambda E, t: -np.linalg.norm(E - t, axis=-1))


@mistake(
    name="analogy-reversed", exercise="embeddings", function="analogy",
    slide="king - man + woman ≈ queen",
    en="You computed E[a] - E[b] + E[c]: « a is to b what c is to ? » looks near E[b] - E[a] + E[c] (king - man + woman).",
    fr="Vous calculez E[a] - E[b] + E[c] : « a est à b ce que c est à ? » cherche près de E[b] - E[a] + E[c] (roi - homme + femme).",
)
def analogy_reversed(words, E, a, b, c):
    return _analogy_scores(words, E, b, a, c, cosine_similarity)


@mistake(
    name="similarity-attention-plain-sum", exercise="attention", function="similarity_attention",
    slide="Normalization",
    en="You divided the cosines by their plain sum: they can be negative or sum to 0, so the word math takes their softmax.",
    fr="Vous divisez les cosinus par leur simple somme : ils peuvent être négatifs ou sommer à 0, le calcul de mots prend leur softmax.",
)
def similarity_attention_plain_sum(E):
    S = cosine_similarity_matrix(E)
    with np.errstate(all="ignore"):
        weights = S / S.sum(axis=-1, keepdims=True)
    return weights @ E, weights


@mistake(
    name="attention-mask-after-softmax", exercise="attention", function="attention_weights",
    slide="Self-attention",
    en="You applied the mask after the softmax, so the rows no longer sum to 1: set the masked scores to -inf before the softmax, np.where(mask, scores, -np.inf).",
    fr="Vous appliquez le masque après le softmax, les lignes ne somment plus à 1 : mettez les scores masqués à -inf avant le softmax, np.where(mask, scores, -np.inf).",
)
def attention_mask_after_softmax(Q, K, mask=None):
    weights = softmax(Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1]))
    return weights if mask is None else weights * mask


@mistake(
    name="attention-mask-zero-scores", exercise="attention", function="attention_weights",
    slide="Self-attention",
    en="You multiplied the scores by the mask: a score of 0 still gets weight e^0 after the softmax; set the masked scores to -inf, np.where(mask, scores, -np.inf).",
    fr="Vous multipliez les scores par le masque : un score de 0 garde le poids e^0 après le softmax ; mettez les scores masqués à -inf, np.where(mask, scores, -np.inf).",
)
def attention_mask_zero_scores(Q, K, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    return softmax(scores if mask is None else scores * mask)


@mistake(
    name="attention-scaled-by-first-axis", exercise="attention", function="attention_weights",
    slide="Self-attention",
    en="You took d_k from Q.shape[0] (a number of rows or of batches): d_k is the width of a query, Q.shape[-1], and the scores are divided by √d_k.",
    fr="Vous prenez d_k dans Q.shape[0] (un nombre de lignes ou de lots) : d_k est la largeur d'une requête, Q.shape[-1], et les scores sont divisés par √d_k.",
)
def attention_scaled_by_first_axis(Q, K, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[0])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores)


@mistake(
    name="causal-mask-ignores-n-k", exercise="attention", function="causal_mask",
    slide="Self-attention",
    en="You ignored n_k: when it is given, the mask has shape (n_q, n_k), np.tril(np.ones((n_q, n_k), dtype=bool)).",
    fr="Vous ignorez n_k : quand il est donné, le masque a la forme (n_q, n_k), np.tril(np.ones((n_q, n_k), dtype=bool)).",
)
def causal_mask_ignores_n_k(n_q, n_k=None):
    return np.tril(np.ones((n_q, n_q), dtype=bool))


@mistake(
    name="mha-strided-heads", exercise="attention", function="multi_head_attention",
    slide="Multi-head attention",
    en="You gave head h every n_heads-th column (X @ W)[..., h::n_heads]: head h takes the consecutive columns h·d_k to (h+1)·d_k - 1, reshape(n, n_heads, d_k).",
    fr="Vous donnez à la tête h une colonne sur n_heads, (X @ W)[..., h::n_heads] : la tête h prend les colonnes consécutives h·d_k à (h+1)·d_k - 1, reshape(n, n_heads, d_k).",
)
def mha_strided_heads(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    _check_heads(X.shape[-1], n_heads)
    Q, K, V = (np.swapaxes((X @ W).reshape(*X.shape[:-1], -1, n_heads), -1, -2) for W in (W_q, W_k, W_v))
    Q, K, V = (np.swapaxes(M, -2, -3) for M in (Q, K, V))
    if mask is not None:
        mask = np.expand_dims(mask, -3)
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return merge_heads(heads) @ W_o, weights


def _interleaved(angles_even, angles_odd, n_positions, d_model):
    PE = np.empty((n_positions, d_model))
    PE[:, 0::2] = np.sin(angles_even)
    PE[:, 1::2] = np.cos(angles_odd[:, : d_model // 2])
    return PE


@mistake(
    name="pe-integer-division", exercise="positional", function="positional_encoding",
    slide="Positional encoding",
    en="2i // d_model is an integer division (0 for every column): the exponent is the fraction 2i / d_model, with /.",
    fr="2i // d_model est une division entière (0 pour chaque colonne) : l'exposant est la fraction 2i / d_model, avec /.",
)
def pe_integer_division(n_positions, d_model, base=10000.0):
    p = np.arange(n_positions)[:, None]
    angles = p / base ** (np.arange(0, d_model, 2) // d_model)  # 0 for every column
    return _interleaved(angles, angles, n_positions, d_model)


@mistake(
    name="pe-column-exponent", exercise="positional", function="positional_encoding",
    slide="Positional encoding",
    en="You gave the odd column j = 2i+1 the exponent j / d_model: columns 2i and 2i+1 share one angle, p / base^(2i/d_model).",
    fr="Vous donnez à la colonne impaire j = 2i+1 l'exposant j / d_model : les colonnes 2i et 2i+1 partagent un angle, p / base^(2i/d_model).",
)
def pe_column_exponent(n_positions, d_model, base=10000.0):
    p = np.arange(n_positions)[:, None]
    angles = p / base ** (np.arange(d_model) / d_model)  # one exponent per column
    return _interleaved(angles[:, 0::2], angles[:, 1::2], n_positions, d_model)


@mistake(
    name="pe-base-ignored", exercise="positional", function="positional_encoding",
    slide="Positional encoding",
    en="You wrote 10000 where the formula has base: use the base argument, p / base^(2i/d_model).",
    fr="Vous écrivez 10000 là où la formule a base : utilisez l'argument base, p / base^(2i/d_model).",
)
def pe_base_ignored(n_positions, d_model, base=10000.0):
    angles = _angles(n_positions, d_model, 10000.0)
    return _interleaved(angles, angles, n_positions, d_model)


@mistake(
    name="gelu-misplaced-parenthesis", exercise="transformer", function="gelu",
    slide="Tout ensemble",
    en="You multiplied only x by √(2/π): the tanh takes √(2/π) (x + 0.044715 x³), the whole sum, np.sqrt(2 / np.pi) * (x + 0.044715 * x**3).",
    fr="Vous ne multipliez que x par √(2/π) : la tanh prend √(2/π) (x + 0.044715 x³), toute la somme, np.sqrt(2 / np.pi) * (x + 0.044715 * x**3).",
)
def gelu_misplaced_parenthesis(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * x + 0.044715 * x**3))


@mistake(
    name="gelu-sigmoid", exercise="transformer", function="gelu",
    slide="Tout ensemble",
    en="You used the sigmoid approximation x·σ(1.702 x): GPT-2's GELU is the tanh one, 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).",
    fr="Vous utilisez l'approximation sigmoïde x·σ(1.702 x) : la GELU de GPT-2 est celle en tanh, 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).",
)
def gelu_sigmoid(x):
    return x * 0.5 * (1 + np.tanh(0.851 * x))  # x·σ(1.702 x), σ(z) = (1 + tanh(z / 2)) / 2


@mistake(
    name="feed-forward-no-b2", exercise="transformer", function="feed_forward",
    slide="Tout ensemble",
    en="You left out the second bias: the feed-forward layer is gelu(x @ W1 + b1) @ W2 + b2.",
    fr="Vous oubliez le second biais : la couche feed-forward est gelu(x @ W1 + b1) @ W2 + b2.",
)
def feed_forward_no_b2(x, W1, b1, W2, b2):
    return gelu(x @ W1 + b1) @ W2


@mistake(
    name="feed-forward-gelu-twice", exercise="transformer", function="feed_forward",
    slide="Tout ensemble",
    en="You applied gelu after the second layer too: the activation sits between the two layers only, gelu(x @ W1 + b1) @ W2 + b2.",
    fr="Vous appliquez gelu aussi après la seconde couche : l'activation n'est qu'entre les deux couches, gelu(x @ W1 + b1) @ W2 + b2.",
)
def feed_forward_gelu_twice(x, W1, b1, W2, b2):
    return gelu(gelu(x @ W1 + b1) @ W2 + b2)


def _attend(x, block, n_heads):
    return multi_head_attention(x, block["W_q"], block["W_k"], block["W_v"], block["W_o"], n_heads,
                                causal_mask(x.shape[-2]))[0]


def _ffn(x, block):
    return feed_forward(x, block["W1"], block["b1"], block["W2"], block["b2"])


@mistake(
    name="block-no-residuals", exercise="transformer", function="transformer_block",
    slide="Tout ensemble",
    en="You replaced x by each sub-layer's output: both are residual connections, x = x + MHA(LN1(x)), then x = x + FFN(LN2(x)).",
    fr="Vous remplacez x par la sortie de chaque sous-couche : les deux sont des connexions résiduelles, x = x + MHA(LN1(x)), puis x = x + FFN(LN2(x)).",
)
def block_no_residuals(x, block, n_heads):
    x = _attend(layer_norm(x, block["ln1_gamma"], block["ln1_beta"]), block, n_heads)
    return _ffn(layer_norm(x, block["ln2_gamma"], block["ln2_beta"]), block)


@mistake(
    name="block-residual-from-normalised", exercise="transformer", function="transformer_block",
    slide="Tout ensemble",
    en="You added the sub-layer to the normalised h = LN(x): the residual connection adds it to x itself, x = x + MHA(LN1(x)), then x = x + FFN(LN2(x)).",
    fr="Vous ajoutez la sous-couche au h = LN(x) normalisé : la connexion résiduelle l'ajoute à x lui-même, x = x + MHA(LN1(x)), puis x = x + FFN(LN2(x)).",
)
def block_residual_from_normalised(x, block, n_heads):
    h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"])
    x = h + _attend(h, block, n_heads)
    h = layer_norm(x, block["ln2_gamma"], block["ln2_beta"])
    return h + _ffn(h, block)


@mistake(
    name="block-ln1-twice", exercise="transformer", function="transformer_block",
    slide="Tout ensemble",
    en="You used ln1_gamma and ln1_beta for the second LayerNorm too: the one before the feed-forward has its own, ln2_gamma and ln2_beta.",
    fr="Vous utilisez ln1_gamma et ln1_beta pour la seconde LayerNorm aussi : celle d'avant le feed-forward a les siens, ln2_gamma et ln2_beta.",
)
def block_ln1_twice(x, block, n_heads):
    x = x + _attend(layer_norm(x, block["ln1_gamma"], block["ln1_beta"]), block, n_heads)
    return x + _ffn(layer_norm(x, block["ln1_gamma"], block["ln1_beta"]), block)


def _forward(token_ids, params, blocks=None, positional=True, late_positional=False):
    E = params["token_embedding"]
    n, d = len(token_ids), E.shape[1]
    x = embed(token_ids, E) + (positional_encoding(n, d) if positional and not late_positional else 0)
    for block in params["blocks"] if blocks is None else blocks:
        x = transformer_block(x, block, params["n_heads"])
    if late_positional:
        x = x + positional_encoding(n, d)
    return layer_norm(x, params["lnf_gamma"], params["lnf_beta"]) @ E.T


@mistake(
    name="forward-skips-last-block", exercise="transformer", function="transformer_forward",
    slide="Rince et répète",
    en="The loop stops before the last block (range(len(blocks) - 1)): apply every block, the last one included, for block in params['blocks'].",
    fr="La boucle s'arrête avant le dernier bloc (range(len(blocks) - 1)) : appliquez chaque bloc, le dernier compris, for block in params['blocks'].",
)
def forward_skips_last_block(token_ids, params):
    return _forward(token_ids, params, blocks=params["blocks"][:-1])


@mistake(
    name="forward-no-positional-encoding", exercise="transformer", function="transformer_forward",
    slide="3) Encodage positionnel",
    en="You left out the positional encoding: without it the model cannot tell word order; x = embed(token_ids, E) + positional_encoding(n, d_model).",
    fr="Vous oubliez l'encodage positionnel : sans lui le modèle ignore l'ordre des mots ; x = embed(token_ids, E) + positional_encoding(n, d_model).",
)
def forward_no_positional_encoding(token_ids, params):
    return _forward(token_ids, params, positional=False)


@mistake(
    name="forward-positional-after-blocks", exercise="transformer", function="transformer_forward",
    slide="3) Encodage positionnel",
    en="You added the positional encoding after the blocks: add it to the embeddings before the first block, x = embed(token_ids, E) + positional_encoding(n, d_model).",
    fr="Vous ajoutez l'encodage positionnel après les blocs : ajoutez-le aux plongements avant le premier bloc, x = embed(token_ids, E) + positional_encoding(n, d_model).",
)
def forward_positional_after_blocks(token_ids, params):
    return _forward(token_ids, params, late_positional=True)


@mistake(
    name="next-token-first-position", exercise="transformer", function="next_token_probabilities",
    slide="5) Softmax",
    en="You took the first position's logits: the next token is predicted by the last position, softmax(logits[-1]).",
    fr="Vous prenez les logits de la première position : le mot suivant est prédit par la dernière position, softmax(logits[-1]).",
)
def next_token_first_position(token_ids, params):
    return softmax(transformer_forward(token_ids, params)[0])


@mistake(
    name="next-token-softmax-over-positions", exercise="transformer", function="next_token_probabilities",
    slide="5) Softmax",
    en="You took the softmax over axis 0 (the positions), then the last row: the probabilities are over the vocabulary, softmax(logits[-1]), the last axis.",
    fr="Vous prenez le softmax sur l'axe 0 (les positions), puis la dernière ligne : les probabilités portent sur le vocabulaire, softmax(logits[-1]), le dernier axe.",
)
def next_token_softmax_over_positions(token_ids, params):
    return softmax(transformer_forward(token_ids, params), axis=0)[-1]


@mistake(
    name="generate-feeds-last-token", exercise="transformer", function="generate",
    slide="6) Rince et répète",
    en="You ran the model on the last token alone: each step runs it on the whole sequence so far, transformer_forward(ids, params), prompt and new ids together.",
    fr="Vous lancez le modèle sur le dernier token seul : chaque étape le lance sur toute la séquence, transformer_forward(ids, params), prompt et nouveaux ids ensemble.",
)
def generate_feeds_last_token(token_ids, params, n_new):
    ids = list(token_ids)
    for _ in range(n_new):
        ids.append(int(np.argmax(transformer_forward(ids[-1:], params)[-1])))
    return ids[len(token_ids):]


@mistake(
    name="generate-no-feedback", exercise="transformer", function="generate",
    slide="6) Rince et répète",
    en="You ran the model on the prompt every time: append each new id to the sequence and feed it back, ids.append(next_id), then transformer_forward(ids, params).",
    fr="Vous relancez le modèle sur le seul prompt : ajoutez chaque nouvel id à la séquence et réinjectez-la, ids.append(next_id), puis transformer_forward(ids, params).",
)
def generate_no_feedback(token_ids, params, n_new):
    return [int(np.argmax(transformer_forward(list(token_ids), params)[-1]))] * n_new


@mistake(
    name="generate-argmax-all-positions", exercise="transformer", function="generate",
    slide="6) Rince et répète",
    en="You took the argmax over every position's logits at once: the next id is the argmax of the last row, np.argmax(logits[-1]).",
    fr="Vous prenez l'argmax sur les logits de toutes les positions à la fois : l'id suivant est l'argmax de la dernière ligne, np.argmax(logits[-1]).",
)
def generate_argmax_all_positions(token_ids, params, n_new):
    ids = list(token_ids)
    for _ in range(n_new):
        logits = transformer_forward(ids, params)
        ids.append(int(np.argmax(logits)) % logits.shape[-1])
    return ids[len(token_ids):]
