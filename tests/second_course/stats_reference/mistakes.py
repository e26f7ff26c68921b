"""The second course's classic mistake, as a variant of one reference function (instructor side)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Mistake:
    name: str
    exercise: str
    function: str
    slide: str
    explanation: str
    explanation_fr: str
    implementation: Callable[..., object]


def standardize_sample_std(x):
    x = np.asarray(x, dtype=float)
    return (x - np.mean(x, axis=-1, keepdims=True)) / np.std(x, axis=-1, ddof=1, keepdims=True)  # ddof=1


MISTAKES = [
    Mistake("standardize-sample-std", "moments", "standardize", "Écart-type",
            "Divided by the sample standard deviation (ddof=1): standardize with the population one, np.std(x).",
            "Tu divises par l'écart-type corrigé (ddof=1) : centre-réduis avec celui de la population, np.std(x).",
            standardize_sample_std),
]
