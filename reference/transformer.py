"""A GPT-2 style decoder — slides "Transformeurs" (1–6, "rince et répète").

Weights are used as x @ W + b. Pre-LN blocks, causal self-attention, tied output.
"""
import numpy as np

from .attention import causal_mask, multi_head_attention
from .embeddings import embed
from .positional import positional_encoding
from .softmax import softmax


def layer_norm(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)  # biased variance, eps inside the square root
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def feed_forward(x, W1, b1, W2, b2):
    return gelu(x @ W1 + b1) @ W2 + b2


def transformer_block(x, block, n_heads):
    mask = causal_mask(x.shape[-2])
    h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"])
    x = x + multi_head_attention(h, block["W_q"], block["W_k"], block["W_v"], block["W_o"], n_heads, mask)[0]
    h = layer_norm(x, block["ln2_gamma"], block["ln2_beta"])
    return x + feed_forward(h, block["W1"], block["b1"], block["W2"], block["b2"])


def transformer_forward(token_ids, params):
    E = params["token_embedding"]
    x = embed(token_ids, E) + positional_encoding(len(token_ids), E.shape[1])
    for block in params["blocks"]:
        x = transformer_block(x, block, params["n_heads"])
    x = layer_norm(x, params["lnf_gamma"], params["lnf_beta"])
    return x @ E.T


def next_token_probabilities(token_ids, params):
    return softmax(transformer_forward(token_ids, params)[-1])


def generate(token_ids, params, n_new):
    ids = list(token_ids)
    for _ in range(n_new):  # rince et répète
        ids.append(int(np.argmax(transformer_forward(ids, params)[-1])))
    return ids[len(token_ids):]
