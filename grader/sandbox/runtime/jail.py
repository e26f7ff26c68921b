"""The worker's jail on Linux: its own PID, network, IPC and mount namespaces, a read-only
filesystem, the instructor's folders hidden, and no privileges left.

Runs inside the worker process, from a copy beside worker.py, before any submission code and
before NumPy is imported. Standard library only (ctypes for the few system calls Python 3.11
does not wrap). `enter` either returns in the jailed child, or raises JailUnavailable when the
kernel refuses namespaces (then the worker runs with process isolation only; see SECURITY.md).

As root (an instructor's grading box, CI): namespaces, then the worker becomes a uid of its
own with no capabilities. As an unprivileged user: the same inside a user namespace (the
worker is "root" only there, with every capability dropped).
"""
import ctypes
import os
import platform
import shutil
import signal

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
ST_RELATIME = 4096
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
CAPABILITY_VERSION_3 = 0x20080522

WORKER_UID_BASE = 1_200_000_000  # + the worker's pid (below 2^22): no two live workers share a uid
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")
# What the new root holds besides the interpreter: the system's programs and libraries, and
# /etc (the dynamic loader's cache, locale and time zone data). Nothing else of the machine.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("null", "zero", "full", "random", "urandom")
MNT_DETACH = 2
TMP_MB = 64                      # each private temporary folder and the writable copy


class JailUnavailable(OSError):
    """The kernel refused the namespaces (no privilege, or disabled): fall back."""


class JailError(OSError):
    """Namespaces were granted but a step that isolation depends on failed: do not grade."""


_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise JailError(errno, "%s: %s" % (what, os.strerror(errno)))


def _mount(source, target, fstype, flags, data=None, what=None):
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                       ctypes.c_ulong(flags), data and data.encode()), what or "mount %s" % target)


def _flags_of(path):
    """The lock-sensitive flags a bind remount must keep (or the kernel refuses it)."""
    f = os.statvfs(path).f_flag
    flags = f & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME)
    return flags | (MS_RELATIME if f & ST_RELATIME else 0)


def _read_only(path, required=False):
    try:
        _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _flags_of(path))
    except OSError:
        if required:
            raise


def _mount_points():
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
                point = point.replace(code, char)
            points.append(point)
    return points


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def enter(spec):
    """Jail this process. Returns (in the jailed child) a description of the isolation.

    spec: {"expose": [the interpreter's folders], "sandbox": the worker's own folder,
           "writable": the folder the submission may write (copied into a private tmpfs),
           "new_root": an empty folder to build the new root on, "result_fd": the pipe to the grader,
           "status_fd": (only when the worker template forked this process as PID 1 of a PID
           namespace of its own, see worker.py) where PID 1 writes how the worker ended}"""
    root = os.geteuid() == 0
    uid, gid = os.getuid(), os.getgid()
    pid_1 = spec.get("status_fd") is not None  # then no process stands between the template and PID 1
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | (0 if pid_1 else CLONE_NEWPID)
    if not hasattr(_libc, "unshare"):
        raise JailUnavailable(0, "no namespaces on this system")
    if _libc.unshare(flags | (0 if root else CLONE_NEWUSER)) != 0:
        errno = ctypes.get_errno()
        if pid_1:  # a PID namespace already, the others refused: never grade half-isolated
            raise JailError(errno, "namespaces refused: %s" % os.strerror(errno))
        raise JailUnavailable(errno, "namespaces refused: %s" % os.strerror(errno))
    if not root:  # "root" in the user namespace only, mapped to the real user outside
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", "0 %d 1" % uid)
        _write("/proc/self/gid_map", "0 %d 1" % gid)
    # a uid of its own: the pid the machine knows it by (/proc is still the machine's; PID 1 is
    # 1 only in its own namespace)
    worker_uid = WORKER_UID_BASE + (int(os.readlink("/proc/self")) if pid_1 else os.getpid()) if root else 0
    if pid_1:
        status_write = spec["status_fd"]
    else:
        status_read, status_write = os.pipe()
        init = os.fork()  # PID 1 of the new namespace: when it ends, every process left in it is killed
        if init:
            os.close(status_write)
            _outer(init, status_read, spec["result_fd"])
        os.close(status_read)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the grader killed the outer process
    # Forked at once, before the filesystem is built: PID 1 then runs almost nothing of its own
    # (every page it writes is one more copy-on-write fault); the worker builds the new root,
    # and its pivot_root moves PID 1's root and working folder (both the old root) with its own.
    os.chdir("/")
    worker = os.fork()  # not PID 1 itself: PID 1 ignores signals, even its own SIGSEGV
    if worker:
        if pid_1:  # what the outer process ignored (the grader ends a worker with SIGKILL)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)
        _init(worker, status_write, spec["result_fd"])
    os.close(status_write)
    try:
        _build_filesystem(spec, root, worker_uid)
    except OSError as exc:
        raise JailError(exc.errno, "%s%s" % (exc.strerror, " (%s)" % exc.filename if exc.filename else "")) from None
    try:
        _drop_privileges(root, worker_uid)
    except OSError as exc:
        raise JailError(exc.errno, "dropping privileges: %s" % exc.strerror) from None
    return {"level": "namespaces", "user": "a uid of its own, no privileges" if root else "user namespace, no privileges",
            "network": "none", "filesystem": "only the system, Python and its own copy; read-only"}


