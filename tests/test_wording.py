"""The words a student reads (issue 16, item 5; and the remainders of items 1 and 4): one French
register (vous), English hints that say what the student did, correct plurals, clean slide
names, titles and lecture notes in the report's language, status words, grouped terminal
lines, real points under -k/--case, the students' repository's README and `grade validate`,
no notebook words for a .py, and a hidden failure that names its public twin.

Each test runs the real CLI (a students' repository written by `grade release`, or the course
repository) in French and in English where the words differ."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import ROOT, solution_folder
from grader.i18n import t

LOCALES = ROOT / "grader" / "i18n" / "locales"
# tutoiement: a subject or possessive of the second person singular, an inverted "as-tu", an
# imperative opening a sentence ("Supprime l'autre", "Corrige cette ligne") or with a pronoun ("renomme-le")
STRICT_TU = re.compile(r"\b(tu|ton|ta|tes|toi|tien|tienne|tiens|tiennes)\b|\b(as-tu|voulais-tu)\b|"
                       r"(^|[.:;] )(Supprime|Corrige|Renomme|Remplace|Mets|Donne|Garde|Ouvre|Efface|Indente|Écris|"
                       r"Retire|Rejoue|Soumets|Survole|Restaure|Divise|Utilise|Prends|Applique|Vérifie)\b|"
                       r"\b(renomme|supprime|restaure|ouvre|enregistre|divise|soustrais|prends|utilise|"
                       r"applique|exclus|corrige|définis|travaille|préviens|signale|lance|entrelace|transforme|"
                       r"écris|retape|rejoue|charge|calcule)-(le|la|les|y|en)\b")


def grade(*args, cwd, lang="en", timeout=300):
    env = {**os.environ, "GRADE_LANG": lang, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "grader.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def students(release_copy, tmp_path_factory):
    return release_copy(tmp_path_factory.mktemp("wording") / "students")


def _french_texts():
    """Every French sentence a student may read: the engine's catalog, the course's property
    catalog, the mistakes' French lines."""
    texts = []

    def walk(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{where}.{k}")
        elif isinstance(node, str):
            texts.append((where, node))

    walk(yaml.safe_load((LOCALES / "fr.yaml").read_text(encoding="utf-8")), "fr.yaml")
    walk(yaml.safe_load((ROOT / "course" / "properties.fr.yaml").read_text(encoding="utf-8")), "properties.fr.yaml")
    from reference.mistakes import MISTAKES
    texts += [(f"mistake {m.name}", m.explanation_fr) for m in MISTAKES]
    texts += [(f"mistake {m.name} (step)", m.step_fr) for m in MISTAKES if m.step_fr]
    return texts


# --- French in one register: vous ----------------------------------------------------------------

def test_french_messages_say_vous_never_tu():
    found = [(where, text) for where, text in _french_texts()
             if where != "fr.yaml.cli.description" and where != "fr.yaml.gradescope.cli.description"
             and STRICT_TU.search(text)]
    assert not found, "\n".join(f"{w}: {x}" for w, x in found[:20])


def test_a_duplicate_function_in_a_py_says_supprimez(students, tmp_path):
    solution = tmp_path / "sol.py"
    solution.write_text("import numpy as np\n\ndef softmax(x, axis=-1):\n    return x\n\n"
                        "def softmax(x, axis=-1):\n    e = np.exp(x - x.max(axis=axis, keepdims=True))\n"
                        "    return e / e.sum(axis=axis, keepdims=True)\n\ndef gelu(x:\n    pass\n")
    fr = grade(solution, "-k", "softmax", cwd=students, lang="fr").stdout
    assert "Corrigez cette ligne." in fr and "Corrige cette ligne" not in fr
    assert not STRICT_TU.search(fr), fr


# --- English hints say what the student did; plurals; slide names ---------------------------------

PAST = ("Returned Divided Normalised Took Masked Computed Scaled Put Used Numbered Added Multiplied Went Summed "
        "Subtracted Skipped Ranked Applied Ignored Gave Wrote Left Replaced Ran").split()


def test_english_hints_say_what_the_student_did():
    from reference.mistakes import by_name, MISTAKES
    assert by_name("pe-sin-cos-swapped").explanation.startswith("You put cos on the even columns")
    bare = [m.name for m in MISTAKES for line in (m.explanation, m.step_en) if line and line.split()[0] in PAST]
    assert not bare, bare


def test_plurals_agree_with_their_count():
    assert "calls them, and they fail their own cases" in t("engine.fix_first", names="a(), b()", function="f", count=2, _lang="en")
    assert "calls it, and it fails" in t("engine.fix_first", names="a()", function="f", count=1, _lang="en")
    for path in (LOCALES / "en.yaml", ROOT / "course" / "properties.en.yaml"):
        text = path.read_text(encoding="utf-8")
        assert "(s)" not in text, [line for line in text.splitlines() if "(s)" in line][:5]
    assert t("validate.line.failed", title="x", count=1, _lang="en") == "FAIL x (1 problem)"


def test_slide_names_have_no_latex_and_no_stray_colon(assignment):
    from reference.mistakes import MISTAKES
    slides = {m.slide for m in MISTAKES} | {c.lecture.slide for c in assignment.cases() if c.lecture}
    assert not [s for s in slides if "\\" in s or s.rstrip().endswith(":")]
    assert "king - man + woman ≈ queen" in slides


# --- the report's language: titles, lecture notes, status words, tuple labels ----------------------

def test_titles_and_lecture_notes_follow_the_report_language(students, tmp_path):
    for lang, title, note, other_title, other_note in (
            ("en", "Word embeddings", "An untrained random model", "Plongement lexical</a>", "Un modèle aléatoire"),
            ("fr", "Plongement lexical", "Un modèle aléatoire non entraîné", "Word embeddings", "An untrained random")):
        report = tmp_path / f"{lang}.html"
        grade("--report", report, cwd=students, lang=lang)
        html = report.read_text(encoding="utf-8")
        assert title in html and note in html, lang
        assert other_title not in html and other_note not in html, lang


def test_no_note_sends_students_to_a_file_their_repository_lacks(assignment, students):
    notes = [str(c.lecture.note) for c in assignment.cases() if c.lecture and c.lecture.note]
    assert notes and not [n for n in notes if "course/lecture.py" in n]
    assert not (students / "course" / "lecture.py").exists()


def public_points(assignment, case_id: str) -> tuple:
    """(the public case's share of its exercise in a full run of the public cases, how many public
    cases there are): what `--case` and `-k` must show."""
    public = [c for c in assignment.cases() if c.visibility == "public"]
    case = next(c for c in public if c.id == case_id)
    exercise = next(e for e in assignment.exercises if e.name == case.exercise)
    weights = sum(c.weight for c in public if c.exercise == case.exercise)
    return exercise.points * case.weight / weights, len(public)


def test_grade_case_prints_the_status_in_words_and_the_real_points(assignment, students):
    case = "attention/scaled_dot_product_attention/random-1"
    points, total = public_points(assignment, case)
    fr = grade("--case", case, cwd=students, lang="fr").stdout
    en = grade("--case", case, cwd=students, lang="en").stdout
    assert f"statut : à implémenter  (0.00/{points:.2f} points)" in fr and "not_implemented" not in fr
    assert f"status: not implemented  (0.00/{points:.2f} points)" in en
    assert f"total partiel : 1 des {total} cas" in fr and f"partial total: 1 of the {total} cases" in en


def test_k_shows_real_points_and_says_the_total_is_partial(assignment, students):
    softmax = sum(c.visibility == "public" and c.exercise == "softmax" for c in assignment.cases())
    _, total = public_points(assignment, "softmax/softmax/random-0")
    out = grade("-k", "softmax", cwd=students).stdout
    assert "Points 0.0/10.0" in out and f"partial total: {softmax} of the {total} cases" in out
    full = grade(cwd=students).stdout
    assert "partial total" not in full and "Points 0.0/100.0" in full


def test_pytest_k_shows_real_points_and_a_partial_total(assignment, students):
    points, total = public_points(assignment, "attention/scaled_dot_product_attention/random-1")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    env.update({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "GRADE_LANG": "en", "PYTHONDONTWRITEBYTECODE": "1"})
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "grader.pytest_plugin", "-p", "no:cacheprovider",
                          "-q", "-k", "random-1 and scaled_dot_product_attention"], cwd=students, env=env,
                         capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert f"(0.00/{points:.2f} points)" in out and "0.00/26.00" not in out
    assert f"partial total: 1 of the {total} cases" in out


