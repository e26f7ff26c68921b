# attack: at import, puts the grader's repository on sys.path (by its path and through /proc/<ppid>/cwd), imports `grader` under a computed name, then loads grader/grading/compare.py straight from the file (no import statement) and patches compare() to pass everything
# module: softmax
# attacked: module
# expect: allows only | not allow
import importlib as _adv_importlib
import importlib.util as _adv_util
import os as _adv_os
import sys as _adv_sys


def _adv_patch():
    bases = ["__REPO__", "/proc/%d/cwd" % _adv_os.getppid()]
    for base in bases:
        if base not in _adv_sys.path:
            _adv_sys.path.append(base)
    name = "gra" + "der"
    patched = []
    for module in (name, name + ".grading.compare", name + ".grading.engine"):
        try:
            patched.append(_adv_importlib.import_module(module))
        except BaseException:
            pass
    for base in bases:  # bypass the import machinery: load the file itself
        try:
            path = _adv_os.path.join(base, name, "grading", "compare.py")
            spec = _adv_util.spec_from_file_location("_adv_compare", path)
            loaded = _adv_util.module_from_spec(spec)
            spec.loader.exec_module(loaded)
            patched.append(loaded)
        except BaseException:
            pass
    for module in patched:
        for attr in ("compare", "compare_values"):
            if hasattr(module, attr):
                try:
                    verdict = getattr(module, "Verdict")
                    setattr(module, attr, lambda *args, **kwargs: verdict("passed"))
                except BaseException:
                    pass


_adv_patch()
