"""Pearson correlation."""
import numpy as np

from .moments import standardize


def pearson(x, y):
    return np.mean(standardize(x) * standardize(y), axis=-1)
