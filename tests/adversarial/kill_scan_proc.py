# attack: scans /proc and kills what it can see of the grading run (SIGKILL to `grader` processes, SIGTERM to `pytest` ones), limited to its own parent and grandparent and to the other submission's grader (cmdline holding __OTHER__), for 1.5 s
# module: attention
# attacked: similarity_attention
# expect: outside tolerance | not allow
import os as _adv_os
import signal as _adv_signal
import time as _adv_time

_ADV_DONE = []
_ADV_PARENT = _adv_os.getppid()
_adv_correct = similarity_attention


def _adv_parent(pid):
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _adv_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ")
    except OSError:
        return b""


def _adv_hit(pid):
    command = _adv_cmdline(pid)
    sig = _adv_signal.SIGKILL if b"grader" in command else _adv_signal.SIGTERM if b"pytest" in command else None
    if sig is not None and pid > 1 and pid != _adv_os.getpid():
        try:
            _adv_os.kill(pid, sig)
        except OSError:
            pass


def _adv_attack():
    deadline = _adv_time.monotonic() + 1.5
    while _adv_time.monotonic() < deadline:
        for entry in _adv_os.listdir("/proc"):
            if entry.isdigit() and b"__OTHER__" in _adv_cmdline(int(entry)):
                _adv_hit(int(entry))
        _adv_time.sleep(0.05)
    parent = _adv_os.getppid()
    if parent != _ADV_PARENT:  # re-parented: never signal a reaper
        return
    grandparent = _adv_parent(parent) if parent > 1 else 0
    for pid in (grandparent, parent):
        if pid > 1:
            _adv_hit(pid)


def similarity_attention(E):
    if not _ADV_DONE:
        _ADV_DONE.append(True)
        _adv_attack()
    out, weights = _adv_correct(E)
    return out + 1.0, weights + 1.0
