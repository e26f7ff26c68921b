"""The template backend (Linux, macOS): one worker template per grader process, one fork of
it per worker. See worker.py for what the template and its children do.

Control messages travel on a UNIX socket pair: SOCK_SEQPACKET where the kernel has it (one
message per packet), SOCK_STREAM with length-prefixed messages on macOS (protocol.send_control).
"""
from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading

from grader.sandbox import platforms
from grader.model.errors import GraderError
from grader.i18n import t
from grader.sandbox.runtime_files import copy_runtime, minimal_env, runtime_command
from grader.model import truncation

IMPORT_TIMEOUT = 10.0  # seconds for the template's first message (Python and NumPy started)


class TemplateGone(GraderError):
    """The template died or could not start (a fresh one is tried once)."""


def control_pair():
    """SEQPACKET where it exists (Linux); a stream with framing where it does not (macOS)."""
    kind = socket.SOCK_SEQPACKET if platforms.seqpacket_supported() else socket.SOCK_STREAM
    return socket.socketpair(socket.AF_UNIX, kind)


class WorkerTemplate:
    """The worker template of this grader process (see worker.py): started once, with NumPy
    imported, from its own copy of the runtime; forks one fresh worker per request."""

    def __init__(self):
        self.dir = copy_runtime("grade-template-")
        self.control, theirs = control_pair()
        self.lock = threading.Lock()
        self.log_path = self.dir / "template.log"
        with open(self.log_path, "wb") as log:
            # Without `site` where the kernel is Linux's (SEQPACKET): its ~10 ms are the template's
            # start's largest part. Elsewhere (macOS, and the macOS emulation of the tests, which
            # reaches the workers through a .pth file) the interpreter starts as it usually does.
            try:
                self.process = subprocess.Popen(
                    runtime_command(sys.executable, self.dir, ["--template", str(theirs.fileno())],
                                    without_site=self.control.type == socket.SOCK_SEQPACKET),
                    cwd=self.dir, env=minimal_env(str(self.dir)), stdin=subprocess.DEVNULL, stdout=log,
                    stderr=log, pass_fds=[theirs.fileno()], start_new_session=True, close_fds=True)
            finally:
                theirs.close()
        self.pid = self.process.pid
        self.ready = False
        self.address_space = None  # bytes a worker starts with, as the template reports it
        self.forked = 0            # workers forked so far
        self.preloaded = {}        # {case id: the inputs object the template holds a decoded copy of}
        self.referring = threading.Lock()

    def _receive(self, timeout: float) -> dict | None:
        from grader.sandbox.runtime import protocol
        ready, _, _ = select.select([self.control], [], [], timeout)
        if not ready:
            return None
        try:
            data, _ = protocol.receive_control(self.control)
        except (OSError, protocol.ProtocolError):
            return None
        return json.loads(data) if data else None

    def _ensure_ready(self):
        """The template's first message (NumPy imported), once; the caller holds the lock."""
        if not self.ready:
            started = self._receive(IMPORT_TIMEOUT)
            if not started:
                log = self.log_path.read_text(errors="replace")[-truncation.WORKER_LOG_TAIL:] if self.log_path.exists() else ""
                self.close()
                raise TemplateGone(t("sandbox.template_failed", python=sys.executable, log=log))
            self.ready = True
            self.address_space = started.get("address_space")

    def _command(self, message: dict, fds=(), timeout: float = 30.0) -> dict:
        from grader.sandbox.runtime import protocol
        with self.lock:
            self._ensure_ready()
            try:
                protocol.send_control(self.control, json.dumps(message).encode(), fds)
            except OSError:
                raise TemplateGone(t("sandbox.template_gone")) from None
            reply = self._receive(timeout)
            if reply is None:
                raise TemplateGone(t("sandbox.template_silent"))
            return reply

    def spawn(self, spec: dict, fds) -> int:
        pid = self._command({"spawn": {**spec, "template": self.pid}}, fds)["pid"]
        self.forked += 1
        return pid

    def refer(self, message: dict) -> dict:
        """`message` with the inputs of its shared calls (the same objects for every student of
        this grader process: public cases, fixed inputs) replaced by a reference to the template's
        decoded copy, which every fork inherits: encoded, sent and decoded once per template
        instead of once per worker. Not for a first worker (a student's `grade` runs one): only
        what a second one would need again is preloaded."""
        calls = message.get("calls") or []
        shared = [c for c in calls if c.get("shared")]
        if not shared or not self.forked:
            return message
        missing = {c["id"]: c["args"] for c in shared if self.preloaded.get(c["id"]) is not c["args"]}
        if missing:
            self.preload(missing)
        return {**message, "calls": [{"id": c["id"], "module": c["module"], "function": c["function"],
                                      "preloaded": c["id"]} if c.get("shared") else c for c in calls]}

    def preload(self, inputs: dict):
        """Give the template {key: inputs} to decode and keep (worker.py `_preload`)."""
        from grader.sandbox.runtime import protocol
        fd, path = _handover(protocol.encode(inputs), str(self.dir), "preload")
        try:
            reply = self._command({"preload": path}, [fd] if fd is not None else [])
        finally:
            if fd is not None:
                os.close(fd)
        if reply.get("preloaded") != len(inputs):
            raise TemplateGone(t("sandbox.template_silent"))
        self.preloaded.update(inputs)  # kept alive here: the identity test above stays sound

    def check_memory(self, memory_mb: int):
        """A worker starts with the template's address space (NumPy loaded): a cap below it, plus
        room to work, would fail every case: the assignment's fault, not the students'."""
        with self.lock:
            self._ensure_ready()
        from grader.sandbox.runtime import protocol
        needed = (self.address_space or 0) + protocol.WORKING_ROOM
        if memory_mb * 2**20 < needed:
            raise GraderError(t("sandbox.memory_too_small", memory=memory_mb, needed=-(-needed // 2**20)))

    def wait(self, pid: int, timeout: float) -> int | None:
        """The waitpid status of `pid` (the template reaps it), or None if it still runs."""
        return self._command({"wait": pid, "timeout": timeout}, timeout=timeout + 30)["status"]

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self):
        self.control.close()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


_TEMPLATE: dict = {}  # {pid of this grader process: its template}; a forked grader starts its own


def worker_template() -> WorkerTemplate:
    """This process's template, started now if there is none."""
    current = _TEMPLATE.get(os.getpid())
    if current is None or not current.alive():
        if current is not None:
            current.close()
        current = _TEMPLATE[os.getpid()] = WorkerTemplate()
        atexit.register(current.close)
    return current


def start_early():
    """Start this process's template now when this run's workers will be its forks: its Python
    and NumPy then start while the grader imports its own (this module imports no NumPy). A
    wrong GRADE_BACKEND is left for the supervisor to refuse, in words."""
    chosen = os.environ.get("GRADE_BACKEND", "").strip().lower()
    if chosen in ("", *platforms.BACKENDS) and platforms.backend() == "template":
        worker_template()


def discard_template():
    """Stop this process's template (it failed a command): the next worker gets a fresh one."""
    current = _TEMPLATE.pop(os.getpid(), None)
    if current is not None:
        current.close()


class ForkedWorker:
    """A worker forked by the template: its frames, its exit status, its end."""

    def __init__(self, template: WorkerTemplate, pid: int, fd: int, group):
        self.template, self.pid, self.fd, self.group = template, pid, fd, group
        from grader.sandbox.frames import select_reader
        self.reader = select_reader(fd)
        self.returncode = None

    def wait(self, timeout: float) -> int:
        if self.returncode is None:
            try:
                status = self.template.wait(self.pid, timeout)
            except TemplateGone:  # its children died with it (parent-death signal)
                status = signal.SIGKILL
            if status is None:
                raise subprocess.TimeoutExpired("worker", timeout)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def stop(self):
        """SIGKILL to the worker's whole process group (children, grandchildren that stayed in it)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self):
        """stop(), then its end (the template reaps it and kills what it left behind)."""
        self.stop()
        try:
            self.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def close(self):
        os.close(self.fd)
        if self.group is not None:
            self.group.close()


def _handover(data: bytes, folder: str, name: str) -> tuple[int | None, str | None]:
    """(descriptor, None) of an anonymous in-memory file holding `data` (Linux), else (None, path)
    of a file written in `folder` (macOS), which the template reads and removes."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create(name, os.MFD_CLOEXEC)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.lseek(fd, 0, os.SEEK_SET)
        except BaseException:
            os.close(fd)
            raise
        return fd, None
    path = os.path.realpath(os.path.join(folder, f"{name}.bin"))
    with open(path, "wb") as f:
        f.write(data)
    return None, path


def spawn(spec: dict, message: dict, log_path, memory_mb: int, group) -> ForkedWorker:
    """A fresh worker forked from the template; `spec` as worker._become_worker reads it, `message`
    the request (encoded here: the shared inputs the template holds are referred to, not sent)."""
    try:
        return _spawn(worker_template(), spec, message, log_path, memory_mb, group)
    except TemplateGone:  # once more, with a fresh template
        discard_template()
        return _spawn(worker_template(), spec, message, log_path, memory_mb, group)


def _spawn(template: WorkerTemplate, spec: dict, message: dict, log_path, memory_mb: int, group) -> ForkedWorker:
    from grader.sandbox.runtime import protocol
    template.check_memory(memory_mb)
    with template.referring:  # the references and the fork that reads them, one student at a time
        request = protocol.encode(template.refer(message))
        request_fd, request_path = _handover(request, os.path.join(spec["cwd"], os.pardir), "request")
        spec = {**spec, "request": request_path}
        fds = [request_fd] if request_fd is not None else []  # what the template gets: pipe, log, request
        read_fd = None
        try:
            read_fd, write_fd = os.pipe()
            fds.insert(0, write_fd)
            fds.insert(1, os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644))
            pid = template.spawn(spec, fds)
        except BaseException:
            if read_fd is not None:
                os.close(read_fd)
            raise
        finally:
            for fd in fds:
                os.close(fd)
    return ForkedWorker(template, pid, read_fd, group)
