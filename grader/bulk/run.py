"""`grade bulk`: a whole class, in parallel, resumable; one student costs only their own points.

SUBMISSIONS → intake (one entry per student: folders, files, zips, Moodle and Canvas exports)
→ one job per student in a pool of grader processes → `DIR/reports/<id>.html`, then
`DIR/results/<id>.json`, each written atomically (temporary file, fsync, rename) the moment
that student is done → at the end, the class files: `results.jsonl`, the gradebooks and
`index.html`, all rebuilt from `results/`.

Whatever goes wrong while grading one student — a bug in the grader reached through a hostile
value, a worker or a sandbox that cannot start, the grading process killed (the OOM killer) or
taking longer than the submission's budget plus a margin (it is then stopped and replaced) —
becomes that student's result, status `error`, with the reason in plain words (the traceback
goes to `DIR/grading-errors.log`); the others are graded, and the class files list everyone.

A run killed at any moment (Ctrl-C, `kill -9`, power loss) loses at most the students being
graded: the next run skips every student whose result was graded from the same submission,
with the same course (assignment file, reference, course code, mistakes), the same grader and
in the same language; it regrades the others, and those it could not grade, and says why
(`--force` regrades everyone).
"""
from __future__ import annotations

import hashlib
import html
import json
import multiprocessing
import os
import shutil
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from grader.model.assignment import Assignment
from grader.model.errors import GraderError
from grader.model.files import atomic_write, atomic_writer
from grader.i18n import language, t
from grader.bulk.intake import Entry, discover
from grader.model.replay import detect_shell
from grader.model.result import SCHEMA_VERSION
from grader.bulk.student import (DEFAULT_BUDGET, ERROR_LOG, REPORTS, RESULTS, clip, failure_reason, grade_student,
                                 log_failure, overtime_margin, start_pool_process, time_limit, write_error_result)

INTAKE = ".intake"
INPUTS_FILE = ".graded-with.json"   # the files behind each course and grader fingerprint, to say what changed
START_TIMEOUT = 120.0               # seconds for a pool process to load the assignment and the reference
START_ATTEMPTS = 3                  # pool processes failing to start in a row before giving up
STOP_TIMEOUT = 30.0                 # seconds for a pool process to clean up and leave at the end
IN_FLIGHT = 2                       # students a pool process grades at once (its workers wait on the kernel)
KEPT_INPUTS = 20                    # fingerprints remembered in INPUTS_FILE, per kind


@dataclass
class Summary:
    graded: int = 0                    # this run
    skipped: int = 0                   # already graded with the same submission, course, grader, language
    regraded: list = field(default_factory=list)   # [(students, why)]: graded before, regraded now
    statuses: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)   # (student id, reason): status error, not the student's fault
    problems: list = field(default_factory=list)   # class files that could not be built as they should
    error_log: Path | None = None      # DIR/grading-errors.log when there were failures
    outputs: list = field(default_factory=list)
    notices: list = field(default_factory=list)    # what the instructor should know (students left out of the Moodle zip)
    seconds: float = 0.0


# --- writing without ever leaving a half-written file ------------------------------------------

def _remove_temporaries(*folders: Path):
    for folder in folders:
        for stale in folder.glob(".*.tmp"):  # a run killed mid-write
            stale.unlink(missing_ok=True)


# --- what a result was graded with ---------------------------------------------------------------

def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 16), b""):
                digest.update(chunk)
    except OSError:
        return "unreadable"
    return digest.hexdigest()


