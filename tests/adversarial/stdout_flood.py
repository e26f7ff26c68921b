# attack: prints 200 MB to stdout from a graded function (1 MiB chunks)
# module: attention
# attacked: similarity_attention
# expect: too large | truncated | too much
import sys as _adv_sys


def similarity_attention(E):
    chunk = "x" * (2**20 - 1) + "\n"
    for _ in range(200):
        _adv_sys.stdout.write(chunk)
    _adv_sys.stdout.flush()
    return E[:1] * 0 - 1, E[:1] * 0 - 1  # wrong anyway
