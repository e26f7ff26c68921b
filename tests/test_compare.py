"""compare_values' messages in both languages: the English text is the one the suite reads
everywhere else; the French one is what a student sees by default."""
import numpy as np

from grader.model.assignment import Tolerance
from grader.grading.compare import compare_values

TOL = Tolerance(rtol=1e-6, atol=1e-8)




def test_english_messages_are_unchanged():
    assert compare_values(np.zeros(3), np.zeros((2, 3)), TOL).message == "the result has shape (3,), expected (2, 3)"
    assert compare_values([1, 2], np.zeros(2), TOL).message == "the result should be a NumPy array, got a list of 2 items"
    assert compare_values(["le", "ours"], ["le", "miel"], Tolerance()).message == \
        "the result: item 1 is 'ours', expected 'miel' (2 items, expected 2)"


def test_french_messages(french):
    assert compare_values(np.zeros(3), np.zeros((2, 3)), TOL).message == "le résultat a la forme (3,) au lieu de (2, 3)"
    assert compare_values(None, np.zeros(2), TOL).message == \
        "le résultat doit être un tableau NumPy, pas None (avez-vous oublié `return` ?)"
    assert compare_values([1], np.zeros(2), TOL, "weights").message == \
        "weights doit être un tableau NumPy, pas un list de 1 élément"
    assert compare_values(["le", "ours", "dort"], ["le", "ours"], Tolerance()).message == \
        "le résultat : 1 élément en trop à la fin, à partir de 'dort'"
    message = compare_values(np.array([0.5, 0.6]), np.array([0.5, 0.5]), TOL).message
    assert message.startswith("le résultat : 1 valeur sur 2 (50 %) hors tolérance ; la pire en [1] : 0.6 au lieu "
                              "de 0.5 (erreur absolue max 0.1, erreur relative max 0.2)"), message
    message = compare_values(np.array([np.nan, 1.0, np.inf]), np.array([1.0, 1.0, 1.0]), TOL).message
    assert message.startswith("le résultat contient 2 valeurs NaN/inf là où les valeurs attendues sont finies"), message
    assert compare_values(np.array([1, 2]), np.array([True, False]), TOL).message == \
        "le résultat doit être un tableau de booléens, pas de dtype int64"
