"""`grade bulk --dask ADDRESS` on a real Dask cluster (a LocalCluster of separate worker
processes on this machine): the same results as a local run, resume included."""
import importlib.util
import json
import os
import subprocess
import re
from pathlib import Path

import pytest

from classgen import make_class
from conftest import ROOT, grade_argv, run_grade

if importlib.util.find_spec("distributed") is None:
    pytest.skip("optional extra: pip install '.[dask]'", allow_module_level=True)


@pytest.fixture(scope="module")
def distributed():
    """dask.distributed, imported by the first test that needs it, not while every xdist worker
    collects the suite (0.4 s of CPU each)."""
    import distributed
    return distributed

VOLATILE = {"duration"}  # wall times differ between any two runs


def comparable(value):
    """A result without its timings."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def results_of(out: Path) -> dict:
    """{student: result}, timings left out and the output folder's name (where zips and
    notebooks are extracted) written OUT."""
    return {p.stem: comparable(json.loads(p.read_text().replace(str(out), "OUT")))
            for p in (out / "results").glob("*.json")}


@pytest.fixture(scope="module")
def cluster(distributed):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as local:
        yield local


def test_results_on_a_cluster_are_those_of_a_local_run_and_resume(tmp_path, cluster):
    subs = tmp_path / "submissions"
    expected = make_class(subs, 8, {"correct": 0.5, "wrong": 0.25, "crash": 0.25}, seed=3)
    local, remote = tmp_path / "local", tmp_path / "remote"

    done = run_grade("bulk", subs, "--out", local, "-j", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    done = run_grade("bulk", subs, "--out", remote, "--dask", cluster.scheduler_address, "--quiet")
    assert done.returncode == 0, done.stderr
    assert "8 graded, 0 already graded" in done.stdout

    here, there = results_of(local), results_of(remote)
    assert set(there) == set(expected)
    for student in expected:
        assert there[student] == here[student], student
    assert {r["status"] for r in there.values()} == {"ok", "crash"}
    for name in ("gradebook.csv", "gradebook-canvas.csv"):
        assert (remote / name).read_bytes() == (local / name).read_bytes(), name
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")  # Moodle's "last modified": now
    moodle = [stamp.sub("T", (out / "gradebook-moodle.csv").read_text(encoding="utf-8")) for out in (remote, local)]
    assert moodle[0] == moodle[1]
    assert len((remote / "results.jsonl").read_text().splitlines()) == 8
    assert len(list((remote / "reports").glob("*.html"))) == 8

    # resume: nothing to do; one resubmission: only that student goes to the cluster again
    again = run_grade("bulk", subs, "--out", remote, "--dask", cluster.scheduler_address, "--quiet")
    assert again.returncode == 0, again.stderr
    assert "0 graded, 8 already graded" in again.stdout
    changed = sorted(p for p in subs.iterdir() if p.is_dir() and (p / "exercises").is_dir())[0]
    (changed / "exercises" / "softmax.py").write_text((changed / "exercises" / "softmax.py").read_text() + "\n# v2\n")
    once_more = run_grade("bulk", subs, "--out", remote, "--dask", cluster.scheduler_address, "--quiet")
    assert once_more.returncode == 0, once_more.stderr
    assert "1 graded, 7 already graded" in once_more.stdout


def test_an_address_where_no_scheduler_answers_is_a_clear_error(tmp_path):
    subs = tmp_path / "submissions"
    make_class(subs, 1, {"correct": 1.0}, seed=1)
    done = subprocess.run([*grade_argv(), "bulk", subs, "--out", tmp_path / "out", "--dask", "tcp://127.0.0.1:9",
                           "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
    assert done.returncode == 2
    assert "no Dask scheduler answered at tcp://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr


def test_dask_and_jobs_are_two_ways_to_say_where(tmp_path):
    done = run_grade("bulk", tmp_path, "--out", tmp_path / "out", "--dask", "tcp://127.0.0.1:9", "-j", "2")
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr



def test_a_student_the_cluster_cannot_grade_costs_only_them(tmp_path, distributed):
    """The engine raises for one student on every Dask worker (a preload stands in for a bug a
    hostile submission reaches): that student's error result, written on the worker; the others
    graded; the class files list everyone; exit status 2; the next run tries them again."""
    from test_bulk_failures import NOTE, check_complete, failing_engine
    subs = tmp_path / "submissions"
    expected = make_class(subs, 3, {"correct": 1.0}, seed=4, naming="plain-folders")
    victim = sorted(expected)[0]
    preload = tmp_path / "failing_engine.py"
    preload.write_text(failing_engine(victim))
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40, preload=[str(preload)]) as local:
        done = run_grade("bulk", subs, "--out", out, "--dask", local.scheduler_address, "--quiet", timeout=600)
        assert done.returncode == 2, done.stderr[-3000:]
        assert f"{victim} could not be graded: the grader failed on this submission" in done.stderr
        assert "Traceback" not in done.stderr
        results = check_complete(out, set(expected))
        assert results[victim]["status"] == "error" and results[victim]["notes"] == [NOTE]
        assert all(results[sid]["status"] == "ok" for sid in expected if sid != victim), {s: (r["status"], r["notes"][:1]) for s, r in results.items()}
        assert victim in (out / "grading-errors.log").read_text()
        again = run_grade("bulk", subs, "--out", out, "--dask", local.scheduler_address, "--quiet", timeout=600)
    assert again.returncode == 2
    assert "0 graded, 2 already graded" in again.stdout and "1 regraded: they could not be graded last time" in again.stdout
