"""bindings.logistic.thresholds against scikit-learn's curves, FixedThresholdClassifier and
TunedThresholdClassifierCV."""
import numpy as np
import pytest
from sklearn import metrics
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.base import clone
from sklearn.model_selection import FixedThresholdClassifier as SkFixedThresholdClassifier
from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV
from sklearn.preprocessing import StandardScaler

from bindings.logistic import (FixedThresholdClassifier, LogisticRegression, TunedThresholdClassifier,
                               precision_recall_curve, roc_curve)
from bindings.logistic.thresholds import threshold_curve

X, Y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)
# rounded scores: many ties, so the per-distinct-threshold counting is exercised
SCORES = np.round(SkLogisticRegression(C=0.01).fit(X, Y).decision_function(X), 1)
SW = np.random.default_rng(5).uniform(0.5, 2.0, len(Y))


@pytest.mark.parametrize("weights", [None, SW])
def test_roc_curve_matches_sklearn(weights):
    ours = roc_curve(Y, SCORES, sample_weight=weights)
    ref = metrics.roc_curve(Y, SCORES, sample_weight=weights, drop_intermediate=False)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("weights", [None, SW])
def test_precision_recall_curve_matches_sklearn(weights):
    ours = precision_recall_curve(Y, SCORES, sample_weight=weights)
    ref = metrics.precision_recall_curve(Y, SCORES, sample_weight=weights)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def _tuned_pair(scoring, cost_matrix=None, **kw):
    """Ours and scikit-learn's TunedThresholdClassifierCV around the same (our) logistic regression."""
    estimator = LogisticRegression(C=0.05, tol=1e-10)
    ours = TunedThresholdClassifier(estimator, scoring=scoring, cost_matrix=cost_matrix, **kw).fit(X, Y)
    if cost_matrix is not None:
        costs = np.asarray(cost_matrix)

        def mean_cost(y_true, y_pred):
            return np.sum(costs * metrics.confusion_matrix(y_true, y_pred, labels=[0, 1])) / len(y_true)

        scoring = metrics.make_scorer(mean_cost, greater_is_better=False)
    ref = TunedThresholdClassifierCV(estimator, scoring=scoring, store_cv_results=True, **kw).fit(X, Y)
    return ours, ref


@pytest.mark.parametrize("scoring, cost_matrix, kwargs", [
    ("balanced_accuracy", None, {}),
    ("f1", None, {"cv": 3}),
    (None, [[0.0, 1.0], [8.0, 0.0]], {"cv": StratifiedKFold(4, shuffle=True, random_state=0)}),
    (None, [[0.0, 30.0], [1.0, -2.0]], {"response_method": "decision_function", "thresholds": 40}),
])
def test_tuned_threshold_matches_sklearn(scoring, cost_matrix, kwargs):
    """The same folds, the same candidate thresholds, the same objective: the same threshold and score."""
    ours, ref = _tuned_pair(scoring, cost_matrix, **kwargs)
    assert ours.best_threshold_ == pytest.approx(ref.best_threshold_, rel=1e-9)
    assert ours.best_score_ == pytest.approx(ref.best_score_, rel=1e-9)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-12)


def test_cost_curve_matches_a_confusion_matrix_at_every_candidate():
    """The counting of the cost-matrix curve against scikit-learn's confusion matrix, with weights and ties."""
    costs = np.array([[0.5, 3.0], [7.0, -1.0]])
    values, candidates = threshold_curve(Y, SCORES, costs, 60, np.array([0, 1]), 1, SW)
    for value, t in zip(values, candidates):
        matrix = metrics.confusion_matrix(Y, (SCORES >= t).astype(int), labels=[0, 1], sample_weight=SW)
        assert value == pytest.approx(-np.sum(costs * matrix) / SW.sum(), rel=1e-12)


