# attack: a busy loop that first ignores (and blocks) every catchable termination signal
# module: embeddings
# attacked: skipgram_pairs
# expect: timeout
# timeout: 1
import signal as _adv_signal

_ADV_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM",
                "SIGPROF", "SIGXCPU", "SIGXFSZ", "SIGPIPE", "SIGTSTP", "SIGTTIN", "SIGTTOU")


def skipgram_pairs(tokens, window=2):
    found = []
    for name in _ADV_SIGNALS:
        if hasattr(_adv_signal, name):
            found.append(getattr(_adv_signal, name))
            try:
                _adv_signal.signal(found[-1], _adv_signal.SIG_IGN)
            except (OSError, ValueError, RuntimeError):
                pass
    try:
        _adv_signal.pthread_sigmask(_adv_signal.SIG_BLOCK, found)
    except (OSError, ValueError):
        pass
    while True:
        pass
