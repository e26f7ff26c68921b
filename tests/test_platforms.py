"""Every Unix-only (and Windows-only) call in `grader/` sits behind a platform test.

The check reads the source (ast): a name from the lists below is *guarded* when it sits in the
branch of an `if` (or `x if … else …`) whose test asks about the platform, in the body of a
`try` that catches ImportError / AttributeError / OSError, or in a scope listed in SCOPES — a
module or function that only platform-tested code reaches, which the check verifies too (every
import of a listed module, and every call of a listed function, is itself guarded).
"""
import ast

import pytest

from conftest import ROOT
from grader.sandbox import platforms

GRADER = ROOT / "grader"

# What Windows lacks (or, for `select`, has for sockets only) ...
UNIX_ONLY = {
    "os": {"fork", "forkpty", "setsid", "killpg", "getpgid", "setpgid", "getpgrp", "getuid", "geteuid", "getgid",
           "getegid", "setuid", "setgid", "getgroups", "chown", "lchown", "fchown", "statvfs", "WNOHANG", "WIFSIGNALED",
           "WIFEXITED", "WTERMSIG", "WEXITSTATUS", "sysconf", "sched_getaffinity", "getloadavg", "mkfifo", "pipe2",
           "wait3", "wait4", "getsid", "setpriority"},
    "socket": {"AF_UNIX", "SOCK_SEQPACKET", "send_fds", "recv_fds", "CMSG_LEN", "SCM_RIGHTS"},
    "signal": {"SIGKILL", "SIGXFSZ", "SIGXCPU", "SIGPIPE", "SIGALRM", "SIGCHLD", "SIGHUP", "SIGUSR1", "SIGUSR2",
               "SIGSTOP", "SIGCONT", "SIGQUIT", "alarm", "setitimer", "pthread_kill", "siginterrupt"},
    "select": {"select", "poll", "epoll"},
}
UNIX_ONLY_MODULES = {"resource", "fcntl", "pwd", "grp", "termios", "tty", "pty", "posix"}
UNIX_ONLY_KEYWORDS = {"pass_fds", "preexec_fn"}
# ... and what only Windows has
WINDOWS_ONLY = {"ctypes": {"windll", "WinDLL", "oledll", "WinError", "FormatError", "get_last_error"},
                "subprocess": {"CREATE_NO_WINDOW", "CREATE_NEW_PROCESS_GROUP", "STARTUPINFO", "STARTF_USESHOWWINDOW"}}
WINDOWS_ONLY_MODULES = {"msvcrt", "winreg", "_winapi", "winsound"}

# Names whose mention makes a test a platform test.
PLATFORM_TESTS = {"platforms", "CAN_FORK", "SESSIONS", "LINUX", "WINDOWS", "MACOS", "RLIMITS", "platform", "name",
                  "namespaces_possible", "seqpacket_supported", "isolation_requested", "backend", "hasattr", "jail",
                  "available"}
GUARD_EXCEPTIONS = {"ImportError", "ModuleNotFoundError", "AttributeError", "OSError", "Exception", "BaseException"}

# Scopes only platform-tested code reaches, and why.
SCOPES = {
    "template": "the template backend: the supervisor imports it only when backend() is 'template' (CAN_FORK)",
    "jail": "the Linux jail: worker imports it in a try, and enters it only when the grader asks (Linux)",
    "cgroups": "control groups: sandbox imports it only when isolation_requested() (Linux)",
    "winjob": "the Windows Job Object: the portable backend imports it only when platforms.WINDOWS",
    "frames.select_reader": "select on a pipe: only the template backend waits this way",
    "protocol.send_control": "the template's control socket",
    "protocol.receive_control": "the template's control socket",
    "worker.template": "the template's loop: started with --template, only where fork exists",
    "worker._become_worker": "a fork of the template",
    "worker._reap": "the template reaps its forks",
}


def sources():
    return sorted(GRADER.rglob("*.py"))


def stem(path) -> str:
    """A module's short name (a package's __init__: the package's)."""
    return path.parent.name if path.stem == "__init__" else path.stem


def _mentions_platform(test) -> bool:
    for node in ast.walk(test):
        if isinstance(node, ast.Name) and node.id in PLATFORM_TESTS:
            return True
        if isinstance(node, ast.Attribute) and node.attr in PLATFORM_TESTS:
            return True
    return False


def _catches_platform_errors(handler) -> bool:
    if handler.type is None:
        return True
    names = [handler.type] if not isinstance(handler.type, ast.Tuple) else handler.type.elts
    return any(isinstance(n, ast.Name) and n.id in GUARD_EXCEPTIONS for n in names)


