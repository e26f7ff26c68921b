"""Encodage positionnel — indiquer au transformeur l'ordre des mots.

Partie « Transformeurs », étape « 3) Encodage positionnel » : « au lieu d'un index avec
des nombres, il s'agit d'un index avec des directions ».

Positional encoding — telling the transformer the order of the words.

Part "transformers", step "3) positional encoding": instead of indexing positions with
numbers, we index them with directions.
"""

# NumPy servira à votre implémentation. / NumPy is for your implementation.
import numpy as np  # noqa: F401


def positional_encoding(n_positions, d_model, base=10000.0):
    """Encodage positionnel sinusoïdal : un vecteur de directions par position, à ajouter
    aux plongements des jetons.

    Sinusoidal positional encoding: one vector of directions per position, to be added to
    the token embeddings.

    Formule / Formula (positions à partir de 0 / from 0, sin et cos entrelacés / interleaved) :
        PE[p, 2i]   = sin(p / base**(2i / d_model))
        PE[p, 2i+1] = cos(p / base**(2i / d_model))

    Paramètres / Parameters
    -----------------------
    n_positions : int, nombre de positions / number of positions
    d_model : int, dimension des plongements ; impaire permise : la dernière colonne est
        un sinus. / Embedding size; odd is allowed: the last column is a sine.
    base : float (défaut / default 10000.0)

    Renvoie / Returns
    -----------------
    ndarray float64, forme / shape (n_positions, d_model) ; la ligne 0 vaut / row 0 is
    [0, 1, 0, 1, …]. Colonnes entrelacées, pas tous les sinus puis tous les cosinus.
    Interleaved columns, not all sines followed by all cosines.

    Exemple / Example
    -----------------
    >>> np.round(positional_encoding(2, 4), 2)
    array([[0.  , 1.  , 0.  , 1.  ],
           [0.84, 0.54, 0.01, 1.  ]])

    Diapo : « Positional encoding » — « write a story . » et « story . a write » ont les
    mêmes plongements ; une fois PE ajouté, ils diffèrent. / Same embeddings; PE makes
    them differ.
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez positional_encoding (exercises/positional.py). "
        "/ Your turn: implement positional_encoding (exercises/positional.py)."
    )
