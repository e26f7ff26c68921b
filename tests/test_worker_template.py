"""The worker template: one per grader process, one fresh fork per worker, nothing of the
template but its memory in a worker, and a template that dies is replaced."""
import os
import signal

import pytest

from conftest import ROOT, run_grade
from grader.sandbox import template as sandbox  # the template backend (Linux, macOS)
from grader.model.assignment import load_assignment
from grader.grading.engine import Expectations, grade, select_cases


@pytest.fixture(autouse=True)
def template_backend(monkeypatch):
    """These tests are about the template: whatever backend the run forces elsewhere."""
    monkeypatch.setenv("GRADE_BACKEND", "template")


@pytest.fixture(scope="module")
def plan():
    assignment = load_assignment(ROOT / "assignment.yaml")
    cases = select_cases(assignment, ["softmax"])
    return assignment, Expectations(assignment, use_reference=True).plan(cases)


def spawned_pids(monkeypatch) -> list:
    seen = []
    spawn = sandbox.WorkerTemplate.spawn

    def recording(self, spec, fds):
        pid = spawn(self, spec, fds)
        seen.append((self.pid, pid))
        return pid
    monkeypatch.setattr(sandbox.WorkerTemplate, "spawn", recording)
    return seen


def test_one_template_per_process_and_a_fresh_fork_for_every_worker(plan, solution, monkeypatch):
    assignment, chosen = plan
    seen = spawned_pids(monkeypatch)
    for _ in range(3):
        result = grade(assignment, solution, chosen)
        assert result.all_passed
    templates = {template for template, _ in seen}
    workers = [worker for _, worker in seen]
    assert len(templates) == 1 and len(workers) == 3 and len(set(workers)) == 3
    for pid in workers:  # reaped: not even a zombie left
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_template_that_died_is_replaced_and_grading_goes_on(plan, solution, monkeypatch):
    assignment, chosen = plan
    old = sandbox.worker_template()
    old.check_memory(assignment.memory_mb)  # started and ready
    os.kill(old.pid, signal.SIGKILL)
    old.process.wait(timeout=10)
    seen = spawned_pids(monkeypatch)
    result = grade(assignment, solution, chosen)
    assert result.all_passed
    assert seen and seen[0][0] != old.pid


def test_a_template_killed_while_it_answers_costs_no_result(plan, solution, monkeypatch):
    """The template dies between two commands: the spawn is retried once on a new template."""
    assignment, chosen = plan
    template = sandbox.worker_template()
    template.check_memory(assignment.memory_mb)
    spawn = sandbox.WorkerTemplate.spawn
    killed = []

    def dying(self, spec, fds):
        if not killed:
            killed.append(self.pid)
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        return spawn(self, spec, fds)
    monkeypatch.setattr(sandbox.WorkerTemplate, "spawn", dying)
    result = grade(assignment, solution, chosen)
    assert killed and result.all_passed


def test_a_worker_holds_none_of_the_templates_descriptors(tmp_path, solution):
    """What a submission sees of its own descriptors: stdin, stdout, stderr (the log) and its
    result pipe — not the template's control socket (no spawning, no reaping)."""
    sub = tmp_path / "exercises"
    sub.mkdir()
    for path in solution.iterdir():
        (sub / path.name).write_bytes(path.read_bytes())
    with open(sub / "softmax.py", "a") as f:
        f.write("\nimport os as _o\nfor _n in sorted(int(n) for n in _o.listdir('/proc/self/fd')):\n"
                "    try:\n        print('FD', _n, _o.readlink('/proc/self/fd/%d' % _n))\n"
                "    except OSError:\n        pass\n")
    done = run_grade(sub, "-k", "softmax", "--report", tmp_path / "r.html")
    assert done.returncode == 0, done.stdout + done.stderr
    kinds = [k for line in done.stdout.splitlines() for k in [line.rsplit(" ", 1)[-1]] if "FD " in line]
    assert len(kinds) >= 4, done.stdout  # stdin, stdout, stderr, the result pipe at least
    assert not [k for k in kinds if k.startswith("socket:")], kinds  # no control socket
    assert len([k for k in kinds if k.startswith("pipe:")]) <= 1, kinds  # the result pipe, nothing else


def test_shared_inputs_travel_once_and_each_worker_changes_only_its_own_copy(solution, tmp_path, monkeypatch):
    """From the second worker on, the inputs every student shares (public cases) are decoded once
    by the template and referred to by key; a submission that changes them in place changes its
    own fork's copy: it is caught as before, and the next student's worker gets them untouched."""
    assignment = load_assignment(ROOT / "assignment.yaml")
    expectations = Expectations(assignment, use_reference=True)
    cases = select_cases(assignment, ["softmax"])
    changer = tmp_path / "changer" / "exercises"
    changer.mkdir(parents=True)
    for path in solution.iterdir():
        if path.is_file():
            (changer / path.name).write_bytes(path.read_bytes())
    text = (changer / "softmax.py").read_text()
    old = "    e = np.exp(x - np.max(x, axis=axis, keepdims=True))"
    assert old in text
    (changer / "softmax.py").write_text(text.replace(old, (
        "    if isinstance(x, np.ndarray) and x.dtype.kind == 'f' and x.size:\n"
        "        x -= np.max(x, axis=axis, keepdims=True)  # the same values, computed in place\n"
        "        e = np.exp(x)\n    else:\n    " + old)))
    sandbox.discard_template()  # a fresh template: its first worker gets every input in its request
    sent = []
    refer = sandbox.WorkerTemplate.refer

    def recording(self, message):
        referred = refer(self, message)
        sent.append(referred["calls"])
        return referred
    monkeypatch.setattr(sandbox.WorkerTemplate, "refer", recording)

    def modified(result):
        return {c.id for c in result.cases if c.said is not None and c.said.code == "compare.modified_input"}
    first = grade(assignment, changer, expectations.plan(cases, student="ann"))
    second = grade(assignment, changer, expectations.plan(cases, student="bob"))
    correct = grade(assignment, solution, expectations.plan(cases, student="cid"))
    plan = expectations.plan(cases, student="dan")
    shared = {c.id for c in cases if c.id in plan.shared}
    assert shared and shared != {c.id for c in cases}  # public cases shared, hidden ones each student's own
    assert all("args" in call for call in sent[0])  # the first worker: everything in its request
    for calls in sent[1:]:
        assert {call["id"] for call in calls if "preloaded" in call} == shared
        assert all("args" in call for call in calls if call["id"] not in shared)
    assert set(sandbox.worker_template().preloaded) == shared
    # had the first worker's change reached the template, the second would subtract a max of 0: unchanged
    assert modified(first) & shared and modified(first) & shared == modified(second) & shared
    assert correct.all_passed, [(c.id, c.message) for c in correct.cases if c.status != "passed"]
