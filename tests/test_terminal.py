"""The terminal summary in French: a failing submission graded with GRADE_LANG=fr shows the
table, the verdicts, the hints and the closing lines in French; `Points X/Y` stays the same in
both languages (GitHub Classroom and the tests parse it)."""
import re

import pytest

from conftest import run_grade, solution_folder


@pytest.fixture(scope="module")
def french_run(tmp_path_factory):
    """softmax without the max shift (NaN on huge values), positional_encoding not written yet."""
    tmp = tmp_path_factory.mktemp("terminal-fr")
    folder = solution_folder(tmp / "exercises")
    softmax = folder / "softmax.py"
    text = softmax.read_text()
    assert "np.exp(x - np.max(x, axis=axis, keepdims=True))" in text
    softmax.write_text(text.replace("np.exp(x - np.max(x, axis=axis, keepdims=True))", "np.exp(x)"))
    positional = folder / "positional.py"
    text = positional.read_text()
    assert "def positional_encoding(" in text
    positional.write_text(text + "\n\ndef positional_encoding(*args, **kwargs):\n    raise NotImplementedError\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADE_LANG", "fr")
        proc = run_grade(folder, "-k", "softmax", "positional", "--no-color", "--report", tmp / "r.html")
    return proc


def test_the_french_summary_of_a_failing_submission(french_run):
    out = french_run.stdout
    assert french_run.returncode == 1, out + french_run.stderr
    assert re.search(r"^exercice\s+réussis\s+points$", out, re.M), out
    assert "  ÉCHEC softmax/softmax/huge-values : le résultat contient" in out
    assert "valeurs NaN/inf là où les valeurs attendues sont finies" in out
    assert "(cas caché)" in out
    assert "probablement : " in out and "(diapositive « Softmax » ; erreur softmax-no-max-shift)" in out
    assert "positional : pas encore implémentée : positional_encoding" in out
    assert "rapport : " in out
    for english in ("FAIL ", "likely:", "(hidden case)", "not implemented yet", "exercise ", "report:"):
        assert english not in out


def test_the_points_line_is_the_same_in_both_languages(french_run):
    from grader.i18n import t

    assert re.search(r"^Points \d+\.\d/\d+\.\d$", french_run.stdout, re.M), french_run.stdout
    assert t("terminal.points", lang="fr", score=12, total=100) == t("terminal.points", lang="en", score=12, total=100) \
        == "Points 12.0/100.0"


def test_the_case_detail_in_french(tmp_path):
    folder = solution_folder(tmp_path / "exercises")
    softmax = folder / "softmax.py"
    softmax.write_text(softmax.read_text().replace("return e / np.sum(e, axis=axis, keepdims=True)",
                                                   "return e / np.sum(e)"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADE_LANG", "fr")
        proc = run_grade(folder, "--case", "softmax/softmax/random-0", "--no-color", "--report", tmp_path / "r.html")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "statut : échoué" in out and "graine " in out          # the status in words (tests/test_wording.py)
    assert "valeurs sur" in out and "hors tolérance ; la pire en" in out
    for label in ("entrées :", "attendu :", "votre résultat :"):
        assert label in out, out
    assert re.search(r"x = tableau de forme \(\d+, \d+\), dtype float64", out), out
