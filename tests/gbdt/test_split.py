"""Split search against brute-force enumeration of every threshold and missing direction."""
import numpy as np
import pytest

from gbdt.split import find_best_splits, leaf_weight, node_score


def soft(g, a):
    return np.sign(g) * max(abs(g) - a, 0.0)


def brute_force(hist, n_value_bins, missing_bin, lam, alpha, mcw):
    """Best (gain, feature, bin, default_left) of one node by trying every candidate."""
    total = hist[0].sum(axis=0)
    score = lambda g, h: soft(g, alpha) ** 2 / (h + lam)
    best = (0.0, -1, -1, True)
    for f in range(hist.shape[0]):
        miss = hist[f, missing_bin]
        for b in range(n_value_bins[f]):
            left = hist[f, : b + 1].sum(axis=0)
            for missing_left in (True, False):
                lt = left + miss if missing_left else left
                rt = total - lt
                if lt[1] <= 0 or rt[1] <= 0 or lt[1] < mcw or rt[1] < mcw:
                    continue
                gain = score(lt[0], lt[1]) + score(rt[0], rt[1]) - score(total[0], total[1])
                if gain > best[0] + 1e-12:
                    best = (gain, f, b, missing_left)
    return best


@pytest.mark.parametrize("lam,alpha,mcw", [(1.0, 0.0, 1.0), (0.0, 0.5, 0.0), (5.0, 2.0, 3.0)])
def test_best_split_matches_brute_force(lam, alpha, mcw):
    rng = np.random.default_rng(int(lam * 10 + alpha * 3 + mcw))
    n_bins, missing_bin = 17, 16
    for _ in range(20):
        n_feat = 4
        X = rng.integers(0, n_bins, size=(300, n_feat))
        X[rng.random(X.shape) < 0.5] = missing_bin  # plenty of missing values
        X[:, 1] = np.minimum(X[:, 1], 5)  # a feature with few values (and no missing)
        g = rng.standard_normal(300) + 0.7 * (X[:, 0] > 8)
        h = rng.uniform(0.1, 1.0, 300)
        hist = np.zeros((n_feat, n_bins, 2))
        for f in range(n_feat):
            np.add.at(hist[f, :, 0], X[:, f], g)
            np.add.at(hist[f, :, 1], X[:, f], h)
        n_value_bins = np.full(n_feat, missing_bin, dtype=np.int32)
        sums = np.array([[g.sum(), h.sum()]])
        out = [np.empty(1), np.empty(1, np.int64), np.empty(1, np.int64), np.empty(1, np.bool_), np.empty((1, 2))]
        find_best_splits(hist[None], sums, np.arange(n_feat, dtype=np.int32), n_value_bins, missing_bin,
                         lam, alpha, mcw, *out)
        gain, f, b, dl = brute_force(hist, n_value_bins, missing_bin, lam, alpha, mcw)
        assert out[0][0] == pytest.approx(gain, rel=1e-9, abs=1e-12)
        if f >= 0:
            assert (out[1][0], out[2][0]) == (f, b)
            expected_left = hist[f, : b + 1].sum(axis=0) + (hist[f, missing_bin] if dl else 0)
            np.testing.assert_allclose(out[4][0], expected_left, rtol=1e-9)


def test_no_missing_values_default_left_like_xgboost():
    hist = np.zeros((1, 4, 2))
    hist[0, 0] = [-5.0, 2.0]
    hist[0, 1] = [5.0, 2.0]
    out = [np.empty(1), np.empty(1, np.int64), np.empty(1, np.int64), np.empty(1, np.bool_), np.empty((1, 2))]
    find_best_splits(hist[None], np.array([[0.0, 4.0]]), np.array([0], np.int32), np.array([2], np.int32),
                     3, 1.0, 0.0, 1.0, *out)
    assert out[1][0] == 0 and out[2][0] == 0 and out[3][0]


def test_leaf_weight_and_score_closed_form():
    assert leaf_weight(-6.0, 2.0, 1.0, 0.0) == pytest.approx(2.0)
    assert leaf_weight(-6.0, 2.0, 1.0, 1.5) == pytest.approx(1.5)
    assert leaf_weight(1.0, 2.0, 1.0, 1.5) == 0.0
    assert node_score(-6.0, 2.0, 1.0, 0.0) == pytest.approx(12.0)
