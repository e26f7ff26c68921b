# attack: walks the whole filesystem at import (4 s budget) for reference/attention.py or a folder holding assignment.yaml, runs the reference it finds, returns what it computes
# module: attention
# attacked: similarity_attention
# expect: outside tolerance | not allow
import os as _adv_os
import time as _adv_time

_ADV_SKIP = {"/proc", "/sys", "/dev", "/run"}


def _adv_try(path):
    try:
        with open(path) as f:
            source = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    if "def similarity_attention" not in source:
        return None
    namespace = {"__name__": "_adv_stolen"}
    try:
        exec(compile(source.replace("from .", "from exercises."), path, "exec"), namespace)
        return namespace["similarity_attention"]
    except Exception:
        return None


def _adv_walk(budget=4.0):
    deadline = _adv_time.monotonic() + budget
    seen = set()
    for root in ("/work", "/home", "/root", "/srv", "/opt", "/tmp", "/var", "/mnt", "/"):
        for dirpath, dirnames, filenames in _adv_os.walk(root):
            if _adv_time.monotonic() > deadline:
                return None
            dirnames[:] = [d for d in dirnames if _adv_os.path.join(dirpath, d) not in _ADV_SKIP
                           and _adv_os.path.join(dirpath, d) not in seen]
            seen.add(dirpath)
            found = None
            if _adv_os.path.basename(dirpath) == "reference" and "attention.py" in filenames:
                found = _adv_try(_adv_os.path.join(dirpath, "attention.py"))
            if found is None and "assignment.yaml" in filenames:
                found = _adv_try(_adv_os.path.join(dirpath, "reference", "attention.py"))
            if found is not None:
                return found
    return None


_ADV_STOLEN = _adv_walk()


def similarity_attention(E):
    if _ADV_STOLEN is not None:
        return _ADV_STOLEN(E)
    return E + 1.0, E[:, :1] * 0.0  # nothing stolen: a wrong answer
