"""Start and supervise worker processes: limits, timeouts, crashes, cleanup.

A worker gets a fresh temporary folder holding a copy of the submission and of the worker's
own two files, a minimal environment, its own session (process group), and rlimits. The
grader reads its frames with a deadline per step; on a timeout or a crash it kills the whole
group, records what happened to that step alone, and starts a new worker for the rest.
"""
from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import protocol
from .cgroups import WorkerGroup
from .errors import GraderError
from .i18n import t

RUNTIME_FILES = ("worker.py", "protocol.py", "jail.py")
IMPORT_TIMEOUT = 10.0  # seconds for one module (or notebook cell) to import
WORKING_ROOM = 64 * 2**20  # address space a worker needs beyond its start to import and run anything
# Never hidden from a worker, whatever the caller asks: hiding them would break the interpreter.
SYSTEM_FOLDERS = {"/", "/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/dev", "/proc", "/sys",
                  "/var", "/run", "/opt", "/srv", "/home", "/mnt", "/media", "/boot", "/snap", "/nix"}


def isolation_requested() -> bool:
    """Namespaces on Linux unless GRADE_ISOLATION=process (debugging; see SECURITY.md)."""
    return sys.platform.startswith("linux") and os.environ.get("GRADE_ISOLATION", "auto") != "process"


def interpreter_folders() -> list[str]:
    """What the worker's Python needs to read: its prefixes and where NumPy lives."""
    import numpy
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(numpy.__file__).parent.parent)}
    return sorted(os.path.realpath(f) for f in folders)


@dataclass(frozen=True)
class Limits:
    timeout: float = 3.0            # default seconds per case
    memory_mb: int = 2048           # address space
    file_mb: int = 16               # largest file the worker may write (its output log included)
    open_files: int = 64
    processes: int = 64             # RLIMIT_NPROC (per user: enforced for unprivileged users)


@dataclass
class Step:
    """One thing the worker does and the grader waits for: importing a module, or a call."""
    kind: str        # "import" | "call"
    key: str         # module (or cell label) | case id
    timeout: float
    group: str = ""  # the function called: after two timeouts, its other cases are not run


@dataclass
class Outcome:
    """What came back for one step, already decoded and checked by `protocol`."""
    status: str                  # returned | raised | missing | unsupported | timeout | crash | rejected
    value: object = None
    exception: dict | None = None
    inputs_after: dict | None = None
    output: str = ""
    duration: float = 0.0
    detail: str = ""
    violations: list = field(default_factory=list)
    claimed: str | None = None   # a rejected message: the step it claimed to answer
    skipped: bool = False        # not run: its function (or one it calls) timed out or crashed twice


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def refusal_words() -> dict:
    """The worker's refusals, in this run's language (the worker has no catalog of its own)."""
    return {"refused": t("worker.refused"), "import": t("worker.import"), "signal": t("worker.signal"),
            "program": t("worker.program"), "network": t("worker.network"), "memory": t("worker.memory"),
            "write": t("worker.write"), "read_hidden": t("worker.read_hidden"),
            "read_process": t("worker.read_process"), "change": t("worker.change")}


def _rlimits(limits: Limits, cpu_seconds: int) -> dict:
    """What the worker sets on itself (worker.apply_limits), by `resource` name."""
    return {"RLIMIT_AS": limits.memory_mb * 2**20, "RLIMIT_CORE": 0, "RLIMIT_FSIZE": limits.file_mb * 2**20,
            "RLIMIT_NOFILE": limits.open_files, "RLIMIT_CPU": cpu_seconds, "RLIMIT_NPROC": limits.processes}


