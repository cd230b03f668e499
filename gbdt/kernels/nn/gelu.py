"""Exact GELU forward/backward (``torch.nn.GELU()``, ``approximate="none"``), element by element::

    gelu(x) = x Phi(x),   gelu'(x) = Phi(x) + x phi(x),   Phi(x) = erfc(-x / sqrt 2) / 2,  phi = Phi'

Phi is written with erfc rather than torch's (1 + erf(x / sqrt 2)) / 2: the two agree to rounding
wherever Phi is not tiny, and erfc keeps Phi's relative accuracy in the left tail, where 1 + erf
cancels to 0 (x < -8.3 in float64, x < -5.6 in torch's float32). numpy has no erf, hence a kernel;
the tanh approximation stays in numpy (:class:`bindings.nn.transformer.Gelu`), whose vectorised
float32 tanh is faster than a scalar libm call per element.

Arrays are flat (callers pass ``reshape(-1)`` views of contiguous arrays); every element is computed
in float64 and rounded once to the array's dtype, by one of two kernel pairs:

- float64: ``math.erfc`` and ``math.exp`` (libm, correctly rounded to ~1 ulp), one scalar call per
  element; exactness matters more than speed there.
- float32: erfc and exp from polynomials alone (:func:`_upper_tail`), so LLVM vectorises the loop
  (this Numba has no SVML: with a libm call per element the loop stays scalar, 7-25x slower than
  torch's float32 GELU). Their relative error, < 1e-9, is under 1/60 of a float32 ulp: the results
  are float64's rounded once to float32, bar values within that margin of a rounding tie.
"""
import math

import numpy as np
from numba import prange

from gbdt._jit import jit

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# u^2 / 2 above which 1 - Phi(u) and phi(u) are set to 0: from u = 16 on, u (1 - Phi(u)) < 1.1e-56 and
# u phi(u) < 1.7e-55 (both decreasing), far below float32's smallest subnormal (1.4e-45), so the cut changes
# no float32 result; it bounds _exp_neg's argument, and gives gelu(-inf) = -inf * 0 = NaN as torch does
_EXP_CUT = 128.0
# fused multiply-adds in the float32 kernels' polynomials: fewer instructions, no less accurate; nothing is
# reassociated
_FMA = {"contract"}
# Taylor coefficients of exp(-r), (-1)^k / k!, as constants: dividing by k in the loop would cost a
# division per term (LLVM may not turn x / 3 into x * (1 / 3): not exact)
_TAYLOR = tuple((-1.0) ** k / math.factorial(k) for k in range(11))


@jit(inline=True)
def _normal_cdf(v):
    """Phi(v) for a float64 v, accurate in both tails (libm erfc)."""
    return 0.5 * math.erfc(-v * _SQRT1_2)


@jit(inline=True)
def _exp_neg(a):
    """exp(-a) for float64 0 <= a <= _EXP_CUT, branch-free, without libm.

    exp(-a / 512) by its degree-10 Taylor polynomial (truncation error 0.25^11 / 11! = 6e-15), then squared
    9 times: each squaring doubles the relative error, so ~512 (6e-15 + 1.1e-16) = 3e-12. (A 2^n scaling
    would need a float/int bitcast, which Numba has not for scalars.) a / 512 is exact.
    """
    r = a * (1.0 / 512.0)
    p = _TAYLOR[10]
    for k in range(9, -1, -1):  # Horner; constant trip counts, unrolled by LLVM
        p = _TAYLOR[k] + r * p
    for _ in range(9):
        p *= p
    return p


