"""reg:quantileerror and reg:absoluteerror beyond the XGBoost comparison: leaf values against a
brute-force residual quantile, and calibrated quantiles with row sampling and lossguide growth."""
import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_pinball_loss

from bindings import Dataset, train

rng = np.random.default_rng(21)
X = rng.uniform(-2, 2, size=(6000, 4))
y = np.sin(2 * X[:, 0]) + X[:, 1] + (0.3 + np.abs(X[:, 2])) * rng.standard_normal(6000)  # heteroscedastic
w = rng.uniform(0.5, 2.0, 6000)


@pytest.mark.parametrize("objective,alpha", [("reg:absoluteerror", 0.5), ("reg:quantileerror", 0.8)])
def test_leaves_are_weighted_residual_quantiles(objective, alpha):
    """One round at learning rate 1: the intercept is the weighted label quantile (the smallest label
    whose cumulative weight reaches alpha of the total) and every leaf the same quantile of its rows'
    residuals from it."""
    params = {"objective": objective, "quantile_alpha": alpha, "max_depth": 3, "learning_rate": 1.0}
    booster = train(params, Dataset(X, y, weight=w), 1)

    def quantile(values, weight):
        order = np.argsort(values, kind="stable")
        cumulative = np.cumsum(weight[order])
        return values[order][np.flatnonzero(cumulative >= alpha * cumulative[-1])[0]]

    base = quantile(y, w)
    assert booster.base_margin[0] == pytest.approx(base)
    leaves = booster.predict(X, pred_leaf=True)[:, 0]
    for leaf in np.unique(leaves):
        rows = leaves == leaf
        expected = base + quantile(y[rows] - base, w[rows])
        assert booster.predict(X[rows], output_margin=True) == pytest.approx(np.full(rows.sum(), expected))


@pytest.mark.parametrize("alpha", [0.1, 0.9])
def test_quantiles_are_calibrated_with_row_sampling_and_lossguide(alpha):
    """With subsample (leaves refit on the round's rows) and lossguide growth, the held-out share
    of labels below the prediction is near alpha (both libraries land ~0.03 inside it on 4000 rows)
    and near scikit-learn's HistGradientBoostingRegressor(loss="quantile") with the same leaves,
    rounds and rate, and so is the pinball loss."""
    train_rows, test_rows = slice(0, 4000), slice(4000, None)
    params = {"objective": "reg:quantileerror", "quantile_alpha": alpha, "learning_rate": 0.1,
              "grow_policy": "lossguide", "max_leaves": 15, "max_depth": 0, "subsample": 0.8}
    pred = train(params, Dataset(X[train_rows], y[train_rows]), 100).predict(X[test_rows])
    assert abs((y[test_rows] <= pred).mean() - alpha) < 0.05
    reference = HistGradientBoostingRegressor(loss="quantile", quantile=alpha, learning_rate=0.1, max_iter=100,
                                              max_leaf_nodes=15, early_stopping=False, random_state=0)
    ref_pred = reference.fit(X[train_rows], y[train_rows]).predict(X[test_rows])
    assert abs((y[test_rows] <= pred).mean() - (y[test_rows] <= ref_pred).mean()) < 0.02
    ours, theirs = (mean_pinball_loss(y[test_rows], p, alpha=alpha) for p in (pred, ref_pred))
    assert ours < 1.05 * theirs
