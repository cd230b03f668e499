"""Row-wise L2 normalization forward/backward, for projecting embeddings onto the unit sphere.

y[i] = x[i] / max(||x[i]||, eps), as ``torch.nn.functional.normalize(x, dim=1, eps=eps)``. Norms and
the backward's dot products are accumulated in float64; outputs have the dtype of ``x``. Serial loops:
a batch of embeddings is a few thousand rows of ~64 values, less work than waking a thread pool (and
a parallel kernel takes twice as long to compile).
"""
import math

import numpy as np

from gbdt._jit import jit


@jit
def l2_normalize_rows(x, eps, out, norm_out):
    """out[i] = x[i] / max(||x[i]||, eps).

    x : (n, d) float32/float64.  eps : float > 0.
    out : (n, d) dtype of x, written.  norm_out : (n,) float64, written with max(||x[i]||, eps).
    """
    n, d = x.shape
    for i in range(n):
        s = 0.0
        for j in range(d):
            v = np.float64(x[i, j])
            s += v * v
        norm = max(math.sqrt(s), eps)
        norm_out[i] = norm
        inv = 1.0 / norm
        for j in range(d):
            out[i, j] = np.float64(x[i, j]) * inv


@jit
def l2_normalize_rows_backward(y, norm, grad_y, eps, grad_x):
    """Gradient of :func:`l2_normalize_rows` w.r.t. ``x``.

    Where ||x|| > eps: dx = (dy - y * (y . dy)) / ||x||; where the norm was clamped to eps the map is
    linear, dx = dy / eps.
    y, grad_y : (n, d).  norm : (n,) float64 from the forward.  eps : the forward's eps.
    grad_x : (n, d) dtype of y, written.
    """
    n, d = y.shape
    for i in range(n):
        inv = 1.0 / norm[i]
        dot = 0.0
        if norm[i] > eps:
            for j in range(d):
                dot += np.float64(y[i, j]) * np.float64(grad_y[i, j])
        for j in range(d):
            grad_x[i, j] = (np.float64(grad_y[i, j]) - np.float64(y[i, j]) * dot) * inv
