"""`grade validate`, through the real CLI, on the course and on copies broken on purpose."""
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, run_grade


def course_copy(target: Path) -> Path:
    for name in ("assignment.yaml",):
        shutil.copy2(ROOT / name, target / name)
    for folder in ("reference", "exercises", "course"):
        shutil.copytree(ROOT / folder, target / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_the_course_passes_every_check():
    proc = run_grade("validate", "--seeds", "3", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ready: every check passed" in proc.stdout
    assert "the reference scores 100 on all" in proc.stdout and "for 3 seeds" in proc.stdout


def test_a_broken_course_gets_the_precise_list(tmp_path):
    course = course_copy(tmp_path)
    # a stub that already returns the right answer, and a "mistake" that is no mistake at all
    shutil.copy2(course / "reference" / "positional.py", course / "exercises" / "positional.py")
    mistakes = course / "reference" / "mistakes.py"
    mistakes.write_text(mistakes.read_text() + '''

@mistake(name="softmax-no-mistake-at-all", exercise="softmax", function="softmax", slide="Softmax",
         en="identical to the reference", fr="identique à la référence")
def softmax_same(x, axis=-1):
    from reference.softmax import softmax
    return softmax(x, axis)
''')
    # a stale public-cases file
    proc = run_grade("public-cases", cwd=course)
    assert proc.returncode == 0, proc.stderr
    (course / "reference" / "softmax.py").write_text((course / "reference" / "softmax.py").read_text().replace(
        "return e / np.sum(e, axis=axis, keepdims=True)", "return e / np.sum(e, axis=axis, keepdims=True) + 0"))
    import numpy as np
    data = dict(np.load(course / "public_cases.npz", allow_pickle=False))
    data["a0"] = data["a0"] + 1.0
    np.savez(course / "public_cases.npz", **data)

    proc = run_grade("validate", "--seeds", "2", cwd=course, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "FAIL the stubs score 0" in out and "the stub of positional_encoding() passes" in out
    assert "FAIL every mistake variant is caught" in out and "softmax-no-mistake-at-all" in out
    assert "FAIL public_cases.npz matches the reference" in out and "run `grade public-cases`" in out
    assert "ok   the reference scores 100" in out


def test_an_invalid_assignment_stops_at_once_with_file_line_and_key(tmp_path):
    course = course_copy(tmp_path)
    path = course / "assignment.yaml"
    path.write_text(path.read_text().replace("timeout: 3.0", "timeout: soon", 1))
    proc = run_grade("validate", cwd=course)
    assert proc.returncode == 2
    assert "assignment.yaml:" in proc.stderr and "timeout" in proc.stderr and "Traceback" not in proc.stderr


def test_the_report_in_french(assignment, monkeypatch):
    """The check lines and problems in French (the checks themselves stubbed: their wording only)."""
    from dataclasses import replace

    from grader.instructor import validate as module
    from grader.i18n import set_language

    monkeypatch.setattr(module, "check_reference", lambda *args: [])
    monkeypatch.setattr(module, "check_stubs", lambda *args: [
        module.t("validate.stub_passes", function="softmax", case_id="softmax/softmax/lecture", points=2)])
    monkeypatch.setattr(module, "check_mistakes", lambda *args: [])
    monkeypatch.setattr(module, "check_diagnosis", lambda *args: [])
    monkeypatch.setattr(module, "check_public_file", lambda *args: None)
    lines = []
    set_language("fr")
    try:
        problems = module.validate(assignment, seeds=1, report=lines.append)
        without = module.validate(replace(assignment, reference=None), report=lines.append)
    finally:
        set_language("en")
    assert lines[0].startswith("ok   la référence obtient 100 sur chacun des ") and lines[0].endswith("pour 1 graine")
    assert lines[1] == "ÉCHEC les squelettes obtiennent 0 (1 problème)"
    assert lines[2] == ("       - le squelette de softmax() réussit softmax/softmax/lecture : un·e étudiant·e "
                        "gagnerait 2.00 points sans rien faire")
    assert lines[-2] == "--   public_cases.npz correspond à la référence : rien à vérifier ici"
    assert lines[-1] == without[0]  # said, not only counted (tests/test_wording.py)
    assert problems == [lines[2].strip()[2:]]
    assert without == ["grade validate vérifie le cours lui-même (la solution de référence, les cas cachés, les erreurs "
                       "classiques), que seul le dépôt de l'enseignant·e contient : il n'y a rien à valider dans un "
                       "dépôt étudiant. Pour vérifier votre travail, lancez `grade` (ou `pytest`)."]
