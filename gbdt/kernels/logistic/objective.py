"""Log-loss, gradient, Gram (Hessian) and probability kernels of logistic regression.

Parameters are ``coef`` (K, width) and ``intercept`` (K,). K == 1 is the binary model: margin
``z = x . coef[0] + intercept[0]``, label ``y`` in [0, 1] (soft labels allowed: Platt scaling fits soft
targets), loss ``log(1 + e^z) - y z`` through the shared ``sigmoid``/``log1pexp``/``softmax_row`` of
``gbdt/kernels/math.py``. K > 1 is the multinomial model: margins ``z_k``, label = class index
stored as float64, loss ``logsumexp(z) - z_y``, gradient ``(softmax(z)_k - [k == y]) x``.

Rows are summed in a fixed number of contiguous blocks, each into its own buffer, then the buffers are
added in block order: a result does not depend on how threads were scheduled.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.kernels.logistic.packed import packed_axpy, packed_dot, packed_gram_rows
from gbdt.kernels.math import log1pexp, sigmoid, softmax_row

MAX_BLOCKS = 64
MIN_BLOCK_ROWS = 1024


@jit
def n_row_blocks(n_rows, max_blocks):
    """Number of row blocks: at most ``max_blocks``, at least 1024 rows each (but at least one block)."""
    return max(1, min(max_blocks, (n_rows + MIN_BLOCK_ROWS - 1) // MIN_BLOCK_ROWS))


@jit(parallel=True)
def loss_grad_hess(data, indices, indptr, width, y, sw, coef, intercept, grad_out, hess_out):
    """Weighted log-loss summed over rows and, on request, its gradient and (binary) Hessian.

    data, indices, indptr, width : packed (n, width) matrix (see ``gbdt.kernels.logistic.packed``).
    y : (n,) float64 label (binary) or class index (multinomial); sw : (n,) float64 sample weights.
    coef : (K, width); intercept : (K,).
    grad_out : (K, width + 1) float64, written with the gradient (column ``width``: intercept),
        or shape (0, 0) to skip it.
    hess_out : (width + 1, width + 1) float64, written with ``[X 1]^T diag(sw p (1 - p)) [X 1]``
        (binary only), or shape (0, 0) to skip it.
    Returns the loss sum (float64). No penalty here: the solver adds it. One pass over X serves all
    three; the Hessian costs ``width^2 / 2`` per row and one (width + 1)^2 buffer per block.
    """
    n = y.shape[0]
    n_classes = coef.shape[0]
    want_grad = grad_out.shape[0] > 0
    want_hess = hess_out.shape[0] > 0
    n_blocks = n_row_blocks(n, MAX_BLOCKS)
    grad_blocks = np.zeros((n_blocks if want_grad else 0, n_classes, width + 1))
    hess_blocks = np.zeros((n_blocks if want_hess else 0, width + 1, width + 1))
    hess_rows = np.empty(n if want_hess else 0)
    loss_blocks = np.zeros(n_blocks)
    for b in prange(n_blocks):
        z = np.empty(n_classes)
        proba = np.empty(n_classes)
        lo = b * n // n_blocks
        hi = (b + 1) * n // n_blocks
        loss = 0.0
        for i in range(lo, hi):
            w = sw[i]
            if n_classes == 1:
                m = packed_dot(data, indices, indptr, width, i, coef[0]) + intercept[0]
                loss += w * (log1pexp(m) - y[i] * m)
                p = sigmoid(m)
                if want_grad:
                    g = w * (p - y[i])
                    packed_axpy(data, indices, indptr, width, i, g, grad_blocks[b, 0])
                    grad_blocks[b, 0, width] += g
                if want_hess:
                    hess_rows[i] = w * max(p * (1.0 - p), 1e-16)  # the floor of logistic_grad_hess
            else:
                for k in range(n_classes):
                    z[k] = packed_dot(data, indices, indptr, width, i, coef[k]) + intercept[k]
                label = int(y[i])
                loss += w * (softmax_row(z, proba) - z[label])
                if want_grad:
                    for k in range(n_classes):
                        g = w * (proba[k] - (1.0 if k == label else 0.0))
                        packed_axpy(data, indices, indptr, width, i, g, grad_blocks[b, k])
                        grad_blocks[b, k, width] += g
        if want_hess:
            packed_gram_rows(data, indices, indptr, width, hess_rows, lo, hi, hess_blocks[b])
        loss_blocks[b] = loss
    if want_grad:
        grad_out[:] = 0.0
        for b in range(n_blocks):
            grad_out += grad_blocks[b]
    if want_hess:
        hess_out[:] = 0.0
        for b in range(n_blocks):
            hess_out += hess_blocks[b]
        for j in range(width + 1):
            for k in range(j):
                hess_out[j, k] = hess_out[k, j]
    return loss_blocks.sum()


@jit
def multinomial_loss_sum(margins, y, sw):
    """Weighted multinomial log-loss sum from margins (n, K); y (n,) class index as float64, sw (n,)."""
    proba = np.empty(margins.shape[1])
    total = 0.0
    for i in range(margins.shape[0]):
        total += sw[i] * (softmax_row(margins[i], proba) - margins[i, int(y[i])])
    return total


@jit
def class_grad_hess(proba, y, sw, k, grad_out, hess_out):
    """Per-row multinomial gradient and diagonal curvature of class k w.r.t. its margin.

    proba : (n, K) softmax probabilities; y : (n,) class index as float64; sw : (n,) weights.
    grad_out, hess_out : (n,) float64, written with ``sw (p_k - [y == k])`` and ``sw p_k (1 - p_k)``.
    """
    for i in range(proba.shape[0]):
        p = proba[i, k]
        grad_out[i] = sw[i] * (p - (1.0 if int(y[i]) == k else 0.0))
        # the same floor as logistic_grad_hess: a zero curvature would stall coordinate descent
        hess_out[i] = sw[i] * max(p * (1.0 - p), 1e-16)
