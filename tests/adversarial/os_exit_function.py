# attack: os._exit(7) inside a graded function
# module: embeddings
# attacked: skipgram_pairs
# expect: exit
import os as _adv_os


def skipgram_pairs(tokens, window=2):
    _adv_os._exit(7)
