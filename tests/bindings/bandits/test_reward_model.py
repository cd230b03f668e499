"""RegressionModel: cross-fitted reward models equal obp 0.4.1's RegressionModel.fit_predict on the
same folds (scikit-learn Ridge, a tree with importance weights, a classifier, our GBDTRegressor),
and its folds, refits and errors."""
import numpy as np
import pytest
from obp.ope import RegressionModel as ObpRegressionModel
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold
from sklearn.tree import DecisionTreeRegressor

from bindings import GBDTRegressor
from bindings.bandits import RegressionModel, SyntheticBanditDataset
from bindings.cv import make_folds


def logistic_rewards(context, action_context, random_state=None):
    coef = np.random.default_rng(random_state).standard_normal((context.shape[1], action_context.shape[0]))
    return 1 / (1 + np.exp(-context @ coef))


@pytest.fixture(scope="module")
def logs():
    dataset = SyntheticBanditDataset(3, dim_context=4, reward_function=logistic_rewards, random_state=0)
    feedback = dataset.obtain_batch_bandit_feedback(600)
    target = np.random.default_rng(1).dirichlet(np.ones(3), size=600)
    return feedback, target


@pytest.mark.parametrize("model, method, n_folds", [
    (Ridge(alpha=1.0), "normal", 1),
    (Ridge(alpha=1.0), "normal", 3),
    (DecisionTreeRegressor(max_depth=4, random_state=0), "iw", 3),
    (DecisionTreeRegressor(max_depth=4, random_state=0), "mrdr", 2),
    (LogisticRegression(), "normal", 3),
    (GBDTRegressor(n_estimators=20, max_depth=3), "normal", 3),
], ids=["ridge", "ridge-3-folds", "tree-iw", "tree-mrdr", "classifier", "gbdt"])
def test_fit_predict_equals_obp_on_the_same_folds(logs, model, method, n_folds):
    feedback, target = logs
    reference = ObpRegressionModel(base_model=model, n_actions=3, fitting_method=method).fit_predict(
        context=feedback.contexts, action=feedback.actions, reward=feedback.rewards, pscore=feedback.propensities,
        action_dist=target[:, :, None], n_folds=n_folds, random_state=5)[:, :, 0]
    ours = RegressionModel(model, 3, fitting_method=method)
    folds = None if n_folds == 1 else KFold(n_folds, shuffle=True, random_state=5)
    got = ours.fit_predict(feedback.contexts, feedback.actions, feedback.rewards, feedback.propensities, target,
                           folds=folds)
    np.testing.assert_allclose(got, reference, rtol=1e-10, atol=1e-10)
    assert not hasattr(model, "coef_") and not hasattr(model, "tree_")  # the base model is copied, not fitted


def test_default_folds_cross_fit_every_round(logs):
    """Each round is predicted by the model of the one fold that left it out (make_folds)."""
    feedback, _ = logs
    model = RegressionModel(Ridge(alpha=1.0), 3)
    got = model.fit_predict(feedback.contexts, feedback.actions, feedback.rewards, n_folds=4, random_state=2)
    for (train, test), fitted in zip(make_folds(600, 4, seed=2), model.fold_models_):
        direct = Ridge(alpha=1.0).fit(np.hstack([feedback.contexts[train], np.eye(3)[feedback.actions[train]]]),
                                      feedback.rewards[train])
        np.testing.assert_allclose(fitted.coef_, direct.coef_, rtol=1e-12)
        for a in range(3):
            features = np.hstack([feedback.contexts[test], np.tile(np.eye(3)[a], (len(test), 1))])
            np.testing.assert_allclose(got[test, a], direct.predict(features), rtol=1e-12)
    full = model.fit(feedback.contexts, feedback.actions, feedback.rewards).predict(feedback.contexts[:5])
    assert full.shape == (5, 3)


def test_bad_input_raises_clear_errors(logs):
    feedback, _ = logs
    with pytest.raises(TypeError, match="base_model must have fit"):
        RegressionModel(object(), 3)
    with pytest.raises(ValueError, match="fitting_method must be one of"):
        RegressionModel(Ridge(), 3, fitting_method="dr")
    with pytest.raises(ValueError, match="needs target_probs"):
        RegressionModel(Ridge(), 3, fitting_method="iw").fit(feedback.contexts, feedback.actions, feedback.rewards,
                                                             feedback.propensities)
    with pytest.raises(ValueError, match="action out of range"):
        RegressionModel(Ridge(), 2).fit(feedback.contexts, feedback.actions, feedback.rewards)
    with pytest.raises(ValueError, match="is not fitted"):
        RegressionModel(Ridge(), 3).predict(feedback.contexts)
    with pytest.raises(ValueError, match="contexts must be"):
        RegressionModel(Ridge(), 3).fit(feedback.contexts[:, 0], feedback.actions, feedback.rewards)
