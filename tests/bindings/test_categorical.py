"""Categorical features through the API: accuracy against one-hot encoding and LightGBM on data
whose label depends on a set of categories, predict by category value, JSON round-trip."""
import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from bindings import Booster, Dataset, GBDTClassifier, train
from gbdt.tree import Forest

N_CATS = 40
GOOD = np.random.default_rng(99).choice(N_CATS, 15, replace=False)
PARAMS = {"objective": "binary:logistic", "learning_rate": 0.1, "n_jobs": 1}


def set_data(n, seed):
    """Label log-odds +2 for 15 of 40 categories (a set, not an interval of codes) plus a numeric x."""
    rng = np.random.default_rng(seed)
    cat = rng.integers(0, N_CATS, n)
    x = rng.standard_normal(n)
    logit = 2.0 * np.isin(cat, GOOD) - 1.0 + 0.7 * x
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    frame = pd.DataFrame({"c": pd.Categorical([f"k{v}" for v in cat], categories=[f"k{v}" for v in range(N_CATS)]),
                          "x": x})
    return frame, y


TRAIN, Y_TRAIN = set_data(8000, 0)
TEST, Y_TEST = set_data(20000, 1)


def accuracy(p):
    return float(((p > 0.5) == Y_TEST).mean())


def one_hot(frame):
    return np.column_stack([pd.get_dummies(frame["c"]).to_numpy(float), frame["x"].to_numpy()])


@pytest.mark.parametrize("depth", [2, 3])
def test_category_sets_beat_one_hot_and_match_lightgbm(depth):
    ours = accuracy(train({**PARAMS, "max_depth": depth}, Dataset(TRAIN, Y_TRAIN), 50).predict(TEST))
    onehot = accuracy(train({**PARAMS, "max_depth": depth}, Dataset(one_hot(TRAIN), Y_TRAIN), 50)
                      .predict(one_hot(TEST)))
    params = {"objective": "binary", "max_depth": depth, "num_leaves": 2 ** depth, "learning_rate": 0.1,
              "verbose": -1, "num_threads": 1}
    theirs = accuracy(lgb.train(params, lgb.Dataset(TRAIN, Y_TRAIN), 50).predict(TEST))
    assert ours > onehot + 0.01
    assert ours == pytest.approx(theirs, abs=0.01)


@pytest.fixture(scope="module")
def model():
    return train({**PARAMS, "max_depth": 3, "max_bin": 64}, Dataset(TRAIN, Y_TRAIN), 20)


def test_predict_on_raw_equals_predict_on_bins(model):
    data = Dataset(TEST.iloc[:3000], Y_TEST[:3000])
    edges, n_edges = Dataset(TRAIN, Y_TRAIN).bin_edges(64)
    margin = np.full((3000, 1), model.base_margin[0])
    Forest(model.trees, model.tree_class, 1).predict(data.binned(edges, n_edges, 64), margin, missing_bin=63)
    np.testing.assert_array_equal(margin[:, 0], model.predict(data, output_margin=True))
    assert any(tree.is_categorical.any() for tree in model.trees)


def test_json_round_trip_keeps_categories_and_predictions(model, tmp_path):
    model.save_model(tmp_path / "m.json")
    loaded = Booster.load_model(tmp_path / "m.json")
    assert loaded.categories == model.categories == {0: [f"k{v}" for v in range(N_CATS)]}
    np.testing.assert_array_equal(loaded.predict(TEST), model.predict(TEST))


def test_predict_maps_categories_by_value_and_unseen_ones_to_missing(model):
    frame = TEST.iloc[:2000].copy()
    expected = model.predict(frame)
    shuffled = frame.copy()
    shuffled["c"] = shuffled["c"].cat.reorder_categories(list(reversed(frame["c"].cat.categories)))
    np.testing.assert_array_equal(model.predict(shuffled), expected)
    as_strings = frame.assign(c=frame["c"].astype(object))
    np.testing.assert_array_equal(model.predict(as_strings), expected)
    unseen = frame.assign(c=pd.Categorical(["never-seen"] * 2000))
    missing = frame.assign(c=pd.Categorical([None] * 2000, categories=["k0"]))
    np.testing.assert_array_equal(model.predict(unseen), model.predict(missing))


