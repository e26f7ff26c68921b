# attack: a classic daemon (fork, setsid, fork, close descriptors, exec a 120 s sleep, or sleep itself if exec is refused) meant to outlive the worker
# module: transformer
# attacked: generate
# expect: item 0
import os as _adv_os
import sys as _adv_sys
import time as _adv_time

_ADV_DAEMON = []


def generate(token_ids, params, n_new):
    if not _ADV_DAEMON:
        _ADV_DAEMON.append(True)
        try:
            pid = _adv_os.fork()
            if pid == 0:
                try:
                    _adv_os.setsid()
                    if _adv_os.fork() == 0:
                        _adv_os.closerange(3, 4096)
                        try:
                            _adv_os.execv(_adv_sys.executable, [_adv_sys.executable, "-c",
                                                                "import time; time.sleep(120)", "__MARKER__"])
                        except BaseException:
                            _adv_time.sleep(120)
                finally:
                    _adv_os._exit(0)
            _adv_os.waitpid(pid, 0)
        except OSError:
            pass
    return [-1] * n_new
