"""Synthetic data sets for the benchmarks: non-linear, with interactions, reproducible by seed.

Every task draws X standard normal (float64) and derives its target from one latent function
``latent`` (thresholds, products, a sine, a square) of the first eight features, so trees of
every library have the same structure to find; ``missing_fraction`` of the cells are then NaN.
"""
import numpy as np


def latent(X, shift=0):
    """(n,) non-linear score of the features ``shift .. shift + 7`` (cyclic) of X (n, F)."""
    n_features = X.shape[1]
    k = min(n_features, 8)

    def col(j):
        return X[:, (shift + j % k) % n_features]

    return (1.5 * (col(0) > 0.3) - col(1) * col(2) + np.sin(2 * col(3)) + 0.5 * col(4) ** 2
            - 0.8 * (col(5) < -0.5) * col(6) + 0.3 * col(7) - 0.5)


def _features(rng, n_rows, n_features):
    return rng.standard_normal((n_rows, n_features))


def _hide(rng, X, missing_fraction):
    """Set ``missing_fraction`` of the cells of X to NaN, in place, one row block at a time (a
    whole-matrix mask would double the peak memory of a 4M-row task)."""
    if missing_fraction > 0:
        for lo in range(0, X.shape[0], 65536):
            block = X[lo:lo + 65536]
            block[rng.random(block.shape) < missing_fraction] = np.nan
    return X


def binary_task(n_rows, n_features=28, missing_fraction=0.0, seed=0):
    """(X, y) with y ~ Bernoulli(sigmoid(latent(X))).

    X : (n_rows, n_features) float64 standard normal, ``missing_fraction`` of cells set to NaN.
    """
    rng = np.random.default_rng(seed)
    X = _features(rng, n_rows, n_features)
    y = (rng.random(n_rows) < 1 / (1 + np.exp(-latent(X)))).astype(np.float64)
    return _hide(rng, X, missing_fraction), y


def regression_task(n_rows, n_features=28, missing_fraction=0.0, seed=0):
    """(X, y) with y = latent(X) + N(0, 0.5^2) noise; X as in ``binary_task``."""
    rng = np.random.default_rng(seed)
    X = _features(rng, n_rows, n_features)
    y = latent(X) + 0.5 * rng.standard_normal(n_rows)
    return _hide(rng, X, missing_fraction), y


def multiclass_task(n_rows, n_features=28, n_classes=10, missing_fraction=0.0, seed=0):
    """(X, y) with y in 0..n_classes-1 drawn from softmax over classes k of latent(X, shift=k).

    Each class scores its own cyclic window of features, so classes are told apart by different
    features; y is float64 class indices.
    """
    rng = np.random.default_rng(seed)
    X = _features(rng, n_rows, n_features)
    logits = np.stack([latent(X, shift=k) for k in range(n_classes)], axis=1)
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    cumulative = np.cumsum(prob, axis=1)
    u = rng.random(n_rows) * cumulative[:, -1]
    y = np.minimum((cumulative < u[:, None]).sum(axis=1), n_classes - 1).astype(np.float64)
    return _hide(rng, X, missing_fraction), y


# relevance grades 0..4 split the hidden score at these quantiles: half the documents irrelevant,
# few perfect, as in graded web-search labels
RELEVANCE_QUANTILES = (0.5, 0.75, 0.9, 0.97)


def ranking_task(n_rows, n_features=28, missing_fraction=0.0, seed=0):
    """(X, y) with graded relevance y in 0..4: the hidden score latent(X) + N(0, 0.5^2) cut at the
    ``RELEVANCE_QUANTILES`` of its distribution; X as in ``binary_task``. Queries: ``query_ids``."""
    rng = np.random.default_rng(seed)
    X = _features(rng, n_rows, n_features)
    hidden = latent(X) + 0.5 * rng.standard_normal(n_rows)
    y = np.searchsorted(np.quantile(hidden, RELEVANCE_QUANTILES), hidden).astype(np.float64)
    return _hide(rng, X, missing_fraction), y


def query_ids(n_rows, mean_size=100, seed=0):
    """(n_rows,) sorted int64 query ids: consecutive queries of 50%..150% of ``mean_size``
    documents (the last one cut at ``n_rows``), the same for the same arguments."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(mean_size // 2, mean_size * 3 // 2 + 1, n_rows // max(1, mean_size // 2) + 1)
    return np.repeat(np.arange(sizes.shape[0]), sizes)[:n_rows]
