"""Shared fixtures: the real assignment, and submissions built from the reference."""
import compileall
import functools
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

# The processes the suite starts (pytest-in-pytest runs, kernels, helpers, the CLIs' subcommands)
# work on arrays of a few KB: one BLAS thread each, as the grader's CLI chooses for itself. By
# default BLAS starts a thread per core when NumPy loads, 40-70 ms of CPU for each of the hundreds
# of processes the suite starts (this process too, unless a plugin imported NumPy before). A value
# set by whoever runs the suite stays.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = os.environ.get(_name) or "1"

import numpy as np  # noqa: E402
import pytest

ROOT = Path(__file__).resolve().parents[1]
# The suite reads the English messages; the French ones are checked in test_i18n.py. Every
# `grade` the tests start inherits this.
os.environ["GRADE_LANG"] = "en"
from grader.i18n import set_language  # noqa: E402  (a plugin may have asked for a message already)
set_language("en")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The hundreds of CLIs, pytest runs and pools the suite starts import the grader, the course and
# the reference from this tree, as an installed grader is: byte-compiled. Where
# PYTHONDONTWRITEBYTECODE is set (some CI machines) nothing would write that byte-code, and each
# of them would compile every module again (0.1 s of CPU a run). Up-to-date files are skipped.
for _package in ("grader", "course", "reference"):
    compileall.compile_dir(ROOT / _package, quiet=2)


def pytest_xdist_auto_num_workers(config):
    """`-n auto` (pyproject's addopts): two workers more than the cores. About a third of the
    suite's wall time is waiting, not computing — CLIs and pools starting, timeouts and budgets
    running out, sandboxes torn down (`python bench/suite_time.py` says how much): two more
    workers keep the cores busy meanwhile (2 cores: 4 workers, 15–25 % less wall time)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores + 2


# --- the two worker backends ------------------------------------------------------------------
# The student-side test files (tests/portable_backend.txt: what students run on their laptops,
# also run on macOS and Windows by the project's workflow) test the grader with both worker
# backends: each of their tests runs twice in the same session, with this platform's own backend
# ([own]: a fork of the worker template on Linux and macOS) and with the portable one
# ([portable]: a fresh Python per worker, Windows' way), GRADE_BACKEND set for the test and
# everything it starts. Not where the platform's own backend is already the portable one, nor
# when GRADE_BACKEND is set for the whole run.
#
# `@pytest.mark.same_on_every_backend("why")`: the test judges something decided before any worker
# runs (collection, selection, reading the submission, a language) or computed in the test's own
# process: it runs once, with GRADE_BACKEND naming no backend, so that a worker started after all
# fails it (the grader refuses an unknown backend) instead of passing unnoticed.
PORTABLE_LIST = Path(__file__).with_name("portable_backend.txt")
NO_BACKEND = "none-same-on-every-backend"


def student_side_files() -> list:
    """The files tests/portable_backend.txt names (relative to the repository, `/`-separated)."""
    lines = (line.strip() for line in PORTABLE_LIST.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


STUDENT_SIDE = set(student_side_files())


def pytest_configure(config):
    config.addinivalue_line("markers", "same_on_every_backend(why): the outcome involves no grading worker; "
                                       "the test runs once, not once per worker backend (tests/conftest.py)")


def _both_backends() -> bool:
    from grader.sandbox import platforms
    return not os.environ.get("GRADE_BACKEND") and platforms.backend() != "portable"


def pytest_generate_tests(metafunc):
    marker = metafunc.definition.get_closest_marker("same_on_every_backend")
    if marker is not None:
        if not marker.args or not str(marker.args[0]).strip():
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: same_on_every_backend needs its reason "
                                    "(why no worker runs)")
        return
    try:
        path = Path(metafunc.definition.path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return
    if path in STUDENT_SIDE and _both_backends():
        metafunc.parametrize("worker_backend", ["own", "portable"], indirect=True)


@pytest.fixture(autouse=True)
def worker_backend(request, monkeypatch):
    """The worker backend this test runs with: "own", "portable", or None (not parametrized)."""
    if request.node.get_closest_marker("same_on_every_backend") is not None:
        monkeypatch.setenv("GRADE_BACKEND", NO_BACKEND)
    elif getattr(request, "param", None) == "portable":
        monkeypatch.setenv("GRADE_BACKEND", "portable")
    return getattr(request, "param", None)


@pytest.fixture(scope="session")
def assignment():
    from grader.model.assignment import load_assignment
    return load_assignment(ROOT / "assignment.yaml")


@pytest.fixture(scope="session")
def built_release(assignment, tmp_path_factory):
    """The students' repository `grade release` writes for this course, built once per test
    process (about a second: every mistake variant run on every public case); tests that only
    need *a* release get a copy of it (`release_copy`), tests of the release itself build their own."""
    from grader.instructor.release import write_release
    out = tmp_path_factory.mktemp("built-release") / "students"
    write_release(assignment, out)
    # byte-compiled once here, not in every copy's first run (copies keep the sources' times, so
    # the byte-code stays valid); a fresh clone's first run is timed in tests/test_speed_cache.py
    assert compileall.compile_dir(out, quiet=2)
    return out


@pytest.fixture(scope="session")
def release_copy(built_release):
    """release_copy(target) -> target: a fresh copy of the course's release, as a student's clone is."""
    def copy(target: Path) -> Path:
        shutil.copytree(built_release, target, symlinks=True)
        return target
    return copy


def solution_folder(target: Path) -> Path:
    """The reference as a student would write it: a folder of modules importing each other
    as `exercises.<module>`."""
    target.mkdir(parents=True, exist_ok=True)
    for source in (ROOT / "reference").glob("*.py"):
        if source.name == "mistakes.py":
            continue
        text = re.sub(r"from \.(\w+) import", r"from exercises.\1 import", source.read_text())
        (target / source.name).write_text(text)
    return target


@pytest.fixture(scope="session")
def solution(tmp_path_factory):
    return solution_folder(tmp_path_factory.mktemp("solution") / "exercises")


# No passwd entry needed: the CLI gets HOME from the environment. One uid per xdist worker
# (gw0: 4242, gw1: 4243…): RLIMIT_NPROC counts a uid's processes, so two tests running at once
# as one uid would share that limit (an attack forking many starves the other test's CLI).
UNPRIVILEGED_UID = 4242 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def can_run_unprivileged() -> bool:
    """Tests run as root here (as CI does); they can also run the CLI as a plain user."""
    return sys.platform.startswith("linux") and os.geteuid() == 0 and bool(shutil.which("unshare")) \
        and bool(shutil.which("setpriv"))


def _unreachable_ancestor(path: Path):
    """The first folder above `path` that other users cannot enter (e.g. /root holding pyenv)."""
    for parent in reversed(path.parents):
        if parent != Path("/") and not parent.stat().st_mode & stat.S_IXOTH:
            return parent
    return None


def grade_argv(user: bool = False, home: Path | None = None) -> list:
    """The command line of the real CLI, as root or as an unprivileged user (uid 4242).

    For the plain user, a private mount namespace makes the interpreter reachable when it lives
    in a folder only root may enter (pyenv under /root); the CLI itself then runs with no
    privilege at all, as an instructor's or a student's account would."""
    argv = [sys.executable, "-m", "grader.cli"]
    if not user:
        return argv
    return with_reachable_interpreter(
        ["setpriv", f"--reuid={UNPRIVILEGED_UID}", f"--regid={UNPRIVILEGED_UID}", "--clear-groups",
         "env", f"HOME={home or '/nonexistent'}", *argv])


def with_reachable_interpreter(argv: list) -> list:
    """`argv` in a private mount namespace where every user can reach this interpreter, as on a
    machine where Python lives in /usr or /opt: when it lives in a folder only root may enter
    (pyenv under /root), that folder is replaced by an empty tmpfs holding just the interpreter.
    Needs root (it mounts); argv then runs as root unless it switches user itself."""
    script = "set -e\n"
    blocked = _unreachable_ancestor(Path(sys.base_prefix).resolve())
    if blocked is not None:
        keep = Path(sys.base_prefix).resolve().relative_to(blocked).parts[0]
        # a mount point of this run's own, removed once its mount moved (nothing left in /tmp)
        script += (f'stage=$(mktemp -d /tmp/stage-XXXXXXXX)\n'
                   f"mount --bind '{blocked / keep}' \"$stage\"\nmount -t tmpfs -o mode=0755 tmpfs '{blocked}'\n"
                   f"mkdir -p '{blocked / keep}'\nmount --move \"$stage\" '{blocked / keep}'\nrmdir \"$stage\"\n")
    script += 'exec "$@"\n'
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", *argv]


def user_folder(prefix="user-") -> Path:
    """A folder the unprivileged user owns (pytest's own temporary folders are root-only)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.chown(folder, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
    return folder


def give_to_user(path: Path):
    """Hand a tree built by the test (as root) to the unprivileged user."""
    for folder, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(folder, name), UNPRIVILEGED_UID, UNPRIVILEGED_UID)
    os.lchown(path, UNPRIVILEGED_UID, UNPRIVILEGED_UID)


