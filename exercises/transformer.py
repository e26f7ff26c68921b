"""Transformeurs — un petit décodeur de style GPT-2, de bout en bout.

Partie « Transformeurs » : 1) jetons, 2) encastrement, 3) encodage positionnel,
4) attention, 5) softmax vers la sortie, 6) rince et répète pour chaque mot.

Transformers — a small GPT-2 style decoder, end to end.

Part "transformers": 1) tokens, 2) embedding, 3) positional encoding, 4) attention,
5) softmax to the output, 6) rinse and repeat for every word.

Poids utilisés comme / weights used as  x @ W + b,  W de forme / of shape (in, out).

Un bloc est un dict / a block is a dict (pas de biais d'attention / no attention biases) :
    ln1_gamma, ln1_beta    (d_model,)          LayerNorm avant l'attention / before attention
    W_q, W_k, W_v, W_o     (d_model, d_model)  attention multi-têtes / multi-head attention
    ln2_gamma, ln2_beta    (d_model,)          LayerNorm avant le FFN / before the FFN
    W1, b1                 (d_model, d_ff), (d_ff,)
    W2, b2                 (d_ff, d_model), (d_model,)

Les paramètres du modèle sont un dict / the model parameters are a dict :
    token_embedding        (V, d_model)        plongements, aussi la sortie / also the output
    blocks                 list de blocs, appliqués dans l'ordre / of blocks, in order
    lnf_gamma, lnf_beta    (d_model,)          LayerNorm finale / final LayerNorm
    n_heads                int
"""

# NumPy servira à votre implémentation. / NumPy is for your implementation.
import numpy as np  # noqa: F401

# Vous pouvez réutiliser vos autres fonctions / You may reuse your other functions:
# from exercises.softmax import softmax
# from exercises.embeddings import embed
# from exercises.attention import causal_mask, multi_head_attention
# from exercises.positional import positional_encoding


def layer_norm(x, gamma, beta, eps=1e-5):
    """Normalisation de couche : centre et réduit chaque vecteur sur son dernier axe, puis
    applique gamma et beta.

    Layer normalisation: centres and scales each vector over its last axis, then applies
    gamma and beta.

    Formule / Formula :  gamma * (x - mean) / sqrt(var + eps) + beta

    Paramètres / Parameters
    -----------------------
    x : ndarray, forme / shape (..., d)
    gamma, beta : ndarray, forme / shape (d,)
    eps : float (défaut / default 1e-5)

    Renvoie / Returns
    -----------------
    ndarray, forme / shape (..., d).

    - mean et var sur le dernier axe ; variance biaisée (divisée par d, pas d − 1).
      mean and var over the last axis; biased variance (divided by d, not d − 1).
    - eps à l'intérieur de la racine carrée. / eps inside the square root.

    Exemple / Example
    -----------------
    >>> np.round(layer_norm(np.array([1., 2., 3.]), np.ones(3), np.zeros(3)), 3)
    array([-1.225,  0.   ,  1.225])

    Diapo : « Tout ensemble » (le schéma complet ; le détail vient de GPT-2).
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez layer_norm (exercises/transformer.py). "
        "/ Your turn: implement layer_norm (exercises/transformer.py)."
    )


def gelu(x):
    """GELU, approximation tanh : la non-linéarité du réseau feed-forward de GPT-2.

    GELU, tanh approximation: the non-linearity of GPT-2's feed-forward network.

    Formule / Formula :  gelu(x) = 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))

    Paramètres / Parameters
    -----------------------
    x : ndarray de forme quelconque / of any shape (élément par élément / elementwise)

    Renvoie / Returns
    -----------------
    ndarray de la même forme que x / of the same shape as x.

    L'approximation tanh, pas la forme exacte x·Φ(x) avec erf : l'écart atteint 5e-4, bien
    plus que la tolérance. / The tanh approximation, not the exact erf form x·Φ(x): they
    differ by up to 5e-4, far more than the tolerance.

    Exemple / Example
    -----------------
    >>> np.round(gelu(np.array([-1., 0., 1.])), 4)
    array([-0.1588,  0.    ,  0.8412])

    Diapo : « Tout ensemble » (le schéma complet ; « gelu_new » de GPT-2).
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez gelu (exercises/transformer.py). "
        "/ Your turn: implement gelu (exercises/transformer.py)."
    )


