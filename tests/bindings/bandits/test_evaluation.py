"""OffPolicyEvaluation: the summary table equals obp 0.4.1's summarize_off_policy_estimates
(values, bootstrap intervals, relative values) on obp's own synthetic logs, to 1e-10."""
import numpy as np
import pytest
from obp.dataset import SyntheticBanditDataset as ObpDataset
from obp.dataset import linear_behavior_policy, logistic_reward_function
from obp.ope import DirectMethod, DoublyRobust, DoublyRobustWithShrinkage, InverseProbabilityWeighting
from obp.ope import OffPolicyEvaluation as ObpEvaluation
from obp.ope import (SelfNormalizedDoublyRobust, SelfNormalizedInverseProbabilityWeighting,
                     SwitchDoublyRobust)

from bindings.bandits import OffPolicyEvaluation

OBP_NAMES = {"ipw": "ips", "snipw": "snips", "dm": "dm", "dr": "dr", "switch-dr": "switch-dr", "dr-os": "dros",
             "sndr": "sndr"}


@pytest.fixture(scope="module")
def feedback():
    dataset = ObpDataset(n_actions=4, dim_context=3, reward_function=logistic_reward_function,
                         behavior_policy_function=linear_behavior_policy, random_state=1)
    logged = dataset.obtain_batch_bandit_feedback(n_rounds=1500)
    rng = np.random.default_rng(0)
    target = rng.dirichlet(np.ones(4), size=1500)
    model = np.clip(logged["expected_reward"] + 0.1 * rng.standard_normal((1500, 4)), 0, 1)
    return logged, target, model


def test_summary_equals_obp(feedback):
    logged, target, model = feedback
    reference = ObpEvaluation(bandit_feedback=logged, ope_estimators=[
        InverseProbabilityWeighting(), SelfNormalizedInverseProbabilityWeighting(), DirectMethod(), DoublyRobust(),
        SwitchDoublyRobust(tau=2.0), DoublyRobustWithShrinkage(lambda_=5.0), SelfNormalizedDoublyRobust()])
    values, intervals = reference.summarize_off_policy_estimates(
        action_dist=target[:, :, None], estimated_rewards_by_reg_model=model[:, :, None], alpha=0.1,
        n_bootstrap_samples=400, random_state=3)
    ours = OffPolicyEvaluation(tau=2.0, shrinkage=5.0).summarize(
        logged["action"], logged["reward"], logged["pscore"], target, model, alpha=0.1, n_bootstrap=400,
        random_state=3)
    assert list(ours.index) == [OBP_NAMES[name] for name in values.index]
    for obp_name, name in OBP_NAMES.items():
        row = ours.loc[name]
        assert row["value"] == pytest.approx(values.loc[obp_name, "estimated_policy_value"], abs=1e-10)
        assert row["relative_value"] == pytest.approx(values.loc[obp_name, "relative_estimated_policy_value"],
                                                      abs=1e-10)
        assert row["lower"] == pytest.approx(intervals.loc[obp_name, "90.0% CI (lower)"], abs=1e-10)
        assert row["upper"] == pytest.approx(intervals.loc[obp_name, "90.0% CI (upper)"], abs=1e-10)


def test_normal_intervals_subsets_and_errors(feedback):
    logged, target, model = feedback
    ope = OffPolicyEvaluation(["ips", "snips", "replay"])
    deterministic = np.eye(4)[target.argmax(axis=1)]
    table = ope.summarize(logged["action"], logged["reward"], logged["pscore"], deterministic, ci="normal")
    estimates = ope.estimate(logged["action"], logged["reward"], logged["pscore"], deterministic)
    assert list(table.index) == ["ips", "snips", "replay"]
    for name, estimate in estimates.items():
        assert (table.loc[name, "lower"], table.loc[name, "upper"]) == (estimate.lower, estimate.upper)
    with pytest.raises(ValueError, match="estimator 'dr' needs reward_model"):
        OffPolicyEvaluation(["dr"]).summarize(logged["action"], logged["reward"], logged["pscore"], target)
    with pytest.raises(ValueError, match="estimators must be distinct names from"):
        OffPolicyEvaluation(["ipw"])
    with pytest.raises(ValueError, match="ci must be 'bootstrap' or 'normal'"):
        ope.summarize(logged["action"], logged["reward"], logged["pscore"], deterministic, ci="exact")
