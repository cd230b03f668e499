"""Booster: model IO, iteration ranges, importance, early stopping, custom objectives."""
import numpy as np
import pytest
from sklearn.metrics import log_loss, mean_squared_error, roc_auc_score

from bindings import Booster, Dataset, EarlyStopping, train
from bindings.metrics import evaluate

rng = np.random.default_rng(0)
X = rng.standard_normal((3000, 6))
X[rng.random(X.shape) < 0.05] = np.nan
logit = 2 * np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 2])
y = (rng.random(3000) < 1 / (1 + np.exp(-logit))).astype(float)
y3 = np.digitize(logit, [-1, 1]).astype(float)


@pytest.mark.parametrize("params,label", [({"objective": "binary:logistic"}, y),
                                          ({"objective": "multi:softprob", "num_class": 3}, y3),
                                          ({"objective": "reg:squarederror"}, logit)])
def test_save_load_predict_is_bit_identical(tmp_path, params, label):
    bst = train({**params, "max_depth": 5}, Dataset(X, label, feature_names=list("abcdef")), 10)
    path = tmp_path / "model.json"
    bst.save_model(path)
    loaded = Booster.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X), bst.predict(X))
    np.testing.assert_array_equal(loaded.predict(X, output_margin=True), bst.predict(X, output_margin=True))
    assert loaded.num_trees() == bst.num_trees() == 10 * params.get("num_class", 1)
    assert loaded.feature_names == list("abcdef")


def test_iteration_range_sums_rounds():
    bst = train({"objective": "reg:squarederror"}, Dataset(X, logit), 8)
    full = bst.predict(X, output_margin=True)
    first = bst.predict(X, output_margin=True, iteration_range=(0, 3))
    rest = bst.predict(X, output_margin=True, iteration_range=(3, 8))
    np.testing.assert_allclose(first + rest - bst.base_margin[0], full, atol=1e-12)
    with pytest.raises(ValueError, match="iteration_range"):
        bst.predict(X, iteration_range=(2, 9))


def test_early_stopping_keeps_best_iteration():
    dtr, dva = Dataset(X[:2000], y[:2000]), Dataset(X[2000:], y[2000:])
    history = {}
    bst = train({"objective": "binary:logistic", "learning_rate": 0.5, "max_depth": 6, "eval_metric": "logloss"},
                dtr, 500, evals=[(dva, "valid")], early_stopping_rounds=5, evals_result=history)
    losses = history["valid"]["logloss"]
    assert len(losses) < 500 and len(losses) == bst.best_iteration + 6
    assert bst.best_iteration == int(np.argmin(losses))
    assert bst.best_score == pytest.approx(min(losses))
    # default prediction uses the best round; the recorded loss is reproduced from predictions
    assert log_loss(y[2000:], bst.predict(X[2000:])) == pytest.approx(min(losses), rel=1e-9)
    assert bst.num_boosted_rounds() == len(losses)


def test_eval_metrics_track_sklearn():
    dtr, dva = Dataset(X[:2000], y[:2000]), Dataset(X[2000:], y[2000:])
    history = {}
    bst = train({"objective": "binary:logistic", "eval_metric": ["auc", "logloss", "error"]}, dtr, 5,
                evals=[(dva, "v")], evals_result=history)
    p = bst.predict(X[2000:])
    assert history["v"]["auc"][-1] == pytest.approx(roc_auc_score(y[2000:], p))
    assert history["v"]["error"][-1] == pytest.approx(np.mean((p > 0.5) != y[2000:]))


def test_metric_functions_match_sklearn():
    s = rng.random(500)
    lab = (rng.random(500) < s).astype(float)
    w = rng.uniform(0.1, 2, 500)
    s[:50] = 0.5  # ties
    assert evaluate("auc", lab, s, w) == pytest.approx(roc_auc_score(lab, s, sample_weight=w))
    assert evaluate("logloss", lab, s, w) == pytest.approx(log_loss(lab, s, sample_weight=w))
    assert evaluate("rmse", lab, s) == pytest.approx(mean_squared_error(lab, s) ** 0.5)


