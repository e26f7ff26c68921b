"""`grade bulk`: a whole class, in parallel, resumable.

SUBMISSIONS → intake (one entry per student: folders, files, zips, Moodle and Canvas exports)
→ one job per student in a pool of grader processes → `DIR/reports/<id>.html`, then
`DIR/results/<id>.json`, each written atomically (temporary file, fsync, rename) the moment
that student is done → at the end, the class files: `results.jsonl`, the gradebooks and
`index.html`, all rebuilt from `results/`. A run killed at any moment (Ctrl-C, `kill -9`, power
loss) loses at most the students being graded: the next run skips every student whose result
file is there for the same submission content (`--force` regrades everyone).
"""
from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .assignment import Assignment, load_assignment
from .errors import GraderError
from .files import atomic_write, atomic_writer
from .intake import Entry, discover
from .replay import detect_shell
from .result import SCHEMA_VERSION, Result

RESULTS, REPORTS, INTAKE = "results", "reports", ".intake"


@dataclass
class Summary:
    graded: int = 0                    # this run
    skipped: int = 0                   # already graded, same content (resumed)
    statuses: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)   # (student id, grader error): not the student's fault
    outputs: list = field(default_factory=list)
    seconds: float = 0.0


# --- writing without ever leaving a half-written file ------------------------------------------

def _remove_temporaries(*folders: Path):
    for folder in folders:
        for stale in folder.glob(".*.tmp"):  # a run killed mid-write
            stale.unlink(missing_ok=True)


# --- one student (runs in a pool process) ------------------------------------------------------

_POOL: dict = {}


def _start_pool_process(assignment_path: str, protect: list):
    """Each pool process loads the assignment and the reference once, then grades many students."""
    from .engine import Expectations, select_cases
    from .sandbox import prepare
    prepare()  # starts now (Python, NumPy), while the reference loads: forks for every student
    assignment = load_assignment(Path(assignment_path))
    _POOL.update(assignment_path=assignment_path, assignment=assignment,
                 expectations=Expectations(assignment, use_reference=True), cases=select_cases(assignment),
                 protect=protect)


def student_record(entry: Entry) -> dict:
    return {"id": entry.student_id, "name": entry.name, "origin": entry.origin,
            "fingerprint": entry.fingerprint, "source": str(entry.source)}


def invalid_result(assignment: Assignment, entry: Entry, reason: str) -> Result:
    return Result(submission=str(entry.source), seed=assignment.seed, score=0.0,
                  max_score=sum(e.points for e in assignment.exercises), exercises=[], notes=[reason],
                  student=student_record(entry), status="invalid")


def grade_student(entry: Entry, out: Path, shell: str | None = None) -> dict:
    """Grade one student and write their report and result. Returns a line for the progress log.
    `shell`: what the report's replay commands are quoted for — the instructor's, i.e. the shell
    of the machine running `grade bulk` (detected there, passed to the pool or the cluster)."""
    from .cases import student_seed
    from .engine import grade
    from .html_report import render_html
    from .replay import replay_command
    from .submission import load_submission

    assignment = _POOL["assignment"]
    started = time.monotonic()
    try:
        if entry.problem:
            result = invalid_result(assignment, entry, entry.problem)
        else:
            try:
                submission = load_submission(entry.path, assignment.package)
            except GraderError as exc:  # unreadable: the student's, not the grader's
                result = invalid_result(assignment, entry, str(exc))
            else:
                plan = _POOL["expectations"].plan(_POOL["cases"], student=entry.student_id)
                result = grade(assignment, submission, plan, student=student_record(entry), protect=_POOL["protect"])
        result.duration = time.monotonic() - started
        hidden_seed = student_seed(assignment.salt, entry.student_id)
        path = entry.path or entry.source
        visibility = {c.id: c.visibility for c in _POOL["cases"]}

        def replay(case_id):
            seed = hidden_seed if visibility.get(case_id) == "hidden" else assignment.seed
            return replay_command(case_id, path, seed, shell=shell)

        # the report first: a result file always has its report beside it
        atomic_write(out / REPORTS / f"{entry.student_id}.html", render_html(result, assignment, replay))
        atomic_write(out / RESULTS / f"{entry.student_id}.json",
                     json.dumps(result.to_json(instructor=True), separators=(",", ":")))
    except GraderError as exc:
        return {"id": entry.student_id, "error": str(exc)}
    return {"id": entry.student_id, "status": result.status, "score": result.score, "duration": result.duration}


# --- the class -----------------------------------------------------------------------------------

def _already_graded(path: Path, entry: Entry) -> bool:
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (type(previous) is dict and previous.get("schema_version") == SCHEMA_VERSION
            and (previous.get("student") or {}).get("fingerprint") == entry.fingerprint
            and (path.parent.parent / REPORTS / f"{entry.student_id}.html").is_file())


