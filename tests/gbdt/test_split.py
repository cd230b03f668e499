"""Split search against brute-force enumeration of every threshold and missing direction."""
import numpy as np
import pytest

from gbdt.split import (_pick_best_splits, _scan_feature, _scan_free_feature, clamp, find_best_splits, leaf_weight,
                        node_outputs, node_score)


def soft(g, a):
    return np.sign(g) * max(abs(g) - a, 0.0)


def brute_force(hist, n_value_bins, missing_bin, lam, alpha, mcw, monotone=None, lower=-np.inf, upper=np.inf):
    """Best (gain, feature, bin, default_left) of one node by trying every candidate; with
    ``monotone`` (F,), weights are clamped to [lower, upper] and scored as XGBoost does."""
    total = hist[0].sum(axis=0)
    weight = lambda g, h: np.clip(-soft(g, alpha) / (h + lam), lower, upper)
    if monotone is None:
        score = lambda g, h: soft(g, alpha) ** 2 / (h + lam)
    else:
        score = lambda g, h: -(2 * g * weight(g, h) + (h + lam) * weight(g, h) ** 2 + 2 * alpha * abs(weight(g, h)))
    best = (0.0, -1, -1, True)
    for f in range(hist.shape[0]):  # XGBoost's order: missing right b ascending, then left b descending
        miss = hist[f, missing_bin]
        order = [(b, False) for b in range(n_value_bins[f])]
        if miss[1] > 0 or miss[0] != 0:
            order += [(b, True) for b in range(n_value_bins[f] - 2, -2, -1)]
        for b, missing_left in order:
            left = hist[f, : b + 1].sum(axis=0)
            lt = left + miss if missing_left else left
            rt = total - lt
            if lt[1] <= 0 or rt[1] <= 0 or lt[1] < mcw or rt[1] < mcw:
                continue
            if monotone is not None and monotone[f] * (weight(*lt) - weight(*rt)) > 0:
                continue
            gain = score(lt[0], lt[1]) + score(rt[0], rt[1]) - score(total[0], total[1])
            if gain > best[0] + 1e-12:
                best = (gain, f, b, missing_left)
    return best


def random_node(rng, n_feat, n_bins, missing_bin):
    """(hist (F, B, 2), sums (1, 2)) of 300 rows with plenty of missing values."""
    X = rng.integers(0, n_bins, size=(300, n_feat))
    X[rng.random(X.shape) < 0.5] = missing_bin
    X[:, 1] = np.minimum(X[:, 1], 5)  # a feature with few values (and no missing)
    g = rng.standard_normal(300) + 0.7 * (X[:, 0] > 8)
    h = rng.uniform(0.1, 1.0, 300)
    hist = np.zeros((n_feat, n_bins, 2))
    for f in range(n_feat):
        np.add.at(hist[f, :, 0], X[:, f], g)
        np.add.at(hist[f, :, 1], X[:, f], h)
    return hist, np.array([[g.sum(), h.sum()]])


def flat(hist):
    """(1, F * B, 2) flat histogram and uniform bin offsets of one node's (F, B, 2) histogram."""
    return hist.reshape(1, -1, 2), np.arange(hist.shape[0] + 1, dtype=np.int64) * hist.shape[1]


def split_outputs(n=1, n_bins=17):
    return [np.empty(n), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.bool_), np.empty((n, 2)),
            np.empty((n, n_bins), np.bool_)]


def numeric(n_feat):
    """``categorical`` and ``cat_rules`` arguments of an all-numeric node."""
    return np.zeros(n_feat, np.bool_), (4.0, 32.0, 10.0)


UNBOUNDED = np.array([[-np.inf, np.inf]])


@pytest.mark.parametrize("lam,alpha,mcw", [(1.0, 0.0, 1.0), (0.0, 0.5, 0.0), (5.0, 2.0, 3.0)])
def test_monotone_split_matches_brute_force(lam, alpha, mcw):
    """Constrained features reject splits whose clamped weights go the wrong way; bounds clamp
    the children of every feature."""
    rng = np.random.default_rng(int(lam * 7 + alpha * 5 + mcw))
    n_bins, missing_bin, n_feat = 17, 16, 4
    for trial in range(20):
        hist, sums = random_node(rng, n_feat, n_bins, missing_bin)
        monotone = rng.integers(-1, 2, n_feat).astype(np.int8)
        lower, upper = (-np.inf, np.inf) if trial % 2 else sorted(rng.normal(0, 0.3, 2))
        out = split_outputs()
        find_best_splits(*flat(hist), sums, np.arange(n_feat, dtype=np.int32), np.full(n_feat, missing_bin, np.int32),
                         lam, alpha, mcw, monotone, np.array([[lower, upper]]), *numeric(n_feat), *out)
        gain, f, b, dl = brute_force(hist, np.full(n_feat, missing_bin), missing_bin, lam, alpha, mcw, monotone,
                                     lower, upper)
        assert out[0][0] == pytest.approx(gain, rel=1e-9, abs=1e-12)
        if f >= 0:
            assert (out[1][0], out[2][0], out[3][0]) == (f, b, dl)


