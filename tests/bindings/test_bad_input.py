"""Bad input raises ValueError/TypeError naming the argument; nothing returns garbage."""
import json

import numpy as np
import pytest

from bindings import Booster, Dataset, GBDTClassifier, GBDTRegressor, train

rng = np.random.default_rng(0)
X = rng.standard_normal((200, 4))
y = (X[:, 0] > 0).astype(float)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_label(bad):
    yb = y.copy()
    yb[3] = bad
    with pytest.raises(ValueError, match="label"):
        Dataset(X, yb)
    with pytest.raises(ValueError, match="y contains NaN"):
        GBDTClassifier().fit(X, yb)


def test_length_mismatch():
    with pytest.raises(ValueError, match="label has 199 entries but data has 200 rows"):
        Dataset(X, y[:-1])
    with pytest.raises(ValueError, match="X has 200 rows but y has 10"):
        GBDTRegressor().fit(X, y[:10])


def test_empty_data():
    with pytest.raises(ValueError, match="empty"):
        Dataset(np.empty((0, 3)), np.empty(0))
    with pytest.raises(ValueError, match="empty"):
        Dataset(np.empty((5, 0)), np.zeros(5))


def test_one_dimensional_data():
    with pytest.raises(ValueError, match="2-D"):
        Dataset(X[:, 0], y)


def test_unknown_parameter_suggests_the_close_match():
    with pytest.raises(ValueError, match="unknown parameter 'max_detph'.*'max_depth'"):
        train({"max_detph": 3}, Dataset(X, y), 1)


@pytest.mark.parametrize("param,value", [("max_bin", 1), ("max_bin", 300), ("learning_rate", 0.0),
                                         ("learning_rate", -0.1), ("max_depth", -1), ("subsample", 0.0),
                                         ("colsample_bytree", 1.5), ("reg_lambda", -1.0),
                                         ("split_mode", "rows"), ("objective", "reg:linear"),
                                         ("tweedie_variance_power", 2.0), ("tweedie_variance_power", 0.99),
                                         ("quantile_alpha", 1.0), ("quantile_alpha", 0.0), ("huber_slope", 0.0)])
def test_out_of_range_parameter(param, value):
    with pytest.raises(ValueError, match=param):
        train({param: value}, Dataset(X, y), 1)


@pytest.mark.parametrize("metric,error,message", [
    ("tweedie-nloglik", ValueError, r"variance power in \[1, 2\)"),
    ("tweedie-nloglik@2.5", ValueError, "variance power"),
    ("tweedie-nloglik@x", ValueError, "variance power"), ("ndgc", ValueError, "eval_metric must be one of"),
    ("ndcg@x", ValueError, "k a positive integer"),
    ("quantile", ValueError, "eval_metric 'quantile' takes quantile_alpha"),
    ("quantile@1.5", ValueError, r"quantiles in \(0, 1\)"), ("quantile@0.5,x", ValueError, "quantiles"),
    ("mphe@-1", ValueError, "a slope > 0"),
    (3, TypeError, "eval_metric must be a metric name")])
def test_unknown_metric(metric, error, message):
    with pytest.raises(error, match=message):
        train({"eval_metric": metric}, Dataset(X, y), 1)


def test_quantile_objective_needs_its_alpha():
    with pytest.raises(ValueError, match="quantile_alpha .* is required for reg:quantileerror"):
        train({"objective": "reg:quantileerror"}, Dataset(X, y), 1)
    with pytest.raises(TypeError, match="quantile_alpha must be a number"):
        train({"objective": "reg:quantileerror", "quantile_alpha": [0.1, "0.9"]}, Dataset(X, y), 1)
    with pytest.raises(ValueError, match="non-empty list"):
        train({"objective": "reg:quantileerror", "quantile_alpha": []}, Dataset(X, y), 1)
    with pytest.raises(ValueError, match=r"quantile_alpha must be in \(0.0, 1.0\)"):
        train({"objective": "reg:quantileerror", "quantile_alpha": [0.5, 1.5]}, Dataset(X, y), 1)


def test_wrong_parameter_type():
    with pytest.raises(TypeError, match="max_depth must be an integer"):
        train({"max_depth": 2.5}, Dataset(X, y), 1)


def test_single_class_classifier():
    with pytest.raises(ValueError, match="single class"):
        GBDTClassifier().fit(X, np.ones(200))


def test_labels_outside_the_objective_domain():
    with pytest.raises(ValueError, match=r"labels must be in \[0, 1\]"):
        train({"objective": "binary:logistic"}, Dataset(X, y * 2), 1)
    with pytest.raises(ValueError, match="labels must be integers in"):
        train({"objective": "multi:softprob", "num_class": 2}, Dataset(X, y * 2), 1)
    with pytest.raises(ValueError, match="num_class must be >= 2"):
        train({"objective": "multi:softprob"}, Dataset(X, y), 1)


def test_feature_count_mismatch_at_predict():
    bst = train({}, Dataset(X, y), 2)
    with pytest.raises(ValueError, match="data has 3 features but the model was trained on 4"):
        bst.predict(X[:, :3])
    clf = GBDTClassifier(n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features"):
        clf.predict(np.c_[X, X[:, :1]])


def test_loading_a_file_that_is_not_our_model(tmp_path):
    junk = tmp_path / "junk.json"
    junk.write_text(json.dumps({"learner": {}}))
    with pytest.raises(ValueError, match="not a gbdt-engine model"):
        Booster.load_model(junk)
    text = tmp_path / "text.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a gbdt-engine JSON model"):
        Booster.load_model(text)


def test_non_numeric_data():
    pd = pytest.importorskip("pandas")
    with pytest.raises(TypeError, match="non-numeric columns"):
        Dataset(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}), [0, 1])


def test_infinite_features_are_extreme_values_not_errors():
    Xi = X.copy()
    Xi[0, 0] = np.inf
    Xi[1, 0] = -np.inf
    bst = train({"objective": "binary:logistic", "max_depth": 2}, Dataset(Xi, y), 5)
    p = bst.predict(Xi)
    assert np.isfinite(p).all()
    assert p[0] >= p[1]  # +inf sits above every threshold of the monotone signal in feature 0


def test_custom_objective_with_bad_output():
    with pytest.raises(ValueError, match="custom objective must return"):
        train({}, Dataset(X, y), 1, obj=lambda m, lab: (np.zeros(3), np.ones(3)))
