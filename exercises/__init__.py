"""Exercices de la séance 11 — contexte, attention et modèles génératifs.

Modifiez les modules de ce paquet, un par partie du cours : remplacez chaque
``raise NotImplementedError(...)`` par votre implémentation, puis lancez ``grade`` pour
vérifier votre travail. Les modules peuvent s'importer entre eux, par exemple
``from exercises.softmax import softmax``. Aucune fonction ne doit modifier ses entrées.

Importations permises : NumPy et la bibliothèque standard. Importer ``torch``,
``tensorflow``, ``jax``, ``scipy.special``, ``sklearn`` ou les paquets ``reference`` et
``grader`` est interdit : le correcteur le signale comme une infraction aux règles.

Exercises for lecture 11 — context, attention and generative models.

Edit the modules of this package, one per part of the lecture: replace each
``raise NotImplementedError(...)`` with your implementation, then run ``grade`` to check
your work. Modules may import each other, for example
``from exercises.softmax import softmax``. No function may modify its inputs.

Allowed imports: NumPy and the standard library. Importing ``torch``, ``tensorflow``,
``jax``, ``scipy.special``, ``sklearn`` or the ``reference`` and ``grader`` packages is
forbidden: the grader reports it as a rule violation.

    similarity    « Comment faire le calcul ? »
    softmax       « Normalization », « Softmax »
    embeddings    « Plongement lexical »
    attention     « Mécanismes attentionnels »
    positional    « Encodage positionnel »
    transformer   « Transformeurs », « Rince et répète »
"""
