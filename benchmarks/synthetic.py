"""Synthetic data sets for the benchmarks: non-linear, with interactions, reproducible by seed."""
import numpy as np


def binary_task(n_rows, n_features=28, missing_fraction=0.0, seed=0):
    """(X, y) with y ~ Bernoulli(sigmoid(f(X))), f a sum of thresholds, products and a sine.

    X : (n_rows, n_features) float64 standard normal, ``missing_fraction`` of cells set to NaN.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features))
    k = min(n_features, 8)
    logit = (
        1.5 * (X[:, 0] > 0.3) - X[:, 1] * X[:, 2 % k] + np.sin(2 * X[:, 3 % k]) + 0.5 * X[:, 4 % k] ** 2
        - 0.8 * (X[:, 5 % k] < -0.5) * X[:, 6 % k] + 0.3 * X[:, 7 % k] - 0.5
    )
    y = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(np.float64)
    if missing_fraction > 0:
        X[rng.random(X.shape) < missing_fraction] = np.nan
    return X, y
