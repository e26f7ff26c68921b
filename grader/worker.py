"""The worker: imports one submission and calls its functions on the cases' inputs.

Runs as a separate process (`python -I worker.py REQUEST RESULT_FD`) from a copy in a
temporary folder, never inside the grader. It only ever sees inputs; it sends back each
outcome as a frame of `protocol` bytes (no pickle) on RESULT_FD. Everything it sends is
treated by the grader as untrusted. Standard library + NumPy only.
"""
import importlib
import linecache
import os
import sys
import time
import traceback
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protocol  # noqa: E402  (copies beside this file)
try:
    import jail  # noqa: E402
except Exception:  # not Linux: process isolation only
    jail = None
del sys.path[0]

import numpy as np  # noqa: E402,F401  (imported before the submission: it cannot replace it)

OUTPUT_CAP = 4000
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
        self.log = open(request["output_log"], "rb")
        self.log.seek(0, 2)

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
        data = self.log.read(OUTPUT_CAP + 1)
        self.log.seek(0, 2)
        text = data.decode("utf-8", "replace")
        return text if len(data) <= OUTPUT_CAP else text[:OUTPUT_CAP] + "\n[… output truncated]"

    def exception(self, exc):
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if f.filename.startswith(self.root) or f.filename.startswith("<cell")]
        lines = ["%s, line %s, in %s%s" % (os.path.relpath(f.filename, self.root) if f.filename.startswith(self.root)
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
                self.refuse("import", "importing %r is not allowed in this assignment" % name, name=name)
        elif event == "open":
            self.check_open(*args[:3])
        elif event in CHANGE_EVENTS:
            for index in CHANGE_EVENTS[event]:
                if index < len(args):
                    self.check_change(args[index], event)
        elif event in SIGNAL_EVENTS:
            target = args[0]
            if event == "os.killpg" or target <= 0 or target in (os.getppid(), self.grader_pid):
                self.refuse("signal", "sending a signal to process %s (the grader or its group)" % target)
        elif event in PROGRAM_EVENTS:
            self.refuse("program", "starting another program (%s)" % event)
        elif event in NETWORK_EVENTS:
            self.refuse("network", "using the network (%s)" % event)
        elif event in INTROSPECTION_EVENTS:
            self.refuse("memory", "reaching into memory or the grader's objects (%s)" % event)

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
            self.refuse("file", "writing %s, outside its own folder" % path)
        if any(_inside(path, h) for h in self.hidden) and not any(_inside(path, e) for e in self.exposed):
            self.refuse("file", "reading %s, which the grader keeps from submissions" % path)
        parts = path.split("/")
        if len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit() and int(parts[2]) != os.getpid():
            self.refuse("process", "reading %s, another process's memory or environment" % path)

    def check_change(self, path, event):
        """Deleting, renaming, linking, chmod…: a change, allowed in its own folder only."""
        path = self.real(path)
        if path is not None and not any(_inside(path, w) for w in self.writable):
            self.refuse("file", "changing %s (%s), outside its own folder" % (path, event))

    def refuse(self, kind, what, name=None):
        self.violations.append({"kind": kind, "name": name or what, "phase": self.phase})
        raise (ImportError if kind == "import" else PermissionError)("not allowed by the grader: %s" % what)

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
            filename = "<cell %s>" % label
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
            args = case["args"]
            started = time.perf_counter()
            try:
                value = fn(*args.values())
                message.update(status="returned", value=value)
            except BaseException as exc:
                message.update(status="raised", exception=self.exception(exc))
            message["duration"] = time.perf_counter() - started
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


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


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


def main():
    request_path, fd = sys.argv[1], int(sys.argv[2])
    with open(request_path, "rb") as f:
        request = protocol.decode(f.read(), kinds=protocol.INPUT_KINDS)
    os.unlink(request_path)
    isolation = isolate(request, fd)
    Worker(request, fd).run(isolation)
    os._exit(0)  # skip interpreter teardown: nothing the submission registered runs after us


if __name__ == "__main__":
    main()
