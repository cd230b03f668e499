"""Row softmax forward/backward for scaled dot-product attention (self- or cross-attention).

Attention scores of shape (B, H, Tq, Tk) are viewed as (B * H * Tq, Tk): one row per query, one
column per key. A key mask (B, Tk) of booleans (True = a real key, False = padding) is shared by
the ``rows_per_batch = H * Tq`` consecutive rows of one batch element::

    row r  ->  batch element r // rows_per_batch  ->  key_mask[r // rows_per_batch, :]

Masked keys get probability exactly 0; a row with every key masked is all zeros (no NaN).
Sums and the max are taken in float64; outputs have the dtype of the scores.
"""
import math

from numba import prange

from gbdt._jit import jit


@jit(parallel=True)
def masked_softmax_rows(scores, key_mask, rows_per_batch, out):
    """out[r] = softmax(scores[r]) over the unmasked keys of row r.

    scores : (n, Tk) float32/float64.  key_mask : (B, Tk) bool, or shape (0, Tk) for no mask.
    rows_per_batch : int, rows that share one key_mask row (n = B * rows_per_batch when masked).
    out : (n, Tk) dtype of scores, written (may be ``scores`` itself).
    """
    n, n_keys = scores.shape
    masked = key_mask.shape[0] > 0
    for r in prange(n):
        b = r // rows_per_batch
        top = -math.inf
        for j in range(n_keys):
            if (not masked or key_mask[b, j]) and scores[r, j] > top:
                top = scores[r, j]
        if top == -math.inf:  # every key masked: attend to nothing
            out[r, :] = 0.0
            continue
        total = 0.0
        for j in range(n_keys):
            e = math.exp(scores[r, j] - top) if (not masked or key_mask[b, j]) else 0.0
            out[r, j] = e
            total += e
        inv = 1.0 / total
        for j in range(n_keys):
            out[r, j] *= inv


@jit(parallel=True)
def masked_softmax_rows_backward(probs, grad_probs, out):
    """Gradient w.r.t. the scores of :func:`masked_softmax_rows`: out = P * (dP - sum_j(dP * P)) row by row.

    probs, grad_probs : (n, Tk).  out : (n, Tk), written (may alias ``grad_probs``).
    Masked keys have P = 0, so their gradient is 0 without looking at the mask.
    """
    n, n_keys = probs.shape
    for r in prange(n):
        dot = 0.0
        for j in range(n_keys):
            dot += grad_probs[r, j] * probs[r, j]
        for j in range(n_keys):
            out[r, j] = probs[r, j] * (grad_probs[r, j] - dot)
