"""`%check` / check() in a real kernel (nbclient + ipykernel, no mock): the starter notebook
`grade release` writes, filled with the reference, scores full points inline; a mistake shows
its `likely:` line; a missing function, a failed cell, a name defined twice and a helper not
run yet each give their line; a helper and an import from other cells are copied; the kernel's
state is the same before and after. One kernel per test process (module fixture)."""
import ast
import json
import os
import re
from pathlib import Path

import pytest

from conftest import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from grader.grading.submission import load_notebook  # noqa: E402
from grader.instructor.release import write_release  # noqa: E402


def reference_functions() -> dict:
    """{module: {function name: source}} of the reference (helpers included), in file order."""
    found = {}
    for path in sorted((ROOT / "reference").glob("*.py")):
        if path.name in ("mistakes.py", "__init__.py"):
            continue
        text = path.read_text()
        lines = text.splitlines()
        found[path.stem] = {node.name: "\n".join(lines[node.lineno - 1:node.end_lineno])
                            for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)}
    return found


def filled(notebook: dict, assignment) -> dict:
    """The starter notebook with each stub replaced by the reference; a module's helpers go in
    the cell of its first function."""
    reference = reference_functions()
    module_of = {f: e.name for e in assignment.exercises for f in e.functions}
    done = set()
    for cell in notebook["cells"]:
        match = re.match(r"def (\w+)\(", cell["source"]) if cell["cell_type"] == "code" else None
        if not match or match.group(1) not in module_of:
            continue
        module = module_of[match.group(1)]
        parts = []
        if module not in done:
            done.add(module)
            parts += [src for name, src in reference[module].items() if name not in module_of]
        parts.append(reference[module][match.group(1)])
        cell["source"] = "\n\n".join(parts)
    return notebook


class Kernel:
    """One ipykernel for the module: cells run one at a time, their outputs returned."""

    def __init__(self, folder: Path):
        self.nb = nbformat.v4.new_notebook()
        self.client = nbclient.NotebookClient(self.nb, kernel_name="python3", allow_errors=True, timeout=120,
                                              resources={"metadata": {"path": str(folder)}})

    def run(self, source: str) -> list:
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells.append(cell)
        self.client.execute_cell(cell, len(self.nb.cells) - 1)
        return cell.outputs

    def display(self, source: str) -> tuple[str, str]:
        """(text/plain, text/html) of the one display a %check cell makes."""
        outputs = self.run(source)
        shown = [o for o in outputs if o.output_type == "display_data"]
        assert len(shown) == 1, outputs
        assert not [o for o in outputs if o.output_type in ("error", "execute_result")], outputs
        return shown[0].data["text/plain"], shown[0].data["text/html"]

    def stdout(self, source: str) -> str:
        outputs = self.run(source)
        assert not [o for o in outputs if o.output_type == "error"], outputs
        return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


@pytest.fixture(scope="module")
def students(assignment, tmp_path_factory):
    out = tmp_path_factory.mktemp("nb") / "seance11-etudiants"
    write_release(assignment, out, repo_url="https://example.org/seance11-etudiants")
    notebook = filled(json.loads((out / "seance11.ipynb").read_text()), assignment)
    (out / "filled.ipynb").write_text(json.dumps(notebook))
    return out


@pytest.fixture(scope="module")
def kernel(students, assignment):
    """The starter notebook, filled with the reference, run cell by cell in one kernel."""
    notebook = json.loads((students / "filled.ipynb").read_text())
    k = Kernel(students)
    with k.client.setup_kernel():
        k.outputs = []
        k.run("%env GRADE_LANG=en")
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                k.outputs.append((cell["source"], k.run(cell["source"])))
        yield k


def displays(outputs) -> list:
    return [o for o in outputs if o.output_type == "display_data"]


SNAPSHOT = """\
import sys as _s, random as _r, os as _o, signal as _g, warnings as _w, hashlib as _h
import numpy as _n
_snap = dict(ns={k: id(v) for k, v in globals().items() if not re.match(r"^_+\\d*$|^_i+\\d*$|^_(ih|oh|dh|snap\\w*)$|^(In|Out|_[a-z])$", k)},
             np_random=_h.sha256(repr(_n.random.get_state()).encode()).hexdigest(), random=hash(_r.getstate()),
             path=list(_s.path), cwd=_o.getcwd(), err=_n.geterr(), print=_n.get_printoptions(),
             warnings=len(_w.filters), signals=[_g.getsignal(s) for s in (_g.SIGINT, _g.SIGTERM, _g.SIGCHLD)],
             modules=sorted(m for m in _s.modules if not m.startswith(("grader", "reference", "course", "IPython", "jinja2", "markupsafe", "yaml", "jsonschema"))))
"""