class Finder(ast.NodeVisitor):
    """Each platform-specific use with the scope it is in and whether it is guarded."""

    def __init__(self, module: str):
        self.module = module
        self.scope = [module]
        self.guards = 0
        self.uses = []   # (line, what, guarded, scope)
        self.calls = []  # (line, function called, guarded, scope)
        self.imports = []  # (line, module imported, guarded, scope)

    def _guarded(self) -> bool:
        return self.guards > 0 or any(".".join(self.scope[:i + 1]) in SCOPES for i in range(len(self.scope)))

    def _record(self, node, what):
        self.uses.append((node.lineno, what, self._guarded(), ".".join(self.scope)))

    def _visit_guarded(self, nodes):
        self.guards += 1
        for n in nodes:
            self.visit(n)
        self.guards -= 1

    def visit_If(self, node):
        self.visit(node.test)
        if _mentions_platform(node.test):
            self._visit_guarded([*node.body, *node.orelse])
        else:
            for n in [*node.body, *node.orelse]:
                self.visit(n)

    def visit_IfExp(self, node):
        self.visit(node.test)
        if _mentions_platform(node.test):
            self._visit_guarded([node.body, node.orelse])
        else:
            self.visit(node.body)
            self.visit(node.orelse)

    def visit_BoolOp(self, node):  # `… and hasattr(x, "y") and x.y`: what follows a test is guarded by it
        if not isinstance(node.op, ast.And):
            self.generic_visit(node)
            return
        for i, value in enumerate(node.values):
            self.visit(value)
            if _mentions_platform(value):
                self._visit_guarded(node.values[i + 1:])
                return

    def visit_Try(self, node):
        if any(_catches_platform_errors(h) for h in node.handlers):
            self._visit_guarded(node.body)
        else:
            for n in node.body:
                self.visit(n)
        for n in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(n)

    def _scoped(self, node):
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name):
            for table, label in ((UNIX_ONLY, "unix"), (WINDOWS_ONLY, "windows")):
                if node.attr in table.get(node.value.id, ()):
                    self._record(node, f"{node.value.id}.{node.attr} ({label} only)")
        self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            self._import(node, alias.name)

    def visit_ImportFrom(self, node):
        if node.level and node.module is None:  # from . import x
            for alias in node.names:
                self._import(node, alias.name)
        elif node.module and node.module.split(".")[0] == "grader":  # from grader.sandbox import template
            self._import(node, node.module.split(".")[-1])
            for alias in node.names:
                self._import(node, alias.name)
        elif node.module:
            self._import(node, node.module if not node.level else node.module.split(".")[0])

    def _import(self, node, name):
        root = name.split(".")[0]
        if root in UNIX_ONLY_MODULES:
            self._record(node, f"import {root} (unix only)")
        if root in WINDOWS_ONLY_MODULES:
            self._record(node, f"import {root} (windows only)")
        self.imports.append((node.lineno, root, self._guarded(), ".".join(self.scope)))

    def visit_Call(self, node):
        for keyword in node.keywords:
            if keyword.arg in UNIX_ONLY_KEYWORDS:
                self._record(keyword.value, f"{keyword.arg}= (unix only)")
        target = node.func
        name = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else None
        if name:
            owner = target.value.id if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                else self.module
            self.calls.append((node.lineno, f"{owner}.{name}", self._guarded(), ".".join(self.scope)))
        self.generic_visit(node)


@pytest.fixture(scope="module")
def findings():
    found = {}
    for path in sources():
        finder = Finder(stem(path))
        finder.visit(ast.parse(path.read_text(encoding="utf-8")))
        finder.path = path.relative_to(ROOT).as_posix()
        found[stem(path)] = finder
    return found


def test_every_platform_specific_name_in_grader_is_behind_a_platform_test(findings):
    unguarded = [f"{f.path}:{line} {what} in {scope}" for m, f in findings.items()
                 for line, what, guarded, scope in f.uses if not guarded]
    assert not unguarded, "platform-specific calls outside a platform test:\n" + "\n".join(unguarded)


def test_the_unix_only_modules_are_imported_only_behind_a_platform_test(findings):
    modules = {name for name in SCOPES if "." not in name}
    loose = [f"{f.path}:{line} imports {name} in {scope}" for m, f in findings.items()
             for line, name, guarded, scope in f.imports if name in modules and not guarded and m != name]
    assert not loose, "\n".join(loose)


def test_the_unix_only_functions_are_called_only_behind_a_platform_test(findings):
    functions = {name for name in SCOPES if "." in name}
    loose = []
    for m, f in findings.items():
        for line, called, guarded, scope in f.calls:
            if called in functions and not guarded:
                loose.append(f"{f.path}:{line} calls {called} in {scope}")
    assert not loose, "\n".join(loose)


