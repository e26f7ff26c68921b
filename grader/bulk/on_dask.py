"""`grade bulk --dask ADDRESS`: the same per-student job, on an existing Dask cluster.

The client (this process) does the intake, the resume decision and the class files, exactly as
a local run; each student's job (`grade_remote`) runs on a Dask worker, which grades in its own
jail and writes `reports/<id>.html` then `results/<id>.json` atomically into DIR, as a pool
process does locally. So the workers must see the course repository, the submissions and DIR at
the same paths (a shared filesystem), and have this package installed; a result is then the
same wherever it was computed, and a run stopped at any moment resumes the same way.

A job that fails — it raised, its worker was lost twice, or it ran past the submission's budget
plus a margin (a watchdog thread on the worker then writes the student's error result and ends
that worker process; its nanny starts a fresh one) — costs that student alone: the client
writes their `error` result, and the class files list everyone, as locally.

Optional: `pip install 'seance11-grader[dask]'` (dask[distributed]).
"""
from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path

from grader.model.errors import GraderError
from grader.i18n import t
from grader.model import truncation


def overtime_marker(out: Path, entry) -> Path:
    """Where a job stopped for taking too long leaves word, so that Dask's retry of it (on a
    fresh worker) does not grade that student again in this run."""
    from grader.bulk.student import OVERTIME
    return Path(out) / OVERTIME / entry.student_id


def _stop_this_worker():
    """End this Dask worker process at once (its nanny starts a fresh one): the grading thread
    that overran cannot be stopped any other way. Its worker template and workers end with it."""
    import signal
    if hasattr(signal, "SIGKILL"):
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(70)


def grade_remote(assignment_path: str, protect: list, language: str, entry, out: str,
                 shell: str | None = None, stamp: dict | None = None, budget: float | None = None,
                 margin: float | None = None) -> dict:
    """On a Dask worker: the pool process's state (assignment, reference, worker template) is
    made once per worker process and kept; then one student, as `bulk.grade_student`. `shell` is
    the client's (the instructor pastes the replay commands there, not on the worker).

    A watchdog thread stands in for the local pool's deadline: past `bulk.time_limit(budget)`,
    it writes the student's error result ("took too long") and ends this worker process."""
    from grader.bulk import student as bulk
    from grader.i18n import set_language
    from grader.sandbox.tempfiles import remove_stale

    set_language(language)
    budget = bulk.DEFAULT_BUDGET if budget is None else budget
    os.environ["GRADE_BUDGET"] = repr(float(budget))  # read by sandbox.Limits for each submission
    out = Path(out)
    limit = bulk.time_limit(budget, margin)
    too_long = t("bulk.too_long", seconds=limit)
    marker = overtime_marker(out, entry)
    if marker.exists():  # an earlier attempt in this run overran: its error result is written
        return {"id": entry.student_id, "status": "error", "error": too_long}
    if bulk.POOL.get("assignment_path") != assignment_path or bulk.POOL.get("protect") != protect:
        bulk.POOL.clear()
        remove_stale()  # on this machine, what killed workers left in the temporary directory
        bulk.start_pool_process(assignment_path, protect)
    assignment = bulk.POOL["assignment"]
    finished = threading.Lock()

    def overrun():
        if not finished.acquire(blocking=False):
            return  # the student is done
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
            bulk.log_failure(out, entry.student_id, too_long)
            bulk.write_error_result(assignment, entry, out, too_long, stamp, limit)
        finally:
            _stop_this_worker()

    watchdog = threading.Timer(limit, overrun)
    watchdog.daemon = True
    watchdog.start()
    try:
        line = bulk.grade_student(entry, out, shell, stamp)
    finally:
        watchdog.cancel()
    if not finished.acquire(blocking=False):  # the watchdog fired: it is writing the error result
        threading.Event().wait()  # … and ending this process
    return line


def grade_on_cluster(address: str, assignment, todo: list, out: Path, protect: list, progress: bool, summary,
                     record, fail, shell: str | None = None, stamp: dict | None = None,
                     budget: float | None = None) -> None:
    """Each student of `todo` as one Dask job. A job that fails (a worker lost twice, a job that
    raised, one stopped for taking too long) costs that student alone: `fail(entry, reason)`
    writes their error result."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise GraderError(t("bulk_dask.not_installed")) from None
    from tqdm import tqdm

    from grader.bulk.student import DEFAULT_BUDGET, OVERTIME, overtime_margin, time_limit
    from grader.i18n import language

    budget = DEFAULT_BUDGET if budget is None else budget
    margin = overtime_margin()  # the client's setting, for every worker
    try:
        # how long to wait for the scheduler: Dask's own setting, distributed.comm.timeouts.connect
        # (30 s; DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s in the environment)
        client = Client(address, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise GraderError(t("bulk_dask.no_cluster", address=address, error=exc)) from None
    bar = tqdm(total=len(todo), unit="student", disable=not progress, file=sys.stderr, dynamic_ncols=True,
               desc="grading (dask)")
    try:
        if not client.scheduler_info().get("workers"):
            raise GraderError(t("bulk_dask.no_workers", address=address))
        shutil.rmtree(Path(out) / OVERTIME, ignore_errors=True)  # an earlier run's
        # pure=False: a job is a side effect (files in DIR), never to be deduplicated or cached
        pending = {client.submit(grade_remote, str(assignment.path), protect, language(), entry, str(out.resolve()),
                                 shell, stamp, budget, margin, pure=False, retries=1): entry for entry in todo}
        for future in as_completed(list(pending), loop=client.loop):
            entry = pending[future]
            try:
                line = future.result()
            except Exception as exc:  # a worker lost twice, a job that raised: that student only
                if overtime_marker(out, entry).exists():
                    fail(entry, t("bulk.too_long", seconds=time_limit(budget, margin)))
                else:
                    fail(entry, t("bulk_dask.job_failed", error=str(exc)[:truncation.MESSAGE] or type(exc).__name__))
            else:
                if type(line) is not dict or line.get("unwritten") or line.get("id") != entry.student_id:
                    fail(entry, (line.get("error") if type(line) is dict else None) or t("bulk.no_result"))
                else:
                    record(line, summary)
            bar.update(1)
    finally:
        bar.close()
        client.close()
