"""The worker's start, made cheaper without changing what a submission sees: the template runs
without `site` (Linux), from the compiled copies of its runtime, writes no .pyc anywhere, and a
worker imports a student's module from the code the grader compiled when it read it — never
from a .pyc the student sent."""
import importlib.util
import marshal
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from grader.grading.engine import grade
from grader.grading.submission import load_submission
from grader.sandbox import platforms, runtime_files
from grader.sandbox import template as sandbox
from test_worker_template import plan, template_backend  # noqa: F401  (fixtures: the template backend, softmax's plan)


def copy_of(solution, target: Path) -> Path:
    target.mkdir(parents=True)
    for path in solution.iterdir():
        if path.is_file():
            shutil.copy2(path, target / path.name)
    return target


def printed(result) -> str:
    return "\n".join(str(n) for n in result.notes)


def test_a_worker_runs_isolated_without_site_and_writes_no_bytecode_with_exit_and_quit_as_usual(plan, solution,
                                                                                              tmp_path):
    assignment, chosen = plan
    sub = copy_of(solution, tmp_path / "exercises")
    with open(sub / "softmax.py", "a") as f:
        f.write("\nimport sys as _s\nprint('FLAGS', _s.flags.isolated, _s.flags.no_site, _s.flags.dont_write_bytecode,"
                " type(exit).__name__, type(quit).__name__, 'site' in _s.modules)\n")
    result = grade(assignment, sub, chosen)
    assert result.all_passed
    without_site = 1 if platforms.seqpacket_supported() else 0
    assert f"FLAGS 1 {without_site} 1 Quitter Quitter True" in printed(result)


def test_exit_at_import_is_still_a_system_exit(plan, solution, tmp_path):
    """Without `site`, exit() would be a NameError: the launcher puts site's exit and quit back."""
    assignment, chosen = plan
    sub = copy_of(solution, tmp_path / "exercises")
    with open(sub / "softmax.py", "a") as f:
        f.write("\nexit(3)\n")
    result = grade(assignment, sub, chosen)
    text = printed(result) + str([e.problems for e in result.exercises])
    assert "SystemExit" in text and "NameError" not in text


def test_the_runtime_copy_carries_current_compiled_code_and_the_template_writes_none(plan, solution, monkeypatch):
    assignment, chosen = plan
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # PYTHONDONTWRITEBYTECODE: nothing to copy
    sandbox.discard_template()
    template = sandbox.worker_template()
    template.check_memory(assignment.memory_mb)
    cached = template.dir / "__pycache__"
    for name in runtime_files.RUNTIME_FILES:  # what the template's import checks, on its copy
        pyc = Path(importlib.util.cache_from_source(str(template.dir / name)))
        assert pyc.exists() and runtime_files._current(pyc, (template.dir / name).stat()), name
    before = {p.name: p.stat().st_mtime_ns for p in template.dir.rglob("*")}
    assert grade(assignment, solution, chosen).all_passed
    after = {p.name: p.stat().st_mtime_ns for p in template.dir.rglob("*") if p.name != "template.log"}
    assert after == {k: v for k, v in before.items() if k != "template.log"}
    assert sorted(p.name for p in cached.iterdir()) == sorted(
        Path(importlib.util.cache_from_source(n)).name for n in runtime_files.RUNTIME_FILES)


