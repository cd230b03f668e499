"""interaction_constraints: which features may share a branch, against XGBoost and the rule itself."""
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from bindings import Dataset, train

rng = np.random.default_rng(5)
X = rng.integers(0, 8, size=(4000, 5)).astype(float)  # exact bins: XGBoost's cuts equal ours
y = X[:, 0] * X[:, 1] + X[:, 2] * X[:, 3] + np.sin(X[:, 4]) + rng.standard_normal(4000)


def branch_features(tree):
    """Set of the features split on along each root-to-leaf branch of ``tree``."""
    branches, stack = [], [(0, frozenset())]
    while stack:
        node, above = stack.pop()
        if tree.left[node] < 0:
            branches.append(above)
        else:
            here = above | {int(tree.feature[node])}
            stack.extend(((tree.left[node], here), (tree.right[node], here)))
    return branches


@pytest.mark.parametrize("groups", [[[0, 1], [2, 3]], [[0, 1, 2], [2, 3, 4]], [[0], [1, 2, 3, 4]]])
def test_like_xgboost_and_every_branch_inside_one_group(groups):
    """On exact bins the model equals XGBoost's; every branch's features lie inside one group, or
    it splits on a single feature (the root may take any, its branch then only repeats it)."""
    params = {"objective": "reg:squarederror", "max_depth": 4, "learning_rate": 0.3, "interaction_constraints": groups}
    booster = train({**params, "n_jobs": 1}, Dataset(X, y), 10)
    theirs = xgb.train({**params, "interaction_constraints": str(groups), "tree_method": "hist", "nthread": 1},
                       xgb.DMatrix(X, y), 10)
    np.testing.assert_allclose(booster.predict(X), theirs.predict(xgb.DMatrix(X)), rtol=1e-5, atol=1e-4)
    free = train({**params, "interaction_constraints": None}, Dataset(X, y), 10)
    assert np.abs(free.predict(X) - booster.predict(X)).max() > 0.1  # the constraints changed the model
    for tree in booster.trees:
        for branch in branch_features(tree):
            assert len(branch) <= 1 or any(branch <= set(g) for g in groups), (branch, groups)


def test_by_name_with_sampling_and_lossguide():
    """Groups by feature name (or the JSON string form) equal groups by index, and the rule holds
    with colsample_bynode and lossguide growth too."""
    frame = pd.DataFrame(X, columns=list("abcde"))
    params = {"max_depth": 0, "grow_policy": "lossguide", "max_leaves": 12, "colsample_bynode": 0.7}
    by_index = train({**params, "interaction_constraints": [[0, 1], [2, 3, 4]]}, Dataset(frame, y), 8)
    by_name = train({**params, "interaction_constraints": '[["a", "b"], ["c", "d", "e"]]'}, Dataset(frame, y), 8)
    np.testing.assert_array_equal(by_index.predict(frame), by_name.predict(frame))
    for tree in by_index.trees:
        for branch in branch_features(tree):
            assert len(branch) <= 1 or branch <= {0, 1} or branch <= {2, 3, 4}


@pytest.mark.parametrize("value,error,message", [
    ([[0, 9]], ValueError, "out of range for 5 features"), ([["f0", "zz"]], ValueError, "unknown feature 'zz'"),
    ([[]], ValueError, "non-empty feature lists"), ("[[0, 1]", ValueError, "list of feature lists"),
    ([0, 1], ValueError, "non-empty feature lists"), ([[0.5, 1]], TypeError, "by index or name")])
def test_bad_constraints_raise(value, error, message):
    with pytest.raises(error, match=message):
        train({"interaction_constraints": value}, Dataset(X, y), 1)
