"""The worker's runtime as the grader ships it: the files copied out of the package for a
worker to run (standard library + NumPy only), and the environment a worker starts with."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

RUNTIME_FILES = ("worker.py", "protocol.py", "jail.py", "seccomp.py")


def copy_runtime(prefix: str) -> Path:
    """A private copy of the runtime, out of the grader's folders (which the jail hides)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    from grader.sandbox.tempfiles import mark_owner
    mark_owner(folder)  # removed by the next run if this process is killed
    for name in RUNTIME_FILES:
        shutil.copy2(Path(__file__).parent / "runtime" / name, folder / name)
    return folder


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
