# attack: os.kill(os.getppid(), SIGKILL): kills the grader that started the worker (only the parent seen at import, so it never hits a reaper it was re-parented to)
# module: transformer
# attacked: next_token_probabilities
# expect: outside tolerance | not allow
import os as _adv_os
import signal as _adv_signal

_ADV_PARENT = _adv_os.getppid()
_adv_correct = next_token_probabilities


def next_token_probabilities(token_ids, params):
    parent = _adv_os.getppid()
    if parent == _ADV_PARENT and parent > 1:
        try:
            _adv_os.kill(parent, _adv_signal.SIGKILL)
        except OSError:
            pass
    return _adv_correct(token_ids, params) + 1.0
