"""GELU forward/backward, exact or with the tanh approximation, element by element.

Exact (``torch.nn.GELU()``, ``approximate="none"``)::

    gelu(x) = x Phi(x),   gelu'(x) = Phi(x) + x phi(x),   Phi(x) = erfc(-x / sqrt 2) / 2,  phi = Phi'

Phi is written with erfc rather than torch's (1 + erf(x / sqrt 2)) / 2: the two agree to rounding
wherever Phi is not tiny, and erfc keeps Phi's relative accuracy in the left tail, where
1 + erf cancels to 0 (x < -8.3 in float64).

tanh approximation (``approximate="tanh"``)::

    gelu(x) = x (1 + t) / 2,   t = tanh(c (x + 0.044715 x^3)),  c = sqrt(2 / pi)

Arrays are flat (callers pass ``reshape(-1)`` views of contiguous arrays) of float32 or float64;
every element is computed in float64 and rounded once to the array's dtype, so float32 results
are the correctly rounded values of the formula up to the last bit of erfc/tanh.
"""
import math

import numpy as np
from numba import prange

from gbdt._jit import jit

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_C = math.sqrt(2.0 / math.pi)
_TANH_A = 0.044715


@jit(inline=True)
def _normal_cdf(v):
    """Phi(v) for a float64 v, accurate in both tails."""
    return 0.5 * math.erfc(-v * _SQRT1_2)


@jit(inline=True)
def _tanh_inner(v):
    """t = tanh(c (v + a v^3)) of the tanh approximation, float64."""
    return math.tanh(_TANH_C * (v + _TANH_A * (v * v * v)))


@jit(parallel=True)
def gelu_forward(x, approximate_tanh, out):
    """out = gelu(x), exact or with the tanh approximation.

    x : (n,) float32/float64.  approximate_tanh : bool.  out : (n,) dtype of x, written.
    """
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        if approximate_tanh:
            out[i] = 0.5 * v * (1.0 + _tanh_inner(v))
        else:
            out[i] = v * _normal_cdf(v)


@jit(parallel=True)
def gelu_backward(x, grad_out, approximate_tanh, grad_x):
    """grad_x = grad_out * gelu'(x), the gradient of :func:`gelu_forward` w.r.t. ``x``.

    x, grad_out : (n,) float32/float64 (the forward's input and the output gradient).
    approximate_tanh : bool, as in the forward.  grad_x : (n,) dtype of x, written (may alias grad_out).
    """
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        if approximate_tanh:
            t = _tanh_inner(v)
            slope = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * _TANH_C * (1.0 + 3.0 * _TANH_A * (v * v))
        else:
            slope = _normal_cdf(v) + v * (_INV_SQRT_2PI * math.exp(-0.5 * v * v))
        grad_x[i] = np.float64(grad_out[i]) * slope
