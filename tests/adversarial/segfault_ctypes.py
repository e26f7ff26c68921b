# attack: a segmentation fault through ctypes (reads address 0)
# module: similarity
# attacked: scaled_dot_product
# expect: segmentation | does not allow | not allowed
import ctypes as _adv_ctypes


def scaled_dot_product(a, b):
    return _adv_ctypes.string_at(0)
