"""Windows line endings: students on Windows save their modules and notebooks with CRLF ("\\r\\n").
Through the real CLI (`grade --json`), a correct submission written with CRLF grades exactly as
the same submission written with LF: same score (100), every case passed, the same verdict and
points for every case, the same notes and problems.

Each comparison grades both versions; a submission's own path is the only thing allowed to
differ between the two results (it appears in `submission` and in notes)."""
import json

import nbformat
import pytest

from conftest import run_grade

MODULES = ("similarity", "softmax", "embeddings", "attention", "positional", "transformer")


def to_crlf(data: bytes) -> bytes:
    assert b"\r" not in data, "the LF version already holds a carriage return"
    return data.replace(b"\n", b"\r\n")


def grade(tmp_path, submission, name: str) -> tuple:
    out = tmp_path / f"{name}.json"
    proc = run_grade(submission, "--json", out, "--report", tmp_path / f"{name}.html", "--no-color")
    assert proc.returncode in (0, 1) and out.is_file(), proc.stdout + proc.stderr
    return proc, json.loads(out.read_text(encoding="utf-8"))


def verdicts(result: dict) -> dict:
    """Everything the grade depends on, the submission's path left out."""
    where = str(result["submission"])
    return {
        "score": result["score"], "max_score": result["max_score"], "status": result["status"],
        "notes": [n.replace(where, "<submission>") for n in result["notes"]],
        "exercises": [(e["name"], e["score"], e["passed"], e["total"], e["problems"]) for e in result["exercises"]],
        "cases": {c["id"]: (c["status"], c["points"], c.get("message"), c.get("mistake"))
                  for e in result["exercises"] for c in e["cases"]},
    }


def assert_same_and_all_passed(lf: tuple, crlf: tuple, max_score=100):
    (lf_proc, lf_result), (crlf_proc, crlf_result) = lf, crlf
    assert lf_proc.returncode == 0, lf_proc.stdout + lf_proc.stderr
    assert lf_result["score"] == pytest.approx(max_score)
    assert {c["status"] for e in lf_result["exercises"] for c in e["cases"]} == {"passed"}
    assert crlf_proc.returncode == 0, crlf_proc.stdout + crlf_proc.stderr
    assert verdicts(crlf_result) == verdicts(lf_result)
    assert f"Points {max_score:.1f}/{max_score:.1f}" in crlf_proc.stdout, crlf_proc.stdout


def test_crlf_folder_grades_as_the_lf_folder(tmp_path, solution):
    folder = tmp_path / "crlf" / "exercises"
    folder.mkdir(parents=True)
    for source in sorted(solution.glob("*.py")):
        (folder / source.name).write_bytes(to_crlf(source.read_bytes()))
    assert all(b"\r\n" in (folder / f"{m}.py").read_bytes() for m in MODULES)
    assert_same_and_all_passed(grade(tmp_path, solution, "lf"), grade(tmp_path, folder, "crlf"))


def test_crlf_single_file_with_a_byte_order_mark_grades_as_the_lf_file(tmp_path, solution):
    """Notepad's "UTF-8 with BOM" and CRLF together, in a one-file submission."""
    source = "\n".join((solution / f"{m}.py").read_text(encoding="utf-8") for m in MODULES).encode("utf-8")
    lf, crlf = tmp_path / "lf" / "solution.py", tmp_path / "crlf" / "solution.py"
    for path, data in ((lf, source), (crlf, b"\xef\xbb\xbf" + to_crlf(source))):
        path.parent.mkdir()
        path.write_bytes(data)
    assert_same_and_all_passed(grade(tmp_path, lf, "lf"), grade(tmp_path, crlf, "crlf"))


def test_mixed_line_endings_grade_as_lf(tmp_path, solution):
    """A file edited on both systems: some lines end in CRLF, the others in LF."""
    folder = tmp_path / "mixed" / "exercises"
    folder.mkdir(parents=True)
    for source in sorted(solution.glob("*.py")):
        lines = source.read_bytes().split(b"\n")
        (folder / source.name).write_bytes(b"".join(line + (b"\r\n" if i % 2 else b"\n")
                                                     for i, line in enumerate(lines[:-1])) + lines[-1])
    assert_same_and_all_passed(grade(tmp_path, solution, "lf"), grade(tmp_path, folder, "mixed"))


def notebook(solution, newline: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# Mes réponses{newline}Séance 11"))
    nb.cells.append(nbformat.v4.new_code_cell(newline.join(["%matplotlib inline", "!pip list", "import numpy as np"])))
    for module in MODULES:
        nb.cells.append(nbformat.v4.new_code_cell((solution / f"{module}.py").read_text(encoding="utf-8")
                                                  .replace("\n", newline)))
    return nb


def test_crlf_notebook_grades_as_the_lf_notebook(tmp_path, solution):
    """The notebook's JSON written with CRLF line endings, and every cell's source holding "\\r\\n"
    (as a notebook saved by an editor on Windows can store them), `%magic` and `!shell` lines too."""
    lf, crlf = tmp_path / "lf.ipynb", tmp_path / "crlf.ipynb"
    nbformat.write(notebook(solution, "\n"), str(lf))
    text = nbformat.writes(notebook(solution, "\r\n"))
    crlf.write_bytes(to_crlf(text.encode("utf-8")))

    stored = json.loads(crlf.read_bytes().decode("utf-8"))  # what the test meant to write
    code = ["".join(c["source"]) for c in stored["cells"] if c["cell_type"] == "code"]
    assert len(code) == len(MODULES) + 1 and all("\r\n" in source for source in code)
    assert b"\r\n" in crlf.read_bytes() and b"\n" not in crlf.read_bytes().replace(b"\r\n", b"")

    assert_same_and_all_passed(grade(tmp_path, lf, "lf"), grade(tmp_path, crlf, "crlf"))
