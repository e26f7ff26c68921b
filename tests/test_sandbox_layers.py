"""The layers that hold without namespaces too: a system-call filter in every worker, strays a
worker leaves killed before grading ends, a time budget for a whole submission, and as root a uid
of the worker's own."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, _unreachable_ancestor, can_run_unprivileged, solution_folder, with_reachable_interpreter
from grader.grading.engine import Expectations, grade, select_cases
from grader.sandbox.supervisor import Limits

MODES = ["namespaces", "process"]


def with_function(tmp_path, module, old, new):
    folder = solution_folder(tmp_path / "exercises")
    path = folder / f"{module}.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return folder


def graded(assignment, folder, exercises, **limits):
    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment, exercises))
    return grade(assignment, folder, plan, limits=Limits(timeout=assignment.timeout,
                                                           memory_mb=assignment.memory_mb, **limits))


def cases(result, function):
    return [c for e in result.exercises for c in e.cases if c.function == function]


@pytest.fixture(params=MODES)
def mode(request, monkeypatch):
    if request.param == "process":
        monkeypatch.setenv("GRADE_ISOLATION", "process")
    return request.param


def test_a_socket_is_refused_by_the_system_call_filter_not_only_by_the_audit_hook(assignment, tmp_path, mode):
    """Creating a socket raises no audit refusal; only the filter stops it (in the jail the network
    namespace would allow a loopback socket)."""
    folder = with_function(tmp_path, "similarity", "def dot_product(a, b):\n",
                           "def dot_product(a, b):\n    import socket\n    socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n")
    result = graded(assignment, folder, ["similarity"])
    assert result.isolation["syscalls"].startswith("seccomp: ")
    messages = [c.message for c in cases(result, "dot_product")]
    assert messages and all("Operation not permitted" in m for m in messages), messages


def test_a_daemon_a_worker_leaves_is_killed_before_grading_ends(assignment, tmp_path, mode, monkeypatch):
    """A double-forked daemon (a new session: out of the worker's process group) that sleeps: in the
    jail the PID namespace ends it; without namespaces the template, its subreaper, kills it."""
    from grader.sandbox import template as backend_template
    monkeypatch.setenv("GRADE_BACKEND", "template")
    daemon = ("def dot_product(a, b):\n"
              "    import os, time\n"
              "    if os.fork() == 0:\n"
              "        os.setsid()\n"
              "        if os.fork() == 0:\n"
              "            time.sleep(60)\n"
              "        os._exit(0)\n"
              "    os.wait()\n")
    folder = with_function(tmp_path, "similarity", "def dot_product(a, b):\n", daemon + "\n\ndef _unused(a, b):\n")
    graded(assignment, folder, ["similarity"])
    template = backend_template.worker_template()
    command = Path(f"/proc/{template.pid}/cmdline").read_bytes()
    left = []  # forks of the template (workers and what they started) still alive
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != template.pid:
            try:
                if (entry / "cmdline").read_bytes() == command:
                    left.append(int(entry.name))
            except OSError:
                pass
    for pid in left:
        os.kill(pid, 9)
    assert not left, "a process the submission started outlived its grading"


def test_a_submission_that_spends_its_budget_gets_the_rest_not_run(assignment, tmp_path):
    folder = with_function(tmp_path, "positional", "    p = np.arange(n_positions)[:, None]",
                           "    import time\n    time.sleep(2.5)\n    p = np.arange(n_positions)[:, None]")
    started = time.monotonic()
    result = graded(assignment, folder, ["positional", "softmax"], budget=4.0)
    assert time.monotonic() - started < 15
    positional = cases(result, "positional_encoding")
    assert any(c.status == "timeout" and "time budget (4 s" in c.message for c in positional)
    assert {c.status for c in cases(result, "softmax")} == {"passed"}  # graded before the budget ran out


# --- root without namespaces: a uid of the worker's own ------------------------------------------

WHO_AM_I = """def dot_product(a, b):
    import os
    with open("written-here.txt", "w") as f:  # its own folder stays writable
        f.write("ok")
    unprivileged = os.geteuid() != 0 and os.getegid() != 0 and os.getgroups() == []
    try:
        os.setuid(0)
        unprivileged = False
    except OSError:
        pass
    return np.sum(a * b, axis=-1) * (1.0 if unprivileged else -1.0)
"""


@pytest.mark.skipif(not can_run_unprivileged(), reason="needs root and unshare (to build the machine it describes)")
def test_as_root_without_namespaces_the_worker_runs_under_a_uid_of_its_own(tmp_path):
    """The grader as root where namespaces are refused (Docker without CAP_SYS_ADMIN), with Python
    where every user can read it: the worker is not root (no way back), still writes its own
    folder (what it plants in the shared /tmp once its audit hook is disarmed is removed: the corpus's
    disarm_audit_hook, in its "nons" mode)."""
    folder = with_function(tmp_path, "similarity", "def dot_product(a, b):\n", WHO_AM_I + "\n\ndef _unused(a, b):\n")
    out = tmp_path / "result.json"
    argv = with_reachable_interpreter([sys.executable, str(ROOT / "tests" / "no_namespaces.py"), sys.executable,
                                       "-m", "grader.cli", str(folder), "--json", str(out), "-k", "similarity"])
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    result = json.loads(out.read_text())
    assert result["isolation"]["level"] == "process", result["isolation"]
    assert result["isolation"]["user"] == "a uid of its own, no privileges", result["isolation"]
    assert "uid" not in result["isolation"]  # the number is the grader's business, not the JSON's
    dot = [c for e in result["exercises"] for c in e["cases"] if c["function"] == "dot_product"]
    assert dot and all(c["status"] == "passed" for c in dot), [c["message"] for c in dot]


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="root on Linux only")
def test_as_root_without_namespaces_the_isolation_says_why_root_was_kept(assignment, tmp_path, monkeypatch):
    """Where other users cannot read the interpreter (pyenv under /root), a uid of its own would
    break the student's imports: the worker keeps root, and the result says so and why."""
    monkeypatch.setenv("GRADE_ISOLATION", "process")
    blocked = _unreachable_ancestor(Path(sys.base_prefix).resolve())
    result = graded(assignment, solution_folder(tmp_path / "exercises"), ["softmax"])
    if blocked is None:
        assert result.isolation["user"] == "a uid of its own, no privileges"
    else:
        assert result.isolation["user"].startswith("root: kept, because ") and "not readable by other users" in \
            result.isolation["user"], result.isolation
    assert {c.status for c in cases(result, "softmax")} == {"passed"}


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="chown needs root")
def test_files_of_a_worker_uid_are_removed_from_the_shared_temporary_folders_and_nothing_else(tmp_path):
    from grader.sandbox.tempfiles import remove_files_of
    uid, other = 1_200_999_001, 1_200_999_002
    shared = tmp_path / "tmp"
    (shared / "sticky" / "deeper").mkdir(parents=True)
    (shared / "sticky").chmod(0o1777)
    (shared / "sticky" / "deeper").chmod(0o1777)
    planted = [shared / "a-file", shared / "a-folder", shared / "sticky" / "deeper" / "nested"]
    planted[1].mkdir()
    (planted[1] / "inside").write_text("x")
    for path in (planted[0], planted[2]):
        path.write_text("x")
    kept = [shared / "someone-elses", shared / "sticky" / "root-file"]
    for path in kept:
        path.write_text("x")
    target = tmp_path / "outside"
    target.mkdir()
    (target / "precious").write_text("x")
    link = shared / "a-link"
    link.symlink_to(target)  # a link of theirs goes, what it points to stays
    for path in (*planted, planted[1] / "inside", link):
        os.lchown(path, uid, uid)
    os.chown(kept[0], other, other)
    remove_files_of({uid}, roots=[str(shared)])
    assert not any(p.exists() or p.is_symlink() for p in (*planted, link))
    assert all(p.exists() for p in kept) and (target / "precious").exists()