class WorkerTemplate:
    """The worker template of this grader process (see worker.py): started once, with NumPy
    imported, from its own copy of the runtime; forks one fresh worker per request."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="grade-template-"))
        for name in RUNTIME_FILES:
            shutil.copy2(Path(__file__).parent / name, self.dir / name)
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.lock = threading.Lock()
        self.log_path = self.dir / "template.log"
        with open(self.log_path, "wb") as log:
            try:
                self.process = subprocess.Popen(
                    [sys.executable, "-I", str(self.dir / "worker.py"), "--template", str(theirs.fileno())],
                    cwd=self.dir, env=minimal_env(str(self.dir)), stdin=subprocess.DEVNULL, stdout=log,
                    stderr=log, pass_fds=[theirs.fileno()], start_new_session=True, close_fds=True)
            finally:
                theirs.close()
        self.pid = self.process.pid
        self.ready = False
        self.address_space = None  # bytes a worker starts with, as the template reports it

    def _receive(self, timeout: float) -> dict | None:
        ready, _, _ = select.select([self.control], [], [], timeout)
        data = self.control.recv(1 << 16) if ready else b""
        return json.loads(data) if data else None

    def _ensure_ready(self):
        """The template's first message (NumPy imported), once; the caller holds the lock."""
        if not self.ready:
            started = self._receive(IMPORT_TIMEOUT)
            if not started:
                log = self.log_path.read_text(errors="replace")[-1500:] if self.log_path.exists() else ""
                self.close()
                raise TemplateGone(t("sandbox.template_failed", python=sys.executable, log=log))
            self.ready = True
            self.address_space = started.get("address_space")

    def _command(self, message: dict, fds=(), timeout: float = 30.0) -> dict:
        with self.lock:
            self._ensure_ready()
            try:
                socket.send_fds(self.control, [json.dumps(message).encode()], list(fds))
            except OSError:
                raise TemplateGone(t("sandbox.template_gone")) from None
            reply = self._receive(timeout)
            if reply is None:
                raise TemplateGone(t("sandbox.template_silent"))
            return reply

    def spawn(self, spec: dict, fds) -> int:
        return self._command({"spawn": {**spec, "template": self.pid}}, fds)["pid"]

    def check_memory(self, memory_mb: int):
        """A worker starts with the template's address space (NumPy loaded): a cap below it, plus
        room to work, would fail every case: the assignment's fault, not the students'."""
        with self.lock:
            self._ensure_ready()
        needed = (self.address_space or 0) + WORKING_ROOM
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


class TemplateGone(GraderError):
    """The template died or could not start (a fresh one is tried once)."""


_TEMPLATE: dict = {}  # {pid of this grader process: its template}; a forked grader starts its own


def worker_template() -> WorkerTemplate:
    """This process's template, started now if there is none (call early to overlap its start
    with the grader's own work, e.g. computing the expected values)."""
    current = _TEMPLATE.get(os.getpid())
    if current is None or not current.alive():
        if current is not None:
            current.close()
        current = _TEMPLATE[os.getpid()] = WorkerTemplate()
        atexit.register(current.close)
    return current


class ForkedWorker:
    """A worker forked by the template: the handle `Sandbox` needs (pid, wait)."""

    def __init__(self, template: WorkerTemplate, pid: int, group):
        self.template, self.pid, self.group = template, pid, group
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


def minimal_env(home: str) -> dict:
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONIOENCODING": "utf-8",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # some CPUs need them (see env notes)
        if name in os.environ:
            env[name] = os.environ[name]
    return env


