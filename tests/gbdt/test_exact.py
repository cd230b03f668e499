"""The exact method's kernels against brute-force numpy: sorted column blocks, the row routing
of a split, the float32 threshold rule, and the split search of one node."""
import numpy as np
import pytest

from gbdt.exact import (ColumnBlocks, _cannot_beat, _split_gain, find_exact_splits, level_rows, level_sums,
                        raw_threshold, route_rows)


def ties_and_nan(seed, n=300, n_features=4):
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, n_features)), 1)
    X[:, 1] = np.round(X[:, 1])  # heavy ties
    X[rng.random(X.shape) < 0.15] = np.nan
    X[:, 3] = np.where(np.isnan(X[:, 3]), np.nan, 2.0)  # one value and missing ones
    return X


def test_column_blocks_hold_each_feature_sorted_without_missing():
    X = ties_and_nan(0)
    X[:, 2] = np.round(X[:, 2] * 1e6) / 3e6  # values that round to float32
    blocks = ColumnBlocks.from_dense(X)
    for f in range(X.shape[1]):
        rows = blocks.col_row[blocks.col_ptr[f]:blocks.col_ptr[f + 1]]
        values = blocks.col_value[blocks.col_ptr[f]:blocks.col_ptr[f + 1]]
        present = np.flatnonzero(~np.isnan(X[:, f]))
        expected = present[np.argsort(X[present, f].astype(np.float32), kind="stable")]
        np.testing.assert_array_equal(rows, expected)
        np.testing.assert_array_equal(values, X[expected, f].astype(np.float32))
    # forward scans: a missing value somewhere and more than one value (XGBoost's rule)
    np.testing.assert_array_equal(blocks.forward, [True, True, True, False])
    assert blocks.nbytes >= 8 * (~np.isnan(X)).sum()


def test_raw_threshold_compares_like_float32():
    rng = np.random.default_rng(1)
    split = np.concatenate([rng.normal(size=200), [0.0, 1e-30, -3.5, 1e30]]).astype(np.float32)
    t = raw_threshold(split)
    x = np.concatenate([split.astype(np.float64), t, np.nextafter(t, np.inf), np.nextafter(t, -np.inf),
                        rng.normal(size=500)])
    left_ours = x[None, :] <= t[:, None]
    left_xgb = x.astype(np.float32)[None, :] < split[:, None]
    np.testing.assert_array_equal(left_ours, left_xgb)


