# attack: at import and when called, rewrites another student's submission (__OTHER__, graded at the same time): a broken softmax.py and a planted module
# module: similarity
# attacked: scaled_dot_product
# expect: outside tolerance | not allow
# bystander: softmax
import os as _adv_os

_ADV_BROKEN = "import numpy as np\n\n\ndef softmax(x, axis=-1):\n    return np.zeros_like(x)  # sabotaged\n"


def _adv_attack():
    for name, text in (("softmax.py", _ADV_BROKEN), ("planted___MARKER__.py", "# planted by another submission\n")):
        try:
            with open(_adv_os.path.join("__OTHER__", name), "w") as f:
                f.write(text)
        except Exception:
            pass


_adv_attack()
_adv_correct = scaled_dot_product


def scaled_dot_product(a, b):
    _adv_attack()
    return _adv_correct(a, b) + 1.0