class Sandbox:
    """One submission's temporary folder; `run` may start several workers in it in turn."""

    def __init__(self, stage_submission, limits: Limits, hide=(), calls=None):
        self.limits = limits
        self.calls = calls or {}  # {function: contract functions it calls}, to give up on callers too
        self.dir = Path(tempfile.mkdtemp(prefix="grade-"))
        self.dir.chmod(0o755)  # the jailed worker runs as its own uid; siblings never see this folder
        self.sub = self.dir / "sub"
        self.sub.mkdir()
        self.new_root = self.dir / "root"  # where the jail builds the worker's filesystem
        self.new_root.mkdir()
        hidden = {os.path.realpath(p) for p in [*hide, self.dir.parent]}
        self.hide = sorted(p for p in hidden if p not in SYSTEM_FOLDERS)
        self.expose = interpreter_folders()
        self.isolation = None  # what the first worker reported
        self.request_extra = stage_submission(self.sub)
        self.log_path = self.dir / "output.log"
        self.reimport_failed = set()  # modules that imported once, then hung or crashed a later worker

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def run(self, steps: list[Step], make_request) -> dict:
        """Run `steps` to the end; returns {step key: Outcome}. `make_request(skip, calls)`
        builds the request for a fresh worker: modules to skip (they hung or crashed it) and
        the calls still to make. Every worker re-imports the other modules, then goes on."""
        outcomes: dict[str, Outcome] = {}
        while True:
            self._give_up_on_slow_groups(steps, outcomes)
            calls = [s for s in steps if s.kind == "call" and s.key not in outcomes]
            skip = [s.key for s in steps if s.kind == "import" and (s.key in self.reimport_failed or s.key in outcomes
                    and outcomes[s.key].status in ("timeout", "crash", "rejected"))]
            imports = [s for s in steps if s.kind == "import" and s.key not in skip]
            if not calls and all(s.key in outcomes for s in imports):
                return outcomes
            before = len(outcomes) + len(self.reimport_failed)
            self._one_worker(make_request(skip, [s.key for s in calls]), imports + calls, outcomes)
            if len(outcomes) + len(self.reimport_failed) == before:  # no progress at all: never loop forever
                for s in calls:
                    outcomes[s.key] = Outcome("crash", detail=t("sandbox.could_not_start"))
                return outcomes

    def _give_up_on_slow_groups(self, steps, outcomes, limit=2):
        """Two timeouts (or crashes) in one function are enough evidence: its remaining cases,
        and those of the functions that call it, are not run, without costing the student (and
        the class) more waiting."""
        failed = {}
        for s in steps:
            if s.kind == "call" and s.key in outcomes and outcomes[s.key].status in ("timeout", "crash") \
                    and not outcomes[s.key].skipped:
                failed.setdefault(s.group, []).append(outcomes[s.key].status)
        stuck = {group: max(set(found), key=found.count) for group, found in failed.items() if len(found) >= limit}
        for s in steps:
            if s.kind != "call" or s.key in outcomes:
                continue
            culprit = s.group if s.group in stuck else next((g for g in sorted(self.calls.get(s.group, ()))
                                                            if g in stuck), None)
            if culprit is not None:
                timeout = stuck[culprit] == "timeout"
                if culprit == s.group:
                    why = t("sandbox.skipped_timeouts" if timeout else "sandbox.skipped_crashes", count=limit)
                else:
                    why = t("sandbox.skipped_callee_timeouts" if timeout else "sandbox.skipped_callee_crashes",
                            function=culprit, count=limit)
                outcomes[s.key] = Outcome(stuck[culprit], detail=why, skipped=True)

    def _spawn(self, request: dict):
        request_path = self.dir / "request.bin"
        jail = {"expose": self.expose, "writable": str(self.sub), "sandbox": str(self.dir),
                "new_root": str(self.new_root)}
        request_path.write_bytes(protocol.encode({
            **request, **self.request_extra, "root": str(self.sub), "output_log": str(self.log_path),
            "hide": self.hide, "expose": [*self.expose, str(self.dir)], "grader_pid": os.getpid(),
            "words": refusal_words(),
            "jail": jail if isolation_requested() else None}))
        read_fd, write_fd = os.pipe()
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        # a backstop only: the per-step deadlines below are what normally stop a worker
        cpu = int(2 * IMPORT_TIMEOUT + self.limits.timeout * (len(request["calls"]) + 1) + 5)
        group = WorkerGroup(self.limits.memory_mb, self.limits.processes) if isolation_requested() else None
        self.memory_cap = group.describe() if group else "per process (rlimits)"
        spec = {"request": str(request_path), "cwd": str(self.sub), "env": minimal_env(str(self.sub)),
                "limits": {"rlimits": _rlimits(self.limits, cpu),
                           "cgroups": [str(g / "cgroup.procs") for g in (group.groups if group else [])]}}
        try:
            try:
                template = worker_template()
                template.check_memory(self.limits.memory_mb)
                pid = template.spawn(spec, [write_fd, log])
            except TemplateGone:  # once more, with a fresh template
                _TEMPLATE.pop(os.getpid()).close()
                template = worker_template()
                pid = template.spawn(spec, [write_fd, log])
        except BaseException:
            if group:
                group.close()
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
            os.close(log)
        return ForkedWorker(template, pid, group), read_fd

    def _one_worker(self, request, sequence: list[Step], outcomes: dict):
        process, fd = self._spawn(request)
        reader = FrameReader(fd)
        try:
            ready = reader.next(deadline=time.monotonic() + IMPORT_TIMEOUT)
            if ready is None or ready is TIMEOUT:
                kill_group(process)
                log = self.log_path.read_text(errors="replace")[-1500:] if self.log_path.exists() else ""
                raise GraderError(t("sandbox.worker_failed", death=self._death(process), python=sys.executable,
                                    log=log))
            self._check_ready(ready)
            answered = set()
            for step in sequence:
                started = time.monotonic()
                frame = reader.next(deadline=started + step.timeout)
                elapsed = time.monotonic() - started
                if frame is TIMEOUT or frame is None:  # no answer in time, or the worker died
                    outcome = Outcome("timeout", duration=elapsed, detail=t("sandbox.no_answer", timeout=step.timeout)) \
                        if frame is TIMEOUT else Outcome("crash", duration=elapsed, detail=self._death(process))
                    if step.key in outcomes:  # a module that imported before: skip it from now on
                        self.reimport_failed.add(step.key)
                    else:
                        outcomes[step.key] = outcome
                    return
                outcome = self._outcome(frame, step, elapsed)
                if outcome.status == "rejected" and outcome.claimed in answered:
                    # a second answer for an earlier step (written straight on the pipe): that step is
                    # the one at fault; this one is run again by a fresh worker
                    outcomes[outcome.claimed] = Outcome("rejected", detail=t("sandbox.two_answers"))
                    return
                answered.add(step.key)
                if step.key not in outcomes or outcome.status == "rejected":
                    outcomes[step.key] = outcome  # a re-import keeps its first report
                if outcome.status == "rejected":
                    return
        finally:
            kill_group(process)
            os.close(fd)
            if process.group is not None:
                process.group.close()

    def _check_ready(self, frame: bytes):
        """The first message comes before any submission code runs: it says how the worker is
        isolated, or why the jail could not be completed (then nothing is graded)."""
        try:
            message = protocol.decode(frame)
        except protocol.ProtocolError as exc:
            raise GraderError(t("sandbox.broken_first_message", error=exc)) from None
        if type(message) is not dict or message.get("type") != "ready":
            raise GraderError(t("sandbox.no_ready"))
        if message.get("jail_error"):
            raise GraderError(t("sandbox.jail_failed", error=_text(message["jail_error"], 300)))
        isolation = message.get("isolation")
        if self.isolation is None and type(isolation) is dict:
            self.isolation = {str(k): _text(v, 200) for k, v in isolation.items()}
            self.isolation["memory and processes"] = self.memory_cap

    def _death(self, process) -> str:
        try:
            code = process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return t("sandbox.stopped_answering")
        if code < 0:
            name = _signal_name(code)
            if name == "SIGSEGV":
                return t("sandbox.died_segfault", signal=name)
            if name == "SIGKILL":
                return t("sandbox.died_killed", signal=name)
            if name == "SIGXCPU":
                return t("sandbox.died_cpu", signal=name)
            return t("sandbox.died", signal=name)
        if code == 0:
            return t("sandbox.exited_early")
        return t("sandbox.exited_status", code=code)

    @staticmethod
    def _outcome(frame: bytes, step: Step, elapsed: float) -> Outcome:
        try:
            message = protocol.decode(frame, kinds=protocol.INPUT_KINDS)  # words may come back as str arrays
            if type(message) is not dict:
                raise protocol.ProtocolError("a message that is not a record")
            expected_type = "import" if step.kind == "import" else "result"
            key = message.get("module") if step.kind == "import" else message.get("id")
            if message.get("type") != expected_type or key != step.key:
                claimed = message.get("module") or message.get("id")
                return Outcome("rejected", duration=elapsed, claimed=claimed if type(claimed) is str else None,
                               detail=t("sandbox.out_of_order_import" if step.kind == "import"
                                        else "sandbox.out_of_order_result", key=step.key))
        except protocol.ProtocolError as exc:
            return Outcome("rejected", duration=elapsed, detail=t("sandbox.protocol_error", error=exc))
        output = _text(message.get("output"), 4000)
        raw_violations = message.get("violations")
        violations = [{"name": _text(v.get("name"), 300), "phase": _text(v.get("phase"), 200),
                       "kind": _text(v.get("kind"), 20) or "import"}
                      for v in (raw_violations if type(raw_violations) is list else []) if type(v) is dict]
        if step.kind == "import":
            error = _exception(message.get("error"))
            return Outcome("raised" if error else "returned", exception=error,
                           output=output, duration=elapsed, violations=violations)
        status = message.get("status")
        if status not in ("returned", "raised", "missing", "unsupported"):
            return Outcome("rejected", duration=elapsed, detail=t("sandbox.unknown_status"))
        return Outcome(status, value=message.get("value"),
                       exception=_exception(message.get("exception")),
                       inputs_after=message.get("inputs_after") if type(message.get("inputs_after")) is dict else None,
                       output=output, duration=elapsed, detail=str(message.get("detail", ""))[:500],
                       violations=violations)


