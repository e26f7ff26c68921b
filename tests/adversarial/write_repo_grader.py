# attack: writes into the grader's own repository: a new module in __REPO__/grader/, a line appended to grader/grading/compare.py and to reference/attention.py, a file in grader/__pycache__
# module: embeddings
# attacked: analogy
# expect: returned | not allow
import os as _adv_os


def _adv_attack():
    repo = "__REPO__"
    writes = [("grader/planted___MARKER__.py", "w", "PLANTED = True\n"),
              ("grader/grading/compare.py", "a", "\n# tampered by a submission __MARKER__\n"),
              ("reference/attention.py", "a", "\n# tampered by a submission __MARKER__\n"),
              ("grader/__pycache__/planted-__MARKER__.txt", "w", "planted\n")]
    for name, mode, text in writes:
        try:
            with open(_adv_os.path.join(repo, name), mode) as f:
                f.write(text)
        except Exception:
            pass


def analogy(words, E, a, b, c):
    _adv_attack()
    return "__nope__"
