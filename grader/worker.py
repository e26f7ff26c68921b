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
import protocol  # noqa: E402  (a copy beside this file)
del sys.path[0]

import numpy as np  # noqa: E402,F401  (imported before the submission: it cannot replace it)

OUTPUT_CAP = 4000


class Worker:
    def __init__(self, request, result_fd):
        self.request = request
        self.fd = result_fd
        self.root = request["root"]
        self.package = request["package"]
        self.forbidden = tuple(request["forbidden"])
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
        if event != "import" or not self.forbidden:
            return
        name = args[0]
        if any(name == f or name.startswith(f + ".") for f in self.forbidden):
            self.violations.append({"name": name, "phase": self.phase})
            raise ImportError("importing %r is not allowed in this assignment" % name)

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

    def run(self):
        self.violations = []
        self.send({"type": "ready"})  # NumPy and the request are loaded: what fails now is the submission's
        sys.addaudithook(self.audit)
        if self.request["mode"] == "cells":
            self.load_cells()
        else:
            self.load_package()
        for case in self.request["calls"]:
            self.call(case)
        self.send({"type": "done"})


def main():
    request_path, fd = sys.argv[1], int(sys.argv[2])
    with open(request_path, "rb") as f:
        request = protocol.decode(f.read(), kinds=protocol.INPUT_KINDS)
    os.unlink(request_path)
    Worker(request, fd).run()
    os._exit(0)  # skip interpreter teardown: nothing the submission registered runs after us


if __name__ == "__main__":
    main()
