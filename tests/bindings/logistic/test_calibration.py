"""bindings.logistic.calibration against scikit-learn's CalibratedClassifierCV, calibration_curve and metrics."""
import numpy as np
import pandas as pd
import pytest
from sklearn import metrics
from sklearn.calibration import CalibratedClassifierCV
from sklearn.calibration import calibration_curve as sk_calibration_curve
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.naive_bayes import GaussianNB
from sklearn.preprocessing import StandardScaler

from bindings.logistic import (CalibratedClassifier, LogisticRegression, TemperatureCalibrator, brier_score,
                               calibration_curve, expected_calibration_error, log_loss)

X_BC, Y_BC = load_breast_cancer(return_X_y=True)
X_BC = StandardScaler().fit_transform(X_BC)
X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_IRIS = StandardScaler().fit_transform(X_IRIS)
SW = np.random.default_rng(3).uniform(0.3, 2.0, len(Y_BC))


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_our_logistic_regression_calibrated_like_sklearn(method):
    """The same estimator inside both wrappers (ours is scikit-learn compatible): same folds, same calibrators."""
    model = LogisticRegression(C=0.05, tol=1e-10)
    ours = CalibratedClassifier(model, method=method, cv=5).fit(X_BC, Y_BC)
    ref = CalibratedClassifierCV(model, method=method, cv=5).fit(X_BC, Y_BC)
    np.testing.assert_allclose(ours.predict_proba(X_BC), ref.predict_proba(X_BC), atol=1e-7)
    np.testing.assert_array_equal(ours.predict(X_BC), ref.predict(X_BC))


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_sklearn_classifier_without_decision_function_with_weights(method):
    """GaussianNB exposes predict_proba only; its probabilities pile up next to 0 and 1."""
    ours = CalibratedClassifier(GaussianNB(), method=method, cv=4).fit(X_BC, Y_BC, sample_weight=SW)
    ref = CalibratedClassifierCV(GaussianNB(), method=method, cv=4).fit(X_BC, Y_BC, sample_weight=SW)
    np.testing.assert_allclose(ours.predict_proba(X_BC), ref.predict_proba(X_BC), atol=1e-6)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_our_gbdt_calibrated_like_sklearn(method):
    """The project's GBDTClassifier (scikit-learn compatible) under both calibrators."""
    from bindings.sklearn import GBDTClassifier

    gbdt = GBDTClassifier(n_estimators=8, max_depth=3, learning_rate=0.5, random_state=0)
    ours = CalibratedClassifier(gbdt, method=method, cv=3).fit(X_BC, Y_BC)
    ref = CalibratedClassifierCV(gbdt, method=method, cv=3).fit(X_BC, Y_BC)
    np.testing.assert_allclose(ours.predict_proba(X_BC), ref.predict_proba(X_BC), atol=1e-8)


def test_multiclass_one_vs_rest_and_explicit_splits():
    splits = list(KFold(3, shuffle=True, random_state=0).split(X_IRIS))
    ours = CalibratedClassifier(LogisticRegression(C=0.3, tol=1e-10), cv=splits).fit(X_IRIS, Y_IRIS)
    # scikit-learn's own multinomial fit inside the reference: ours agrees with it to ~1e-7
    reference_model = SkLogisticRegression(C=0.3, tol=1e-12, max_iter=10_000)
    ref = CalibratedClassifierCV(reference_model, cv=splits).fit(X_IRIS, Y_IRIS)
    np.testing.assert_allclose(ours.predict_proba(X_IRIS), ref.predict_proba(X_IRIS), atol=1e-5)


def test_prefit_calibrates_the_given_model():
    model = LogisticRegression(C=0.05).fit(X_BC[:300], Y_BC[:300])
    ours = CalibratedClassifier(model, method="isotonic", cv="prefit").fit(X_BC[300:], Y_BC[300:])
    assert ours.calibrated_classifiers_[0][0] is model
    scores = model.decision_function(X_BC[300:])
    order = np.argsort(scores)
    fitted = ours.predict_proba(X_BC[300:])[order, 1]
    assert np.all(np.diff(fitted) >= 0), "isotonic calibration must be monotone in the score"


