# attack: reads the hidden reference by its absolute path (__REPO__/reference/attention.py), runs it, returns what it computes
# module: attention
# attacked: similarity_attention
# expect: outside tolerance | not allow


def _adv_steal():
    path = "__REPO__/reference/attention.py"
    try:
        with open(path) as f:
            source = f.read()
        namespace = {"__name__": "_adv_stolen"}
        exec(compile(source.replace("from .", "from exercises."), path, "exec"), namespace)
        return namespace["similarity_attention"]
    except Exception:
        return None


def similarity_attention(E):
    stolen = _adv_steal()
    if stolen is not None:
        return stolen(E)
    return E + 1.0, E[:, :1] * 0.0  # nothing stolen: a wrong answer
