"""End to end through the real CLI: what a student (and CI) sees."""
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, run_grade, solution_folder, validate_result



def grade_json(tmp_path, *args, cwd=ROOT):
    out = tmp_path / "result.json"
    proc = run_grade(*args, "--json", out, "--report", tmp_path / "report.html", "--no-color", cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr + proc.stdout
    result = json.loads(out.read_text())
    validate_result(result)
    return proc, result


def statuses(result):
    return {c["id"]: c["status"] for e in result["exercises"] for c in e["cases"]}


def failing_functions(result):
    return {c["function"] for e in result["exercises"] for c in e["cases"] if c["status"] != "passed"}


def edit(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new))


def test_reference_scores_100_on_every_case(tmp_path, solution):
    proc, result = grade_json(tmp_path, solution)
    assert proc.returncode == 0
    assert result["score"] == pytest.approx(100)
    assert set(statuses(result).values()) == {"passed"}
    assert {c["visibility"] for e in result["exercises"] for c in e["cases"]} == {"public", "hidden"}
    assert "Points 100.0/100.0" in proc.stdout


def test_stubs_score_0_with_every_case_not_implemented(tmp_path):
    proc, result = grade_json(tmp_path)  # no PATH: the course's exercises/
    assert proc.returncode == 1
    assert result["score"] == 0
    assert set(statuses(result).values()) == {"not_implemented"}


@pytest.fixture(scope="module")
def one_mistake_each(tmp_path_factory):
    folder = solution_folder(tmp_path_factory.mktemp("mistakes") / "exercises")
    edit(folder / "similarity.py", "return dot_product(a, b) / np.sqrt(d)", "return dot_product(a, b) / d")
    edit(folder / "softmax.py", "np.exp(x - np.max(x, axis=axis, keepdims=True))", "np.exp(x)")
    edit(folder / "embeddings.py", "min(n, i + window + 1)", "min(n, i + window)")
    edit(folder / "attention.py", "softmax(cosine_similarity_matrix(E))", "softmax(E @ E.T)")
    edit(folder / "positional.py", "PE[:, 0::2] = np.sin(angles)\n    PE[:, 1::2] = np.cos(angles[:, : d_model // 2])",
         "PE[:, 0::2] = np.cos(angles)\n    PE[:, 1::2] = np.sin(angles[:, : d_model // 2])")
    edit(folder / "transformer.py", "return ids[len(token_ids):]", "return ids")
    return folder


def test_one_mistake_per_exercise_gets_exactly_the_expected_verdicts(tmp_path, one_mistake_each):
    proc, result = grade_json(tmp_path, one_mistake_each)
    assert proc.returncode == 1
    # the mistaken functions, what uses positional_encoding downstream, and the attention functions
    # whose large-scores case overflows a softmax without the max shift
    assert failing_functions(result) == {"scaled_dot_product", "softmax", "skipgram_pairs", "similarity_attention",
                                         "positional_encoding", "generate", "transformer_forward",
                                         "next_token_probabilities", "attention_weights",
                                         "scaled_dot_product_attention"}
    found = statuses(result)
    assert found["softmax/softmax/huge-values"] == "failed"
    assert found["softmax/softmax/random-0"] == "passed"  # no overflow on ordinary inputs
    assert found["similarity/scaled_dot_product/slide-vectors"] == "failed"
    assert found["embeddings/skipgram_pairs/quick-brown-fox"] == "failed"
    cases = {c["id"]: c for e in result["exercises"] for c in e["cases"]}
    assert "NaN" in cases["softmax/softmax/huge-values"]["message"]
    assert "extra item" in cases["transformer/generate/rince-et-repete"]["message"] or \
        "item 0" in cases["transformer/generate/rince-et-repete"]["message"]
    assert cases["similarity/scaled_dot_product/slide-vectors"]["details"]["worst_index"] == [0]


def test_failing_cases_print_one_line_reasons_and_the_report_path(tmp_path, one_mistake_each):
    proc, _ = grade_json(tmp_path, one_mistake_each)
    assert "FAIL softmax/softmax/huge-values:" in proc.stdout
    assert f"report: {tmp_path / 'report.html'}" in proc.stdout
    assert "\033[" not in proc.stdout  # no colour when not on a terminal


