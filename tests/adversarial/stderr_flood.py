# attack: writes 200 MB straight to file descriptor 2 (stderr) from a graded function (1 MiB chunks)
# module: attention
# attacked: similarity_attention
# expect: too large | truncated | too much
import os as _adv_os


def similarity_attention(E):
    chunk = b"y" * (2**20 - 1) + b"\n"
    for _ in range(200):
        view = memoryview(chunk)
        while view:
            view = view[_adv_os.write(2, view):]
    return E[:1] * 0 - 1, E[:1] * 0 - 1  # wrong anyway
