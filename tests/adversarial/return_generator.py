# attack: returns a generator that would yield the RIGHT token ids: not a list, it must not be consumed by the grader
# module: transformer
# attacked: generate
# expect: plain data | generator | should be a list
_adv_correct = generate


def generate(token_ids, params, n_new):
    right = _adv_correct(token_ids, params, n_new)
    return (token for token in right)
