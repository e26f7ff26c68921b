"""Softmax — slides "Normalization" and "Softmax": x -> e^x, then divide by the sum."""
import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))  # shift by the max: e^x never overflows
    return e / np.sum(e, axis=axis, keepdims=True)
