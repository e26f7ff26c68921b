"""Make this Linux Python look, to the grader, like a macOS Python (imported from a .pth file
of an emulated virtual environment: the grader and every worker it starts see it).

As on macOS: UNIX sockets have no SOCK_SEQPACKET (socketpair fails with EPROTONOSUPPORT), and
RLIMIT_AS is accepted and read back but not enforced. macOS has no namespaces either: the
tests run it with GRADE_ISOLATION=process (the kernel under this emulation is still Linux's).
"""
import errno
import resource
import socket

_socketpair = socket.socketpair


def _socketpair_without_seqpacket(family=socket.AF_UNIX, type=socket.SOCK_STREAM, proto=0):
    if type == socket.SOCK_SEQPACKET:
        raise OSError(errno.EPROTONOSUPPORT, "Protocol not supported")
    return _socketpair(family, type, proto)


socket.socketpair = _socketpair_without_seqpacket

_setrlimit, _getrlimit = resource.setrlimit, resource.getrlimit
_accepted = {}


def _setrlimit_ignoring_as(which, limits):
    if which == resource.RLIMIT_AS:
        _accepted[which] = tuple(limits)  # accepted, never enforced
        return None
    return _setrlimit(which, limits)


def _getrlimit_as_accepted(which):
    return _accepted.get(which) or _getrlimit(which)


resource.setrlimit = _setrlimit_ignoring_as
resource.getrlimit = _getrlimit_as_accepted
