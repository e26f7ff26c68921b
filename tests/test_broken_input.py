"""Broken student input, end to end through the real CLI.

Each kind of breakage must give one clear message — what is wrong, where (file or cell, and
line), what to do —, never a traceback, and must cost only the part that is broken: the
exercises that are fine keep their points. An input that cannot be read at all is exit
status 2 with a one-line message on stderr.

Messages are looked for in everything the result says (notes, exercise problems, case
messages), so that these tests hold wherever the engine chooses to show them.
"""
import json
import os
import re

import nbformat
import pytest

from conftest import run_grade, solution_folder, validate_result
from grader.model.errors import GraderError
from grader.grading.submission import format_size, load_submission

MODULES = ("similarity", "softmax", "embeddings", "attention", "positional", "transformer")


def grade(tmp_path, target, *args):
    """Run `grade`; returns (process, result JSON or None). Never a traceback, whatever happens."""
    out = tmp_path / "result.json"
    proc = run_grade(target, *args, "--json", out, "--report", tmp_path / "report.html", "--no-color")
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    result = None
    if proc.returncode in (0, 1):
        result = json.loads(out.read_text())
        validate_result(result)
    return proc, result


def unreadable(tmp_path, target, *args) -> str:
    """Exit status 2 and a single clear line on stderr, nothing graded; returns that line."""
    proc, _ = grade(tmp_path, target, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("grade: error: ") and proc.stderr.strip().count("\n") == 0, proc.stderr
    written = json.loads((tmp_path / "result.json").read_text())   # issue 17: CI consumers get the reason
    assert written["status"] == "invalid" and written["score"] == 0 and written["exercises"] == []
    return proc.stderr


def said(result) -> str:
    """Everything the result tells the student, as one text."""
    parts = list(result["notes"])
    for exercise in result["exercises"]:
        parts += exercise["problems"] + [c["message"] for c in exercise["cases"]]
    return "\n".join(parts)


def scores(result) -> dict:
    return {e["name"]: e["score"] for e in result["exercises"]}


def statuses(result, exercise) -> set:
    return {c["status"] for e in result["exercises"] if e["name"] == exercise for c in e["cases"]}


def line_of(text: str, fragment: str) -> int:
    """1-based line of the first occurrence of `fragment` in `text`."""
    assert fragment in text, fragment
    return text[:text.index(fragment)].count("\n") + 1


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def notebook(path, *sources, markdown=()):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(m) for m in markdown] + [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def folder(tmp_path):
    return solution_folder(tmp_path / "work" / "exercises")


# --- Python that does not compile ---------------------------------------------------------------------

def test_syntax_error_in_one_module_names_file_and_line_and_the_others_are_graded(tmp_path, folder):
    edit(folder / "positional.py", "def positional_encoding(", "def positional_encoding(:")
    line = line_of((folder / "positional.py").read_text(), "def positional_encoding(")
    proc, result = grade(tmp_path, folder, "-k", "positional", "softmax", "similarity")
    assert proc.returncode == 1
    assert re.search(rf"positional\.py, line {line}: SyntaxError: .*Fix this line", said(result))
    assert "def positional_encoding(:" in said(result)  # the line itself
    assert statuses(result, "positional") == {"error"}
    assert scores(result) == {"similarity": 12, "softmax": 10, "positional": 0}


def test_syntax_error_in_one_notebook_cell_costs_only_that_cell(tmp_path, folder):
    broken = (folder / "positional.py").read_text().replace("def positional_encoding(", "def positional_encoding(:")
    path = notebook(tmp_path / "devoir.ipynb", "import numpy as np", (folder / "softmax.py").read_text(), broken,
                    (folder / "similarity.py").read_text())
    proc, result = grade(tmp_path, path, "-k", "positional", "softmax", "similarity")
    assert proc.returncode == 1
    line = line_of(broken, "def positional_encoding(")
    assert re.search(rf"cell 3, line {line}: SyntaxError: .*Fix this line", said(result))
    assert "functions of the other cells are graded" in said(result)
    assert statuses(result, "positional") == {"error"}
    assert scores(result) == {"similarity": 12, "softmax": 10, "positional": 0}


def test_indentation_error_says_how_to_indent(tmp_path, folder):
    edit(folder / "positional.py", "    two_i = np.arange", "      two_i = np.arange")
    line = line_of((folder / "positional.py").read_text(), "      two_i")
    proc, result = grade(tmp_path, folder, "-k", "positional", "softmax")
    assert proc.returncode == 1
    assert re.search(rf"positional\.py, line {line}: IndentationError: unexpected indent", said(result))
    assert "Indent each block by 4 spaces" in said(result)
    assert scores(result) == {"softmax": 10, "positional": 0}


def test_null_byte_names_its_line(tmp_path, folder):
    text = (folder / "positional.py").read_text().replace("import numpy as np", "import numpy as np  # \0 oops", 1)
    (folder / "positional.py").write_text(text)
    proc, result = grade(tmp_path, folder, "-k", "positional", "softmax")
    assert proc.returncode == 1
    assert f"positional.py, line {line_of(text, chr(0))}: holds a null byte" in said(result)
    assert "delete and retype that line" in said(result)
    assert scores(result) == {"softmax": 10, "positional": 0}


# short ids: a test's id travels in the environment (PYTEST_CURRENT_TEST), which has a size limit
DEEP = {"parser-memory-error": "-" * 200_000 + "1", "compiler-recursion-error": "1+" * 100_000 + "1"}


@pytest.mark.parametrize("kind", DEEP)
def test_expression_too_deep_for_the_compiler_costs_its_module_only(tmp_path, folder, kind):
    text = (folder / "positional.py").read_text().rstrip("\n") + f"\n\nX = {DEEP[kind]}\n"
    (folder / "positional.py").write_text(text)
    proc, result = grade(tmp_path, folder, "-k", "positional", "softmax")
    assert proc.returncode == 1
    assert f"positional.py, line {line_of(text, 'X = ')}: an expression nested too deeply" in said(result)
    assert "Write it in several steps" in said(result)
    assert scores(result) == {"softmax": 10, "positional": 0}


def test_broken_init_does_not_cost_the_modules(tmp_path, folder):
    (folder / "__init__.py").write_text("from . import (\n")
    proc, result = grade(tmp_path, folder, "-k", "positional", "softmax")
    assert proc.returncode == 0
    assert "__init__.py, line 1: SyntaxError" in said(result) and "graded without __init__.py" in said(result)
    assert scores(result) == {"softmax": 10, "positional": 10}


# --- text that is not UTF-8 ----------------------------------------------------------------------------

def test_latin1_module_is_graded_with_a_note(tmp_path, folder):
    text = (folder / "positional.py").read_text().replace("import numpy as np", "# encodage « é »\nimport numpy as np", 1)
    (folder / "positional.py").write_bytes(text.encode("latin-1", "replace"))
    proc, result = grade(tmp_path, folder, "-k", "positional", "softmax")
    assert proc.returncode == 0
    assert re.search(rf"positional\.py, line {line_of(text, '# encodage')}: not UTF-8 text \(byte 0xAB",
                     said(result))
    assert "save the file as UTF-8" in said(result)
    assert scores(result) == {"softmax": 10, "positional": 10}


def test_latin1_single_file_is_graded_with_a_note(tmp_path, folder):
    text = "# Réponses de l'élève\n" + (folder / "softmax.py").read_text()
    path = tmp_path / "solution.py"
    path.write_bytes(text.encode("latin-1", "replace"))
    proc, result = grade(tmp_path, path, "-k", "softmax")
    assert proc.returncode == 0
    assert "solution.py, line 1: not UTF-8 text (byte 0xE9" in said(result)
    assert "save the file as UTF-8" in said(result)
    assert scores(result) == {"softmax": 10}


# --- nothing to grade ----------------------------------------------------------------------------------

def test_empty_py_file(tmp_path):
    path = tmp_path / "solution.py"
    path.write_bytes(b"")
    message = unreadable(tmp_path, path)
    assert "solution.py: this file is empty (0 bytes)" in message and "was it saved?" in message


def test_empty_folder(tmp_path):
    (tmp_path / "rendu").mkdir()
    message = unreadable(tmp_path, tmp_path / "rendu")
    assert "rendu: this folder is empty" in message and "Put your modules" in message


def test_folder_with_only_non_python_files_says_what_is_there(tmp_path):
    work = tmp_path / "rendu"
    work.mkdir()
    (work / "README.txt").write_text("mes réponses")
    (work / "data.csv").write_text("1,2\n")
    (work / "devoir.ipynb").write_text("{}")
    message = unreadable(tmp_path, work)
    assert "no Python module (.py file) here, only README.txt, data.csv, devoir.ipynb" in message
    assert f"grade {work / 'devoir.ipynb'}" in message  # the notebook it probably meant


# --- notebooks -----------------------------------------------------------------------------------------

def test_notebook_that_is_not_json(tmp_path, folder):
    path = notebook(tmp_path / "devoir.ipynb", (folder / "softmax.py").read_text())
    path.write_text(path.read_text()[:200])  # saved halfway
    message = unreadable(tmp_path, path)
    assert re.search(r"devoir\.ipynb, line \d+, column \d+: not valid JSON", message)
    assert "save it again" in message


@pytest.mark.parametrize("version", [2, 99])
def test_notebook_with_a_wrong_format_version(tmp_path, folder, version):
    path = notebook(tmp_path / "devoir.ipynb", (folder / "softmax.py").read_text())
    data = json.loads(path.read_text())
    data["nbformat"] = version
    path.write_text(json.dumps(data))
    message = unreadable(tmp_path, path)
    assert f"format version {version}" in message
    assert 'set "nbformat": 4' in message


def notebook_with_outputs(path, sources, output_bytes):
    nb = nbformat.v4.new_notebook()
    for source in sources:
        cell = nbformat.v4.new_code_cell(source)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="0123456789" * (output_bytes // 10))]
        nb.cells.append(cell)
    nbformat.write(nb, str(path))
    return path


def test_notebook_outputs_are_ignored(tmp_path, folder):
    cells = [(folder / f"{m}.py").read_text() for m in ("similarity", "softmax")]
    path = notebook_with_outputs(tmp_path / "devoir.ipynb", cells, 1_500_000)  # 3 MB of printed text
    assert path.stat().st_size > 3 * 10**6
    proc, result = grade(tmp_path, path, "-k", "similarity", "softmax")
    assert proc.returncode == 0, proc.stdout
    assert scores(result) == {"similarity": 12, "softmax": 10}


def test_notebook_too_large_is_refused_unread_and_says_to_clear_its_outputs(tmp_path, folder):
    cells = [(folder / f"{m}.py").read_text() for m in ("similarity", "softmax")]
    path = notebook_with_outputs(tmp_path / "devoir.ipynb", cells, 2_700_000)  # 5.4 MB: over the 5 MiB cap
    message = unreadable(tmp_path, path)
    size = format_size(path.stat().st_size)
    assert size == "5.2 MiB" and f"devoir.ipynb: {size}, more than the 5 MiB a notebook may weigh" in message
    assert "Clear Outputs of All Cells" in message


def test_notebook_with_only_markdown_cells(tmp_path):
    path = notebook(tmp_path / "devoir.ipynb", markdown=["# Mes réponses", "def softmax(x): ..."])
    message = unreadable(tmp_path, path)
    assert "it has no code cell, only cells of another kind (2 markdown)" in message and "Cell type → Code" in message


def test_zero_byte_notebook(tmp_path):
    path = tmp_path / "devoir.ipynb"
    path.write_bytes(b"")
    message = unreadable(tmp_path, path)
    assert "devoir.ipynb: this notebook is empty (0 bytes)" in message and "save it again" in message


# --- legal Python that is probably a mistake -----------------------------------------------------------

def test_duplicate_function_the_last_one_wins_and_both_lines_are_noted(tmp_path, folder):
    edit(folder / "softmax.py", "def softmax(x, axis=-1):", "def softmax(x, axis=-1):\n    return x\n\n\ndef softmax(x, axis=-1):")
    text = (folder / "softmax.py").read_text()
    first = line_of(text, "def softmax(")
    last = first + 4
    assert text.splitlines()[last - 1].startswith("def softmax(")
    proc, result = grade(tmp_path, folder, "-k", "softmax")
    assert proc.returncode == 0  # the last one is right, as Python keeps it
    assert f"softmax() is defined twice (lines {first} and {last}): Python keeps the last one (line {last})" \
        in said(result)
    assert scores(result) == {"softmax": 10}


def test_duplicate_function_across_notebook_cells_the_last_cell_run_wins(tmp_path, folder):
    path = notebook(tmp_path / "devoir.ipynb", (folder / "softmax.py").read_text(), "x = 1",
                    "import numpy as np\n\ndef softmax(x, axis=-1):\n    return np.exp(x)\n")
    proc, result = grade(tmp_path, path, "-k", "softmax")
    assert proc.returncode == 1  # the later, wrong one is graded
    line = line_of((folder / "softmax.py").read_text(), "def softmax(")
    assert f"softmax() is defined in cell 1 (line {line}) and cell 3 (line 3): the last one run (cell 3, line 3)" \
        in said(result)
    assert "failed" in statuses(result, "softmax")


def test_modules_named_like_standard_or_third_party_ones_do_not_shadow_them(tmp_path, folder):
    for name in ("numpy", "json", "random", "typing"):
        (folder / f"{name}.py").write_text(f"raise RuntimeError('I am not the real {name}')\n")
    proc, result = grade(tmp_path, folder, "-k", "softmax", "similarity", "attention")
    assert proc.returncode == 0, proc.stdout
    assert "json.py, numpy.py, random.py and typing.py are named like modules of Python" in said(result)
    assert "never imports them in place of the real ones" in said(result)
    assert scores(result) == {"similarity": 12, "softmax": 10, "attention": 26}


# --- files that are not files ----------------------------------------------------------------------------

def test_module_that_is_a_directory(tmp_path, folder):
    (folder / "softmax.py").unlink()
    (folder / "softmax.py").mkdir()
    (folder / "softmax.py" / "notes.txt").write_text("oops")
    proc, result = grade(tmp_path, folder, "-k", "softmax", "positional")
    assert proc.returncode == 1
    assert "softmax.py is a folder, not a file" in said(result)
    assert "Put your code in a file named softmax.py" in said(result)
    assert statuses(result, "softmax") == {"error"}
    assert scores(result) == {"softmax": 0, "positional": 10}


def test_path_that_does_not_exist_suggests_a_close_name(tmp_path, folder):
    message = unreadable(tmp_path, folder.parent / "exercices")
    assert "exercices: no such file or folder" in message
    assert f"did you mean {folder}?" in message


def test_path_that_is_a_broken_symlink(tmp_path):
    link = tmp_path / "devoir.py"
    os.symlink(tmp_path / "gone.py", link)
    message = unreadable(tmp_path, link)
    assert "devoir.py: a broken symbolic link" in message and "gone.py, which does not exist" in message


# --- in French --------------------------------------------------------------------------------------------



@pytest.mark.same_on_every_backend("reading the submission, in French: before any worker runs")
def test_syntax_error_in_french_names_the_file_and_the_line(french, folder):
    edit(folder / "positional.py", "def positional_encoding(", "def positional_encoding(:")
    line = line_of((folder / "positional.py").read_text(), "def positional_encoding(")
    problem = str(load_submission(folder, "exercises").problems["positional"])
    # Python's own words stay as Python wrote them (SyntaxError: invalid syntax); the rest is French.
    assert f"positional.py, ligne {line} : SyntaxError : " in problem, problem
    assert "`def positional_encoding(:" in problem and "Corrigez cette ligne." in problem
    assert "Rien dans positional.py ne peut être corrigé tant que Python ne peut pas le lire ; " \
           "les autres modules sont corrigés." in problem


@pytest.mark.same_on_every_backend("reading the submission, in French: before any worker runs")
def test_notebook_messages_in_french(french, tmp_path):
    path = notebook(tmp_path / "devoir.ipynb", "def f(x):\n    return x\n", "def g(:\n",
                    "def f(x):\n    return 2 * x\n")
    submission = load_submission(path, "exercises")
    assert [c["label"] for c in submission.cells] == ["cellule 1", "cellule 2", "cellule 3"]
    assert str(submission.problems["cellule 2"]).startswith("cellule 2, ligne 1 : SyntaxError : ")
    assert "La cellule 2 n'est pas exécutée tant que Python ne peut pas la lire" in str(submission.problems["cellule 2"])
    assert ("f() est définie à deux endroits, cellule 1 (ligne 1) et cellule 3 (ligne 1) : c'est la dernière "
            "exécutée (cellule 3, ligne 1) qui est corrigée. Supprimez l'autre.") in [str(n) for n in submission.notes]
    (tmp_path / "vide.ipynb").write_text("  ")
    with pytest.raises(GraderError, match=r"ce notebook est vide \(2 octets\) : il n'a pas été enregistré"):
        load_submission(tmp_path / "vide.ipynb", "exercises")