def feed_forward(x, W1, b1, W2, b2):
    """Réseau feed-forward, position par position : deux couches denses, GELU entre elles.

    Position-wise feed-forward network: two dense layers with GELU in between.

    Formule / Formula :  gelu(x @ W1 + b1) @ W2 + b2

    Paramètres / Parameters
    -----------------------
    x : ndarray, forme / shape (..., d_model)
    W1 : (d_model, d_ff) ;  b1 : (d_ff,) ;  W2 : (d_ff, d_model) ;  b2 : (d_model,)

    Renvoie / Returns
    -----------------
    ndarray, forme / shape (..., d_model).

    Exemple / Example
    -----------------
    >>> I, z = np.eye(2), np.zeros(2)
    >>> np.round(feed_forward(np.array([[1., -1.]]), I, z, I, z), 4)
    array([[ 0.8412, -0.1588]])

    Diapo : « Tout ensemble » (le schéma complet ; le détail vient de GPT-2).
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez feed_forward (exercises/transformer.py). "
        "/ Your turn: implement feed_forward (exercises/transformer.py)."
    )


def transformer_block(x, block, n_heads):
    """Un bloc de décodeur (pré-LN, causal) : attention multi-têtes puis feed-forward,
    chacun ajouté à x par une connexion résiduelle.

    One decoder block (pre-LN, causal): multi-head attention then feed-forward, each added
    to x through a residual connection.

    Formule / Formula :
        x = x + MHA(layer_norm(x, ln1_gamma, ln1_beta), W_q, W_k, W_v, W_o, causal_mask(n))
        x = x + feed_forward(layer_norm(x, ln2_gamma, ln2_beta), W1, b1, W2, b2)

    Paramètres / Parameters
    -----------------------
    x : ndarray, forme / shape (n, d_model)
    block : dict, clés dans la doc du module / keys in the module docstring
    n_heads : int

    Renvoie / Returns
    -----------------
    ndarray, forme / shape (n, d_model). La normalisation vient avant chaque sous-couche
    (pré-LN, comme GPT-2), pas après l'addition. / Normalise before each sub-layer, not
    after the addition.

    Exemple / Example
    -----------------
    Un bloc aux poids tous nuls laisse tout x inchangé : seul le résiduel reste.
    A block whose weights are all zero leaves any x unchanged: only the residual remains.

    >>> vectors = ["ln1_gamma", "ln1_beta", "ln2_gamma", "ln2_beta", "b1", "b2"]
    >>> matrices = ["W_q", "W_k", "W_v", "W_o", "W1", "W2"]       # d_model = d_ff = 4
    >>> zero = {**{k: np.zeros(4) for k in vectors}, **{k: np.zeros((4, 4)) for k in matrices}}
    >>> x = np.arange(12.).reshape(3, 4)                          # n = 3 positions
    >>> np.allclose(transformer_block(x, zero, n_heads=2), x)
    True

    Diapo : « 4) Attention » — « Le processus peut être itéré : imagine plusieurs pas de
    temps d'un système dans un champ gravitationnel. »
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez transformer_block (exercises/transformer.py). "
        "/ Your turn: implement transformer_block (exercises/transformer.py)."
    )


