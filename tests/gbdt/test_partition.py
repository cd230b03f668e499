"""Row partition against a stable numpy partition."""
import numpy as np
import pytest

from gbdt import histogram
from gbdt.grower import GrowthParams, TreeGrower
from gbdt.partition import RowPartition, goes_left_mask, partition_rows, routing_table
from gbdt.schedule import thread_schedule
from gbdt.tree import Forest


def test_partition_is_stable_and_matches_numpy(monkeypatch):
    monkeypatch.setattr(histogram, "ROWS_PER_CHUNK", 300)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 10, size=(3000, 3)).astype(np.uint8)
    rows = np.sort(rng.choice(3000, 2000, replace=False)).astype(np.int32)
    starts, stops = np.array([0, 900]), np.array([900, 2000])
    feature, thr, default_left = np.array([1, 2]), np.array([4, 6]), np.array([True, False])
    expected = rows.copy()
    for j in range(2):
        seg = rows[starts[j]:stops[j]]
        b = X[seg, feature[j]]
        left = np.where(b == 9, default_left[j], b <= thr[j])
        expected[starts[j]:stops[j]] = np.r_[seg[left], seg[~left]]
    lo, hi, node, first = histogram.chunk_nodes(starts, stops)
    table = routing_table(thr, default_left, 9, 10)
    mask = np.empty(2000, np.bool_)
    goes_left_mask(X, rows, lo, hi, node, feature, table, mask)
    # routed by the table (from the row-major bins and from their column copy), and by the same
    # routing handed over as a mask (feature-parallel); in place, through the scratch
    for bins, given, n_groups in ((X, np.empty(0, np.bool_), 1), (np.asfortranarray(X), np.empty(0, np.bool_), 3),
                                  (X, mask, 2)):
        n_left = np.empty(2, dtype=np.int64)
        moved = rows.copy()
        order, groups = thread_schedule(hi - lo, n_groups)
        partition_rows(bins, moved, lo, hi, node, first, order, groups, starts, feature, table, given,
                       np.empty(2000, np.int32), n_left)
        np.testing.assert_array_equal(moved, expected)
        for j in range(2):
            seg = expected[starts[j]:stops[j]]
            b = X[seg, feature[j]]
            assert n_left[j] == np.where(b == 9, default_left[j], b <= thr[j]).sum()


@pytest.mark.parametrize("growth", [dict(max_depth=3), dict(max_depth=3, gamma=3.0),
                                    dict(max_depth=6, gamma=2.0, min_child_weight=5.0), dict(max_depth=6, gamma=6.0),
                                    dict(max_depth=0, grow_policy="lossguide", max_leaves=12, gamma=2.0)])
def test_margins_get_every_leaf_value(growth):
    """A partition with a margin adds every row's leaf value when the tree is finished, as
    predicting the finished tree gives: trees limited by depth, by gamma (leaves at every depth),
    by min_child_weight, and lossguide trees limited by leaves."""
    rng = np.random.default_rng(1)
    n = 4000
    X = rng.integers(0, 10, size=(n, 4)).astype(np.uint8)  # bin 9 = missing
    edges = np.tile(np.arange(9) + 0.5, (4, 1))
    params = GrowthParams(**growth)
    for seed in range(4):
        noise = np.random.default_rng(seed).standard_normal(n)
        gh = np.stack([noise + (X[:, 0] > 4) - 0.5 * (X[:, 1] < 3), rng.uniform(0.5, 1.0, n)], axis=1)
        margin = np.zeros((n, 1))
        builder = histogram.HistogramBuilder(X, 10, "data", 2)
        partition = RowPartition(X, gh.astype(np.float32), np.arange(n, dtype=np.int32), 9, builder, margin, 0)
        tree = TreeGrower(edges, np.full(4, 9, np.int32), 9, params).grow(partition, np.arange(4, dtype=np.int32))
        expected = Forest([tree], [0], 1).predict(X, np.zeros((n, 1)), missing_bin=9)
        np.testing.assert_allclose(margin, expected, rtol=0, atol=1e-12)
        assert tree.n_leaves > 2


def test_routing_by_the_row_major_bins_grows_the_same_tree():
    """Without the column copy (``route_by_columns=False``, as Dask workers of one thread) the
    partition routes by the row-major bins: the same rows in every leaf, so the same margins as
    routing by the copy, and both as predicting the tree."""
    rng = np.random.default_rng(2)
    n = 5000
    X = rng.integers(0, 10, size=(n, 5)).astype(np.uint8)
    edges = np.tile(np.arange(9) + 0.5, (5, 1))
    gh = np.stack([rng.standard_normal(n) + (X[:, 0] > 4) - (X[:, 3] < 2), rng.uniform(0.5, 1.0, n)], axis=1)
    margins = []
    for by_columns in (True, False):
        builder = histogram.HistogramBuilder(X, 10, "auto", 1, route_by_columns=by_columns)
        assert (builder.X_cols is not None) == by_columns
        margin = np.zeros((n, 1))
        partition = RowPartition(X, gh.astype(np.float32), np.arange(n, dtype=np.int32), 9, builder, margin, 0)
        tree = TreeGrower(edges, np.full(5, 9, np.int32), 9, GrowthParams(max_depth=5)).grow(
            partition, np.arange(5, dtype=np.int32))
        np.testing.assert_array_equal(margin, Forest([tree], [0], 1).predict(X, np.zeros((n, 1)), missing_bin=9))
        margins.append(margin)
    np.testing.assert_array_equal(margins[0], margins[1])
