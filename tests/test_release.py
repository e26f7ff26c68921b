"""`grade release OUT` (grader/instructor/release.py): the students' repository holds the stubs, the
engine, the public cases and nothing of the instructor's — and it works, installed offline in a
fresh virtual environment."""
import ast
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT, arrays_in, see_this_environment, solution_folder
from grader.model.assignment import load_assignment
from grader.model.errors import GraderError
from grader.instructor.release import write_release

HIDDEN_NOTICE = re.compile(r"hidden cases are graded by the instructor", re.IGNORECASE)


@pytest.fixture(scope="module")
def release(assignment, tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "students"
    summary = write_release(assignment, out)
    return out, summary


def files_of(folder: Path) -> dict:
    """{relative path: bytes} of every file, the members of .npz archives included (decompressed)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(folder).as_posix()
        data = path.read_bytes()
        found[rel] = data
        if path.suffix == ".npz":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.namelist():
                    found[f"{rel}::{member} (name)"] = member.encode()
                    found[f"{rel}::{member}"] = archive.read(member)
    return found


def distinctive(array: np.ndarray) -> bool:
    """Worth searching for: float values of some size that are not a pattern any computation
    could produce by chance (all 0/1, one repeated value)."""
    return array.dtype.kind == "f" and array.size >= 4 and np.isfinite(array).all() \
        and len(np.unique(array)) > 2


def reference_lines() -> set:
    """Distinctive code lines of the reference's function bodies, mistake variants included."""
    lines = set()
    for source in (ROOT / "reference").glob("*.py"):
        text = source.read_text()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef):
                continue
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            for statement in body:
                for line in (ast.get_source_segment(text, statement) or "").splitlines():
                    line = line.split("  #")[0].strip()
                    if len(line) >= 24 and not line.startswith("#"):
                        lines.add(line)
    return lines


def hidden_expectations(assignment):
    from grader.grading.engine import Expectations, select_cases
    hidden = [c for c in select_cases(assignment) if c.visibility == "hidden"]
    return hidden, Expectations(assignment, use_reference=True).plan(hidden).expected


# --- (1) nothing of the instructor's -----------------------------------------------------------

def test_release_holds_no_reference_mistake_salt_or_hidden_case(assignment, release):
    from reference.mistakes import MISTAKES

    out, _ = release
    files = files_of(out)
    text = {rel: data.decode("latin-1") for rel, data in files.items()}  # every byte, searchable as text
    # The stubs' docstrings state the contract's formulas (`d_k = d_model // n_heads`) and the
    # engine shares an idiom or two with the reference: those few lines are published on purpose.
    published = "\n".join(p.read_text() for folder in (ROOT / "exercises", ROOT / "grader")
                          for p in folder.rglob("*.py"))
    lines = reference_lines()
    on_purpose = {line for line in lines if line in published}
    assert len(lines) > 100 and len(on_purpose) <= 3, on_purpose
    needles = {}
    for line in lines - on_purpose:
        needles[line] = "a line of the reference"
    for m in MISTAKES:
        needles[m.name] = "a mistake's name"
        needles[m.implementation.__name__] = "a mistake's function"
    assert assignment.salt
    needles[assignment.salt] = "the salt"
    hidden, expected = hidden_expectations(assignment)
    assert hidden
    for case in hidden:
        needles[case.id] = "a hidden case id"
    assert len(needles) > 100
    for needle, what in needles.items():
        # the public-cases manifest names the mistakes it can diagnose (their outputs, never their code)
        allowed = {"public_cases.npz::manifest.npy"} if what == "a mistake's name" else set()
        leaks = [rel for rel, t in text.items() if rel not in allowed and
                 (needle in t or needle.encode("utf-8").decode("latin-1") in t)]
        assert not leaks, f"{what} ({needle!r}) is in the release: {leaks}"

    # Hidden cases' inputs and expected values: neither their bytes in any file or .npz member
    # (the public cases' arrays are stored raw in the archive), nor their printed digits in a text file.
    searched = 0
    for case in hidden:
        record = expected[case.id]
        for array in [*arrays_in(record.value), *arrays_in(record.inputs)]:
            if not distinctive(array):
                continue
            searched += 1
            raw = np.ascontiguousarray(array).tobytes()
            assert not [rel for rel, data in files.items() if raw in data], f"{case.id}: its values are in the release"
            for x in array.ravel()[:3]:
                digits = repr(float(x))
                assert not [rel for rel, t in text.items() if digits in t and len(digits) >= 12], \
                    f"{case.id}: the value {digits} is in the release"
    assert searched > 50  # the check looked at most hidden cases' numbers


