"""What made a worker cheaper (issue 19) without giving up any isolation: PID 1 of a worker's
namespace forks the worker at once and the worker builds the new root (PID 1 runs almost nothing
of its own, yet ends up in the new root too); the template keeps what it holds out of the cyclic
collector's reach (a worker's collections never copy its pages); the template sleeps until a
worker ends instead of polling; and the wire format's shortcut for plain values refuses exactly
what it refused before."""
import os
import threading
import time

import pytest

from conftest import ROOT, children, run_grade, solution_folder
from grader.grading.engine import Expectations, grade, select_cases
from grader.model.assignment import load_assignment
from grader.sandbox import supervisor
from grader.sandbox.runtime import protocol


def _namespace_pids(pid: int) -> list[int]:
    """The pids of `pid` from the machine's PID namespace down to its own (NSpid)."""
    with open(f"/proc/{pid}/status") as f:
        return next([int(n) for n in line.split()[1:]] for line in f if line.startswith("NSpid:"))


def _watch_worker(tmp_path, monkeypatch, look):
    """Grade a submission whose import sleeps, calling `look(template pid)` until it returns
    something (or the grading ends); returns (result, what `look` returned)."""
    monkeypatch.setenv("GRADE_BACKEND", "template")
    from grader.sandbox import template as backend
    folder = solution_folder(tmp_path / "exercises")
    with open(folder / "softmax.py", "a") as f:
        f.write("\nimport time as _t\n_t.sleep(1.5)\n")  # time to look at the processes
    assignment = load_assignment(ROOT / "assignment.yaml")
    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment, ["softmax"]))
    template = backend.worker_template()
    template.check_memory(assignment.memory_mb)  # started and ready
    results = []
    grading = threading.Thread(target=lambda: results.append(grade(assignment, folder, plan)))
    grading.start()
    seen = None
    deadline = time.monotonic() + 20
    while seen is None and time.monotonic() < deadline and grading.is_alive():
        seen = look(template.pid)
        time.sleep(0.02)
    grading.join()
    assert results and all(c.status == "passed" for c in results[0].cases)
    return results[0], seen


def _pid_1_of_a_worker(template_pid):
    """(pid of the worker namespace's PID 1, how many processes stand between it and the template)."""
    below = [(child, 0) for child in children(template_pid)]
    while below:
        pid, depth = below.pop()
        try:
            if len(_namespace_pids(pid)) > 1 and _namespace_pids(pid)[-1] == 1 and children(pid):
                return pid, depth
        except (OSError, StopIteration):
            continue
        below += [(child, depth + 1) for child in children(pid)]
    return None


@pytest.mark.skipif(not supervisor.isolation_requested(), reason="no namespaces here")
def test_pid_1_of_a_worker_namespace_holds_nothing_of_the_machines_filesystem(tmp_path, monkeypatch):
    """While a worker runs, PID 1 of its namespace has the worker's new root as its root and working
    folder: the old root, detached, is reachable from no process."""
    def look(template_pid):
        found = _pid_1_of_a_worker(template_pid)
        if found is None:
            return None
        time.sleep(0.5)  # well inside the submission's sleep: the root is pivoted
        try:
            return os.stat(f"/proc/{found[0]}/root/"), os.stat(f"/proc/{found[0]}/cwd/")
        except OSError:
            return None
    result, seen = _watch_worker(tmp_path, monkeypatch, look)
    assert result.isolation["level"] == "namespaces"
    assert seen is not None, "no worker namespace seen"
    host_root = os.stat("/")
    for where in seen:  # the new root (a tmpfs of its own), never the machine's root
        assert (where.st_dev, where.st_ino) != (host_root.st_dev, host_root.st_ino)
    assert (seen[0].st_dev, seen[0].st_ino) == (seen[1].st_dev, seen[1].st_ino)  # its working folder: that root


@pytest.mark.skipif(not supervisor.isolation_requested() or os.geteuid() != 0, reason="root with namespaces only")
def test_as_root_pid_1_of_each_worker_namespace_is_the_templates_own_child(tmp_path, monkeypatch):
    """As root the template gives each worker its PID namespace itself: PID 1 is its child (no outer
    process between them), the worker PID 2, and the worker still runs under a uid of its own."""
    def look(template_pid):
        found = _pid_1_of_a_worker(template_pid)
        if found is None:
            return None
        pid_1, depth = found
        worker = children(pid_1)
        if not worker:
            return None
        time.sleep(0.5)
        with open(f"/proc/{worker[0]}/status") as f:
            uid = next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
        return depth, _namespace_pids(worker[0])[-1], uid, worker[0]
    result, seen = _watch_worker(tmp_path, monkeypatch, look)
    assert seen is not None, "no worker namespace seen"
    depth, pid_in_namespace, uid, host_pid = seen
    assert depth == 0 and pid_in_namespace == 2
    from grader.sandbox.runtime.jail import WORKER_UID_BASE
    assert WORKER_UID_BASE < uid < WORKER_UID_BASE + (1 << 22)  # its own (the pid of its PID 1 on this machine)
    assert result.isolation["level"] == "namespaces" and "uid of its own" in result.isolation["user"]


