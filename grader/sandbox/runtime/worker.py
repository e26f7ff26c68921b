"""The worker: imports one submission and calls its functions on the cases' inputs.

Never inside the grader. Two ways to start, one behaviour (grader/sandbox/platforms.py chooses):
- *template* (Linux, macOS): the grader starts this file once (`python -I -B [-S] -c LAUNCHER
  …/worker.py --template CONTROL_FD`, from a copy in a temporary folder, with the compiled code
  of each runtime file beside it: see runtime_files.runtime_command): it imports NumPy and the runtime, builds
  the system-call filter, keeps (decoded) the inputs every student shares once the grader
  preloads them, runs no submission code, and for each worker the grader asks for forks a
  fresh child that drops
  everything of the template (descriptors, environment, session), takes its limits, then
  behaves as a brand-new worker process: request, jail, submission. A child is never reused:
  one fork per worker, so nothing of one submission reaches another, and each costs a fork
  instead of starting Python and importing NumPy again.
- *portable* (Windows, or GRADE_BACKEND=portable): `python -I -B -c LAUNCHER …/worker.py --serve` per worker;
  the request arrives on stdin (the grader writes it once the worker is in its Job Object),
  frames leave on the original stdout, and stdout/stderr then go to the output log.

A worker only ever sees inputs; it sends back each outcome as a frame of `protocol` bytes (no
pickle) on its result pipe. Everything it sends is treated by the grader as untrusted.
Standard library + NumPy only.
"""
import gc
import importlib
import linecache
import mmap
import os
import sys
import threading
import time
import traceback
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protocol  # noqa: E402  (copies beside this file)
try:
    import jail  # noqa: E402
except Exception:  # not Linux: process isolation only
    jail = None
import seccomp  # noqa: E402
del sys.path[0]

import numpy as np  # noqa: E402,F401  (imported before the submission: it cannot replace it)

OUTPUT_CAP = 4000
WATCH_MS = 20
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
SIGNAL_EVENTS = ("os.kill", "os.killpg")
# events that change the filesystem: which of their arguments are the paths changed
CHANGE_EVENTS = {"os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1), "os.mkdir": (0,), "os.symlink": (1,),
                 "os.link": (1,), "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,),
                 "os.chflags": (0,), "os.lchflags": (0,), "os.lchmod": (0,), "os.mkfifo": (0,), "os.mknod": (0,),
                 "shutil.rmtree": (0,), "shutil.move": (0, 1), "shutil.copyfile": (1,), "shutil.copytree": (1,)}
PROGRAM_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "pty.spawn")
NETWORK_EVENTS = ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg")
# raw memory and the worker's own objects: the usual ways around an audit hook
INTROSPECTION_EVENTS = ("ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.cdata", "ctypes.string_at",
                        "ctypes.wstring_at", "ctypes.call_function", "gc.get_objects", "gc.get_referrers",
                        "gc.get_referents")


