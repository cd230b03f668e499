"""Normalization kernels: LayerNorm / RMSNorm over the last axis, BatchNorm over the first axis.

Layout: ``x`` is a C-contiguous (n, d) float32 or float64 matrix. LayerNorm and RMSNorm normalize
each row (a token's d features); BatchNorm normalizes each column (a feature over the n samples).
Statistics and parameter-gradient sums are accumulated in float64 whatever the input dtype (the
explicit ``np.float64(x[i, j])`` casts keep that true under NUMBA_DISABLE_JIT, where numpy 2 would
otherwise keep float32 scalar arithmetic in float32);
outputs have the dtype of ``x``. gamma/beta are (d,) arrays of ``x``'s dtype (callers pass ones/zeros
for a layer without affine parameters, which keeps the inner loops free of branches).

Row statistics are two-pass (mean, then centered sum of squares): a 1024-float row sits in L1, so
the second pass costs no memory traffic and avoids the cancellation of ``E[x^2] - E[x]^2`` on rows
like ``1e4 + small noise``. Row reductions use four accumulators so that, without fastmath, the
additions do not form one serial dependency chain.

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


@jit
def _chunk_bounds(n, n_chunks, c):
    """Rows [start, stop) of chunk ``c`` when ``n`` rows are cut into ``n_chunks`` near-equal chunks."""
    return c * n // n_chunks, (c + 1) * n // n_chunks


@jit
def _row_sum(x, i, shift, square):
    """Sum over j of ``x[i, j] - shift`` (squared if ``square``) in float64, four accumulators."""
    d = x.shape[1]
    s0 = s1 = s2 = s3 = 0.0
    j = 0
    while j + 4 <= d:
        t0 = np.float64(x[i, j]) - shift
        t1 = np.float64(x[i, j + 1]) - shift
        t2 = np.float64(x[i, j + 2]) - shift
        t3 = np.float64(x[i, j + 3]) - shift
        if square:
            t0, t1, t2, t3 = t0 * t0, t1 * t1, t2 * t2, t3 * t3
        s0 += t0
        s1 += t1
        s2 += t2
        s3 += t3
        j += 4
    while j < d:
        t0 = np.float64(x[i, j]) - shift
        s0 += t0 * t0 if square else t0
        j += 1
    return (s0 + s1) + (s2 + s3)


@jit
def _row_dot_terms(dy, x, gamma, i, mean, rstd):
    """For row i return (sum_j g_j, sum_j g_j * xhat_j) with g = dy * gamma, xhat = (x - mean) * rstd."""
    d = x.shape[1]
    a0 = a1 = b0 = b1 = 0.0
    j = 0
    while j + 2 <= d:
        g0 = np.float64(dy[i, j]) * gamma[j]
        g1 = np.float64(dy[i, j + 1]) * gamma[j + 1]
        a0 += g0
        a1 += g1
        b0 += g0 * ((np.float64(x[i, j]) - mean) * rstd)
        b1 += g1 * ((np.float64(x[i, j + 1]) - mean) * rstd)
        j += 2
    while j < d:
        g0 = np.float64(dy[i, j]) * gamma[j]
        a0 += g0
        b0 += g0 * ((np.float64(x[i, j]) - mean) * rstd)
        j += 1
    return a0 + a1, b0 + b1


@jit(parallel=True)
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
        mean = _row_sum(x, i, 0.0, False) / d if center else 0.0
        sum_sq = _row_sum(x, i, mean, True)
        if not math.isfinite(sum_sq):
            n_bad += 1
        rstd = 1.0 / math.sqrt(sum_sq / d + eps)
        mean_out[i] = mean
        rstd_out[i] = rstd
        for j in range(d):
            out[i, j] = (np.float64(x[i, j]) - mean) * rstd * gamma[j] + beta[j]
    return n_bad


@jit(parallel=True)
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
        partial_dgamma[c, :] = 0.0
        partial_dbeta[c, :] = 0.0
        for i in range(start, stop):
            m = mean[i]
            r = rstd[i]
            sum_g, sum_gx = _row_dot_terms(dy, x, gamma, i, m, r)
            mean_g = sum_g / d if center else 0.0
            mean_gx = sum_gx / d
            for j in range(d):
                xhat = (np.float64(x[i, j]) - m) * r
                g = np.float64(dy[i, j])
                dx[i, j] = r * (g * gamma[j] - mean_g - xhat * mean_gx)
                partial_dgamma[c, j] += g * xhat
                partial_dbeta[c, j] += g


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