def test_the_starter_notebook_has_the_parts_stubs_and_check_cells(students, assignment):
    notebook = json.loads((students / "seance11.ipynb").read_text())
    code = [c["source"] for c in notebook["cells"] if c["cell_type"] == "code"]
    markdown = [c["source"] for c in notebook["cells"] if c["cell_type"] == "markdown"]
    assert code[0].rstrip().endswith("%load_ext grader.notebook") and "https://example.org/seance11-etudiants" in code[0]
    for exercise in assignment.exercises:
        assert f"%check {exercise.name}" in code
        title = exercise.title.get("fr", "") if isinstance(exercise.title, dict) else exercise.title  # French first
        assert any(m.startswith(f"## {title}") for m in markdown)
        for function in exercise.functions:
            assert any(c.startswith(f"def {function}(") and "NotImplementedError" in c for c in code), function
    # French, then English, in each part
    softmax = next(m for m in markdown if "`softmax`" in m)
    assert softmax.index("Normalisation et softmax") < softmax.index("Normalisation and softmax")
    readme = (students / "README.md").read_text()
    assert "%check softmax" in readme and "`grade seance11.ipynb`" in readme and "Colab" in readme


def test_grade_grades_the_starter_notebook_and_the_filled_one(students, assignment):
    """`grade seance11.ipynb` as today: the %-cells cost nothing (no forbidden import of grader)."""
    from grader.grading.engine import Expectations, grade, select_cases
    from grader.model.assignment import load_assignment
    released = load_assignment(students / "assignment.yaml")
    plan = Expectations(released).plan(select_cases(released))
    stubs = grade(released, load_notebook(students / "seance11.ipynb"), plan)
    assert stubs.score == 0 and stubs.status == "ok" and not any(e.problems for e in stubs.exercises)
    assert {c.status for c in stubs.cases} == {"not_implemented"}
    full = grade(released, load_notebook(students / "filled.ipynb"), plan)
    assert full.all_passed and abs(full.score - 100) < 1e-9 and full.status == "ok"


def test_the_filled_notebook_scores_full_points_inline(kernel, assignment):
    checks = [(source, displays(outputs)) for source, outputs in kernel.outputs if source.startswith("%check")]
    assert len(checks) == len(assignment.exercises) + 1
    for source, shown in checks:
        assert len(shown) == 1, source
        text, html = shown[0].data["text/plain"], shown[0].data["text/html"]
        name = source.split()[1] if len(source.split()) > 1 else None
        points = next(e.points for e in assignment.exercises if e.name == name) if name else 100
        assert f"Points {points:.1f}/{points:.1f}" in text, text
        assert f"{points:g} / {points:g}" in html and "all passed" in html
        assert "isolation: " in text and "public cases only" in html
    # nothing of the setup or the checks reached the kernel as an error
    assert not [o for _, outputs in kernel.outputs for o in outputs if o.output_type == "error"]


def test_a_mistake_shows_its_likely_line_heatmaps_and_the_lecture_box(kernel):
    kernel.run("def softmax(x, axis=-1):\n    e = np.exp(x - np.max(x, axis=axis, keepdims=True))\n"
               "    return e / np.sum(e)\n")
    text, html = kernel.display("%check softmax")
    assert "Fix first: softmax/softmax/" in text and "likely: " in text and "Points 10.0/10.0" not in text
    assert "whole array" in text or "sum of the whole" in text.lower() or "axis" in text
    assert 'class="heatmap"' in html and "Likely cause" in html and "Fix first:" in html
    assert "lecture-box" in html and "<details" in html          # collapsible cases, the slide's box
    assert "<script" not in html and "http://" not in html and "https://" not in html   # offline
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    heads = [h.strip() for h in re.findall(r"([^{}]+)\{", style)]
    assert heads and all(h.startswith((".gnb", "@media")) or all(s.strip().startswith(".gnb") for s in h.split(","))
                         for h in heads), heads   # never restyles the notebook around it
    # the same in French
    text_fr, html_fr = kernel.display("%check softmax --lang fr")
    assert "À corriger d'abord" in text_fr and "probablement" in text_fr and "Cause probable" in html_fr
    page = os.environ.get("GRADE_NOTEBOOK_PAGE")   # the output saved into a page, for a browser's screenshot
    if page:
        Path(page).write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>%check softmax</title></head>'
                              f'<body style="margin:16px;font-family:sans-serif">{html}</body></html>', encoding="utf-8")