@pytest.mark.parametrize("method", ["sigmoid", "isotonic", "temperature"])
def test_ensemble_false_matches_sklearn(method):
    """Held-out scores of all folds calibrate one estimator refitted on all rows."""
    model = LogisticRegression(C=0.05, tol=1e-10)
    ours = CalibratedClassifier(model, method=method, cv=4, ensemble=False).fit(X_BC, Y_BC, sample_weight=SW)
    ref = CalibratedClassifierCV(model, method=method, cv=4, ensemble=False).fit(X_BC, Y_BC, sample_weight=SW)
    assert len(ours.calibrated_classifiers_) == 1
    np.testing.assert_allclose(ours.predict_proba(X_BC), ref.predict_proba(X_BC), atol=1e-7)


@pytest.mark.parametrize("estimator, X, y", [
    (LogisticRegression(C=0.05, tol=1e-10), X_BC, Y_BC),   # binary decision values become (-s, s)
    (GaussianNB(), X_BC, Y_BC),                              # binary probabilities become log(1 - p), log(p)
    (LogisticRegression(C=0.3, tol=1e-10), X_IRIS, Y_IRIS),  # multinomial margins, one temperature
    (GaussianNB(), X_IRIS, Y_IRIS),
])
def test_temperature_scaling_matches_sklearn(estimator, X, y):
    ours = CalibratedClassifier(estimator, method="temperature", cv=3).fit(X, y)
    ref = CalibratedClassifierCV(estimator, method="temperature", cv=3).fit(X, y)
    for (_, (mine,)), theirs in zip(ours.calibrated_classifiers_, ref.calibrated_classifiers_):
        assert mine.beta_ == pytest.approx(theirs.calibrators[0].beta_, rel=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)


