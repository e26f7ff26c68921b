"""Attention — slides "Mécanismes attentionnels", "Self-attention", "Multi-head attention".

Mask convention: True = may attend (as torch's scaled_dot_product_attention).
"""
import numpy as np

from .similarity import cosine_similarity_matrix
from .softmax import softmax


def similarity_attention(E):
    weights = softmax(cosine_similarity_matrix(E))
    return weights @ E, weights


def attention_weights(Q, K, mask=None):
    d_k = Q.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores)


def scaled_dot_product_attention(Q, K, V, mask=None):
    weights = attention_weights(Q, K, mask)
    return weights @ V, weights


def causal_mask(n_q, n_k=None):
    n_k = n_q if n_k is None else n_k
    return np.tril(np.ones((n_q, n_k), dtype=bool))


def split_heads(x, n_heads):
    """(..., n, d_model) -> (..., n_heads, n, d_k): head h takes columns h*d_k:(h+1)*d_k."""
    *batch, n, d_model = x.shape
    return np.swapaxes(x.reshape(*batch, n, n_heads, d_model // n_heads), -2, -3)


def merge_heads(x):
    """(..., n_heads, n, d_k) -> (..., n, d_model): Concat(head_1, ..., head_h)."""
    x = np.swapaxes(x, -2, -3)
    return x.reshape(*x.shape[:-2], -1)


def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    d_model = X.shape[-1]
    if d_model % n_heads != 0:
        raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
    Q, K, V = (split_heads(X @ W, n_heads) for W in (W_q, W_k, W_v))
    if mask is not None:
        mask = np.expand_dims(mask, -3)  # the same mask for every head
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return merge_heads(heads) @ W_o, weights
