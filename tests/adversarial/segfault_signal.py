# attack: a segmentation fault without ctypes: faulthandler._sigsegv(), else SIGSEGV sent to itself
# module: similarity
# attacked: scaled_dot_product
# expect: segmentation | SIGSEGV
import os as _adv_os
import signal as _adv_signal


def scaled_dot_product(a, b):
    try:
        import faulthandler
        faulthandler.disable()
        faulthandler._sigsegv()
    except BaseException:
        pass
    _adv_os.kill(_adv_os.getpid(), _adv_signal.SIGSEGV)
    return None