def _label(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def _digest_tree(top: Path, base: Path, found: dict):
    """{label: sha256} of a file, or of every file below a folder (no caches, no hidden files)."""
    if top.is_file():
        found[_label(top, base)] = _file_digest(top)
        return
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and not name.endswith((".pyc", ".pyo")):
                path = Path(folder) / name
                found[_label(path, base)] = _file_digest(path)


def course_inputs(assignment: Assignment) -> dict:
    """{file: sha256} of what the course is, apart from the students' package: the assignment
    file, reference/ and course/, and every package the assignment names (reference, mistakes,
    generators, properties)."""
    import importlib.util

    root, found = assignment.root, {}
    _digest_tree(assignment.path, root, found)
    tops = {"reference", "course"} | {name.split(".")[0] for name in
                                      (assignment.reference, assignment.mistakes, *assignment.generators,
                                       assignment.properties) if name}
    for top in sorted(tops - {assignment.package}):
        if (root / top).is_dir():
            _digest_tree(root / top, root, found)
        elif (root / f"{top}.py").is_file():
            _digest_tree(root / f"{top}.py", root, found)
        elif top not in ("reference", "course"):  # installed elsewhere
            try:
                spec = importlib.util.find_spec(top)
            except (ImportError, ValueError):
                spec = None
            for place in (spec.submodule_search_locations or [spec.origin]) if spec else []:
                if place and Path(place).exists():
                    _digest_tree(Path(place), root, found)
    return found


def grader_inputs() -> dict:
    """{file: sha256} of this grader package (code, catalogs, templates, schemas): its version
    number is rarely bumped, its files say what it is."""
    from grader import PACKAGE
    found = {}
    _digest_tree(PACKAGE, PACKAGE.parent, found)
    return found


def inputs_digest(files: dict) -> str:
    return hashlib.sha256(json.dumps(sorted(files.items())).encode("ascii")).hexdigest()


def graded_with(assignment: Assignment) -> tuple[dict, dict]:
    """(stamp, files): what this run grades with — {"course", "grader": fingerprints, "language"},
    recorded in each result — and {"course": files, "grader": files} behind the fingerprints."""
    files = {"course": course_inputs(assignment), "grader": grader_inputs()}
    stamp = {"course": inputs_digest(files["course"]), "grader": inputs_digest(files["grader"]),
             "language": language()}
    return stamp, files


def _load_inputs(out: Path) -> dict:
    try:
        known = json.loads((out / INPUTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {kind: {k: v for k, v in known.get(kind, {}).items() if type(v) is dict}
            for kind in ("course", "grader") if type(known.get(kind)) is dict} if type(known) is dict else {}


def _save_inputs(out: Path, known: dict, stamp: dict, files: dict):
    """Remember which files made this run's fingerprints: a later run names the files that changed."""
    kept = {}
    for kind in ("course", "grader"):
        entries = {k: v for k, v in known.get(kind, {}).items() if k != stamp[kind]}
        entries[stamp[kind]] = files[kind]
        kept[kind] = dict(list(entries.items())[-KEPT_INPUTS:])
    try:
        atomic_write(out / INPUTS_FILE, json.dumps(kept, separators=(",", ":")))
    except OSError:
        pass  # only the explanation of a later run suffers


def _why_regrade(out: Path, entry: Entry, stamp: dict) -> tuple | None:
    """None: this student's result was graded from the same submission, course, grader and
    language (skip them). Else why they are graded again: () when they never were."""
    path = out / RESULTS / f"{entry.student_id}.json"
    if not path.exists():
        return ()
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return (("unreadable",),)
    if type(previous) is not dict or previous.get("schema_version") != SCHEMA_VERSION:
        return (("unreadable",),)
    if previous.get("status") == "error":  # not the student's doing: tried again at every run
        return (("error",),)
    student = previous.get("student") if type(previous.get("student")) is dict else {}
    reasons = []
    if student.get("fingerprint") != entry.fingerprint:
        reasons.append(("submission",))
    before = student.get("graded_with")
    if type(before) is not dict:
        reasons.append(("unstamped",))
    else:
        for kind in ("course", "grader"):
            if before.get(kind) != stamp[kind]:
                reasons.append((kind, str(before.get(kind))))
        if before.get("language") != stamp["language"]:
            reasons.append(("language", str(before.get("language"))))
    if not (out / REPORTS / f"{entry.student_id}.html").is_file():
        reasons.append(("report",))
    return tuple(reasons) or None


def _changed_files(before: dict, now: dict) -> str:
    names = sorted(name for name in set(before) | set(now) if before.get(name) != now.get(name))
    if len(names) <= 6:
        return ", ".join(names)
    return t("bulk.more_files", files=", ".join(names[:6]), count=len(names) - 6)


def _why_text(reasons: tuple, known: dict, stamp: dict, files: dict) -> str:
    """The reasons a student is regraded, in words: "the course changed (assignment.yaml)"."""
    texts = []
    for reason in reasons:
        kind = reason[0]
        if kind in ("course", "grader"):
            before = known.get(kind, {}).get(reason[1])
            changed = _changed_files(before, files[kind]) if before is not None else ""
            if kind == "course":
                texts.append(t("bulk.because_course", files=changed) if changed else t("bulk.because_course_unknown"))
            else:
                texts.append(t("bulk.because_grader", files=changed) if changed else t("bulk.because_grader_unknown"))
        elif kind == "language":
            texts.append(t("bulk.because_language", before=reason[1], now=stamp["language"]))
        elif kind == "submission":
            texts.append(t("bulk.because_submission"))
        elif kind == "unstamped":
            texts.append(t("bulk.because_unstamped"))
        elif kind == "error":
            texts.append(t("bulk.because_error"))
        elif kind == "report":
            texts.append(t("bulk.because_report"))
        elif kind == "unreadable":
            texts.append(t("bulk.because_unreadable"))
        else:
            texts.append(t("bulk.because_force"))
    return t("bulk.separator").join(texts)


# --- one student (runs in a pool process) ------------------------------------------------------


def _pool_main(connection, assignment_path: str, protect: list, lang: str, budget: float, out: str):
    """A pool process: start (assignment, reference, worker template), say "ready", then grade
    the students it is given, each in a thread of its own (at most IN_FLIGHT at once: one's
    worker runs while the other's results are judged and written), until told to stop; then
    remove its temporary folders."""
    import gc
    import signal
    import threading
    import warnings

    from grader.i18n import set_language
    from grader.sandbox.tempfiles import remove_own

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the main process stops the pool
    warnings.simplefilter("ignore")  # never on the terminal, whatever two threads' catch_warnings leave behind
    set_language(lang)                             # spawned processes do not inherit it
    os.environ["GRADE_BUDGET"] = repr(float(budget))  # read by sandbox.Limits for each submission
    try:
        try:
            start_pool_process(assignment_path, protect)
        except Exception as exc:
            reason = failure_reason(exc)
            log_failure(Path(out), None, reason, exc)
            connection.send(("start_failed", reason))
            return
        # what was loaded lives as long as the process: the cyclic collector need not scan it again
        # at every collection, nor start one every 700 allocations of a student's grading
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)
        connection.send(("ready",))
        sending = threading.Lock()
        threads = []

        def one(entry, shell, stamp):
            try:
                line = grade_student(entry, Path(out), shell, stamp)
            except Exception as exc:  # grade_student does not raise; should it ever, still this student's
                line = {"id": entry.student_id, "status": "error", "error": failure_reason(exc), "unwritten": True}
            try:
                with sending:
                    connection.send(("done", line))
            except (OSError, ValueError):
                pass

        while True:
            try:
                job = connection.recv()
            except (EOFError, OSError):  # the main process is gone
                break
            if job is None:
                break
            _, entry, shell, stamp = job
            threads = [thread for thread in threads if thread.is_alive()]
            thread = threading.Thread(target=one, args=(entry, shell, stamp), name=f"grade-{entry.student_id}",
                                      daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
    finally:
        remove_own()


class _PoolProcess:
    """One pool process, seen from the main process: what it grades, and until when."""

    def __init__(self, context, args: tuple):
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_pool_main, args=(theirs, *args), name="grade-bulk")
        self.process.start()
        theirs.close()
        self.entries: list = []                              # [(student, deadline)] it grades now, oldest first
        self.ready = False
        self.started = time.monotonic() + START_TIMEOUT      # until when it may take to start
        self.start_error = None
        self.gone = False

    @property
    def deadline(self) -> float | None:
        if not self.ready:
            return self.started
        return min((deadline for _, deadline in self.entries), default=None)

    def give(self, entry: Entry, job: tuple, limit: float) -> bool:
        try:
            self.connection.send(("grade", entry, *job))
        except (OSError, ValueError):
            self.gone = True
            return False
        self.entries.append((entry, time.monotonic() + limit))
        return True

    def done(self, student_id) -> Entry | None:
        """The student of a "done" message, no longer in its hands (None: not one it was given)."""
        for i, (entry, _) in enumerate(self.entries):
            if entry.student_id == student_id:
                del self.entries[i]
                return entry
        return None

    def messages(self) -> list:
        found = []
        try:
            while self.connection.poll():
                found.append(self.connection.recv())
        except Exception:  # EOFError: it is gone (a message it could not finish is lost with it)
            self.gone = True
        return found

    def stop(self):
        try:
            self.connection.send(None)
        except (OSError, ValueError):
            pass

    def kill(self):
        if self.process.is_alive():
            self.process.kill()
        self.process.join(10)
        self.connection.close()

    def death(self) -> str:
        """How it ended, in words."""
        import signal
        code = self.process.exitcode
        if code is None:
            return t("bulk.died_unknown")
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return t("bulk.died_killed", signal=name) if name == "SIGKILL" else t("bulk.died_signal", signal=name)
        return t("bulk.died_status", code=code)


def _pool_context():
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _pool_args(assignment, protect, budget, out) -> tuple:
    return (str(assignment.path), protect, language(), budget, str(out))


def _start_early(assignment, protect, budget, out, jobs: int | None) -> list:
    """The pool processes, started before the submissions are found and checked: they load the
    assignment, the reference and their worker template (a few tenths of a second) while this
    process reads the class, instead of after it. `_fit_early` keeps those the class needs."""
    context, args = _pool_context(), _pool_args(assignment, protect, budget, out)
    return [_PoolProcess(context, args) for _ in range(max(1, jobs or os.cpu_count() or 1))]


def _fit_early(pool: list, wanted: int) -> list:
    """The first `wanted` processes of an early pool; the others are killed (they grade no one:
    what they were loading is lost, their temporary folders are removed with the stale ones)."""
    for p in pool[wanted:]:
        p.kill()
    return pool[:wanted]


def _grade_all(assignment, todo, out, jobs, protect, progress, summary, shell=None, stamp=None,
               budget=DEFAULT_BUDGET, fail=None, graded=None, early=None):
    """Grade `todo` in `jobs` pool processes (`early`: those already started, `_start_early`).
    A process that dies (the OOM killer) or takes longer than time_limit(budget) for one student
    costs that student alone (an error result) and is replaced; the other students are graded."""
    from multiprocessing.connection import wait

    from tqdm import tqdm

    context = _pool_context()
    args = _pool_args(assignment, protect, budget, out)
    limit = time_limit(budget)
    queue = deque(todo)
    bar = tqdm(total=len(todo), unit="student", disable=not progress, file=sys.stderr, dynamic_ncols=True,
               desc="grading")
    pool: list[_PoolProcess] = []
    failed_starts, started_once, start_error = 0, False, ""

    def failed(entry, reason, duration=0.0):
        fail(entry, reason, duration)
        bar.update(1)

    try:
        pool = list(early) if early else [_PoolProcess(context, args) for _ in range(jobs)]
        while queue or any(p.entries for p in pool):
            for p in pool:
                while p.ready and len(p.entries) < IN_FLIGHT and not p.gone and queue:
                    entry = queue.popleft()
                    if not p.give(entry, (shell, stamp), limit):
                        queue.appendleft(entry)  # it died before taking it: the next one will
                        break
            deadlines = [p.deadline for p in pool if p.deadline is not None]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            wait([x for p in pool for x in (p.connection, p.process.sentinel)], timeout)
            now = time.monotonic()
            for p in list(pool):
                for message in p.messages():
                    kind = message[0] if type(message) is tuple and message else None
                    if kind == "ready":
                        p.ready = True
                        failed_starts, started_once = 0, True
                    elif kind == "start_failed":
                        p.start_error = start_error = str(message[1])
                    elif kind == "done" and p.entries:
                        line = message[1] if type(message[1]) is dict else {}
                        entry = p.done(line.get("id"))
                        if entry is None:  # a line for no student it holds: the oldest one's, unwritten
                            entry = p.entries.pop(0)[0]
                            failed(entry, line.get("error") or t("bulk.no_result"), line.get("duration", 0.0))
                        elif line.get("unwritten"):
                            failed(entry, line.get("error") or t("bulk.no_result"), line.get("duration", 0.0))
                        else:
                            _record(line, summary)
                            bar.update(1)
                            if graded is not None:
                                graded(entry)
                overdue = p.deadline is not None and now >= p.deadline
                if not (p.gone or overdue or not p.process.is_alive()):
                    continue
                p.kill()
                pool.remove(p)
                if p.entries:  # it was grading someone: the oldest student's (the one overdue), and only theirs
                    entry = p.entries.pop(0)[0]
                    reason = t("bulk.too_long", seconds=limit) if overdue else t("bulk.process_died", death=p.death())
                    log_failure(out, entry.student_id, reason)
                    failed(entry, reason, limit if overdue else 0.0)
                    for other, _ in reversed(p.entries):  # the others are graded again by another process
                        queue.appendleft(other)
                    p.entries = []
                elif not p.ready:
                    failed_starts += 1
                    start_error = p.start_error or (t("bulk.start_timeout", seconds=START_TIMEOUT) if overdue
                                                    else t("bulk.process_died", death=p.death()))
            if queue and failed_starts >= START_ATTEMPTS and not any(p.ready for p in pool):
                if not started_once:  # the course or this machine, not a student: nothing can be graded
                    raise GraderError(t("bulk.cannot_start", error=start_error, log=out / ERROR_LOG))
                while queue:
                    failed(queue.popleft(), t("bulk.could_not_start", error=start_error))
            busy = sum(bool(p.entries) for p in pool)
            while len(pool) < min(jobs, busy + len(queue)):
                pool.append(_PoolProcess(context, args))  # a replacement
    except KeyboardInterrupt:
        for p in pool:
            p.kill()
        raise
    finally:
        for p in pool:
            p.stop()
        for p in pool:
            p.process.join(STOP_TIMEOUT)
            p.kill()
        bar.close()


def _record(line: dict, summary: Summary):
    if "error" in line:
        summary.failures.append((line["id"], line["error"]))
    else:
        summary.graded += 1


# --- the class -----------------------------------------------------------------------------------

def _check_folders(submissions: Path, out: Path):
    submissions, out = submissions.resolve(), out.resolve()
    if not submissions.is_dir():
        raise GraderError(f"{submissions}: no such folder. Give the folder holding one entry per student "
                          f"(or an extracted Moodle or Canvas export).")
    if out == submissions or submissions in out.parents or out in submissions.parents:
        raise GraderError(f"--out {out} and the submissions {submissions} overlap: the results would become "
                          f"submissions. Choose an output folder outside the submissions.")


def run_bulk(assignment: Assignment, submissions: Path, out: Path, jobs: int | None = None, force: bool = False,
             progress: bool = True, canvas_column: str | None = None, dask: str | None = None,
             budget: float = DEFAULT_BUDGET) -> Summary:
    """Grade a class into `out`; `budget`: seconds for one submission, all its cases together."""
    from grader.grading.expected import reference_available
    from grader.sandbox.tempfiles import remove_stale

    if not reference_available(assignment):
        raise GraderError(t("bulk.needs_reference"))
    overtime_margin()  # a wrong GRADE_BULK_MARGIN is said now, not once students are being graded
    _check_folders(submissions, out)
    started = time.monotonic()
    summary = Summary()
    remove_stale()  # the temporary folders of an earlier run killed with its pool (their owners are dead)
    for folder in (out, out / RESULTS, out / REPORTS):
        folder.mkdir(parents=True, exist_ok=True)
    _remove_temporaries(out, out / RESULTS, out / REPORTS)
    (out / ERROR_LOG).unlink(missing_ok=True)  # this run's failures only: the earlier ones are retried
    work = out / INTAKE  # extracted zips and grouped Canvas files, kept so that replays work
    shutil.rmtree(work, ignore_errors=True)
    protect = [str(submissions.resolve()), str(out.resolve())]
    early = [] if dask else _start_early(assignment, protect, budget, out, jobs)
    try:
        return _run_started(assignment, submissions, out, work, jobs, force, progress, canvas_column, dask,
                            budget, summary, started, protect, early)
    finally:
        for p in early:  # stopped by _grade_all once it has graded; killed here on an error before
            if p.process.is_alive():
                p.kill()


def _run_started(assignment, submissions, out, work, jobs, force, progress, canvas_column, dask, budget,
                 summary, started, protect, early) -> Summary:
    """run_bulk, once its folders are ready and its pool processes (`early`) starting."""
    from grader.sandbox.tempfiles import remove_stale

    entries = discover(submissions, work)

    stamp, files = graded_with(assignment)  # once per run: hashes of the course and of the grader
    known = _load_inputs(out)
    todo, why = [], Counter()
    for entry in entries:
        reasons = _why_regrade(out, entry, stamp)
        if reasons is None and not force:
            summary.skipped += 1
            continue
        if force and reasons != ():
            reasons = (("force",),)
        todo.append(entry)
        if reasons:
            why[_why_text(reasons, known, stamp, files)] += 1
    summary.regraded = [(n, text) for text, n in sorted(why.items(), key=lambda item: (-item[1], item[0]))]
    _save_inputs(out, known, stamp, files)

    def fail(entry: Entry, reason: str, duration: float = 0.0):
        """A student the grader could not grade: their error result, written here."""
        try:
            line = write_error_result(assignment, entry, out, reason, stamp, duration)
        except Exception as exc:  # DIR cannot be written: the class files will say it
            log_failure(out, entry.student_id, failure_reason(exc), exc)
            line = {"id": entry.student_id, "status": "error", "error": reason}
        _record(line, summary)

    collected = {}  # {student: compact result}, read as each is done, while the pool grades the others

    def graded(entry: Entry):
        try:
            result = json.loads((out / RESULTS / f"{entry.student_id}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # read again, and judged, with the class files
        if type(result) is dict:
            collected[entry.student_id] = compact(result)

    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    early = _fit_early(early, jobs if todo and not dask else 0)
    shell = detect_shell()  # the instructor's: they paste the reports' replay commands
    try:
        if todo and dask:
            from grader.bulk.on_dask import grade_on_cluster
            grade_on_cluster(dask, assignment, todo, out, protect, progress, summary, _record, fail, shell=shell,
                             stamp=stamp, budget=budget)
        elif todo:
            _grade_all(assignment, todo, out, jobs, protect, progress, summary, shell, stamp, budget, fail, graded,
                       early=early)
    finally:
        remove_stale()  # what the pool processes stopped in this run left behind
        _remove_temporaries(out, out / RESULTS, out / REPORTS)  # and a write one of them was killed in

    failed = {student for student, _ in summary.failures}
    for entry in todo:  # whatever happened, everyone tried has a result: the class files list them all
        if entry.student_id in failed:
            collected.pop(entry.student_id, None)
        elif not _has_result(out, entry, entry.student_id in collected):
            collected.pop(entry.student_id, None)
            fail(entry, t("bulk.no_result"))
    summary.outputs, summary.statuses = write_class_files(assignment, entries, out, canvas_column, summary.problems,
                                                          summary.notices, collected)
    if (summary.failures or summary.problems) and (out / ERROR_LOG).is_file():
        summary.error_log = out / ERROR_LOG
    summary.seconds = time.monotonic() - started
    return summary


def _has_result(out: Path, entry: Entry, read: bool = False) -> bool:
    """`read`: its result was read (a record) as its grading ended."""
    if read:
        return (out / RESULTS / f"{entry.student_id}.json").is_file() and \
            (out / REPORTS / f"{entry.student_id}.html").is_file()
    try:
        result = json.loads((out / RESULTS / f"{entry.student_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return type(result) is dict and (out / REPORTS / f"{entry.student_id}.html").is_file()


def _results(entries: list[Entry], out: Path, collected: dict | None = None):
    """The current class's results, one at a time (never all the submissions' texts at once), as
    (its JSON line, the result or None, its compact form or None): the students in `collected`
    (read as their grading ended) are not parsed again, their file is their line."""
    collected = collected or {}
    for entry in sorted(entries, key=lambda e: e.student_id):
        path = out / RESULTS / f"{entry.student_id}.json"
        short = collected.get(entry.student_id)
        try:
            if short is not None:  # written by json.dumps(…, separators=(",", ":")): one line, as below
                yield path.read_bytes().rstrip(b"\n"), None, short
                continue
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not graded (a grader failure): reported in the summary
        yield json.dumps(result, separators=(",", ":")).encode("utf-8"), result, None


_CASE_KEYS = frozenset(("id", "function", "visibility", "kind", "status", "message", "diagnosis", "mistake", "points",
                        "max_points", "code", "said", "diagnosis_said", "public_twin"))


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
                      canvas_column: str | None, problems: list | None = None,
                      notices: list | None = None, collected: dict | None = None) -> tuple[list, dict]:
    """The class files, from one pass over results/; returns (files written, {status: students}).
    With `problems` (a list), a gradebook or overview that cannot be built (a bug reached through a
    result) is said there, its traceback logged, and the overview replaced by a plain list of the
    students: results.jsonl and the other files are written all the same. `collected`: {student:
    compact result} of the students read as their grading ended (not parsed again)."""
    from grader.report.class_overview import write_class_report
    from grader.export.gradebooks import write_gradebooks

    results, statuses = [], {}  # results.jsonl streamed to disk, a compact copy kept
    lms_ids = {e.student_id: e.lms_id for e in entries}   # read once, at intake (Entry.lms_id)
    with atomic_writer(out / "results.jsonl") as jsonl:
        for line, result, short in _results(entries, out, collected):
            jsonl.write(line + b"\n")
            short = compact(result) if short is None else short
            if type(short.get("student")) is dict:
                short["student"] = {**short["student"], "lms_id": lms_ids.get(short["student"].get("id"))}
            results.append(short)
            status = short.get("status") if type(short) is dict else None
            if type(status) is str and status:
                statuses[status] = statuses.get(status, 0) + 1
    exercises = [(e.name, e.points) for e in assignment.exercises]
    written = [out / "results.jsonl"]
    try:
        written += write_gradebooks(results, exercises, out, assignment.title, canvas_column)
    except Exception as exc:
        if problems is None:
            raise
        problems.append(_class_file_failed(out, "gradebook.csv, gradebook-moodle.csv, gradebook-canvas.csv", exc))
    try:
        from grader.export.lms_feedback import MOODLE_LIST, MOODLE_ZIP, write_moodle_feedback
        scores = {r["student"]["id"]: (r.get("score"), r.get("max_score")) for r in results
                  if type(r.get("student")) is dict and type(r["student"].get("id")) is str}
        feedback, left_out = write_moodle_feedback(entries, out, scores)
        written += feedback
        if left_out and notices is not None:
            shown = ", ".join(line.split(":")[0].strip() for line in left_out[:10]) + (", …" if len(left_out) > 10 else "")
            notices.append(t("lms_feedback.bulk_left_out", count=len(left_out), zip=MOODLE_ZIP, students=shown,
                             list=out / MOODLE_LIST))
    except Exception as exc:
        if problems is None:
            raise
        problems.append(_class_file_failed(out, "feedback-moodle.zip", exc))
    try:
        written.append(write_class_report(results, assignment, out))
    except Exception as exc:
        if problems is None:
            raise
        problems.append(_class_file_failed(out, "index.html", exc))
        written.append(atomic_write(out / "index.html", _plain_overview(results, assignment)))
    return written, statuses


def _class_file_failed(out: Path, files: str, exc: Exception) -> str:
    reason = t("bulk.class_file_failed", files=files, error=clip(f"{type(exc).__name__}: {exc}", 300), log=ERROR_LOG)
    log_failure(out, None, reason, exc)
    return reason


def _plain_overview(results: list[dict], assignment: Assignment) -> str:
    """Every student, their status and score, linked to their report: the overview with nothing
    in it to go wrong."""
    from urllib.parse import quote

    rows = []
    for r in results:
        student = r.get("student") if type(r.get("student")) is dict else {}
        sid = str(student.get("id", ""))
        rows.append(f'<tr><td><a href="reports/{html.escape(quote(sid, safe=""))}.html">{html.escape(sid)}</a></td>'
                    f"<td>{html.escape(str(student.get('name') or ''))}</td><td>{html.escape(str(r.get('status')))}"
                    f"</td><td>{html.escape(str(r.get('score')))} / {html.escape(str(r.get('max_score')))}</td></tr>")
    return (f'<!DOCTYPE html><html lang="{language()}"><head><meta charset="utf-8"><title>'
            f"{html.escape(assignment.title)}</title></head><body><h1>{html.escape(assignment.title)}</h1>"
            f"<p>{html.escape(t('bulk.plain_overview', log=ERROR_LOG))}</p><table>{''.join(rows)}</table>"
            f"</body></html>")