def test_temperature_minimises_the_nll_like_scipy():
    """The temperature against a bounded scalar minimisation of the weighted NLL of softmax(z / T)."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    rng = np.random.default_rng(7)
    y = rng.integers(0, 4, 500)
    logits = 3.0 * rng.standard_normal((500, 4))
    logits[np.arange(500), y] += 2.0  # informative but over-confident margins: T > 1
    weights = rng.uniform(0.2, 2.0, 500)

    def nll(temperature):
        return -weights @ log_softmax(logits / temperature, axis=1)[np.arange(500), y]

    ref = minimize_scalar(nll, bounds=(0.05, 50.0), method="bounded", options={"xatol": 1e-12})
    ours = TemperatureCalibrator().fit(logits, y, weights)
    assert ours.temperature_ == pytest.approx(ref.x, rel=1e-7)
    assert ours.temperature_ > 1.0
    np.testing.assert_allclose(ours.predict(logits), np.exp(log_softmax(logits / ref.x, axis=1)), atol=1e-8)


def test_a_full_sklearn_estimator():
    """get_params/set_params, clone, a Pipeline and a GridSearchCV over the calibrator and the wrapped
    model's C give what scikit-learn's CalibratedClassifierCV gives in the same places."""
    model = CalibratedClassifier(LogisticRegression(C=0.05, tol=1e-10), method="isotonic", cv=3)
    assert model.get_params()["estimator__C"] == 0.05
    copy = clone(model).set_params(method="sigmoid", estimator__C=0.2)
    assert (copy.method, copy.estimator.C, model.method, model.estimator.C) == ("sigmoid", 0.2, "isotonic", 0.05)
    raw = load_breast_cancer().data
    ours = make_pipeline(StandardScaler(), model).fit(raw, Y_BC)
    ref = make_pipeline(StandardScaler(), CalibratedClassifierCV(LogisticRegression(C=0.05, tol=1e-10),
                                                                 method="isotonic", cv=3)).fit(raw, Y_BC)
    np.testing.assert_allclose(ours.predict_proba(raw), ref.predict_proba(raw), atol=1e-7)
    grid = {"method": ["sigmoid", "isotonic"], "estimator__C": [0.01, 0.1, 1.0]}
    ours = GridSearchCV(model, grid, cv=3, scoring="neg_log_loss").fit(X_BC, Y_BC)
    ref = GridSearchCV(CalibratedClassifierCV(LogisticRegression(tol=1e-10), cv=3), grid, cv=3,
                       scoring="neg_log_loss").fit(X_BC, Y_BC)
    assert ours.best_params_ == ref.best_params_
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-6)


def test_feature_names_pass_through():
    frame = pd.DataFrame(X_BC[:, :5], columns=list("abcde"))
    model = CalibratedClassifier(LogisticRegression(C=0.3), cv=3).fit(frame, Y_BC)
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    assert model.n_features_in_ == 5
    with pytest.raises(ValueError, match="feature names"):
        model.predict_proba(frame[list("edcba")])
    assert not hasattr(CalibratedClassifier(cv=3).fit(X_BC[:, :5], Y_BC), "feature_names_in_")


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_curve_matches_sklearn(strategy):
    proba = SkLogisticRegression(C=0.01).fit(X_BC, Y_BC).predict_proba(X_BC)[:, 1]
    ours = calibration_curve(Y_BC, proba, n_bins=8, strategy=strategy)
    ref = sk_calibration_curve(Y_BC, proba, n_bins=8, strategy=strategy)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    # ECE is the bin-size-weighted gap of the same bins
    counts = np.bincount(np.searchsorted(np.linspace(0, 1, 9)[1:-1], proba), minlength=8)
    if strategy == "uniform":
        expected = np.sum(counts[counts > 0] * np.abs(ref[0] - ref[1])) / len(proba)
        assert expected_calibration_error(Y_BC, proba, n_bins=8) == pytest.approx(expected, rel=1e-12)


def test_brier_and_log_loss_match_sklearn():
    proba = SkLogisticRegression(C=0.01).fit(X_BC, Y_BC).predict_proba(X_BC)[:, 1]
    assert brier_score(Y_BC, proba, sample_weight=SW) == pytest.approx(
        metrics.brier_score_loss(Y_BC, proba, sample_weight=SW), rel=1e-12)
    assert log_loss(Y_BC, proba, sample_weight=SW) == pytest.approx(
        metrics.log_loss(Y_BC, proba, sample_weight=SW), rel=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="method"):
        CalibratedClassifier(GaussianNB(), method="beta").fit(X_BC, Y_BC)
    with pytest.raises(ValueError, match="one entry per row"):
        CalibratedClassifier(GaussianNB()).fit(X_BC[:-1], Y_BC)
    with pytest.raises(ValueError, match="ensemble"):
        CalibratedClassifier(GaussianNB(), ensemble="yes").fit(X_BC, Y_BC)
    with pytest.raises(ValueError, match="cv must be"):
        CalibratedClassifier(GaussianNB(), cv="five").fit(X_BC, Y_BC)
    with pytest.raises(TypeError, match="predict_proba"):
        CalibratedClassifier(object()).fit(X_BC, Y_BC)

    class NoClasses:
        def fit(self, X, y):
            return self

        def decision_function(self, X):
            return X[:, 0]

    with pytest.raises(TypeError, match="classes_"):
        CalibratedClassifier(NoClasses(), cv=3).fit(X_BC, Y_BC)
    with pytest.raises(ValueError, match="smallest class"):
        CalibratedClassifier(GaussianNB(), cv=5).fit(X_BC[:6], np.r_[0, 0, 0, 0, 1, 1])
    with pytest.raises(ValueError, match="binary"):
        brier_score(Y_IRIS, np.full(len(Y_IRIS), 0.5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        log_loss(Y_BC, np.full(len(Y_BC), 1.5))
    with pytest.raises(ValueError, match="NaN"):
        calibration_curve(Y_BC, np.full(len(Y_BC), np.nan))
    with pytest.raises(ValueError, match="not fitted"):
        CalibratedClassifier(GaussianNB()).predict_proba(X_BC)
