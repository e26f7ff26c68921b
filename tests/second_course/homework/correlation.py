"""Corrélation de Pearson. / Pearson correlation."""
import numpy as np  # noqa: F401


def pearson(x, y):
    """Coefficient de corrélation de x et y le long du dernier axe. / Correlation of x and y along the last axis.

    mean(standardize(x) * standardize(y), axis=-1), in [-1, 1].
    """
    raise NotImplementedError("pearson")
