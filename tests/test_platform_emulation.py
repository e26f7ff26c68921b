"""`grade` as a student runs it on Windows and on macOS, proven here on Linux.

The grader runs from a virtual environment whose Python looks like Windows' or macOS' (see
tests/platform_emulation/): on "Windows" no fork, no sessions, no uids, no UNIX sockets, no
`resource` or `fcntl`, no `pass_fds`, `select` on sockets only; on "macOS" no SOCK_SEQPACKET and
an RLIMIT_AS that is accepted and ignored, and no namespaces. Every worker the grader starts runs
the same interpreter, so the workers see the same platform. Each test grades in a students'
repository written by `grade release`, through the real CLI.
"""
import json
import os
import subprocess
import time

import nbformat
import pytest

from conftest import solution_folder
from platform_emulation import KINDS, emulated_python

MODULES = ("similarity", "softmax", "embeddings", "attention", "positional", "transformer")
WORKER = {"windows": "a fresh Python process", "macos": "a fresh fork of the worker template"}
MEMORY = {"windows": "none in the worker", "macos": "resident memory 2048 MB (a watchdog, every 20 ms)"}


@pytest.fixture(scope="module")
def students(release_copy, tmp_path_factory):
    """A students' repository with the reference's answers in place of the stubs."""
    out = release_copy(tmp_path_factory.mktemp("release") / "students")
    solution = solution_folder(tmp_path_factory.mktemp("answers") / "exercises")
    for module in MODULES:
        (out / "exercises" / f"{module}.py").write_text((solution / f"{module}.py").read_text())
    return out


@pytest.fixture(scope="module", params=KINDS)
def platform(request, tmp_path_factory):
    return request.param, emulated_python(request.param, tmp_path_factory.mktemp(f"python-{request.param}"))


def grade(platform, folder, *args, expect=(0, 1), timeout=120):
    kind, python = platform
    env = {**os.environ, "GRADE_LANG": "en"}
    env.pop("GRADE_BACKEND", None)  # the platform decides
    if kind == "macos":
        env["GRADE_ISOLATION"] = "process"  # macOS has no namespaces; the kernel here does
    started = time.monotonic()
    proc = subprocess.run([str(python), "-m", "grader.cli", "--no-color", *map(str, args)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=timeout)
    proc.elapsed = time.monotonic() - started
    assert proc.returncode in expect, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def result_of(platform, folder, tmp_path, *args, expect=(0, 1)):
    out = tmp_path / "result.json"
    proc = grade(platform, folder, *args, "--json", out, "--report", tmp_path / "report.html", expect=expect)
    return proc, json.loads(out.read_text())


def test_the_emulation_takes_away_what_the_platform_lacks(platform):
    kind, python = platform
    probe = ("import os, socket, errno\n"
             "try:\n    import resource; res = True\nexcept ImportError:\n    res = False\n"
             "try:\n    socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET); seq = True\n"
             "except (OSError, AttributeError):\n    seq = False\n"
             "print(hasattr(os, 'fork'), res, seq)")
    seen = subprocess.run([str(python), "-I", "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert seen == (["False", "False", "False"] if kind == "windows" else ["True", "True", "False"])


def test_grade_in_a_students_repository_passes_the_public_cases(platform, students, tmp_path):
    kind, _ = platform
    proc, result = result_of(platform, students, tmp_path, expect=(0,))
    public = [c for e in result["exercises"] for c in e["cases"]]
    assert public and {c["status"] for c in public} == {"passed"}, proc.stdout
    assert result["isolation"]["level"] == "process"
    assert result["isolation"]["worker"] == WORKER[kind]
    assert result["isolation"]["memory"] == MEMORY[kind]
    assert "Points" in proc.stdout


def test_grade_case_replays_one_case(platform, students, tmp_path):
    proc = grade(platform, students, "--case", "softmax/softmax/orange-apple", "--report", tmp_path / "r.html",
                 expect=(0,))
    assert "expected:" in proc.stdout and "yours:" in proc.stdout


def test_a_notebook_is_graded(platform, students, tmp_path):
    nb = nbformat.v4.new_notebook()
    for module in MODULES:
        nb.cells.append(nbformat.v4.new_code_cell((students / "exercises" / f"{module}.py").read_text()))
    path = tmp_path / "devoir.ipynb"
    nbformat.write(nb, str(path))
    _, result = result_of(platform, students, tmp_path, path, expect=(0,))
    assert {c["status"] for e in result["exercises"] for c in e["cases"]} == {"passed"}


def test_a_loop_and_a_crash_cost_only_their_own_cases(platform, students, tmp_path):
    folder = tmp_path / "exercises"
    folder.mkdir()
    for module in MODULES:
        (folder / f"{module}.py").write_text((students / "exercises" / f"{module}.py").read_text())
    positional = folder / "positional.py"
    positional.write_text(positional.read_text().replace("    p = np.arange(n_positions)[:, None]",
                                                         "    while True:\n        pass"))
    similarity = folder / "similarity.py"
    similarity.write_text(similarity.read_text().replace(
        "def dot_product(a, b):\n", "def dot_product(a, b):\n    import os; os.abort()\n"))
    proc, result = result_of(platform, students, tmp_path, folder, "-k", "positional", "similarity", "softmax")
    found = {}
    for e in result["exercises"]:
        for c in e["cases"]:
            found.setdefault(c["function"], set()).add(c["status"])
    assert found["positional_encoding"] == {"timeout"}
    assert found["dot_product"] == {"error"}
    assert found["softmax"] == {"passed"} and found["cosine_similarity_matrix"] == {"passed"}
    # two timeouts, then the function is given up; an abort costs a worker, not a wait
    assert proc.elapsed < 30, proc.elapsed


def test_a_memory_bomb_is_stopped_on_macos(platform, students, tmp_path):
    """macOS ignores RLIMIT_AS: the worker's watchdog stops a submission that holds too much."""
    kind, _ = platform
    if kind != "macos":
        pytest.skip("Windows' cap is its Job Object, which only real Windows has (tests/test_winjob.py)")
    folder = tmp_path / "exercises"
    folder.mkdir()
    for module in MODULES:
        (folder / f"{module}.py").write_text((students / "exercises" / f"{module}.py").read_text())
    softmax = folder / "softmax.py"
    softmax.write_text(softmax.read_text().replace(
        "def softmax(", "def _hoard():\n    kept = []\n    for _ in range(6):\n"
        "        kept.append(np.ones(2**27))  # 1 GiB each, every page written\n    return kept\n\n\n"
        "def softmax(x, axis=-1):\n    _hoard()\n    return _softmax(x, axis)\n\n\ndef _softmax(", 1))
    proc, result = result_of(platform, students, tmp_path, folder, "-k", "softmax")
    cases = [c for e in result["exercises"] for c in e["cases"] if c["function"] == "softmax"]
    assert cases and all(c["status"] in ("error", "timeout") for c in cases), proc.stdout
    assert any("more than 2048 MB" in (c["message"] or "") for c in cases), [c["message"] for c in cases]
