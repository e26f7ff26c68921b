# attack: returns a wrong answer as an ndarray subclass whose __eq__/__ne__/__array_ufunc__/__float__/__bool__ pretend it matches anything
# module: similarity
# attacked: scaled_dot_product
# expect: plain data | not an array | outside tolerance
import numpy as _adv_np


class _AdvArray(_adv_np.ndarray):
    def __eq__(self, other):
        return _adv_np.ones(_adv_np.shape(self), dtype=bool)

    def __ne__(self, other):
        return _adv_np.zeros(_adv_np.shape(self), dtype=bool)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _adv_np.ones(_adv_np.shape(self), dtype=bool)  # every comparison, isfinite, ... "holds"

    def __float__(self):
        return 0.0

    def __bool__(self):
        return True

    def __len__(self):
        return 0 if self.ndim == 0 else self.shape[0]


_adv_correct = scaled_dot_product


def scaled_dot_product(a, b):
    wrong = _adv_np.asarray(_adv_correct(a, b) + 1.0, dtype=float)
    return wrong.view(_AdvArray)