def test_costly_false_negatives_lower_the_threshold():
    estimator = LogisticRegression(C=0.05)
    cautious = TunedThresholdClassifier(estimator, cost_matrix=[[0, 1], [20, 0]], cv=3).fit(X, Y == 0)
    neutral = TunedThresholdClassifier(estimator, cost_matrix=[[0, 1], [1, 0]], cv=3).fit(X, Y == 0)
    assert cautious.best_threshold_ < neutral.best_threshold_


def test_prefit_tunes_on_the_given_rows_only():
    model = LogisticRegression(C=0.05).fit(X[:300], Y[:300])
    tuned = TunedThresholdClassifier(model, scoring="f1", cv="prefit", refit=False).fit(X[300:], Y[300:])
    assert tuned.estimator_ is model
    proba = model.predict_proba(X[300:])[:, 1]
    grid = np.linspace(proba.min(), proba.max(), 100)
    best = grid[np.argmax([metrics.f1_score(Y[300:], proba >= t) for t in grid])]
    assert tuned.best_threshold_ == pytest.approx(best, rel=1e-12)
    np.testing.assert_array_equal(tuned.predict(X[:300]), (model.predict_proba(X[:300])[:, 1] >= best).astype(int))


@pytest.mark.parametrize("threshold, pos_label, response_method", [
    (0.3, None, "predict_proba"), (-1.5, None, "decision_function"), (0.8, 0, "auto"), ("auto", 0, "auto"),
])
def test_fixed_threshold_matches_sklearn(threshold, pos_label, response_method):
    estimator = LogisticRegression(C=0.05)
    ours = FixedThresholdClassifier(estimator, threshold=threshold, pos_label=pos_label,
                                    response_method=response_method).fit(X, Y)
    ref = SkFixedThresholdClassifier(estimator, threshold=threshold, pos_label=pos_label,
                                     response_method=response_method).fit(X, Y)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert 0 < np.mean(ours.predict(X)) < 1
    fitted = LogisticRegression(C=0.05).fit(X, Y)
    np.testing.assert_array_equal(FixedThresholdClassifier(fitted, threshold=threshold, pos_label=pos_label,
                                                           response_method=response_method).predict(X),
                                  ref.predict(X))


def test_clone_and_get_params():
    model = TunedThresholdClassifier(LogisticRegression(C=0.05), cost_matrix=[[0, 1], [5, 0]], cv=3)
    copy = clone(model).set_params(estimator__C=0.5, thresholds=20)
    assert copy.get_params()["estimator__C"] == 0.5 and model.estimator.C == 0.05
    assert clone(FixedThresholdClassifier(LogisticRegression(), threshold=0.2)).threshold == 0.2


def test_bad_input():
    estimator = LogisticRegression(C=0.05)
    with pytest.raises(ValueError, match="cost_matrix"):
        TunedThresholdClassifier(estimator, cost_matrix=[[0, 1]]).fit(X, Y)
    with pytest.raises(TypeError, match="make_scorer"):
        TunedThresholdClassifier(estimator, scoring=lambda model, X, y: 0.0).fit(X, Y)
    with pytest.raises(ValueError, match="refit=False"):
        TunedThresholdClassifier(estimator, cv="prefit").fit(X, Y)
    with pytest.raises(ValueError, match="one split"):
        TunedThresholdClassifier(estimator, cv=3, refit=False).fit(X, Y)
    with pytest.raises(ValueError, match="binary"):
        TunedThresholdClassifier(estimator).fit(X, np.arange(len(Y)) % 3)
    with pytest.raises(ValueError, match="thresholds"):
        TunedThresholdClassifier(estimator, thresholds=1).fit(X, Y)
    with pytest.raises(ValueError, match="response_method"):
        FixedThresholdClassifier(estimator, response_method="predict").fit(X, Y).predict(X)
    with pytest.raises(ValueError, match="not fitted"):
        FixedThresholdClassifier(LogisticRegression()).predict(X)
    with pytest.raises(ValueError, match="binary"):
        roc_curve(np.arange(len(Y)) % 3, SCORES)
    with pytest.raises(ValueError, match="one entry per row"):
        roc_curve(Y, SCORES[:-1])