def test_release_stubs_are_stubs(release):
    """Every function of the released exercises is a docstring and `raise NotImplementedError`."""
    out, _ = release
    functions = 0
    for path in sorted((out / "exercises").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions += 1
                body = node.body[1:] if ast.get_docstring(node) is not None else node.body
                assert len(body) == 1 and isinstance(body[0], ast.Raise) and \
                    "NotImplementedError" in ast.unparse(body[0]), f"{path.name}: {node.name}() is not a stub"
    assert functions >= 20


def test_release_tree_is_the_students_and_nothing_else(assignment, release):
    out, summary = release
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert on_disk == summary["files"]
    top = {p.split("/")[0] for p in on_disk}
    assert top == {"README.md", "pyproject.toml", ".gitignore", "assignment.yaml", "public_cases.npz", "seance11.ipynb",
                   ".github", ".gitlab-ci.yml",
                   "exercises", "grader", "course"}
    assert not [p for p in on_disk if "__pycache__" in p or p.endswith(".pyc")]
    assert "grader/instructor/release.py" not in on_disk and not [p for p in on_disk if "templates/release" in p]
    stubs = sorted(p.name for p in (ROOT / "exercises").glob("*.py"))
    assert sorted(Path(p).name for p in on_disk if p.startswith("exercises/")) == stubs
    for name in stubs:
        assert (out / "exercises" / name).read_bytes() == (ROOT / "exercises" / name).read_bytes()
    engine = sorted(p.relative_to(ROOT).as_posix() for pattern in ("grader/**/*.py", "grader/model/schemas/*.json",
                                                                   "grader/report/templates/*", "grader/i18n/locales/*.yaml")
                    for p in ROOT.glob(pattern)
                    if p.is_file() and p.name != "release.py")
    assert sorted(p for p in on_disk if p.startswith("grader/")) == engine  # the whole engine, as pip ships it
    assert "grader/model/schemas/assignment.schema.json" in on_disk and "grader/report/templates/report.html.j2" in on_disk
    assert [p for p in on_disk if p.startswith("grader/i18n/locales/")]  # the messages: without them, keys

    project = (out / "pyproject.toml").read_text()
    for dependency in ("numpy", "pyyaml", "jinja2", "nbformat", "jsonschema"):
        assert f'"{dependency}' in project
    assert 'grade = "grader.cli:main"' in project
    assert "grade-report.html" in (out / ".gitignore").read_text()

    readme = (out / "README.md").read_text()
    assert readme.index("## Français") < readme.index("## English")
    for words in ("pip install -e .", "grade --case", "cas cachés", "hidden cases", "graded by the instructor",
                  "notés par", "grade-report.html", f"{summary['public_cases']} public cases"):
        assert words in readme, words


def readme_code_blocks(section: str) -> list:
    """[(language, [command lines without their trailing `# comment`])] of the fenced blocks."""
    return [(lang, [line.split("  #")[0].strip() for line in body.splitlines() if line.strip()])
            for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", section, flags=re.M | re.S)]


@pytest.mark.parametrize("language, start, end, refused", [
    ("fr", "## Français", "## English", "PowerShell refuse l'activation"),
    ("en", "## English", None, "PowerShell refuses the activation")], ids=["fr", "en"])
def test_release_readme_gives_the_windows_and_macos_install_steps(release, language, start, end, refused):
    """Each language's "Install" section: the Windows (PowerShell) steps, the execution-policy way
    out when PowerShell refuses to activate the venv, and the macOS / Linux steps, as commands."""
    readme = (release[0] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index(start):readme.index(end) if end else len(readme)]
    heading = section.index("\n### Install")  # « Installer », "Install"
    install = section[heading:section.index("\n### ", heading + 1)]
    for words in ("**Windows** (PowerShell)", "**macOS / Linux**", refused, ".venv\\Scripts\\Activate.ps1"):
        assert words in install, (language, words)
    blocks = readme_code_blocks(install)
    windows = ["py -m venv .venv", ".venv\\Scripts\\activate", "pip install -e .", "grade"]
    unix = ["python3 -m venv .venv", "source .venv/bin/activate", "pip install -e .", "grade"]
    assert ("powershell", windows) in blocks, (language, blocks)
    assert ("bash", unix) in blocks, (language, blocks)
    assert ("powershell", ["Set-ExecutionPolicy -Scope CurrentUser RemoteSigned"]) in blocks, (language, blocks)
    assert blocks.index(("powershell", windows)) < blocks.index(("bash", unix))


def test_release_assignment_has_exactly_the_public_cases(assignment, release):
    out, summary = release
    data = yaml.safe_load((out / "assignment.yaml").read_text())
    assert not {"reference", "mistakes", "salt", "generators"} & set(data)
    students = load_assignment(out / "assignment.yaml")  # schema and loader checks included
    assert students.reference is None and students.mistakes is None and students.salt == ""
    public = [c for c in assignment.cases() if c.visibility == "public"]
    assert [c.id for c in students.cases()] == [c.id for c in public]
    assert summary["public_cases"] == len(public)
    assert summary["hidden_cases_left_out"] == sum(1 for c in assignment.cases() if c.visibility == "hidden")
    for case in public:
        mine = students.case(case.id)
        assert mine == case and (mine.inputs, mine.params, mine.dtypes) == (case.inputs, case.params, case.dtypes)
    assert [(e.name, e.points, list(e.functions)) for e in students.exercises] == \
        [(e.name, e.points, list(e.functions)) for e in assignment.exercises]

    from grader.grading.public_cases import PublicCasesFile
    stored = PublicCasesFile(out / "public_cases.npz")
    assert set(stored.records) == {c.id for c in public}
    with np.load(out / "public_cases.npz", allow_pickle=False) as archive:  # no object array anywhere
        assert all(archive[name].dtype.kind in "biufU" for name in archive.files)


# --- (2) installed offline in a fresh virtual environment, it grades ---------------------------

def run(argv, cwd, env, timeout=120):
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_release_installs_offline_and_grades_public_cases(assignment):
    """The README's steps, offline: `python -m venv .venv` in the release, `pip install -e .`,
    `grade`. Not under /tmp: the worker's jail mounts a private /tmp over an interpreter there."""
    started = time.monotonic()
    if importlib.util.find_spec("setuptools") is None:  # the build backend, offline (--no-build-isolation)
        pytest.fail("installing the release offline needs setuptools>=70.1 in the interpreter running the tests "
                    "(pip install -e '.[test]')")
    base = Path(tempfile.mkdtemp(prefix="grade-release-test-", dir=Path.home()))
    try:
        out = base / "students"
        write_release(assignment, out)
        venv = out / ".venv"
        env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
               "PIP_NO_INPUT": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("PYTHONPATH", None)
        made = run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], out, env)
        assert made.returncode == 0, made.stderr
        see_this_environment(venv)  # numpy, yaml, setuptools from here, also when "here" is a venv
        python, grade = venv / "bin" / "python", venv / "bin" / "grade"
        installed = run([python, "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation", "--no-deps",
                         "-e", out], out, env)
        assert installed.returncode == 0, installed.stdout + installed.stderr
        assert grade.is_file()
        where = run([python, "-c", "import grader; print(grader.__file__)"], base, env)
        assert Path(where.stdout.strip()).resolve() == (out / "grader" / "__init__.py").resolve(), \
            "the venv's `grade` must run the release's engine, not the instructor's"

        # The stubs score 0, from a folder inside the release.
        stubs = run([grade, "--no-color", "--report", base / "stubs.html", "--json", base / "stubs.json"],
                    out / "exercises", env)
        assert stubs.returncode == 1, stubs.stdout + stubs.stderr
        assert "Points 0.0/100.0" in stubs.stdout
        result = json.loads((base / "stubs.json").read_text())
        assert result["expected_from"] == "public-cases file" and result["score"] == 0
        cases = [c for e in result["exercises"] for c in e["cases"]]
        public = [c.id for c in assignment.cases() if c.visibility == "public"]
        assert sorted(c["id"] for c in cases) == sorted(public)
        assert {c["visibility"] for c in cases} == {"public"}

        # Every engine module `grade` loads is the release's own: the interpreter here may hold an
        # editable install of the instructor's package, whose finder would quietly supply any
        # `grader.*` module the release forgot.
        probe = run([python, "-c", "import json, sys, grader.cli\n"
                     f"code = grader.cli.main(['--quiet', '--no-color', '--report', {str(base / 'probe.html')!r}])\n"
                     "print(json.dumps([code, sorted(m.__file__ for n, m in sys.modules.items() "
                     "if n.split('.')[0] == 'grader' and getattr(m, '__file__', None))]))"], out / "exercises", env)
        code, loaded = json.loads(probe.stdout.strip().splitlines()[-1])
        assert code == 1 and len(loaded) > 10, probe.stdout + probe.stderr
        assert not [f for f in loaded if not Path(f).resolve().is_relative_to((out / "grader").resolve())], loaded

        # One public case in full: its inputs and expected value.
        one = run([grade, "--no-color", "--report", base / "one.html", "--case", public[0]], out, env)
        assert one.returncode == 1 and "expected:" in one.stdout and "inputs:" in one.stdout, one.stdout + one.stderr

        # The reference, written as a student would, scores 100 on the public cases.
        shutil.rmtree(out / "exercises")
        solution_folder(out / "exercises")
        solved = run([grade, "--no-color", "--report", base / "solved.html", "--json", base / "solved.json"], out, env)
        assert solved.returncode == 0, solved.stdout + solved.stderr
        assert "Points 100.0/100.0" in solved.stdout
        result = json.loads((base / "solved.json").read_text())
        assert result["score"] == result["max_score"] == 100
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert time.monotonic() - started < 60