def test_a_worker_finds_the_templates_objects_frozen(tmp_path):
    """The template freezes what it holds before forking: a worker's collector has none of it to walk."""
    folder = solution_folder(tmp_path / "exercises")
    with open(folder / "softmax.py", "a") as f:
        f.write("\nimport gc as _gc\nprint('FROZEN', _gc.get_freeze_count())\n")
    done = run_grade(folder, "-k", "softmax", "--report", tmp_path / "r.html")
    assert done.returncode == 0, done.stdout + done.stderr
    counts = [int(line.split()[-1]) for line in done.stdout.splitlines() if "FROZEN" in line]
    assert counts and all(n > 10_000 for n in counts), done.stdout  # NumPy's objects, at least


def test_the_template_reaps_a_worker_as_it_ends_and_says_when_it_still_runs():
    from grader.sandbox.runtime import worker
    pid = os.fork()
    if pid == 0:
        time.sleep(0.05)
        os._exit(7)
    started = time.monotonic()
    status = worker._reap(pid, 5.0)
    assert os.waitstatus_to_exitcode(status) == 7
    assert time.monotonic() - started < 1.0  # not the whole timeout
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    try:
        started = time.monotonic()
        assert worker._reap(pid, 0.2) is None  # still running: no status, after the timeout
        assert 0.15 <= time.monotonic() - started < 5
    finally:
        os.kill(pid, 9)
        assert os.WIFSIGNALED(worker._reap(pid, 5.0))
    assert worker._reap(pid, 1.0) == 1 << 8  # reaped already: what the template said before


def _nested(kind, depth, leaf):
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else (value,) if kind == "tuple" else {"k": value}
    return value


@pytest.mark.parametrize("kind", ["list", "tuple", "dict"])
@pytest.mark.parametrize("leaf", [1, 2.5, None, True, "mot", "é"])
def test_plain_values_travel_as_before_up_to_the_depth_limit_and_no_further(kind, leaf):
    """Plain members of a container are taken without a call each: the depth they sit at is still
    checked, so a value nested one level too deep is refused, encoding and decoding alike."""
    deepest = _nested(kind, protocol.MAX_DEPTH, leaf)
    assert protocol.decode(protocol.encode(deepest), kinds=protocol.INPUT_KINDS) == deepest
    with pytest.raises(protocol.Unsupported):
        protocol.encode(_nested(kind, protocol.MAX_DEPTH + 1, leaf))
    # a peer that skips the check: the grader still refuses the tree it sends
    tree = _nested("list" if kind == "list" else kind, protocol.MAX_DEPTH + 1, leaf)
    import json
    import struct

    def raw(t):
        if isinstance(t, list):
            return [raw(v) for v in t]
        if isinstance(t, tuple):
            return {"$tuple": [raw(v) for v in t]}
        if isinstance(t, dict):
            return {"$dict": {k: raw(v) for k, v in t.items()}}
        return t
    header = json.dumps({"tree": raw(tree), "arrays": []}).encode()
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(struct.pack(">I", len(header)) + header)


def test_texts_a_peer_sends_with_lone_surrogates_are_repaired_in_keys_values_and_lists():
    import json
    import struct
    header = json.dumps({"tree": {"$dict": {"a\ud800": "b\udc00", "list": ["\ud800", "ok", 3]}}, "arrays": []}).encode()
    value = protocol.decode(struct.pack(">I", len(header)) + header)
    assert value == {"a\ufffd": "b\ufffd", "list": ["\ufffd", "ok", 3]}
    assert all(v.encode("utf-8") for v in (*value, value["a\ufffd"], *value["list"][:2]))


def test_special_floats_still_travel_tagged():
    for x in (float("nan"), float("inf"), float("-inf")):
        back = protocol.decode(protocol.encode({"x": [x, (x,)]}))
        assert repr(back["x"][0]) == repr(x) and repr(back["x"][1][0]) == repr(x)
