"""Random inputs of the second course: `name(rng, **params) -> dict` of the function's arguments."""
import numpy as np


def rows(rng, n_rows=2, n=5):
    """Rows that are never constant (their standard deviation is far from 0)."""
    return {"x": rng.normal(3.0, 2.0, size=(n_rows, n)) + np.arange(n)}


def weighted_rows(rng, n_rows=2, n=4):
    return {"x": rng.normal(10.0, 3.0, size=(n_rows, n)), "w": rng.uniform(0.5, 2.0, size=n)}


def row_pairs(rng, n_rows=2, n=6):
    x = rng.normal(size=(n_rows, n)) + np.arange(n)
    return {"x": x, "y": 0.5 * x + rng.normal(size=(n_rows, n))}
