"""SyntheticBanditDataset: obp's reward and behaviour functions plug in and give obp's values,
the sampled actions and rewards follow their distributions (z-tests), a policy of ours can log,
and the true policy value equals obp's ground truth."""
import numpy as np
import pytest
from obp.dataset import SyntheticBanditDataset as ObpDataset
from obp.dataset import linear_behavior_policy, logistic_reward_function

from bindings.bandits import (EpsilonGreedy, LinUCB, OffPolicyEvaluation, SyntheticBanditDataset,
                              inverse_propensity_score)
from bindings.bandits.synthetic import sample_actions


def z_scores(indicators, probs):
    """Column-wise (sum(indicator - p)) / sqrt(sum p (1 - p)): ~N(0, 1) when the draws follow p."""
    return (indicators - probs).sum(axis=0) / np.sqrt((probs * (1 - probs)).sum(axis=0))


def test_obp_functions_plug_in_and_give_obps_values():
    ours = SyntheticBanditDataset(5, dim_context=3, reward_function=logistic_reward_function,
                                  behavior_policy_function=linear_behavior_policy, random_state=3)
    reference = ObpDataset(n_actions=5, dim_context=3, reward_function=logistic_reward_function,
                           behavior_policy_function=linear_behavior_policy, random_state=3)
    feedback = ours.obtain_batch_bandit_feedback(4000)
    np.testing.assert_allclose(feedback.expected_rewards, reference.calc_expected_reward(feedback.contexts),
                               rtol=1e-15)
    np.testing.assert_allclose(feedback.logging_probs, linear_behavior_policy(
        context=feedback.contexts, action_context=reference.action_context, random_state=3), rtol=1e-15)
    np.testing.assert_array_equal(feedback.propensities, feedback.logging_probs[np.arange(4000), feedback.actions])
    target = np.random.default_rng(0).dirichlet(np.ones(5), size=4000)
    assert feedback.policy_value(target) == pytest.approx(
        reference.calc_ground_truth_policy_value(feedback.expected_rewards, target[:, :, None]), rel=1e-14)
    # Actions follow the logging probabilities, binary rewards their expected values.
    assert np.all(np.abs(z_scores(np.eye(5)[feedback.actions], feedback.logging_probs)) < 4.5)
    factual = feedback.expected_rewards[np.arange(4000), feedback.actions]
    assert abs(z_scores(feedback.rewards[:, None], factual[:, None])[0]) < 4.5
    again = SyntheticBanditDataset(5, dim_context=3, reward_function=logistic_reward_function,
                                   behavior_policy_function=linear_behavior_policy, random_state=3)
    np.testing.assert_array_equal(again.obtain_batch_bandit_feedback(4000).actions, feedback.actions)


def test_defaults_continuous_rewards_and_ips_unbiased():
    dataset = SyntheticBanditDataset(3, dim_context=2, reward_type="continuous", reward_std=0.5, random_state=4)
    feedback = dataset.obtain_batch_bandit_feedback(20000)
    np.testing.assert_allclose(feedback.logging_probs, 1 / 3)  # uniform, as obp's default
    np.testing.assert_allclose(feedback.expected_rewards, np.tile(dataset.expected_reward, (20000, 1)))
    residual = feedback.rewards - feedback.expected_rewards[np.arange(20000), feedback.actions]
    assert abs(residual.mean()) < 4.5 * 0.5 / np.sqrt(20000) and residual.std() == pytest.approx(0.5, rel=0.03)
    target = np.tile([0.1, 0.2, 0.7], (20000, 1))
    estimate = inverse_propensity_score(**feedback.logged(), target_probs=target)
    truth = feedback.policy_value(target)
    assert abs(estimate.value - truth) < 4.5 * (estimate.upper - estimate.lower) / (2 * 1.96)


def test_a_policy_of_ours_logs_and_ope_is_unbiased_on_its_logs():
    """An epsilon-greedy policy logs 100 datasets; IPS and DR (true reward model) of another
    policy average to its true value within 4 standard errors of the mean: the logged
    propensities are the ones the policy used."""
    logger = EpsilonGreedy(["a", "b", "c"], epsilon=0.3).update_batch(["a", "b", "c", "c"], [0.1, 0.5, 0.9, 0.8])
    target = np.tile([0.6, 0.3, 0.1], (2000, 1))
    errors = []
    for seed in range(100):
        feedback = SyntheticBanditDataset(3, dim_context=2, behavior_policy=logger,
                                          random_state=seed).obtain_batch_bandit_feedback(2000)
        np.testing.assert_allclose(feedback.logging_probs, np.tile(logger.action_probabilities(), (2000, 1)))
        table = OffPolicyEvaluation(["ips", "dr"]).summarize(**feedback.logged(), target_probs=target,
                                                             reward_model=feedback.expected_rewards, ci="normal")
        errors.append(table["value"].to_numpy() - feedback.policy_value(target))
    errors = np.array(errors)
    assert np.all(np.abs(errors.mean(axis=0)) < 4 * errors.std(axis=0, ddof=1) / np.sqrt(100))
    contextual = SyntheticBanditDataset(3, dim_context=2, behavior_policy=LinUCB(3, 2), random_state=5)
    assert contextual.obtain_batch_bandit_feedback(10).logging_probs.shape == (10, 3)


def test_sample_actions_never_draws_a_zero_probability_action():
    rng = np.random.default_rng(6)
    probs = np.tile(np.r_[np.full(10, 0.1), 0.0], (50000, 1))  # cumulative sum 0.9999999999999999
    probs[::2] = np.eye(11)[3]
    actions = sample_actions(probs, rng)
    assert np.all(probs[np.arange(50000), actions] > 0)
    assert np.abs(z_scores(np.eye(11)[actions[1::2], :10], probs[1::2, :10])).max() < 4.5


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="n_actions must be at least 2"):
        SyntheticBanditDataset(1)
    with pytest.raises(ValueError, match="reward_type must be"):
        SyntheticBanditDataset(3, reward_type="poisson")
    with pytest.raises(ValueError, match="behavior_policy has 2 arms"):
        SyntheticBanditDataset(3, behavior_policy=EpsilonGreedy(2))
    with pytest.raises(TypeError, match="reward_function must be callable"):
        SyntheticBanditDataset(3, reward_function=np.ones(3))
    with pytest.raises(ValueError, match="target_probs must be"):
        SyntheticBanditDataset(3).obtain_batch_bandit_feedback(5).policy_value(np.ones((5, 2)) / 2)
