"""A system-call filter for the worker (Linux, where libseccomp is installed): calls the
exercises never need fail with EPERM, in every isolation mode, even once the audit hook is
disarmed from inside — sockets, ptrace and reading other processes' memory, mounts and new
namespaces, kernel keyrings, BPF, io_uring (which would bypass the filter), modules, reboot.

Runs inside the worker, from a copy beside worker.py: standard library only (libseccomp through
ctypes: seccomp_init / seccomp_rule_add_array / seccomp_load, see seccomp_rule_add(3)).
Installed after the jail is built (the jail itself mounts and unshares) and before any
submission code. The worker template builds the filter once (`prepare`: libseccomp's program,
exported) and each fork loads that program (`load`), as seccomp_load would have.
"""
import ctypes
import ctypes.util
import errno
import os

SCMP_ACT_ALLOW = 0x7FFF0000
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
SCMP_CMP_MASKED_EQ = 7
NAMESPACE_FLAGS = (0x00020000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x02000000)
# NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWCGROUP: clone() asking for any is refused

DENIED = (
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",       # the network, UNIX sockets
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",          # other processes
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "mount_setattr",   # the filesystem's shape
    "move_mount", "open_tree", "fsopen", "fsmount", "fspick",
    "open_by_handle_at", "name_to_handle_at",
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",       # kernel attack surface
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "settimeofday", "clock_settime", "adjtimex",
    "iopl", "ioperm", "personality", "lookup_dcookie",
)


class Unavailable(OSError):
    """No libseccomp here (macOS, Windows, a minimal container): the filter is not installed."""


class _ArgCmp(ctypes.Structure):  # struct scmp_arg_cmp
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def _errno_action(code):
    return 0x00050000 | (code & 0xFFFF)  # SCMP_ACT_ERRNO(code)


def _library():
    try:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)  # the usual soname: no ldconfig to run
    except OSError:
        name = ctypes.util.find_library("seccomp")
        if not name:
            raise Unavailable(errno.ENOENT, "libseccomp is not installed") from None
        lib = ctypes.CDLL(name, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    if hasattr(lib, "seccomp_export_bpf"):
        lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def install(calls=DENIED):
    """Load the filter on this thread (and what it starts): `calls` fail with EPERM, and so does a
    clone() asking for a new namespace. Returns what it denies, in words."""
    return _build(calls, lambda lib, ctx: lib.seccomp_load(ctx))


def prepare(calls=DENIED):
    """(the filter `install` loads, as the kernel's BPF program, what it denies in words), built
    once by the worker template and loaded by each fork with `load`: libseccomp is neither opened
    nor run again per worker. Raises Unavailable as `install` does."""
    read_fd, write_fd = os.pipe()
    try:
        with os.fdopen(read_fd, "rb") as program:
            try:
                said = _build(calls, lambda lib, ctx: lib.seccomp_export_bpf(ctx, write_fd))
            finally:
                os.close(write_fd)
            return program.read(), said
    except AttributeError:  # a libseccomp without seccomp_export_bpf
        raise Unavailable(errno.ENOSYS, "seccomp_export_bpf is missing") from None


class _Program(ctypes.Structure):  # struct sock_fprog
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load(program: bytes):
    """Load a program `prepare` built on this thread, as libseccomp's seccomp_load does: no new
    privileges first (the filter then needs no capability), then the filter (mode 2)."""
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _Program(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))  # 8 bytes per sock_filter
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        code = ctypes.get_errno()
        raise Unavailable(code, "loading the filter: %s" % os.strerror(code))


def _build(calls, finish):
    """Make the filter in libseccomp's context and `finish(lib, ctx)` it (0: done); returns what it
    denies, in words."""
    lib = _library()
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise Unavailable(errno.ENOMEM, "seccomp_init failed")
    try:
        denied = 0
        for name in calls:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:
                continue  # not a call on this architecture
            if lib.seccomp_rule_add_array(ctx, _errno_action(errno.EPERM), number, 0, None) != 0:
                raise Unavailable(errno.EINVAL, "seccomp_rule_add(%s) failed" % name)
            denied += 1
        clone = lib.seccomp_syscall_resolve_name(b"clone")
        for flag in NAMESPACE_FLAGS:  # arg 0 of clone (x86-64, arm64): its flags
            rule = (_ArgCmp * 1)(_ArgCmp(0, SCMP_CMP_MASKED_EQ, flag, flag))
            if clone >= 0 and lib.seccomp_rule_add_array(ctx, _errno_action(errno.EPERM), clone, 1, rule) != 0:
                raise Unavailable(errno.EINVAL, "seccomp_rule_add(clone) failed")
        clone3 = lib.seccomp_syscall_resolve_name(b"clone3")
        if clone3 >= 0:  # its flags are behind a pointer: say "no such call", and libc falls back to clone
            lib.seccomp_rule_add_array(ctx, _errno_action(errno.ENOSYS), clone3, 0, None)
        result = finish(lib, ctx)
        if result != 0:
            raise Unavailable(-result, "seccomp_load failed")
    finally:
        lib.seccomp_release(ctx)
    return "seccomp: %d calls denied (sockets, ptrace, mounts, namespaces, bpf, io_uring, keyrings…)" % denied
