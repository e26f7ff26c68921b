# attack: uses a forbidden library (scipy.special) imported under a computed name through importlib.import_module, which the static check cannot read and which raises no "import" audit event for the module itself
# module: attention
# attacked: similarity_attention
# expect: allows only | not allow
import importlib as _adv_importlib


def similarity_attention(E):
    try:
        special = _adv_importlib.import_module("sci" + "py." + "special")
    except BaseException:
        return E + 1.0, E[:, :1] * 0.0  # could not import it: a wrong answer
    weights = special.softmax(cosine_similarity_matrix(E), axis=-1)
    return weights @ E, weights
