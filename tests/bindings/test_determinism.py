"""The same model whatever the parallel strategy or thread count; reproducible sampling."""
import numpy as np
import pytest

from bindings import Dataset, train
from gbdt import histogram


@pytest.fixture
def data(monkeypatch):
    monkeypatch.setattr(histogram, "ROWS_PER_CHUNK", 512)  # several chunks per node
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6000, 9))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (X[:, 0] + np.nan_to_num(X[:, 1]) * X[:, 2] + rng.standard_normal(6000) > 0).astype(float)
    return Dataset(X, y), X


@pytest.mark.parametrize("policy", ["depthwise", "lossguide"])
def test_split_modes_and_threads_give_identical_predictions(data, policy):
    dtrain, X = data
    base = {"objective": "binary:logistic", "max_depth": 6, "grow_policy": policy, "max_leaves": 20,
            "subsample": 0.8, "colsample_bytree": 0.8}
    preds = [train({**base, "split_mode": mode, "n_jobs": n}, dtrain, 15).predict(X)
             for mode in ("data", "feature", "auto") for n in (1, 2)]
    for p in preds[1:]:
        np.testing.assert_array_equal(p, preds[0])


def test_random_state_changes_sampled_models_only(data):
    dtrain, X = data
    p = {"objective": "binary:logistic", "subsample": 0.5}
    a, b, c = (train({**p, "random_state": s}, dtrain, 5).predict(X) for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