def test_tuple_outputs_are_labelled_output_and_weights(students, tmp_path):
    folder = solution_folder(tmp_path / "exercises")
    attention = folder / "attention.py"
    attention.write_text(attention.read_text().replace("/ np.sqrt(d_k)", "/ d_k"))
    out = grade(folder, "--case", "attention/scaled_dot_product_attention/random-1", cwd=students).stdout
    expected, yours = out.split("expected:", 1)[1].split("yours:", 1)
    assert "output = array shape" in expected and "weights = array shape" in expected
    assert "│ output = array shape" in yours and "│ weights = array shape" in yours


def test_report_header_counts_the_cases_that_timed_out(students, tmp_path):
    loop = tmp_path / "loop.py"
    loop.write_text("import time\n\ndef softmax(x, axis=-1):\n    time.sleep(3600)\n")  # never returns, idle
    for lang, words in (("en", "11 cases timed out"), ("fr", "11 cas ont dépassé le temps imparti")):
        report = tmp_path / f"{lang}.html"
        grade(loop, "-k", "softmax", "--report", report, cwd=students, lang=lang)
        html = report.read_text(encoding="utf-8")
        assert f"<strong>{words}</strong>" in html and "<strong>timeout</strong>" not in html


# --- a .py is not a notebook ----------------------------------------------------------------------

