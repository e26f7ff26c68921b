# attack: copies another student's submission (__OTHER__/attention.py, graded at the same time), runs it, returns what it computes
# module: attention
# attacked: similarity_attention
# expect: outside tolerance | not allow


def _adv_steal():
    path = "__OTHER__/attention.py"
    try:
        with open(path) as f:
            source = f.read()
        namespace = {"__name__": "_adv_stolen"}
        exec(compile(source, path, "exec"), namespace)
        return namespace["similarity_attention"]
    except Exception:
        return None


def similarity_attention(E):
    stolen = _adv_steal()
    if stolen is not None:
        return stolen(E)
    return E + 1.0, E[:, :1] * 0.0  # nothing copied: a wrong answer
