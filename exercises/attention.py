"""Mécanismes attentionnels — modifier « temporairement » les plongements selon le contexte.

Partie « Mécanismes attentionnels » : le « word math » sans matrices apprises, puis
l'attention par produit scalaire normalisé softmax(QKᵀ/√d_k)V et l'attention multi-têtes.

Masque : booléen, diffusable vers (..., n_q, n_k), True = peut regarder (comme
scaled_dot_product_attention de PyTorch, l'inverse de nn.MultiheadAttention) ; une paire
masquée reçoit un poids exactement 0. Aucun cas noté ne masque une ligne entière.

Attention mechanisms — "temporarily" changing embeddings according to their context.

Part "attention mechanisms": "word math" with no learned matrices, then scaled dot-product
attention softmax(QKᵀ/√d_k)V and multi-head attention.

Mask: boolean, broadcastable to (..., n_q, n_k), True = may attend (as PyTorch's
scaled_dot_product_attention, the opposite of nn.MultiheadAttention); a masked pair gets
weight exactly 0. No graded case masks a whole row.
"""

# NumPy servira à votre implémentation. / NumPy is for your implementation.
import numpy as np  # noqa: F401

# Vous pouvez réutiliser vos autres fonctions / You may reuse your other functions:
# from exercises.softmax import softmax
# from exercises.similarity import cosine_similarity_matrix


def similarity_attention(E):
    """Attention sans matrices apprises : chaque mot devient une moyenne des mots de la
    phrase, pondérée par le softmax de leurs similarités cosinus.

    Attention with no learned matrices: each word becomes an average of the sentence's
    words, weighted by the softmax of their cosine similarities.

    Formule / Formula :  weights = softmax(cosine_similarity_matrix(E)), ligne par ligne
                         output  = weights @ E                          (row-wise)

    Paramètres / Parameters
    -----------------------
    E : ndarray, forme / shape (n, d) ; un plongement par mot / one embedding per word

    Renvoie / Returns
    -----------------
    (output, weights) : output (n, d) ; weights (n, n), chaque ligne somme à 1 / each row
    sums to 1.

    Exemple / Example
    -----------------
    >>> E = np.array([[0., 3, 0], [2, 2, 0], [0, 0, 2], [0, 0, 3]])  # Orange, Apple, And, An
    >>> np.round(similarity_attention(E)[1][0], 2)                    # ligne / row Orange
    array([0.4 , 0.3 , 0.15, 0.15])

    Diapo : « Value matrix » (an apple and an orange) — Orange → 0.40 Orange + 0.30 Apple
    + 0.15 And + 0.15 An. La ligne « And → 0.5 And + 0.5 An » n'est pas un softmax : la
    valeur exacte est 0.13, 0.13, 0.37, 0.37. / That row is not a softmax; see the exact one.
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez similarity_attention (exercises/attention.py). "
        "/ Your turn: implement similarity_attention (exercises/attention.py)."
    )


def attention_weights(Q, K, mask=None):
    """Poids d'attention : à quel point chaque requête « regarde » chaque clé.

    Attention weights: how much each query "looks at" each key.

    Formule / Formula :  softmax(QKᵀ / √d_k) sur le dernier axe / over the last axis,
                         d_k = Q.shape[-1]

    Paramètres / Parameters
    -----------------------
    Q : ndarray, forme / shape (..., n_q, d_k) — requêtes / queries
    K : ndarray, forme / shape (..., n_k, d_k) — clés / keys
    mask : None, ou booléen diffusable vers / or boolean broadcastable to (..., n_q, n_k).
        True = peut regarder ; une paire False reçoit un poids exactement 0.
        True = may attend; a False pair gets weight exactly 0.

    Renvoie / Returns
    -----------------
    ndarray, forme / shape (..., n_q, n_k) ; chaque ligne somme à 1 / each row sums to 1.

    Exemple / Example
    -----------------
    >>> Q, K = np.array([[1., 4.]]), np.array([[0., 3.], [3., 0.]])
    >>> np.round(attention_weights(Q, K), 3)               # softmax([8.49, 2.12])
    array([[0.998, 0.002]])

    Diapo : « Scaled Dot-Product Attention » — softmax(QKᵀ/√d_k), avec les scores de
    « Measure 3: Scaled dot product » (12/√2 = 8.49, 3/√2 = 2.12).
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez attention_weights (exercises/attention.py). "
        "/ Your turn: implement attention_weights (exercises/attention.py)."
    )


