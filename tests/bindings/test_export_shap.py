"""``to_shap``: shap's TreeExplainer on our models gives our ``pred_contribs`` (path-dependent, NaN
included) and, with a background set, interventional Shapley values equal to a brute-force
enumeration of coalitions over our own predictions."""
import itertools
import math

import numpy as np
import pytest
import shap
from sklearn.exceptions import NotFittedError

from bindings import GBDTClassifier, GBDTRegressor
from tests.bindings.export_testing import codes, fit


@pytest.mark.parametrize("objective", ["reg:squarederror", "binary:logistic", "multi:softprob", "multi-quantile",
                                       "count:poisson", "rank:ndcg"])
def test_path_dependent_shap_values_equal_our_contributions(objective):
    booster, frame = fit(objective)
    X = codes(frame)  # 10% NaN
    explainer = shap.TreeExplainer(booster.to_shap())
    values = np.asarray(explainer.shap_values(X))
    ours = booster.predict(X, pred_contribs=True)
    if ours.ndim == 3:  # (n, K, F + 1) against shap's (n, F, K)
        ours = ours.transpose(0, 2, 1)
        np.testing.assert_allclose(values, ours[:, :-1], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(explainer.expected_value, ours[0, -1], rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_allclose(values, ours[:, :-1], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np.ravel(explainer.expected_value), [ours[0, -1]], rtol=1e-6, atol=1e-6)


def brute_force_interventional(predict, x, background):
    """Exact Shapley values of v(S) = mean over background rows b of predict(x on S, b elsewhere)."""
    n_features = x.shape[0]
    value = {}
    for size in range(n_features + 1):
        for subset in itertools.combinations(range(n_features), size):
            rows = background.copy()
            rows[:, list(subset)] = x[list(subset)]
            value[subset] = predict(rows).mean(axis=0)
    phi = np.zeros((n_features,) + np.shape(value[()]))
    for i in range(n_features):
        for subset, v in value.items():
            if i in subset:
                continue
            weight = math.factorial(len(subset)) * math.factorial(n_features - len(subset) - 1) \
                / math.factorial(n_features)
            phi[i] += weight * (value[tuple(sorted(subset + (i,)))] - v)
    return phi


@pytest.mark.parametrize("objective", ["reg:squarederror", "binary:logistic", "multi:softprob"])
def test_interventional_shap_values_equal_brute_force_shapley_values(objective):
    booster, frame = fit(objective)
    X = codes(frame)
    background, explained = X[:25], X[100:106]
    explainer = shap.TreeExplainer(booster.to_shap(), data=background, feature_perturbation="interventional")
    values = np.asarray(explainer.shap_values(explained))
    for row, got in zip(explained, values):
        expected = brute_force_interventional(lambda rows: booster.predict(rows, output_margin=True), row, background)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_probability_explanations_equal_shaps_on_the_same_model_from_xgboost():
    """For probabilities shap rescales the margin's values (not exact Shapley values of the
    probability): the reference is shap on the same model read from its XGBoost export."""
    booster, frame = fit("binary:logistic")
    X = codes(frame)
    background, explained = X[:25], X[100:120]
    explain = lambda model: shap.TreeExplainer(model, data=background, feature_perturbation="interventional",
                                               model_output="probability").shap_values(explained)
    np.testing.assert_allclose(explain(booster.to_shap()), explain(booster.to_xgboost()), rtol=1e-5, atol=1e-6)


def test_estimators_export_to_shap():
    _, frame = fit("reg:squarederror")
    X = codes(frame)
    y = (np.nan_to_num(X[:, 0]) > 0).astype(int)
    classifier = GBDTClassifier(n_estimators=3, max_depth=2, n_jobs=1).fit(X, y)
    values = shap.TreeExplainer(classifier.to_shap()).shap_values(X)
    np.testing.assert_allclose(values, classifier.booster_.predict(X, pred_contribs=True)[:, :-1], atol=1e-12)
    with pytest.raises(NotFittedError):
        GBDTRegressor().to_shap()


def test_categorical_splits_and_untrained_models_are_refused():
    booster, _ = fit("reg:squarederror", categorical=True)
    with pytest.raises(ValueError, match="SHAP's tree format has no categorical splits"):
        booster.to_shap()
    with pytest.raises(ValueError, match="untrained booster to SHAP"):
        fit("reg:squarederror", rounds=0)[0].to_shap()
