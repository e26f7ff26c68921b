"""The second course's one property check: a standardized row has mean 0 and standard deviation 1.

Written with the engine's readers and formatters (grader/grading/properties.py), with this
course's own sentences in properties.en.yaml and properties.fr.yaml.
"""
from pathlib import Path

import numpy as np

from grader.grading.properties import PropertyChecks, as_array, number, value_range

HERE = Path(__file__).resolve().parent
PROPERTIES = PropertyChecks({"en": HERE / "properties.en.yaml", "fr": HERE / "properties.fr.yaml"})
say = PROPERTIES.say


@PROPERTIES.check("moments", "standardize")
def standardized_rows(inputs, value):
    y, x = as_array(value), as_array(inputs.get("x"))
    if y is None or x is None or y.shape != x.shape or y.ndim < 1 or y.shape[-1] < 2:
        return None
    if not np.all(np.isfinite(y)):
        return say("standardize.nan", count=int(np.sum(~np.isfinite(y))))
    means, stds = np.mean(y, axis=-1), np.std(y, axis=-1)
    if np.max(np.abs(means)) > 1e-6:
        return say("standardize.mean", worst=number(means.ravel()[np.argmax(np.abs(means))]))
    if np.max(np.abs(stds - 1)) > 1e-6:
        return say("standardize.std", shown=value_range(stds, 1.0))
    return None
