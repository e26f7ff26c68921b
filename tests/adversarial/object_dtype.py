# attack: returns the RIGHT values as an object-dtype array of float look-alikes (whose __eq__ is always True): object arrays must not travel at all
# module: transformer
# attacked: next_token_probabilities
# expect: dtype object | plain data | not accepted
import numpy as _adv_np


class _AdvNumber(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = float.__hash__


_adv_correct = next_token_probabilities


def next_token_probabilities(token_ids, params):
    right = _adv_correct(token_ids, params)
    out = _adv_np.empty(right.shape, dtype=object)
    for index, value in _adv_np.ndenumerate(right):
        out[index] = _AdvNumber(value)
    return out
