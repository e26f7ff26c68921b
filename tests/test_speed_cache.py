"""Issue 19's behaviour (never its timings): the user's cache is used, invalidated when what it
was derived from changes, and skipped silently when it cannot be written; a looping function
costs its submission one timeout; the `grade` process ends without the interpreter's teardown
but with everything written and nothing left behind, and only when the process is its own."""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT
from grader.model import usercache
from grader.model.assignment import load_assignment
from grader.model.errors import AssignmentError
from grader.sandbox.supervisor import GIVE_UP_AFTER, Outcome, Sandbox, Step


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("GRADE_CACHE_DIR", str(folder))
    return folder


def test_a_validated_assignment_is_read_from_the_cache_without_yaml_or_jsonschema(cache, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "assignment.yaml").write_text((ROOT / "assignment.yaml").read_text())
    first = load_assignment(course / "assignment.yaml")
    assert list(cache.glob("assignment-*.bin"))
    code = ("import sys; from grader.model.assignment import load_assignment; "
            f"a = load_assignment({str(course / 'assignment.yaml')!r}); "
            "print(a.max_score, len(list(a.cases())), 'yaml' in sys.modules, 'jsonschema' in sys.modules)")
    env = {**os.environ, "GRADE_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [str(first.max_score), str(len(list(first.cases()))), "False", "False"]


def test_a_changed_assignment_is_validated_again(cache, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    path = course / "assignment.yaml"
    text = (ROOT / "assignment.yaml").read_text()
    path.write_text(text)
    load_assignment(path)
    path.write_text(text.replace("timeout: 3.0", "timeout: -1"))  # invalid now: the cache must not hide it
    with pytest.raises(AssignmentError, match="timeout"):
        load_assignment(path)
    path.write_text(text.replace("timeout: 3.0", "timeout: 4.5"))
    assert load_assignment(path).timeout == 4.5


def test_a_corrupt_or_foreign_entry_is_a_miss_not_an_error(cache, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    path = course / "assignment.yaml"
    path.write_text((ROOT / "assignment.yaml").read_text())
    expected = load_assignment(path)
    for entry in cache.glob("assignment-*.bin"):
        key = entry.read_bytes().split(b"\n", 1)[0]
        entry.write_bytes(key + b"\n{not json")
    assert load_assignment(path).max_score == expected.max_score


def test_an_unwritable_cache_is_skipped_silently(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GRADE_CACHE_DIR", str(blocker / "cache"))  # cannot be made
    assert not usercache.write("x", "y", usercache.key(b"k"), b"data")
    assert usercache.read("x", "y", usercache.key(b"k")) is None
    assert load_assignment(ROOT / "assignment.yaml").max_score > 0


def test_an_empty_cache_setting_turns_the_cache_off(monkeypatch):
    monkeypatch.setenv("GRADE_CACHE_DIR", "")
    assert usercache.cache_dir() is None
    assert not usercache.write("x", "y", usercache.key(b"k"), b"data")


def test_the_cache_folder_follows_the_platforms_conventions(monkeypatch, tmp_path):
    monkeypatch.delenv("GRADE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform != "win32":
        assert usercache.cache_dir() == tmp_path / "xdg" / usercache.FOLDER


def test_a_key_changes_with_each_part(cache):
    assert usercache.key(b"a", b"b") != usercache.key(b"ab")
    assert usercache.write("k", "s", usercache.key(b"one"), b"1")
    assert usercache.read("k", "s", usercache.key(b"one")) == b"1"
    assert usercache.read("k", "s", usercache.key(b"two")) is None


def test_the_public_cases_file_is_decoded_once_then_read_from_the_cache(cache, tmp_path):
    from grader.grading.engine import Expectations, select_cases
    from grader.grading.public_cases import PublicCasesFile, write_public_cases

    assignment = load_assignment(ROOT / "assignment.yaml")
    public = [c for c in select_cases(assignment) if c.visibility == "public"][:6]
    plan = Expectations(assignment, use_reference=True).plan(public)
    path = tmp_path / "public_cases.npz"
    write_public_cases(path, assignment, plan.expected, plan.seed)
    first = PublicCasesFile(path)
    assert list(cache.glob("public-cases-*.bin"))
    second = PublicCasesFile(path)
    assert second.seed == first.seed and set(second.records) == set(first.records)
    for cid, record in first.records.items():
        assert repr(second.records[cid]) == repr(record)
    path.write_bytes(path.read_bytes()[:100])  # a truncated file is still an error, cache or not
    with pytest.raises(Exception, match="public_cases"):
        PublicCasesFile(path)


def test_catalogs_come_from_the_cache(cache, tmp_path):
    from grader.i18n import read_catalog
    catalog = tmp_path / "c.yaml"
    catalog.write_text("a:\n  b: hello\n")
    assert read_catalog(catalog) == {"a.b": "hello"}
    assert list(cache.glob("catalog-*.bin"))
    catalog.write_text("a:\n  b: bye\n")
    assert read_catalog(catalog) == {"a.b": "bye"}


def _sandbox_stub(calls=None):
    sandbox = Sandbox.__new__(Sandbox)
    sandbox.calls = calls or {}
    return sandbox


def test_one_timeout_gives_up_the_function_and_its_callers():
    steps = [Step("call", f"softmax/softmax/c{i}", 3.0, "softmax") for i in range(4)] + \
            [Step("call", "attention/attention_weights/c0", 3.0, "attention_weights")]
    outcomes = {"softmax/softmax/c0": Outcome("timeout")}
    _sandbox_stub({"attention_weights": {"softmax"}})._give_up_on_slow_groups(steps, outcomes)
    assert GIVE_UP_AFTER["timeout"] == 1
    assert all(outcomes[f"softmax/softmax/c{i}"].skipped for i in range(1, 4))
    assert outcomes["attention/attention_weights/c0"].status == "timeout"
    assert "1" in outcomes["softmax/softmax/c1"].detail.render()


def test_a_crash_gets_a_second_chance():
    steps = [Step("call", f"softmax/softmax/c{i}", 3.0, "softmax") for i in range(3)]
    outcomes = {"softmax/softmax/c0": Outcome("crash")}
    _sandbox_stub()._give_up_on_slow_groups(steps, outcomes)
    assert "softmax/softmax/c1" not in outcomes
    outcomes["softmax/softmax/c1"] = Outcome("crash")
    _sandbox_stub()._give_up_on_slow_groups(steps, outcomes)
    assert outcomes["softmax/softmax/c2"].skipped and outcomes["softmax/softmax/c2"].status == "crash"


def test_a_looping_function_costs_one_timeout_through_the_cli(tmp_path, solution):
    """Through the real CLI: one case of the looping function times out, the others are not run."""
    folder = tmp_path / "exercises"
    folder.mkdir()
    for source in solution.glob("*.py"):
        (folder / source.name).write_text(source.read_text())
    softmax = folder / "softmax.py"
    softmax.write_text(softmax.read_text().replace("def softmax(x, axis=-1):\n",
                                                   "def softmax(x, axis=-1):\n    while True:\n        pass\n"))
    proc = subprocess.run([sys.executable, "-m", "grader.cli", str(folder), "-k", "softmax", "--json",
                           str(tmp_path / "r.json"), "--report", str(tmp_path / "r.html")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    cases = [c for e in json.loads((tmp_path / "r.json").read_text())["exercises"] for c in e["cases"]
             if c["function"] == "softmax"]
    assert len(cases) > 2 and {c["status"] for c in cases} == {"timeout"}
    messages = [c["message"] or "" for c in cases]  # a hidden case's message is not shown to the student
    assert messages[0].startswith("took longer"), messages
    assert all(m.startswith("not run: 1 earlier case") for m in messages[1:] if m), messages


# --- the `grade` process: how it ends --------------------------------------------------------------

def _grade_process(tmp_path, solution, *args, env=None, probe=""):
    """The `grade` command as the console script runs it (`main()` with no arguments, which owns
    its process), with `probe` registered at exit first (so it runs after the grader's own exit
    handlers) to record what the process looked like at its end."""
    script = ("import atexit, sys\n" + probe + "\nfrom grader.cli import main\n"
              "sys.argv = ['grade', *sys.argv[1:]]\nsys.exit(main())\n")
    return subprocess.run([sys.executable, "-c", script, str(solution), "--no-color", "--json", str(tmp_path / "r.json"),
                           "--report", str(tmp_path / "out" / "r.html"), *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


def test_grade_ends_with_its_files_whole_and_its_folders_and_template_gone(tmp_path, solution):
    from grader.sandbox.tempfiles import PREFIX, read_owner
    probe = ("import os\n"
             "def _record():\n"
             f"    open({str(tmp_path / 'pid')!r}, 'w').write(str(os.getpid()))\n"
             "atexit.register(_record)\n")
    proc = _grade_process(tmp_path, solution, probe=probe)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("r.html"), proc.stdout[-300:]  # the summary, flushed, names the report
    report = (tmp_path / "out" / "r.html").read_text(encoding="utf-8")  # its folder made, the page whole
    assert report.rstrip().endswith("</html>")
    assert os.listdir(tmp_path / "out") == ["r.html"]  # written beside, then renamed: no temporary left
    assert json.loads((tmp_path / "r.json").read_text())["score"] == pytest.approx(100)
    pid = int((tmp_path / "pid").read_text())  # the exit handlers ran (this one last)
    left = [f for f in Path(tempfile.gettempdir()).glob(PREFIX + "*") if (read_owner(f) or {}).get("pid") == pid]
    assert left == []  # the template's folder and the submission's sandbox, removed
    alive = subprocess.run(["ps", "-eo", "ppid=,args="], capture_output=True, text=True).stdout.splitlines()
    assert not [line for line in alive if line.split(None, 1)[0] == str(pid)]  # its template is not left running


def test_the_grade_process_runs_without_a_collector_or_a_blas_thread_pool(tmp_path, solution):
    """One submission's run is short: no cyclic garbage collection, NumPy's BLAS on one thread
    (unless the user chose a number); the results are the same."""
    probe = ("import gc, os, threading\n"
             "def _record():\n"
             "    tasks = len(os.listdir('/proc/self/task')) if os.path.isdir('/proc/self/task') else -1\n"
             f"    open({str(tmp_path / 'probe')!r}, 'w').write(' '.join(map(str, [gc.isenabled(), "
             "os.environ.get('OPENBLAS_NUM_THREADS'), tasks, threading.active_count()])))\n"
             "atexit.register(_record)\n")
    proc = _grade_process(tmp_path, solution, probe=probe, env={"OPENBLAS_NUM_THREADS": ""})  # empty: unset
    assert proc.returncode == 0, proc.stderr
    enabled, blas, tasks, threads = (tmp_path / "probe").read_text().split()
    assert (enabled, blas) == ("False", "1")
    if tasks != "-1":  # Linux: the kernel's count of this process's threads, BLAS's included
        assert int(tasks) == int(threads), (tasks, threads)  # no thread but Python's own
    proc = _grade_process(tmp_path, solution, probe=probe, env={"OPENBLAS_NUM_THREADS": "2"})
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "probe").read_text().split()[:2] == ["False", "2"]  # the user's choice stands


def test_a_python_caller_keeps_its_process_its_collector_and_its_environment(tmp_path, solution):
    """`main([...])` from Python (a script, a test) returns: nothing of the above applies to it."""
    script = ("import gc, os, sys\nfrom grader.cli import main\n"
              f"code = main([{str(solution)!r}, '--quiet', '--no-color', '--report', {str(tmp_path / 'r.html')!r}])\n"
              "print('after', code, gc.isenabled(), os.environ.get('OPENBLAS_NUM_THREADS'))\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "after 0 True None"
    assert (tmp_path / "r.html").read_text(encoding="utf-8").rstrip().endswith("</html>")


def test_end_process_flushes_runs_the_exit_handlers_and_keeps_the_status(tmp_path):
    marker = tmp_path / "handler"
    script = ("import atexit, sys\nfrom grader.cli import end_process\n"
              f"atexit.register(lambda: open({str(marker)!r}, 'w').write('ran'))\n"
              "sys.stdout.write('buffered, no newline')\n"  # a pipe: block-buffered until flushed
              "end_process(5)\nprint('not reached')\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (5, "buffered, no newline")
    assert marker.read_text() == "ran"


def test_end_process_lets_a_running_thread_finish(tmp_path):
    """A thread someone else started (not a daemon) expects to finish: the normal exit follows."""
    marker = tmp_path / "thread"
    script = ("import threading, time\nfrom grader.cli import end_process\n"
              f"threading.Thread(target=lambda: (time.sleep(0.3), open({str(marker)!r}, 'w').write('done'))).start()\n"
              "end_process(5)\nprint('returned')\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "returned\n")
    assert marker.read_text() == "done"


def test_a_file_written_without_fsync_is_still_replaced_whole(tmp_path, monkeypatch):
    from grader.model import files
    target = tmp_path / "report.html"
    target.write_text("old")
    synced = []
    monkeypatch.setattr(files.os, "fsync", lambda fd: synced.append(fd))
    files.atomic_write(target, "new page", durable=False)
    assert target.read_text() == "new page" and synced == [] and os.listdir(tmp_path) == ["report.html"]
    files.atomic_write(target, "durable page")
    assert target.read_text() == "durable page" and len(synced) == 2  # the file, then its folder
    with pytest.raises(OSError):
        with files.atomic_writer(target, durable=False) as f:  # a write that fails halfway
            f.write(b"half a pa")
            raise OSError(28, "No space left on device")
    assert target.read_text() == "durable page" and os.listdir(tmp_path) == ["report.html"]


def test_the_worker_template_starts_before_the_grader_imports_numpy_or_the_assignment(tmp_path, solution):
    """What `grade` imports before its template's start delays the workers: only the standard
    library's and the template's own modules come first."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "grader.cli", str(solution), "--quiet",
                           "--no-color", "--report", str(tmp_path / "r.html")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    order = [line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    started = order.index("grader.sandbox.template")
    assert "numpy" in order[started:] and "grader.model.assignment" in order[started:]
    assert not [name for name in order[:started] if name.split(".")[0] in ("numpy", "jinja2", "yaml")
                or name in ("grader.model.assignment", "grader.grading.engine", "grader.sandbox.supervisor")]


def test_the_variants_outputs_are_decoded_only_when_diagnosis_asks(cache, tmp_path):
    """Most of the public-cases file is the mistakes' outputs: a run where everything passes
    never decodes them; a failing case does, from their own cache entry, or from the file when
    that entry is gone."""
    from grader.grading.diagnosis import load_mistakes
    from grader.grading.engine import Expectations, select_cases
    from grader.grading.public_cases import PublicCasesFile, public_diagnoser, write_public_cases

    assignment = load_assignment(ROOT / "assignment.yaml")
    public = [c for c in select_cases(assignment) if c.visibility == "public" and c.exercise == "softmax"][:4]
    plan = Expectations(assignment, use_reference=True).plan(public)
    path = tmp_path / "public_cases.npz"
    write_public_cases(path, assignment, plan.expected, plan.seed, load_mistakes(assignment))
    fresh = PublicCasesFile(path)  # read from the file: everything decoded, both entries written
    assert list(cache.glob("public-variants-*.bin"))
    cached = PublicCasesFile(path)
    assert cached._variants is None and all("variants" not in r for r in cached.records.values())
    stored = public_diagnoser(assignment, cached).stored
    assert cached._variants is None  # building the diagnoser decodes nothing
    cid = public[0].id
    assert stored.get(cid) and repr(stored[cid]) == repr(fresh.variants()[cid])
    for entry in cache.glob("public-variants-*.bin"):
        entry.unlink()
    again = PublicCasesFile(path)
    assert repr(again.variants()) == repr(fresh.variants())
