"""Alternating least squares half-steps, parallel over the rows being solved.

- ``ridge_half_step``: explicit biased MF (and the ALS baseline predictor, with 0 factors).
  For each row u with ratings r_uj: x_u = [p_u, b_u] minimises
      sum_j (r_uj - mu - c_j - [q_j, 1] . x_u)^2 + (reg_const + reg_per_rating * n_u) |x_u|^2
  where c_j is the other side's bias; solved exactly by Cholesky on a (f+1, f+1) system.
- ``implicit_cg_half_step``: weighted ALS of Hu, Koren & Volinsky. For each row u
      min_x sum_{all j} c_uj (p_uj - x . y_j)^2 + reg |x|^2,
  p_uj = 1 and c_uj = the stored confidence where stored, p_uj = 0 and c_uj = 1 elsewhere. The
  normal equations (Y^T Y + reg I + sum_stored (c_uj - 1) y_j y_j^T) x = sum_stored c_uj y_j are
  solved by ``cg_steps`` conjugate-gradient steps warm-started from the current x, as ``implicit``
  does, so one step costs O(nnz_u f + f^2) instead of a dense solve.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit

# rows are processed in N_CHUNKS contiguous blocks, each with its own scratch buffers: enough
# blocks to balance uneven rows over 16+ threads, few enough that the buffers cost nothing
N_CHUNKS = 256


@jit
def _cholesky_solve_inplace(a, b):
    """Solve a x = b for symmetric positive definite ``a`` (d, d) in place: a -> L, b -> x."""
    d = a.shape[0]
    for j in range(d):
        s = a[j, j]
        for k in range(j):
            s -= a[j, k] * a[j, k]
        ljj = np.sqrt(s)
        a[j, j] = ljj
        for i in range(j + 1, d):
            s = a[i, j]
            for k in range(j):
                s -= a[i, k] * a[j, k]
            a[i, j] = s / ljj
    for i in range(d):  # forward: L z = b
        s = b[i]
        for k in range(i):
            s -= a[i, k] * b[k]
        b[i] = s / a[i, i]
    for i in range(d - 1, -1, -1):  # backward: L^T x = z
        s = b[i]
        for k in range(i + 1, d):
            s -= a[k, i] * b[k]
        b[i] = s / a[i, i]


@jit(fastmath={"reassoc"})
def _row_dot(mat, row, vec):
    """mat[row] . vec. Reassociation (only here) lets LLVM vectorise the sum; it halves the time
    of a conjugate-gradient step (measured against ``implicit``), and CG does not rely on the
    order of these additions."""
    s = 0.0
    for f in range(vec.shape[0]):
        s += mat[row, f] * vec[f]
    return s


@jit(parallel=True)
def ridge_half_step(indptr, indices, data, global_mean, other_bias, other_factors,
                    reg_const, reg_per_rating, own_bias, own_factors):
    """Solve every row's biased ridge problem (module docstring); fill own_bias/own_factors.

    indptr, indices, data : CSR (n_rows, n_other) of ratings for the side being solved.
    other_bias (n_other,), other_factors (n_other, f) : fixed side, float64.
    own_bias (n_rows,), own_factors (n_rows, f) : float64 outputs; rows with no rating get 0.
    """
    n_rows = own_bias.shape[0]
    n_factors = other_factors.shape[1]
    d = n_factors + 1
    n_chunks = min(n_rows, N_CHUNKS)
    for chunk in prange(n_chunks):
        a = np.empty((d, d))
        b = np.empty(d)
        feat = np.empty(d)
        feat[n_factors] = 1.0
        for u in range(chunk * n_rows // n_chunks, (chunk + 1) * n_rows // n_chunks):
            n_u = indptr[u + 1] - indptr[u]
            lam = reg_const + reg_per_rating * n_u
            if n_u == 0:
                own_bias[u] = 0.0
                own_factors[u, :] = 0.0
                continue
            a[:, :] = 0.0
            b[:] = 0.0
            for p in range(indptr[u], indptr[u + 1]):
                j = indices[p]
                target = data[p] - global_mean - other_bias[j]
                for f in range(n_factors):
                    feat[f] = other_factors[j, f]
                for r in range(d):
                    b[r] += target * feat[r]
                    for c in range(r + 1):  # lower triangle is all Cholesky reads
                        a[r, c] += feat[r] * feat[c]
            for r in range(d):
                a[r, r] += lam
            _cholesky_solve_inplace(a, b)
            for f in range(n_factors):
                own_factors[u, f] = b[f]
            own_bias[u] = b[n_factors]


@jit(parallel=True)
def implicit_cg_half_step(indptr, indices, confidence, other_factors, gram_reg, cg_steps,
                          own_factors):
    """Update every row of ``own_factors`` by ``cg_steps`` CG steps (module docstring).

    indptr, indices, confidence : CSR (n_rows, n_other); confidence c_uj >= 1 (1 + alpha r).
    other_factors : (n_other, f) fixed side. gram_reg : (f, f) float64, Y^T Y + reg I.
    own_factors : (n_rows, f), read as the warm start and overwritten.
    """
    n_rows = own_factors.shape[0]
    n_factors = own_factors.shape[1]
    n_chunks = min(n_rows, N_CHUNKS)
    for chunk in prange(n_chunks):
        x = np.empty(n_factors)
        r = np.empty(n_factors)
        p = np.empty(n_factors)
        ap = np.empty(n_factors)
        for u in range(chunk * n_rows // n_chunks, (chunk + 1) * n_rows // n_chunks):
            if indptr[u + 1] == indptr[u]:  # the exact solution with no interaction is 0
                own_factors[u, :] = 0.0
                continue
            for f in range(n_factors):
                x[f] = own_factors[u, f]
            # residual r = b - A x; matrix-vector products are written as axpy over the rows of
            # the symmetric gram so the inner loop vectorises (a dot-product reduction does not)
            r[:] = 0.0
            for g in range(n_factors):
                xg = x[g]
                for f in range(n_factors):
                    r[f] -= gram_reg[g, f] * xg
            for q in range(indptr[u], indptr[u + 1]):
                j = indices[q]
                c = confidence[q]
                w = c - (c - 1.0) * _row_dot(other_factors, j, x)
                for f in range(n_factors):
                    r[f] += w * other_factors[j, f]
            rs_old = 0.0
            for f in range(n_factors):
                p[f] = r[f]
                rs_old += r[f] * r[f]
            if rs_old < 1e-20:
                continue
            for _ in range(cg_steps):
                ap[:] = 0.0
                for g in range(n_factors):
                    pg = p[g]
                    for f in range(n_factors):
                        ap[f] += gram_reg[g, f] * pg
                for q in range(indptr[u], indptr[u + 1]):
                    j = indices[q]
                    w = (confidence[q] - 1.0) * _row_dot(other_factors, j, p)
                    for f in range(n_factors):
                        ap[f] += w * other_factors[j, f]
                pap = 0.0
                for f in range(n_factors):
                    pap += p[f] * ap[f]
                step = rs_old / pap
                rs_new = 0.0
                for f in range(n_factors):
                    x[f] += step * p[f]
                    r[f] -= step * ap[f]
                    rs_new += r[f] * r[f]
                if rs_new < 1e-20:
                    break
                for f in range(n_factors):
                    p[f] = r[f] + (rs_new / rs_old) * p[f]
                rs_old = rs_new
            for f in range(n_factors):
                own_factors[u, f] = x[f]