@jit(inline=True, ieee=True)
def _upper_tail(u):
    """(1 - Phi(u), exp(-u^2 / 2)) for a float64 u = |x| >= 0 (NaN propagates), branch-free; both 0
    beyond u^2 / 2 = _EXP_CUT.

    erfc(z) = t exp(-z^2) R(s), t = 1 / (1 + z / 2), s = 2t - 1: the substitution of Numerical Recipes'
    ``erfcc`` (Press et al., Numerical Recipes in C, 2nd ed., section 6.2, erfc = t exp(-z^2 + P(t)), a
    Chebyshev fit with relative error < 1.2e-7), with R = erfc(z) exp(z^2) / t (smooth, in [0.28, 1]) fitted
    directly so one exp serves Phi and phi: numpy ``chebfit`` of R (mpmath, 30 digits) at 4000 Chebyshev
    nodes of t in (0, 1), degree 13, converted to powers of s by ``cheb2poly``. Relative error in erfc:
    < 6.3e-10 for every z >= 0 (dense grid of z in [0, 26] against scipy's erfc).
    """
    h = 0.5 * u * u  # exact for a float32 u (48-bit square)
    t = 1.0 / (1.0 + (0.5 * _SQRT1_2) * u)  # denominator >= 1: no division by zero (ieee=True: no check)
    s = 2.0 * t - 1.0
    r = (0.510791352761224 + s * (0.34358034122127273 + s * (0.1397360326618789 + s * (
        0.018221153212823745 + s * (-0.01075511615268517 + s * (-0.0032400066319229104 + s * (
            0.0015440476828192267 + s * (0.00042068324754191897 + s * (-0.000328100147499945 + s * (
                -2.2390033888092596e-05 + s * (6.768780649608796e-05 + s * (-9.776599847702984e-06 + s * (
                    -8.508869776318204e-06 + s * 2.5997551864477716e-06)))))))))))))
    # computed for every u, then selected (a branch around it would keep LLVM from vectorising the loop);
    # beyond the cut it may be garbage, or NaN for u = inf, and is dropped
    e = _exp_neg(h)
    e = 0.0 if h > _EXP_CUT else e
    return 0.5 * t * r * e, e


@jit(parallel=True)
def _forward_exact(x, out):
    """out = x Phi(x) with libm's erfc; x, out : (n,) float64 (any float dtype works)."""
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        out[i] = v * _normal_cdf(v)


@jit(parallel=True)
def _backward_exact(x, grad_out, grad_x):
    """grad_x = grad_out * gelu'(x) with libm's erfc and exp; arrays (n,) float64 (any float dtype works)."""
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        slope = _normal_cdf(v) + v * (_INV_SQRT_2PI * math.exp(-0.5 * v * v))
        grad_x[i] = np.float64(grad_out[i]) * slope


@jit(parallel=True, ieee=True, fastmath=_FMA)
def _forward_float32(x, out):
    """out = x Phi(x) with :func:`_upper_tail`; x, out : (n,) float32."""
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        q, _ = _upper_tail(abs(v))
        out[i] = v * (q if v < 0.0 else 1.0 - q)


@jit(parallel=True, ieee=True, fastmath=_FMA)
def _backward_float32(x, grad_out, grad_x):
    """grad_x = grad_out * gelu'(x) with :func:`_upper_tail`; arrays (n,) float32."""
    for i in prange(x.shape[0]):
        v = np.float64(x[i])
        q, e = _upper_tail(abs(v))
        slope = (q if v < 0.0 else 1.0 - q) + v * (_INV_SQRT_2PI * e)
        grad_x[i] = np.float64(grad_out[i]) * slope


def gelu_forward(x, out):
    """out = x Phi(x).

    x : (n,) float32/float64.  out : (n,) dtype of x, written.
    """
    (_forward_float32 if x.dtype == np.float32 else _forward_exact)(x, out)


def gelu_backward(x, grad_out, grad_x):
    """grad_x = grad_out * (Phi(x) + x phi(x)), the gradient of :func:`gelu_forward` w.r.t. ``x``.

    x, grad_out : (n,) float32/float64 (the forward's input and the output gradient), one dtype.
    grad_x : (n,) dtype of x, written (may alias grad_out).
    """
    (_backward_float32 if x.dtype == np.float32 else _backward_exact)(x, grad_out, grad_x)
