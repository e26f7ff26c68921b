"""Weighted mean and standardization."""
import numpy as np


def weighted_mean(x, w):
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    total = np.sum(w)
    if total == 0:
        raise ValueError("the weights sum to 0")
    return np.sum(w * x, axis=-1) / total


def standardize(x):
    x = np.asarray(x, dtype=float)
    return (x - np.mean(x, axis=-1, keepdims=True)) / np.std(x, axis=-1, keepdims=True)
