# attack: replaces NumPy's comparison helpers at import (allclose, isclose, array_equal, array_equiv, testing.assert_*) so that everything "matches", then returns wrong values
# module: similarity
# attacked: scaled_dot_product
# expect: outside tolerance
import numpy as _adv_np

_adv_np.allclose = lambda *args, **kwargs: True
_adv_np.isclose = lambda a, b, *args, **kwargs: _adv_np.ones(_adv_np.broadcast(a, b).shape, dtype=bool)
_adv_np.array_equal = lambda *args, **kwargs: True
_adv_np.array_equiv = lambda *args, **kwargs: True
try:
    import numpy.testing as _adv_testing
    for _adv_name in ("assert_allclose", "assert_array_equal", "assert_array_almost_equal", "assert_almost_equal",
                      "assert_equal"):
        setattr(_adv_testing, _adv_name, lambda *args, **kwargs: None)
except BaseException:
    pass
try:
    import numpy.core.numeric as _adv_numeric
    _adv_numeric.allclose = _adv_np.allclose
    _adv_numeric.isclose = _adv_np.isclose
    _adv_numeric.array_equal = _adv_np.array_equal
except BaseException:
    pass

_adv_correct = scaled_dot_product


def scaled_dot_product(a, b):
    return _adv_correct(a, b) + 1.0