def transformer_forward(token_ids, params):
    """Passe avant du décodeur : des identifiants de jetons aux logits du jeton suivant,
    à chaque position.

    Forward pass of the decoder: from token ids to the logits of the next token, at every
    position.

    Étapes / Steps :
        x = embed(token_ids, token_embedding) + positional_encoding(n, d_model)
            (pas de mise à l'échelle par √d_model / no √d_model scaling)
        x = transformer_block(x, block, n_heads)   pour chaque bloc / for every block
        x = layer_norm(x, lnf_gamma, lnf_beta)
        logits = x @ token_embedding.T             (sortie liée / tied output)

    Paramètres / Parameters
    -----------------------
    token_ids : liste ou ndarray d'entiers / list or ndarray of ints, (n,), dans / in [0, V)
    params : dict, clés dans la doc du module / keys in the module docstring

    Renvoie / Returns
    -----------------
    ndarray, forme / shape (n, V) : logits[t] note le jeton qui suit la position t.
    logits[t] scores the token that follows position t.

    Exemple / Example
    -----------------
    Un petit modèle : 5 jetons (V = 5), d_model = 4, aucun bloc (blocks peut en recevoir).
    A tiny model: a 5-token vocabulary, d_model = 4, no block (blocks may hold some) :

    >>> rng = np.random.default_rng(0)
    >>> params = {"token_embedding": rng.normal(size=(5, 4)), "blocks": [],
    ...           "lnf_gamma": np.ones(4), "lnf_beta": np.zeros(4), "n_heads": 2}
    >>> transformer_forward([0, 2, 1], params).shape
    (3, 5)

    Diapo : « Transformeurs » — 1) Tokenization, 2) Encastrement, 3) Encodage positionnel,
    4) Mécanismes d'attention, 5) Softmax vers la sortie.
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez transformer_forward (exercises/transformer.py). "
        "/ Your turn: implement transformer_forward (exercises/transformer.py)."
    )


def next_token_probabilities(token_ids, params):
    """Probabilités du jeton suivant : le softmax des logits de la dernière position.

    Next-token probabilities: the softmax of the last position's logits.

    Formule / Formula :  softmax(transformer_forward(token_ids, params)[-1])

    Paramètres / Parameters
    -----------------------
    token_ids : liste ou ndarray d'entiers / list or ndarray of ints, (n,), n ≥ 1
    params : dict, clés dans la doc du module / keys in the module docstring

    Renvoie / Returns
    -----------------
    ndarray, forme / shape (V,) ; positif, de somme 1 / positive, sums to 1.

    Exemple / Example
    -----------------
    Un petit modèle : 5 jetons (V = 5), d_model = 4, aucun bloc (blocks peut en recevoir).
    A tiny model: a 5-token vocabulary, d_model = 4, no block (blocks may hold some) :

    >>> rng = np.random.default_rng(0)
    >>> params = {"token_embedding": rng.normal(size=(5, 4)), "blocks": [],
    ...           "lnf_gamma": np.ones(4), "lnf_beta": np.zeros(4), "n_heads": 2}
    >>> p = next_token_probabilities([0, 2, 1], params)
    >>> p.shape, round(float(p.sum()), 6)
    ((5,), 1.0)

    Diapo : « 5) Softmax » — « Tu veux normaliser ces données en probabilités : softmax
    est un bon moyen de le faire. »
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez next_token_probabilities (exercises/transformer.py). "
        "/ Your turn: implement next_token_probabilities (exercises/transformer.py)."
    )


def generate(token_ids, params, n_new):
    """Génération gloutonne, « rince et répète » : ajouter le jeton le plus probable, puis
    recommencer, n_new fois.

    Greedy generation, "rinse and repeat": append the most likely token, then run again,
    n_new times.

    Algorithme / Algorithm :
        ids = list(token_ids)   une copie en liste (liste ou tableau en entrée) / a list copy (list or array given)
        n_new fois / times :  nouveau = int(np.argmax(transformer_forward(ids, params)[-1]))
                              ids.append(nouveau)
        renvoyer les n_new ids ajoutés / return the n_new ids appended
        argmax : le premier indice en cas d'égalité / the first index on ties (np.argmax)

    Paramètres / Parameters
    -----------------------
    token_ids : liste ou ndarray d'entiers / list or ndarray of ints — l'amorce / the prompt
    params : dict, clés dans la doc du module / keys in the module docstring
    n_new : int, nombre de jetons à produire / number of tokens to produce

    Renvoie / Returns
    -----------------
    list de n_new int : seulement les nouveaux, pas l'amorce ; token_ids reste inchangé.
    list of n_new ints: only the new ids, not the prompt; token_ids is left unchanged.

    Exemple / Example
    -----------------
    Un petit modèle : 5 jetons (V = 5), d_model = 4, aucun bloc (blocks peut en recevoir).
    A tiny model: a 5-token vocabulary, d_model = 4, no block (blocks may hold some) :

    >>> rng = np.random.default_rng(0)
    >>> params = {"token_embedding": rng.normal(size=(5, 4)), "blocks": [],
    ...           "lnf_gamma": np.ones(4), "lnf_beta": np.zeros(4), "n_heads": 2}
    >>> ids = [0, 2, 1]
    >>> generate(ids, params, 1) == [int(np.argmax(transformer_forward(ids, params)[-1]))]
    True
    >>> len(generate(ids, params, 3)), ids                        # l'amorce ne change pas
    (3, [0, 2, 1])

    Diapo : « Transformeurs » — « 6) Rince et répète pour chaque mot ».
    """
    raise NotImplementedError(
        "À vous de jouer : implémentez generate (exercises/transformer.py). "
        "/ Your turn: implement generate (exercises/transformer.py)."
    )
