"""scikit-learn estimators: clone, Pipeline, GridSearchCV, string labels, eval_set."""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bindings import Dataset, GBDTClassifier, GBDTRegressor, train


def test_classifier_equals_functional_train():
    X, y = load_breast_cancer(return_X_y=True)
    clf = GBDTClassifier(n_estimators=10, max_depth=3, learning_rate=0.2, random_state=0).fit(X, y)
    bst = train({"objective": "binary:logistic", "max_depth": 3, "learning_rate": 0.2}, Dataset(X, y), 10)
    np.testing.assert_array_equal(clf.predict_proba(X)[:, 1], bst.predict(X))
    assert clf.score(X, y) > 0.97


def test_regressor_objectives_equal_functional_train():
    """GBDTRegressor's ``objective`` (and tweedie_variance_power, quantile_alpha) reach train; a regressor refuses
    classification objectives, and a classifier an objective its classes do not imply."""
    X, y = load_diabetes(return_X_y=True)
    for objective, extra in (("reg:gamma", {}), ("reg:tweedie", {"tweedie_variance_power": 1.7}),
                             ("reg:quantileerror", {"quantile_alpha": 0.9})):
        reg = GBDTRegressor(n_estimators=10, max_depth=3, objective=objective, **extra).fit(X, y)
        bst = train({"objective": objective, "max_depth": 3, **extra}, Dataset(X, y), 10)
        np.testing.assert_array_equal(reg.predict(X), bst.predict(X))
        assert (reg.predict(X) > 0).all()
    with pytest.raises(ValueError, match="objective must be one of"):
        GBDTRegressor(objective="multi:softprob").fit(X, y)
    with pytest.raises(ValueError, match="objective is chosen from the classes"):
        GBDTClassifier(objective="multi:softprob").fit(X, y > y.mean())
    GBDTClassifier(n_estimators=2, objective="binary:logistic").fit(X, y > y.mean())


def test_string_labels_multiclass_and_proba_columns():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = GBDTClassifier(n_estimators=20, max_depth=3).fit(X, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
    assert (clf.predict(X) == names).mean() > 0.95


def test_pipeline_clone_and_grid_search():
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), GBDTRegressor(n_estimators=20, learning_rate=0.1))
    search = GridSearchCV(pipe, {"gbdtregressor__max_depth": [2, 4]}, cv=3).fit(X, y)
    assert search.best_params_["gbdtregressor__max_depth"] in (2, 4)
    assert search.score(X, y) > 0.4
    reg = clone(GBDTRegressor(max_depth=3, reg_alpha=0.5))
    assert reg.get_params()["max_depth"] == 3 and not hasattr(reg, "booster_")


def test_eval_set_early_stopping_and_importances():
    X, y = load_breast_cancer(return_X_y=True)
    clf = GBDTClassifier(n_estimators=300, learning_rate=0.5, early_stopping_rounds=5, eval_metric="logloss")
    clf.fit(X[:400], y[:400], eval_set=[(X[400:], y[400:])])
    assert clf.best_iteration_ is not None and clf.booster_.num_boosted_rounds() < 300
    assert clf.feature_importances_.shape == (30,)
    assert clf.feature_importances_.sum() == pytest.approx(1.0)


def test_integer_weights_equal_duplicated_rows():
    X, y = load_diabetes(return_X_y=True)
    w = np.where(np.arange(len(y)) % 3 == 0, 2.0, 1.0)
    dup = np.repeat(np.arange(len(y)), w.astype(int))
    params = dict(n_estimators=5, max_depth=3, max_bin=32)
    weighted = GBDTRegressor(**params).fit(X, y, sample_weight=w).predict(X)
    duplicated = GBDTRegressor(**params).fit(X[dup], y[dup]).predict(X)
    np.testing.assert_allclose(weighted, duplicated, rtol=1e-6)
    unweighted = GBDTRegressor(**params).fit(X, y).predict(X)
    assert not np.allclose(weighted, unweighted)


def test_dataframe_and_arrow_inputs_keep_feature_names():
    pa = pytest.importorskip("pyarrow")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    clf = GBDTClassifier(n_estimators=5).fit(X, y)
    assert list(clf.feature_names_in_) == list(X.columns)
    assert list(clf.booster_.get_score("weight"))[0] in X.columns
    table = pa.Table.from_pandas(X)
    np.testing.assert_array_equal(clf.predict_proba(table), clf.predict_proba(X.to_numpy()))
    d = Dataset(table, y)
    assert d.feature_names == list(X.columns) and d.num_row == len(y)


@pytest.mark.parametrize("categorical", [None, ["mean radius"]])
def test_predict_refuses_renamed_or_reordered_columns_as_scikit_learn(categorical):
    """Fitted on a DataFrame, the estimators refuse a frame with a renamed or reordered column
    (ValueError naming the columns, where scikit-learn's own estimators raise too) and take numpy
    input; with categorical columns too (their values are coded by column)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :5]
    if categorical:
        X = X.assign(**{"mean radius": np.round(X["mean radius"] / 5)})
    clf = GBDTClassifier(n_estimators=5, categorical_features=categorical).fit(X, y)
    theirs = HistGradientBoostingClassifier(max_iter=5).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X.to_numpy()), clf.predict_proba(X))
    renamed = X.rename(columns={"mean texture": "texture"})
    reordered = X[[X.columns[1], X.columns[0], *X.columns[2:]]]
    for data, match in ((renamed, r"unexpected \['texture'\], missing \['mean texture'\]"),
                        (reordered, "another order")):
        with pytest.raises(ValueError, match="feature names should match"):
            theirs.predict(data)
        for method in (clf.predict, clf.predict_proba):
            with pytest.raises(ValueError, match=f"^X .*{match}"):  # names the argument
                method(data)
