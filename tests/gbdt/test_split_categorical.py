"""Categorical split search against a brute-force numpy twin of LightGBM's sorted-category scan,
and against exhaustive search over every category subset where sorting is provably optimal."""
import itertools

import numpy as np
import pytest

from gbdt.split import find_best_splits

N_BINS, MISSING = 17, 16


def score(g, h, lam, alpha):
    t = np.sign(g) * max(abs(g) - alpha, 0.0)
    return t * t / (h + lam)


def split_gain(left, total, lam, alpha, mcw):
    """Gain of sending (G, H) = ``left`` left, or None when a child is too light."""
    right = total - left
    if left[1] <= 0 or right[1] <= 0 or left[1] < mcw or right[1] < mcw:
        return None
    return score(*left, lam, alpha) + score(*right, lam, alpha) - score(*total, lam, alpha)


def best_of(candidates, hist, lam, alpha, mcw):
    """Best (gain, left set, missing_left) over candidate category sets, missing sent either way."""
    total = hist.sum(axis=0)
    has_missing = hist[MISSING, 1] > 0
    best = (0.0, None, True)
    for cats in candidates:
        values = hist[list(cats)].sum(axis=0)
        for missing_left in (True, False) if has_missing else (True,):
            gain = split_gain(values + hist[MISSING] * missing_left, total, lam, alpha, mcw)
            if gain is not None and gain > best[0] + 1e-12:
                best = (gain, sorted(cats), missing_left)
    return best


def twin_candidates(hist, n_cats, max_onehot, max_threshold, smooth):
    """The left sets the scan tries, in its order (plain Python, no shared code with the kernel)."""
    present = [c for c in range(n_cats) if hist[c, 1] > 0]
    if n_cats <= max_onehot:
        return [[c] for c in present]
    order = sorted(present, key=lambda c: hist[c, 0] / (hist[c, 1] + smooth))  # stable, as the kernel
    take = min(max_threshold, (len(order) + 1) // 2)
    return [order[:j] for j in range(1, take + 1)] + [order[-j:] for j in range(1, take + 1)]


def random_hist(rng, n_cats, empty=0.2):
    """(N_BINS, 2) histogram of one categorical feature: some empty categories, a missing bin."""
    hist = np.zeros((N_BINS, 2))
    hist[:n_cats, 0] = rng.normal(0, 3, n_cats)
    hist[:n_cats, 1] = rng.uniform(0.2, 4, n_cats)
    hist[:n_cats][rng.random(n_cats) < empty] = 0.0
    if rng.random() < 0.7:
        hist[MISSING] = rng.normal(0, 3), rng.uniform(0.2, 4)
    return hist


def run_kernel(hist, n_cats, lam, alpha, mcw, rules):
    """(gain, left categories, default_left, left stats) from ``find_best_splits`` on one node."""
    out = [np.empty(1), np.empty(1, np.int64), np.empty(1, np.int64), np.empty(1, np.bool_), np.empty((1, 2)),
           np.empty((1, N_BINS), np.bool_)]
    find_best_splits(hist[None], np.array([0, hist.shape[0]]), hist.sum(axis=0)[None], np.array([0], np.int32),
                     np.array([n_cats], np.int32), lam, alpha, mcw, np.zeros(1, np.int8),
                     np.array([[-np.inf, np.inf]]), np.array([True]), tuple(float(r) for r in rules), *out)
    return out[0][0], np.flatnonzero(out[5][0]).tolist(), bool(out[3][0]), out[4][0], out[1][0]


@pytest.mark.parametrize("rules", [(4, 32, 10.0), (4, 3, 0.0), (20, 32, 10.0), (0, 32, 1.0)])
@pytest.mark.parametrize("lam,alpha,mcw", [(1.0, 0.0, 1.0), (0.0, 0.5, 0.0), (5.0, 1.0, 2.0)])
def test_categorical_scan_matches_numpy_twin(rules, lam, alpha, mcw):
    rng = np.random.default_rng(int(10 * lam + 3 * mcw + rules[1]))
    for _ in range(30):
        n_cats = int(rng.integers(2, MISSING + 1))
        hist = random_hist(rng, n_cats)
        gain, cats, default_left, left_stats, feature = run_kernel(hist, n_cats, lam, alpha, mcw, rules)
        expected_gain, expected_cats, expected_left = best_of(twin_candidates(hist, n_cats, *rules), hist, lam, alpha,
                                                              mcw)
        assert gain == pytest.approx(expected_gain, rel=1e-9, abs=1e-12)
        if expected_cats is None:
            assert feature == -1 and cats == []
            continue
        present = set(np.flatnonzero(hist[:n_cats, 1] > 0).tolist())
        # the same partition with sides swapped (without missing values both default left)
        mirrored = (sorted(present - set(cats)), not default_left if hist[MISSING, 1] > 0 else default_left)
        assert (expected_cats, expected_left) in ((cats, default_left), mirrored)
        np.testing.assert_allclose(left_stats, hist[cats].sum(axis=0) + hist[MISSING] * default_left, rtol=1e-12)
        if n_cats <= rules[0]:
            assert len(cats) == 1


def test_sorted_scan_is_the_best_of_all_subsets_without_smoothing():
    """Without regularisation the best split of categories sorted by G/H is the best of all
    2^K subsets (Fisher 1958; Breiman et al. 1984), missing values on either side included."""
    rng = np.random.default_rng(7)
    for _ in range(25):
        n_cats = 7
        hist = random_hist(rng, n_cats, empty=0.0)
        gain, cats, *_ = run_kernel(hist, n_cats, 0.0, 0.0, 0.0, (0, 64, 0.0))
        subsets = [s for r in range(1, n_cats) for s in itertools.combinations(range(n_cats), r)]
        best_gain, best_cats, _ = best_of(subsets, hist, 0.0, 0.0, 0.0)
        assert gain == pytest.approx(best_gain, rel=1e-9)
        assert cats in (best_cats, sorted(set(range(n_cats)) - set(best_cats)))