def test_a_py_submission_never_reads_notebook_words(students, tmp_path):
    solution = tmp_path / "mine.py"
    solution.write_text("import numpy as np\n\ndef softmax(x, axis=-1):\n"
                        "    e = np.exp(x - x.max(axis=axis, keepdims=True))\n    return e / e.sum(axis=axis)\n"
                        "raise ValueError('oops')\n")
    for lang in ("en", "fr"):
        out = grade(solution, "-k", "softmax", cwd=students, lang=lang).stdout
        assert "mine.py, line 6" in out and "at mine.py:5" in out or "à mine.py:5" in out
        assert not re.search(r"\bcells?\b|cellules?|<cell", out), out


# --- the terminal groups identical lines -----------------------------------------------------------

def test_identical_lines_of_a_function_are_one_line_with_a_count(assignment, students, tmp_path):
    solution = tmp_path / "torch_user.py"
    solution.write_text("import numpy as np\nimport torch\n")
    functions = {(c.exercise, c.function) for c in assignment.cases() if c.visibility == "public"}
    for lang, many in (("en", "cases: "), ("fr", "cas : ")):
        out = grade(solution, cwd=students, lang=lang).stdout
        rule_lines = [line for line in out.splitlines() if line.lstrip().startswith(("RULE", "RÈGLE"))]
        assert len(rule_lines) == len(functions), out
        assert sum(many in line for line in rule_lines) >= len(functions) - 2
    missing = tmp_path / "nothing.py"
    missing.write_text("import numpy as np\n")
    out = grade(missing, "-k", "similarity", cwd=students).stdout
    assert out.count("no function cosine_similarity() found") == 1
    assert "MISSING similarity/cosine_similarity (8 cases: " in out


# --- a hidden failure names its public twin (item 4) -----------------------------------------------