def test_html_report_holds_sections_and_heatmaps(tmp_path, one_mistake_each):
    grade_json(tmp_path, one_mistake_each)
    html = (tmp_path / "report.html").read_text()
    for name in ("similarity", "softmax", "embeddings", "attention", "positional", "transformer"):
        assert f'id="{name}"' in html
    assert html.count("<svg") >= 3
    assert "grade " in html and "--case attention/similarity_attention/an-apple-and-an-orange" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_notebook_is_graded_cell_by_cell(tmp_path, solution):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Mes réponses"))
    nb.cells.append(nbformat.v4.new_code_cell("%matplotlib inline\n!pip list\nimport numpy as np"))
    for module in ("similarity", "softmax", "embeddings", "attention", "positional", "transformer"):
        nb.cells.append(nbformat.v4.new_code_cell((solution / f"{module}.py").read_text()))
    nb.cells.insert(4, nbformat.v4.new_code_cell("raise RuntimeError('oops, a broken cell')"))
    path = tmp_path / "devoir.ipynb"
    nbformat.write(nb, str(path))
    proc, result = grade_json(tmp_path, path)
    assert result["score"] == pytest.approx(100), proc.stdout
    assert any("cell 5" in n and "RuntimeError" in n for n in result["notes"])


def test_single_py_file_is_graded(tmp_path, solution):
    source = "\n".join((solution / f"{m}.py").read_text()
                       for m in ("similarity", "softmax", "embeddings", "attention", "positional", "transformer"))
    path = tmp_path / "solution.py"
    path.write_text(source)
    _, result = grade_json(tmp_path, path, "-k", "softmax", "attention")
    assert result["score"] == pytest.approx(36)
    assert {e["name"] for e in result["exercises"]} == {"softmax", "attention"}


def test_infinite_loop_times_out_and_the_rest_is_graded(tmp_path, solution):
    folder = solution_folder(tmp_path / "loop" / "exercises")
    edit(folder / "positional.py", "    p = np.arange(n_positions)[:, None]", "    while True:\n        pass")
    proc, result = grade_json(tmp_path, folder, "-k", "positional", "softmax")
    found = {c["function"]: c["status"] for e in result["exercises"] for c in e["cases"]}
    assert found == {"positional_encoding": "timeout", "softmax": "passed"}
    assert result["status"] == "timeout"


def test_crash_in_one_function_costs_only_its_cases(tmp_path, solution):
    folder = solution_folder(tmp_path / "crash" / "exercises")
    edit(folder / "similarity.py", "def dot_product(a, b):\n", "def dot_product(a, b):\n    import faulthandler; faulthandler._sigsegv()\n")
    _, result = grade_json(tmp_path, folder, "-k", "similarity")
    cases = [c for e in result["exercises"] for c in e["cases"]]
    crashed = [c for c in cases if c["function"] == "dot_product"]
    assert {c["status"] for c in crashed} == {"error"}
    assert "SIGSEGV" in crashed[0]["message"]
    # cosine_similarity calls dot_product too: everything else that does not is intact
    assert {c["status"] for c in cases if c["function"] == "cosine_similarity_matrix"} == {"passed"}


def test_syntax_error_in_one_module_is_reported_and_others_graded(tmp_path, solution):
    folder = solution_folder(tmp_path / "syntax" / "exercises")
    edit(folder / "positional.py", "def positional_encoding(", "def positional_encoding(:")
    proc, result = grade_json(tmp_path, folder, "-k", "positional", "softmax", "embeddings")
    by_name = {e["name"]: e for e in result["exercises"]}
    assert "SyntaxError" in by_name["positional"]["problems"][0]
    assert {c["status"] for c in by_name["positional"]["cases"]} == {"error"}
    assert by_name["softmax"]["score"] == pytest.approx(10) and by_name["embeddings"]["score"] == pytest.approx(16)
    assert "positional" in proc.stdout and "SyntaxError" in proc.stdout


