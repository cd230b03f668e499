"""kNN weighted-deviation kernel against a heapq twin of Surprise's KNNBasic/KNNWithMeans loop."""
import heapq

import numpy as np
import pytest
import scipy.sparse as sp

from gbdt.kernels.recommend.knn import knn_weighted_deviation


def twin(x, y, y_csr, sim, mean, k):
    """Surprise's estimate loop: nlargest by similarity (stable), average the positive ones."""
    row = slice(y_csr.indptr[y], y_csr.indptr[y + 1])
    neighbours = list(zip(y_csr.indices[row], y_csr.data[row]))
    best = heapq.nlargest(k, neighbours, key=lambda t: sim[x, t[0]])
    sum_sim = sum_dev = 0.0
    actual_k = 0
    for x2, r in best:
        if sim[x, x2] > 0:
            sum_sim += sim[x, x2]
            sum_dev += sim[x, x2] * (r - mean[x2])
            actual_k += 1
    return (sum_dev / sum_sim if actual_k else 0.0), actual_k


@pytest.mark.parametrize("k", [1, 3, 40])
@pytest.mark.parametrize("centered", [False, True])
def test_knn_matches_heapq_twin_including_ties(k, centered):
    rng = np.random.default_rng(0)
    n_x, n_y = 25, 15
    dense = np.where(rng.random((n_y, n_x)) < 0.5, rng.integers(1, 6, (n_y, n_x)), 0.0)
    y_csr = sp.csr_matrix(dense)
    # similarities on a coarse grid: many exact ties, some negative or zero
    sim = rng.integers(-2, 5, (n_x, n_x)) / 4.0
    mean = rng.uniform(2, 4, n_x) if centered else np.zeros(n_x)
    xs, ys = np.meshgrid(np.arange(n_x), np.arange(n_y))
    xs, ys = xs.ravel(), ys.ravel()
    dev = np.empty(xs.size)
    actual_k = np.empty(xs.size, dtype=np.int64)
    y_ptr, y_idx = y_csr.indptr.astype(np.int64), y_csr.indices.astype(np.int32)
    knn_weighted_deviation(xs.astype(np.int64), ys.astype(np.int64), y_ptr, y_idx, y_csr.data,
                           sim, mean, k, dev, actual_k)
    expected = np.array([twin(x, y, y_csr, sim, mean, k) for x, y in zip(xs, ys)])
    np.testing.assert_allclose(dev, expected[:, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(actual_k, expected[:, 1])
