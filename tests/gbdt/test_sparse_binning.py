"""Sparse binning: edges and bins of a CSC/CSR matrix equal those of its dense twin (gbdt.binning),
and the CSR bin kernel equals a searchsorted twin, compiled and interpreted."""
import numpy as np
import pytest
import scipy.sparse as sp

from gbdt import sparse_binning
from gbdt.binning import bin_matrix, compute_bin_edges
from gbdt.sparse_binning import (bin_csr, bin_csr_matrix, bin_csr_sparse, compute_sparse_bin_edges, sample_csr_rows,
                                 zero_bins)


def awkward_sparse(n=2000, n_features=8, seed=0):
    """CSR with continuous and few-valued columns, a column of one value, stored zeros, -0.0,
    NaN, +-inf, an all-zero column, an all-NaN column and a column without zeros."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, n_features, density=0.15, random_state=seed, format="lil")
    X[:, 1] = np.round(X[:, 1].toarray() * 5)  # few distinct values: midpoint edges
    X[:, 3] = 0.0  # all zero
    X[:, 4] = rng.standard_normal((n, 1))  # no zeros at all
    X[rng.random(n) < 0.05, 5] = np.nan
    X[:3, 6] = np.array([[np.inf], [-np.inf], [np.nan]])
    X[:, 7] = np.nan  # all missing
    X = X.tocsr()
    X.data[X.indices == 0] -= 0.5  # negative values below the zero group
    X.data[np.flatnonzero(X.indices == 0)[:3]] = -0.0  # stored negative zeros
    X.data[X.indices == 2] = 3.5  # one value (as a one-hot column) ...
    X.data[(X.indices == 2) & (np.arange(X.nnz) % 5 == 0)] = 0.0  # ... and stored zeros
    return X


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sketch_rows", [200_000, 700])
def test_sparse_edges_equal_dense_edges_bitwise(weighted, sketch_rows):
    """Quantile columns, few-valued ones, a one-valued one (no sketch), constant and empty ones."""
    X = awkward_sparse()
    weight = np.random.default_rng(3).exponential(size=X.shape[0]) if weighted else None
    for max_bin in (256, 16, 3, 2):
        dense = compute_bin_edges(X.toarray(), max_bin, weight, sketch_rows=sketch_rows, seed=5)
        sparse = compute_sparse_bin_edges(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data,
                                          X.shape[1], max_bin, weight, sketch_rows=sketch_rows, seed=5)
        np.testing.assert_array_equal(sparse[1], dense[1])
        np.testing.assert_array_equal(sparse[0], dense[0])  # bitwise, inf padding included
        assert dense[1][3] == 0 and dense[1][7] == 0
        if max_bin > 3:
            assert dense[1][2] == 1 and dense[1][4] > 0.75 * (max_bin - 2)  # midpoint; the quantile path


def test_sample_csr_rows_is_row_indexing():
    X = awkward_sparse(300)
    rows = np.array([0, 3, 4, 50, 299])
    indptr, indices, values = sample_csr_rows(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data, rows)
    sub = sp.csr_matrix((values, indices, indptr), shape=(rows.size, X.shape[1]))
    np.testing.assert_array_equal(sub.toarray(), X.toarray()[rows])


def searchsorted_bins(X_dense, edges, n_edges, max_bin):
    """Naive twin: searchsorted per column, NaN -> missing bin."""
    out = np.empty(X_dense.shape, dtype=np.uint8)
    for f in range(X_dense.shape[1]):
        out[:, f] = np.searchsorted(edges[f, : n_edges[f]], X_dense[:, f], side="left")
        out[np.isnan(X_dense[:, f]), f] = max_bin - 1
    return out


def test_csr_bins_equal_dense_bins_and_searchsorted():
    X = awkward_sparse()
    dense = X.toarray()
    edges, n_edges = compute_bin_edges(dense, 32)
    binned = bin_csr_matrix(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data, X.shape[1],
                            edges, n_edges, 32)
    assert binned.flags.c_contiguous and binned.dtype == np.uint8
    np.testing.assert_array_equal(binned, bin_matrix(dense, edges, n_edges, 32))
    np.testing.assert_array_equal(binned, searchsorted_bins(dense, edges, n_edges, 32))


def test_interpreted_bin_kernel_matches_compiled():
    X = awkward_sparse(200, 8)
    dense = X.toarray()
    edges, n_edges = compute_bin_edges(dense, 16)
    out = np.empty(X.shape, dtype=np.uint8)
    bin_csr.py_func(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data, edges, n_edges,
                    zero_bins(edges), 15, out)
    np.testing.assert_array_equal(out, searchsorted_bins(dense, edges, n_edges, 16))


def from_rows(bins):
    """(n, F) bins rebuilt from the by-row arrays of ``SparseBins``, zero bins elsewhere."""
    out = np.repeat(bins.zero_bin[None, :], bins.n_rows, axis=0)
    out[np.repeat(np.arange(bins.n_rows), np.diff(bins.row_ptr)), bins.row_features] = bins.row_bins
    return out


def from_columns(bins):
    """The same from the by-column arrays."""
    out = np.repeat(bins.zero_bin[None, :], bins.n_rows, axis=0)
    out[bins.col_rows, np.repeat(np.arange(bins.zero_bin.shape[0]), np.diff(bins.col_ptr))] = bins.col_bins
    return out


@pytest.mark.parametrize("max_bin", [256, 16])
def test_sparse_bins_are_the_dense_bins_outside_each_zero_bin(max_bin):
    """Both copies of ``SparseBins`` give back the searchsorted bins of the dense twin (NaN in the
    missing bin, +-inf, stored zeros and -0.0 in the zero bin), keep exactly the cells outside
    their column's zero bin, and list rows and features ascending."""
    X = awkward_sparse()
    dense = X.toarray()
    edges, n_edges = compute_bin_edges(dense, max_bin)
    expected = searchsorted_bins(dense, edges, n_edges, max_bin)
    bins = bin_csr_sparse(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data, X.shape[1], edges,
                          n_edges, max_bin)
    np.testing.assert_array_equal(from_rows(bins), expected)
    np.testing.assert_array_equal(from_columns(bins), expected)
    assert bins.nnz == int((expected != zero_bins(edges)[None, :]).sum()) < X.nnz
    np.testing.assert_array_equal(bins.n_value_bins, n_edges + 1)
    assert bins.shape == X.shape and bins.missing_bin == max_bin - 1
    for ptr, ids in ((bins.row_ptr, bins.row_features), (bins.col_ptr, bins.col_rows)):
        assert ptr.dtype == np.int64
        assert all((np.diff(ids[a:b]) > 0).all() for a, b in zip(ptr[:-1], ptr[1:]))


def test_interpreted_sparse_binning_matches_compiled():
    X = awkward_sparse(150, 8)
    edges, n_edges = compute_bin_edges(X.toarray(), 16)
    args = (X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data, X.shape[1], edges, n_edges, 16)
    compiled = bin_csr_sparse(*args)
    kernels = {name: getattr(sparse_binning, name) for name in ("_bin_entries", "_keep_entries", "_rows_to_columns")}
    try:
        for name, kernel in kernels.items():
            setattr(sparse_binning, name, getattr(kernel, "py_func", kernel))
        interpreted = bin_csr_sparse(*args)
    finally:
        for name, kernel in kernels.items():
            setattr(sparse_binning, name, kernel)
    for field in ("zero_bin", "col_ptr", "col_rows", "col_bins", "row_ptr", "row_features", "row_bins"):
        np.testing.assert_array_equal(getattr(interpreted, field), getattr(compiled, field))
