"""`grade bulk` survives its students: whatever fails while grading one student costs that
student alone (status `error`, the reason in plain words), the class files always list
everyone, a pool process killed or stuck is replaced, and the temporary folders of a killed
run are removed at the next start. Through the real CLI."""
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from classgen import make_class
from conftest import ROOT, children, run_grade, validate_result

LINUX = sys.platform.startswith("linux")


def results_of(out: Path) -> dict:
    return {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}


def summary_of(proc) -> str:
    """`grade bulk`'s output after its first line (what this platform contains)."""
    first, _, rest = proc.stdout.partition("\n")
    assert first.startswith("isolation: "), proc.stdout
    return rest


def check_complete(out: Path, students: set):
    """Every student has a result and a report, and every class file lists every student once."""
    results = results_of(out)
    assert set(results) == students
    for sid, r in results.items():
        assert (out / "reports" / f"{sid}.html").is_file(), sid
        if r["status"] == "error":  # not (yet) in the schema's statuses: the rest of it holds
            validate_result({**r, "status": "invalid"})
            assert r["score"] == 0 and r["exercises"] == [] and r["notes"][0].startswith("not graded: ")
            assert "Traceback" not in r["notes"][0] and 'File "' not in r["notes"][0]
        else:
            validate_result(r)
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["student"]["id"] for r in lines] == sorted(students)
    with open(out / "gradebook.csv", encoding="utf-8-sig") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == students
    for sid, row in rows.items():
        assert row["status"] == results[sid]["status"]
    moodle = (out / "gradebook-moodle.csv").read_text(encoding="utf-8-sig")
    canvas = (out / "gradebook-canvas.csv").read_text(encoding="utf-8-sig")
    index = (out / "index.html").read_text(encoding="utf-8")
    for sid in students:
        assert f"reports/{sid}.html" in index, sid
    assert moodle and canvas
    assert not list(out.rglob(".*.tmp"))
    return results


def pool_processes(pid: int) -> list:
    """The pool processes of the `grade bulk` whose pid is `pid` (its children)."""
    return [c for c in children(pid) if "grader" in _cmdline(c) or _cmdline(c).startswith(sys.executable)]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def bulk(subs, out, *args, env=None):
    command = [sys.executable, "-m", "grader.cli", "bulk", str(subs), "--out", str(out), *map(str, args)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)


def finish(process, timeout=600):
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


# --- one student's failure --------------------------------------------------------------------

def failing_engine(victim: str) -> str:
    """Python that makes the engine raise for `victim` alone: a stand-in for a bug in the grader
    that one hostile submission reaches (run in the `grade bulk` process before its pool forks,
    or on each Dask worker as a preload)."""
    return (
        "import grader.grading.engine as engine\n"
        "real = getattr(engine.grade, 'real', engine.grade)  # once, however often this runs\n"
        "def grade(*args, student=None, **kwargs):\n"
        f"    if (student or {{}}).get('id') == {victim!r}:\n"
        "        raise ValueError('a hostile value reached a grader bug')\n"
        "    return real(*args, student=student, **kwargs)\n"
        "grade.real = real\n"
        "engine.grade = grade\n")


BROKEN_OVERVIEW = (
    "import grader.report.class_overview as class_report\n"
    "def broken(*args, **kwargs):\n"
    "    raise RecursionError('maximum recursion depth exceeded')\n"
    "class_report.write_class_report = broken\n")

NOTE = ("not graded: the grader failed on this submission (ValueError: a hostile value reached a grader bug); "
        "the details are in grading-errors.log beside the results")


@pytest.mark.skipif(not LINUX, reason="the pool forks from the patched process on Linux only")
def test_a_grader_bug_on_one_student_is_their_error_with_the_traceback_in_the_log(tmp_path):
    """Stand-ins for bugs a hostile submission may reach (the test patches them into the `grade
    bulk` process; its pool processes fork from it): the engine raises for one student, and the
    class overview cannot be built. That student's error; every class file still lists everyone
    (the overview as a plain list); the next run tries that student again, and only them."""
    subs = tmp_path / "submissions"
    expected = make_class(subs, 4, {"correct": 1.0}, seed=6, naming="plain-folders")
    victim = sorted(expected)[1]
    out = tmp_path / "out"
    script = failing_engine(victim) + BROKEN_OVERVIEW + "import sys\nfrom grader.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    command = [sys.executable, "-c", script, "bulk", str(subs), "--out", str(out), "-j", "2", "--quiet"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    assert summary_of(done).startswith("3 graded, 0 already graded"), done.stdout
    assert "1 error, 3 ok" in done.stdout
    assert f"grade: error: {victim} could not be graded: the grader failed on this submission" in done.stderr
    assert "1 student could not be graded" in done.stderr and "grading-errors.log" in done.stderr
    assert ("grade: error: index.html could not be built (RecursionError: maximum recursion depth exceeded): "
            "a bug in the grader") in done.stderr
    assert "The class overview could not be built" in (out / "index.html").read_text()
    results = check_complete(out, set(expected))
    assert results[victim]["status"] == "error" and results[victim]["notes"] == [NOTE]
    assert all(results[sid]["status"] == "ok" and results[sid]["score"] == pytest.approx(100)
               for sid in expected if sid != victim)
    log = (out / "grading-errors.log").read_text()
    assert victim in log and "Traceback (most recent call last)" in log and "a hostile value" in log
    # the next run tries that student again (not the others), and says why
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 2
    assert summary_of(again).startswith("0 graded, 3 already graded"), again.stdout
    assert "1 regraded: they could not be graded last time" in again.stdout