def test_missing_function_failed_cell_twice_and_a_helper_not_run(kernel):
    kernel.run("del positional_encoding")
    text, _ = kernel.display("%check positional")
    assert re.search(r"In \[\d+\] defines positional_encoding\(\), but the kernel does not have it", text), text
    kernel.run("def gelu(x):\n    return x\n\ndef gelu(x):\n    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))\n")
    text, _ = kernel.display("%check gelu")
    assert "gelu() is defined twice in In [" in text and "Points" in text
    kernel.run("def causal_mask(n_q, n_k=None)\n    pass\n")          # a syntax error: the kernel keeps the old one
    text, _ = kernel.display("%check causal_mask")
    assert re.search(r"In \[\d+\], which defines causal_mask\(\), failed \(a syntax error, line 1", text), text
    assert "the kernel still has the causal_mask() of In [" in text
    kernel.run("def one_hot(ids, vocab_size):\n    return _later_helper(ids, vocab_size)\n")
    text, _ = kernel.display("%check one_hot")
    assert "one_hot() uses _later_helper, which is defined nowhere in the kernel" in text


def test_a_helper_and_an_import_from_other_cells_are_copied(kernel):
    kernel.run("import numpy as xp_alias")
    kernel.run("def _shift(x, axis):\n    return x - xp_alias.max(x, axis=axis, keepdims=True)\n")
    kernel.run("TINY = 0.0\n")
    kernel.run("def softmax(x, axis=-1):\n    e = xp_alias.exp(_shift(x, axis)) + TINY\n"
               "    return e / e.sum(axis=axis, keepdims=True)\n")
    text, html = kernel.display("%check softmax")
    assert "Points 10.0/10.0" in text and "Fix first" not in text, text


def test_the_kernel_is_unchanged_by_check(kernel):
    kernel.run("import re\n" + SNAPSHOT.replace("_snap =", "_snap_before ="))
    kernel.display("%check softmax")
    kernel.run("from grader.notebook import check as _c; _c('similarity')")   # the Python API too
    kernel.run(SNAPSHOT.replace("_snap =", "_snap_after ="))
    same = kernel.stdout("print({k: _snap_before[k] == _snap_after[k] for k in _snap_before})")
    assert "False" not in same, same
    # check() returns None: nothing in Out
    assert kernel.stdout("print(len([v for v in Out.values() if type(v).__name__ == 'CheckReport']))").strip() == "0"


def test_check_outside_a_kernel_says_so(capsys):
    from grader.notebook import check, run
    message = run("softmax", lang="en")
    assert "no IPython kernel here" in repr(message)
    check("softmax", lang="fr")
    assert "pas de noyau IPython" in capsys.readouterr().out


def test_a_function_never_defined_gets_one_line():
    """The kernel's data as IPython holds it (namespace, cells run): nothing defines the functions."""
    from grader.i18n import speaking
    from grader.notebook.kernel import Kernel as Held, kernel_submission
    with speaking("en"):
        submission = kernel_submission(Held({"np": __import__("numpy")}, {1: "import numpy as np"}), ["softmax", "gelu"])
    assert submission.notes == ["not defined in the kernel yet: softmax(), gelu(); run the cells that define them."]
    assert submission.cells == []


def test_importing_the_grader_leaves_the_importers_sys_path_alone(tmp_path):
    """A kernel whose working folder is first on sys.path (the notebook's folder) keeps it after
    `%load_ext grader.notebook`: only `python -m grader.cli` drops it (a student's json.py there
    would shadow the standard library in the grader)."""
    import subprocess
    import sys
    code = ("import os, sys; sys.path.insert(0, os.getcwd()); import grader.notebook; "
            "assert sys.path[0] == os.getcwd(), sys.path[:2]")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
