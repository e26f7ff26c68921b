# attack: persistence: drops a .pth file into the interpreter's site-packages (every later Python run would read it; this one only names a missing folder, so it is harmless)
# module: embeddings
# attacked: analogy
# expect: returned | not allow
import os as _adv_os
import site as _adv_site
import sys as _adv_sys


def _adv_attack():
    folders = set()
    try:
        folders.update(_adv_site.getsitepackages())
    except Exception:
        pass
    folders.add(_adv_os.path.join(_adv_sys.prefix, "lib", "python%d.%d" % _adv_sys.version_info[:2], "site-packages"))
    for folder in folders:
        try:
            with open(_adv_os.path.join(folder, "adv-__MARKER__.pth"), "w") as f:
                f.write("/nonexistent-__MARKER__\n")
        except Exception:
            pass


def analogy(words, E, a, b, c):
    _adv_attack()
    return "__nope__"
