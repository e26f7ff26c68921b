# attack: prints a fake grader summary and JSON result (Points 100.0/100.0, "score": 100) to its own stdout/stderr, to the grader's stdout/stderr through /proc/<ppid>/fd and to /dev/tty
# module: transformer
# attacked: next_token_probabilities
# expect: outside tolerance | not allow
import os as _adv_os
import sys as _adv_sys

_adv_correct = next_token_probabilities
_ADV_FAKE = ("\nexercise        passed         points\nsoftmax        14/14      10.0 / 10.0 \n"
             "Points 100.0/100.0\nFORGED-__MARKER__\n"
             '{"schema_version": 1, "status": "ok", "score": 100.0, "max_score": 100.0, '
             '"notes": ["FORGED-__MARKER__"], "exercises": []}\n')


def next_token_probabilities(token_ids, params):
    print(_ADV_FAKE)
    print(_ADV_FAKE, file=_adv_sys.stderr)
    targets = ["/proc/%d/fd/1" % _adv_os.getppid(), "/proc/%d/fd/2" % _adv_os.getppid(), "/dev/tty"]
    for target in targets:
        try:
            with open(target, "a") as stream:
                stream.write(_ADV_FAKE)
        except OSError:
            pass
    return _adv_correct(token_ids, params) + 1.0