def _wait(pid):
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue
        except ChildProcessError:
            return 1 << 8


def _init(worker, status_write, result_fd):
    """PID 1 of the namespace: reaps, and passes on how the worker ended (to the outer process,
    or to the worker template when it made this process PID 1 itself)."""
    os.close(result_fd)  # the grader must see end-of-file as soon as the worker is gone
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        if pid == worker:
            os.write(status_write, status.to_bytes(4, "little"))
            os._exit(0)


def _outer(init, status_read, result_fd):
    """The process the grader started: waits, then ends the way the worker ended (the grader
    reads its exit status). Killing this process (the grader kills the group) kills the rest."""
    os.close(result_fd)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    status = _wait(init)
    reported = os.read(status_read, 4)
    if len(reported) == 4:
        status = int.from_bytes(reported, "little")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _build_filesystem(spec, root, worker_uid):
    """A new root holding only what Python needs, read-only, then pivot into it: everything
    else on the machine (every copy of the course, other submissions, homes) is simply absent."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE, what="making mounts private")
    new = os.path.realpath(spec["new_root"])
    sandbox, writable = os.path.realpath(spec["sandbox"]), os.path.realpath(spec["writable"])
    writable_fd = os.open(writable, os.O_RDONLY | os.O_DIRECTORY)
    _mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755", what="the new root")

    def bind(path, recursive=True):
        target = new + path
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            open(target, "a").close()
        _mount(path, target, None, MS_BIND | (MS_REC if recursive else 0), what="exposing %s" % path)

    # 0. Private, size-capped temporary folders first: an interpreter that lives under /tmp (a
    #    virtual environment there) is bound on top of them, not hidden by them.
    for path in PRIVATE_TMP:
        os.makedirs(new + path, exist_ok=True)
        _mount("tmpfs", new + path, "tmpfs", MS_NOSUID | MS_NODEV, "size=%dm,mode=1777" % TMP_MB)
    # 1. The system and the interpreter, read-only (a symbolic link like /lib -> usr/lib stays a link).
    kept = []
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            os.symlink(os.readlink(path), new + path)
        elif os.path.isdir(path):
            kept.append(path)
    for path in sorted({os.path.realpath(p) for p in spec["expose"] if os.path.isdir(p)}):
        if not any(_inside(path, k) for k in kept):
            kept.append(path)
    for path in kept:
        bind(path)
    # 2. Devices a program may expect, and the usual links.
    os.makedirs(new + "/dev", exist_ok=True)
    for name in DEVICES:
        if os.path.exists("/dev/" + name):
            bind("/dev/" + name, recursive=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, new + "/dev/" + name)
    # 3. The worker's own folder (read-only), inside the private temporary folders.
    bind(sandbox, recursive=False)
    os.makedirs(new + "/proc", exist_ok=True)
    # 4. Everything so far read-only, but the temporary folders and the devices.
    for point in _mount_points():
        if _inside(point, new) and point[len(new):] not in PRIVATE_TMP and not _inside(point, new + "/dev"):
            _read_only(point, required=point in (new, new + sandbox) or point[len(new):] in kept)
    # 5. The submission's folder: a private, size-capped copy it may write to.
    owner = "uid=%d,gid=%d," % (worker_uid, worker_uid) if root else ""
    _mount("tmpfs", new + writable, "tmpfs", MS_NOSUID | MS_NODEV, "%ssize=%dm,mode=0700" % (owner, TMP_MB))
    source = "/proc/self/fd/%d" % writable_fd
    try:
        for name in os.listdir(source):
            src, dst = os.path.join(source, name), os.path.join(new + writable, name)
            (shutil.copytree if os.path.isdir(src) else shutil.copy2)(src, dst, symlinks=True)
    except (shutil.Error, OSError) as exc:  # shutil.Error carries no errno: say what happened
        raise OSError(getattr(exc, "errno", None) or 28, "the submission does not fit the worker's private copy "
                      "(%d MB)" % TMP_MB) from None
    os.close(writable_fd)
    if root:
        for folder, dirs, files in os.walk(new + writable):
            for name in dirs + files:
                os.lchown(os.path.join(folder, name), worker_uid, worker_uid)
    # 6. A /proc that shows only this namespace's processes.
    _mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, what="mounting /proc")
    # 7. Into the new root; the old one is detached, so nothing can climb back to it.
    os.chdir(new)
    _check(_libc.syscall(_pivot_root_number(), b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "detaching the old root")
    os.chdir("/")
    os.chdir(writable)


def _pivot_root_number():
    numbers = {"x86_64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41, "i686": 217, "i386": 217,
               "armv7l": 218, "ppc64le": 203, "s390x": 217}
    machine = platform.machine()
    if machine not in numbers:
        raise JailError(0, "no pivot_root number known for %s" % machine)
    return numbers[machine]


def _drop_privileges(root, worker_uid):
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):  # nothing gained back by exec, even as uid 0 in a user namespace
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    if root:
        os.setgroups([])
        os.setresgid(worker_uid, worker_uid, worker_uid)
        os.setresuid(worker_uid, worker_uid, worker_uid)  # clears every capability
    else:
        header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
        data = (ctypes.c_uint32 * 6)()
        _check(_libc.capset(header, data), "dropping capabilities")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    # If the outer process is killed (the grader's timeout), this one dies too, even if the
    # submission left the process group. Set last: a credential change clears it.
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "parent-death signal")


# --- root without namespaces -----------------------------------------------------------------

def drop_root(writable, readable):
    """Root where the kernel refused namespaces (Docker without CAP_SYS_ADMIN, as on Gradescope;
    many CI containers): the worker becomes a uid of its own all the same, so that with its
    audit hook disarmed it still cannot read root's files, write the grader's, or signal other
    students' workers (each worker has its own uid), and RLIMIT_NPROC holds (root ignores it).

    `writable`: the submission's folder, given to that uid. `readable`: the interpreter's folders,
    which the uid must still be able to read (a student's `import random` comes later). Returns
    what holds, for the result's "isolation"; keeps root, saying why, where a uid of its own
    would break the grading. The uid is the worker's pid above WORKER_UID_BASE: the grader removes
    what it left in the shared temporary folders (`tempfiles.remove_files_of`)."""
    blocked = next((p for p in readable if not _readable_by_anyone(p)), None)
    if blocked is not None:
        return "root: kept, because %s is not readable by other users (install Python where every " \
               "user can read it to run workers under a uid of their own)" % blocked
    worker_uid = WORKER_UID_BASE + os.getpid()
    parent = os.getppid()
    try:
        _give_folder(writable, worker_uid)
        _drop_privileges(True, worker_uid)
    except OSError as exc:  # e.g. root of a user namespace where no other uid is mapped
        if os.geteuid() == 0:
            return "root: kept, the system refused another uid (%s)" % (exc.strerror or exc)
        raise JailError(exc.errno or 0, "dropping privileges: %s" % (exc.strerror or exc)) from None
    if os.getppid() != parent:  # the parent died while the parent-death signal was cleared
        os._exit(1)
    return "a uid of its own, no privileges"


def dropped_uid():
    """This worker's uid when drop_root gave it one of its own, else None."""
    uid = os.getuid()
    return uid if WORKER_UID_BASE < uid < WORKER_UID_BASE + (1 << 22) else None


def _readable_by_anyone(path):
    """Every folder above `path` can be entered by any user, and `path` itself read."""
    try:
        path = os.path.realpath(path)
        if not os.stat(path).st_mode & 0o005 == 0o005:
            return False
        parent = os.path.dirname(path)
        while parent != path:
            if not os.stat(parent).st_mode & 0o001:
                return False
            path, parent = parent, os.path.dirname(parent)
        return True
    except OSError:
        return False


def _give_folder(folder, uid):
    """chown the submission's folder to the worker's uid, never through a link: a file a previous
    worker hard-linked in from elsewhere (owned by root, several links) stays root's."""
    import stat
    for path in [folder] + [os.path.join(d, n) for d, dirs, files in os.walk(folder) for n in dirs + files]:
        info = os.lstat(path)
        if info.st_uid == 0 and info.st_nlink > 1 and not stat.S_ISDIR(info.st_mode):
            continue
        os.lchown(path, uid, uid)
