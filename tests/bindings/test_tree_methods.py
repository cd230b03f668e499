"""tree_method "exact" and "approx" against XGBoost's, through train, cv, the estimators and model IO."""
import json
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import mean_squared_error, roc_auc_score
from sklearn.model_selection import train_test_split

from bindings import Booster, Dataset, GBDTClassifier, GBDTRegressor, cv, train
from bindings.cv import make_folds

ROUNDS = 15


def ties_and_nan(seed, n=400, binary=False):
    """A few hundred rows whose values repeat (one decimal; a feature of integers) with 15% NaN,
    and a label that depends on the missingness too."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, 6)), 1)
    X[:, 2] = np.round(X[:, 2])
    X[rng.random(X.shape) < 0.15] = np.nan
    z = 1.5 * np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) + 2 * np.isnan(X[:, 3]) + rng.normal(size=n) * 0.3
    return X, (z > 0).astype(float) if binary else z


def both_exact(params, X, y, rounds=ROUNDS):
    ours = train({**params, "tree_method": "exact"}, Dataset(X, y), rounds)
    theirs = xgb.train({**params, "tree_method": "exact", "nthread": 1}, xgb.DMatrix(X, y), rounds)
    return ours, theirs


CASES = {
    "plain": {},
    "depth3_alpha_lambda_mcw": {"max_depth": 3, "reg_alpha": 0.5, "reg_lambda": 3.0, "min_child_weight": 5.0},
    "gamma": {"gamma": 2.0},
    "monotone": {"monotone_constraints": "(1,-1,0,0,0,0)"},
    "max_delta_step": {"max_delta_step": 0.3},
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("objective", ["reg:squarederror", "binary:logistic"])
def test_exact_trees_equal_xgboost_exact(objective, case):
    X, y = ties_and_nan(1, binary=objective.startswith("binary"))
    params = {"objective": objective, "max_depth": 4, "learning_rate": 0.3, "base_score": 0.5, **CASES[case]}
    ours, theirs = both_exact(params, X, y)
    assert [t.n_leaves for t in ours.trees] == [d.count("leaf=") for d in theirs.get_dump()]
    X_test, _ = ties_and_nan(2, binary=True)
    for data in (X, X_test):
        np.testing.assert_allclose(ours.predict(data), theirs.predict(xgb.DMatrix(data)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("constraints", [[[0, 1], [1, 2, 3]], [[0, 3], [2, 4, 5]]])
@pytest.mark.parametrize("objective", ["reg:squarederror", "binary:logistic"])
def test_exact_interaction_constraints_equal_xgboost_exact(objective, constraints):
    """XGBoost's exact applies interaction constraints per node (a feature outside every group,
    4 and 5 or 1 here, may only be split on alone along a path): the same trees and predictions."""
    X, y = ties_and_nan(10, binary=objective.startswith("binary"))
    params = {"objective": objective, "max_depth": 4, "learning_rate": 0.3, "base_score": 0.5}
    ours, theirs = both_exact({**params, "interaction_constraints": str(constraints)}, X, y)
    assert [t.n_leaves for t in ours.trees] == [d.count("leaf=") for d in theirs.get_dump()]
    X_test, _ = ties_and_nan(11)
    for data in (X, X_test):
        np.testing.assert_allclose(ours.predict(data), theirs.predict(xgb.DMatrix(data)), rtol=1e-6, atol=1e-6)
    free = train({**params, "tree_method": "exact"}, Dataset(X, y), ROUNDS)
    assert np.abs(free.predict(X) - ours.predict(X)).max() > 1e-3  # the constraints bind


def integer_features(seed, n=500, n_features=8):
    """Integer features (12 values, no missing: hist's bins are every value, so hist grows exact's
    trees) and a label with interactions."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 12, size=(n, n_features)).astype(float)
    return X, X[:, 0] - 0.5 * X[:, 1] + X[:, 2] * (X[:, 3] > 5) + rng.normal(size=n)


def depth_features(tree):
    """{depth: set of features split on at that depth} of a ``Tree``."""
    depth, out = {0: 0}, {}
    for i in range(len(tree.feature)):
        if tree.feature[i] >= 0:
            out.setdefault(depth[i], set()).add(int(tree.feature[i]))
            depth[tree.left[i]] = depth[tree.right[i]] = depth[i] + 1
    return out