def scaled_dot_product_attention(Q, K, V, mask=None):
    """Attention par produit scalaire normalisé : chaque sortie est la moyenne des valeurs
    V pondérée par les poids d'attention.

    Scaled dot-product attention: each output is the average of the values V weighted by
    the attention weights.

    Formule / Formula :  Attention(Q, K, V) = softmax(QKᵀ/√d_k) V

    Paramètres / Parameters
    -----------------------
    Q : (..., n_q, d_k) ;  K : (..., n_k, d_k) ;  V : (..., n_k, d_v)
        n_q peut différer de n_k, et d_v de d_k. / n_q may differ from n_k, d_v from d_k.
    mask : None ou booléen, comme pour / or boolean, as for attention_weights (True = peut
        regarder / may attend).

    Renvoie / Returns
    -----------------
    (output, weights) : output (..., n_q, d_v) = weights @ V ;
    weights (..., n_q, n_k) = attention_weights(Q, K, mask).

    Exemple / Example
    -----------------
    >>> I = np.eye(2)
    >>> np.round(scaled_dot_product_attention(I, I, I, mask=causal_mask(2))[1], 2)
    array([[1.  , 0.  ],
           [0.33, 0.67]])

    Diapo : « Self-attention » — Attention(Q, K, V) = softmax(QKᵀ/√d_k)V.
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez scaled_dot_product_attention (exercises/attention.py). "
        "/ Your turn: implement scaled_dot_product_attention (exercises/attention.py)."
    )


def causal_mask(n_q, n_k=None):
    """Masque causal : la position i ne regarde que les positions j ≤ i, jamais le futur.

    Causal mask: position i only attends to positions j ≤ i, never to the future.

    Formule / Formula :  mask[i, j] = (j <= i)

    Paramètres / Parameters
    -----------------------
    n_q : int, nombre de requêtes / number of queries
    n_k : int, nombre de clés / number of keys ; None signifie / means n_q

    Renvoie / Returns
    -----------------
    ndarray bool, forme / shape (n_q, n_k) : triangulaire inférieur, diagonale comprise,
    aligné en haut à gauche. / Lower triangular, diagonal included, top-left aligned.

    Exemple / Example
    -----------------
    >>> causal_mask(2, 3)
    array([[ True, False, False],
           [ True,  True, False]])

    Diapo : « Apprentissage non supervisé » — deviner le mot suivant, que le modèle peut
    vérifier « puisqu'il dispose de l'ensemble du texte » : il ne doit donc pas le voir.
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez causal_mask (exercises/attention.py). "
        "/ Your turn: implement causal_mask (exercises/attention.py)."
    )


def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, mask=None):
    """Auto-attention multi-têtes : n_heads attentions en parallèle sur des tranches de
    d_k colonnes, concaténées dans l'ordre puis mélangées par W_o.

    Multi-head self-attention: n_heads attentions in parallel on slices of d_k columns,
    concatenated in order, then mixed by W_o.

    Formule / Formula :  MultiHead = Concat(head_1, …, head_h) W_o,  d_k = d_model // n_heads
        head_h = Attention(Q_h, K_h, V_h),  Q_h = (X @ W_q)[..., h*d_k:(h+1)*d_k]  (idem K, V)
        échelle √d_k de la tête, pas √d_model / scale by the per-head √d_k, not √d_model

    Paramètres / Parameters
    -----------------------
    X : ndarray, forme / shape (..., n, d_model)
    W_q, W_k, W_v, W_o : ndarray (d_model, d_model), utilisées comme / used as X @ W
    n_heads : int ; d_model % n_heads != 0 lève / raises ValueError
    mask : None ou booléen (True = peut regarder / may attend), par ex. causal_mask(n),
        appliqué à chaque tête / applied to every head.

    Renvoie / Returns
    -----------------
    (output, weights) : output (..., n, d_model) ; weights (..., n_heads, n, n).

    Exemple / Example
    -----------------
    >>> X, W = np.ones((5, 4)), np.eye(4)
    >>> [a.shape for a in multi_head_attention(X, W, W, W, W, n_heads=2)]
    [(5, 4), (2, 5, 5)]

    Diapo : « Multi-head attention » — MultiHead(Q, K, V) = Concat(head_1, …, head_h)W^O,
    head_i = Attention(QW_i^Q, KW_i^K, VW_i^V) avec / with W_i^Q = W_q[:, i*d_k:(i+1)*d_k].
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez multi_head_attention (exercises/attention.py). "
        "/ Your turn: implement multi_head_attention (exercises/attention.py)."
    )
