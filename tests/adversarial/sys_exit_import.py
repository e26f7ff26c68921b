# attack: sys.exit(0) while the module is imported
# module: transformer
# attacked: module
# expect: SystemExit
import sys as _adv_sys

_adv_sys.exit(0)