def test_exact_colsample_bylevel_samples_each_depth_as_hist():
    """colsample_bylevel draws each depth's features from the tree's (after colsample_bytree)
    with the generator hist uses: on features hist bins exactly, exact grows hist's trees (the
    split features node by node); each depth splits on at most round(0.4 * 6) = 2 features; 1.0
    changes nothing. (XGBoost's generator differs, so its sampled trees cannot be compared.)"""
    X, y = integer_features(12)
    params = {"max_depth": 4, "base_score": 0.5, "seed": 3, "colsample_bytree": 0.75}
    sampled = {"tree_method": "exact", **params, "colsample_bylevel": 0.4}
    ours = train(sampled, Dataset(X, y), ROUNDS)
    hist = train({**sampled, "tree_method": "hist", "max_bin": 64}, Dataset(X, y), ROUNDS)
    for a, b in zip(ours.trees, hist.trees):
        np.testing.assert_array_equal(a.feature, b.feature)
    np.testing.assert_allclose(ours.predict(X), hist.predict(X), rtol=1e-6, atol=1e-6)
    used = [depth_features(t) for t in ours.trees]
    assert max(len(f) for d in used for f in d.values()) == 2
    assert len({frozenset(d[0]) for d in used}) > 1  # the sample changes from tree to tree
    plain = train({**params, "tree_method": "exact"}, Dataset(X, y), ROUNDS)
    ones = train({**params, "tree_method": "exact", "colsample_bylevel": 1.0}, Dataset(X, y), ROUNDS)
    np.testing.assert_array_equal(ones.predict(X), plain.predict(X))
    assert np.abs(plain.predict(X) - ours.predict(X)).max() > 1e-3


def test_exact_multiclass_with_weights_equals_xgboost_exact():
    X, z = ties_and_nan(9)
    y = np.digitize(z, [-1.0, 1.0])
    weight = np.random.default_rng(9).uniform(0.5, 2.0, len(y))
    params = {"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "tree_method": "exact", "base_score": 0.5}
    ours = train(params, Dataset(X, y, weight=weight), 10).predict(X)
    theirs = xgb.train({**params, "nthread": 1}, xgb.DMatrix(X, y, weight=weight), 10).predict(xgb.DMatrix(X))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def test_exact_split_values_are_xgboosts():
    X, y = ties_and_nan(3)
    ours, theirs = both_exact({"max_depth": 3, "base_score": 0.5}, X, y, 3)
    for tree, doc in zip(ours.trees, json.loads(theirs.save_raw("json"))["learner"]["gradient_booster"]["model"]
                         ["trees"]):
        split = tree.feature >= 0
        theirs_split = np.array(doc["left_children"]) >= 0
        # both number the nodes breadth first
        np.testing.assert_array_equal(tree.feature[split], np.array(doc["split_indices"])[theirs_split])
        np.testing.assert_array_equal(tree.default_left[split], np.array(doc["default_left"], bool)[theirs_split])
        cond = np.array(doc["split_conditions"], dtype=np.float32)[theirs_split]
        np.testing.assert_array_equal(np.nextafter(tree.threshold[split], np.inf).astype(np.float32), cond)


def test_exact_model_saves_explains_and_exports_like_xgboost(tmp_path):
    X, y = ties_and_nan(4, binary=True)
    ours, theirs = both_exact({"objective": "binary:logistic", "max_depth": 3, "base_score": 0.5}, X, y, 10)
    ours.save_model(tmp_path / "m.json")
    loaded = Booster.load_model(tmp_path / "m.json")
    np.testing.assert_array_equal(loaded.predict(X), ours.predict(X))
    np.testing.assert_allclose(ours.predict(X, pred_contribs=True), theirs.predict(xgb.DMatrix(X), pred_contribs=True),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.to_xgboost().predict(xgb.DMatrix(X)), theirs.predict(xgb.DMatrix(X)),
                               rtol=1e-6, atol=1e-6)


def test_estimators_take_tree_method():
    X, y = ties_and_nan(5)
    ours = GBDTRegressor(tree_method="exact", n_estimators=10, max_depth=3, random_state=0).fit(X, y)
    assert ours.get_params()["tree_method"] == "exact"
    theirs = xgb.XGBRegressor(tree_method="exact", n_estimators=10, max_depth=3, base_score=float(y.mean()),
                              n_jobs=1).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5, atol=1e-5)
    Xb, yb = ties_and_nan(5, binary=True)
    clf = GBDTClassifier(tree_method="approx", n_estimators=10, max_depth=3).fit(Xb, yb)
    assert roc_auc_score(yb, clf.predict_proba(Xb)[:, 1]) > 0.9


def test_cv_folds_are_the_train_fits_of_the_method():
    X, y = ties_and_nan(6)
    params = {"tree_method": "exact", "max_depth": 3, "base_score": 0.5, "eval_metric": "rmse"}
    folds = make_folds(len(y), nfold=3, seed=0)
    result = cv(params, Dataset(X, y), 5, folds=folds, as_pandas=False)
    rmse = []
    for train_rows, test_rows in folds:
        theirs = xgb.train({**params, "nthread": 1}, xgb.DMatrix(X[train_rows], y[train_rows]), 5)
        rmse.append(mean_squared_error(y[test_rows], theirs.predict(xgb.DMatrix(X[test_rows]))) ** 0.5)
    assert result["test-rmse-mean"][-1] == pytest.approx(np.mean(rmse), rel=1e-5)