def _text(value, limit: int) -> str:
    """A worker's string, made safe to print and to write as UTF-8."""
    if type(value) is not str:
        return ""
    return value[:limit].encode("utf-8", "replace").decode("utf-8")


def _exception(value) -> dict | None:
    """The worker's account of an exception, with every field checked."""
    if type(value) is not dict:
        return None
    def strings(items, limit):
        return [_text(i, 2000) for i in items[:limit] if type(i) is str] if type(items) is list else []
    return {"type": _text(value.get("type"), 200) or "Exception", "message": _text(value.get("message"), 2000),
            "mro": strings(value.get("mro"), 50), "traceback": strings(value.get("traceback"), 12)}


TIMEOUT = object()


class FrameReader:
    """Length-prefixed frames from a pipe, with a deadline and a size cap."""

    def __init__(self, fd):
        self.fd = fd
        self.buffer = b""

    def _fill(self, n, deadline):
        while len(self.buffer) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return TIMEOUT
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                return TIMEOUT
            chunk = os.read(self.fd, min(1 << 20, max(n - len(self.buffer), 65536)))
            if not chunk:
                return None
            self.buffer += chunk
        return True

    def next(self, deadline):
        state = self._fill(4, deadline)
        if state is not True:
            return state
        (size,) = struct.unpack(">I", self.buffer[:4])
        if size > protocol.MAX_MESSAGE:
            return None
        state = self._fill(4 + size, deadline)
        if state is not True:
            return state
        frame, self.buffer = self.buffer[4:4 + size], self.buffer[4 + size:]
        return frame


def kill_group(process):
    """Kill the worker's whole process group (children, grandchildren that stayed in it)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
