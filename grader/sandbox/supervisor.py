"""Supervise the workers of one submission: limits, timeouts, crashes, cleanup.

A submission gets a fresh temporary folder holding a copy of it; each worker gets a minimal
environment, its own session (process group) or Job Object, and its limits. How a worker is
started is the backend's business (grader/sandbox/platforms.py chooses: a fork of the worker template,
or a fresh Python). The grader reads its frames with a deadline per step; on a timeout or a
crash it kills the worker and everything it started, records what happened to that step alone,
and starts a new worker for the rest.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox import platforms
from grader.sandbox.runtime import protocol
from grader.model.errors import GraderError
from grader.sandbox.frames import TIMEOUT
from grader.i18n import t
from grader.model import usercache
from grader.model.said import Said
from grader.sandbox.runtime_files import minimal_env
from grader.model import truncation

IMPORT_TIMEOUT = 10.0  # seconds for one module (or notebook cell) to import
# a function's remaining cases (and its callers') are given up after this many of its cases ended so
GIVE_UP_AFTER = {"timeout": 1, "crash": 2}
# Never hidden from a worker, whatever the caller asks: hiding them would break the interpreter.
SYSTEM_FOLDERS = {"/", "/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/dev", "/proc", "/sys",
                  "/var", "/run", "/opt", "/srv", "/home", "/mnt", "/media", "/boot", "/snap", "/nix"}


def isolation_requested() -> bool:
    """Namespaces on Linux unless GRADE_ISOLATION=process (debugging; see SECURITY.md)."""
    return platforms.namespaces_possible() and os.environ.get("GRADE_ISOLATION", "auto") != "process"


def backend() -> str:
    """The worker backend of this run; a wrong GRADE_BACKEND is the user's to fix, said plainly."""
    value = os.environ.get("GRADE_BACKEND", "").strip().lower()
    if value and value not in platforms.BACKENDS:
        raise GraderError(t("sandbox.bad_backend", value=value[:truncation.SETTING], choices=", ".join(platforms.BACKENDS)))
    chosen = platforms.backend()
    return "portable" if chosen == "template" and os.getpid() in _TEMPLATE_FAILED else chosen


# grader processes whose worker template could not start where fork is a guest (macOS): they go
# on with the portable backend rather than fail every student
_TEMPLATE_FAILED: set = set()


def isolation_line() -> str:
    """One line for an instructor about to grade a class: what this platform contains."""
    worker = t("sandbox.worker_template") if backend() == "template" else t("sandbox.worker_portable")
    if isolation_requested():
        return t("sandbox.isolation_jail", worker=worker)
    if platforms.LINUX:
        return t("sandbox.isolation_process_linux", worker=worker)
    return t("sandbox.isolation_process_platform", worker=worker,
             platform="Windows" if platforms.WINDOWS else "macOS" if platforms.MACOS else sys.platform)


def prepare():
    """Start what the first worker will need, early: its start (Python, NumPy) then overlaps with
    loading the assignment and the reference. A fork needs the template; a fresh Python, its files."""
    if backend() == "template":
        from grader.sandbox.template import worker_template
        worker_template()
    else:
        from grader.sandbox.portable import runtime_folder
        runtime_folder()


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
    budget: float | None = None     # seconds for a whole submission (None: $GRADE_BUDGET, else 300)

    def total(self) -> float:
        if self.budget is not None:
            return self.budget
        try:
            return max(1.0, float(os.environ.get("GRADE_BUDGET", "300")))
        except ValueError:
            raise GraderError(t("sandbox.bad_budget", value=os.environ.get("GRADE_BUDGET", "")[:truncation.SETTING])) from None


@dataclass
class Step:
    """One thing the worker does and the grader waits for: importing a module, or a call."""
    kind: str        # "import" | "call"
    key: str         # module (or cell label) | case id
    timeout: float
    group: str = ""  # the function called: after one timeout (two crashes), its other cases are not run


@dataclass
class Outcome:
    """What came back for one step, already decoded and checked by `protocol`."""
    status: str                  # returned | raised | missing | unsupported | timeout | crash | rejected
    value: object = None
    exception: dict | None = None
    inputs_after: dict | None = None
    output: str = ""
    duration: float = 0.0
    detail: "str | Said" = ""   # what happened, as data where the grader says it (a Said)
    violations: list = field(default_factory=list)
    claimed: str | None = None   # a rejected message: the step it claimed to answer
    skipped: bool = False        # not run: its function (or one it calls) timed out or crashed twice


