"""Word embeddings — slides "Plongement lexical" (one-hot, skip-gram, king - man + woman)."""
import numpy as np

from .similarity import cosine_similarity


def _check_ids(ids, vocab_size):
    ids = np.asarray(ids)
    if np.any((ids < 0) | (ids >= vocab_size)):
        raise ValueError(f"token ids must lie in [0, {vocab_size}), got {ids.min()}..{ids.max()}")
    return ids


def one_hot(ids, vocab_size):
    ids = _check_ids(ids, vocab_size)
    return (ids[..., None] == np.arange(vocab_size)).astype(np.float64)


def embed(ids, E):
    return E[_check_ids(ids, len(E))]


def skipgram_pairs(tokens, window=2):
    n = len(tokens)
    return [(tokens[i], tokens[j])
            for i in range(n)
            for j in range(max(0, i - window), min(n, i + window + 1)) if j != i]


def analogy(words, E, a, b, c):
    index = {w: i for i, w in enumerate(words)}
    target = E[index[b]] - E[index[a]] + E[index[c]]
    scores = cosine_similarity(E, target)
    scores[[index[w] for w in (a, b, c)]] = -np.inf  # the answer is never one of the question's words
    return words[int(np.argmax(scores))]
