"""bindings.logistic.LogisticRegressionCV against scikit-learn's LogisticRegressionCV on the same folds:
the same chosen C and l1_ratio, fold scores and coefficients."""
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegressionCV as SkLogisticRegressionCV
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from bindings.logistic import LogisticRegressionCV

X_BC, Y_BC = load_breast_cancer(return_X_y=True)
X_BC = StandardScaler().fit_transform(X_BC)
X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_IRIS = StandardScaler().fit_transform(X_IRIS)


def _reference(l1_ratios=(0.0,), **kw):
    """scikit-learn solved to near machine precision: newton-cholesky for L2, saga for L1 parts."""
    solver = "newton-cholesky" if all(r == 0 for r in l1_ratios) else "saga"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return SkLogisticRegressionCV(l1_ratios=l1_ratios, solver=solver, tol=1e-12, max_iter=100_000,
                                      use_legacy_attributes=False, **kw)


def _compare(ours, ref, atol):
    assert ours.C_ == ref.C_ and ours.l1_ratio_ == pytest.approx(ref.l1_ratio_)
    np.testing.assert_array_equal(ours.Cs_, ref.Cs_)
    np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=1e-6, atol=atol)
    # the path reaches C = 1e4, where the breast-cancer fit is nearly separable (coefficients ~40, an
    # ill-conditioned optimum): relative agreement there is the solvers' tolerance, 1e-6
    np.testing.assert_allclose(ours.coefs_paths_[..., 0, :], ref.coefs_paths_[..., 0, :], rtol=1e-5, atol=atol)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=atol)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=atol)


@pytest.mark.parametrize("scoring", [None, "neg_log_loss"])
def test_binary_l2_grid_matches_sklearn(scoring):
    """Default scoring is accuracy (scikit-learn's): ties across C go to the smallest C in both."""
    ours = LogisticRegressionCV(Cs=8, cv=5, scoring=scoring, tol=1e-10, max_iter=1000).fit(X_BC, Y_BC)
    ref = _reference(Cs=8, cv=5, scoring=scoring).fit(X_BC, Y_BC)
    _compare(ours, ref, atol=1e-6)
    assert ours.scores_.shape == (5, 1, 8) and ours.coefs_paths_.shape == (5, 1, 8, 1, 31)
    np.testing.assert_allclose(ours.predict_proba(X_BC), ref.predict_proba(X_BC), atol=1e-6)


def test_elastic_net_grid_with_weights_and_a_splitter_matches_sklearn():
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(Y_BC))
    folds = KFold(3, shuffle=True, random_state=1)
    kwargs = dict(Cs=[0.02, 0.1, 0.5], cv=folds, scoring="neg_log_loss", class_weight="balanced")
    X = X_BC[:, :10]  # ten features keep saga's reference fits to 1e-12 quick
    ours = LogisticRegressionCV(l1_ratios=(0.5, 1.0), tol=1e-10, max_iter=1000, **kwargs).fit(X, Y_BC,
                                                                                              sample_weight=sw)
    ref = _reference(l1_ratios=(0.5, 1.0), **kwargs).fit(X, Y_BC, sample_weight=sw)
    _compare(ours, ref, atol=2e-6)
    assert ours.penalty_ == ("l1" if ours.l1_ratio_ == 1.0 else "elasticnet")


def test_refit_false_averages_the_folds_like_sklearn():
    kwargs = dict(Cs=[0.01, 0.1, 1.0, 10.0], l1_ratios=(0.0,), cv=4, scoring="neg_log_loss", refit=False)
    ours = LogisticRegressionCV(tol=1e-10, max_iter=1000, **kwargs).fit(X_BC, Y_BC)
    ref = _reference(**kwargs).fit(X_BC, Y_BC)
    _compare(ours, ref, atol=1e-6)


def test_multinomial_matches_sklearn():
    ours = LogisticRegressionCV(Cs=5, cv=3, scoring="neg_log_loss", tol=1e-10, max_iter=1000).fit(X_IRIS, Y_IRIS)
    ref = _reference(Cs=5, cv=3, scoring="neg_log_loss").fit(X_IRIS, Y_IRIS)
    assert ours.C_ == ref.C_
    # C = 1e2 and 1e4 nearly separate iris's folds: there the log losses agree to the solvers' tolerance
    np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-5)
    np.testing.assert_allclose(ours.predict_proba(X_IRIS), ref.predict_proba(X_IRIS), atol=2e-6)


def test_named_columns_clone_and_callable_scorer():
    frame = pd.DataFrame(X_BC[:, :6], columns=[f"f{j}" for j in range(6)])

    def brier(model, X, y):
        return -np.mean((model.predict_proba(X)[:, 1] - y) ** 2)

    model = LogisticRegressionCV(Cs=4, cv=3, scoring=brier)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    copy.fit(frame, Y_BC)
    np.testing.assert_array_equal(copy.feature_names_in_, frame.columns)
    with pytest.raises(ValueError, match="feature names"):
        copy.predict(frame[frame.columns[::-1]])
    assert copy.C_ == copy.Cs_[np.argmax(copy.scores_.sum(axis=0)[0])]
    assert ["coef", "odds ratio"] == list(copy.summary().coefficients.columns), "a chosen C is a penalty"


@pytest.mark.parametrize("kwargs, match", [
    ({"Cs": 0}, "Cs must be"),
    ({"Cs": [0.1, -1.0]}, "Cs must be"),
    ({"l1_ratios": [1.5]}, "l1_ratios must be"),
    ({"l1_ratios": None}, "l1_ratios must be"),
    ({"l1_ratios": [1.0], "solver": "lbfgs"}, "smooth penalty"),
    ({"cv": 1}, "at least 2 folds"),
    ({"cv": "five"}, "cv must be"),
    ({"scoring": 3}, "scoring must be"),
    ({"refit": "yes"}, "refit must be"),
])
def test_bad_input_raises_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LogisticRegressionCV(**kwargs).fit(X_BC, Y_BC)
