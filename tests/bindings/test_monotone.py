"""Monotone constraints: predictions monotone along constrained features, unconstrained models
unchanged, and the same trees as XGBoost where both see the same candidate thresholds."""
import numpy as np
import pytest
import xgboost as xgb

from bindings import Dataset, train

PARAMS = {"objective": "reg:squarederror", "max_depth": 5, "learning_rate": 0.3, "max_bin": 64, "n_jobs": 1}


def wavy_data(n=3000, seed=0):
    """y rises with x0 and falls with x1 overall, but noise and a wiggle make unconstrained trees
    non-monotone; x2 is free."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3))
    y = X[:, 0] + 0.6 * np.sin(4 * X[:, 0]) - X[:, 1] + np.sin(3 * X[:, 2]) + rng.normal(0, 0.5, n)
    return X, y


def grid_deltas(predict, X, feature, n_rows=60, n_grid=41):
    """Differences of predictions along a grid of ``feature`` for random rows: (n_rows, n_grid - 1)."""
    rows = X[np.random.default_rng(1).choice(X.shape[0], n_rows, replace=False)]
    grid = np.linspace(-2.2, 2.2, n_grid)
    Z = np.repeat(rows, n_grid, axis=0)
    Z[:, feature] = np.tile(grid, n_rows)
    return np.diff(predict(Z).reshape(n_rows, n_grid), axis=1)


@pytest.mark.parametrize("policy", ["depthwise", "lossguide"])
def test_predictions_are_monotone_on_a_grid(policy):
    X, y = wavy_data()
    params = {**PARAMS, "grow_policy": policy, "max_leaves": 24 if policy == "lossguide" else 0}
    free = train(params, Dataset(X, y), 30)
    assert (grid_deltas(free.predict, X, 0) < -1e-9).any(), "data too easy: the free model is already monotone"
    model = train({**params, "monotone_constraints": (1, -1, 0)}, Dataset(X, y), 30)
    assert (grid_deltas(model.predict, X, 0) >= 0).all()
    assert (grid_deltas(model.predict, X, 1) <= 0).all()
    assert not (grid_deltas(model.predict, X, 2) >= 0).all()  # the free feature keeps its wiggle
    rmse = np.sqrt(np.mean((model.predict(X) - y) ** 2))
    assert rmse < 0.8 * np.std(y)


def test_all_zero_constraints_leave_the_model_bit_identical():
    X, y = wavy_data(1500)
    X[::7, 1] = np.nan
    base = train(PARAMS, Dataset(X, y), 10).predict(X)
    zeros = train({**PARAMS, "monotone_constraints": [0, 0, 0]}, Dataset(X, y), 10).predict(X)
    np.testing.assert_array_equal(base, zeros)


def test_constraints_by_feature_name_equal_constraints_by_position():
    X, y = wavy_data(1500)
    names = ["up", "down", "free"]
    by_name = train({**PARAMS, "monotone_constraints": {"down": -1, "up": 1}}, Dataset(X, y, feature_names=names), 8)
    by_position = train({**PARAMS, "monotone_constraints": "(1,-1,0)"}, Dataset(X, y), 8)
    np.testing.assert_array_equal(by_name.predict(X), by_position.predict(X))


def test_stumps_on_exact_bins_equal_xgboost():
    """Depth-1 trees: both libraries drop the same invalid candidates and pick the same splits."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 8, size=(2000, 3)).astype(float)
    y = -2.0 * (X[:, 0] > 3) + (X[:, 1] == 5) + np.sin(X[:, 2]) + rng.standard_normal(2000) * 0.1
    params = {"objective": "reg:squarederror", "max_depth": 1, "learning_rate": 0.5, "base_score": 0.5,
              "monotone_constraints": "(1,0,-1)"}
    ours = train({**params, "n_jobs": 1}, Dataset(X, y), 10).predict(X)
    theirs = xgb.train({**params, "tree_method": "hist", "nthread": 1}, xgb.DMatrix(X, y), 10).predict(xgb.DMatrix(X))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_deeper_trees_match_xgboost():
    """Depth 4 with propagated bounds: on data with few distinct values the trees are the same as
    XGBoost's up to float32 rounding; both models are monotone."""
    rng = np.random.default_rng(5)
    X = rng.integers(0, 12, size=(3000, 3)).astype(float)
    y = X[:, 0] * 0.3 + np.sin(X[:, 0]) - 0.2 * X[:, 1] + np.cos(X[:, 2]) + rng.normal(0, 0.3, 3000)
    params = {"objective": "reg:squarederror", "max_depth": 4, "learning_rate": 0.3, "base_score": 0.0,
              "monotone_constraints": (1, -1, 0)}
    ours = train({**params, "n_jobs": 1}, Dataset(X, y), 20)
    theirs = xgb.train({**params, "tree_method": "hist", "nthread": 1}, xgb.DMatrix(X, y), 20)
    predict_theirs = lambda Z: theirs.predict(xgb.DMatrix(Z))
    np.testing.assert_allclose(ours.predict(X), predict_theirs(X), rtol=1e-4, atol=1e-4)
    for predict in (ours.predict, predict_theirs):
        assert (grid_deltas(predict, X, 0) >= -1e-6).all()


@pytest.mark.parametrize("value,error", [((1, 2, 0), ValueError), ((1, 0), ValueError), ({"nope": 1}, ValueError),
                                         (1, TypeError), ((1.5, 0, 0), ValueError)])
def test_bad_constraints_raise(value, error):
    X, y = wavy_data(200)
    with pytest.raises(error, match="monotone_constraints"):
        train({**PARAMS, "monotone_constraints": value}, Dataset(X, y), 1)
