"""Speed and memory of `grade` and `grade bulk`, every figure measured side by side in one run.

    python bench/speed.py [--students 500] [--runs 7] [--bulk-runs 3] [--naive-sample 60]
                          [--rss-students 1000] [--jobs N] [--quick] [--only PART] [--baseline TREE]

Prints the machine, the command and the date, then one Markdown table | measure | value |
target | met? |. Times are wall-clock medians; each ratio is computed from figures of this
same run, and the two contenders of a comparison run alternately (A, B, A, B …) so that
noise on a shared machine hits both. Progress goes to stderr, the table to stdout.

1. `grade` in a students' repository. `grade release` writes one into a temporary folder
   (public_cases.npz, no reference); the reference, written as a student would
   (tests/conftest.py solution_folder), becomes its `exercises/`. Then, `--runs` times each,
   alternately, as fresh processes:
     A  `python -m grader.cli` with cwd = the release — what a student's `grade` runs (the
        release's own grader/ is found first, as tests/test_release.py checks), public cases,
        terminal output and the HTML report;
     B  `python -m pytest -q … bench/plain_public_test.py`, a plain pytest module checking the
        same public cases with numpy.testing (what a teacher would otherwise write), the
        release on PYTHONPATH (PLAIN_STUDENTS_DIR).
   Both must pass everything (exit 0), alternating with the floor, a bare `python -c "import
   numpy"`. Figures: the median wall of each, grade / floor and grade / pytest. Targets
   (issue 19): grade <= 0.25 s, <= 3x the floor, <= 0.65x pytest. Every command runs without
   PYTHONDONTWRITEBYTECODE (a student's machine writes its .pyc) and with the user's cache
   (grader/model/usercache.py) warmed by the untimed first run, as a student's second `grade` is.

2. `grade bulk` against a naive loop. Two generated classes of `--students` submissions
   (tests/classgen.make_class: folders, .py, notebooks and zips; plain, Moodle and Canvas
   names): MIXED (correct 0.70, wrong 0.20, timeout 0.05, crash 0.05) and ALL-CORRECT.
   `--bulk-runs` rounds of, in this order: bulk on MIXED, naive on a sample, bulk on
   ALL-CORRECT. Bulk is the real CLI, `python -m grader.cli bulk SUBS --out OUT -j JOBS
   --quiet`, into a fresh OUT each time.
     - bulk wall and submissions/s (MIXED): students / wall.
     - correct submissions/s: students / wall of the bulk run on ALL-CORRECT (every one of
       them correct). Target >= 30 with the full hidden suite, beside the floor: cores / (a fork
       of a Python holding NumPy + the student's own computation of every case, called directly).
     - CPU per correct submission: user + sys of the whole run (the CLI and everything it waited
       for: pool processes, worker templates, workers; `os.wait4`) / students, and the rate the
       cores would give were they the run's alone (cores / that CPU): on a shared machine the
       wall-clock rate moves with the others' load, the CPU much less.
     - `--baseline TREE` (another checkout, e.g. `git worktree add ../before HEAD`): its `grade
       bulk` runs on the same all-correct class right after this one's in every round; rows give
       its rate and CPU, and the per-round ratios.
     - naive: one fresh `python bench/naive_check.py ENTRY ID` per submission, one after the
       other, `subprocess.run(..., timeout=30)` (nbgrader's default cell timeout); it imports
       the grader's case machinery and the student's code directly, runs every public and
       hidden case, compares with grader.grading.compare. Timeouts make a whole class too slow, so it
       runs on a stratified sample of MIXED (`--naive-sample`, the class's proportions, at
       least one of each kind present); the class mean per submission is the class-weighted
       mean of the per-kind sample means (sum over kinds of count x mean / students), and the
       extrapolated submissions/s is its inverse. "naive, correct only" is the mean over the
       sample's correct submissions. Entries are the ones grader.bulk.intake.discover gives (zips
       extracted once beforehand, untimed).
     - bulk / naive: bulk MIXED subs/s over naive subs/s, and bulk ALL-CORRECT correct subs/s
       over naive correct-only subs/s, each from the same round, median over rounds.
       Target >= 10x.
     - a timeout delays no other submission beyond its own limit: the median `duration` (from
       results/<id>.json) of the correct submissions in the MIXED run vs in the ALL-CORRECT
       run. Target (ours, the issue gives no number): mixed / all-correct <= 1.25.
     - a looping function costs one timeout: the median duration of the MIXED run's timeout
       submissions, target < timeout + 1 s; and the slowest correct submission we know
       (bench/loops_submission.py: every matrix product a pure-Python loop, full marks checked
       with `grade`): its slowest case against the case's limit.
   Every correct submission must score full marks in both (checked, else reported).

3. Peak memory (RSS) of a bulk run over `--rss-students` all-correct submissions. The CLI runs
   as a child of this script, which every 50 ms walks /proc for the CLI's descendants and reads
   VmHWM (each process's own peak RSS) from /proc/<pid>/status: the CLI's main process; the
   pool processes (forked from it: the same command line); the worker template (command line
   holding worker.py, parent not a worker) and the workers (worker.py, forked by the template).
   getrusage(RUSAGE_CHILDREN) is not used: it gives the largest waited-for descendant, not the
   main process. A forked process's VmHWM counts the pages it shares with its parent. A peak
   reached in the last 50 ms of a process's life can be missed. Target: main < 300 MB.

`--quick`: 20 students, 3 runs, 1 bulk round, a naive sample of 6 with a 5 s naive timeout, 50
RSS students — a smoke test of the whole thing (its figures mean nothing).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(1, str(ROOT))

from classgen import make_class  # noqa: E402

PY = sys.executable
MIX = {"correct": 0.70, "wrong": 0.20, "timeout": 0.05, "crash": 0.05}
QUICK = {"students": 20, "runs": 3, "bulk_runs": 1, "naive_sample": 6, "naive_timeout": 5.0, "rss_students": 50}
DEFAULTS = {"students": 500, "runs": 7, "bulk_runs": 3, "naive_sample": 60, "naive_timeout": 30.0,
            "rss_students": 1000}
PYTEST_ARGS = ["-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly",
               "-p", "no:seance11",  # the grader's own plugin stays out of a plain pytest run
               "-o", "addopts="]     # the course's pyproject adds `-n auto` (xdist)


class BenchError(Exception):
    """A command that should have worked did not: its text goes in the report."""


def log(message: str):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(argv, cwd, env=None, timeout=None, what=None, ok=(0,)):
    """Run a command; (seconds, CompletedProcess). An unexpected exit status raises BenchError."""
    started = time.perf_counter()
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    seconds = time.perf_counter() - started
    if ok is not None and proc.returncode not in ok:
        raise BenchError(f"`{what or shlex.join(map(str, argv))}` exited {proc.returncode}:\n"
                         f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return seconds, proc


def median(values):
    return statistics.median(values) if values else float("nan")


def spread(values, unit="s", digits=3):
    """'1.234 s (1.1–1.4)': the median, then min–max when there are several values."""
    text = f"{median(values):.{digits}f} {unit}".strip()
    if len(values) > 1:
        text += f" ({min(values):.{digits}f}–{max(values):.{digits}f})"
    return text


# --- the machine ---------------------------------------------------------------------------------

def machine() -> list[str]:
    import numpy

    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or "?"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return [f"- machine: {os.cpu_count()} cores ({usable} usable), {model}, {platform.system()} {platform.release()}",
            f"- load average at start (1/5/15 min): {load}",
            f"- Python {platform.python_version()} ({PY}), NumPy {numpy.__version__}",
            f"- command: `python bench/speed.py {shlex.join(sys.argv[1:])}`",
            f"- date: {datetime.now(timezone.utc).astimezone().isoformat(timespec='seconds')}"]


# --- 1. grade vs plain pytest on the public cases ---------------------------------------------------

def students_release(tmp: Path) -> Path:
    """`grade release` into tmp/release, with the reference (as a student writes it) as exercises/."""
    release = tmp / "release"
    run([PY, "-m", "grader.cli", "release", release], cwd=ROOT, what="grade release")
    shutil.rmtree(release / "exercises")
    previous = os.environ.get("GRADE_LANG")
    from conftest import solution_folder  # tests/conftest.py; it sets GRADE_LANG=en for the suite
    if previous is None:
        os.environ.pop("GRADE_LANG", None)
    else:
        os.environ["GRADE_LANG"] = previous
    solution_folder(release / "exercises")
    return release


def bench_grade_vs_pytest(tmp: Path, runs: int, rows: list, notes: list):
    log("1. grade release, then grade vs plain pytest on the public cases")
    release = students_release(tmp)
    _, where = run([PY, "-c", "import grader; print(grader.__file__)"], cwd=release)
    engine = Path(where.stdout.strip())
    notes.append(f"`grade` in the release runs the engine at {engine} "
                 f"({'the release' + chr(39) + 's own' if engine.is_relative_to(release) else 'NOT the release' + chr(39) + 's'}).")
    grade = [PY, "-m", "grader.cli", "--no-color"]
    pytest = [PY, "-m", "pytest", *PYTEST_ARGS, BENCH / "plain_public_test.py"]
    pytest_env = {**os.environ, "PLAIN_STUDENTS_DIR": str(release),
                  "PYTHONPATH": os.pathsep.join(filter(None, [str(release), os.environ.get("PYTHONPATH")]))}

    # untimed first runs: they compile the release's .pyc and tell what is graded
    _, checked = run(grade + ["--json", tmp / "grade.json"], cwd=release, what="grade (students' repository)")
    result = json.loads((tmp / "grade.json").read_text())
    cases = [c for e in result["exercises"] for c in e["cases"]]
    passed = sum(c["status"] == "passed" for c in cases)
    _, checked_pytest = run(pytest, cwd=release, env=pytest_env, what="plain pytest")
    pytest_passed = int(re.search(r"(\d+) passed", checked_pytest.stdout).group(1))
    if passed != len(cases) or pytest_passed != len(cases):
        raise BenchError(f"grade passed {passed}/{len(cases)}, pytest {pytest_passed}: they must check the same "
                         f"public cases and pass them all")

    grade_s, pytest_s, portable_s, numpy_s = [], [], [], []
    portable_env = {**os.environ, "GRADE_BACKEND": "portable"}  # Windows' backend: a fresh Python per worker
    for i in range(runs):
        log(f"   run {i + 1}/{runs}")
        seconds, _ = run([PY, "-c", "import numpy"], cwd=release, what="python -c 'import numpy'")
        numpy_s.append(seconds)  # the floor: a bare Python with NumPy
        seconds, proc = run(grade, cwd=release, what="grade (students' repository)")
        if "Points 100.0/100.0" not in proc.stdout:
            raise BenchError(f"grade did not score 100:\n{proc.stdout[-2000:]}")
        grade_s.append(seconds)
        seconds, proc = run(grade, cwd=release, env=portable_env, what="grade, portable backend")
        if "Points 100.0/100.0" not in proc.stdout:
            raise BenchError(f"grade (portable backend) did not score 100:\n{proc.stdout[-2000:]}")
        portable_s.append(seconds)
        seconds, proc = run(pytest, cwd=release, env=pytest_env, what="plain pytest")
        if f"{len(cases)} passed" not in proc.stdout:
            raise BenchError(f"pytest did not pass the {len(cases)} cases:\n{proc.stdout[-2000:]}")
        pytest_s.append(seconds)
    ratios = [g / p for g, p in zip(grade_s, pytest_s)]
    floor = [g / n for g, n in zip(grade_s, numpy_s)]
    rows += [
        (f"`grade`, students' repository ({result['score']:.0f}/{result['max_score']:.0f}, {passed}/{len(cases)} "
         f"public cases passed), median wall of {runs}", spread(grade_s), "≤ 0.25 s", median(grade_s) <= 0.25),
        (f"floor: `python -c \"import numpy\"`, median wall of {runs}", spread(numpy_s), "", None),
        ("grade / floor (median of per-run ratios)", f"{median(floor):.2f}×", "≤ 3×", median(floor) <= 3.0),
        (f"plain pytest, same public cases ({pytest_passed} passed), median wall of {runs}", spread(pytest_s), "", None),
        ("grade / pytest (median of per-pair ratios)", f"{median(ratios):.2f}×", "≤ 0.65×", median(ratios) <= 0.65),
        (f"`grade`, same, portable backend (GRADE_BACKEND=portable: Windows' way), median wall of {runs}",
         spread(portable_s), "", None),
        ("portable / template backend (median of per-pair ratios)",
         f"{median([p / g for p, g in zip(portable_s, grade_s)]):.2f}×", "", None),
    ]


# --- 2. grade bulk vs a naive loop -------------------------------------------------------------------

def bulk_run(subs: Path, out: Path, jobs: int, kinds: dict, max_score: float, root: Path = ROOT) -> dict:
    """One `grade bulk` (the grader of `root`) into a fresh `out`: wall time, CPU time (user + sys
    of the CLI and every process it waited for, as wait4 reports them: pool processes, worker
    templates, workers), and each result's kind, status and duration."""
    shutil.rmtree(out, ignore_errors=True)
    argv = [PY, "-m", "grader.cli", "bulk", str(subs), "--out", str(out), "-j", str(jobs), "--quiet"]
    started = time.perf_counter()
    with open(out.parent / f"{out.name}.stdout", "w+") as stdout, open(out.parent / f"{out.name}.stderr", "w+") as stderr:
        proc = subprocess.Popen(argv, cwd=root, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            stdout.seek(0), stderr.seek(0)
            raise BenchError(f"`grade bulk {subs.name} -j {jobs}` ({root}) exited {proc.returncode}:\n"
                             f"{stdout.read()[-2000:]}\n{stderr.read()[-3000:]}")
    results = {}
    for path in (out / "results").glob("*.json"):
        r = json.loads(path.read_text())
        results[path.stem] = {"kind": kinds.get(path.stem), "status": r["status"], "score": r["score"],
                              "duration": r["duration"]}
    shutil.rmtree(out, ignore_errors=True)
    for name in (f"{out.name}.stdout", f"{out.name}.stderr"):
        (out.parent / name).unlink(missing_ok=True)
    missing = sorted(set(kinds) - set(results))
    if missing:
        raise BenchError(f"grade bulk {subs.name}: no result for {len(missing)} students ({', '.join(missing[:5])}…)")
    wrong = [sid for sid, r in results.items() if r["kind"] == "correct" and abs(r["score"] - max_score) > 1e-6]
    if wrong:
        raise BenchError(f"grade bulk {subs.name}: correct submissions not at full marks: "
                         + ", ".join(f"{s} ({results[s]['score']})" for s in wrong[:5]))
    return {"wall": seconds, "cpu": usage.ru_utime + usage.ru_stime, "results": results}


FORK_PROBE = """
import os, statistics, sys, time
import numpy
times = []
for _ in range(int(sys.argv[1])):
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    times.append(time.perf_counter() - started)
print(statistics.median(times))
"""


def bulk_floor(tmp: Path, jobs: int) -> dict:
    """What no grader can beat on this machine: per submission, a fork of a Python holding NumPy
    (median of 200) and the student's own computation (the reference as a student writes it,
    every case of the full suite called directly, bench/loops_submission.py's timing without the
    loops); `rate` = jobs / (fork + computation)."""
    _, proc = run([PY, "-c", FORK_PROBE, "200"], cwd=ROOT, what="fork probe")
    fork = float(proc.stdout.strip())
    from conftest import solution_folder
    folder = solution_folder(tmp / "floor" / "exercises")
    _, proc = run([PY, "-c", "import json, sys; sys.path.insert(0, sys.argv[1]); import loops_submission as l; "
                   "from pathlib import Path; print(json.dumps(l.case_times(Path(sys.argv[2]), 'floor')))",
                   BENCH, folder], cwd=ROOT, what="the student's own computation")
    times = json.loads(proc.stdout)
    compute = times["total"]
    return {"fork": fork, "compute": compute, "cases": len(times["cases"]), "rate": jobs / (fork + compute)}


def loops_submission(tmp: Path, max_score: float) -> dict:
    """The slowest correct submission (bench/loops_submission.py): each case's time, and `grade`
    on it (full hidden suite) must give full marks."""
    _, proc = run([PY, BENCH / "loops_submission.py", tmp / "loops"], cwd=ROOT, what="loops submission")
    times = json.loads(proc.stdout)
    _, graded = run([PY, "-m", "grader.cli", tmp / "loops" / "exercises", "--student", "loops", "--no-color",
                     "--report", tmp / "loops.html", "--json", tmp / "loops.json"], cwd=ROOT,
                    what="grade on the loops submission")
    score = json.loads((tmp / "loops.json").read_text())["score"]
    if abs(score - max_score) > 1e-6:
        raise BenchError(f"the loops submission scored {score}/{max_score}:\n{graded.stdout[-2000:]}")
    return times


def stratified_sample(kinds: dict, size: int, seed: int = 0) -> list:
    """Student ids, the class's proportions (largest remainders), at least one of each kind present."""
    by_kind = {}
    for sid, kind in sorted(kinds.items()):
        by_kind.setdefault(kind, []).append(sid)
    n = len(kinds)
    share = {k: size * len(v) / n for k, v in by_kind.items()}
    take = {k: max(1, int(s)) for k, s in share.items()}
    for k in sorted(share, key=lambda k: share[k] - int(share[k]), reverse=True):
        if sum(take.values()) >= size:
            break
        take[k] += 1
    while sum(take.values()) > size and max(take.values()) > 1:  # the minimum of one made it too big
        take[max(take, key=take.get)] -= 1
    rng = random.Random(seed)
    return sorted(sid for k, ids in by_kind.items() for sid in rng.sample(ids, min(take[k], len(ids))))


def naive_run(entries: dict, sample: list, kinds: dict, timeout: float, max_score: float, tmp: Path) -> dict:
    """One fresh process per sampled submission, one after the other: {id: (kind, seconds, outcome)}.
    Their temporary folders go under `tmp` (a killed one cannot remove its own)."""
    (tmp / "naive-tmp").mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp / "naive-tmp")}
    times = {}
    for sid in sample:
        started = time.perf_counter()
        try:
            proc = subprocess.run([PY, BENCH / "naive_check.py", entries[sid], sid], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=timeout)
            found = re.search(r"score ([\d.]+)/", proc.stdout)
            outcome = f"score {found.group(1)}" if found else f"exit {proc.returncode}"
        except subprocess.TimeoutExpired:
            outcome = "timeout"
        seconds = time.perf_counter() - started
        if kinds[sid] == "correct" and outcome != f"score {max_score:.2f}":
            raise BenchError(f"naive_check on {sid} (correct): {outcome}\n"
                             f"{'' if outcome == 'timeout' else proc.stdout[-1000:] + proc.stderr[-2000:]}")
        times[sid] = (kinds[sid], seconds, outcome)
    return times


