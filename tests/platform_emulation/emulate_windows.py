"""Make this Linux Python look, to the grader, like a Windows Python (imported from a .pth file
of an emulated virtual environment, so that the grader and every worker it starts see it).

Removed, as on Windows: fork and sessions, uids, SOCK_SEQPACKET and UNIX sockets, descriptor
passing, the `resource` and `fcntl` modules, `pass_fds`; `select` refuses anything but a socket.
Kept: what the standard library itself needs on Linux to work at all (subprocess reaps with
waitpid and kills with SIGKILL here); tests/test_platforms.py checks `grader/` never uses those
names outside a platform test.
"""
import errno
import os
import select
import socket
import stat
import subprocess
import sys

for name in ("fork", "forkpty", "setsid", "killpg", "getpgid", "setpgid", "getpgrp", "getuid", "geteuid",
             "getgid", "getegid", "setuid", "setgid", "getgroups", "sched_getaffinity"):
    if hasattr(os, name):
        delattr(os, name)
for name in ("SOCK_SEQPACKET", "AF_UNIX", "send_fds", "recv_fds", "CMSG_LEN", "SCM_RIGHTS"):
    if hasattr(socket, name):
        delattr(socket, name)
sys.modules["resource"] = None  # `import resource` raises ImportError, as on Windows
sys.modules["fcntl"] = None

_select = select.select


def _select_sockets_only(rlist, wlist, xlist, *timeout):
    for item in (*rlist, *wlist, *xlist):
        fd = item if isinstance(item, int) else item.fileno()
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            raise OSError(errno.ENOTSOCK, "An operation was attempted on something that is not a socket "
                                          "(select on Windows takes sockets only)")
    return _select(rlist, wlist, xlist, *timeout)


select.select = _select_sockets_only

_popen_init = subprocess.Popen.__init__


def _popen_without_pass_fds(self, *args, **kwargs):
    if kwargs.get("pass_fds"):
        raise AssertionError("pass_fds not supported on Windows.")  # CPython's own words there
    return _popen_init(self, *args, **kwargs)


subprocess.Popen.__init__ = _popen_without_pass_fds
