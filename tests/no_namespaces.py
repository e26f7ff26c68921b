"""Run a command where namespaces are refused, as in Docker without CAP_SYS_ADMIN (its default
seccomp profile), Ubuntu 24.04's AppArmor restriction or many CI containers: unshare, setns and
clone() with a namespace flag fail with EPERM for the command and everything it starts.

    python tests/no_namespaces.py COMMAND [ARG…]

The grader then falls back to process isolation (its own seccomp filter, rlimits, the template
as subreaper, the audit hook); tests/test_adversarial.py runs its corpus this way ("nons").
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "grader" / "sandbox" / "runtime"))
import seccomp  # noqa: E402  (the grader's own binding, standard library only)

if __name__ == "__main__":
    seccomp.install(calls=("unshare", "setns"))
    os.execvp(sys.argv[1], sys.argv[1:])
