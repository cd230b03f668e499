"""Binning: quantile edges and the bin kernel against naive numpy twins."""
import numpy as np
import pytest

from gbdt.binning import bin_matrix, compute_bin_edges, feature_edges, presorted_bin_edges
from gbdt.exact import ColumnBlocks


def test_bins_match_searchsorted_and_nan_gets_missing_bin():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, 4))
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:5, 1] = [np.inf, -np.inf, 1e300, -1e300, 0.0]
    edges, n_edges = compute_bin_edges(X, max_bin=64)
    binned = bin_matrix(X, edges, n_edges, 64)
    for f in range(4):
        expected = np.searchsorted(edges[f, : n_edges[f]], X[:, f], side="left")
        expected[np.isnan(X[:, f])] = 63
        np.testing.assert_array_equal(binned[:, f], expected)
    assert binned[0, 1] == n_edges[1] and binned[1, 1] == 0  # +inf last value bin, -inf first


def test_quantile_edges_balance_bins():
    x = np.random.default_rng(1).exponential(size=100_000)
    edges = feature_edges(x, max_edges=9)
    counts = np.bincount(np.searchsorted(edges, x, side="left"), minlength=10)
    np.testing.assert_allclose(counts / x.size, 0.1, atol=0.002)
    np.testing.assert_allclose(edges, np.quantile(x, np.arange(1, 10) / 10), rtol=0.01)


def test_weighted_edges_follow_the_weights():
    x = np.arange(1000, dtype=float)
    w = np.where(x < 500, 3.0, 1.0)  # 75% of the weight below 500
    edges = feature_edges(x, max_edges=3, sample_weight=w)
    assert edges[1] == pytest.approx(333, abs=2)  # half the weight lies below ~333


def test_few_distinct_values_get_one_bin_each():
    x = np.array([3.0, 1.0, 2.0, 2.0, np.nan, 1.0])
    edges = feature_edges(x, max_edges=254)
    np.testing.assert_array_equal(edges, [1.5, 2.5])


def test_all_missing_or_constant_feature_has_no_edges():
    assert feature_edges(np.full(10, np.nan), 254).size == 0
    assert feature_edges(np.ones(10), 254).size == 0


def test_sketch_sample_is_bounded():
    X = np.random.default_rng(2).standard_normal((3000, 2))
    full, _ = compute_bin_edges(X, 16, sketch_rows=10_000)
    sampled, _ = compute_bin_edges(X, 16, sketch_rows=1000)
    np.testing.assert_allclose(sampled[:, :14], full[:, :14], atol=0.15)


def test_presorted_edges_equal_the_sorting_sketch():
    """Edges from columns sorted once (approx's per-tree sketch) are compute_bin_edges' own, with
    weights, ties, NaN and infinities."""
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.normal(size=3000), np.round(rng.normal(size=3000), 1), rng.integers(0, 5, 3000)])
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:5, 0] = [np.inf, -np.inf, np.inf, 1e300, -1e300]
    weight = rng.uniform(0.0, 2.0, 3000)
    blocks = ColumnBlocks.from_dense(X)
    for max_bin in (4, 16, 256):
        expected = compute_bin_edges(X, max_bin, weight)
        got = presorted_bin_edges(X, blocks.col_ptr, blocks.col_row, max_bin, weight)
        np.testing.assert_array_equal(got[1], expected[1])
        np.testing.assert_array_equal(got[0], expected[0])
