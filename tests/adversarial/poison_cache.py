# attack: plants entries in the grader's cache (~/.cache/seance11-grader: the parsed assignment, compiled report templates) so that a later run of the grader loads the submission's data or code
# module: embeddings
# attacked: analogy
# expect: returned | not allow
import os as _adv_os


def _adv_attack():
    homes = ["__HOME__", _adv_os.path.expanduser("~"), "/root"]
    names = ["template-" + "a" * 24 + ".bin", "assignment-" + "b" * 24 + ".bin", "planted-__MARKER__.bin"]
    for home in dict.fromkeys(homes):
        folder = _adv_os.path.join(home, ".cache", "seance11-grader")
        try:
            _adv_os.makedirs(folder, exist_ok=True)
        except Exception:
            pass
        for name in names:
            try:
                with open(_adv_os.path.join(folder, name), "w") as f:
                    f.write("0" * 64 + "\n__MARKER__ poisoned\n")
            except Exception:
                pass
        try:  # an existing entry, overwritten in place
            for name in _adv_os.listdir(folder):
                with open(_adv_os.path.join(folder, name), "a") as f:
                    f.write("__MARKER__")
        except Exception:
            pass


def analogy(words, E, a, b, c):
    _adv_attack()
    return "__nope__"
