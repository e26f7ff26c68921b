# attack: os.killpg(0, SIGKILL): kills every process of its own process group (the grader too, if it shares it)
# module: embeddings
# attacked: skipgram_pairs
# expect: SIGKILL | killed | not allow
import os as _adv_os
import signal as _adv_signal


def skipgram_pairs(tokens, window=2):
    _adv_os.killpg(0, _adv_signal.SIGKILL)
    return [("__x__", "__y__")]
