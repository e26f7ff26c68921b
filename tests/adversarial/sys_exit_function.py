# attack: sys.exit(0) inside a graded function
# module: similarity
# attacked: scaled_dot_product
# expect: SystemExit
import sys as _adv_sys


def scaled_dot_product(a, b):
    _adv_sys.exit(0)
