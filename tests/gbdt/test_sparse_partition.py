"""Routing sparse rows (by a search in their entries) against the dense routing of the same bins,
and forest prediction on CSR rows against the prediction and naive traversal of their dense twin."""
import numpy as np
import pytest
import scipy.sparse as sp

from gbdt import histogram
from gbdt.binning import compute_bin_edges
from gbdt.grower import GrowthParams, TreeGrower
from gbdt.histogram import HistogramBuilder
from gbdt.partition import RowPartition
from gbdt.sparse_binning import bin_csr_sparse
from gbdt.sparse_histogram import SparseHistogramBuilder
from gbdt.sparse_partition import SparseRowPartition, row_partition
from gbdt.tree import Forest, Tree
from tests.gbdt.test_sparse_histogram import sparse_data
from tests.gbdt.test_tree import naive_predict, random_tree


def partitions(bins, dense_bins, gh, rows):
    """(sparse partition, dense partition) over the same rows, margins included."""
    margins = np.zeros((bins.n_rows, 1)), np.zeros((bins.n_rows, 1))
    sparse = row_partition(bins, gh, rows.copy(), bins.missing_bin, SparseHistogramBuilder(bins, 2), margins[0])
    dense = row_partition(dense_bins, gh, rows.copy(), bins.missing_bin,
                          HistogramBuilder(dense_bins, bins.missing_bin + 1, "data", 2), margins[1])
    assert type(sparse) is SparseRowPartition and type(dense) is RowPartition
    return sparse, dense


def test_split_moves_rows_as_the_dense_partition(monkeypatch):
    """Two levels of splits (thresholds below, at and above the zero bin; NaN going either way)
    leave the rows at the same places, with the same masks, as the dense partition's."""
    monkeypatch.setattr(histogram, "ROWS_PER_CHUNK", 300)  # several chunks per node
    bins, dense_bins, gh = sparse_data()
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(bins.n_rows, 2500, replace=False)).astype(np.int32)
    sparse, dense = partitions(bins, dense_bins, gh, rows)
    splits = [([0], [2], [int(bins.zero_bin[2])], [True], [1], [2]),
              ([1, 2], [5, 0], [0, int(bins.zero_bin[0]) + 3], [False, True], [3, 5], [4, 6])]
    for node_ids, feature, threshold, default_left, left, right in splits:
        for got, want in zip(sparse.masks(node_ids, feature, threshold, default_left),
                             dense.masks(node_ids, feature, threshold, default_left)):
            np.testing.assert_array_equal(got, want)
        for partition in (sparse, dense):
            partition.split(node_ids, feature, threshold, default_left, left, right)
        for node in left + right:
            np.testing.assert_array_equal(sparse.node_rows(node), dense.node_rows(node))
            assert 0 < sparse.node_rows(node).shape[0] < rows.shape[0]


@pytest.mark.parametrize("growth", [dict(max_depth=4), dict(max_depth=0, grow_policy="lossguide", max_leaves=9)])
def test_grown_tree_equals_the_dense_one(growth):
    """The same tree and margins from the sparse path as from the dense bins (float sums of
    float32 gradients of one scale round alike here; with rounding they may differ in the last bits)."""
    bins, dense_bins, gh = sparse_data(seed=2)
    gh[:, 0] += 0.8 * (dense_bins[:, 0] > bins.zero_bin[0]) - 0.6 * (dense_bins[:, 3] == bins.missing_bin)
    rows = np.arange(bins.n_rows, dtype=np.int32)
    sparse, dense = partitions(bins, dense_bins, gh, rows)
    edges = np.tile(np.arange(31, dtype=np.float64), (9, 1))  # raw thresholds are not used here
    grower = TreeGrower(edges, bins.n_value_bins, bins.missing_bin, GrowthParams(**growth))
    features = np.arange(9, dtype=np.int32)
    trees = [grower.grow(partition, features) for partition in (sparse, dense)]
    assert trees[0].to_dict() == trees[1].to_dict() and trees[0].n_leaves > 4
    np.testing.assert_array_equal(sparse.margin, dense.margin)


def reversed_rows(X):
    """A copy of CSR X whose rows list their entries in reverse order."""
    out = X.copy()
    for i in range(X.shape[0]):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        out.indices[lo:hi], out.data[lo:hi] = X.indices[lo:hi][::-1], X.data[lo:hi][::-1]
    out.has_sorted_indices = False
    return out


def test_forest_predicts_csr_rows_raw_and_binned():
    """CSR rows (absent entries 0.0, stored NaN missing, stored zeros, +-inf, empty rows, entries
    in any order) give bit for bit the dense twin's ``predict`` (and the naive traversal's
    outputs), from the raw values and from ``SparseBins``; the trees split on some features only
    (unused ones inside and past the last used), and enough rows that a task walks several
    blocks with one scratch."""
    rng = np.random.default_rng(0)
    n, used = 3000, np.array([0, 2, 3, 5])
    X = sp.random(n, 8, density=0.3, random_state=0, format="csr")
    X.data = rng.standard_normal(X.nnz)
    X.data[::13] = np.nan
    X.data[7::29] = 0.0
    X.data[1], X.data[2] = np.inf, -np.inf
    X = sp.vstack([X[:100], sp.csr_matrix((90, 8)), X[190:n - 1], sp.csr_matrix((1, 8))], format="csr")
    dense = X.toarray()
    edges, n_edges = compute_bin_edges(dense, 32)
    trees = [random_tree(rng, edges[used], n_edges[used]) for _ in range(6)]
    for tree in trees:
        tree.feature[tree.feature >= 0] = used[tree.feature[tree.feature >= 0]]
    forest = Forest(trees, [0, 1, 0, 1, 0, 1], 2)
    expected = forest.predict(dense, np.zeros((n, 2)))
    np.testing.assert_allclose(expected, naive_predict(trees, [0, 1, 0, 1, 0, 1], dense, 2), rtol=0, atol=1e-12)
    for rows in (X, reversed_rows(X)):
        raw = forest.predict_csr(rows.indptr.astype(np.int64), rows.indices, rows.data, np.zeros(8), np.zeros((n, 2)))
        np.testing.assert_array_equal(raw, expected)
    bins = bin_csr_sparse(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data, 8, edges, n_edges, 32)
    np.testing.assert_array_equal(forest.predict(bins, np.zeros((n, 2))), expected)
    partial = forest.predict(bins, np.zeros((n, 2)), first_tree=2, stop_tree=5)
    np.testing.assert_array_equal(partial, forest.predict(dense, np.zeros((n, 2)), first_tree=2, stop_tree=5))


def test_forest_of_leaves_predicts_csr_rows():
    """Trees without a split (no feature for the scratch) add their values to every row."""
    leaf = dict(feature=[-1], threshold=[0], bin_threshold=[0], default_left=[0], left=[-1], right=[-1], gain=[0],
                cover=[1])
    forest = Forest([Tree.from_lists(**leaf, value=[v]) for v in (0.5, -2.0)], [0, 0], 1)
    X = sp.csr_matrix(np.array([[0.0, 3.0], [np.nan, 0.0], [0.0, 0.0]]))
    got = forest.predict_csr(X.indptr.astype(np.int64), X.indices, X.data, np.zeros(2), np.zeros((3, 1)))
    np.testing.assert_array_equal(got, np.full((3, 1), -1.5))