def test_missing_function_is_reported_as_missing(tmp_path, solution):
    folder = solution_folder(tmp_path / "missing" / "exercises")
    edit(folder / "transformer.py", "def generate(", "def generer(")
    _, result = grade_json(tmp_path, folder, "-k", "generate")
    assert set(statuses(result).values()) == {"missing"}
    assert "generate()" in result["exercises"][0]["cases"][0]["message"]


def test_submission_modules_named_like_numpy_do_not_shadow_it(tmp_path, solution):
    folder = solution_folder(tmp_path / "shadow" / "exercises")
    (folder / "numpy.py").write_text("raise RuntimeError('I am not numpy')\n")
    (folder / "random.py").write_text("raise RuntimeError('I am not random')\n")
    _, result = grade_json(tmp_path, folder, "-k", "softmax", "transformer")
    assert result["score"] == pytest.approx(36)


def test_forbidden_import_is_a_rule_violation_for_that_exercise(tmp_path, solution):
    folder = solution_folder(tmp_path / "torch" / "exercises")
    edit(folder / "positional.py", "import numpy as np", "import numpy as np\nimport sklearn")
    _, result = grade_json(tmp_path, folder, "-k", "positional", "softmax")
    by_name = {e["name"]: e for e in result["exercises"]}
    assert {c["status"] for c in by_name["positional"]["cases"]} == {"violation"}
    assert "sklearn" in by_name["positional"]["problems"][0]
    assert by_name["softmax"]["score"] == pytest.approx(10)


def test_case_replay_shows_inputs_and_both_outputs(tmp_path, one_mistake_each):
    proc = run_grade(one_mistake_each, "--case", "softmax/softmax/orange-apple", "--no-color",
                     "--report", tmp_path / "r.html")
    assert proc.returncode == 0
    assert "inputs:" in proc.stdout and "x = array shape (2,)" in proc.stdout
    assert "expected:" in proc.stdout and "yours:" in proc.stdout


def test_seed_changes_random_inputs_but_not_lecture_cases(tmp_path, solution):
    out = []
    for seed in (1, 2):
        proc = run_grade(solution, "--case", "softmax/softmax/random-0", "--seed", seed, "--no-color",
                         "--report", tmp_path / "r.html")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out.append(proc.stdout.split("inputs:")[1].split("expected:")[0])
    assert out[0] != out[1]


def test_usage_and_configuration_errors_exit_2(tmp_path):
    proc = run_grade(tmp_path / "nowhere")
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_grade(cwd=tmp_path)
    assert proc.returncode == 2 and "assignment.yaml" in proc.stderr
    proc = run_grade("--case", "softmax/nope/x")
    assert proc.returncode == 2 and "no case" in proc.stderr
    broken = tmp_path / "course"
    broken.mkdir()
    (broken / "assignment.yaml").write_text((ROOT / "assignment.yaml").read_text().replace("points: 12", "points: twelve"))
    proc = run_grade(cwd=broken)
    assert proc.returncode == 2 and re.search(r"assignment.yaml:\d+: at exercises/0/points", proc.stderr), proc.stderr


def test_student_repository_uses_the_public_cases_file(tmp_path, solution):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "assignment.yaml", course)
    proc = run_grade("public-cases", "--out", course / "public_cases.npz")
    assert proc.returncode == 0, proc.stderr
    shutil.copytree(solution, course / "exercises")
    sub = course / "exercises"  # run from a subfolder: the assignment is found by walking up
    proc, result = grade_json(tmp_path, cwd=sub)
    assert result["expected_from"] == "public-cases file"
    assert result["score"] == pytest.approx(100)
    assert {c["visibility"] for e in result["exercises"] for c in e["cases"]} == {"public"}


def test_list_answers_returned_as_arrays_or_numpy_strings_are_judged_not_crashed(tmp_path, solution):
    folder = solution_folder(tmp_path / "types" / "exercises")
    edit(folder / "transformer.py", "return ids[len(token_ids):]", "return np.array(ids[len(token_ids):], dtype=float)")
    edit(folder / "embeddings.py", "return words[int(np.argmax(scores))]", "return np.array(words)[int(np.argmax(scores))]")
    proc, result = grade_json(tmp_path, folder, "-k", "generate", "analogy")
    found = {c["function"]: c["status"] for e in result["exercises"] for c in e["cases"]}
    assert found == {"generate": "failed", "analogy": "passed"}, proc.stdout
    assert "should be a list" in result["exercises"][-1]["cases"][0]["message"]


