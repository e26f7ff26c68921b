"""A second corpus for bench/diagnosis_accuracy.py: mistakes written the way students write them.

`corpus.py` lists single-mistake submissions written by hand, independently of
reference/mistakes.py: each replaces one contract function of the reference with a student's
own version (loops, np.dot, a wrong axis, a forgotten keepdims, `== None`, an off-by-one loop, a
missing residual, …), and says what an explanation must contain to count as naming the cause.
`build(entry, folder)` writes the submission; `grader.instructor.accuracy.student_corpus` grades
every entry through the real pipeline and classifies what the student is told.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "reference"


def build(entry, folder: Path) -> Path:
    """The reference as the package `exercises` in `folder`, with `entry.function` of
    `entry.module` replaced by the entry's source. Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in REFERENCE.glob("*.py"):
        if source.name == "mistakes.py":
            continue
        text = re.sub(r"from \.(\w+) import", r"from exercises.\1 import", source.read_text())
        if source.stem == entry.module:
            text = replace_function(text, entry.function, entry.source)
        (folder / source.name).write_text(text)
    return folder


def replace_function(text: str, name: str, source: str) -> str:
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
            return "".join(lines[:start]) + source.strip("\n") + "\n" + "".join(lines[node.end_lineno:])
    raise KeyError(f"no function {name} in the reference module")
