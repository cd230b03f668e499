"""Explanations against XGBoost on the same trees: TreeSHAP contributions, leaf ids, importance.

Two ways to get identical trees: XGBoost's trees loaded into our format (``from_xgboost``; any
depth, any data), and depth-1 stumps on exactly binned data, where both libraries train the same trees.
"""
import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sparse
import xgboost as xgb

import bindings.sparse_input as sparse_input
from bindings import Booster, Dataset, GBDTRegressor, train
from bindings.xgboost_model import from_xgboost

rng = np.random.default_rng(0)
# float32 values, so XGBoost's float32 comparisons and ours see the same numbers
X = rng.standard_normal((400, 5)).astype(np.float32).astype(np.float64)
X[rng.random(X.shape) < 0.1] = np.nan
signal = 2 * np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 2])
LABELS = {
    "reg:squarederror": signal + 0.1 * rng.standard_normal(400),
    "binary:logistic": (signal > 0).astype(float),
    "multi:softprob": np.digitize(signal, [-1, 1]).astype(float),
}


@pytest.mark.parametrize("objective,num_class", [("reg:squarederror", 1), ("binary:logistic", 1),
                                                 ("multi:softprob", 3)])
def test_contributions_and_leaves_equal_xgboost_on_its_own_trees(objective, num_class):
    params = {"objective": objective, "max_depth": 3, "learning_rate": 0.3, "tree_method": "hist", "nthread": 1}
    if num_class > 1:
        params["num_class"] = num_class
    dmat = xgb.DMatrix(X, LABELS[objective])
    theirs = xgb.train(params, dmat, 6)
    ours = from_xgboost(theirs)
    assert (ours.objective, ours.num_class) == (objective, num_class)
    # the conversion is faithful: same margins and the same leaves
    np.testing.assert_allclose(ours.predict(X, output_margin=True), theirs.predict(dmat, output_margin=True),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(ours.predict(X, pred_leaf=True), theirs.predict(dmat, pred_leaf=True))
    contribs = ours.predict(X, pred_contribs=True)
    expected = theirs.predict(dmat, pred_contribs=True)
    assert contribs.shape == expected.shape == ((400, 6) if num_class == 1 else (400, num_class, 6))
    np.testing.assert_allclose(contribs, expected, rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(contribs.sum(-1), ours.predict(X, output_margin=True), atol=1e-12)


@pytest.mark.parametrize("objective,extra", [("reg:logistic", {}), ("count:poisson", {}), ("reg:gamma", {}),
                                             ("reg:tweedie", {}), ("reg:absoluteerror", {}),
                                             ("reg:quantileerror", {"quantile_alpha": 0.8}),
                                             ("reg:pseudohubererror", {}), ("reg:squaredlogerror", {}),
                                             ("binary:hinge", {}), ("survival:cox", {})])
def test_xgboost_regression_objectives_load_with_their_link_and_intercept(objective, extra):
    """XGBoost stores the intercept as a prediction (a probability, an expected value): loaded, the
    model predicts what XGBoost predicts, through the same link."""
    positive = ("count:poisson", "reg:gamma", "reg:tweedie", "reg:squaredlogerror")
    y = np.exp(signal / 3) if objective in positive else signal
    y = (signal > 0).astype(float) if objective in ("reg:logistic", "binary:hinge") else y
    y = np.exp(signal / 3) * np.where(signal > 1, -1, 1) if objective == "survival:cox" else y  # some censored
    dmat = xgb.DMatrix(X, y)
    theirs = xgb.train({"objective": objective, "max_depth": 3, "tree_method": "hist", **extra}, dmat, 5)
    ours = from_xgboost(theirs)
    assert ours.objective == objective
    np.testing.assert_allclose(ours.predict(X), theirs.predict(dmat), rtol=1e-5, atol=1e-5)


def test_xgboost_import_keeps_names_round_trips_and_refuses_what_it_cannot_load(tmp_path):
    names = [f"x{i}" for i in range(5)]
    theirs = xgb.train({"max_depth": 2}, xgb.DMatrix(X, LABELS["reg:squarederror"], feature_names=names), 3)
    ours = from_xgboost(theirs.save_raw("json"))
    assert ours.feature_names == names and ours.get_score("gain").keys() == theirs.get_score(importance_type="gain").keys()
    ours.save_model(tmp_path / "m.json")
    np.testing.assert_array_equal(Booster.load_model(tmp_path / "m.json").predict(X), ours.predict(X))
    doc = json.loads(theirs.save_raw("json"))
    doc["learner"]["objective"]["name"] = "binary:logitraw"
    with pytest.raises(ValueError, match="objective 'binary:logitraw' is not supported"):
        from_xgboost(doc)
    with pytest.raises(ValueError, match="not an XGBoost JSON model"):
        from_xgboost({"trees": []})
    two_quantiles = xgb.train({"objective": "reg:quantileerror", "quantile_alpha": [0.1, 0.9], "max_depth": 2},
                              xgb.DMatrix(X, LABELS["reg:squarederror"]), 2)
    with pytest.raises(ValueError, match="several targets"):
        from_xgboost(two_quantiles)


def stump_data():
    """Few distinct values: both libraries see the same candidate thresholds (see test_train_vs_xgboost)."""
    r = np.random.default_rng(3)
    Xs = r.integers(0, 8, size=(1000, 4)).astype(float)
    Xs[r.random(Xs.shape) < 0.05] = np.nan
    ys = (np.nan_to_num(Xs[:, 0]) > 3) * 2.0 + (Xs[:, 1] == 5) + r.standard_normal(1000) * 0.1
    return Xs, ys


STUMPS = {"objective": "reg:squarederror", "max_depth": 1, "learning_rate": 0.5, "base_score": 0.5}


@pytest.fixture(scope="module")
def stumps():
    Xs, ys = stump_data()
    ours = train({**STUMPS, "n_jobs": 1}, Dataset(Xs, ys), 8)
    theirs = xgb.train({**STUMPS, "tree_method": "hist", "nthread": 1}, xgb.DMatrix(Xs, ys), 8)
    return Xs, ours, theirs


def test_stumps_trained_by_both_give_the_same_leaves_contributions_and_importance(stumps):
    Xs, ours, theirs = stumps
    dmat = xgb.DMatrix(Xs)
    np.testing.assert_array_equal(ours.predict(Xs, pred_leaf=True), theirs.predict(dmat, pred_leaf=True))
    np.testing.assert_allclose(ours.predict(Xs, pred_contribs=True), theirs.predict(dmat, pred_contribs=True),
                               rtol=1e-5, atol=1e-5)
    for kind in ("weight", "gain", "cover", "total_gain", "total_cover"):
        mine, xgbs = ours.get_score(kind), theirs.get_score(importance_type=kind)
        assert mine.keys() == xgbs.keys(), kind
        np.testing.assert_allclose([mine[k] for k in xgbs], list(xgbs.values()), rtol=1e-5, err_msg=kind)


def test_estimator_feature_importances_equal_xgboost_total_gain():
    Xs, ys = stump_data()
    kwargs = {"n_estimators": 8, "max_depth": 1, "learning_rate": 0.5, "n_jobs": 1}
    ours = GBDTRegressor(**kwargs).fit(Xs, ys)
    # both start from the label mean, so they grow the same stumps
    theirs = xgb.XGBRegressor(**kwargs, tree_method="hist", importance_type="total_gain").fit(Xs, ys)
    np.testing.assert_allclose(ours.predict(Xs), theirs.predict(Xs), atol=1e-5)
    np.testing.assert_allclose(ours.feature_importances_, theirs.feature_importances_, rtol=1e-5, atol=1e-7)


def leaf_of(tree, goes_left):
    """The leaf reached from the root when ``goes_left(node)`` decides every split."""
    node = 0
    while tree.feature[node] >= 0:
        node = tree.left[node] if goes_left(node) else tree.right[node]
    return node


def naive_leaves(booster, data):
    def numeric_split(tree, x):
        return lambda node: (tree.default_left[node] if np.isnan(x[tree.feature[node]])
                             else x[tree.feature[node]] <= tree.threshold[node])

    return np.array([[leaf_of(tree, numeric_split(tree, x)) for tree in booster.trees] for x in data])


@pytest.fixture(scope="module")
def multiclass():
    return train({"objective": "multi:softprob", "num_class": 3, "max_depth": 4}, Dataset(X, LABELS["multi:softprob"]),
                 4)


def test_leaf_ids_match_a_python_traversal_and_respect_iteration_range(multiclass):
    leaves = multiclass.predict(X, pred_leaf=True)
    assert leaves.shape == (400, 12) and leaves.dtype == np.int32
    np.testing.assert_array_equal(leaves, naive_leaves(multiclass, X))
    np.testing.assert_array_equal(multiclass.predict(X, pred_leaf=True, iteration_range=(1, 3)), leaves[:, 3:9])
    # a leaf's value is what the forest adds: the leaf ids reproduce the margin
    values = [[tree.value[leaf] for tree, leaf in zip(multiclass.trees, row)] for row in leaves]
    margin = np.array(values).reshape(400, 4, 3).sum(1) + multiclass.base_margin
    np.testing.assert_allclose(margin, multiclass.predict(X, output_margin=True), atol=1e-12)


def test_contributions_add_over_iteration_ranges(multiclass):
    full = multiclass.predict(X, pred_contribs=True)
    first = multiclass.predict(X, pred_contribs=True, iteration_range=(0, 1))
    rest = multiclass.predict(X, pred_contribs=True, iteration_range=(1, 4))
    np.testing.assert_allclose(first[..., :-1] + rest[..., :-1], full[..., :-1], atol=1e-12)
    np.testing.assert_allclose(first[..., -1] + rest[..., -1] - multiclass.base_margin, full[..., -1], atol=1e-12)
    np.testing.assert_allclose(full.sum(-1), multiclass.predict(X, output_margin=True), atol=1e-12)


def test_bad_prediction_requests():
    bst = train({"max_depth": 2}, Dataset(X, LABELS["reg:squarederror"]), 2)
    with pytest.raises(ValueError, match="pred_leaf and pred_contribs"):
        bst.predict(X, pred_leaf=True, pred_contribs=True)
    with pytest.raises(ValueError, match="features"):
        bst.predict(X[:, :3], pred_contribs=True)


def test_sparse_input_explains_like_its_dense_twin(multiclass, monkeypatch):
    monkeypatch.setattr(sparse_input, "PREDICT_CHUNK_BYTES", 8 * X.shape[1] * 37)  # several row blocks
    dense = np.where(np.abs(np.nan_to_num(X, nan=1.0)) < 0.5, 0.0, X)  # zeros become implicit
    csr = sparse.csr_matrix(np.nan_to_num(dense, nan=7.0))
    csr.data[csr.data == 7.0] = np.nan  # stored NaN stays missing
    assert csr.nnz < dense.size
    np.testing.assert_array_equal(multiclass.predict(csr, pred_contribs=True), multiclass.predict(dense, pred_contribs=True))
    np.testing.assert_array_equal(multiclass.predict(csr, pred_leaf=True), multiclass.predict(dense, pred_leaf=True))


def test_categorical_model_contributions_sum_to_margin_and_leaves_follow_the_sets():
    r = np.random.default_rng(7)
    colour = r.choice(list("abcdefgh"), 600)
    frame = pd.DataFrame({"colour": pd.Categorical(colour), "x": r.standard_normal(600)})
    label = (np.isin(colour, ["b", "e", "g"]) ^ (frame["x"].to_numpy() > 0.5)).astype(float)
    bst = train({"objective": "binary:logistic", "max_depth": 3, "max_cat_to_onehot": 1}, Dataset(frame, label), 5)
    assert any(t.is_categorical.any() for t in bst.trees)
    contribs = bst.predict(frame, pred_contribs=True)
    np.testing.assert_allclose(contribs.sum(1), bst.predict(frame, output_margin=True), atol=1e-12)
    leaves = bst.predict(frame, pred_leaf=True)
    codes = {c: i for i, c in enumerate(bst.categories[0])}
    x = frame["x"].to_numpy()

    def split(tree, i):
        return lambda node: (codes[colour[i]] in tree.left_categories(node) if tree.is_categorical[node]
                             else x[i] <= tree.threshold[node])

    for j, tree in enumerate(bst.trees):
        for i in range(0, 600, 7):
            assert leaves[i, j] == leaf_of(tree, split(tree, i))
