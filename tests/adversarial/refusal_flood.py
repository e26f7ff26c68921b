# attack: 60,000 distinct refused actions at import (opening a different path outside its folder for writing, and a different file of the course for reading, each time; at import the worker has 10 s, a call only 3): the grader de-duplicated refusals quadratically (35 s); it must stay linear and list a bounded number of them
# module: embeddings
# attacked: module
# expect: not allow
for _adv_i in range(30_000):
    for _adv_path, _adv_mode in (("/etc/__MARKER__-%d-forbidden" % _adv_i, "w"),
                                 ("__REPO__/reference/__MARKER__-%d.py" % _adv_i, "r")):
        try:
            open(_adv_path, _adv_mode).close()
        except Exception:
            pass
