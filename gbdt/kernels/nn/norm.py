"""Normalization kernels: LayerNorm / RMSNorm over the last axis, BatchNorm over the first axis.

Layout: ``x`` is a C-contiguous (n, d) float32 or float64 matrix. LayerNorm and RMSNorm normalize
each row (a token's d features); BatchNorm normalizes each column (a feature over the n samples).
Statistics and parameter-gradient sums are accumulated in float64 whatever the input dtype (the
explicit ``np.float64(...)`` casts keep that true under NUMBA_DISABLE_JIT, where numpy 2 would
otherwise keep float32 scalar arithmetic in float32); outputs have the dtype of ``x``. gamma/beta
are (d,) arrays of ``x``'s dtype (callers pass ones/zeros for a layer without affine parameters,
which keeps the inner loops free of branches).

The row kernels are memory-bound, so each reads a row of ``x`` (and ``dy``) from memory once and
every further pass over it hits the cache (a 1024-float row is 4 KB):

- forward: one pass for the statistics (shifted sums, below), one to write y;
- backward: one pass for the two row sums, one to write dx, and, per block of rows still in L2
  (16 rows of 1024 values), one for the parameter-gradient partials.

Row statistics are one pass over ``x - x[i, 0]``: var = E[t^2] - E[t]^2 with t = x - shift. With
the shift a value of the row, E[t]^2 <= d * var, so the subtraction cancels at most log10(d) of
float64's 16 digits (3 at d = 1024), whereas an unshifted E[x^2] - E[x]^2 loses everything on rows
like ``1e4 + small noise``. Per-element arithmetic is in ``x``'s dtype (float32 vectors are twice as
wide), with the row mean split into ``mean_hi`` (in x's dtype) + ``mean_lo`` so that
``(x - mean_hi) - mean_lo`` keeps the digits a rounded float32 mean would lose on such rows.
The reductions are compiled with ``fastmath={"reassoc", "contract"}`` so LLVM may vectorize the
float64 sums (harmless reassociation; NaN/inf semantics are untouched, so the finiteness check
stays). Measured in ``benchmarks/norm.py``.

Column reductions (parameter gradients, BatchNorm statistics) sum per-chunk partials in a fixed
number of row chunks, so the summation order, and hence the result, does not depend on the
number of threads::

    rows 0..n  ->  chunk 0 | chunk 1 | ... | chunk C-1     (C = min(n, N_ROW_CHUNKS))
                   partial[c, :] = sum over the rows of chunk c
    out[:] = sum over c of partial[c, :]
"""
import math

import numpy as np
from numba import prange

from gbdt._jit import jit

N_ROW_CHUNKS = 64
# values per block of rows whose parameter-gradient partials are added after their dx: a separate loop
# vectorizes better than four sums in one (8.9 -> 7.1 ms single-threaded at (8192, 1024) float32), and a
# block of x and dy (16 rows of 1024 floats, 128 KB) stays in L2
_BLOCK_VALUES = 16 * 1024

# reassociation lets LLVM vectorize float64 sums; no nnan/ninf, which would drop the finiteness checks
_SUMS = {"reassoc", "contract"}


@jit
def _chunk_bounds(n, n_chunks, c):
    """Rows [start, stop) of chunk ``c`` when ``n`` rows are cut into ``n_chunks`` near-equal chunks."""
    return c * n // n_chunks, (c + 1) * n // n_chunks


@jit(inline=True)
def _split_mean(x, mean):
    """``mean`` (float64) as ``hi + lo``, both in x's dtype: (x - hi) - lo keeps float64's digits of x - mean."""
    hi = x.dtype.type(mean)
    return hi, x.dtype.type(mean - np.float64(hi))


