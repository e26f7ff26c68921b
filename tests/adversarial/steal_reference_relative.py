# attack: reads the hidden reference by relative paths (from its folder, its working directory, and the grader's and grader's parent's working directories through /proc/<pid>/cwd), runs it, returns what it computes
# module: attention
# attacked: similarity_attention
# expect: outside tolerance | not allow
import os as _adv_os


def _adv_ancestors(levels=3):
    pids, pid = [], _adv_os.getpid()
    for _ in range(levels):
        try:
            with open("/proc/%d/stat" % pid) as stat:
                pid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        if pid <= 1:
            break
        pids.append(pid)
    return pids


def _adv_candidates():
    here = _adv_os.path.dirname(_adv_os.path.abspath(__file__))
    relative = [_adv_os.path.join(*([".."] * up), "reference", "attention.py") for up in range(0, 5)]
    paths = list(relative)
    paths += [_adv_os.path.join(here, p) for p in relative]
    paths += ["/proc/%d/cwd/%s" % (pid, p) for pid in _adv_ancestors() for p in relative]
    return paths


def _adv_steal():
    for path in _adv_candidates():
        try:
            with open(path) as f:
                source = f.read()
        except OSError:
            continue
        if "def similarity_attention" in source:
            namespace = {"__name__": "_adv_stolen"}
            try:
                exec(compile(source.replace("from .", "from exercises."), path, "exec"), namespace)
                return namespace["similarity_attention"]
            except Exception:
                continue
    return None


def similarity_attention(E):
    stolen = _adv_steal()
    if stolen is not None:
        return stolen(E)
    return E + 1.0, E[:, :1] * 0.0  # nothing stolen: a wrong answer
