"""The grader's temporary folders: who made each one, and removing those a killed run left.

A grader process makes folders in the temporary directory: its copy of the worker's runtime
(`grade-template-*`, `grade-runtime-*`) and one sandbox per submission (`grade-*`). Each is
removed by the process that made it when it is done — unless that process was killed (kill -9,
the OOM killer, a power cut, a pool process stopped because it took too long). So each folder
holds a small file, OWNER_FILE, written by `mark_owner` right after the folder is made: the
pid of the process that made it, the machine, and when that process started (a pid reused by
another program is then not taken for the owner).

`remove_stale` (at the start and at the end of `grade bulk`, at the start of `grade`) removes
the folders whose owner is surely dead, and only those: a folder whose owner runs, whose owner
cannot be judged (another machine sharing the temporary directory, a pid of another user), or
that holds no owner file (a folder of an older grader, a folder that is not ours) is left alone.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from grader.sandbox import platforms

OWNER_FILE = ".grade-owner"
PREFIX = "grade-"   # grade-template-*, grade-runtime-*, and the sandboxes' grade-*


def process_start(pid: int) -> str | None:
    """When process `pid` started, as a string that differs for a new process with the same pid;
    None where the system does not say (then only whether the pid exists counts)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:  # Linux: field 22, clock ticks since boot
            data = f.read()
        return data[data.rindex(b")") + 2:].split()[19].decode("ascii")
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        return None


def owner_record(pid: int | None = None) -> dict:
    """What OWNER_FILE holds: {"pid", "host", "started"} of this process (or of `pid`)."""
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "host": socket.gethostname(), "started": process_start(pid)}


def mark_owner(folder) -> Path:
    """Write OWNER_FILE into `folder`, which this process has just made (call it right after
    `tempfile.mkdtemp`). Written whole or not at all (a temporary file, then a rename)."""
    folder = Path(folder)
    temporary = folder / f"{OWNER_FILE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(owner_record()), encoding="utf-8")
    os.replace(temporary, folder / OWNER_FILE)
    return folder / OWNER_FILE


def read_owner(folder) -> dict | None:
    """The owner written in `folder`, or None (no owner file, or not one of ours)."""
    try:
        with open(Path(folder) / OWNER_FILE, "rb") as f:
            owner = json.loads(f.read(4096))
    except (OSError, ValueError):
        return None
    return owner if type(owner) is dict and type(owner.get("pid")) is int else None


def _pid_exists(pid: int) -> bool:
    if platforms.WINDOWS:  # os.kill(pid, 0) would terminate it there
        import ctypes
        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() != 87  # ERROR_INVALID_PARAMETER: no such process
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, another user's
        return True
    return True


def owner_alive(owner: dict) -> bool:
    """False only when sure: the owner ran on this machine, and no process has its pid now, or
    the one that has it started at another time (the pid was reused)."""
    pid = owner.get("pid")
    if type(pid) is not int or pid <= 0 or owner.get("host") != socket.gethostname():
        return True  # another machine's folder (a shared temporary directory): not ours to judge
    if pid == os.getpid():
        return True
    if not _pid_exists(pid):
        return False
    started, now = owner.get("started"), process_start(pid)
    return not (type(started) is str and now is not None and now != started)


def _ours(folder: Path) -> bool:
    """A real folder (not a link) of this user."""
    try:
        st = folder.lstat()
    except OSError:
        return False
    import stat
    if not stat.S_ISDIR(st.st_mode):
        return False
    if hasattr(os, "geteuid"):
        return st.st_uid == os.geteuid()
    return True


def remove_stale(where=None) -> list[Path]:
    """Remove the grader's temporary folders whose owner is dead (see the module's docstring);
    returns those removed. Never raises: a folder that cannot be removed is left."""
    base = Path(where or tempfile.gettempdir())
    removed = []
    try:
        candidates = sorted(base.glob(PREFIX + "*"))
    except OSError:
        return removed
    for folder in candidates:
        if not _ours(folder):
            continue
        owner = read_owner(folder)
        if owner is None or owner_alive(owner):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    return removed


def remove_own(where=None) -> None:
    """Remove the folders this process made (their owner file names it): what it leaves when it
    ends. The worker template is stopped first: its folder is its working directory."""
    template = sys.modules.get("grader.sandbox.template")  # only if this process started one
    if platforms.CAN_FORK and template is not None:
        template.discard_template()
    portable = sys.modules.get("grader.sandbox.portable")
    folder = getattr(portable, "_RUNTIME", {}).pop(os.getpid(), None) if portable else None
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    base = Path(where or tempfile.gettempdir())
    me = owner_record()
    try:
        candidates = sorted(base.glob(PREFIX + "*"))
    except OSError:
        return
    for folder in candidates:
        owner = read_owner(folder)
        if owner is not None and owner.get("pid") == me["pid"] and owner.get("host") == me["host"]:
            shutil.rmtree(folder, ignore_errors=True)


SHARED_TEMPORARY = ("/tmp", "/var/tmp", "/dev/shm")
MIN_WORKER_UID = 1_000_000_000  # never a real account's files, whatever a caller passes


def remove_files_of(uids, roots=SHARED_TEMPORARY, depth=3):
    """Remove what processes of `uids` (workers that ran under a uid of their own, as root
    without namespaces: nothing else has those uids) left in the shared temporary folders: the
    top of each, and folders anyone may write to within `depth` levels. Links are never
    followed; a folder of theirs goes whole."""
    uids = {uid for uid in uids if uid >= MIN_WORKER_UID}
    if not uids:
        return
    for root in roots:
        _remove_owned(root, uids, depth)


def _remove_owned(folder, uids, depth):
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if info.st_uid in uids:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass
        elif depth > 1 and entry.is_dir(follow_symlinks=False) and info.st_mode & 0o002:
            _remove_owned(entry.path, uids, depth - 1)