WORKER_KINDS = {"template": "a fresh fork of the worker template", "portable": "a fresh Python process"}
# how a Windows process ends when it crashes: its exit code is the NTSTATUS
WINDOWS_DEATHS = {0xC0000005: lambda: Said("sandbox.windows_access_violation"),
                  0xC00000FD: lambda: Said("sandbox.windows_stack_overflow"),
                  0xC0000409: lambda: Said("sandbox.windows_fail_fast")}


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _rlimits(limits: Limits, cpu_seconds: int) -> dict:
    """What the worker sets on itself (worker.apply_limits), by `resource` name."""
    return {"RLIMIT_AS": limits.memory_mb * 2**20, "RLIMIT_CORE": 0, "RLIMIT_FSIZE": limits.file_mb * 2**20,
            "RLIMIT_NOFILE": limits.open_files, "RLIMIT_CPU": cpu_seconds, "RLIMIT_NPROC": limits.processes}


class Sandbox:
    """One submission's temporary folder; `run` may start several workers in it in turn."""

    def __init__(self, stage_submission, limits: Limits, hide=(), calls=None, on_worker_started=None):
        self.limits = limits
        self.on_worker_started = on_worker_started  # called once, right after the first worker is started
        self.calls = calls or {}  # {function: contract functions it calls}, to give up on callers too
        self.dir = Path(tempfile.mkdtemp(prefix="grade-"))
        from grader.sandbox.tempfiles import mark_owner
        mark_owner(self.dir)  # removed by the next run if this process is killed
        self.dir.chmod(0o755)  # the jailed worker runs as its own uid; siblings never see this folder
        self.sub = self.dir / "sub"
        self.sub.mkdir()
        self.new_root = self.dir / "root"  # where the jail builds the worker's filesystem
        self.new_root.mkdir()
        cache = usercache.cache_dir()  # the assignment and the public cases, decoded: never a worker's to read
        hidden = {os.path.realpath(p) for p in [*hide, self.dir.parent, *([cache] if cache is not None else [])]}
        self.hide = sorted(p for p in hidden if p not in SYSTEM_FOLDERS)
        self.expose = interpreter_folders()
        self.isolation = None  # what the first worker reported
        self.request_extra = stage_submission(self.sub)
        self.log_path = self.dir / "output.log"
        self.reimport_failed = set()  # modules that imported once, then hung or crashed a later worker
        self.worker_uids = set()  # uids the workers ran under, as root without namespaces
        self.stopped = None  # the last worker: killed, not yet reaped (see _end_stopped)

    def _end_stopped(self):
        """Wait for the killed worker's end (the template reaps it and what it left behind) and
        remove its control groups: before the next worker starts, or when the sandbox closes,
        not while the grader could be reading the results."""
        process, self.stopped = self.stopped, None
        if process is not None:
            try:
                process.wait(timeout=5)  # killed already (stop): never signalled again, its pid may be reused
            except subprocess.TimeoutExpired:
                pass
            finally:
                process.close()

    def close(self):
        self._end_stopped()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.worker_uids:  # without a private /tmp, what the workers left in the shared ones
            from grader.sandbox.tempfiles import remove_files_of
            remove_files_of(self.worker_uids)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _close_quietly(self):
        try:
            self.close()
        except Exception:  # at worst what is left is removed by the next run (tempfiles.remove_stale)
            pass

    def close_later(self):
        """close() in a thread (the worker's end, its control groups, the folder with the jail's
        mounts: 2-10 ms), while the caller writes its results; joined by `join_closing`, which
        runs at exit at the latest."""
        thread = threading.Thread(target=self._close_quietly, name="grade-sandbox-close", daemon=True)
        with _CLOSING_LOCK:
            if not _CLOSING_AT_EXIT:
                _CLOSING_AT_EXIT.append(atexit.register(join_closing))  # once per process
            _CLOSING.append(thread)
        thread.start()

    def run(self, steps: list[Step], make_request) -> dict:
        """Run `steps` to the end; returns {step key: Outcome}. `make_request(skip, calls)`
        builds the request for a fresh worker: modules to skip (they hung or crashed it) and
        the calls still to make. Every worker re-imports the other modules, then goes on."""
        outcomes: dict[str, Outcome] = {}
        self.deadline = time.monotonic() + self.limits.total()
        while True:
            self._give_up_on_slow_groups(steps, outcomes)
            calls = [s for s in steps if s.kind == "call" and s.key not in outcomes]
            if calls and time.monotonic() >= self.deadline:  # the submission's whole budget is spent
                for s in calls:
                    outcomes[s.key] = Outcome("timeout", skipped=True,
                                              detail=Said("sandbox.budget_exhausted", budget=self.limits.total()))
                return outcomes
            skip = [s.key for s in steps if s.kind == "import" and (s.key in self.reimport_failed or s.key in outcomes
                    and outcomes[s.key].status in ("timeout", "crash", "rejected"))]
            imports = [s for s in steps if s.kind == "import" and s.key not in skip]
            if not calls and all(s.key in outcomes for s in imports):
                return outcomes
            before = len(outcomes) + len(self.reimport_failed)
            self._one_worker(make_request(skip, [s.key for s in calls]), imports + calls, outcomes)
            if len(outcomes) + len(self.reimport_failed) == before:  # no progress at all: never loop forever
                for s in calls:
                    outcomes[s.key] = Outcome("crash", detail=Said("sandbox.could_not_start"))
                return outcomes

    def _give_up_on_slow_groups(self, steps, outcomes, limits=None):
        """Enough evidence that a function hangs or crashes: its remaining cases, and those of
        the functions that call it, are not run, without costing the student (and the class)
        more waiting. One timeout is enough (a case's timeout is already many times what a
        correct function takes, the slowest correct submission included: a second one would
        only double what a loop costs); a crash, which costs no waiting, gets a second chance."""
        limits = limits or GIVE_UP_AFTER
        failed = {}
        for s in steps:
            if s.kind == "call" and s.key in outcomes and outcomes[s.key].status in ("timeout", "crash") \
                    and not outcomes[s.key].skipped:
                failed.setdefault(s.group, []).append(outcomes[s.key].status)
        stuck = {}
        for group, found in failed.items():
            for status in ("timeout", "crash"):
                if found.count(status) >= limits[status]:
                    stuck[group] = status
                    break
        for s in steps:
            if s.kind != "call" or s.key in outcomes:
                continue
            culprit = s.group if s.group in stuck else next((g for g in sorted(self.calls.get(s.group, ()))
                                                            if g in stuck), None)
            if culprit is not None:
                timeout = stuck[culprit] == "timeout"
                count = limits[stuck[culprit]]
                if culprit == s.group:
                    why = Said("sandbox.skipped_timeouts" if timeout else "sandbox.skipped_crashes", count=count)
                else:
                    why = Said("sandbox.skipped_callee_timeouts" if timeout else "sandbox.skipped_callee_crashes",
                            function=culprit, count=count)
                outcomes[s.key] = Outcome(stuck[culprit], detail=why, skipped=True)

    def _spawn(self, request: dict):
        jail = {"expose": self.expose, "writable": str(self.sub), "sandbox": str(self.dir),
                "new_root": str(self.new_root)}
        # a backstop only: the per-step deadlines below are what normally stop a worker
        cpu = int(2 * IMPORT_TIMEOUT + self.limits.timeout * (len(request["calls"]) + 1) + 5)
        group = None
        if isolation_requested():
            from grader.sandbox.cgroups import WorkerGroup
            group = WorkerGroup(self.limits.memory_mb, self.limits.processes)
        limits = {"rlimits": _rlimits(self.limits, cpu),
                  "cgroups": [str(g / "cgroup.procs") for g in (group.groups if group else [])]}
        message = {
            **request, **self.request_extra, "root": str(self.sub), "output_log": str(self.log_path),
            "hide": self.hide, "expose": [*self.expose, str(self.dir)], "readable": self.expose, "grader_pid": os.getpid(),
            "jail": jail if isolation_requested() else None,
            "limits": limits, "memory_bytes": self.limits.memory_mb * 2**20}
        # what a forked worker needs before its request (which it decodes itself, once isolated)
        setup = {key: message[key] for key in ("jail", "root", "readable", "memory_bytes")}
        spec = {"cwd": str(self.sub), "env": minimal_env(str(self.sub)), "limits": limits, "setup": setup}

        def fresh_python():
            from grader.sandbox import portable as backend_portable
            return backend_portable.spawn(spec, protocol.encode(message), self.log_path, self.limits.memory_mb,
                                          self.limits.processes, group)
        try:
            if backend() == "template":
                from grader.sandbox import template as backend_template
                try:
                    worker = backend_template.spawn(spec, message, self.log_path, self.limits.memory_mb, group)
                except backend_template.TemplateGone:
                    if platforms.LINUX or os.environ.get("GRADE_BACKEND"):
                        raise
                    _TEMPLATE_FAILED.add(os.getpid())
                    worker = fresh_python()
            else:
                worker = fresh_python()
        except BaseException:
            if group:
                group.close()
            raise
        self.memory_cap = group.describe() if group else getattr(worker, "limits", None) or \
            ("per process (rlimits)" if platforms.RLIMITS else "none: no rlimits and no job object here")
        return worker

    def _one_worker(self, request, sequence: list[Step], outcomes: dict):
        self._end_stopped()  # the previous worker, entirely gone before the next starts
        process = self._spawn(request)
        reader = process.reader
        try:
            if self.on_worker_started is not None:  # the caller's work overlaps the worker's start, not ours
                started, self.on_worker_started = self.on_worker_started, None
                started()
            ready = reader.next(deadline=time.monotonic() + IMPORT_TIMEOUT)
            if ready is None or ready is TIMEOUT:
                process.kill()
                log = self.log_path.read_text(errors="replace")[-truncation.WORKER_LOG_TAIL:] if self.log_path.exists() else ""
                raise GraderError(t("sandbox.worker_failed", death=self._death(process), python=sys.executable,
                                    log=log))
            self._check_ready(ready)
            answered = set()
            for step in sequence:
                started = time.monotonic()
                frame = reader.next(deadline=min(started + step.timeout, self.deadline))
                elapsed = time.monotonic() - started
                if frame is TIMEOUT and time.monotonic() >= self.deadline and elapsed < step.timeout:
                    outcome = Outcome("timeout", duration=elapsed, skipped=True,
                                      detail=Said("sandbox.budget_exhausted", budget=self.limits.total()))
                elif frame is TIMEOUT or frame is None:  # no answer in time, or the worker died
                    outcome = Outcome("timeout", duration=elapsed, detail=Said("sandbox.no_answer", timeout=step.timeout)) \
                        if frame is TIMEOUT else Outcome("crash", duration=elapsed, detail=self._death(process))
                if frame is TIMEOUT or frame is None:
                    if step.key in outcomes:  # a module that imported before: skip it from now on
                        self.reimport_failed.add(step.key)
                    else:
                        outcomes[step.key] = outcome
                    return
                outcome = self._outcome(frame, step, elapsed)
                if outcome.status == "rejected" and outcome.claimed in answered:
                    # a second answer for an earlier step (written straight on the pipe): that step is
                    # the one at fault; this one is run again by a fresh worker
                    outcomes[outcome.claimed] = Outcome("rejected", detail=Said("sandbox.two_answers"))
                    return
                answered.add(step.key)
                if step.key not in outcomes or outcome.status == "rejected":
                    outcomes[step.key] = outcome  # a re-import keeps its first report
                if outcome.status == "rejected":
                    return
        finally:
            # killed now (it runs nothing more); its end is waited for by the next worker's start
            # or by close(), which the caller may run in a thread (close_later)
            process.stop()
            self.stopped = process

    def _check_ready(self, frame: bytes):
        """The first message comes before any submission code runs: it says how the worker is
        isolated, or why the jail could not be completed (then nothing is graded)."""
        try:
            message = protocol.decode(frame, max_header=protocol.MAX_HEADER)
        except protocol.ProtocolError as exc:
            raise GraderError(t("sandbox.broken_first_message", error=exc)) from None
        if type(message) is not dict or message.get("type") != "ready":
            raise GraderError(t("sandbox.no_ready"))
        if type(message.get("memory_needed")) is int:  # a fresh worker's start is larger than memory_mb
            raise GraderError(t("sandbox.memory_too_small", memory=self.limits.memory_mb,
                                needed=-(-message["memory_needed"] // 2**20)))
        if message.get("jail_error"):
            raise GraderError(t("sandbox.jail_failed", error=_text(message["jail_error"], truncation.MESSAGE)))
        isolation = message.get("isolation")
        if type(isolation) is dict:
            uid = isolation.pop("uid", "")  # sent before any submission code ran: trusted
            if type(uid) is str and uid.isdigit():  # tempfiles never takes a uid below the workers' range
                self.worker_uids.add(int(uid))
        if self.isolation is None and type(isolation) is dict:
            self.isolation = {str(k): _text(v, truncation.FIELD) for k, v in isolation.items()}
            self.isolation["memory and processes"] = self.memory_cap
            self.isolation["worker"] = WORKER_KINDS[backend()]

    def _death(self, process) -> Said:
        try:
            code = process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return Said("sandbox.stopped_answering")
        if code < 0:
            name = _signal_name(code)
            if name == "SIGSEGV":
                return Said("sandbox.died_segfault", signal=name)
            if name == "SIGKILL":
                return Said("sandbox.died_killed", signal=name)
            if name == "SIGXCPU":
                return Said("sandbox.died_cpu", signal=name)
            return Said("sandbox.died", signal=name)
        if code == 0:
            return Said("sandbox.exited_early")
        if code == protocol.EXIT_MEMORY:
            return Said("sandbox.died_memory", memory=self.limits.memory_mb)
        if code in WINDOWS_DEATHS:  # an NTSTATUS: Windows has no signals
            return Said("sandbox.died_windows", name=WINDOWS_DEATHS[code](), code=f"0x{code:08X}")
        return Said("sandbox.exited_status", code=code)

    @staticmethod
    def _outcome(frame: bytes, step: Step, elapsed: float) -> Outcome:
        try:
            message = protocol.decode(frame, kinds=protocol.INPUT_KINDS,  # words may come back as str arrays
                                      max_header=protocol.MAX_HEADER)
            if type(message) is not dict:
                raise protocol.ProtocolError("a message that is not a record")
            expected_type = "import" if step.kind == "import" else "result"
            key = message.get("module") if step.kind == "import" else message.get("id")
            if message.get("type") != expected_type or key != step.key:
                claimed = message.get("module") or message.get("id")
                return Outcome("rejected", duration=elapsed, claimed=claimed if type(claimed) is str else None,
                               detail=Said("sandbox.out_of_order_import" if step.kind == "import"
                                        else "sandbox.out_of_order_result", key=step.key))
        except protocol.ProtocolError as exc:
            return Outcome("rejected", duration=elapsed, detail=Said("sandbox.protocol_error", error=str(exc)))
        output = _text(message.get("output"), 4000)
        raw_violations = message.get("violations")
        violations = [{"name": _text(v.get("name"), 300), "phase": _text(v.get("phase"), 200),
                       "kind": _text(v.get("kind"), 20) or "import", "code": _text(v.get("code"), 40),
                       "fields": {_text(k, 40): _text(f, 300) for k, f in list(v["fields"].items())[:8]}
                       if type(v.get("fields")) is dict else {}}
                      for v in (raw_violations[:protocol.MAX_VIOLATIONS] if type(raw_violations) is list else [])
                      if type(v) is dict]
        if step.kind == "import":
            error = _exception(message.get("error"))
            return Outcome("raised" if error else "returned", exception=error,
                           output=output, duration=elapsed, violations=violations)
        status = message.get("status")
        if status not in ("returned", "raised", "missing", "unsupported"):
            return Outcome("rejected", duration=elapsed, detail=Said("sandbox.unknown_status"))
        return Outcome(status, value=message.get("value"),
                       exception=_exception(message.get("exception")),
                       inputs_after=message.get("inputs_after") if type(message.get("inputs_after")) is dict else None,
                       output=output, duration=elapsed, detail=_text(message.get("detail"), 500),
                       violations=violations)


_CLOSING: list = []  # sandboxes closing in a thread (close_later)
_CLOSING_LOCK = threading.Lock()
_CLOSING_AT_EXIT: list = []  # join_closing, once registered to run at exit


def join_closing():
    """Wait for every sandbox closing in a thread (at exit: before the process ends)."""
    while True:
        with _CLOSING_LOCK:
            if not _CLOSING:
                return
            thread = _CLOSING.pop()
        thread.join()


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


