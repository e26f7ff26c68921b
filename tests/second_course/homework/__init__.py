"""Statistique descriptive : vos fonctions. / Descriptive statistics: your functions."""