def test_a_stale_package_pyc_is_compiled_again_or_left_to_the_worker(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    source = tmp_path / "mod.py"
    source.write_text("A = 1\n")
    compiled = runtime_files._compiled(source)
    assert compiled is not None and runtime_files._current(compiled, source.stat())
    source.write_text("A = 22\n")  # another size (and maybe mtime): the old .pyc no longer matches
    assert not runtime_files._current(compiled, source.stat())
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert runtime_files._compiled(source) is None  # not written: the worker compiles its copy
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    again = runtime_files._compiled(source)
    assert again == compiled and runtime_files._current(again, source.stat())
    namespace = {}
    exec(marshal.loads(again.read_bytes()[16:]), namespace)
    assert namespace["A"] == 22


def test_the_worker_imports_the_code_the_grader_compiled(plan, solution, tmp_path, monkeypatch):
    """The staged .pyc is what the worker runs: replaced here by other code, that code runs."""
    assignment, chosen = plan
    sub = copy_of(solution, tmp_path / "exercises")
    submission = load_submission(sub, assignment.package)
    assert set(submission.compiled) == {n for n in submission.files if n != "__init__.py"} | (
        {"__init__.py"} if "__init__.py" in submission.files else set())
    text = submission.files["softmax.py"].decode()
    submission.compiled["softmax.py"] = marshal.dumps(compile(text + "\nprint('RAN THE GRADERS CODE')\n",
                                                              "softmax.py", "exec", dont_inherit=True))
    result = grade(assignment, submission, chosen)
    assert result.all_passed and "RAN THE GRADERS CODE" in printed(result)


def test_a_pyc_the_student_sends_is_never_run(plan, solution, tmp_path):
    """A forged .pyc in the submission's __pycache__, its header matching the source's mtime and
    size: never staged, so never run, even for a module the grader left the worker to compile."""
    assignment, chosen = plan
    sub = copy_of(solution, tmp_path / "exercises")
    with open(sub / "softmax.py", "a") as f:
        f.write("\n_x = 1 is 1  # a SyntaxWarning: this module is compiled by the worker\n")
    source = sub / "softmax.py"
    forged = compile("print('FORGED CODE RAN')\n", str(source), "exec")
    stat = source.stat()
    header = importlib.util.MAGIC_NUMBER + bytes(4) + int(stat.st_mtime).to_bytes(4, "little") \
        + stat.st_size.to_bytes(4, "little")
    pyc = Path(importlib.util.cache_from_source(str(source)))
    pyc.parent.mkdir()
    pyc.write_bytes(header + marshal.dumps(forged))
    submission = load_submission(sub, assignment.package)
    assert "softmax.py" not in submission.compiled  # the warning: left to the worker, which shows it
    result = grade(assignment, submission, chosen)
    assert result.all_passed
    assert "FORGED" not in printed(result)
    assert "SyntaxWarning" in printed(result)  # printed by the worker's compiler, as before


def test_a_traceback_through_the_graders_code_names_the_students_file_line_and_text(plan, solution, tmp_path):
    assignment, chosen = plan
    sub = copy_of(solution, tmp_path / "exercises")
    lines = (sub / "softmax.py").read_text().splitlines()
    where = next(i for i, line in enumerate(lines) if line.strip().startswith("e = np.exp("))
    indent = lines[where][:len(lines[where]) - len(lines[where].lstrip())]
    lines.insert(where, indent + "raise ValueError('planted')")
    (sub / "softmax.py").write_text("\n".join(lines) + "\n")
    submission = load_submission(sub, assignment.package)
    assert "softmax.py" in submission.compiled
    result = grade(assignment, submission, chosen)
    raised = [c for c in result.cases if c.status != "passed"]
    assert raised
    shown = str(raised[0].details) + str(raised[0].message)
    assert f"softmax.py, line {where + 1}" in shown and "raise ValueError('planted')" in shown, shown
    assert str(tmp_path) not in shown  # the staged file's name, relative, as before


# --- grade bulk's process, and the cases' seeds ---------------------------------------------------

def _bulk_process(tmp_path, env):
    """`grade bulk` as the console script runs it (main() owning its process), recording at exit
    what its environment and collector were."""
    import subprocess
    subs = tmp_path / "subs"
    subs.mkdir(parents=True)
    probe = ("import atexit, gc, os\n"
             f"atexit.register(lambda: open({str(tmp_path / 'probe')!r}, 'w').write("
             "' '.join([str(gc.isenabled()), str(os.environ.get('OPENBLAS_NUM_THREADS')), "
             "str(os.environ.get('MKL_NUM_THREADS'))])))\n")
    script = probe + "import sys\nfrom grader.cli import main\nsys.argv = ['grade', *sys.argv[1:]]\nsys.exit(main())\n"
    subprocess.run([sys.executable, "-c", script, "bulk", str(subs), "--out", str(tmp_path / "out"), "-j", "1"],
                   cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env}, timeout=300)
    return (tmp_path / "probe").read_text().split()


