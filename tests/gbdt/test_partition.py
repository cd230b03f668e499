"""Row partition against a stable numpy partition."""
import numpy as np

from gbdt import histogram
from gbdt.partition import goes_left_mask, partition_rows, routing_table


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
    # routed by the table, and by the same routing handed over as a mask (feature-parallel)
    for given in (np.empty(0, np.bool_), mask):
        n_left = np.empty(2, dtype=np.int64)
        moved = np.empty(2000, np.int32)
        partition_rows(X, rows, lo, hi, node, first, starts, feature, table, given, np.empty(2000, np.int32), moved,
                       n_left)
        np.testing.assert_array_equal(moved, expected)
        for j in range(2):
            seg = expected[starts[j]:stops[j]]
            b = X[seg, feature[j]]
            assert n_left[j] == np.where(b == 9, default_left[j], b <= thr[j]).sum()