def test_custom_objective_equals_builtin_squared_error():
    obj = lambda margin, label: (margin - label, np.ones_like(label))
    custom = train({"base_score": 0.0}, Dataset(X, logit), 5, obj=obj)
    builtin = train({"objective": "reg:squarederror", "base_score": 0.0}, Dataset(X, logit), 5)
    np.testing.assert_allclose(custom.predict(X), builtin.predict(X), rtol=1e-6, atol=1e-6)


def test_feature_importance_finds_the_signal():
    bst = train({"objective": "binary:logistic"}, Dataset(X, y), 20)
    gain = bst.feature_importances("total_gain")
    assert gain.sum() == pytest.approx(1.0) and gain.argmax() == 0
    weights = bst.get_score("weight")
    assert sum(weights.values()) == sum(int((t.feature >= 0).sum()) for t in bst.trees)


def test_callback_can_stop_training():
    class StopAt3(EarlyStopping):
        def after_iteration(self, booster, iteration, evals_log):
            return iteration == 2

    bst = train({}, Dataset(X, logit), 50, callbacks=[StopAt3(1)])
    assert bst.num_boosted_rounds() == 3


def test_binned_cache_follows_the_edges_not_the_object():
    d = Dataset(X, y)
    edges, n_edges = d.bin_edges(16)
    first = d.binned(edges, n_edges, 16)
    assert d.binned(edges.copy(), n_edges.copy(), 16) is first  # same content: reused
    other_edges, other_n = d.bin_edges(8)
    assert d.binned(other_edges, other_n, 8).max() <= 7  # new edges: binned again


def _renamed(frame):
    return frame.rename(columns={"a": "zz"})


@pytest.mark.parametrize("variant,match", [
    (lambda f: f, None),
    (lambda f: f.to_numpy(), None),  # numpy has no names: accepted, as XGBoost's estimators accept it
    (_renamed, r"unexpected \['zz'\], missing \['a'\]"),
    (lambda f: f[["b", "a", "c", "d", "e", "f"]], "another order"),
    (lambda f: f.assign(g=1.0), r"unexpected \['g'\], missing \[\]"),
])
def test_predict_checks_feature_names_as_xgboost(variant, match):
    """Data with names must have the model's, in the model's order: a renamed, reordered or extra
    column raises ValueError naming it (nothing is reordered silently) wherever XGBoost's
    estimator raises on the same frame; numpy input passes."""
    pd = pytest.importorskip("pandas")
    xgb = pytest.importorskip("xgboost")
    frame = pd.DataFrame(X, columns=list("abcdef"))
    bst = train({"max_depth": 3}, Dataset(frame, logit), 4)
    theirs = xgb.XGBRegressor(n_estimators=2, max_depth=2).fit(frame, logit)
    data = variant(frame)
    if match is None:
        theirs.predict(data)
        np.testing.assert_array_equal(bst.predict(data), bst.predict(X))
        return
    with pytest.raises(ValueError, match="feature_names mismatch"):
        theirs.predict(data)
    with pytest.raises(ValueError, match=match):
        bst.predict(data)


def test_feature_names_of_datasets_tables_and_eval_sets():
    """Datasets and pyarrow Tables carry names too; a model trained without names takes any; an
    eval set with other names than dtrain is refused before training."""
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    frame = pd.DataFrame(X, columns=list("abcdef"))
    bst = train({"max_depth": 3}, Dataset(frame, logit), 4)
    with pytest.raises(ValueError, match=r"data feature names differ from the model's: unexpected \['zz'\]"):
        bst.predict(Dataset(_renamed(frame)))
    with pytest.raises(ValueError, match=r"unexpected \['zz'\]"):
        bst.predict(pa.Table.from_pandas(_renamed(frame)))
    np.testing.assert_array_equal(bst.predict(Dataset(X)), bst.predict(pa.Table.from_pandas(frame)))
    unnamed = train({"max_depth": 3}, Dataset(X, logit), 4)
    np.testing.assert_array_equal(unnamed.predict(_renamed(frame)), unnamed.predict(X))
    with pytest.raises(ValueError, match=r"eval set 'valid' feature names differ .* unexpected \['zz'\]"):
        train({"max_depth": 3}, Dataset(frame, logit), 2, evals=[(Dataset(_renamed(frame), logit), "valid")])
