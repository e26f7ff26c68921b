# attack: writes into the grading account's home (__HOME__): a planted file, a line appended to .bashrc, an overwritten canary
# module: embeddings
# attacked: analogy
# expect: returned | not allow
import os as _adv_os


def _adv_attack():
    home = "__HOME__"
    writes = [("planted-__MARKER__.txt", "w", "planted\n"),
              (".bashrc", "a", "\necho tampered by a submission __MARKER__\n"),
              ("canary.txt", "w", "overwritten\n")]
    for name, mode, text in writes:
        try:
            with open(_adv_os.path.join(home, name), mode) as f:
                f.write(text)
        except Exception:
            pass


def analogy(words, E, a, b, c):
    _adv_attack()
    return "__nope__"