def naive_estimates(times: dict, class_kinds: dict) -> tuple[float, float]:
    """(class mean seconds per submission, weighted by the class's kinds; mean over correct ones)."""
    per_kind = {}
    for kind, seconds, _ in times.values():
        per_kind.setdefault(kind, []).append(seconds)
    counts = {}
    for kind in class_kinds.values():
        counts[kind] = counts.get(kind, 0) + 1
    mean = sum(counts[k] * statistics.mean(per_kind[k]) for k in counts) / len(class_kinds)
    return mean, statistics.mean(per_kind["correct"])


def bench_bulk_vs_naive(tmp: Path, students: int, rounds: int, sample_size: int, jobs: int,
                        naive_timeout: float, rows: list, notes: list, baseline: Path | None = None):
    from grader.model.assignment import load_assignment
    from grader.bulk.intake import discover

    assignment = load_assignment(ROOT / "assignment.yaml")
    max_score, timeout = assignment.max_score, assignment.timeout
    log("2. the floors: a fork, the student's own computation; the slowest correct submission")
    floor = bulk_floor(tmp, jobs)
    loops = loops_submission(tmp, max_score)
    log(f"   generating two classes of {students}")
    mixed_kinds = make_class(tmp / "mixed", students, MIX, seed=1)
    correct_kinds = make_class(tmp / "correct", students, {"correct": 1.0}, seed=2)
    entries = {e.student_id: e.path for e in discover(tmp / "mixed", tmp / "naive-intake")}
    sample = stratified_sample(mixed_kinds, sample_size)
    composition = {k: sum(mixed_kinds[s] == k for s in sample) for k in MIX}
    notes.append("naive sample: " + ", ".join(f"{v} {k}" for k, v in composition.items() if v)
                 + " (class: " + ", ".join(f"{sum(v == k for v in mixed_kinds.values())} {k}" for k in MIX) + ")")

    mixed, correct, naive, before = [], [], [], []
    for r in range(rounds):
        log(f"   round {r + 1}/{rounds}: bulk, mixed class")
        mixed.append(bulk_run(tmp / "mixed", tmp / "out", jobs, mixed_kinds, max_score))
        log(f"   round {r + 1}/{rounds}: naive, {len(sample)} submissions")
        naive.append(naive_run(entries, sample, mixed_kinds, naive_timeout, max_score, tmp))
        log(f"   round {r + 1}/{rounds}: bulk, all-correct class")
        correct.append(bulk_run(tmp / "correct", tmp / "out", jobs, correct_kinds, max_score))
        if baseline is not None:
            log(f"   round {r + 1}/{rounds}: bulk, all-correct class, the baseline's grader ({baseline})")
            before.append(bulk_run(tmp / "correct", tmp / "out", jobs, correct_kinds, max_score, root=baseline))

    bulk_rate = [students / m["wall"] for m in mixed]
    correct_rate = [students / c["wall"] for c in correct]
    naive_mean, naive_correct_mean = zip(*(naive_estimates(t, mixed_kinds) for t in naive))
    ratio = [b * m for b, m in zip(bulk_rate, naive_mean)]               # (n/wall) / (1/mean)
    ratio_correct = [b * m for b, m in zip(correct_rate, naive_correct_mean)]

    def correct_durations(run_):
        return median([r["duration"] for r in run_["results"].values() if r["kind"] == "correct"])
    in_mixed = [correct_durations(m) for m in mixed]
    in_correct = [correct_durations(c) for c in correct]
    isolation = [a / b for a, b in zip(in_mixed, in_correct)]

    statuses = {}
    for r in mixed[-1]["results"].values():
        key = f"{r['kind']}→{r['status']}"
        statuses[key] = statuses.get(key, 0) + 1
    notes.append("bulk, mixed class, kind→status: " + ", ".join(f"{v} {k}" for k, v in sorted(statuses.items())))
    slow = [r["duration"] for r in mixed[-1]["results"].values() if r["kind"] == "timeout"]
    naive_outcomes = {}
    for kind, _, outcome in naive[-1].values():
        key = f"{kind}→{outcome if not outcome.startswith('score') else 'score'}"
        naive_outcomes[key] = naive_outcomes.get(key, 0) + 1
    notes.append("naive, kind→outcome: " + ", ".join(f"{v} {k}" for k, v in sorted(naive_outcomes.items())))

    rows += [
        (f"`grade bulk` wall, {students} mixed submissions, -j {jobs}", spread([m["wall"] for m in mixed], digits=1),
         "", None),
        ("`grade bulk` submissions/s, mixed", spread(bulk_rate, "", 1), "", None),
        (f"`grade bulk` correct submissions/s ({students} all-correct / wall of that run: "
         f"{spread([c['wall'] for c in correct], digits=1)})", spread(correct_rate, "", 1), "≥ 30",
         median(correct_rate) >= 30),
        (f"floor: {jobs} cores / (a fork of a Python holding NumPy {floor['fork'] * 1000:.1f} ms + the student's own "
         f"computation, all {floor['cases']} cases, {floor['compute'] * 1000:.1f} ms)",
         f"{floor['rate']:.0f} submissions/s", "", None),
        ("`grade bulk` correct submissions/s / floor", f"{median(correct_rate) / floor['rate']:.2f}", "", None),
        ("`grade bulk` CPU per correct submission (user + sys of every process of the run, all-correct class)",
         spread([1000 * c["cpu"] / students for c in correct], "ms", 1), "", None),
        (f"`grade bulk` correct submissions/s were the {jobs} cores its own: {jobs} / CPU per submission",
         spread([jobs * students / c["cpu"] for c in correct], "", 1), "", None),
        (f"naive, mean s per submission (class-weighted, sample of {len(sample)}, timeout {naive_timeout:.0f} s)",
         spread(list(naive_mean)), "", None),
        ("naive, extrapolated submissions/s", spread([1 / m for m in naive_mean], "", 2), "", None),
        (f"naive, correct only: mean s per submission ({composition['correct']} in the sample)",
         spread(list(naive_correct_mean)), "", None),
        ("naive, correct only: submissions/s", spread([1 / m for m in naive_correct_mean], "", 2), "", None),
        ("bulk / naive, overall (mixed)", f"{median(ratio):.1f}×", "≥ 10×", median(ratio) >= 10),
        ("bulk / naive, correct only", f"{median(ratio_correct):.1f}×", "≥ 10×", median(ratio_correct) >= 10),
        ("median duration of a correct submission: mixed run vs all-correct run",
         f"{median(in_mixed):.3f} s vs {median(in_correct):.3f} s ({median(isolation):.2f}×)", "≤ 1.25×",
         median(isolation) <= 1.25),
    ]
    if before:
        before_rate = [students / b["wall"] for b in before]
        rows += [
            (f"baseline ({baseline}): `grade bulk` correct submissions/s, the same class, alternately",
             spread(before_rate, "", 1), "", None),
            ("baseline: CPU per correct submission", spread([1000 * b["cpu"] / students for b in before], "ms", 1),
             "", None),
            ("this grader / baseline: correct submissions/s · CPU per submission (median of per-round ratios)",
             f"{median([b['wall'] / c['wall'] for b, c in zip(before, correct)]):.2f}× · "
             f"{median([c['cpu'] / b['cpu'] for b, c in zip(before, correct)]):.2f}×", "", None),
        ]
    if slow:
        rows.append((f"a submission with a looping function (mixed run, median of {len(slow)}; the case timeout is "
                     f"{timeout:.0f} s)", f"{median(slow):.2f} s", f"one timeout: < {timeout + 1:.0f} s",
                     median(slow) < timeout + 1))
    rows.append((f"slowest correct submission (every matrix product a pure-Python loop): its slowest case, "
                 f"{loops['slowest']}, vs its limit", f"{loops['seconds'] * 1000:.1f} ms of {loops['timeout']:.0f} s "
                 f"({100 * loops['seconds'] / loops['timeout']:.2f} %); all {len(loops['cases'])} cases "
                 f"{loops['total'] * 1000:.0f} ms", "well below the limit", loops["seconds"] < loops["timeout"] / 10))


