"""Neighbourhood (kNN) rating prediction over a dense similarity matrix and a CSR of ratings.

For a pair (x, y) (user-based: x = user, y = item; item-based: x = item, y = user) the candidate
neighbours are the entries x2 of row ``y`` of the (n_y, n_x) CSR, i.e. those who rated y. The
``k`` candidates with the largest ``sim[x, x2]`` are kept (ties: the earlier entry of the CSR row
wins, as ``heapq.nlargest`` on Surprise's rating lists), and those with positive similarity are
averaged:  dev = sum sim * (r - mean[x2]) / sum sim,  actual_k = number averaged.
``mean`` is all zeros for KNNBasic and the per-entity mean rating for KNNWithMeans.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit


@jit(parallel=True)
def knn_weighted_deviation(target_x, target_y, y_indptr, y_indices, y_data, sim, mean, k,
                           dev_out, actual_k_out):
    """Fill ``dev_out`` (n_pairs,) float64 and ``actual_k_out`` (n_pairs,) int64.

    target_x, target_y : (n_pairs,) int, known indices (the caller handles unknown ids).
    y_indptr, y_indices, y_data : CSR (n_y, n_x) of ratings.
    sim : (n_x, n_x) float64 similarity. mean : (n_x,) float64 offsets subtracted from ratings.
    k : int, most neighbours. dev_out is 0 where no neighbour has positive similarity.
    """
    for p in prange(target_x.shape[0]):
        x = target_x[p]
        y = target_y[p]
        start = y_indptr[y]
        n_cand = y_indptr[y + 1] - start
        # only positive similarities can contribute, and they sort before the others
        cand = np.empty(n_cand, dtype=np.int64)
        n_pos = 0
        for q in range(n_cand):
            if sim[x, y_indices[start + q]] > 0.0:
                cand[n_pos] = q
                n_pos += 1
        keys = np.empty(n_pos)
        for c in range(n_pos):
            keys[c] = -sim[x, y_indices[start + cand[c]]]
        order = np.argsort(keys, kind="mergesort")  # stable: ties keep CSR order
        sum_sim = 0.0
        sum_dev = 0.0
        n_used = min(k, n_pos)
        for c in range(n_used):
            q = start + cand[order[c]]
            x2 = y_indices[q]
            s = sim[x, x2]
            sum_sim += s
            sum_dev += s * (y_data[q] - mean[x2])
        dev_out[p] = sum_dev / sum_sim if n_used > 0 else 0.0
        actual_k_out[p] = n_used