def test_public_twin_of_a_hidden_case(assignment):
    assert assignment.public_twin("softmax/softmax/axis-0") == "softmax/softmax/first-axis"
    assert assignment.public_twin("attention/causal_mask/square-1") == "attention/causal_mask/square-0"
    assert assignment.public_twin("softmax/softmax/float32") is None        # no public float32 softmax
    assert assignment.public_twin("softmax/softmax/random-0") is None       # public itself


def test_a_hidden_failure_names_the_public_case_that_exercises_the_same_thing(tmp_path):
    folder = solution_folder(tmp_path / "exercises")
    attention = folder / "attention.py"
    attention.write_text(attention.read_text() + "\n\ndef causal_mask(n_q, n_k=None):\n"
                         "    n_k = n_q if n_k is None else n_k\n    return np.tril(np.ones((n_q, n_k), dtype=bool), k=-1)\n")
    report = tmp_path / "r.html"
    en = grade(folder, "-k", "causal_mask", "--report", report, cwd=ROOT).stdout
    assert "attention/causal_mask/square-1: (hidden case; the public case attention/causal_mask/square-0 " \
           "exercises the same thing)" in en
    assert "the public case attention/causal_mask/square-0 exercises the same thing" in report.read_text()
    fr = grade(folder, "-k", "causal_mask", "--report", report, cwd=ROOT, lang="fr").stdout
    assert "(cas caché ; le cas public attention/causal_mask/square-0 vérifie la même chose)" in fr


# --- the students' repository ---------------------------------------------------------------------

def test_validate_in_a_students_repository_says_why_it_cannot_run(students):
    for lang, why in (("en", "only the instructor's repository holds"), ("fr", "que seul le dépôt de l'enseignant·e contient")):
        run = grade("validate", cwd=students, lang=lang)
        assert run.returncode == 1 and why in run.stdout, run.stdout


def test_students_readme_documents_lang_and_pytest_with_its_extra(students):
    readme = (students / "README.md").read_text(encoding="utf-8")
    french, english = readme.split("## English", 1)
    for part in (french, english):
        assert "`grade --lang en`" in part and "pip install -e '.[test]'" in part and "pytest -k" in part
    assert "Word embeddings" in english and "Plongement lexical" in french
    assert "{'fr'" not in readme
    assert 'test = ["pytest' in (students / "pyproject.toml").read_text()


def test_generate_pseudo_code_works_on_arrays(assignment):
    from exercises.transformer import generate as stub
    doc = stub.__doc__
    assert "ids = list(token_ids)" in doc and "ids.append(nouveau)" in doc and "ids + [" not in doc
    assert "return the n_new ids appended" in doc
    from reference.transformer import generate, transformer_forward
    rng = np.random.default_rng(0)
    params = {"token_embedding": rng.normal(size=(5, 4)), "blocks": [], "lnf_gamma": np.ones(4),
              "lnf_beta": np.zeros(4), "n_heads": 2}

    def as_written(token_ids, params, n_new):  # the docstring's algorithm, line by line
        ids = list(token_ids)
        for _ in range(n_new):
            ids.append(int(np.argmax(transformer_forward(ids, params)[-1])))
        return ids[len(token_ids):]

    prompt = np.array([0, 2, 1])
    assert as_written(prompt, params, 3) == generate(prompt, params, 3)


def test_grading_from_inside_exercises_writes_the_report_at_the_repository_root(students):
    run = grade(cwd=students / "exercises")
    assert run.returncode in (0, 1), run.stderr
    assert not (students / "exercises" / "grade-report.html").exists()
    assert (students / "grade-report.html").is_file()


# --- item 1: adding a mistake is documented as one place -------------------------------------------

def test_adding_a_mistake_is_documented_in_one_place():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "**Adding a mistake** is one place" in readme
    doc = __import__("reference.mistakes", fromlist=["x"]).__doc__
    assert "@mistake" in doc