# --- the pool ---------------------------------------------------------------------------------

@pytest.mark.skipif(not LINUX, reason="reads the process tree in /proc")
def test_a_pool_process_killed_mid_run_costs_only_its_student(tmp_path):
    """The OOM killer's way: SIGKILL to a pool process while it grades. Its student gets an error
    result, a fresh process takes over, every other student is graded; the next run regrades
    that student alone."""
    subs = tmp_path / "submissions"
    expected = make_class(subs, 4, {"asleep": 1.0}, seed=7, naming="plain-folders")  # ~8 s each
    out = tmp_path / "out"
    process = bulk(subs, out, "-j", "2", "--quiet")
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        for pid in pool_processes(process.pid):
            templates = children(pid)
            if any(children(template) for template in templates):  # a worker runs: it grades someone
                victim = pid
                break
        time.sleep(0.05)
    assert victim is not None, "no pool process was seen grading"
    os.kill(victim, signal.SIGKILL)
    done = finish(process)
    assert done.returncode == 2, (done.stdout, done.stderr[-3000:])
    results = check_complete(out, set(expected))
    errors = {sid: r for sid, r in results.items() if r["status"] == "error"}
    assert len(errors) == 1, {sid: r["status"] for sid, r in results.items()}
    assert "the process grading it died (killed by SIGKILL" in next(iter(errors.values()))["notes"][0]
    assert all(r["status"] == "timeout" for sid, r in results.items() if sid not in errors)
    assert not Path(f"/proc/{victim}").exists() or "zombie" in Path(f"/proc/{victim}/status").read_text()
    again = run_grade("bulk", subs, "--out", out, "-j", "2", "--quiet", timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert summary_of(again).startswith("1 graded, 3 already graded"), again.stdout
    assert "1 regraded: they could not be graded last time" in again.stdout


@pytest.mark.skipif(not LINUX, reason="reads the process tree in /proc")
def test_a_stuck_pool_process_is_stopped_after_the_budget_and_a_margin(tmp_path):
    """A pool process that stops making progress (SIGSTOP: a grader stuck in a bug) holds its
    student past --budget + margin: the student gets an error « took too long », the process is
    replaced, the others are graded. (The margin, 20 s by default, is GRADE_BULK_MARGIN=2 here:
    the same deadline, 18 s less waiting.)"""
    subs = tmp_path / "submissions"
    expected = make_class(subs, 8, {"correct": 1.0}, seed=8, naming="plain-folders")
    out = tmp_path / "out"
    started = time.monotonic()
    process = bulk(subs, out, "-j", "2", "--budget", "2", "--quiet", env={**os.environ, "GRADE_BULK_MARGIN": "2"})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "results").glob("*.json")):
        time.sleep(0.02)
    stuck = pool_processes(process.pid)[0]
    os.kill(stuck, signal.SIGSTOP)
    done = finish(process)
    seconds = time.monotonic() - started
    assert done.returncode == 2, (done.stdout, done.stderr[-3000:])
    results = check_complete(out, set(expected))
    errors = {sid: r for sid, r in results.items() if r["status"] == "error"}
    assert len(errors) == 1, {sid: r["status"] for sid, r in results.items()}
    note = next(iter(errors.values()))["notes"][0]
    assert note == "not graded: its grading took too long (over 4 s): it was stopped", note   # 2 + 2 + 10 % of 2
    assert all(r["status"] == "ok" for sid, r in results.items() if sid not in errors)
    assert 4.2 <= seconds < 100
    assert not Path(f"/proc/{stuck}").exists() or "zombie" in Path(f"/proc/{stuck}/status").read_text()


