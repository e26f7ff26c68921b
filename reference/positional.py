"""Positional encoding — slides "3) Encodage positionnel" ("write a story ." vs "story . a write")."""
import numpy as np


def positional_encoding(n_positions, d_model, base=10000.0):
    p = np.arange(n_positions)[:, None]
    two_i = np.arange(0, d_model, 2)  # the even columns 2i
    angles = p / base ** (two_i / d_model)
    PE = np.empty((n_positions, d_model))
    PE[:, 0::2] = np.sin(angles)
    PE[:, 1::2] = np.cos(angles[:, : d_model // 2])  # odd d_model: the last column is a sine
    return PE
