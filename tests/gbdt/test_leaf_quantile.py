"""Leaf quantiles against brute-force definitions."""
import numpy as np
import pytest

from gbdt.leaf_quantile import leaf_residual_quantiles, weighted_quantile

rng = np.random.default_rng(0)


def nist_quantile(values, alpha):
    """Order statistics x_(1) <= ... <= x_(m): rank h = alpha (m + 1), x_(floor h) plus the
    fraction of h towards x_(floor h + 1); x_(1) below rank 1, x_(m) above rank m."""
    x = sorted(values)
    h = alpha * (len(x) + 1)
    if h <= 1:
        return x[0]
    if h >= len(x):
        return x[-1]
    lo = int(np.floor(h))
    return x[lo - 1] + (h - lo) * (x[lo] - x[lo - 1])


def step_quantile(values, alpha, weight):
    """The first value, ascending, at which the running weight reaches alpha x the total."""
    pairs = sorted(zip(values, weight), key=lambda p: p[0])
    total, running = sum(weight), 0.0
    for v, w in pairs:
        running += w
        if running >= alpha * total:
            return v
    return pairs[-1][0]


@pytest.mark.parametrize("m", [1, 2, 5, 40])
@pytest.mark.parametrize("alpha", [0.0, 0.05, 0.5, 0.9, 1.0])
def test_quantiles_match_their_definitions(m, alpha):
    values = rng.standard_normal(m)
    assert weighted_quantile(values, alpha) == pytest.approx(nist_quantile(values, alpha), abs=1e-12)
    weight = rng.uniform(0.1, 3.0, m)
    assert weighted_quantile(values, alpha, weight) == step_quantile(values, alpha, weight)


def test_ties_and_empty():
    values = np.array([2.0, 1.0, 2.0, 3.0])
    assert weighted_quantile(values, 0.5, np.array([1.0, 1.0, 1.0, 1.0])) == 2.0
    assert weighted_quantile(values, 0.5) == 2.0
    assert np.isnan(weighted_quantile(np.empty(0), 0.5))


@pytest.mark.parametrize("weighted", [False, True])
def test_leaf_kernel_takes_each_leaf_residual_quantile(weighted):
    """The per-leaf kernel (leaves in parallel) equals the quantile of each leaf's residuals
    label - margin[:, column], taken one leaf at a time by the definitions above."""
    n = 500
    label, margin = rng.standard_normal(n), rng.standard_normal((n, 2))
    weight = rng.uniform(0.1, 2.0, n) if weighted else np.empty(0)
    rows = rng.permutation(n).astype(np.int32)
    starts, stops = np.array([0, 7, 7, 200]), np.array([7, 7, 200, 500])  # one leaf without rows
    out = np.empty(4)
    leaf_residual_quantiles(rows, starts, stops, label, margin, 1, weight, 0.7, out)
    for j in range(4):
        leaf = rows[starts[j]:stops[j]]
        residual = label[leaf] - margin[leaf, 1]
        if leaf.size == 0:
            assert np.isnan(out[j])
        elif weighted:
            assert out[j] == step_quantile(residual, 0.7, weight[leaf])
        else:
            assert out[j] == pytest.approx(nist_quantile(residual, 0.7), abs=1e-12)