def _check_folders(submissions: Path, out: Path):
    submissions, out = submissions.resolve(), out.resolve()
    if not submissions.is_dir():
        raise GraderError(f"{submissions}: no such folder. Give the folder holding one entry per student "
                          f"(or an extracted Moodle or Canvas export).")
    if out == submissions or submissions in out.parents or out in submissions.parents:
        raise GraderError(f"--out {out} and the submissions {submissions} overlap: the results would become "
                          f"submissions. Choose an output folder outside the submissions.")


def run_bulk(assignment: Assignment, submissions: Path, out: Path, jobs: int | None = None, force: bool = False,
             progress: bool = True, canvas_column: str | None = None, dask: str | None = None) -> Summary:
    from .expected import reference_available

    if not reference_available(assignment):
        raise GraderError("grade bulk needs the reference (the instructor's repository): hidden cases are "
                          "computed from it for each student.")
    _check_folders(submissions, out)
    started = time.monotonic()
    summary = Summary()
    for folder in (out, out / RESULTS, out / REPORTS):
        folder.mkdir(parents=True, exist_ok=True)
    _remove_temporaries(out, out / RESULTS, out / REPORTS)
    work = out / INTAKE  # extracted zips and grouped Canvas files, kept so that replays work
    shutil.rmtree(work, ignore_errors=True)
    entries = discover(submissions, work)

    todo = []
    for entry in entries:
        if not force and _already_graded(out / RESULTS / f"{entry.student_id}.json", entry):
            summary.skipped += 1
        else:
            todo.append(entry)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    protect = [str(submissions.resolve()), str(out.resolve())]
    shell = detect_shell()  # the instructor's: they paste the reports' replay commands
    if todo and dask:
        from .bulk_dask import grade_on_cluster
        grade_on_cluster(dask, assignment, todo, out, protect, progress, summary, _record, shell=shell)
    elif todo:
        _grade_all(assignment, todo, out, jobs, protect, progress, summary, shell)

    summary.outputs, summary.statuses = write_class_files(assignment, entries, out, canvas_column)
    summary.seconds = time.monotonic() - started
    return summary


def _grade_all(assignment, todo, out, jobs, protect, progress, summary, shell=None):
    from tqdm import tqdm

    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    bar = tqdm(total=len(todo), unit="student", disable=not progress, file=sys.stderr, dynamic_ncols=True,
               desc="grading")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_pool_process,
                             initargs=(str(assignment.path), protect)) as pool:
        try:
            futures = [pool.submit(grade_student, entry, out, shell) for entry in todo]
            for future in as_completed(futures):
                _record(future.result(), summary)
                bar.update(1)
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
            raise
    bar.close()


def _record(line: dict, summary: Summary):
    if "error" in line:
        summary.failures.append((line["id"], line["error"]))
    else:
        summary.graded += 1


def _results(entries: list[Entry], out: Path):
    """The current class's results, one at a time (never all the submissions' texts at once)."""
    for entry in sorted(entries, key=lambda e: e.student_id):
        path = out / RESULTS / f"{entry.student_id}.json"
        try:
            yield json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not graded (a grader failure): reported in the summary


_CASE_KEYS = ("id", "function", "visibility", "kind", "status", "message", "diagnosis", "mistake", "points",
              "max_points")


def compact(result: dict) -> dict:
    """What the gradebooks and the class overview read of one result, and no more: per-case
    details and the repeated words are what make 1,000 full results weigh hundreds of MB."""
    short = {k: v for k, v in result.items() if k != "exercises"}
    short["exercises"] = [
        {**{k: v for k, v in e.items() if k != "cases"},
         "cases": [_compact_case(c) for c in e.get("cases", []) if type(c) is dict]}
        for e in result.get("exercises", []) if type(e) is dict] if type(result.get("exercises")) is list else []
    return short


def _compact_case(case: dict) -> dict:
    short = {k: sys.intern(v) if type(v) is str and k not in ("message", "diagnosis") else v
             for k, v in case.items() if k in _CASE_KEYS}
    details = case.get("details")
    if type(details) is dict and details.get("worker"):  # what crashed the worker, for the overview
        short["details"] = {"worker": details["worker"]}
    return short


def write_class_files(assignment: Assignment, entries: list[Entry], out: Path,
                      canvas_column: str | None) -> tuple[list, dict]:
    """The class files, from one pass over results/; returns (files written, {status: students})."""
    from .class_report import write_class_report
    from .gradebook import write_gradebooks

    results, statuses = [], {}  # results.jsonl streamed to disk, a compact copy kept
    with atomic_writer(out / "results.jsonl") as jsonl:
        for result in _results(entries, out):
            jsonl.write(json.dumps(result, separators=(",", ":")).encode("utf-8") + b"\n")
            results.append(compact(result))
            status = result.get("status") if type(result) is dict else None
            if type(status) is str and status:
                statuses[status] = statuses.get(status, 0) + 1
    exercises = [(e.name, e.points) for e in assignment.exercises]
    written = [out / "results.jsonl"]
    written += write_gradebooks(results, exercises, out, assignment.title, canvas_column)
    written.append(write_class_report(results, assignment, out))
    return written, statuses