@pytest.mark.parametrize("lam,alpha,mcw", [(1.0, 0.0, 1.0), (0.0, 0.5, 0.0), (5.0, 2.0, 3.0)])
def test_best_split_matches_brute_force(lam, alpha, mcw):
    rng = np.random.default_rng(int(lam * 10 + alpha * 3 + mcw))
    n_bins, missing_bin = 17, 16
    for _ in range(20):
        n_feat = 4
        hist, sums = random_node(rng, n_feat, n_bins, missing_bin)
        n_value_bins = np.full(n_feat, missing_bin, dtype=np.int32)
        out = split_outputs()
        find_best_splits(*flat(hist), sums, np.arange(n_feat, dtype=np.int32), n_value_bins,
                         lam, alpha, mcw, np.zeros(n_feat, np.int8), UNBOUNDED, *numeric(n_feat), *out)
        gain, f, b, dl = brute_force(hist, n_value_bins, missing_bin, lam, alpha, mcw)
        assert out[0][0] == pytest.approx(gain, rel=1e-9, abs=1e-12)
        if f >= 0:
            assert (out[1][0], out[2][0]) == (f, b)
            expected_left = hist[f, : b + 1].sum(axis=0) + (hist[f, missing_bin] if dl else 0)
            np.testing.assert_allclose(out[4][0], expected_left, rtol=1e-9)


@pytest.mark.parametrize("lam,alpha,mcw", [(1.0, 0.0, 1.0), (0.0, 0.5, 0.0), (5.0, 2.0, 3.0)])
def test_vectorised_scan_equals_one_pass_scan_bit_for_bit(lam, alpha, mcw):
    """The unconstrained multi-pass scan picks the same split with the same numbers as the
    one-pass scan, with empty bins (skipped by the one-pass scan), with and without missing values."""
    rng = np.random.default_rng(int(lam + 10 * alpha + 100 * mcw))
    n_bins, missing_bin = 17, 16
    for trial in range(40):
        hist, sums = random_node(rng, 4, n_bins, missing_bin)
        for f in range(4):
            hist_f = hist[f].copy()
            hist_f[rng.random(n_bins) < 0.3] = 0.0  # empty bins
            if trial % 2:
                hist_f[missing_bin] = 0.0  # no missing values in this node
            total = hist_f.sum(axis=0)
            scratch = np.full((4, n_bins), np.nan)  # work space reused across calls, stale contents included
            one_pass = _scan_feature(hist_f, missing_bin, missing_bin, total[0], total[1], (lam, alpha, mcw),
                                     (False, 0.0, -np.inf, np.inf), scratch)
            assert _scan_free_feature(hist_f, missing_bin, missing_bin, total[0], total[1], (lam, alpha, mcw),
                                      scratch) == one_pass


def test_no_missing_values_default_right_like_xgboost_hist():
    hist = np.zeros((1, 4, 2))
    hist[0, 0] = [-5.0, 2.0]
    hist[0, 1] = [5.0, 2.0]
    out = split_outputs(n_bins=4)
    find_best_splits(*flat(hist), np.array([[0.0, 4.0]]), np.array([0], np.int32), np.array([2], np.int32),
                     1.0, 0.0, 1.0, np.zeros(1, np.int8), UNBOUNDED, *numeric(1), *out)
    assert out[1][0] == 0 and out[2][0] == 0 and not out[3][0]


def test_leaf_weight_and_score_closed_form():
    assert leaf_weight(-6.0, 2.0, 1.0, 0.0) == pytest.approx(2.0)
    assert leaf_weight(-6.0, 2.0, 1.0, 1.5) == pytest.approx(1.5)
    assert leaf_weight(1.0, 2.0, 1.0, 1.5) == 0.0
    assert node_score(-6.0, 2.0, 1.0, 0.0) == pytest.approx(12.0)