def test_grade_bulk_runs_blas_on_one_thread_unless_the_user_chose(tmp_path):
    env = {"OPENBLAS_NUM_THREADS": "", "MKL_NUM_THREADS": ""}  # empty: unset
    assert _bulk_process(tmp_path / "a", env) == ["True", "1", "1"]  # the collector stays: a class is long
    assert _bulk_process(tmp_path / "b", {"OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": ""}) == ["True", "2", "1"]


def test_a_case_seed_is_the_same_hashed_once(monkeypatch):
    import hashlib
    from grader.grading import cases
    case_id = f"softmax/softmax/seed-test-{time.time_ns()}"
    expected = [7, int.from_bytes(hashlib.sha256(case_id.encode()).digest()[:8], "little")]
    assert cases.case_seed(7, case_id) == expected
    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(cases.hashlib, "sha256", lambda data: calls.append(data) or real(data))
    assert cases.case_seed(7, case_id) == expected and cases.case_seed(8, case_id) == [8, expected[1]]
    assert calls == []  # the digest came from the cache


# --- what the caller does while the first worker starts --------------------------------------------

def test_on_worker_started_is_called_once_right_after_the_first_worker_is_forked(plan, solution, tmp_path,
                                                                                monkeypatch):
    assignment, chosen = plan
    sub = copy_of(solution, tmp_path / "exercises")  # a crash at every call: several workers in turn
    text = (sub / "softmax.py").read_text()
    (sub / "softmax.py").write_text(text.replace("def softmax(x, axis=-1):\n",
                                                 "def softmax(x, axis=-1):\n    import os; os._exit(9)\n"))
    events = []
    spawn = sandbox.WorkerTemplate.spawn
    monkeypatch.setattr(sandbox.WorkerTemplate, "spawn", lambda self, spec, fds: events.append("spawn")
                        or spawn(self, spec, fds))
    result = grade(assignment, sub, chosen, on_worker_started=lambda: events.append("started"))
    assert not result.all_passed
    assert events.count("spawn") > 1 and events.count("started") == 1
    assert events.index("started") == 1  # after the first worker, before the second


def test_grade_loads_the_report_only_once_the_first_worker_is_started(solution, tmp_path, monkeypatch):
    from grader import cli
    events = []
    spawn = sandbox.WorkerTemplate.spawn
    monkeypatch.setattr(sandbox.WorkerTemplate, "spawn", lambda self, spec, fds: events.append("spawn")
                        or spawn(self, spec, fds))
    preload = cli._preload_report
    monkeypatch.setattr(cli, "_preload_report", lambda: events.append("report loader") or preload())
    code = cli.main([str(solution), "-k", "softmax", "--quiet", "--no-color", "--report", str(tmp_path / "r.html")])
    assert code == 0 and (tmp_path / "r.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert events[0] == "spawn" and events.count("report loader") == 1


def test_close_later_reaps_the_worker_and_removes_the_sandbox_in_a_thread_joined_at_the_end(plan, solution,
                                                                                          monkeypatch):
    from grader.sandbox import supervisor
    assignment, chosen = plan
    closing, workers = [], []
    close_later = supervisor.Sandbox.close_later
    monkeypatch.setattr(supervisor.Sandbox, "close_later", lambda self: closing.append(self) or close_later(self))
    spawn = sandbox.WorkerTemplate.spawn
    monkeypatch.setattr(sandbox.WorkerTemplate, "spawn", lambda self, spec, fds: workers.append(spawn(self, spec, fds))
                        or workers[-1])
    result = grade(assignment, solution, chosen, close_later=True)
    assert result.all_passed and len(closing) == 1 and len(workers) == 1
    supervisor.join_closing()
    assert not closing[0].dir.exists() and closing[0].stopped is None
    with pytest.raises(ProcessLookupError):  # reaped: not even a zombie left
        os.kill(workers[0], 0)
    assert supervisor._CLOSING == []