def test_route_rows_sends_values_by_threshold_and_missing_by_default():
    X = ties_and_nan(2)
    position = np.array([0, 1, 2, -1] * (X.shape[0] // 4), dtype=np.int32)
    feature = np.array([0, 1, -1])
    value = np.array([0.05, -0.5, 0.0], dtype=np.float32)
    default_left = np.array([True, False, True])
    left_child = np.array([0, 2, 0], dtype=np.int32)
    default_child = np.where(default_left, left_child, left_child + 1).astype(np.int32)
    expected = np.full(X.shape[0], -1)
    for row, node in enumerate(position.copy()):
        if node < 0 or feature[node] < 0:
            continue
        x = X[row, feature[node]]
        go_left = default_left[node] if np.isnan(x) else np.float32(x) < value[node]
        expected[row] = left_child[node] + (0 if go_left else 1)
    route_rows(X, position, feature, value, default_child, left_child)
    np.testing.assert_array_equal(position, expected)


def brute_force_root(X, gh, lam, alpha, mcw):
    """Best (gain, feature, threshold, default_left) of one node, by trying both sides of every
    gap between distinct float32 values with the missing rows on either side, in float64."""
    g, h = gh[:, 0].astype(np.float64), gh[:, 1].astype(np.float64)

    def score(sg, sh):
        t = np.sign(sg) * max(abs(sg) - alpha, 0.0)
        return t * t / (sh + lam) if sh > 0 else 0.0

    total = score(g.sum(), h.sum())
    best = (0.0, -1, 0.0, True)
    for f in range(X.shape[1]):
        x = X[:, f].astype(np.float32)
        present = ~np.isnan(x)
        distinct = np.unique(x[present])
        cuts = [(a, b) for a, b in zip(distinct[:-1], distinct[1:])] + [(distinct[-1], None), (None, distinct[0])]
        for a, b in cuts:
            below = present & (x <= a) if a is not None else np.zeros_like(present)
            for missing_left in (False, True):
                left = below | (~present & missing_left)
                if not (~present).any() and b is None or left.all() or not left.any():
                    continue
                lh, rh = h[left].sum(), h[~left].sum()
                if lh < mcw or rh < mcw:
                    continue
                gain = score(g[left].sum(), lh) + score(g[~left].sum(), rh) - total
                if gain > best[0] * (1 + 1e-6) + 1e-9:
                    threshold = np.float32((a + b) * np.float32(0.5)) if a is not None and b is not None else None
                    best = (gain, f, threshold, missing_left)
    return best


@pytest.mark.parametrize("lam, alpha, mcw", [(1.0, 0.0, 1.0), (3.0, 0.5, 10.0)])
def test_root_split_equals_brute_force(lam, alpha, mcw):
    X = ties_and_nan(3)
    rng = np.random.default_rng(4)
    y = np.nan_to_num(X[:, 0]) - 2 * np.nan_to_num(X[:, 1] > 0) + np.isnan(X[:, 2]) + rng.normal(size=len(X)) * 0.3
    gh = np.stack([-y, rng.uniform(0.5, 1.5, len(y))], axis=1).astype(np.float32)
    blocks = ColumnBlocks.from_dense(X)
    features = np.arange(X.shape[1], dtype=np.int64)
    position = np.zeros(len(X), dtype=np.int32)
    sums = np.empty((1, 2))
    level_sums(position, gh, sums)
    t = np.sign(sums[0, 0]) * max(abs(sums[0, 0]) - alpha, 0.0)
    root_score = np.array([t * t / (sums[0, 1] + lam)], dtype=np.float32)
    shape = (len(features), 1)
    gain, value = np.empty(shape, np.float32), np.empty(shape, np.float32)
    left, stats = np.empty(shape, np.bool_), np.empty(shape + (2,))
    row_stats = np.empty((len(X), 3), np.float32)
    level_rows(position, gh, row_stats)
    find_exact_splits(blocks.col_ptr, blocks.col_row, blocks.col_value, blocks.forward, row_stats, sums,
                      root_score, np.array([[-np.inf, np.inf]], np.float32), features, np.ones((1, 4), np.bool_),
                      np.zeros(4, np.int8), (lam, alpha, mcw, 0.0), False, gain, value, left, stats)
    best_gain, best_f, best_value, best_left = brute_force_root(X, gh, lam, alpha, mcw)
    f = int(np.argmax(gain[:, 0]))
    assert f == best_f
    assert gain[f, 0] == pytest.approx(best_gain, rel=1e-5)
    assert left[f, 0] == best_left
    if best_value is not None:
        assert value[f, 0] == best_value
    # the left sums are those of the rows the threshold and direction send left
    x = X[:, f].astype(np.float32)
    goes_left = np.where(np.isnan(x), left[f, 0], x < value[f, 0])
    np.testing.assert_allclose(stats[f, 0], gh[goes_left].astype(np.float64).sum(axis=0), rtol=1e-9)


@pytest.mark.parametrize("lam, alpha", [(1.0, 0.0), (0.0, 0.5), (3.0, 2.0)])
def test_division_free_bound_never_rules_out_a_better_split(lam, alpha):
    """The scan skips a candidate's float32 gain when ``_cannot_beat`` says the gain cannot exceed
    the node's best: for a best just below the candidate's gain (the sharpest case) it must
    evaluate, and for a best well above it, skip."""
    rng = np.random.default_rng(5)
    reg = (lam, alpha, 0.0, 0.0)
    for _ in range(2000):
        lg, rg = rng.normal(size=2) * 10.0 ** rng.uniform(-3, 3)
        lh, rh = 10.0 ** rng.uniform(-3, 3, size=2)
        t = np.sign(lg + rg) * max(abs(lg + rg) - alpha, 0.0)
        score = np.float32(t * t / (lh + rh + lam))
        gain = _split_gain(lg, lh, rg, rh, -np.inf, np.inf, 0, score, reg, False)
        just_below = np.float64(np.nextafter(gain, np.float32(-np.inf)))
        if just_below >= 0.0:  # the scan's best gain is never negative
            assert not _cannot_beat(lg, lh, rg, rh, just_below + score, reg)
        assert _cannot_beat(lg, lh, rg, rh, 1.001 * (max(gain, 0.0) + score) + 1e-30, reg)