class Worker:
    def __init__(self, request, result_fd):
        self.request = request
        self.fd = result_fd
        self.root = request["root"]
        self.package = request["package"]
        self.forbidden = tuple(request["forbidden"])
        self.hidden = tuple(request.get("hide", []))
        self.exposed = tuple(request.get("expose", []))
        self.writable = (self.root, os.devnull) + tuple(request.get("writable_extra", []))
        self.grader_pid = request.get("grader_pid")
        self.phase = None  # the module or function running now, for import violations
        self.cell_files = set()  # the file names given to the code of a notebook's cells or a .py file
        self.log = open(request["output_log"], "rb")
        self.logged = self.log.seek(0, 2)  # where the output log ends: what was printed so far is behind

    # --- messages ---------------------------------------------------------------------------
    def send(self, message):
        try:
            payload = protocol.encode(message)
        except protocol.Unsupported as exc:
            message.pop("value", None)
            message.pop("inputs_after", None)
            message["status"] = "unsupported"
            message["detail"] = str(exc)
            payload = protocol.encode(message)
        protocol.write_frame(self.fd, payload)

    def output(self):
        """What the submission printed since the last call (capped)."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        if os.fstat(self.log.fileno()).st_size == self.logged:  # nothing printed: the usual case, one call
            return ""
        data = self.log.read(OUTPUT_CAP + 1)
        self.logged = self.log.seek(0, 2)
        # the submission's files named as in a traceback, relative to it: a warning's
        # "/tmp/grade-x7k2/sub/exercises/softmax.py:3: ..." names a folder that changes every run
        text = data.decode("utf-8", "replace").replace(self.root.rstrip(os.sep) + os.sep, "")
        return text if len(data) <= OUTPUT_CAP else text[:OUTPUT_CAP] + "\n[… output truncated]"

    def exception(self, exc):
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if _inside(f.filename, self.root) or f.filename in self.cell_files]
        lines = ["%s, line %s, in %s%s" % (os.path.relpath(f.filename, self.root) if _inside(f.filename, self.root)
                                            else f.filename, f.lineno, f.name, ("\n    " + f.line) if f.line else "")
                 for f in frames]
        return {"type": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__],
                "message": str(exc)[:2000], "traceback": lines[-12:]}

    # --- rules ------------------------------------------------------------------------------
    def audit(self, event, args):
        """Refuse, and report in plain words, what a submission has no reason to do. In the
        Linux jail the OS refuses these anyway; elsewhere this is the (best-effort) barrier."""
        if event == "import":
            name = args[0]
            if any(name == f or name.startswith(f + ".") for f in self.forbidden):
                self.refuse("import", "import", name=name, module=repr(name))
        elif event == "open":
            self.check_open(*args[:3])
        elif event in CHANGE_EVENTS:
            for index in CHANGE_EVENTS[event]:
                if index < len(args):
                    self.check_change(args[index], event)
        elif event in SIGNAL_EVENTS:
            target = args[0]
            if event == "os.killpg" or target <= 0 or target in (os.getppid(), self.grader_pid):
                self.refuse("signal", "signal", target=target)
        elif event in PROGRAM_EVENTS:
            self.refuse("program", "program", event=event)
        elif event in NETWORK_EVENTS:
            self.refuse("network", "network", event=event)
        elif event in INTROSPECTION_EVENTS:
            self.refuse("memory", "memory", event=event)

    @staticmethod
    def real(path):
        if isinstance(path, int) or path is None:
            return None
        try:
            return os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return None

    def check_open(self, path, mode, flags):
        path = self.real(path)
        if path is None:
            return
        writing = isinstance(mode, str) and any(c in mode for c in "wax+") or bool(flags & WRITE_FLAGS)
        if writing and not any(_inside(path, w) for w in self.writable):
            self.refuse("file", "write", path=path)
        if any(_inside(path, h) for h in self.hidden) and not any(_inside(path, e) for e in self.exposed):
            self.refuse("file", "read_hidden", path=path)
        parts = path.split("/")  # /proc/<pid>/…: Linux only (a Windows path never matches)
        if len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit() and int(parts[2]) != os.getpid():
            self.refuse("process", "read_process", path=path)

    def check_change(self, path, event):
        """Deleting, renaming, linking, chmod…: a change, allowed in its own folder only."""
        path = self.real(path)
        if path is not None and not any(_inside(path, w) for w in self.writable):
            self.refuse("file", "change", path=path, event=event)

    def refuse(self, kind, code, name=None, **fields):
        """Report a refusal as data (its code and fields: the grader words it in the reader's
        language), and raise it in the submission with the same data, in no language."""
        fields = {k: str(v) for k, v in fields.items()}
        what = "%s (%s)" % (code, ", ".join("%s=%s" % kv for kv in sorted(fields.items())))
        if len(self.violations) < protocol.MAX_VIOLATIONS:  # a flood of refusals costs nothing more
            self.violations.append({"kind": kind, "code": code, "fields": fields, "name": name or what,
                                    "phase": self.phase})
        raise (ImportError if kind == "import" else PermissionError)("refused by the grader: " + what)

    # --- loading ----------------------------------------------------------------------------
    def load_package(self):
        sys.path.insert(0, self.root)
        for module in self.request["modules"]:
            self.phase = module
            if module in self.request["skip"]:
                continue
            started = time.perf_counter()
            try:
                importlib.import_module("%s.%s" % (self.package, module))
                error = None
            except BaseException as exc:  # SystemExit, KeyboardInterrupt included: they cost one module
                error = self.exception(exc)
            self.send({"type": "import", "module": module, "error": error, "output": self.output(),
                       "duration": time.perf_counter() - started, "violations": self.flush_violations()})

    def load_cells(self):
        """A notebook or a single file: run each cell in one namespace; a failing cell is
        reported and the others still run. `exercises.<module>` all point to it."""
        namespace = types.ModuleType(self.package)
        namespace.__path__ = []
        sys.modules[self.package] = namespace
        for module in self.request["modules"]:
            sys.modules["%s.%s" % (self.package, module)] = namespace
        for index, cell in enumerate(self.request["cells"]):
            label = cell["label"]
            self.phase = label
            if label in self.request["skip"]:
                continue
            started = time.perf_counter()
            # a notebook's cell by its number (the same words in every language); a .py file by its name
            filename = "<cell %s>" % cell["index"] if "index" in cell else label
            self.cell_files.add(filename)
            linecache.cache[filename] = (len(cell["source"]), None, cell["source"].splitlines(True), filename)
            try:
                exec(compile(cell["source"], filename, "exec"), namespace.__dict__)
                error = None
            except BaseException as exc:
                error = self.exception(exc)
            self.send({"type": "import", "module": label, "error": error, "output": self.output(),
                       "duration": time.perf_counter() - started, "violations": self.flush_violations()})
        self.namespace = namespace

    def flush_violations(self):
        found, self.violations = self.violations, []
        return found

    def lookup(self, module, function):
        if self.request["mode"] == "cells":
            return getattr(self.namespace, function, None)
        target = sys.modules.get("%s.%s" % (self.package, module))
        return getattr(target, function, None) if target is not None else None

    # --- calling ----------------------------------------------------------------------------
    def call(self, case):
        fn = self.lookup(case["module"], case["function"])
        self.phase = case["module"]
        message = {"type": "result", "id": case["id"]}
        if not callable(fn):
            message["status"] = "missing"
        else:
            if "preloaded" in case:  # inputs the template decoded once: this fork's own copy, and their snapshot
                args, before = PRELOADED[case["preloaded"]]
            else:
                args = case["args"]
                before = _snapshot(args)
            started = time.perf_counter()
            try:
                value = fn(*args.values())
                message.update(status="returned", value=value)
            except BaseException as exc:
                message.update(status="raised", exception=self.exception(exc))
            message["duration"] = time.perf_counter() - started
            if before is None or _snapshot(args) != before:  # the grader checks what changed, and how
                message["inputs_after"] = args
        message["output"] = self.output()
        message["violations"] = self.flush_violations()
        self.send(message)

    def run(self, isolation):
        self.violations = []
        # NumPy, the request and the jail are in place: what fails from now on is the submission's
        self.send({"type": "ready", "isolation": isolation})
        sys.addaudithook(self.audit)
        if self.request["mode"] == "cells":
            self.load_cells()
        else:
            self.load_package()
        for case in self.request["calls"]:
            self.call(case)
        self.send({"type": "done"})


_PLAIN = (type(None), bool, int, float, str)
# {key: (inputs, their snapshot)}: the template's decoded copy of the inputs every student of its
# grader gets (the grader's `preload`); each fork works on its own copy of them
PRELOADED = {}


def _snapshot(value, depth=0):
    """The inputs as plain data (types, dtypes, shapes, raw bytes), to tell whether a call left
    them exactly as they were: then they are not sent back (the grader's check could only find
    them unchanged). None when they hold anything else: they are sent back, and the grader checks."""
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if kind is np.ndarray:
        if value.dtype.hasobject or value.size > protocol.MAX_ELEMENTS:
            return None
        return (kind, value.dtype.str, value.shape, value.tobytes())
    if depth > protocol.MAX_DEPTH:
        return None
    if kind is dict:
        items = [(k, _snapshot(v, depth + 1)) for k, v in value.items()]
        return None if any(type(k) is not str or v is None for k, v in items) else (kind, tuple(items))
    if kind in (list, tuple):
        items = [_snapshot(v, depth + 1) for v in value]
        return None if any(v is None for v in items) else (kind, tuple(items))
    return None


def _inside(path, folder):
    path, folder = os.path.normcase(path), os.path.normcase(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def isolate(request, fd):
    """Enter the Linux jail when the grader asks for it; say which isolation we have."""
    if not request.get("jail"):
        return {"level": "process", "reason": "namespaces not requested"}
    if jail is None:
        return {"level": "process", "reason": "no jail on this platform"}
    try:
        return jail.enter({**request["jail"], "result_fd": fd})
    except jail.JailUnavailable as exc:
        return {"level": "process", "reason": exc.strerror}
    except jail.JailError as exc:  # granted but incomplete: never grade half-isolated
        protocol.write_frame(fd, protocol.encode({"type": "ready", "jail_error": exc.strerror}))
        os._exit(3)


def serve(request, fd, enforced, raw=None):
    """`enforced`: what apply_limits obtained from the OS; a watchdog stands in for the rest.
    `raw`: [the request's bytes], decoded only here, in the worker itself, once the jail's forks are
    done (`request` then holds only what isolating needs: jail, root, readable, memory_bytes):
    the processes above it never build, nor copy page by page, what they never read."""
    isolation = isolate(request, fd)
    if isolation["level"] == "process" and jail is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
        try:
            isolation["user"] = jail.drop_root(request["root"], request["readable"])
            if jail.dropped_uid():
                isolation["uid"] = str(jail.dropped_uid())  # for the grader's clean-up; it is not in the JSON
        except jail.JailError as exc:  # half-dropped: never grade as a half-privileged process
            protocol.write_frame(fd, protocol.encode({"type": "ready", "jail_error": exc.strerror}))
            os._exit(3)
    isolation["syscalls"] = _filter_calls()  # after the jail (it mounts), before the watchdog thread
    isolation["memory"] = _watch(request.get("memory_bytes"), enforced)  # after the jail's forks
    if raw is not None:
        request = protocol.decode(raw.pop(), kinds=protocol.INPUT_KINDS, max_nodes=None)  # the grader's own
    Worker(request, fd).run(isolation)
    os._exit(0)  # skip interpreter teardown: nothing the submission registered runs after us


# the template's filter, built once (seccomp.prepare): (program, what it denies), or None
FILTER = None


def _filter_calls():
    """The system-call filter, where the platform has one; says what holds."""
    try:
        if FILTER is not None:
            seccomp.load(FILTER[0])
            return FILTER[1]
        return seccomp.install()
    except (seccomp.Unavailable, OSError, AttributeError) as exc:
        return "no filter (%s)" % (exc.strerror or exc)


def _prepare_filter():
    """The template builds the workers' filter once, where it can (else each worker tries)."""
    global FILTER
    try:
        FILTER = seccomp.prepare()
    except (seccomp.Unavailable, OSError, AttributeError):
        FILTER = None


def _watch(memory_bytes, enforced):
    """Start the watchdog where the OS does not enforce what we asked: the address-space cap
    (macOS ignores RLIMIT_AS) and the parent-death signal (Linux only). Says what holds."""
    watch_memory = memory_bytes if memory_bytes and not enforced.get("address_space") and enforced.get("rusage") \
        else None
    parent = None if enforced.get("parent_death") else os.getppid()
    if watch_memory or parent:
        threading.Thread(target=_watchdog, args=(watch_memory, parent), daemon=True).start()
    if enforced.get("address_space"):
        return "address space %d MB (RLIMIT_AS)" % (memory_bytes // 2**20)
    if watch_memory:
        return "resident memory %d MB (a watchdog, every %d ms)" % (memory_bytes // 2**20, WATCH_MS)
    return "none in the worker"


def _resident_bytes():
    """Peak resident size of this process: ru_maxrss is in bytes on macOS, KiB elsewhere."""
    try:
        import resource
    except ImportError:  # Windows: the Job Object caps memory, nothing to watch
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _watchdog(memory_bytes, parent):
    """A thread: between two Python instructions of the submission (or while NumPy has released
    the GIL), end the worker when it holds too much memory, or when the grader is gone."""
    while True:
        time.sleep(WATCH_MS / 1000)
        if memory_bytes and _resident_bytes() > memory_bytes:
            os._exit(protocol.EXIT_MEMORY)
        if parent and os.getppid() != parent:
            os._exit(protocol.EXIT_ORPHAN)


# --- the template ------------------------------------------------------------------------------

def template(control_fd):
    """Serve the grader's commands on a UNIX socket, one JSON message each (protocol.send_control):
    {"spawn": spec} with two descriptors (result pipe, output log) -> {"pid": n};
    {"wait": pid, "timeout": s} -> {"status": waitpid status, or null if still running};
    {"preload": null} with an in-memory file (or {"preload": path}) -> {"preloaded": n}: inputs
    that later requests refer to by key instead of carrying them (see `_preload`).
    End-of-file (the grader is gone) ends the template; its children have a parent-death signal."""
    import json
    import socket

    control = socket.socket(fileno=control_fd)
    _parent_death_signal()
    _become_subreaper()
    _cache_runtime_lines()
    _prepare_filter()
    _freeze()
    own_pids = _own_pid_namespace()
    protocol.send_control(control, json.dumps({"ready": os.getpid(), "address_space": _address_space()}).encode())
    workers = set()  # live workers; any other child is a stray a worker left (the template is their reaper)
    while True:
        try:
            data, fds = protocol.receive_control(control, 3)
        except OSError:
            os._exit(0)
        if not data:
            os._exit(0)
        command = json.loads(data)
        if "spawn" in command:
            spec = command["spawn"]
            status = _pid_namespace_for_next_child() if own_pids is not None and (spec.get("setup") or {}).get("jail") \
                else None
            pid = os.fork()
            if pid == 0:
                if status is not None:
                    os.close(status[0])
                    spec["status_fd"] = status[1]
                _become_worker(spec, fds, control_fd)
            if status is not None:  # the template's next children are in its own namespace again
                if jail._libc.setns(own_pids, jail.CLONE_NEWPID) != 0:
                    os._exit(1)  # rather than fork the next workers into a dead namespace: a new template is started
                os.close(status[1])
                STATUS_PIPES[pid] = status[0]
            for fd in fds:
                os.close(fd)
            workers.add(pid)
            reply = {"pid": pid}
        elif "preload" in command:
            reply = {"preloaded": _preload(command["preload"], fds)}
            _freeze()
        else:
            status = _reap(command["wait"], command["timeout"])
            if status is not None:  # the worker is gone: so is everything it left behind
                status = _reported(command["wait"], status)
                workers.discard(command["wait"])
                _kill_strays(workers)
            reply = {"status": status}
        protocol.send_control(control, json.dumps(reply).encode())


# {pid: read end of its status pipe} of the workers forked as PID 1 of a PID namespace of their own
STATUS_PIPES = {}


def _own_pid_namespace():
    """A descriptor of the template's own PID namespace where it may give each worker a new one
    itself (root, Linux): each worker's PID 1 is then the template's own child, one process and
    one fork fewer per worker than an outer process entering the namespace would take. None
    elsewhere (an unprivileged user: the worker enters a user namespace first, as before)."""
    if jail is not None and hasattr(jail._libc, "setns") and hasattr(os, "geteuid") and os.geteuid() == 0:
        probe = os.fork()  # every namespace a worker enters, granted here? (else each worker finds out, as before)
        if probe == 0:
            os._exit(0 if jail._libc.unshare(jail.CLONE_NEWPID | jail.CLONE_NEWNS | jail.CLONE_NEWNET
                                              | jail.CLONE_NEWIPC | jail.CLONE_NEWUTS) == 0 else 1)
        if os.waitstatus_to_exitcode(os.waitpid(probe, 0)[1]) == 0:
            try:
                return os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                pass
    return None


def _pid_namespace_for_next_child():
    """(read end, write end) of a status pipe once the template's next child will be PID 1 of a new
    PID namespace, or None when the kernel refuses one (the worker then jails itself as before)."""
    if jail._libc.unshare(jail.CLONE_NEWPID) != 0:  # for the next child only (setns undoes it)
        return None
    return os.pipe()


def _reported(pid, status):
    """How the worker ended, as its PID 1 reported it (when the template made that PID 1 itself):
    PID 1 ends normally once it has said it; killed before (the grader's SIGKILL), its own status."""
    fd = STATUS_PIPES.pop(pid, None)
    if fd is None:
        return status
    try:
        reported = os.read(fd, 4)  # every writer is gone: never blocks
    except OSError:
        reported = b""
    finally:
        os.close(fd)
    return int.from_bytes(reported, "little") if len(reported) == 4 else status


def _freeze():
    """Put what the template holds (NumPy, the runtime, the preloaded inputs) out of the cyclic
    collector's reach: a worker's collections then never walk it, so never write to its pages,
    which stay shared with the template instead of being copied into every fork (copy-on-write)."""
    gc.collect()
    gc.freeze()


def _preload(path, fds):
    """Decode and keep inputs the grader's workers will be given by reference (from an in-memory
    file, or a file it wrote, removed here); returns how many, 0 when they could not be read."""
    try:
        if fds:
            with os.fdopen(fds[0], "rb") as f:
                data = f.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
            os.unlink(path)
        inputs = protocol.decode(data, kinds=protocol.INPUT_KINDS, max_nodes=None)  # the grader's own
    except (OSError, protocol.ProtocolError):
        return 0
    finally:
        for fd in fds[1:]:
            os.close(fd)
    for key, args in inputs.items():
        PRELOADED[key] = (args, _snapshot(args))
    return len(inputs)


def _cache_runtime_lines():
    """Tracebacks through the runtime quote its lines: keep them in memory (no mtime: never
    re-read), since the runtime's folder is out of a worker's reach."""
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(n for n in os.listdir(here) if n.endswith(".py")):  # the runtime's files, whatever they are
        path = os.path.join(here, name)
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines(True)
        linecache.cache[path] = (sum(map(len, lines)), None, lines, path)


def _address_space():
    """Bytes of address space a worker starts with (the template's: NumPy loaded), or None."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):  # no /proc (macOS): unknown
        return None


def _become_subreaper():
    """Linux: what a worker leaves behind (a double-forked daemon, in a run without namespaces)
    becomes the template's child, not init's, so that the template can end it."""
    if jail is not None and hasattr(jail._libc, "prctl"):
        jail._libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _children():
    """This process's children (Linux /proc)."""
    found = set()
    try:
        for task in os.listdir("/proc/self/task"):
            with open("/proc/self/task/%s/children" % task) as f:
                found.update(int(pid) for pid in f.read().split())
    except (OSError, ValueError):
        pass
    return found


def _kill_strays(workers, seconds=2.0):
    """Kill and reap every child that is not a live worker, and the children they leave in turn
    (each is re-parented here), before the grader hears that the worker ended."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        strays = _children() - workers
        if not strays:
            return
        for pid in strays:
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError, PermissionError):
                pass


def _reap(pid, timeout):
    """waitpid with a deadline (the template's only children are the workers it forked). Where
    the kernel has process descriptors (Linux 5.3), the template sleeps until the worker ends
    rather than polling every 2 ms: the grader's next command (a fork for another student)
    is not kept waiting behind a poll's sleep."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None:
        try:
            fd = pidfd_open(pid)
        except OSError:  # gone already (reaped), or no such call in this kernel: the loop below says
            fd = None
        if fd is not None:
            try:
                import select
                waiting = select.poll()
                waiting.register(fd, select.POLLIN)  # readable once the process has ended
                waiting.poll(max(0, -int(-timeout * 1000 // 1)))  # milliseconds, rounded up
            finally:
                os.close(fd)
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return 1 << 8
            return status if done else None
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return 1 << 8
        if done:
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.002)


def _parent_death_signal():
    """Linux: the kernel kills this process when its parent dies. Elsewhere the watchdog does."""
    if jail is not None and hasattr(jail._libc, "prctl"):
        import signal
        return jail._libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0  # PR_SET_PDEATHSIG
    return False


def _parent(own_namespace):
    """This process's parent: as the machine numbers it when this process is PID 1 of a namespace
    of its own (getppid() is 0 there; /proc is still the machine's)."""
    if not own_namespace:
        return os.getppid()
    try:
        with open("/proc/self/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])  # the field after the state
    except (OSError, ValueError, IndexError):
        return None


def _become_worker(spec, fds, control_fd):
    """In the fresh child: nothing of the template but its memory (NumPy, this runtime)."""
    try:
        result_fd, log_fd = fds[:2]
        request_data = None
        if len(fds) == 3:  # the request in an anonymous in-memory file (Linux): read it before anything closes
            with os.fdopen(fds[2], "rb") as f:
                request_data = f.read()
        status_fd = spec.get("status_fd")  # PID 1 of a PID namespace of its own (see template)
        os.setsid()  # its own session and process group: the grader kills the group
        parent_death = _parent_death_signal()
        if _parent(status_fd is not None) != spec["template"]:  # the template died before the signal was set
            os._exit(1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        # every other descriptor goes: the control socket above all (no spawning, no reaping)
        kept = sorted({result_fd} | ({status_fd} if status_fd is not None else set()))
        for low, high in zip([3] + [fd + 1 for fd in kept], kept + [1 << 16]):
            os.closerange(low, high)
        enforced = apply_limits(spec["limits"])
        enforced["parent_death"] = parent_death
        os.chdir(spec["cwd"])
        os.environ.clear()
        os.environ.update(spec["env"])
        if request_data is None:  # macOS: a file beside the worker's folder
            with open(spec["request"], "rb") as f:
                request_data = f.read()
            os.unlink(spec["request"])
        if "setup" in spec:  # what isolating needs; the whole request is decoded by the worker itself
            raw = [request_data]  # its only reference, dropped as it is decoded
            del request_data
            setup = spec["setup"]
            if status_fd is not None:
                setup = {**setup, "jail": {**setup["jail"], "status_fd": status_fd}}
            serve(setup, result_fd, enforced, raw=raw)
        else:
            request = protocol.decode(request_data, kinds=protocol.INPUT_KINDS, max_nodes=None)  # the grader's own
            del request_data
            serve(request, result_fd, enforced)
    except BaseException:
        pass
    os._exit(70)


def serve_fresh():
    """The portable backend: this process was started for one worker (`--serve`). Its stdout
    is the result pipe; the request comes on stdin once the grader has set its limits."""
    _cache_runtime_lines()
    result_fd = os.dup(1)
    if os.name == "nt":
        import msvcrt
        msvcrt.setmode(result_fd, os.O_BINARY)  # frames are bytes: no newline translation
    data = sys.stdin.buffer.read()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)  # what the submission prints goes to the output log, as stderr does
    request = protocol.decode(data, kinds=protocol.INPUT_KINDS, max_nodes=None)  # the grader's own
    space, cap = _address_space(), request["limits"]["rlimits"].get("RLIMIT_AS")
    if space and cap and cap < space + protocol.WORKING_ROOM:  # the assignment's cap, not the student's fault
        protocol.write_frame(result_fd, protocol.encode({"type": "ready", "memory_needed": space + protocol.WORKING_ROOM}))
        os._exit(3)
    enforced = apply_limits(request["limits"])
    enforced["parent_death"] = _parent_death_signal()
    serve(request, result_fd, enforced)


def _single_threaded():
    """Linux: this process has one thread (else, or unknown: False)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def apply_limits(limits):
    """Control groups first (the worker and all its descendants are counted there), then rlimits.
    Returns what the OS enforces: {"address_space": True} only where RLIMIT_AS was set and the
    kernel refuses a mapping beyond it (Linux; macOS accepts it and ignores it)."""
    import signal

    single = _single_threaded()
    for procs in limits.get("cgroups", []):
        # cgroup v1, one thread (a fresh fork): moving the thread is moving the process, and the
        # "tasks" file skips the kernel's system-wide lock (and its RCU grace period, ~10 ms)
        tasks = os.path.join(os.path.dirname(procs), "tasks")
        try:
            with open(tasks if single and os.path.basename(procs) == "cgroup.procs" and os.path.exists(tasks)
                      else procs, "w") as f:
                f.write("0")
        except OSError:
            pass
    try:
        import resource
    except ImportError:  # Windows: the grader's Job Object holds the limits
        return {"address_space": False, "rusage": False}
    applied = {}
    for name, value in limits["rlimits"].items():
        which = getattr(resource, name, None)
        if which is None:
            continue  # a platform without this limit: best effort (see SECURITY.md)
        try:
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))
            applied[name] = resource.getrlimit(which)[0] == value
        except (ValueError, OSError):
            pass
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, it does not kill
    limit = limits["rlimits"].get("RLIMIT_AS")
    return {"address_space": bool(limit) and applied.get("RLIMIT_AS", False) and _refuses_mapping(limit + 2**20),
            "rusage": True}


def _refuses_mapping(size):
    """Whether the kernel enforces RLIMIT_AS, found by asking for more: macOS accepts the limit,
    reads it back, and ignores it. The mapping is never touched, so it costs no memory."""
    try:
        mapping = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
    except (OSError, OverflowError, ValueError):
        return True
    mapping.close()
    return False


def main(argv):
    """Started by grader.sandbox (runtime_files.runtime_command imports this module and calls
    this; running the file as a script does the same)."""
    if argv[:1] == ["--template"] and hasattr(os, "fork"):
        template(int(argv[1]))
    elif argv[:1] == ["--serve"]:
        serve_fresh()
    else:
        sys.exit("usage: python -I worker.py --template CONTROL_FD (where fork exists) | --serve"
                 " (started by grader.sandbox.supervisor)")


if __name__ == "__main__":
    main(sys.argv[1:])
