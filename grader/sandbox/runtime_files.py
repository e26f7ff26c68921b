"""The worker's runtime as the grader ships it: the files copied out of the package for a
worker to run (standard library + NumPy only), with their compiled code, the command that
starts it, and the environment a worker starts with."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

RUNTIME_FILES = ("worker.py", "protocol.py", "jail.py", "seccomp.py")
HERE = Path(__file__).parent / "runtime"
# The worker is imported as a module by this one-line launcher, not run as a script: a script is
# compiled on every start (worker.py: ~5 ms), a module comes from its copied .pyc. The file's
# path stays on the command line (after -c), where `ps` and the tests look for workers.
LAUNCHER = ("import os, sys; {extra}sys.path.insert(0, os.path.dirname(sys.argv[1])); import worker; "
            "del sys.path[0]; worker.main(sys.argv[2:])")


def copy_runtime(prefix: str) -> Path:
    """A private copy of the runtime, out of the grader's folders (which the jail hides), with
    the compiled code of each file where the package has it up to date (see `_compiled`)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    from grader.sandbox.tempfiles import mark_owner
    mark_owner(folder)  # removed by the next run if this process is killed
    for name in RUNTIME_FILES:
        shutil.copy2(HERE / name, folder / name)  # copy2 keeps the mtime the .pyc records
        compiled = _compiled(HERE / name)
        if compiled is not None:
            target = folder / "__pycache__" / compiled.name
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(compiled, target)
    return folder


def _compiled(source: Path) -> Path | None:
    """The package's own timestamp .pyc of `source`, compiled now if missing or stale (what an
    import would do, once per install), or None (a read-only install, PYTHONDONTWRITEBYTECODE):
    then the worker compiles its copy itself, as before. The worker starts with -B, so it never
    writes one: a .pyc in its folders is only ever the grader's."""
    import importlib.util
    import py_compile
    cache = Path(importlib.util.cache_from_source(str(source)))
    try:
        stat = source.stat()
        if _current(cache, stat):
            return cache
        if sys.dont_write_bytecode:
            return None
        py_compile.compile(str(source), cfile=str(cache), doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
        return cache if _current(cache, stat) else None
    except (OSError, py_compile.PyCompileError):
        return None


def _current(cache: Path, stat) -> bool:
    """Whether `cache` is a timestamp .pyc of this Python for a source of this mtime and size
    (the checks the worker's import makes again on its copy)."""
    import importlib.util
    try:
        with open(cache, "rb") as f:
            header = f.read(16)
    except OSError:
        return False
    return len(header) == 16 and header[:4] == importlib.util.MAGIC_NUMBER and header[4:8] == bytes(4) \
        and int.from_bytes(header[8:12], "little") == int(stat.st_mtime) & 0xFFFFFFFF \
        and int.from_bytes(header[12:16], "little") == stat.st_size & 0xFFFFFFFF


def runtime_command(python: str, folder: Path, args: list, without_site: bool = False) -> list:
    """The command that starts the runtime copied in `folder` (`args`: --template FD | --serve).
    -I: nothing of the user's environment or of the current folder; -B: no .pyc written, into
    the runtime's folder or a student's. `without_site`: no `site` either (its start-up, the
    .pth files of every installed package: ~10 ms), NumPy's folder put on the path by hand."""
    extra = ""
    flags = ["-I", "-B"]
    if without_site:
        flags.append("-S")
        # what `site` would have given: exit() and quit() in a submission behave the same
        extra = "sys.path.append(%r); import site; site.setquit(); site.setcopyright(); site.sethelper(); " \
            % numpy_folder()
    return [python, *flags, "-c", LAUNCHER.format(extra=extra), str(folder / "worker.py"), *args]


def numpy_folder() -> str:
    """The folder NumPy is imported from (found without importing it: the grader may not have yet)."""
    import importlib.util
    spec = importlib.util.find_spec("numpy")
    return os.path.dirname(list(spec.submodule_search_locations)[0])


def minimal_env(home: str) -> dict:
    """Nothing of the grader's environment but what Python and BLAS need to start."""
    env = {"HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONHASHSEED": "0", "PYTHONIOENCODING": "utf-8", "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if os.name == "nt":
        # Python cannot start without SYSTEMROOT; NumPy's DLLs may be found through PATH
        env.update({"TEMP": home, "TMP": home, "USERPROFILE": home})
        for name in ("SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "PATH", "PATHEXT", "COMSPEC"):
            if name in os.environ:
                env[name] = os.environ[name]
    else:
        env["PATH"] = "/usr/bin:/bin"
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # some CPUs need them (see env notes)
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def python_command(env: dict) -> tuple[str, dict]:
    """The interpreter a worker runs, and its environment. In a Windows virtual environment
    `python.exe` is a redirector that starts the base interpreter as its child: that child would
    be born before the worker's Job Object holds it. So, as multiprocessing does (bpo-35797),
    start the base interpreter directly and tell it which environment it belongs to."""
    base = getattr(sys, "_base_executable", sys.executable)
    if os.name == "nt" and base and os.path.normcase(base) != os.path.normcase(sys.executable):
        return base, {**env, "__PYVENV_LAUNCHER__": sys.executable}
    return sys.executable, env
