# attack: os._exit(0) while the module is imported (no exception, no cleanup: the worker just ends)
# module: transformer
# attacked: module
# expect: exit
import os as _adv_os

_adv_os._exit(0)
