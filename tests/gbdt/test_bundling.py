"""Exclusive feature bundling against the unbundled features: bins, histograms, routing, trees, prediction."""
import numpy as np
import scipy.sparse as sp

from gbdt.binning import compute_bin_edges
from gbdt.bundling import BundledBins, bundle_sparse_bins
from gbdt.grower import GrowthParams, TreeGrower
from gbdt.histogram import HistogramBuilder
from gbdt.quantize import HIGH_WORD
from gbdt.sparse_binning import bin_csr_sparse
from gbdt.sparse_histogram import histogram_builder
from gbdt.sparse_partition import row_partition
from gbdt.tree import Forest
from tests.gbdt.test_sparse_histogram import assert_features_close, naive_compact
from tests.gbdt.test_tree import naive_predict, random_tree


def one_hot_data(n=3000, seed=0, max_bin=32):
    """(BundledBins, SparseBins, dense (n, F) bins, dense values, gh) of 4 categorical variables
    one-hot encoded (12, 7, 5 and 30 categories), one of them with a few stored NaN, one with
    values other than 1.0 (several value bins per column), and an all-zero column."""
    rng = np.random.default_rng(seed)
    blocks = []
    for k in (12, 7, 5, 30):
        codes = rng.integers(0, k + 1, n)  # code k: no column set (all zero)
        block = np.zeros((n, k))
        rows = np.flatnonzero(codes < k)
        block[rows, codes[rows]] = 1.0
        blocks.append(block)
    blocks[1][blocks[1] == 1.0] = rng.choice([1.0, 2.0, 3.5], int((blocks[1] == 1.0).sum()))
    nan_rows = rng.choice(np.flatnonzero(blocks[2][:, 0] == 1.0), 15, replace=False)
    blocks[2][nan_rows, 0] = np.nan
    dense = np.hstack(blocks + [np.zeros((n, 1))])
    X = sp.csr_matrix(np.where(np.isnan(dense), np.nan, dense))
    edges, n_edges = compute_bin_edges(dense, max_bin)
    bins = bin_csr_sparse(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data, dense.shape[1], edges,
                          n_edges, max_bin)
    dense_bins = np.empty(dense.shape, dtype=np.uint8)
    for f in range(dense.shape[1]):
        dense_bins[:, f] = np.searchsorted(edges[f, :n_edges[f]], dense[:, f])
        dense_bins[np.isnan(dense[:, f]), f] = max_bin - 1
    gh = np.column_stack([rng.standard_normal(n), rng.uniform(0.1, 1.0, n)]).astype(np.float32)
    gh[:, 0] += 1.5 * (dense[:, 3] == 1.0) - (dense[:, 14] > 1.5) + np.isnan(dense[:, 19])
    return bundle_sparse_bins(bins), bins, dense_bins, dense, gh


def unbundled(bundled):
    """(n, F) bins read back from the bundle columns through the slot tables."""
    n, n_features = bundled.shape
    out = np.repeat(bundled.zero_bin[None, :], n, axis=0)
    for b in range(bundled.X.shape[1]):
        owner = bundled.slot_feature[b, bundled.X[:, b]]
        rows = np.flatnonzero(owner >= 0)
        out[rows, owner[rows]] = bundled.slot_bin[b, bundled.X[rows, b]]
    return out


def test_one_hot_variables_become_one_column_each():
    bundled, bins, dense_bins, _, _ = one_hot_data()
    assert isinstance(bundled, BundledBins) and bundled.X.shape == (3000, 4)
    np.testing.assert_array_equal(unbundled(bundled), dense_bins)
    assert bundled.bundle_of[-1] == -1  # the all-zero column needs no slot
    # each bundle holds one variable's columns
    variable = np.repeat(np.arange(4), (12, 7, 5, 30))
    for b in range(4):
        assert len(set(variable[bundled.bundle_of[:-1] == b])) == 1


def test_features_that_share_rows_do_not_bundle():
    """Co-occurring columns (random sparse rows) would need about one bundle per column: not bundled."""
    X = sp.random(2000, 40, density=0.05, random_state=3, format="csr")
    edges, n_edges = compute_bin_edges(X.toarray(), 16)
    bins = bin_csr_sparse(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data, 40, edges, n_edges, 16)
    assert bundle_sparse_bins(bins) is None


def test_unbundled_histograms_match_naive_twin():
    """Compact histograms from the bundles' histograms: the members' bins (NaN in its own slot),
    zero bins summed from the other slots, a feature without entries; float and exact packed."""
    bundled, bins, dense_bins, _, gh = one_hot_data(seed=1)
    rng = np.random.default_rng(2)
    rows = rng.permutation(bins.n_rows)[:2800].astype(np.int32)
    starts, stops = [0, 1000, 1001], [1000, 1001, 2800]
    features = np.array([0, 3, 12, 19, 20, 30, 54], dtype=np.int32)
    builder = histogram_builder(bundled, 32, "data", 2)
    got = builder.build(gh, rows, starts, stops, features)
    want = naive_compact(dense_bins, gh.astype(np.float64), rows, starts, stops, bins.n_value_bins, bins.missing_bin)
    offsets = builder.bin_offsets
    assert_features_close(got, want, offsets, features)
    g_q, h_q = rng.integers(-8, 9, bins.n_rows), rng.integers(0, 17, bins.n_rows)
    packed = builder.build_packed(g_q * HIGH_WORD + h_q, rows, starts, stops, features)
    exact = naive_compact(dense_bins, g_q * HIGH_WORD + h_q, rows, starts, stops, bins.n_value_bins, bins.missing_bin)
    for f in features:
        np.testing.assert_array_equal(packed[:, offsets[f]:offsets[f + 1]], exact[:, offsets[f]:offsets[f + 1]])


def test_grown_tree_and_predictions_equal_the_dense_ones():
    """A depthwise tree grown on the bundles (routing through the slot tables) is the dense bins'
    tree, with the same margins; the forest predicts the bundled rows as the dense ones."""
    bundled, bins, dense_bins, dense, gh = one_hot_data(seed=4)
    n = bins.n_rows
    trees, margins = [], []
    for X_binned in (bundled, dense_bins):
        margin = np.zeros((n, 1))
        builder = histogram_builder(X_binned, 32, "data", 2)
        partition = row_partition(X_binned, gh, np.arange(n, dtype=np.int32), 31, builder, margin)
        edges = np.tile(np.arange(31, dtype=np.float64), (dense.shape[1], 1))
        grower = TreeGrower(edges, bins.n_value_bins, 31, GrowthParams(max_depth=5, min_child_weight=0.5))
        trees.append(grower.grow(partition, np.arange(dense.shape[1], dtype=np.int32)))
        margins.append(margin)
    assert type(builder) is HistogramBuilder
    assert trees[0].to_dict() == trees[1].to_dict() and trees[0].n_leaves > 8
    np.testing.assert_array_equal(margins[0], margins[1])
    rng = np.random.default_rng(5)
    edges, n_edges = compute_bin_edges(dense, 32)
    forest_trees = [random_tree(rng, edges, n_edges) for _ in range(5)]
    forest = Forest(forest_trees, [0] * 5, 1)
    np.testing.assert_allclose(forest.predict(bundled, np.zeros((n, 1))),
                               naive_predict(forest_trees, [0] * 5, dense, 1), rtol=0, atol=1e-12)
