"""Comment faire le calcul ? — mesurer la similarité de deux plongements.

Partie « Mécanismes attentionnels » : le produit scalaire (Measure 1), la similarité
cosinus (Measure 2), le produit scalaire normalisé (Measure 3) et la table
Tech / Fruitiness / Other des mots Orange, Phone, Apple, And, An.

How do we compute it? — measuring how similar two embeddings are.

Part "attention mechanisms": the dot product (Measure 1), cosine similarity (Measure 2),
the scaled dot product (Measure 3) and the Tech / Fruitiness / Other table of the words
Orange, Phone, Apple, And, An.
"""

# NumPy servira à votre implémentation. / NumPy is for your implementation.
import numpy as np  # noqa: F401


def dot_product(a, b):
    """Produit scalaire de deux plongements, calculé sur le dernier axe.

    Dot product of two embeddings, taken over the last axis.

    Formule / Formula :  a · b = Σ_i a_i b_i

    Paramètres / Parameters
    -----------------------
    a, b : ndarray, forme / shape (..., d)
        Les dimensions de tête se diffusent. / Leading dimensions broadcast.

    Renvoie / Returns
    -----------------
    ndarray, forme / shape (...) ; un scalaire NumPy pour deux vecteurs.
    A NumPy scalar for two plain vectors.

    Exemple / Example
    -----------------
    >>> float(dot_product(np.array([1., 4.]), np.array([0., 3.])))
    12.0

    Diapo : « Measure 1: Dot product » — (1,4)·(0,3) = 12, (1,4)·(3,0) = 3, (0,3)·(3,0) = 0.
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez dot_product (exercises/similarity.py). "
        "/ Your turn: implement dot_product (exercises/similarity.py)."
    )


def cosine_similarity(a, b, eps=1e-8):
    """Similarité cosinus : le cosinus de l'angle entre a et b, sur le dernier axe.

    Cosine similarity: the cosine of the angle between a and b, over the last axis.

    Formule / Formula :  cos(a, b) = a · b / (max(‖a‖, eps) · max(‖b‖, eps))

    Paramètres / Parameters
    -----------------------
    a, b : ndarray, forme / shape (..., d) ; dimensions de tête diffusées / broadcast
    eps : float, plancher des normes / floor on the norms (défaut / default 1e-8)

    Renvoie / Returns
    -----------------
    ndarray, forme / shape (...), valeurs entre -1 et 1 / values between -1 and 1.

    Un vecteur nul donne 0.0, jamais NaN ni avertissement : c'est le rôle de eps.
    A zero vector gives 0.0, never NaN nor a warning: that is what eps is for.

    Exemple / Example
    -----------------
    >>> round(float(cosine_similarity(np.array([1., 4.]), np.array([0., 3.]))), 2)
    0.97

    Diapo : « Measure 2: Cosine similarity » — cos 14° = 0.97, cos 76° = 0.24, cos 90° = 0.
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez cosine_similarity (exercises/similarity.py). "
        "/ Your turn: implement cosine_similarity (exercises/similarity.py)."
    )


def scaled_dot_product(a, b):
    """Produit scalaire normalisé : le produit scalaire divisé par √d, sur le dernier axe.

    Scaled dot product: the dot product divided by √d, over the last axis.

    Formule / Formula :  a · b / √d,  d = a.shape[-1]

    La « length » de la diapo est le nombre de coordonnées d, pas la norme ‖a‖.
    The slide's "length" is the number of coordinates d, not the norm ‖a‖.

    Paramètres / Parameters
    -----------------------
    a, b : ndarray, forme / shape (..., d) ; dimensions de tête diffusées / broadcast

    Renvoie / Returns
    -----------------
    ndarray, forme / shape (...).

    Exemple / Example
    -----------------
    >>> round(float(scaled_dot_product(np.array([1., 4.]), np.array([0., 3.]))), 2)
    8.49

    Diapo : « Measure 3: Scaled dot product » — 12/√2 = 8.49, 3/√2 = 2.12, 0/√2 = 0.
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez scaled_dot_product (exercises/similarity.py). "
        "/ Your turn: implement scaled_dot_product (exercises/similarity.py)."
    )


def cosine_similarity_matrix(A, B=None):
    """Matrice des similarités cosinus entre chaque ligne de A et chaque ligne de B.

    Matrix of cosine similarities between every row of A and every row of B.

    Formule / Formula :  S[i, j] = cos(A[i], B[j]) ; B vaut A par défaut / B defaults to A.

    Paramètres / Parameters
    -----------------------
    A : ndarray, forme / shape (n, d)
    B : ndarray, forme / shape (m, d), ou / or None

    Renvoie / Returns
    -----------------
    ndarray, forme / shape (n, m).

    Même convention que cosine_similarity : une ligne nulle donne 0, jamais NaN.
    Same convention as cosine_similarity: a zero row gives 0, never NaN.

    Exemple / Example
    -----------------
    Lignes / rows Orange, Phone, Apple, And, An ; colonnes / columns Tech, Fruitiness, Other :

    >>> E = np.array([[0., 3, 0], [4, 0, 0], [2, 2, 0], [0, 0, 2], [0, 0, 3]])
    >>> np.round(cosine_similarity_matrix(E)[2], 2)          # ligne / row Apple
    array([0.71, 0.71, 1.  , 0.  , 0.  ])

    Diapo : « Cosine similarity » — 0.71 pour Orange–Apple et Phone–Apple, 1 pour And–An.
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez cosine_similarity_matrix (exercises/similarity.py). "
        "/ Your turn: implement cosine_similarity_matrix (exercises/similarity.py)."
    )