def test_file_saved_with_a_byte_order_mark_is_read(tmp_path, solution):
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbf" + (solution / "softmax.py").read_bytes())
    _, result = grade_json(tmp_path, path, "-k", "softmax")
    assert result["score"] == pytest.approx(10)


def test_a_worker_that_cannot_start_is_a_configuration_error_not_the_students(tmp_path, solution):
    course = tmp_path / "course"
    course.mkdir()
    for name in ("reference", "course"):
        shutil.copytree(ROOT / name, course / name)
    (course / "assignment.yaml").write_text((ROOT / "assignment.yaml").read_text().replace(
        "memory_mb: 2048", "memory_mb: 64"))
    proc = run_grade(solution, "-k", "softmax", "--report", tmp_path / "r.html", cwd=course)
    assert proc.returncode == 2 and "could not start" in proc.stderr and "Traceback" not in proc.stderr


def test_notebook_forbidden_import_costs_only_the_exercise_that_uses_it(tmp_path, solution):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("import numpy as np\nimport sklearn"))
    for module in ("similarity", "softmax"):
        nb.cells.append(nbformat.v4.new_code_cell((solution / f"{module}.py").read_text()))
    nb.cells.append(nbformat.v4.new_code_cell("def dot_product(a, b):\n    return sklearn.dot(a, b)\n"))
    path = tmp_path / "viol.ipynb"
    nbformat.write(nb, str(path))
    _, result = grade_json(tmp_path, path, "-k", "similarity", "softmax")
    by_name = {e["name"]: e for e in result["exercises"]}
    assert {c["status"] for c in by_name["similarity"]["cases"]} == {"violation"}
    assert by_name["softmax"]["score"] == pytest.approx(10)


def test_a_reader_that_leaves_early_still_gets_its_report(tmp_path, solution):
    """`grade | head`: the summary cannot be written (the pipe is closed); the report still is,
    whole, and the exit status is a pipeline's (128 + SIGPIPE), with no traceback."""
    import subprocess
    import sys
    report = tmp_path / "report.html"
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", str(solution), "--no-color", "--report", str(report)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the summary comes
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141, stderr
    assert "Traceback" not in stderr, stderr
    assert report.read_text(encoding="utf-8").rstrip().endswith("</html>")


def test_a_full_mark_is_exactly_the_maximum(assignment, solution):
    """Case shares are floats (10 points over 14 cases): their plain sum came out at
    99.99999999999999 for a perfect submission, which a `score == max_score` reads as not full."""
    from grader.grading.engine import Expectations, grade, select_cases

    result = grade(assignment, solution, Expectations(assignment, use_reference=True).plan(select_cases(assignment)))
    assert [e.score for e in result.exercises] == [e.max_score for e in result.exercises]
    assert result.score == result.max_score == 100.0


def test_a_warning_printed_at_import_names_the_students_file_the_same_way_every_run(tmp_path):
    """Python prints a warning with the file's full path: the sandbox's folder, new at each run.
    The note names the file as a traceback does (relative to the submission), so two runs of the
    same work print the same words."""
    submission = solution_folder(tmp_path / "work" / "exercises")
    path = submission / "softmax.py"
    path.write_text(path.read_text() + "\nimport warnings\nwarnings.warn('a word from the student')\n")
    line = path.read_text().splitlines().index("warnings.warn('a word from the student')") + 1
    notes = []
    for run in ("one", "two"):
        (tmp_path / run).mkdir()
        _, result = grade_json(tmp_path / run, submission, "-k", "softmax")
        notes.append([n for n in result["notes"] if "UserWarning" in n])
    assert notes[0] == notes[1] and len(notes[0]) == 1, notes
    assert f"exercises/softmax.py:{line}: UserWarning: a word from the student" in notes[0][0]
    assert "grade-" not in notes[0][0] and str(tmp_path) not in notes[0][0]