def run_grade(*args, cwd=ROOT, timeout=300, user=False, home=None):
    """The real CLI, as a student runs it (or as an unprivileged user, `user=True`)."""
    return subprocess.run([*grade_argv(user, home), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


@functools.cache
def result_schema() -> dict:
    """The JSON result's schema (read when first asked: a copy of this conftest runs elsewhere)."""
    return json.loads((ROOT / "grader" / "model" / "schemas" / "result.schema.json").read_text(encoding="utf-8"))


@functools.cache
def _result_validator():
    import jsonschema
    kind = jsonschema.validators.validator_for(result_schema())
    kind.check_schema(result_schema())
    return kind(result_schema())


def validate_result(data) -> None:
    """jsonschema.validate(data, the result schema), with the schema itself checked once per test
    process instead of on every call (two thirds of the time of each: the suite validates a few
    hundred results). Raises the error jsonschema.validate would."""
    import jsonschema
    error = jsonschema.exceptions.best_match(_result_validator().iter_errors(data))
    if error is not None:
        raise error


def children(pid: int) -> list:
    """The pids of `pid`'s children (Linux, /proc); [] once it is gone."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def write(path: Path, data="") -> Path:
    """A file with its folders (text or bytes): the test builds submissions and exports this way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def arrays_in(value):
    """Every ndarray in a nested value (dicts, lists, tuples)."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from arrays_in(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from arrays_in(v)


@pytest.fixture
def french():
    """Messages in French for the test's duration, then back to the suite's English."""
    set_language("fr")
    try:
        yield
    finally:
        set_language("en")


def see_this_environment(venv: Path) -> None:
    """Make a `python -m venv --system-site-packages` venv see the packages of the environment
    running the tests. Made by a virtual environment's interpreter (nox, a fresh venv), such a venv
    sees the *base* interpreter's site-packages, not that environment's: numpy, yaml or
    setuptools>=70.1 would be missing, or older. A .pth file in the new venv lists this
    environment's site-packages (before the base's). Nothing to do outside a virtual environment."""
    import site
    import sysconfig
    if sys.prefix == sys.base_prefix:
        return
    target = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    target.mkdir(parents=True, exist_ok=True)
    paths = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (target / "_tests_outer_site.pth").write_text("".join(f"{p}\n" for p in paths), encoding="utf-8")
