"""Cyclic coordinate descent on the penalised quadratic model of the log-loss (the inner solver of
newGLMNET, Yuan, Ho & Lin 2012), for L1 and elastic-net logistic regression.

Around the current coefficients ``coef`` (width,), with per-row loss gradient ``g`` and curvature ``h``
(w.r.t. the margin: the ``grad_out``/``hess_out`` of ``logistic_grad_hess``, or one class of the
multinomial), the step ``d`` (width,) and intercept step ``d_b`` minimise::

    sum_i g_i q_i + 0.5 h_i q_i^2  +  l1 ||coef + d||_1  +  0.5 l2 ||coef + d||^2,    q = X d + d_b

The intercept is not penalised. The kernel keeps ``q`` and ``r = g + h * q`` up to date, so one
coordinate costs one pass over its column.
"""
import numpy as np

from gbdt._jit import jit
from gbdt.kernels.logistic.packed import packed_dot, packed_square_weighted


@jit
def _column_step(cdata, cindices, cindptr, n_rows, j, step, h, q, r):
    """Apply ``q += step * x_j`` and ``r += step * h * x_j`` for column j of the column packing."""
    if cindptr is None:
        start = j * n_rows
        for i in range(n_rows):
            v = step * cdata[start + i]
            q[i] += v
            r[i] += h[i] * v
    else:
        for k in range(cindptr[j], cindptr[j + 1]):
            i = cindices[k]
            v = step * cdata[k]
            q[i] += v
            r[i] += h[i] * v


@jit
def cd_quadratic_sweeps(cdata, cindices, cindptr, n_rows, g, h, coef, l1, l2, fit_intercept,
                        max_sweeps, tol, delta_out, q_out):
    """Minimise the quadratic model above by cyclic coordinate descent.

    cdata, cindices, cindptr, n_rows : column packing of X (lines = the ``width`` columns).
    g, h : (n_rows,) float64; coef : (width,) float64; l1, l2 : penalty strengths (>= 0).
    delta_out : (width + 1,) written with (d, d_b); q_out : (n_rows,) written with X d + d_b.
    Stops when a whole sweep moves no coordinate by more than ``tol / curvature`` (``tol`` is in units of
    the coordinate's model gradient); returns the sweeps done.
    """
    width = coef.shape[0]
    curvature = np.empty(width)
    packed_square_weighted(cdata, cindices, cindptr, n_rows, h, curvature)
    h_sum = h.sum()
    delta_out[:] = 0.0
    q_out[:] = 0.0
    r = g.copy()
    sweeps = 0
    for sweep in range(max_sweeps):
        sweeps = sweep + 1
        largest = 0.0
        for j in range(width):
            a = curvature[j] + l2
            if a <= 0.0:
                continue
            b = packed_dot(cdata, cindices, cindptr, n_rows, j, r)
            t0 = coef[j] + delta_out[j]
            # minimiser of 0.5 (a - l2)(t - t0)^2 + b (t - t0) + l1 |t| + 0.5 l2 t^2 over t: soft threshold
            u = curvature[j] * t0 - b
            t = max(abs(u) - l1, 0.0) * (1.0 if u >= 0.0 else -1.0) / a
            step = t - t0
            if step != 0.0:
                delta_out[j] += step
                _column_step(cdata, cindices, cindptr, n_rows, j, step, h, q_out, r)
                largest = max(largest, a * abs(step))
        if fit_intercept and h_sum > 0.0:
            step = -r.sum() / h_sum
            delta_out[width] += step
            for i in range(n_rows):
                q_out[i] += step
                r[i] += h[i] * step
            largest = max(largest, h_sum * abs(step))
        if largest <= tol:
            break
    return sweeps