def test_every_listed_scope_exists(findings):
    """A renamed function must not silently leave the list guarding nothing."""
    defined = set()
    for m, f in findings.items():
        defined.add(m)
        tree = ast.parse((ROOT / f.path).read_text(encoding="utf-8"))
        defined |= {f"{m}.{n.name}" for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert set(SCOPES) <= defined, set(SCOPES) - defined


def test_the_check_catches_an_unguarded_call():
    finder = Finder("example")
    finder.visit(ast.parse("import os\ndef f():\n    os.fork()\n"
                           "def g():\n    if platforms.CAN_FORK:\n        os.fork()\n"
                           "def h():\n    try:\n        import resource\n    except ImportError:\n        pass\n"
                           "def i():\n    import fcntl\n"))
    assert [(line, guarded) for line, _, guarded, _ in finder.uses] == [(3, False), (6, True), (9, True), (13, False)]


def test_the_backend_follows_the_platform(monkeypatch):
    monkeypatch.delenv("GRADE_BACKEND", raising=False)
    assert platforms.backend() == ("template" if platforms.CAN_FORK else "portable")
    monkeypatch.setenv("GRADE_BACKEND", "portable")
    assert platforms.backend() == "portable"


def test_a_wrong_backend_name_is_a_clear_error(monkeypatch):
    from grader.model.errors import GraderError
    from grader.sandbox.supervisor import backend
    monkeypatch.setenv("GRADE_BACKEND", "forking")
    with pytest.raises(GraderError, match="GRADE_BACKEND=forking .*template, portable"):
        backend()


class _Ended:
    """A worker handle that has already ended with `code` (as Popen.wait returns it)."""

    def __init__(self, code):
        self.code = code

    def wait(self, timeout):
        return self.code


@pytest.mark.parametrize("code, words", [(0xC0000005, "access violation"), (0xC00000FD, "stack overflow"),
                                         (0xC0000409, "fatal error")])
def test_a_windows_crash_is_named_not_shown_as_an_exit_status(code, words):
    """Windows has no signals: a crashed process ends with an NTSTATUS as its exit code."""
    from grader.sandbox.supervisor import Limits, Sandbox
    death = Sandbox._death(type("S", (), {"limits": Limits()})(), _Ended(code)).render("en")
    assert words in death and f"0x{code:08X}" in death


def test_the_memory_watchdogs_exit_is_named():
    from grader.sandbox.runtime import protocol
    from grader.sandbox.supervisor import Limits, Sandbox
    death = Sandbox._death(type("S", (), {"limits": Limits(memory_mb=512)})(), _Ended(protocol.EXIT_MEMORY)).render("en")
    assert "more than 512 MB" in death


def test_grade_bulk_says_first_what_this_platform_contains(tmp_path, solution):
    import shutil
    from conftest import run_grade
    shutil.copytree(solution, tmp_path / "class" / "alice")
    proc = run_grade("bulk", tmp_path / "class", "--out", tmp_path / "out", "-j", "1", "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("isolation: ") and "workers: " in first


@pytest.mark.parametrize("memory, parent, code", [(1, None, "EXIT_MEMORY"), (None, "someone else", "EXIT_ORPHAN")])
def test_the_workers_watchdog_ends_it(memory, parent, code):
    """Where the OS does not: over its memory cap (macOS ignores RLIMIT_AS), or orphaned (no
    parent-death signal outside Linux: the parent it was started by is no longer its parent)."""
    import subprocess
    import sys
    from grader.sandbox.runtime import protocol
    script = ("import os, sys; sys.path.insert(0, %r); import worker; "
              "worker._watchdog(%r, %s)" % (str(GRADER / "sandbox" / "runtime"), memory, "os.getppid() + 1" if parent else "None"))
    proc = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=30)
    assert proc.returncode == getattr(protocol, code), proc.stderr


def test_where_fork_is_a_guest_a_template_that_cannot_start_gives_way_to_the_portable_backend(
        assignment, solution, monkeypatch):
    """macOS: if the template cannot start (a framework that does not survive fork, say), the
    grader goes on with a fresh Python per worker instead of failing every student."""
    from grader.sandbox import template as backend_template
    from grader.sandbox import supervisor as sandbox
    from grader.grading.engine import Expectations, grade, select_cases

    def broken(*args, **kwargs):
        raise backend_template.TemplateGone("the template could not start")
    monkeypatch.delenv("GRADE_BACKEND", raising=False)
    monkeypatch.setattr(platforms, "CAN_FORK", True)
    monkeypatch.setattr(platforms, "LINUX", False)
    monkeypatch.setattr(backend_template, "spawn", broken)
    monkeypatch.setattr(sandbox, "_TEMPLATE_FAILED", set())
    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment, ["softmax"]))
    result = grade(assignment, solution, plan)
    assert result.all_passed and result.isolation["worker"] == "a fresh Python process"
