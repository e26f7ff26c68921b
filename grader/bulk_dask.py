"""`grade bulk --dask ADDRESS`: the same per-student job, on an existing Dask cluster.

The client (this process) does the intake, the resume decision and the class files, exactly as
a local run; each student's job (`grade_remote`) runs on a Dask worker, which grades in its own
jail and writes `reports/<id>.html` then `results/<id>.json` atomically into DIR, as a pool
process does locally. So the workers must see the course repository, the submissions and DIR at
the same paths (a shared filesystem), and have this package installed; a result is then the
same wherever it was computed, and a run stopped at any moment resumes the same way.

Optional: `pip install 'seance11-grader[dask]'` (dask[distributed]).
"""
from __future__ import annotations

import sys
from pathlib import Path

from .errors import GraderError
from .i18n import t


def grade_remote(assignment_path: str, protect: list, language: str, entry, out: str,
                 shell: str | None = None) -> dict:
    """On a Dask worker: the pool process's state (assignment, reference, worker template) is
    made once per worker process and kept; then one student, as `bulk.grade_student`. `shell` is
    the client's (the instructor pastes the replay commands there, not on the worker)."""
    from . import bulk
    from .i18n import set_language

    set_language(language)
    if bulk._POOL.get("assignment_path") != assignment_path or bulk._POOL.get("protect") != protect:
        bulk._POOL.clear()
        bulk._start_pool_process(assignment_path, protect)
    return bulk.grade_student(entry, Path(out), shell)


def grade_on_cluster(address: str, assignment, todo: list, out: Path, protect: list, progress: bool, summary,
                     record, shell: str | None = None) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise GraderError(t("bulk_dask.not_installed")) from None
    from tqdm import tqdm

    from .i18n import language

    try:
        client = Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise GraderError(t("bulk_dask.no_cluster", address=address, error=exc)) from None
    bar = tqdm(total=len(todo), unit="student", disable=not progress, file=sys.stderr, dynamic_ncols=True,
               desc="grading (dask)")
    try:
        if not client.scheduler_info().get("workers"):
            raise GraderError(t("bulk_dask.no_workers", address=address))
        # pure=False: a job is a side effect (files in DIR), never to be deduplicated or cached
        pending = {client.submit(grade_remote, str(assignment.path), protect, language(), entry, str(out.resolve()),
                                 shell, pure=False, retries=1): entry for entry in todo}
        for future in as_completed(list(pending), loop=client.loop):
            try:
                line = future.result()
            except Exception as exc:  # a worker lost twice, a job that raised: that student only
                line = {"id": pending[future].student_id, "error": t("bulk_dask.job_failed", error=exc)}
            record(line, summary)
            bar.update(1)
    finally:
        bar.close()
        client.close()