def test_the_margin_past_the_budget_is_20_s_or_a_number_of_seconds_given(tmp_path, monkeypatch):
    from grader.bulk.student import time_limit

    assert time_limit(300.0) == pytest.approx(350.0)   # 300 + 20 + 10 % of 300
    monkeypatch.setenv("GRADE_BULK_MARGIN", "5")
    assert time_limit(10.0) == pytest.approx(16.0) and time_limit(10.0, margin=0.0) == pytest.approx(11.0)
    for wrong in ("soon", "-1", "nan", "inf"):
        done = subprocess.run([sys.executable, "-m", "grader.cli", "bulk", str(tmp_path / "none"), "--out",
                               str(tmp_path / "o")],
                              cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "GRADE_BULK_MARGIN": wrong, "GRADE_LANG": "en"})
        assert done.returncode == 2 and f"GRADE_BULK_MARGIN={wrong} is not a number of seconds" in done.stderr, \
            (wrong, done.stderr[-1500:])
        assert "Traceback" not in done.stderr


def test_the_budget_reaches_the_sandbox_and_must_be_positive(tmp_path):
    subs = tmp_path / "submissions"
    make_class(subs, 1, {"asleep": 1.0}, seed=9, naming="plain-folders")
    out = tmp_path / "out"
    done = run_grade("bulk", subs, "--out", out, "--budget", "1", "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (result,) = results_of(out).values()
    messages = [c["message"] for e in result["exercises"] for c in e["cases"]]
    assert any("time budget (1 s" in m for m in messages), messages[:5]
    for wrong in ("0", "-3", "nan", "inf"):
        refused = run_grade("bulk", subs, "--out", out, "--budget", wrong)
        assert refused.returncode == 2 and "--budget needs a positive number of seconds" in refused.stderr, wrong


# --- resume is keyed to what was graded -------------------------------------------------------

def course_copy(target: Path) -> Path:
    """The course repository as an instructor has it (assignment, reference, course code,
    stubs) and this grader beside it, in a folder the test may change."""
    import shutil
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    target.mkdir(parents=True)
    shutil.copy2(ROOT / "assignment.yaml", target / "assignment.yaml")
    for name in ("reference", "course", "exercises", "grader"):
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    return target


def test_a_rerun_regrades_what_changed_and_says_why(tmp_path):
    course = course_copy(tmp_path / "course")
    subs = tmp_path / "submissions"
    expected = make_class(subs, 3, {"correct": 1.0}, seed=10, naming="plain-folders")
    out = tmp_path / "out"

    def run(*args):
        # one pool process: what is checked is what gets regraded, not the pool (half the start-up)
        done = run_grade("bulk", subs, "--out", out, "-j", "1", "--quiet", *args, cwd=course, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return summary_of(done)

    first = run()
    assert first.startswith("3 graded, 0 already graded") and "regraded" not in first, first
    assert {r["student"]["graded_with"]["language"] for r in results_of(out).values()} == {"en"}
    unchanged = run()
    assert unchanged.startswith("0 graded, 3 already graded") and "regraded" not in unchanged, unchanged

    # the instructor fixes a tolerance
    yaml_path = course / "assignment.yaml"
    text = yaml_path.read_text()
    assert "block: {rtol: 1.0e-5, atol: 1.0e-6}" in text
    yaml_path.write_text(text.replace("block: {rtol: 1.0e-5, atol: 1.0e-6}", "block: {rtol: 2.0e-5, atol: 1.0e-6}"))
    tolerance = run()
    assert tolerance.startswith("3 graded, 0 already graded"), tolerance
    assert "3 regraded: the course changed (assignment.yaml)\n" in tolerance, tolerance

    # the reference and a classic mistake (the files named are those changed since the last run:
    # assignment.yaml named again would mean that run's results kept the old course's stamp)
    for name in ("attention.py", "mistakes.py"):
        (course / "reference" / name).write_text((course / "reference" / name).read_text() + "\n# fixed\n")
    reference = run()
    assert "3 regraded: the course changed (reference/attention.py, reference/mistakes.py)\n" in reference, reference

    # the course code (generators)
    generators = course / "course" / "generators.py"
    generators.write_text(generators.read_text() + "\n# faster\n")
    assert "3 regraded: the course changed (course/generators.py)\n" in run()

    # the grader is upgraded (its version number unchanged)
    compare = course / "grader" / "grading" / "compare.py"
    compare.write_text(compare.read_text() + "\n# upgraded\n")
    assert "3 regraded: the grader changed (grader/grading/compare.py)\n" in run()

    # another language: French reports are not mixed with English ones
    done = run_grade("bulk", subs, "--out", out, "-j", "1", "--quiet", "--lang", "fr", cwd=course, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "3 recorrigé·es : corrigé·es dans une autre langue auparavant (en, maintenant fr)" in done.stdout
    assert {r["student"]["graded_with"]["language"] for r in results_of(out).values()} == {"fr"}
    done = run_grade("bulk", subs, "--out", out, "-j", "1", "--quiet", "--lang", "fr", cwd=course, timeout=600)
    assert "0 corrigé(s), 3 déjà corrigé(s)" in done.stdout and "recorrigé" not in done.stdout, done.stdout
    back = run("--lang", "en")
    assert "3 regraded: graded in another language before (fr, now en)\n" in back, back

    # one resubmission: that student alone
    target = subs / sorted(expected)[0] / "exercises" / "softmax.py"
    target.write_text(target.read_text() + "\n# v2\n")
    resubmitted = run()
    assert resubmitted.startswith("1 graded, 2 already graded"), resubmitted
    assert "1 regraded: their submission changed\n" in resubmitted, resubmitted

    forced = run("--force")
    assert forced.startswith("3 graded, 0 already graded") and "3 regraded: --force\n" in forced, forced
    check_complete(out, set(expected))


# --- temporary folders ------------------------------------------------------------------------

def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _folder(base: Path, name: str, owner: dict | None) -> Path:
    from grader.sandbox.tempfiles import OWNER_FILE
    folder = base / name
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "output.log").write_text("…")
    if owner is not None:
        (folder / OWNER_FILE).write_text(json.dumps(owner))
    return folder


def test_stale_folders_of_dead_owners_are_removed_and_never_a_live_ones(tmp_path):
    import socket

    from grader.sandbox import tempfiles

    here = socket.gethostname()
    me = tempfiles.owner_record()
    assert me["pid"] == os.getpid() and me["host"] == here and tempfiles.owner_alive(me)
    parent = tempfiles.owner_record(os.getppid())
    dead = {"pid": _dead_pid(), "host": here, "started": None}
    folders = {
        "dead": _folder(tmp_path, "grade-template-dead", dead),
        "dead sandbox": _folder(tmp_path, "grade-abc123", {**dead, "started": "12345"}),
        "live": _folder(tmp_path, "grade-template-live", me),
        "live parent": _folder(tmp_path, "grade-runtime-live", parent),
        "other machine": _folder(tmp_path, "grade-template-elsewhere", {**dead, "host": here + "-other"}),
        "no owner file": _folder(tmp_path, "grade-template-legacy", None),
        "not ours": _folder(tmp_path, "gradebook-dead", dead),
    }
    if me["started"] is not None:  # Linux: a pid now used by another process is no owner
        folders["pid reused"] = _folder(tmp_path, "grade-reused", {**parent, "started": "1"})
    link = tmp_path / "grade-link"
    link.symlink_to(folders["dead"], target_is_directory=True)
    removed = tempfiles.remove_stale(tmp_path)
    gone = {"dead", "dead sandbox", "pid reused"} & set(folders)
    assert sorted(removed) == sorted(folders[name] for name in gone)
    for name, folder in folders.items():
        assert folder.exists() == (name not in gone), name
    assert link.is_symlink()  # a link is never followed nor removed


def test_mark_owner_writes_a_whole_record_this_process_owns(tmp_path):
    from grader.sandbox import tempfiles
    folder = tmp_path / "grade-template-x"
    folder.mkdir()
    tempfiles.mark_owner(folder)
    assert tempfiles.read_owner(folder) == tempfiles.owner_record()
    assert [p.name for p in folder.iterdir()] == [tempfiles.OWNER_FILE]
    assert tempfiles.remove_stale(tmp_path) == [] and folder.exists()


def test_grade_bulk_removes_a_killed_runs_folders_at_start_and_leaves_none_of_its_own(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    here = __import__("socket").gethostname()
    stale = _folder(temp, "grade-template-killedrun", {"pid": _dead_pid(), "host": here, "started": None})
    live = _folder(temp, "grade-template-otherrun", {"pid": os.getpid(), "host": here, "started": None})
    legacy = _folder(temp, "grade-template-legacy", None)
    subs = tmp_path / "submissions"
    make_class(subs, 2, {"correct": 1.0}, seed=12, naming="plain-folders")
    done = finish(bulk(subs, tmp_path / "out", "-j", "2", "--quiet", env={**os.environ, "TMPDIR": str(temp)}))
    assert done.returncode == 0, done.stderr[-2000:]
    assert not stale.exists() and live.exists() and legacy.exists()
    assert sorted(p.name for p in temp.iterdir()) == sorted([live.name, legacy.name])  # nothing of this run's
