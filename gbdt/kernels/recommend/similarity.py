"""Pairwise similarity of the rows of a sparse rating matrix, over co-rated columns only.

Rows ``x`` are the entities compared (users for user-based kNN, items for item-based), columns
``y`` the other side. For a pair (xi, xj) only the columns both rated count (as Surprise does):

- ``COSINE``: sum(ri rj) / sqrt(sum ri^2 * sum rj^2)
- ``MSD``: 1 / (mean (ri - rj)^2 + 1)
- ``PEARSON``: sample correlation over the common columns (means taken over the common columns)
- ``PEARSON_BASELINE``: cosine of baseline residuals ``r - b_ui`` (the caller passes residuals),
  shrunk by (n - 1) / (n - 1 + shrinkage); needs at least 2 common columns

A pair with fewer than ``min_support`` common columns, or a zero denominator, has similarity 0.
The diagonal is 1. Memory: the output is dense (n_x, n_x); the work is sum over columns of nnz^2.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.kernels.recommend.als import N_CHUNKS

COSINE = 0
MSD = 1
PEARSON = 2
PEARSON_BASELINE = 3
KIND_BY_NAME = {"cosine": COSINE, "msd": MSD, "pearson": PEARSON,
                "pearson_baseline": PEARSON_BASELINE}


@jit
def _pair_similarity(kind, n, prods, sqi, sqj, si, sj, min_support, shrinkage):
    """Similarity of one pair from its co-rated sums (n common columns)."""
    if kind == PEARSON_BASELINE:
        min_support = max(2, min_support)
    if n < min_support or n == 0:
        return 0.0
    if kind == MSD:
        # sum (ri - rj)^2 = sqi - 2 prods + sqj; clamp the rounding error of equal ratings
        return 1.0 / (max(sqi - 2.0 * prods + sqj, 0.0) / n + 1.0)
    if kind == PEARSON:
        num = n * prods - si * sj
        den = (n * sqi - si * si) * (n * sqj - sj * sj)
    else:
        num = prods
        den = sqi * sqj
    if den <= 0.0:
        return 0.0
    sim = num / np.sqrt(den)
    if kind == PEARSON_BASELINE:
        sim *= (n - 1.0) / (n - 1.0 + shrinkage)
    return sim


@jit(parallel=True)
def similarity_matrix(x_indptr, x_indices, x_data, y_indptr, y_indices, y_data,
                      kind, min_support, shrinkage, out):
    """Fill ``out`` (n_x, n_x) float64 with the similarity of every pair of rows.

    x_indptr, x_indices, x_data : CSR of the (n_x, n_y) matrix, one row per compared entity.
    y_indptr, y_indices, y_data : CSR of its transpose (n_y, n_x), the same values.
    kind : one of COSINE, MSD, PEARSON, PEARSON_BASELINE.
    min_support : int, fewest common columns for a non-zero similarity.
    shrinkage : float, only used by PEARSON_BASELINE.
    """
    n_x = out.shape[0]
    n_chunks = min(n_x, N_CHUNKS)
    for chunk in prange(n_chunks):
        # per-chunk accumulators over all partners xj of the current row xi
        freq = np.zeros(n_x, dtype=np.int64)
        prods = np.zeros(n_x)
        sqi = np.zeros(n_x)
        sqj = np.zeros(n_x)
        si = np.zeros(n_x)
        sj = np.zeros(n_x)
        start = chunk * n_x // n_chunks
        stop = (chunk + 1) * n_x // n_chunks
        for xi in range(start, stop):
            for p in range(x_indptr[xi], x_indptr[xi + 1]):
                y = x_indices[p]
                ri = np.float64(x_data[p])
                for q in range(y_indptr[y], y_indptr[y + 1]):
                    xj = y_indices[q]
                    rj = np.float64(y_data[q])
                    freq[xj] += 1
                    prods[xj] += ri * rj
                    sqi[xj] += ri * ri
                    sqj[xj] += rj * rj
                    si[xj] += ri
                    sj[xj] += rj
            for xj in range(n_x):
                out[xi, xj] = _pair_similarity(kind, freq[xj], prods[xj], sqi[xj], sqj[xj],
                                               si[xj], sj[xj], min_support, shrinkage)
                freq[xj] = 0
                prods[xj] = 0.0
                sqi[xj] = 0.0
                sqj[xj] = 0.0
                si[xj] = 0.0
                sj[xj] = 0.0
            out[xi, xi] = 1.0
