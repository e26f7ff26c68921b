"""The starter notebook `grade release` writes into the students' repository (e.g. seance11.ipynb):
the lecture's parts as Markdown sections (each module's own docstring: French, the English
below), each stub as a code cell, and a `%check EXERCISE` cell after each exercise.

The notebook is graded as any other by `grade seance11.ipynb`: its set-up and check cells hold
only `%` and `!` lines (and comments), which `grade` drops, so they neither run nor count as an
import of `grader`; the stubs raise NotImplementedError until written (0 points).

Built from the stubs' source (the assignment's package), never from the reference: nothing in
it is more than the students' modules already hold.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

from grader.model.assignment import Assignment

NOTEBOOK_VERSION = (4, 5)   # cells carry ids from nbformat 4.5
DEFAULT_URL = "https://github.com/ORGANISATION/{name}"   # replaced by `grade release --repo-url`

INTRO = """\
# {title}

**Français.** Écrivez chaque fonction dans sa cellule, exécutez-la, puis la cellule `%check`
qui suit la partie : le correcteur note les fonctions telles que le noyau les a, dans un
processus isolé, et affiche le rapport ici (points, le premier cas à corriger avec sa cause
probable, les cartes de chaleur et la diapo de chaque cas qui échoue). `%check` seul vérifie
tout ; `%check --case ID` rejoue un cas. Vous pouvez aussi rendre ce notebook :
`grade {notebook}` le note comme aujourd'hui (les lignes `%` sont ignorées).
NumPy et la bibliothèque standard seulement.

**English.** Write each function in its cell, run it, then the `%check` cell that follows the
part: the grader grades the functions as the kernel has them, in an isolated process, and
shows the report here (points, the first case to fix with its likely cause, the heatmaps and
the slide of each failing case). `%check` alone checks everything; `%check --case ID` replays
one case. You may also hand this notebook in: `grade {notebook}` grades it as today (`%`
lines are ignored). NumPy and the standard library only.
"""

SETUP = """\
# Colab, ou un notebook ouvert seul : décommentez les trois lignes suivantes (elles récupèrent le dépôt).
# Colab, or a notebook opened on its own: uncomment the next three lines (they get the repository).
# !git clone -q --depth 1 {url} /content/{name}
# %pip install -q /content/{name}
# %cd /content/{name}
%load_ext grader.notebook
"""


def notebook_name(project_name: str) -> str:
    """seance11-exercises -> seance11.ipynb"""
    name = project_name[:-len("-exercises")] if project_name.endswith("-exercises") else project_name
    return f"{name or 'exercises'}.ipynb"


def _cell(kind: str, source: str, index: int) -> dict:
    cell = {"cell_type": kind, "id": f"{kind}-{index}", "metadata": {}, "source": source.rstrip("\n")}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _module_parts(path: Path) -> tuple[str, list, list]:
    """(docstring, [import lines], [(function name, its source)]) of one stub module."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines()
    imports, functions = [], []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(ast.unparse(node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            functions.append((node.name, "\n".join(lines[first - 1:node.end_lineno])))
    return ast.get_docstring(tree) or "", imports, functions


def starter_notebook(assignment: Assignment, repository: str, url: str | None = None,
                     notebook: str = "seance11.ipynb") -> bytes:
    """The notebook's JSON: intro, set-up cell, then per exercise its Markdown section, its
    imports, one cell per stub and its `%check` cell."""
    folder = assignment.root / assignment.package
    cells = [("markdown", INTRO.format(title=" ".join(assignment.title.split()), notebook=notebook)),
             ("code", SETUP.format(url=url or DEFAULT_URL.format(name=repository), name=repository))]
    for exercise in assignment.exercises:
        path = folder / f"{exercise.name}.py"
        if not path.is_file():
            continue
        docstring, imports, functions = _module_parts(path)
        wanted = [(name, source) for name, source in functions if name in exercise.functions]
        title = " / ".join(dict.fromkeys(exercise.title.values())) if isinstance(exercise.title, dict) \
            else exercise.title  # French, then English, as the notebook's text
        heading = f"## {title}\n\n`{exercise.name}` — {exercise.points:g} points\n\n{docstring}"
        cells.append(("markdown", heading))
        if imports:
            cells.append(("code", "\n".join(dict.fromkeys(imports))))
        for _, source in wanted:
            cells.append(("code", source))
        cells.append(("code", f"%check {exercise.name}"))
    cells.append(("markdown", "## Tout vérifier / Check everything"))
    cells.append(("code", "%check"))
    document = {
        "cells": [_cell(kind, source, i) for i, (kind, source) in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": NOTEBOOK_VERSION[0], "nbformat_minor": NOTEBOOK_VERSION[1]}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