def test_approx_with_a_constant_hessian_grows_the_hist_trees():
    """Squared error has hessian 1 on every row, so the hessian-weighted quantiles are the plain
    ones: approx re-bins every tree into the bins hist fixed once."""
    X, y = ties_and_nan(7)
    rng = np.random.default_rng(0)
    X[:, 4] = rng.normal(size=len(y))  # many distinct values: quantile edges
    X[:, 5] = rng.integers(0, 6, len(y))  # categories (codes)
    y = y + 2.0 * np.isin(X[:, 5], [1, 4])
    params = {"max_depth": 4, "max_bin": 16}
    hist = train(params, Dataset(X, y, categorical_features=[5]), ROUNDS)
    approx = train({**params, "tree_method": "approx"}, Dataset(X, y, categorical_features=[5]), ROUNDS)
    assert any(tree.is_categorical.any() for tree in approx.trees)
    np.testing.assert_allclose(approx.predict(X), hist.predict(X), rtol=1e-12, atol=1e-12)


def test_approx_rebins_each_tree_from_its_hessians():
    X, y = load_breast_cancer(return_X_y=True)
    params = {"objective": "binary:logistic", "max_depth": 4, "max_bin": 8}
    most = {}
    for method in ("hist", "approx"):
        trees = train({**params, "tree_method": method}, Dataset(X, y), 20).trees
        cuts = {(f, c) for t in trees for f, c in zip(t.feature.tolist(), t.threshold.tolist()) if f >= 0}
        most[method] = max(np.bincount([f for f, _ in cuts]))  # distinct thresholds of one feature
    assert most["hist"] <= params["max_bin"] - 2  # one fixed set of edges
    assert most["approx"] > params["max_bin"] - 2  # edges that move with the hessians


@pytest.mark.parametrize("objective, missing", [("binary:logistic", 0.0), ("binary:logistic", 0.2),
                                                ("reg:squarederror", 0.2)])
def test_approx_accuracy_matches_xgboost_approx(objective, missing):
    X, y = load_breast_cancer(return_X_y=True)
    if objective == "reg:squarederror":
        y = X[:, 0] + 10 * X[:, 7] * X[:, 1] / X[:, 1].mean()
        X = np.delete(X, 0, axis=1)
    X = X.copy()
    X[np.random.default_rng(0).random(X.shape) < missing] = np.nan
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    params = {"objective": objective, "max_depth": 4, "learning_rate": 0.1, "max_bin": 32, "tree_method": "approx"}
    ours = train(params, Dataset(Xtr, ytr), 60).predict(Xte)
    theirs = xgb.train({**params, "nthread": 2}, xgb.DMatrix(Xtr, ytr), 60).predict(xgb.DMatrix(Xte))
    if objective == "binary:logistic":
        assert roc_auc_score(yte, ours) == pytest.approx(roc_auc_score(yte, theirs), abs=0.01)
    else:
        rmse_ours, rmse_theirs = (mean_squared_error(yte, p) ** 0.5 for p in (ours, theirs))
        assert rmse_ours == pytest.approx(rmse_theirs, rel=0.1)


def test_unknown_tree_method_suggests_the_closest():
    with pytest.raises(ValueError, match=r"tree_method must be one of .*did you mean 'exact'"):
        train({"tree_method": "exat"}, Dataset(np.zeros((4, 1)), np.zeros(4)), 1)
    with pytest.raises(ValueError, match="tree_method must be one of"):
        GBDTRegressor(tree_method="gpu_hist").fit(np.zeros((4, 1)), np.zeros(4))


def test_exact_warns_that_max_bin_is_ignored():
    X, y = ties_and_nan(8)
    with pytest.warns(UserWarning, match="max_bin=16 is ignored by tree_method='exact'"):
        a = train({"tree_method": "exact", "max_bin": 16, "max_depth": 2}, Dataset(X, y), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = train({"tree_method": "exact", "max_depth": 2}, Dataset(X, y), 2)
        GBDTRegressor(tree_method="exact", n_estimators=2).fit(X, y)  # its max_bin is the default
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


@pytest.mark.parametrize("method", ["exact", "approx"])
def test_sparse_input_is_refused_clearly(method):
    X = sp.random(50, 4, density=0.3, format="csr", random_state=0)
    with pytest.raises(ValueError, match=f"tree_method='{method}' needs dense dtrain"):
        train({"tree_method": method}, Dataset(X, np.arange(50.0)), 2)


@pytest.mark.parametrize("params, named", [
    ({"grow_policy": "lossguide"}, "grow_policy='lossguide'"), ({"max_leaves": 8}, "max_leaves > 0"),
    ({"colsample_bynode": 0.5}, r"colsample_bynode < 1 \(sample per level with colsample_bylevel\)"),
    ({"use_quantized_grad": True}, "use_quantized_grad"),
    ({"objective": "reg:quantileerror", "quantile_alpha": 0.5}, "reg:quantileerror"),
])
def test_exact_refuses_what_it_does_not_do(params, named):
    with pytest.raises(ValueError, match=f"tree_method='exact'.*{named}"):
        train({"tree_method": "exact", **params}, Dataset(np.zeros((4, 2)), np.arange(4.0)), 1)


def test_exact_refuses_categorical_features():
    import pandas as pd
    frame = pd.DataFrame({"a": pd.Categorical(["x", "y", "x", "z"]), "b": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match="does not support categorical features"):
        train({"tree_method": "exact"}, Dataset(frame, np.arange(4.0)), 1)