def test_leaf_outputs_equal_the_scalar_kernels_bit_for_bit():
    """node_outputs (numpy, one call per tree) gives the bits of clamp(leaf_weight(...)) x learning rate."""
    rng = np.random.default_rng(4)
    g = np.r_[rng.standard_normal(2000) * 5, [0.0, -0.0, 0.7, -0.7]]
    h = rng.uniform(0.0, 3.0, g.shape[0])
    lower = np.where(rng.random(g.shape[0]) < 0.3, -0.4, -np.inf)
    upper = np.where(rng.random(g.shape[0]) < 0.3, 0.3, np.inf)
    for lam, alpha in [(1.0, 0.0), (0.5, 0.7), (0.0, 2.0)]:
        out = np.empty_like(g)
        node_outputs(g, h, lower, upper, lam, alpha, 0.1, out)
        expected = np.array([0.1 * clamp(leaf_weight(a, b, lam, alpha), lo, up)
                             for a, b, lo, up in zip(g, h, lower, upper)])
        np.testing.assert_array_equal(out.view(np.int64), expected.view(np.int64))


def test_best_split_per_node_is_the_first_highest_positive_gain():
    """_pick_best_splits against a loop over the pairs: ties to the lowest feature, NaN and gains <= 0 never win."""
    rng = np.random.default_rng(5)
    n_nodes, k = 40, 6
    gains = rng.choice([-np.inf, np.nan, -1.0, 0.0, 0.5, 1.0, 2.0], size=n_nodes * k)
    bins, lefts, stats = rng.integers(0, 9, n_nodes * k), rng.random(n_nodes * k) < 0.5, rng.random((n_nodes * k, 2))
    features = np.array([1, 3, 4, 7, 8, 9], dtype=np.int32)
    out = np.zeros(n_nodes), np.zeros(n_nodes, np.int64), np.zeros(n_nodes, np.int64), np.zeros(n_nodes, bool)
    left_stats = np.full((n_nodes, 2), -7.0)
    winners = _pick_best_splits(gains, bins, lefts, stats, features, *out, left_stats)
    for node in range(n_nodes):
        best = -1
        for q in range(node * k, (node + 1) * k):
            if gains[q] > 0.0 and (best < 0 or gains[q] > gains[best]):
                best = q
        assert winners[node] == best
        if best < 0:
            assert (out[0][node], out[1][node], out[2][node], out[3][node]) == (0.0, -1, -1, True)
            assert (left_stats[node] == -7.0).all()  # left as it was
        else:
            assert (out[0][node], out[1][node], out[2][node], out[3][node]) == \
                (gains[best], features[best - node * k], bins[best], lefts[best])
            assert (left_stats[node] == stats[best]).all()


def test_compact_layout_finds_the_uniform_layouts_splits():
    """Features of few value bins, stored compactly (value bins then the missing bin, as sparse
    histograms are), give the splits of the same histograms in the uniform (F, B) layout."""
    rng = np.random.default_rng(11)
    n_bins, missing_bin, n_feat = 17, 16, 5
    n_value_bins = np.array([3, 16, 1, 7, 2], dtype=np.int32)
    found = 0
    for trial in range(20):
        hist, sums = random_node(rng, n_feat, n_bins, missing_bin)
        for f in range(n_feat):  # only the feature's value bins and its missing bin hold rows
            hist[f, n_value_bins[f]:missing_bin] = 0.0
        sums = hist[0].sum(axis=0)[None]
        compact = np.concatenate([np.r_[hist[f, :n_value_bins[f]], hist[f, missing_bin:]] for f in range(n_feat)])
        offsets = np.r_[0, np.cumsum(n_value_bins + 1)].astype(np.int64)
        bounds = UNBOUNDED if trial % 2 else np.array([[-0.2, 0.3]])  # the constrained scan too
        outs = [split_outputs(), split_outputs()]
        for (h, off), out in zip(((hist.reshape(1, -1, 2), flat(hist)[1]), (compact[None], offsets)), outs):
            find_best_splits(h, off, sums, np.arange(n_feat, dtype=np.int32), n_value_bins, 1.0, 0.0, 1.0,
                             np.zeros(n_feat, np.int8), bounds, *numeric(n_feat), *out)
        for got, want in zip(outs[1][:5], outs[0][:5]):
            np.testing.assert_array_equal(got, want)
        found += outs[0][1][0] >= 0
    assert found >= 10
