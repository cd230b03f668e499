"""The math the topics share: sigmoid, log(1 + e^z), softmax, and the log-loss gradient/hessian of the
GBDT ``binary:logistic`` objective and of logistic regression (and BPR's loss).

For a margin ``z`` and label ``y`` in {0, 1}: ``p = sigmoid(z)``, loss ``-y log p - (1-y) log(1-p)``,
d loss / dz = ``p - y``, d2 loss / dz2 = ``p (1 - p)``.
"""
import math

import numpy as np
from numba import prange

from gbdt._jit import jit


@jit(inline=True)
def sigmoid(z):
    """Numerically stable logistic function of one float64 margin: 1 / (1 + e^-z) for z >= 0,
    e^z / (1 + e^z) below, written with a select instead of a branch (the sign of a margin is a
    coin flip the branch predictor loses on every other row). Inlined: compiled on its own it cost
    ~0.05 s of a cold first fit; its divisor is at least 1, so a caller's error model changes nothing."""
    e = math.exp(-abs(z))
    return (1.0 if z >= 0.0 else e) / (1.0 + e)


@jit
def log1pexp(z):
    """log(1 + exp(z)) without overflow, for the log-loss of one margin."""
    if z > 0.0:
        return z + math.log1p(math.exp(-z))
    return math.log1p(math.exp(z))


@jit
def softmax_row(z, proba_out):
    """Fill ``proba_out`` (K,) with softmax(z) and return logsumexp(z); z (K,) float64."""
    top = z[0]
    for k in range(1, z.shape[0]):
        top = max(top, z[k])
    total = 0.0
    for k in range(z.shape[0]):
        total += math.exp(z[k] - top)
    lse = top + math.log(total)
    for k in range(z.shape[0]):
        proba_out[k] = math.exp(z[k] - lse)
    return lse


@jit
def sigmoid_array(z, out):
    """``out = sigmoid(z)`` element-wise; z, out (n,) float64. Serial: O(n) work is not worth a parallel
    compile (seconds) next to the O(n p) passes over a design matrix."""
    for i in range(z.shape[0]):
        out[i] = sigmoid(z[i])


@jit
def softmax_rows(margins, out):
    """Row-wise softmax of margins (n, K) into out (n, K); serial like sigmoid_array."""
    for i in range(margins.shape[0]):
        softmax_row(margins[i], out[i])


@jit(parallel=True)
def logistic_grad_hess(margin, label, weight, grad_out, hess_out):
    """Fill ``grad_out``/``hess_out`` (n,) with the weighted log-loss derivatives w.r.t. ``margin``.

    margin, label, weight : (n,) float64; weight may be length 0 meaning all ones.
    grad_out, hess_out : (n,) float32 or float64, written in place.
    """
    n = margin.shape[0]
    has_weight = weight.shape[0] > 0
    for i in prange(n):
        p = sigmoid(margin[i])
        g = p - label[i]
        h = np.maximum(p * (1.0 - p), 1e-16)
        if has_weight:
            g *= weight[i]
            h *= weight[i]
        grad_out[i] = g
        hess_out[i] = h


@jit(parallel=True)
def logistic_loss_sum(margin, label, weight):
    """Weighted sum of log-losses over rows; margin, label, weight (n,) float64 (weight may be empty)."""
    n = margin.shape[0]
    has_weight = weight.shape[0] > 0
    total = 0.0
    for i in prange(n):
        z = margin[i]
        loss = log1pexp(z) - label[i] * z
        if has_weight:
            loss *= weight[i]
        total += loss
    return total
