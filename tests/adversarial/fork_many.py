# attack: forks up to 300 children (bounded) that each exec a Python sleeping 120 s (or, if exec is refused, sleep 120 s themselves), then fails
# module: embeddings
# attacked: analogy
# expect: raised
import os as _adv_os
import sys as _adv_sys
import time as _adv_time

_ADV_FORKED = []


def analogy(words, E, a, b, c):
    if not _ADV_FORKED:  # once per worker process, 300 children at most
        _ADV_FORKED.append(True)
        for _ in range(300):
            pid = _adv_os.fork()  # let a refused fork raise: that is the point
            if pid == 0:
                try:
                    try:
                        _adv_os.execv(_adv_sys.executable, [_adv_sys.executable, "-c", "import time; time.sleep(120)",
                                                            "__MARKER__"])
                    except BaseException:
                        _adv_time.sleep(120)
                finally:
                    _adv_os._exit(0)
    raise RuntimeError("forked children are still sleeping")