def grade_in(folder: Path, *args):
    """The release's own engine (`python -m grader.cli` from inside it finds its grader/ first)."""
    return subprocess.run([sys.executable, "-m", "grader.cli", "--no-color", *map(str, args)], cwd=folder,
                          capture_output=True, text=True, timeout=120)


def test_release_terminal_says_hidden_cases_are_graded_by_the_instructor(assignment, tmp_path):
    out = tmp_path / "students"
    write_release(assignment, out)
    engine = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], cwd=out,
                            capture_output=True, text=True)
    assert Path(engine.stdout.strip()) == out / "grader" / "__init__.py"  # the release's own engine
    graded = grade_in(out, "--report", tmp_path / "r.html")
    assert graded.returncode == 1, graded.stdout + graded.stderr
    assert HIDDEN_NOTICE.search(graded.stdout), \
        f"the terminal must say the hidden cases are graded by the instructor:\n{graded.stdout}"


def test_release_report_replay_commands_work_in_the_release(assignment, tmp_path):
    """The HTML report tells the student how to replay a failing case; that command must run
    in the students' repository (no --seed there: the public cases have fixed inputs)."""
    out = tmp_path / "students"
    write_release(assignment, out)
    report = tmp_path / "r.html"
    assert grade_in(out, "--report", report).returncode == 1
    commands = re.findall(r"grade (?:[^<\s]+ )?--case [^<\n]+", report.read_text())
    assert commands
    argv = commands[0].split()[1:]
    replayed = grade_in(out, *argv, "--report", tmp_path / "again.html")
    assert replayed.returncode == 1 and "expected:" in replayed.stdout, \
        f"`{commands[0]}` from the report fails in the release:\n{replayed.stderr}"


