# attack: writes into the folder where the grader writes its JSON and report: a new file, an overwritten file, and result.json/report.html replaced by symlinks into __HOME__ (so the grader writes there)
# module: transformer
# attacked: generate
# expect: item 0 | not allow
import os as _adv_os


def _adv_attack():
    out = "__OUTPUT__"
    steps = [
        lambda: open(_adv_os.path.join(out, "planted-__MARKER__.txt"), "w").write("planted by a submission\n"),
        lambda: open(_adv_os.path.join(out, "previous.txt"), "w").write("overwritten by a submission\n"),
    ]
    for name, target in (("result.json", "__HOME__/hijacked-__MARKER__.json"),
                         ("report.html", "__HOME__/hijacked-__MARKER__.html")):
        def link(name=name, target=target):
            path = _adv_os.path.join(out, name)
            try:
                _adv_os.unlink(path)
            except OSError:
                pass
            _adv_os.symlink(target, path)
        steps.append(link)
    for step in steps:
        try:
            step()
        except Exception:
            pass


def generate(token_ids, params, n_new):
    _adv_attack()
    return [-1] * n_new
