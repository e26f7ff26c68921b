"""Plongement lexical — des mots (jetons) aux vecteurs.

Partie « Vectorisation de mots (et de jetons) / plongement lexical : une revue » :
vecteurs one-hot, table de plongement, paires d'entraînement du skip-gram et analogie
king − man + woman ≈ queen.

Word embeddings — from words (tokens) to vectors.

Part "word (and token) vectorisation / embeddings: a review": one-hot vectors, the
embedding table, skip-gram training pairs and the analogy king − man + woman ≈ queen.
"""

# NumPy servira à votre implémentation. / NumPy is for your implementation.
import numpy as np  # noqa: F401

# Vous pouvez réutiliser vos autres fonctions / You may reuse your other functions:
# from exercises.similarity import cosine_similarity


def one_hot(ids, vocab_size):
    """Vecteurs one-hot : une ligne de 0 par identifiant, avec un seul 1 à sa position.

    One-hot vectors: one row of zeros per id, with a single 1 at its position.

    Paramètres / Parameters
    -----------------------
    ids : ndarray d'entiers / of ints, forme / shape (n,)
    vocab_size : int, taille du vocabulaire / vocabulary size

    Renvoie / Returns
    -----------------
    ndarray float64, forme / shape (n, vocab_size), de 0 et de 1 ; out[k, ids[k]] == 1.
    float64 array of 0s and 1s.

    Un identifiant hors de [0, vocab_size) lève ValueError, -1 compris (pas d'indexation
    depuis la fin). / An id outside [0, vocab_size) raises ValueError, -1 included (no
    indexing from the end).

    Exemple / Example
    -----------------
    >>> one_hot(np.array([4]), 7)                 # le 5e mot / the 5th word
    array([[0., 0., 0., 0., 1., 0., 0.]])

    Diapo : « Plongement lexical (Embedding) » — « [0,0,0,0,1,0,0…] si c'est le 5ieme
    mot ».
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez one_hot (exercises/embeddings.py). "
        "/ Your turn: implement one_hot (exercises/embeddings.py)."
    )


def embed(ids, E):
    """Plongement : la ligne de la table E de chaque identifiant.

    Embedding: the row of the table E for each id.

    Formule / Formula :  embed(ids, E) = E[ids] = one_hot(ids, len(E)) @ E

    Paramètres / Parameters
    -----------------------
    ids : ndarray d'entiers / of ints, forme / shape (n,)
    E : ndarray, forme / shape (V, d) ; la ligne i plonge le jeton i / row i embeds token i

    Renvoie / Returns
    -----------------
    ndarray, forme / shape (n, d).

    Un identifiant hors de [0, V) lève ValueError, -1 compris, comme pour one_hot.
    An id outside [0, V) raises ValueError, -1 included, as for one_hot.

    Exemple / Example
    -----------------
    >>> embed(np.array([2, 0]), np.array([[0., 1.], [2., 3.], [4., 5.]]))
    array([[4., 5.],
           [0., 1.]])

    Diapo : « 2) Encastrement » — un vecteur one-hot, puis l'encastrement (déjà entraîné)
    de ce jeton.
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez embed (exercises/embeddings.py). "
        "/ Your turn: implement embed (exercises/embeddings.py)."
    )


def skipgram_pairs(tokens, window=2):
    """Paires (centre, contexte) du skip-gram : chaque mot avec ses voisins de fenêtre.

    Skip-gram (center, context) pairs: each word with its neighbours in the window.

    Pour chaque position i dans l'ordre, puis chaque j de i − window à i + window, de
    gauche à droite, dans la séquence et j ≠ i : la paire (tokens[i], tokens[j]).
    For each position i in order, then each j from i − window to i + window, left to
    right, inside the sequence and j ≠ i: the pair (tokens[i], tokens[j]).

    Paramètres / Parameters
    -----------------------
    tokens : liste de str / list of str, pris tels quels / taken as they are
    window : int, voisins de chaque côté / neighbours on each side (défaut / default 2)

    Renvoie / Returns
    -----------------
    list de tuples (center, context), une paire par couple (i, j), sans dédoublonnage.
    list of (center, context) tuples, one pair per (i, j), no deduplication.

    Exemple / Example
    -----------------
    >>> skipgram_pairs("the quick brown fox jumps over the lazy dog".split())[:5]
    [('the', 'quick'), ('the', 'brown'), ('quick', 'the'), ('quick', 'brown'), ('quick', 'fox')]

    Diapo : « Plongement lexical » — Source Text / Training Samples (« contexts »).
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez skipgram_pairs (exercises/embeddings.py). "
        "/ Your turn: implement skipgram_pairs (exercises/embeddings.py)."
    )


def analogy(words, E, a, b, c):
    """Analogie « a est à b ce que c est à ? » : le mot le plus proche de E[b] − E[a] + E[c].

    Analogy "a is to b as c is to ?": the word closest to E[b] − E[a] + E[c].

    Paramètres / Parameters
    -----------------------
    words : liste de str / list of str ; words[i] est le mot de la ligne i de E
    E : ndarray, forme / shape (len(words), d)
    a, b, c : str, trois mots de words / three words of words

    Renvoie / Returns
    -----------------
    str : le mot w de words, w ∉ {a, b, c}, de plus grande similarité cosinus avec
    E[b] − E[a] + E[c] ; en cas d'égalité, le premier dans l'ordre de words.
    The word w of words, w not in {a, b, c}, with the highest cosine similarity to
    E[b] − E[a] + E[c]; on ties, the first in the order of words.

    Exemple / Example
    -----------------
    Axes (masculin, féminin, royauté) / axes (male, female, royalty) :

    >>> words = ["man", "woman", "king", "queen", "apple"]
    >>> E = np.array([[1., 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 1], [0.5, 0.5, 0]])
    >>> analogy(words, E, "man", "king", "woman")
    'queen'

    Diapo : « king − man + woman ≈ queen » (Jay Alammar) — pas exactement queen, mais le
    mot le plus proche. / Not exactly queen, but the closest word.
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez analogy (exercises/embeddings.py). "
        "/ Your turn: implement analogy (exercises/embeddings.py)."
    )