@jit(parallel=True, fastmath=_SUMS)
def row_norm_forward(x, gamma, beta, eps, center, out, mean_out, rstd_out):
    """LayerNorm (``center=True``) or RMSNorm (``center=False``) of every row of ``x``.

    y = (x - mean) * rstd * gamma + beta, rstd = 1 / sqrt(var + eps); RMSNorm uses mean = 0, so
    var is the mean square.

    x : (n, d) float32/float64.  gamma, beta : (d,) dtype of x.  eps : float > 0.
    out : (n, d) dtype of x, written.  mean_out, rstd_out : (n,) float64, written (kept for backward).

    Returns the number of rows whose statistics are not finite (NaN/inf in the row), 0 normally.
    """
    n, d = x.shape
    n_bad = 0
    for i in prange(n):
        shift = np.float64(x[i, 0]) if center else 0.0
        s = 0.0
        sq = 0.0
        for j in range(d):
            t = np.float64(x[i, j]) - shift
            s += t
            sq += t * t
        if not math.isfinite(sq):
            n_bad += 1
        shifted_mean = s / d if center else 0.0
        var = max(sq / d - shifted_mean * shifted_mean, 0.0)
        mean = shift + shifted_mean
        rstd = 1.0 / math.sqrt(var + eps)
        mean_out[i] = mean
        rstd_out[i] = rstd
        hi, lo = _split_mean(x, mean)
        r = x.dtype.type(rstd)
        for j in range(d):
            out[i, j] = ((x[i, j] - hi) - lo) * r * gamma[j] + beta[j]
    return n_bad


