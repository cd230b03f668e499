"""Softmax cross-entropy over the rows of a logit matrix: loss per row and gradient in one pass.

One kernel serves the classification head (rows = samples, columns = classes) and both directions
of the CLIP-style contrastive loss (rows of the text-image similarity matrix, then rows of its
transpose, with target ``r`` for row ``r``). Log-sum-exp is taken around the row maximum in float64,
so the loss stays finite for logits far beyond ``exp``'s range; outputs have float64 losses and a
gradient of the logits' dtype.
"""
import math

import numpy as np
from numba import prange

from gbdt._jit import jit


@jit(parallel=True)
def softmax_cross_entropy(logits, targets, grad_scale, loss_out, grad_out):
    """Per-row loss ``-log softmax(logits[r])[targets[r]]`` and its scaled gradient.

    logits : (n, k) float32/float64.  targets : (n,) int, each in [0, k).
    grad_scale : float, multiplies the gradient (``1 / n`` for a mean over rows).
    loss_out : (n,) float64, written.
    grad_out : (n, k) dtype of logits, written with ``grad_scale * (softmax(logits[r]) - onehot(targets[r]))``.
    """
    n, k = logits.shape
    for r in prange(n):
        top = -math.inf
        for j in range(k):
            if logits[r, j] > top:
                top = np.float64(logits[r, j])
        total = 0.0
        for j in range(k):  # one exp per entry: keep it in grad_out until the total is known
            e = math.exp(np.float64(logits[r, j]) - top)
            grad_out[r, j] = e
            total += e
        t = targets[r]
        loss_out[r] = top + math.log(total) - np.float64(logits[r, t])
        scale = grad_scale / total
        for j in range(k):
            grad_out[r, j] = scale * np.float64(grad_out[r, j])
        grad_out[r, t] -= grad_scale
