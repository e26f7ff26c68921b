# attack: computes the right answer, then overwrites its input array in place
# module: attention
# attacked: similarity_attention
# expect: modified
_adv_correct = similarity_attention


def similarity_attention(E):
    out, weights = _adv_correct(E)
    E[...] = 0.0
    return out, weights
