"""bindings.logistic.thresholds against scikit-learn's curves and a brute-force search over thresholds."""
import numpy as np
import pytest
from sklearn import metrics
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler

from bindings.logistic import precision_recall_curve, roc_curve, tune_threshold

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


def _brute_force(objective, cost_fp=1.0, cost_fn=1.0):
    """Evaluate every candidate threshold with scikit-learn's confusion matrix; best value, highest threshold."""
    best = None
    for t in np.r_[np.inf, np.unique(SCORES)[::-1]]:
        tn, fp, fn, tp = metrics.confusion_matrix(Y, SCORES >= t, labels=[0, 1]).ravel()
        if objective == "f1":
            value = metrics.f1_score(Y, SCORES >= t, zero_division=0.0)
        elif objective == "youden":
            value = tp / (tp + fn) - fp / (fp + tn)
        else:
            value = -(cost_fp * fp + cost_fn * fn)
        if best is None or value > best[1] + 1e-12:
            best = (t, value)
    return best


@pytest.mark.parametrize("objective, costs", [("f1", {}), ("youden", {}),
                                              ("cost", {"cost_fp": 1.0, "cost_fn": 8.0}),
                                              ("cost", {"cost_fp": 50.0, "cost_fn": 1.0})])
def test_tune_threshold_matches_brute_force(objective, costs):
    choice = tune_threshold(Y, SCORES, objective, **costs)
    threshold, value = _brute_force(objective, **costs)
    assert choice.threshold == threshold
    assert abs(choice.value) == pytest.approx(abs(value), rel=1e-12)


def test_costly_false_negatives_lower_the_threshold():
    cautious = tune_threshold(Y == 0, -SCORES, "cost", cost_fp=1.0, cost_fn=20.0)
    neutral = tune_threshold(Y == 0, -SCORES, "cost", cost_fp=1.0, cost_fn=1.0)
    assert cautious.threshold < neutral.threshold


def test_bad_input():
    with pytest.raises(ValueError, match="objective"):
        tune_threshold(Y, SCORES, "accuracy")
    with pytest.raises(ValueError, match="cost_fn"):
        tune_threshold(Y, SCORES, "cost", cost_fn=-1.0)
    with pytest.raises(ValueError, match="binary"):
        roc_curve(np.arange(len(Y)) % 3, SCORES)
    with pytest.raises(ValueError, match="one entry per row"):
        roc_curve(Y, SCORES[:-1])