# --- (3) where it writes ------------------------------------------------------------------------

def test_non_empty_out_is_refused_with_a_clear_message(assignment, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(GraderError, match=r"is not empty \(notes\.txt\).*--force"):
        write_release(assignment, out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_refusals_in_french(assignment, tmp_path):
    from grader.i18n import set_language

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    set_language("fr")
    try:
        with pytest.raises(GraderError) as caught:
            write_release(assignment, out)
        with pytest.raises(GraderError) as inside:
            write_release(assignment, ROOT / "exercises" / "release", force=True)
    finally:
        set_language("en")
    assert str(caught.value) == (
        f"{out.resolve()} n'est pas vide (notes.txt) : écrivez la version étudiante dans un dossier nouveau ou "
        "vide, ou ajoutez --force pour y remplacer ses fichiers (les autres fichiers, .git compris, sont conservés).")
    assert "est à l'intérieur de" in str(inside.value) and "choisissez un autre dossier" in str(inside.value)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert not (ROOT / "exercises" / "release").exists()


def test_the_release_speaks_french_too(release):
    """The catalogs ship with the engine: the released grader's messages are not their keys."""
    out, _ = release
    for lang in ("en", "fr"):
        sections = yaml.safe_load((out / "grader" / "i18n" / "locales" / f"{lang}.yaml").read_text(encoding="utf-8"))
        assert "assignment" in sections and "pytest_plugin" in sections, (lang, sorted(sections))


def test_force_replaces_the_release_and_keeps_the_rest(assignment, tmp_path):
    out = tmp_path / "out"
    write_release(assignment, out)
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "grader" / "stale.py").write_text("# from an older release\n")
    (out / "README.md").write_text("edited")
    summary = write_release(assignment, out, force=True)
    assert summary["kept"] == [".git"]
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (out / "grader" / "stale.py").exists()
    assert (out / "README.md").read_text().startswith("# ")


def test_never_writes_outside_out(assignment, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("untouched")
    out = tmp_path / "out"
    out.mkdir()
    (out / "grader").symlink_to(outside, target_is_directory=True)  # replaced: the link, not its target
    write_release(assignment, out, force=True)
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert (out / "grader").is_dir() and not (out / "grader").is_symlink()

    (out / "README.md").unlink()
    (out / "README.md").symlink_to(outside / "keep.txt")
    with pytest.raises(GraderError, match="symbolic link"):
        write_release(assignment, out, force=True)
    assert (outside / "keep.txt").read_text() == "untouched"


@pytest.mark.parametrize("where", ["root", "parent", "stubs", "engine"])
def test_out_that_holds_or_is_inside_the_course_is_refused(assignment, where):
    out = {"root": ROOT, "parent": ROOT.parent, "stubs": ROOT / "exercises" / "release",
           "engine": ROOT / "grader" / "release-out"}[where]
    with pytest.raises(GraderError):
        write_release(assignment, out, force=True)
    assert not (ROOT / "exercises" / "release").exists() and not (ROOT / "grader" / "release-out").exists()
