"""`grade bulk` end to end, through the real CLI: a generated class, resume after kill -9,
hostile zips, and the per-student hidden cases."""
import csv
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from classgen import make_class
from conftest import ROOT, run_grade, validate_result

KIND_STATUS = {"correct": "ok", "wrong": "ok", "timeout": "timeout", "asleep": "timeout", "crash": "crash"}



def summary_of(proc) -> str:
    """`grade bulk`'s output after its first line (what this platform contains)."""
    first, _, rest = proc.stdout.partition("\n")
    assert first.startswith("isolation: "), proc.stdout
    return rest

def results_of(out: Path) -> dict:
    return {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}


def check_class(out: Path, expected: dict):
    """Every student graded once, as their kind says; class files consistent with results/."""
    results = results_of(out)
    assert set(results) == set(expected)
    for student, kind in expected.items():
        r = results[student]
        validate_result(r)
        assert r["student"]["id"] == student
        assert r["status"] == KIND_STATUS[kind], (student, kind, r["status"], r["notes"])
        if kind == "correct":
            assert r["score"] == pytest.approx(100), (student, [c for e in r["exercises"] for c in e["cases"]
                                                               if c["status"] != "passed"][:2])
        else:
            assert r["score"] < 100
        assert (out / "reports" / f"{student}.html").is_file()
    lines = (out / "results.jsonl").read_text().splitlines()
    ids = [json.loads(line)["student"]["id"] for line in lines]
    assert ids == sorted(expected)  # one line per student, no duplicates, sorted
    with open(out / "gradebook.csv", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [r["student_id"] for r in rows] == sorted(expected)
    for row in rows:
        assert float(row["total"]) == pytest.approx(results[row["student_id"]]["score"], abs=0.01)
        assert row["status"] == results[row["student_id"]]["status"]
    assert (out / "gradebook-moodle.csv").is_file() and (out / "gradebook-canvas.csv").is_file()
    index = (out / "index.html").read_text()
    assert "http://" not in index and "https://" not in index
    assert not list(out.rglob(".*.tmp"))


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    subs = base / "submissions"
    expected = make_class(subs, 52, {"correct": 0.7, "wrong": 0.2, "asleep": 0.05, "crash": 0.05}, seed=11)
    # hostile and broken entries, beside the others
    with zipfile.ZipFile(subs / "evil.zip", "w") as z:
        z.writestr("../../escaped.py", "print('out')\n")
    (subs / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (subs / "empty").mkdir()
    started = time.monotonic()
    proc = run_grade("bulk", subs, "--out", base / "out", "-j", "2", timeout=900)
    return {"base": base, "subs": subs, "out": base / "out", "expected": expected, "proc": proc,
            "seconds": time.monotonic() - started}


def test_a_class_of_52_is_graded_with_every_format_and_naming(graded_class):
    proc = graded_class["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert summary_of(proc).startswith("55 graded, 0 already graded"), proc.stdout
    results = results_of(graded_class["out"])
    assert {r["student"]["origin"] for r in results.values()} == {"plain", "moodle", "canvas"}
    invalid = {sid for sid, r in results.items() if r["status"] == "invalid"}
    assert invalid == {"evil", "broken", "empty"}  # marked invalid with the reason; the rest graded
    for sid in invalid:
        assert results[sid]["notes"] and results[sid]["score"] == 0
    assert ".." in results["evil"]["notes"][0], results["evil"]["notes"]
    assert not list(graded_class["base"].rglob("escaped.py"))
    assert set(results) - invalid == set(graded_class["expected"])


def test_class_files_agree_with_the_results(graded_class):
    out, expected = graded_class["out"], dict(graded_class["expected"])
    expected.update({"evil": "invalid", "broken": "invalid", "empty": "invalid"})
    statuses = {**KIND_STATUS, "invalid": "invalid"}
    results = results_of(out)
    assert {sid: r["status"] for sid, r in results.items()} == {sid: statuses[k] for sid, k in expected.items()}
    lines = (out / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["student"]["id"] for line in lines] == sorted(expected)
    with open(out / "gradebook.csv", encoding="utf-8-sig") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert set(rows) == set(expected)
    for sid, row in rows.items():
        assert float(row["total"]) == pytest.approx(results[sid]["score"], abs=0.01)
        assert row["status"] == results[sid]["status"]
    for sid, kind in graded_class["expected"].items():
        if kind == "correct":
            assert results[sid]["score"] == pytest.approx(100), sid
        elif kind in ("wrong", "asleep", "crash"):
            assert results[sid]["score"] < 100, sid
        assert (out / "reports" / f"{sid}.html").is_file()
    index = (out / "index.html").read_text()
    assert "http://" not in index and "https://" not in index
    assert not list(out.rglob(".*.tmp"))


def test_a_second_run_resumes_and_regrades_only_what_changed(graded_class):
    out, subs = graded_class["out"], graded_class["subs"]
    before = results_of(out)
    proc = run_grade("bulk", subs, "--out", out, "-j", "2", timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert summary_of(proc).startswith("0 graded, 55 already graded"), proc.stdout
    after = results_of(out)
    assert after == before  # untouched, byte for byte once parsed
    # a student resubmits: only they are regraded
    target = next(p for p in sorted(subs.glob("student*")) if p.is_dir())
    softmax = target / "exercises" / "softmax.py"
    softmax.write_text(softmax.read_text() + "\n# resubmitted\n")
    proc = run_grade("bulk", subs, "--out", out, "-j", "2", timeout=600)
    assert summary_of(proc).startswith("1 graded, 54 already graded"), proc.stdout


def test_hidden_cases_are_seeded_per_student_and_replayable(graded_class):
    """Two students get different hidden inputs; the instructor replays one with --student."""
    out, subs, expected = graded_class["out"], graded_class["subs"], graded_class["expected"]
    wrong = sorted(sid for sid, kind in expected.items() if kind == "wrong" and sid.startswith("student"))[0]
    result = results_of(out)[wrong]
    hidden = [c for e in result["exercises"] for c in e["cases"] if c["visibility"] == "hidden"
              and c["status"] == "failed"]
    assert hidden, "a wrong submission fails some hidden case"
    case = hidden[0]
    path = next(p for p in subs.iterdir() if p.stem == wrong)
    proc = run_grade(path, "--student", wrong, "--case", case["id"], "--no-color", "--report",
                     graded_class["base"] / "replay.html")
    from grader.model.assignment import load_assignment
    from grader.grading.cases import student_seed
    salt = load_assignment(ROOT / "assignment.yaml").salt
    assert f"status: {case['status']}" in proc.stdout and f"seed {student_seed(salt, wrong)}" in proc.stdout, \
        proc.stdout
    # another student's seed gives other inputs for the same hidden case
    other = run_grade(path, "--student", "someone-else", "--case", case["id"], "--no-color", "--report",
                      graded_class["base"] / "replay2.html")
    inputs = proc.stdout.split("inputs:")[1].split("expected")[0]
    assert inputs != other.stdout.split("inputs:")[1].split("expected")[0]


def test_a_run_killed_with_sigkill_resumes_without_losing_or_duplicating(tmp_path):
    subs = tmp_path / "submissions"
    expected = make_class(subs, 16, {"correct": 1.0}, seed=3, naming="plain-folders")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader.cli", "bulk", str(subs), "--out", str(out), "-j", "2", "--quiet"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "results").glob("*.json"))) < 4:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the grader and its pool, mid-run, like a power cut
    process.wait()
    done = set(results_of(out))
    assert 4 <= len(done) < 16, "killed mid-run"
    for path in (out / "results").glob("*.json"):
        json.loads(path.read_text())  # whatever is there is whole
    time.sleep(0.5)
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline(p).find(str(out)) >= 0]
    assert not leftovers, "no grader process survives its own kill"
    proc = run_grade("bulk", subs, "--out", out, "-j", "2", timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = summary_of(proc)
    graded, skipped = map(int, summary.split(" graded, ")[0:1] + [summary.split(", ")[1].split()[0]])
    assert skipped >= len(done) and graded + skipped == 16
    check_class(out, expected)


def _cmdline(proc_dir: Path) -> str:
    try:
        return (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_bulk_refuses_overlapping_folders_and_a_missing_reference(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    proc = run_grade("bulk", subs, "--out", subs / "out")
    assert proc.returncode == 2 and "overlap" in proc.stderr
    proc = run_grade("bulk", tmp_path / "nope", "--out", tmp_path / "out")
    assert proc.returncode == 2 and "no such folder" in proc.stderr


def _folders_of(pids: set) -> list:
    """The grader's temporary folders whose owner is one of `pids`."""
    import tempfile

    from grader.sandbox.tempfiles import read_owner
    return [p for p in Path(tempfile.gettempdir()).glob("grade-*") if (read_owner(p) or {}).get("pid") in pids]


def _pool_watched(monkeypatch) -> list:
    """[pids of this process's children when `grade bulk` starts reading the class]"""
    import multiprocessing

    from grader.bulk import run as bulk_run
    discover, seen = bulk_run.discover, []

    def recording(*args, **kwargs):
        seen.append({p.pid for p in multiprocessing.active_children()})
        return discover(*args, **kwargs)
    monkeypatch.setattr(bulk_run, "discover", recording)
    return seen


def test_the_pool_starts_while_the_class_is_read_and_only_the_processes_needed_grade(tmp_path, monkeypatch):
    """The pool processes start before the submissions are found (they load the reference and their
    worker template meanwhile); those a small class does not need are stopped, the others grade,
    and none leaves a process or a temporary folder behind."""
    import multiprocessing

    from grader.bulk import run as bulk_run
    from grader.model.assignment import load_assignment

    subs = tmp_path / "subs"
    expected = make_class(subs, 1, {"correct": 1.0}, seed=3)
    seen = _pool_watched(monkeypatch)
    summary = bulk_run.run_bulk(load_assignment(ROOT / "assignment.yaml"), subs, tmp_path / "out", jobs=3,
                                progress=False)
    assert [len(pids) for pids in seen] == [3]  # all three started before the class was read
    assert summary.graded == 1 and not summary.failures
    check_class(tmp_path / "out", expected)
    assert not {p.pid for p in multiprocessing.active_children()} & seen[0]  # the two unneeded, the one that graded
    assert not _folders_of(seen[0])


def test_a_run_with_nothing_to_grade_leaves_no_pool_process_behind(tmp_path, monkeypatch):
    import multiprocessing

    from grader.bulk import run as bulk_run
    from grader.model.assignment import load_assignment

    subs = tmp_path / "subs"
    make_class(subs, 2, {"correct": 1.0}, seed=4)
    assignment = load_assignment(ROOT / "assignment.yaml")
    assert bulk_run.run_bulk(assignment, subs, tmp_path / "out", jobs=2, progress=False).graded == 2
    seen = _pool_watched(monkeypatch)
    again = bulk_run.run_bulk(assignment, subs, tmp_path / "out", jobs=2, progress=False)
    assert again.graded == 0 and again.skipped == 2
    assert len(seen[0]) == 2 and not {p.pid for p in multiprocessing.active_children()} & seen[0]
    assert not _folders_of(seen[0])
