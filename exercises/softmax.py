"""Normalisation et softmax — des scores aux coefficients d'une moyenne pondérée.

Partie « Mécanismes attentionnels » (diapos « Normalization » et « Softmax ») et étape
« 5) Softmax » des transformeurs : on veut des coefficients positifs dont la somme vaut 1.

Normalisation and softmax — from scores to the coefficients of a weighted average.

Part "attention mechanisms" (slides "Normalization" and "Softmax") and step "5) Softmax"
of transformers: we want positive coefficients that add up to 1.
"""

# NumPy servira à votre implémentation. / NumPy is for your implementation.
import numpy as np  # noqa: F401


def softmax(x, axis=-1):
    """Softmax : transforme des scores en coefficients positifs de somme 1 le long de axis.

    Softmax: turns scores into positive coefficients that sum to 1 along axis.

    Formule / Formula :  softmax(x)_i = exp(x_i) / Σ_j exp(x_j)

    Paramètres / Parameters
    -----------------------
    x : ndarray de forme quelconque / of any shape
    axis : int, l'axe normalisé / the axis that is normalised (défaut / default -1)

    Renvoie / Returns
    -----------------
    ndarray de la même forme que x / of the same shape as x.

    - Stable : aucun débordement, NaN ni avertissement pour des entrées finies jusqu'à
      ±1e300. / Stable: no overflow, NaN or warning for finite entries up to ±1e300.
    - Invariante par ajout d'une constante le long de axis : softmax(x + c) = softmax(x).
      Invariant to adding a constant along axis.
    - Une entrée -inf reçoit le poids 0 si sa tranche a une entrée finie.
      A -inf entry gets weight 0 when its slice has a finite entry.

    Exemple / Example
    -----------------
    >>> np.round(softmax(np.array([1., 0.71])), 2)
    array([0.57, 0.43])

    Diapo : « Softmax » — Orange → 0.57 Orange + 0.43 Apple, et Orange → 0.88 Orange
    + 0.12 Motorcycle là où la simple « Normalization » divisait par 1 − 1 = 0.
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez softmax (exercises/softmax.py). "
        "/ Your turn: implement softmax (exercises/softmax.py)."
    )