def test_numpy_input_with_categorical_features_by_index_and_name():
    X = np.column_stack([TRAIN["c"].cat.codes.to_numpy() * 10.0, TRAIN["x"]])  # categories are values 0, 10, ...
    by_index = train({**PARAMS, "max_depth": 3}, Dataset(X, Y_TRAIN, categorical_features=[0]), 10)
    by_name = train({**PARAMS, "max_depth": 3},
                    Dataset(X, Y_TRAIN, feature_names=["c", "x"], categorical_features="c"), 10)
    Xt = np.column_stack([TEST["c"].cat.codes.to_numpy() * 10.0, TEST["x"]])
    np.testing.assert_array_equal(by_index.predict(Xt), by_name.predict(Xt))
    frame_model = train({**PARAMS, "max_depth": 3}, Dataset(TRAIN, Y_TRAIN), 10)
    np.testing.assert_allclose(by_index.predict(Xt), frame_model.predict(TEST), rtol=1e-12)


def test_eval_set_with_other_category_order_scores_like_predict():
    valid = TEST.iloc[:3000].copy()
    valid["c"] = valid["c"].cat.reorder_categories(list(reversed(valid["c"].cat.categories)))
    history = {}
    booster = train({**PARAMS, "max_depth": 3, "eval_metric": "error"}, Dataset(TRAIN, Y_TRAIN), 5,
                    evals=[(Dataset(valid, Y_TEST[:3000]), "v")], evals_result=history)
    assert history["v"]["error"][-1] == pytest.approx(np.mean((booster.predict(valid) > 0.5) != Y_TEST[:3000]))


def test_small_cardinality_splits_one_category_against_the_rest():
    frame = TRAIN.assign(c=pd.Categorical(TRAIN["c"].cat.codes % 4))
    booster = train({**PARAMS, "max_depth": 3, "max_cat_to_onehot": 4}, Dataset(frame, Y_TRAIN), 5)
    sets = [t.left_categories(j) for t in booster.trees for j in np.flatnonzero(t.is_categorical)]
    assert sets and all(len(s) == 1 for s in sets)


def test_sklearn_estimator_with_categorical_features():
    clf = GBDTClassifier(n_estimators=20, max_depth=3, learning_rate=0.1, n_jobs=1).fit(TRAIN, Y_TRAIN)
    assert clf.booster_.categories == {0: [f"k{v}" for v in range(N_CATS)]}
    assert accuracy(clf.predict_proba(TEST)[:, 1]) > 0.7
    X = np.column_stack([TRAIN["c"].cat.codes, TRAIN["x"]])
    Xt = np.column_stack([TEST["c"].cat.codes, TEST["x"]])
    clf = GBDTClassifier(n_estimators=20, max_depth=3, learning_rate=0.1, n_jobs=1, categorical_features=[0])
    clf.fit(X, Y_TRAIN)
    assert accuracy(clf.predict_proba(Xt)[:, 1]) > 0.7


def test_bad_categorical_input_raises():
    X = np.column_stack([np.arange(300) % 300, np.ones(300)])
    with pytest.raises(ValueError, match="at most 255"):
        Dataset(X, categorical_features=[0])
    with pytest.raises(ValueError, match="max_bin=16"):
        train({"max_bin": 16}, Dataset(X[:, :1] % 20, np.ones(300), categorical_features=[0]), 1)
    with pytest.raises(ValueError, match="categorical_features"):
        Dataset(X, categorical_features=[5])
    with pytest.raises(ValueError, match="categorical_features"):
        Dataset(X, categorical_features=["nope"])
    with pytest.raises(TypeError, match="sparse"):
        Dataset(sp.csr_matrix(X), categorical_features=[0])
    with pytest.raises(ValueError, match="monotone_constraints on categorical"):
        train({"monotone_constraints": (1, 0)}, Dataset(X % 7, np.ones(300), categorical_features=[0]), 1)

