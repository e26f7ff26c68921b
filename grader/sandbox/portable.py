"""The portable backend (Windows; GRADE_BACKEND=portable anywhere): one fresh `python -I -B
… worker.py --serve` per worker (runtime_files.runtime_command). No fork, no descriptor passing, no select on pipes.

The worker's request goes on its stdin once its limits are in place (on Windows: a Job Object,
which caps its memory and processes, kills all of them at once, and stops a crash from opening
an error dialog); its frames come back on its stdout; what it prints goes to the output log.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
from pathlib import Path

from grader.sandbox import platforms
from grader.sandbox.frames import ThreadedPipe
from grader.sandbox.runtime_files import copy_runtime, python_command, runtime_command

_RUNTIME: dict = {}  # {pid of this grader process: its copy of the runtime}


def runtime_folder() -> Path:
    """This grader process's copy of the worker's files, made once."""
    folder = _RUNTIME.get(os.getpid())
    if folder is None or not folder.exists():
        folder = _RUNTIME[os.getpid()] = copy_runtime("grade-runtime-")
        atexit.register(shutil.rmtree, folder, True)
    return folder


class FreshWorker:
    """A worker started for this request alone: its frames, its exit status, its end."""

    def __init__(self, process: subprocess.Popen, job, group):
        self.process, self.job, self.group = process, job, group
        self.limits = job.describe() if job is not None else None  # what holds it from outside
        self.pid = process.pid
        self.pipe = ThreadedPipe(process.stdout)
        self.reader = self.pipe.reader

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self):
        """Kill the worker and everything it started: its Job Object (Windows), its process
        group (POSIX), or at least itself."""
        if self.job is not None:
            self.job.kill()
        elif platforms.SESSIONS:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.process.poll() is None:
            self.process.kill()

    def kill(self):
        """stop(), then its end."""
        self.stop()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def close(self):
        self.pipe.close()
        if self.job is not None:
            self.job.close()
        if self.group is not None:
            self.group.close()


def spawn(spec: dict, request: bytes, log_path, memory_mb: int, processes: int, group) -> FreshWorker:
    """Start the worker, put it in its limits, then give it its request."""
    job = None
    if platforms.WINDOWS:
        from grader.sandbox.winjob import Job, JobUnavailable
        try:
            job = Job(memory_mb * 2**20, processes)
        except JobUnavailable as exc:  # graded all the same; `isolation` says no cap held
            job, unavailable = None, str(exc)
    options = {"start_new_session": True} if platforms.SESSIONS else {}
    if platforms.WINDOWS:
        options["creationflags"] = subprocess.CREATE_NO_WINDOW | subprocess.CREATE_NEW_PROCESS_GROUP
    python, env = python_command(spec["env"])
    try:
        with open(log_path, "ab") as log:
            process = subprocess.Popen(runtime_command(python, runtime_folder(), ["--serve"]),
                                       cwd=spec["cwd"], env=env, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=log, bufsize=0, **options)
    except BaseException:
        if job is not None:
            job.close()
        raise
    worker = FreshWorker(process, job, group)
    try:
        if job is not None:
            try:
                job.assign(process)
            except OSError as exc:
                job.close()
                worker.job, unavailable = None, str(exc)
        if platforms.WINDOWS and worker.job is None:
            worker.limits = f"none: no job object ({unavailable})"
        process.stdin.write(request)
    except OSError:
        pass  # it died already: the grader reads its end from the frames and its exit status
    except BaseException:
        worker.kill()
        worker.close()
        raise
    finally:
        try:
            process.stdin.close()
        except OSError:
            pass
    return worker
