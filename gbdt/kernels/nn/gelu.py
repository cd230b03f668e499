"""Exact GELU forward/backward (``torch.nn.GELU()``, ``approximate="none"``), element by element::

    gelu(x) = x Phi(x),   gelu'(x) = Phi(x) + x phi(x),   Phi(x) = erfc(-x / sqrt 2) / 2,  phi = Phi'

Phi is written with erfc rather than torch's (1 + erf(x / sqrt 2)) / 2: the two agree to rounding
wherever Phi is not tiny, and erfc keeps Phi's relative accuracy in the left tail, where 1 + erf
cancels to 0 (x < -8.3 in float64). numpy has no erf, hence a kernel; the tanh approximation stays
in numpy (:class:`bindings.nn.transformer.Gelu`), whose vectorised float32 tanh is faster than a
scalar libm call per element.

Arrays are flat (callers pass ``reshape(-1)`` views of contiguous arrays) of float32 or float64;
every element is computed in float64 and rounded once to the array's dtype.
"""
import math

import numpy as np
from numba import prange

from gbdt._jit import jit

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@jit(inline=True)
def _normal_cdf(v):
    """Phi(v) for a float64 v, accurate in both tails."""
    return 0.5 * math.erfc(-v * _SQRT1_2)


@jit(parallel=True)
def gelu_forward(x, out):
    """out = x Phi(x).

    x : (n,) float32/float64.  out : (n,) dtype of x, written.
    """
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = v * _normal_cdf(v)


@jit(parallel=True)
def gelu_backward(x, grad_out, grad_x):
    """grad_x = grad_out * (Phi(x) + x phi(x)), the gradient of :func:`gelu_forward` w.r.t. ``x``.

    x, grad_out : (n,) float32/float64 (the forward's input and the output gradient).
    grad_x : (n,) dtype of x, written (may alias grad_out).
    """
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        slope = _normal_cdf(v) + v * (_INV_SQRT_2PI * math.exp(-0.5 * v * v))
        grad_x[i] = np.float64(grad_out[i]) * slope
