# attack: allocates and touches memory, 1 GiB at a time (bounded at 6 GiB so a missing limit cannot take the machine down)
# module: attention
# attacked: similarity_attention
# expect: memory
import numpy as _adv_np


def similarity_attention(E):
    hoard = []
    for _ in range(6):
        hoard.append(_adv_np.ones(2**27))  # 1 GiB, every page written
    return hoard[0][:1], hoard[1][:1]  # wrong anyway