# --- 3. peak RSS of a bulk run ---------------------------------------------------------------------

def _proc_snapshot() -> dict:
    """{pid: ppid} of every process."""
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            parents[int(name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    return parents


def _vm_hwm_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def bench_rss(tmp: Path, students: int, jobs: int, rows: list, notes: list, interval: float = 0.05):
    if not Path("/proc/self/status").is_file():
        rows.append(("peak RSS", "not measured: no /proc", "", None))
        return
    log(f"3. peak RSS: grade bulk on {students} all-correct submissions")
    kinds = make_class(tmp / "rss", students, {"correct": 1.0}, seed=3)
    out = tmp / "rss-out"
    argv = [PY, "-m", "grader.cli", "bulk", str(tmp / "rss"), "--out", str(out), "-j", str(jobs), "--quiet"]
    stdout, stderr = open(tmp / "rss.stdout", "w+"), open(tmp / "rss.stderr", "w+")
    started = time.perf_counter()
    main = subprocess.Popen(argv, cwd=ROOT, stdout=stdout, stderr=stderr)
    main_cmd = None
    peak = {"main": 0, "pool": 0, "template": 0, "worker": 0, "other": 0}
    seen = {k: set() for k in peak}
    cmdlines: dict = {}
    while main.poll() is None:
        parents = _proc_snapshot()
        children = {}
        for pid, ppid in parents.items():
            children.setdefault(ppid, []).append(pid)
        family, todo = [], [main.pid]
        while todo:
            pid = todo.pop()
            family.append(pid)
            todo += children.get(pid, [])
        for pid in family:  # every command line first: a child may come before its parent
            key = (pid, parents.get(pid))
            if key not in cmdlines:
                cmdlines[key] = _cmdline(pid)
        for pid in family:
            key = (pid, parents.get(pid))
            cmd = cmdlines[key]
            if not cmd:
                continue
            if pid == main.pid:
                main_cmd = main_cmd or cmd
                kind = "main"
            elif "worker.py" in cmd:
                parent_cmd = cmdlines.get((parents.get(pid), parents.get(parents.get(pid))), "")
                kind = "worker" if "worker.py" in parent_cmd else "template"
            elif cmd == main_cmd:
                kind = "pool"
            else:
                kind = "other"
            hwm = _vm_hwm_kb(pid)
            if hwm:
                peak[kind] = max(peak[kind], hwm)
                seen[kind].add(key)
        time.sleep(interval)
    wall = time.perf_counter() - started
    stdout.seek(0), stderr.seek(0)
    if main.returncode != 0:
        raise BenchError(f"`{shlex.join(argv)}` exited {main.returncode}:\n{stdout.read()[-2000:]}\n"
                         f"{stderr.read()[-3000:]}")
    graded = len(list((out / "results").glob("*.json")))
    shutil.rmtree(out, ignore_errors=True)
    if graded != len(kinds):
        raise BenchError(f"grade bulk (RSS run): {graded} results for {len(kinds)} students")
    mb = {k: v / 1024 for k, v in peak.items()}
    notes.append(f"RSS run: {students} submissions in {wall:.1f} s; processes seen: "
                 + ", ".join(f"{len(v)} {k}" for k, v in seen.items() if v))
    rows += [
        (f"peak RSS, `grade bulk` main process ({students} submissions, VmHWM every {interval * 1000:.0f} ms)",
         f"{mb['main']:.0f} MB", "< 300 MB", 0 < mb["main"] < 300),
        ("peak RSS, a pool process (largest)", f"{mb['pool']:.0f} MB" if seen["pool"] else "none seen", "", None),
        ("peak RSS, the worker template (largest)", f"{mb['template']:.0f} MB" if seen["template"] else "none seen",
         "", None),
        ("peak RSS, one worker (largest)", f"{mb['worker']:.0f} MB" if seen["worker"] else "none seen", "", None),
    ]
    if seen["other"]:
        rows.append(("peak RSS, other descendants (largest)", f"{mb['other']:.0f} MB", "", None))


# --- the report -------------------------------------------------------------------------------------

def table(rows) -> str:
    lines = ["| measure | value | target | met? |", "| --- | ---: | --- | --- |"]
    for measure, value, target, met in rows:
        lines.append(f"| {measure} | {value} | {target} | {'' if met is None else 'yes' if met else '**no**'} |")
    return "\n".join(lines)


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, help=f"class size for bulk and naive (default {DEFAULTS['students']})")
    p.add_argument("--runs", type=int, help=f"grade / pytest pairs (default {DEFAULTS['runs']})")
    p.add_argument("--bulk-runs", type=int, help=f"rounds of bulk mixed / naive / bulk all-correct "
                                                 f"(default {DEFAULTS['bulk_runs']})")
    p.add_argument("--naive-sample", type=int, help=f"submissions the naive loop runs (default "
                                                    f"{DEFAULTS['naive_sample']})")
    p.add_argument("--naive-timeout", type=float, help="seconds per naive submission (default 30, nbgrader's "
                                                       "cell timeout; 5 with --quick)")
    p.add_argument("--rss-students", type=int, help=f"class size of the RSS run (default {DEFAULTS['rss_students']})")
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count(), help="grade bulk -j (default: all cores)")
    p.add_argument("--baseline", type=Path, help="another checkout of the grader (e.g. `git worktree add "
                                                 "../before HEAD`): its `grade bulk` also runs on the all-correct "
                                                 "class in every round, alternately with this one's")
    p.add_argument("--quick", action="store_true", help="tiny sizes, a smoke test: " +
                   ", ".join(f"{k} {v}" for k, v in QUICK.items()))
    p.add_argument("--only", choices=["grade", "bulk", "rss"], action="append", help="run only these parts")
    args = p.parse_args(argv)
    for key, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv=None) -> int:
    args = parse(argv)
    # a student's machine writes the .pyc of what it imports: so do the commands measured here
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parts = args.only or ["grade", "bulk", "rss"]
    header = machine()
    rows, notes, failures = [], [], []
    with tempfile.TemporaryDirectory(prefix="grade-speed-") as tmp:
        tmp = Path(tmp)
        benches = {"grade": lambda: bench_grade_vs_pytest(tmp, args.runs, rows, notes),
                   "bulk": lambda: bench_bulk_vs_naive(tmp, args.students, args.bulk_runs, args.naive_sample,
                                                       args.jobs, args.naive_timeout, rows, notes,
                                                       args.baseline.resolve() if args.baseline else None),
                   "rss": lambda: bench_rss(tmp, args.rss_students, args.jobs, rows, notes)}
        for name in parts:
            try:
                benches[name]()
            except (BenchError, subprocess.TimeoutExpired) as exc:
                rows.append((f"{name}: FAILED (see below)", "—", "", False))
                failures.append(f"### {name}\n\n```\n{exc}\n```")
    print("# Grader speed\n")
    print("\n".join(header) + "\n")
    print(table(rows))
    if notes:
        print("\nNotes:\n\n" + "\n".join(f"- {n}" for n in notes))
    if failures:
        print("\nFailures:\n\n" + "\n\n".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