@jit(parallel=True, fastmath=_SUMS)
def row_norm_backward(dy, x, gamma, mean, rstd, center, dx, partial_dgamma, partial_dbeta):
    """Gradients of :func:`row_norm_forward` for one upstream gradient ``dy``.

    With g = dy * gamma and xhat = (x - mean) * rstd, per row:
    dx = rstd * (g - mean_j(g) - xhat * mean_j(g * xhat)) for LayerNorm,
    dx = rstd * (g - xhat * mean_j(g * xhat)) for RMSNorm.

    dy, x : (n, d) dtype of x.  gamma : (d,).  mean, rstd : (n,) float64 from the forward.
    dx : (n, d) dtype of x, written.
    partial_dgamma, partial_dbeta : (C, d) float64 with C = min(n, N_ROW_CHUNKS), written with the
    per-chunk sums of dy * xhat and dy; :func:`sum_chunks` reduces them to dgamma, dbeta.
    """
    n, d = x.shape
    n_chunks = partial_dgamma.shape[0]
    for c in prange(n_chunks):
        start, stop = _chunk_bounds(n, n_chunks, c)
        pg = partial_dgamma[c]
        pb = partial_dbeta[c]
        pg[:] = 0.0
        pb[:] = 0.0
        block_rows = max(1, _BLOCK_VALUES // d)
        for block in range(start, stop, block_rows):
            block_stop = min(block + block_rows, stop)
            for i in range(block, block_stop):
                hi, lo = _split_mean(x, mean[i])
                r = x.dtype.type(rstd[i])
                sum_g = 0.0
                sum_gx = 0.0
                for j in range(d):  # the one pass that reads x and dy from memory
                    scaled = dy[i, j] * gamma[j]
                    sum_g += np.float64(scaled)
                    sum_gx += np.float64(scaled * (((x[i, j] - hi) - lo) * r))
                mean_g = x.dtype.type(sum_g / d if center else 0.0)
                mean_gx = x.dtype.type(sum_gx / d)
                for j in range(d):
                    xhat = ((x[i, j] - hi) - lo) * r
                    dx[i, j] = r * (dy[i, j] * gamma[j] - mean_g - xhat * mean_gx)
            for i in range(block, block_stop):  # the block's rows are still in L2
                hi, lo = _split_mean(x, mean[i])
                r = x.dtype.type(rstd[i])
                for j in range(d):
                    g = dy[i, j]
                    pg[j] += np.float64(g * (((x[i, j] - hi) - lo) * r))
                    pb[j] += np.float64(g)


@jit(parallel=True)
def sum_chunks(partial, out):
    """out[j] = sum over chunks c of partial[c, j]; partial (C, d) float64, out (d,) any float dtype."""
    n_chunks, d = partial.shape
    for j in prange(d):
        s = 0.0
        for c in range(n_chunks):
            s += partial[c, j]
        out[j] = s


@jit(parallel=True)
def _column_partial_sums(x, shift, square, partial):
    """partial[c, j] = sum over rows i of chunk c of (x[i, j] - shift[j]), squared if ``square``."""
    n, d = x.shape
    n_chunks = partial.shape[0]
    for c in prange(n_chunks):
        start, stop = _chunk_bounds(n, n_chunks, c)
        partial[c, :] = 0.0
        for i in range(start, stop):
            for j in range(d):
                t = np.float64(x[i, j]) - shift[j]
                partial[c, j] += t * t if square else t


def column_mean_var(x, mean_out, var_out):
    """Per-column mean and biased variance of ``x`` (n, d) over its n rows, two passes.

    mean_out, var_out : (d,) float64, written.
    """
    n, d = x.shape
    partial = np.empty((min(n, N_ROW_CHUNKS), d))
    _column_partial_sums(x, np.zeros(d), False, partial)
    sum_chunks(partial, mean_out)
    mean_out /= n
    _column_partial_sums(x, mean_out, True, partial)
    sum_chunks(partial, var_out)
    var_out /= n


@jit(parallel=True)
def column_norm_apply(x, mean, rstd, gamma, beta, out):
    """BatchNorm output y[i, j] = (x[i, j] - mean[j]) * rstd[j] * gamma[j] + beta[j].

    x : (n, d).  mean, rstd : (d,) float64 (batch or running statistics).  gamma, beta : (d,).
    out : (n, d) dtype of x, written.
    """
    n, d = x.shape
    for i in prange(n):
        for j in range(d):
            out[i, j] = (np.float64(x[i, j]) - mean[j]) * rstd[j] * gamma[j] + beta[j]


@jit(parallel=True)
def _column_grad_partials(dy, x, mean, rstd, partial_dgamma, partial_dbeta):
    """Per-chunk column sums of dy * xhat and dy, xhat = (x - mean[j]) * rstd[j]."""
    n, d = x.shape
    n_chunks = partial_dgamma.shape[0]
    for c in prange(n_chunks):
        start, stop = _chunk_bounds(n, n_chunks, c)
        partial_dgamma[c, :] = 0.0
        partial_dbeta[c, :] = 0.0
        for i in range(start, stop):
            for j in range(d):
                g = np.float64(dy[i, j])
                partial_dgamma[c, j] += g * ((np.float64(x[i, j]) - mean[j]) * rstd[j])
                partial_dbeta[c, j] += g


@jit(parallel=True)
def _column_norm_input_grad(dy, x, mean, rstd, gamma, dgamma, dbeta, batch_stats, dx):
    """dx of BatchNorm; with batch statistics the mean and variance depend on x too:
    dx = gamma * rstd * (dy - dbeta / n - xhat * dgamma / n); with running statistics dx = gamma * rstd * dy.
    """
    n, d = x.shape
    for i in prange(n):
        for j in range(d):
            g = np.float64(dy[i, j])
            if batch_stats:
                g -= (dbeta[j] + (np.float64(x[i, j]) - mean[j]) * rstd[j] * dgamma[j]) / n
            dx[i, j] = gamma[j] * rstd[j] * g


def column_norm_backward(dy, x, mean, rstd, gamma, batch_stats, dx, dgamma_out, dbeta_out):
    """Gradients of :func:`column_norm_apply` (BatchNorm over the rows of ``x``).

    dy, x : (n, d).  mean, rstd : (d,) float64 used in the forward.  gamma : (d,).
    batch_stats : True when mean/rstd were the statistics of this batch (training mode).
    dx : (n, d) dtype of x, written.  dgamma_out, dbeta_out : (d,) float64, written.
    """
    n, d = x.shape
    partial_dgamma = np.empty((min(n, N_ROW_CHUNKS), d))
    partial_dbeta = np.empty_like(partial_dgamma)
    _column_grad_partials(dy, x, mean, rstd, partial_dgamma, partial_dbeta)
    sum_chunks(partial_dgamma, dgamma_out)
    sum_chunks(partial_dbeta, dbeta_out)
    _column_norm_input_grad(dy, x, mean, rstd, gamma, dgamma_out, dbeta_out, batch_stats, dx)
