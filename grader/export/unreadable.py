"""The files a CI run asked for, when the submission could not be read at all.

`grade --ci`, `--json` or `--junit` on an empty folder, a notebook that is not JSON, a file too
large: `grade` still exits 2 with its one-line reason, but a CI consumer reads files, not stderr —
the Classroom reporter its runner result, GitLab and Jenkins the JUnit XML, a script the JSON. Each
requested file is written for a result with status `invalid`, score 0 and the reason as its note,
so that every consumer says "not graded: <reason>" instead of "no test found" or nothing.

Writing them must never hide the reason: whatever fails here is ignored (the caller re-raises the
submission's error).
"""
from __future__ import annotations

import json
from pathlib import Path

from grader.model.files import atomic_write
from grader.model.result import Result


def unreadable_result(assignment, path, seed: int, reason: str) -> Result:
    """An `invalid` result: no exercise graded, score 0 of the assignment's points, the reason."""
    return Result.not_graded(path, seed, assignment.max_score, "invalid", [reason])


def write_unreadable(assignment, path, seed: int, reason: str, json_path=None, junit_path=None, ci: bool = False,
                     min_score: float | None = None) -> list[Path]:
    """Write the requested files (JSON, JUnit, the step summary and the Classroom result under
    `ci`) for an unreadable submission; returns those written. Never raises."""
    result = unreadable_result(assignment, path, seed, reason)
    data = result.to_json()
    written = []

    def attempt(write):
        try:
            target = write()
        except Exception:   # an unwritable folder: the reason is still said on stderr
            return
        if target is not None:
            written.append(Path(target))

    if json_path:
        attempt(lambda: atomic_write(Path(json_path), json.dumps(data, indent=1)))
    if junit_path:
        from grader.export.junit import write_junit
        attempt(lambda: write_junit(data, Path(junit_path), result))
    if ci:
        from grader.export.github import append_step_summary, write_classroom_output
        attempt(lambda: append_step_summary(data, min_score=min_score))
        attempt(lambda: write_classroom_output(data, min_score=min_score))
    return written

