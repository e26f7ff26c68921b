"""The layers that hold without namespaces too: a system-call filter in every worker, strays a
worker leaves killed before grading ends, and a time budget for a whole submission."""
import os
import time
from pathlib import Path

import pytest

from conftest import solution_folder
from grader.engine import Expectations, grade, select_cases
from grader.sandbox import Limits

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
    from grader import backend_template
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
