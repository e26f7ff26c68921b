"""Similarity measures — slides "Comment faire le calcul ?" (Measures 1–3)."""
import numpy as np


def dot_product(a, b):
    return np.sum(a * b, axis=-1)


def _norm(x, eps):
    return np.maximum(np.linalg.norm(x, axis=-1), eps)


def cosine_similarity(a, b, eps=1e-8):
    return dot_product(a, b) / (_norm(a, eps) * _norm(b, eps))


def scaled_dot_product(a, b):
    d = np.shape(a)[-1]
    return dot_product(a, b) / np.sqrt(d)


def cosine_similarity_matrix(A, B=None):
    B = A if B is None else B
    return (A @ B.T) / np.outer(_norm(A, 1e-8), _norm(B, 1e-8))
