# attack: Ctrl-C from inside: SIGINT to its whole process group, then KeyboardInterrupt raised by hand
# module: embeddings
# attacked: analogy
# expect: KeyboardInterrupt | not allow
import os as _adv_os
import signal as _adv_signal
import time as _adv_time


def analogy(words, E, a, b, c):
    try:
        _adv_os.killpg(0, _adv_signal.SIGINT)
        _adv_time.sleep(0.2)
    except OSError:
        pass
    raise KeyboardInterrupt
