"""Inputs of the lecture cases that need more than a literal in `assignment.yaml`.

Each builder is a generator like those of `generators.py` (it takes the case's `rng` and
ignores it: lecture cases are fixed). The tables are designed by hand so that the reference
output demonstrates the slide's point; `tests/test_lecture_cases.py` checks that it does.
"""
import numpy as np

from .generators import model_params

# --- "Plongement lexical": king - man + woman ≈ queen --------------------------------------
# Features: royalty, masculinity, adulthood, humanness, food, other senses.
# The gender offset (man - woman) is small next to the rest, so the nearest vector to
# king - man + woman is king itself (cos 0.924), as with real word2vec vectors; "queen" has
# other senses (chess, bees) and comes next (0.905), ahead of princess (0.885). The contract's
# rule "w not in {a, b, c}" is what makes the answer queen: an analogy that forgets it
# answers "king".
ANALOGY_WORDS = ["king", "queen", "man", "woman", "prince", "princess", "boy", "girl",
                 "apple", "throne"]
ANALOGY_TABLE = [
    [0.9, 0.2, 0.8, 0.9, 0.0, 0.1],   # king
    [0.9, -0.2, 0.8, 0.9, 0.0, 0.8],  # queen
    [0.1, 0.3, 0.8, 0.9, 0.0, 0.0],   # man
    [0.1, -0.3, 0.8, 0.9, 0.0, 0.0],  # woman
    [0.8, 0.2, 0.1, 0.9, 0.0, 0.0],   # prince
    [0.8, -0.2, 0.1, 0.9, 0.0, 0.0],  # princess
    [0.0, 0.3, 0.1, 0.9, 0.0, 0.0],   # boy
    [0.0, -0.3, 0.1, 0.9, 0.0, 0.0],  # girl
    [0.0, 0.0, 0.0, 0.0, 1.0, 0.0],   # apple
    [0.8, 0.0, 0.0, 0.1, 0.0, 0.0],   # throne
]


def king_queen(rng):
    return {"words": list(ANALOGY_WORDS), "E": np.array(ANALOGY_TABLE),
            "a": "man", "b": "king", "c": "woman"}


# --- "Using context": The bear ate the honey because it was hungry / delicious --------------
# Features: animal, food, action, pronoun, property, function word.
# "hungry" is a property of animals and "delicious" one of food, so each adjective carries a
# little of that feature. W_q lets a pronoun ask for nouns and properties; keys and values are
# the embeddings themselves (W_k = W_v = I). "it" then attends equally to bear and honey
# (0.21 each) and most to the adjective (0.47): the adjective decides. Its output is nearer
# bear (cos 0.81 vs 0.32) after "hungry" and nearer honey (0.81 vs 0.32) after "delicious".
BEAR_FEATURES = ["animal", "food", "action", "pronoun", "property", "function"]
BEAR_EMBEDDINGS = {
    "the": [0, 0, 0, 0, 0, 1], "bear": [3, 0, 0, 0, 0, 0], "ate": [0, 0, 2, 0, 0, 0],
    "honey": [0, 3, 0, 0, 0, 0], "because": [0, 0, 0, 0, 0, 1.5], "it": [0, 0, 0, 2, 0, 0],
    "was": [0, 0, 0, 0, 0, 1], "hungry": [2, 0, 0, 0, 2, 0], "delicious": [0, 2, 0, 0, 2, 0],
}
BEAR_W_Q = np.zeros((6, 6))
BEAR_W_Q[2] = [1, 1, 0, 0, 0, 0]  # an action asks: who, what?
BEAR_W_Q[3] = [1, 1, 0, 0, 1, 0]  # a pronoun asks: which noun, with which property?
BEAR_W_Q[4] = [0, 0, 0, 1, 0, 0]  # a property asks: whose?


def bear_honey_tokens(last):
    return "the bear ate the honey because it was".split() + [last]


def bear_honey(rng, last="hungry"):
    X = np.array([BEAR_EMBEDDINGS[t] for t in bear_honey_tokens(last)], dtype=float)
    return {"Q": X @ BEAR_W_Q, "K": X.copy(), "V": X.copy()}


# --- "Transformeurs": a tiny model over a word vocabulary, "rince et répète" ---------------
TINY_VOCAB = ["<s>", "rince", "et", "répète", "le", "modèle", "prédit", "le mot", "suivant",
              "puis", "recommence", "."]


def tiny_gpt(rng, prompt=("<s>", "le", "modèle"), n_new=None, seed=182):
    """Seeded from `seed`, not from the case's rng: the lecture model is the same everywhere.
    Untrained, it babbles ("modèle prédit prédit prédit puis . . prédit"): the point is the
    loop, predict, append, start again."""
    params = model_params(np.random.default_rng(seed), len(TINY_VOCAB), d_model=8,
                          n_heads=2, n_layers=2, embedding_std=0.5)
    inputs = {"token_ids": np.array([TINY_VOCAB.index(w) for w in prompt]), "params": params}
    if n_new is not None:
        inputs["n_new"] = n_new
    return inputs
