"""A system-call filter for the worker (Linux, where libseccomp is installed): calls the
exercises never need fail with EPERM, in every isolation mode, even once the audit hook is
disarmed from inside — sockets, ptrace and reading other processes' memory, mounts and new
namespaces, kernel keyrings, BPF, io_uring (which would bypass the filter), modules, reboot.

Runs inside the worker, from a copy beside worker.py: standard library only (libseccomp through
ctypes: seccomp_init / seccomp_rule_add_array / seccomp_load, see seccomp_rule_add(3)).
Installed after the jail is built (the jail itself mounts and unshares) and before any
submission code.
"""
import ctypes
import ctypes.util
import errno

SCMP_ACT_ALLOW = 0x7FFF0000
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
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def install(calls=DENIED):
    """Load the filter on this thread (and what it starts): `calls` fail with EPERM, and so does a
    clone() asking for a new namespace. Returns what it denies, in words."""
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
        result = lib.seccomp_load(ctx)
        if result != 0:
            raise Unavailable(-result, "seccomp_load failed")
    finally:
        lib.seccomp_release(ctx)
    return "seccomp: %d calls denied (sockets, ptrace, mounts, namespaces, bpf, io_uring, keyrings…)" % denied
