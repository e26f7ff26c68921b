"""A generated class, for the bulk tests and the bulk benchmark: correct and wrong submissions,
timeouts and crashes, as folders, single files, notebooks and zips, named as a plain folder,
a Moodle export or a Canvas export would name them."""
from __future__ import annotations

import json
import random
import re
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["similarity", "softmax", "embeddings", "attention", "positional", "transformer"]

# (module, correct text, wrong text): a classic mistake each, as a student would write it
MISTAKES = [
    ("softmax", "np.exp(x - np.max(x, axis=axis, keepdims=True))", "np.exp(x)"),
    ("similarity", "return dot_product(a, b) / np.sqrt(d)", "return dot_product(a, b) / d"),
    ("embeddings", "min(n, i + window + 1)", "min(n, i + window)"),
]
BROKEN = {
    "timeout": ("softmax", "def softmax(x, axis=-1):\n", "def softmax(x, axis=-1):\n    while True:\n        pass\n"),
    "crash": ("softmax", "def softmax(x, axis=-1):\n", "def softmax(x, axis=-1):\n    import os; os._exit(3)\n"),
    # never returns either, but waits instead of spinning: the same timeouts without a core taken
    # from the tests beside it, for tests of what becomes of a timeout (a class run, its files);
    # stopping a busy loop is tested with "timeout" (and bench/speed.py grades those)
    "asleep": ("softmax", "def softmax(x, axis=-1):\n", "def softmax(x, axis=-1):\n    import time\n"
                                                        "    time.sleep(3600)\n"),
}


def solution_sources() -> dict:
    """{module: source} of the reference, written as a student would (absolute imports)."""
    sources = {}
    for name in MODULES:
        text = (ROOT / "reference" / f"{name}.py").read_text()
        sources[name] = re.sub(r"from \.(\w+) import", r"from exercises.\1 import", text)
    return sources


def variant(kind: str, rng: random.Random) -> dict:
    sources = solution_sources()
    if kind == "wrong":
        module, old, new = rng.choice(MISTAKES)
    elif kind in BROKEN:
        module, old, new = BROKEN[kind]
    else:
        return sources
    assert old in sources[module], (module, old)
    sources[module] = sources[module].replace(old, new, 1)
    return sources


def single_file(sources: dict) -> str:
    """All modules in one file (the cells mode): the cross-module imports are not needed."""
    return "\n\n".join(re.sub(r"^from exercises\.\w+ import .*$", "", sources[m], flags=re.M) for m in MODULES)


def notebook(sources: dict) -> str:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Séance 11"}]
    for m in MODULES:
        body = re.sub(r"^from exercises\.\w+ import .*$", "", sources[m], flags=re.M)
        cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": body})
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})


def write_submission(sources: dict, form: str, target: Path) -> Path:
    """`target` without extension; returns what was written."""
    if form == "folder":
        package = target / "exercises"
        package.mkdir(parents=True)
        for m, text in sources.items():
            (package / f"{m}.py").write_text(text)
        return target
    if form == "py":
        path = target.with_suffix(".py")
        path.write_text(single_file(sources))
        return path
    if form == "ipynb":
        path = target.with_suffix(".ipynb")
        path.write_text(notebook(sources))
        return path
    if form == "zip":
        path = target.with_suffix(".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for m, text in sources.items():
                z.writestr(f"devoir/exercises/{m}.py", text)
        return path
    raise ValueError(form)


def make_class(folder: Path, n: int, mix: dict, seed: int = 0, naming: str = "mixed") -> dict:
    """n submissions in `folder`; mix = {"correct": 0.7, "wrong": 0.2, "timeout": 0.05, "crash": 0.05}
    (kinds: correct, wrong, timeout, asleep, crash).
    Returns {student id as the grader will see it: kind}."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    kinds = []
    for kind, share in mix.items():
        kinds += [kind] * round(share * n)
    kinds = (kinds + ["correct"] * n)[:n]
    rng.shuffle(kinds)
    expected = {}
    for i, kind in enumerate(kinds):
        sources = variant(kind, rng)
        form = ["folder", "py", "ipynb", "zip"][i % 4] if naming != "plain-folders" else "folder"
        style = naming if naming in ("plain", "moodle", "canvas", "plain-folders") else ["plain", "moodle", "canvas"][i % 3]
        number = 100000 + i
        if style in ("plain", "plain-folders"):
            student = f"student{i:03d}"
            write_submission(sources, form, folder / student)
        elif style == "moodle":
            student = str(number)
            inner = folder / f"Prénom Nom{i}_{number}_assignsubmission_file_"
            inner.mkdir()
            write_submission(sources, form, inner / "seance11")
        else:  # Canvas: one file per upload, the modules as separate files for folder submissions
            student = str(number)
            prefix = f"nomprenom{i}_{number}_{700000 + i}_"
            if form == "folder":
                for m, text in sources.items():
                    (folder / f"{prefix}{m}.py").write_text(text)
            else:
                written = write_submission(sources, form, folder / "tmp-upload")
                written.rename(folder / f"{prefix}seance11{written.suffix}")
        expected[student] = kind
    return expected
