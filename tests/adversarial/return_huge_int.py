# attack: returns an int too large for any float (10**400), alone where a number is expected (the strawberry-apple lecture case is a scalar) and inside a list on the slide-vectors lecture case: float conversion overflows wherever the grader, its diagnosis, hints or report convert it (analogy, in another module, still gets the right cosines)
# module: similarity
# attacked: cosine_similarity, scaled_dot_product
# expect: too large for a float
import sys as _adv_sys

_adv_correct_cosine = cosine_similarity
_adv_correct_scaled = scaled_dot_product


def cosine_similarity(a, b, eps=1e-8):
    if _adv_sys._getframe(1).f_code.co_name == "analogy":  # the bystander of another module: right answer
        return _adv_correct_cosine(a, b, eps)
    return 10 ** 400


def scaled_dot_product(a, b):
    right = [float(v) for v in np.ravel(_adv_correct_scaled(a, b))]
    return [10 ** 400] + right[1:]
