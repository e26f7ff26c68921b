"""What this operating system gives the sandbox, found by looking (not by its name where a
feature can be tested), and which worker backend follows from it.

- **template** (Linux, macOS): one `python -I -B [-S] … worker.py --template` per grader process
  (runtime_files.runtime_command), one
  fork of it per worker; control messages over a UNIX socket (SOCK_SEQPACKET where the
  kernel has it, SOCK_STREAM with length-prefixed messages on macOS).
- **portable** (Windows; selectable anywhere with GRADE_BACKEND=portable): one fresh
  `python -I -B … worker.py --serve` per worker, its request on stdin and its frames on stdout.

Unix-only calls in `grader/` sit behind these tests; `tests/test_platforms.py` checks it.
"""
from __future__ import annotations

import os
import socket
import sys

WINDOWS = sys.platform == "win32"
MACOS = sys.platform == "darwin"
LINUX = sys.platform.startswith("linux")
# fork, sessions and descriptor passing: what the template backend needs
CAN_FORK = all(hasattr(os, name) for name in ("fork", "setsid", "killpg")) \
    and all(hasattr(socket, name) for name in ("AF_UNIX", "send_fds", "recv_fds"))
SESSIONS = hasattr(os, "setsid") and hasattr(os, "killpg")  # a worker's group can be killed at once
try:
    import resource  # noqa: F401  (only whether it exists)
    RLIMITS = True
except ImportError:  # Windows
    RLIMITS = False
BACKENDS = ("template", "portable")


def seqpacket_supported() -> bool:
    """SOCK_SEQPACKET on UNIX sockets: Linux yes, macOS no (EPROTONOSUPPORT)."""
    if hasattr(socket, "SOCK_SEQPACKET") and hasattr(socket, "AF_UNIX"):
        try:
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        except OSError:
            return False
        a.close()
        b.close()
        return True
    return False


def namespaces_possible() -> bool:
    """The Linux jail needs Linux and fork; whether the kernel grants namespaces is learnt by
    trying (grader/sandbox/runtime/jail.py)."""
    return LINUX and CAN_FORK


def backend() -> str:
    """GRADE_BACKEND=template|portable, else the template wherever fork is possible."""
    chosen = os.environ.get("GRADE_BACKEND", "").strip().lower()
    if chosen == "template" and not CAN_FORK:
        return "portable"  # asked for, impossible here: never fail a student for it
    if chosen in BACKENDS:
        return chosen
    return "template" if CAN_FORK else "portable"
