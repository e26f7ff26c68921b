# attack: lifts the recursion limit to 10**7, then recurses through a C call (f.__call__) until the C stack overflows (Python 3.12+ stops it with a RecursionError instead)
# module: similarity
# attacked: scaled_dot_product
# expect: segmentation | recursion
import sys as _adv_sys


def _adv_dive(n):
    return _adv_dive.__call__(n + 1) + 1


def scaled_dot_product(a, b):
    _adv_sys.setrecursionlimit(10**7)
    return _adv_dive(0)
