# attack: returns an array of words of exactly the expected shape where numbers are expected (and returns one where an error is expected): the comparison, the diagnosis and the hints meet strings, and must say so in a failed verdict, not crash
# module: embeddings
# attacked: one_hot
# expect: array of strings
_adv_correct = one_hot


def one_hot(ids, vocab_size):
    try:
        shape = _adv_correct(ids, vocab_size).shape
    except Exception:  # an id out of range: a word array anyway, of the shape it would have had
        shape = (len(ids), vocab_size)
    return np.full(shape, "zero")
