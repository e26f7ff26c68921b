# attack: returns a zero-stride view of one element with shape (10**6, 10**6): 8 TB if anything copies it
# module: similarity
# attacked: scaled_dot_product
# expect: too large | memory | exit | shape
import numpy as _adv_np
from numpy.lib.stride_tricks import as_strided as _adv_as_strided


def scaled_dot_product(a, b):
    return _adv_as_strided(_adv_np.zeros(1), shape=(10**6, 10**6), strides=(0, 0))
