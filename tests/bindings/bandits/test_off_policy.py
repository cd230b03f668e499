"""Off-policy estimators against the Open Bandit Pipeline (obp 0.4.1) on the same logged data:
values and bootstrap intervals to 1e-10, clipping through obp on rescaled propensities, the
estimators' limits, normal-interval coverage and bad input."""
import numpy as np
import pytest
from obp.ope import (DirectMethod, DoublyRobust, DoublyRobustWithShrinkage, InverseProbabilityWeighting,
                     ReplayMethod, SelfNormalizedDoublyRobust, SelfNormalizedInverseProbabilityWeighting,
                     SwitchDoublyRobust)

from bindings.bandits import (direct_method, doubly_robust, doubly_robust_with_shrinkage, inverse_propensity_score,
                              replay_method, self_normalized_doubly_robust, self_normalized_ips, switch_doubly_robust)


def softmax_rows(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def logged_bandit(n=3000, n_actions=4, seed=0, sharpness=2.0):
    """Contextual logged data: softmax logging policy, a different softmax target policy,
    Bernoulli rewards, and a noisy reward model; ``sharpness`` scales the target's logits (the
    larger, the further from logging and the heavier the weights' tail).
    Returns the data dict, the model, the true target value and the logging probabilities."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    theta = rng.standard_normal((3, n_actions))
    q = 1 / (1 + np.exp(-x @ theta))
    # A uniform share keeps propensities >= 0.2 / n_actions, so weights have finite variance.
    behaviour = 0.8 * softmax_rows(x @ rng.standard_normal((3, n_actions))) + 0.2 / n_actions
    target = softmax_rows(sharpness * x @ theta)
    actions = (behaviour.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    rewards = (rng.random(n) < q[np.arange(n), actions]).astype(float)
    data = dict(actions=actions, rewards=rewards, propensities=behaviour[np.arange(n), actions],
                target_probs=target)
    model = np.clip(q + 0.1 * rng.standard_normal(q.shape), 0, 1)
    return data, model, float((target * q).sum(axis=1).mean()), behaviour


def obp_inputs(data, model=None):
    kwargs = dict(reward=data["rewards"], action=data["actions"], pscore=data["propensities"],
                  action_dist=data["target_probs"][:, :, None])
    if model is not None:
        kwargs["estimated_rewards_by_reg_model"] = model[:, :, None]
    return kwargs


def one_hot(probs):
    return np.eye(probs.shape[1])[probs.argmax(axis=1)]


def estimator_pairs(data, model):
    """(ours, obp estimator, needs the model) for every estimator and parameter tested."""
    pairs = [
        (lambda **ci: inverse_propensity_score(**data, **ci), InverseProbabilityWeighting(), False),
        (lambda **ci: self_normalized_ips(**data, **ci), SelfNormalizedInverseProbabilityWeighting(), False),
        (lambda **ci: direct_method(**data, reward_model=model, **ci), DirectMethod(), True),
        (lambda **ci: doubly_robust(**data, reward_model=model, **ci), DoublyRobust(), True),
        (lambda **ci: self_normalized_doubly_robust(**data, reward_model=model, **ci),
         SelfNormalizedDoublyRobust(), True),
    ]
    for tau in (0.5, 2.0, 1e9):
        pairs.append((lambda tau=tau, **ci: switch_doubly_robust(**data, reward_model=model, tau=tau, **ci),
                      SwitchDoublyRobust(tau=tau), True))
    for shrinkage in (0.5, 5.0, 100.0):
        pairs.append((lambda s=shrinkage, **ci: doubly_robust_with_shrinkage(**data, reward_model=model, shrinkage=s,
                                                                              **ci),
                      DoublyRobustWithShrinkage(lambda_=shrinkage), True))
    return pairs


def test_estimates_equal_obp_to_1e10():
    data, model, _, _ = logged_bandit()
    for ours, reference, model_based in estimator_pairs(data, model):
        expected = reference.estimate_policy_value(**obp_inputs(data, model if model_based else None))
        assert ours().value == pytest.approx(expected, abs=1e-10), reference
    deterministic = dict(data, target_probs=one_hot(data["target_probs"]))
    assert replay_method(**deterministic).value == pytest.approx(
        ReplayMethod().estimate_policy_value(**obp_inputs(deterministic)), abs=1e-10)


def test_bootstrap_intervals_equal_obp_to_1e10():
    """Same seed, same resampled rows: obp's percentile bootstrap of the per-round terms."""
    data, model, _, _ = logged_bandit(n=500, seed=6)
    for ours, reference, model_based in estimator_pairs(data, model):
        got = ours(ci="bootstrap", alpha=0.1, n_bootstrap=300, random_state=7)
        expected = reference.estimate_interval(**obp_inputs(data, model if model_based else None), alpha=0.1,
                                               n_bootstrap_samples=300, random_state=7)
        assert got.lower == pytest.approx(expected["90.0% CI (lower)"], abs=1e-10), reference
        assert got.upper == pytest.approx(expected["90.0% CI (upper)"], abs=1e-10), reference


def test_clipped_estimators_equal_obp_on_rescaled_propensities():
    """obp 0.4.1 has no clipping; dividing a round's propensity by min(w, clip) / w makes obp's
    weight exactly min(w, clip) and leaves its model term alone, so obp's IPS and DR on those
    propensities are the clipped estimators."""
    data, model, _, _ = logged_bandit(seed=1)
    clip = 2.0
    weight = data["target_probs"][np.arange(len(data["actions"])), data["actions"]] / data["propensities"]
    assert (weight > clip).any(), "the clip must bind for this test to mean anything"
    capped = dict(data, propensities=data["propensities"] / (np.minimum(weight, clip) / weight))
    ips_ref = InverseProbabilityWeighting().estimate_policy_value(**obp_inputs(capped))
    dr_ref = DoublyRobust().estimate_policy_value(**obp_inputs(capped, model))
    assert inverse_propensity_score(**data, clip=clip).value == pytest.approx(ips_ref, abs=1e-10)
    assert doubly_robust(**data, reward_model=model, clip=clip).value == pytest.approx(dr_ref, abs=1e-10)
    assert doubly_robust(**data, reward_model=model).value != pytest.approx(dr_ref, abs=1e-4)


def test_target_equal_to_logging_gives_mean_reward():
    data, model, _, behaviour = logged_bandit(seed=2)
    data["target_probs"] = behaviour
    mean = data["rewards"].mean()
    assert inverse_propensity_score(**data).value == pytest.approx(mean, abs=1e-12)
    assert self_normalized_ips(**data).value == pytest.approx(mean, abs=1e-12)


def test_switch_dr_and_dros_limits_are_dm_and_dr():
    data, model, _, _ = logged_bandit(seed=3)
    dm = direct_method(**data, reward_model=model).value
    dr = doubly_robust(**data, reward_model=model).value
    assert switch_doubly_robust(**data, reward_model=model, tau=0.0).value == pytest.approx(dm, abs=1e-12)
    assert switch_doubly_robust(**data, reward_model=model, tau=np.inf).value == pytest.approx(dr, abs=1e-12)
    assert doubly_robust_with_shrinkage(**data, reward_model=model, shrinkage=0.0).value == pytest.approx(dm, abs=1e-12)
    assert doubly_robust_with_shrinkage(**data, reward_model=model, shrinkage=np.inf).value == pytest.approx(
        dr, abs=1e-12)


@pytest.mark.parametrize("estimator", ["ips", "snips", "dr", "sndr"])
def test_normal_interval_covers_truth_about_95_percent(estimator):
    hits = 0
    n_trials = 150
    for seed in range(n_trials):
        data, model, truth, _ = logged_bandit(n=400, seed=100 + seed, sharpness=0.5)
        if estimator == "ips":
            est = inverse_propensity_score(**data)
        elif estimator == "snips":
            est = self_normalized_ips(**data)
        elif estimator == "sndr":
            est = self_normalized_doubly_robust(**data, reward_model=model)
        else:
            est = doubly_robust(**data, reward_model=model)
        hits += est.lower <= truth <= est.upper
    # Binomial(150, 0.95) lies in [131, 148] with probability > 0.999.
    assert 131 <= hits <= n_trials


def test_bad_input_raises_clear_errors():
    data, model, _, _ = logged_bandit(n=50, seed=5)
    bad = dict(data, actions=data["actions"] + 4)
    with pytest.raises(ValueError, match="action out of range"):
        inverse_propensity_score(**bad)
    bad = dict(data, propensities=-data["propensities"])
    with pytest.raises(ValueError, match="propensities"):
        inverse_propensity_score(**bad)
    zero = data["propensities"].copy()
    zero[7] = 0.0
    with pytest.raises(ValueError, match="round 7 has propensity 0 where the target policy"):
        self_normalized_ips(**dict(data, propensities=zero))
    nan = data["rewards"].copy()
    nan[3] = np.nan
    with pytest.raises(ValueError, match="rewards must be finite"):
        doubly_robust(**dict(data, rewards=nan), reward_model=model)
    with pytest.raises(ValueError, match="target_probs rows must sum to 1"):
        inverse_propensity_score(**dict(data, target_probs=data["target_probs"] * 2))
    with pytest.raises(ValueError, match="reward_model must be"):
        direct_method(**data, reward_model=model[:, :2])
    with pytest.raises(ValueError, match="ci must be"):
        inverse_propensity_score(**data, ci="exact")
    with pytest.raises(ValueError, match="clip must be"):
        inverse_propensity_score(**data, clip=-1.0)
    with pytest.raises(TypeError, match="actions must be integers"):
        inverse_propensity_score(**dict(data, actions=data["actions"].astype(float)))
    with pytest.raises(ValueError, match="shrinkage must be a number >= 0"):
        doubly_robust_with_shrinkage(**data, reward_model=model, shrinkage=-1.0)
    with pytest.raises(ValueError, match="tau must be a number >= 0"):
        switch_doubly_robust(**data, reward_model=model, tau=-1.0)
    with pytest.raises(ValueError, match="replay_method needs a deterministic target policy"):
        replay_method(**data)
    with pytest.raises(ValueError, match="random_state must be None or an integer"):
        inverse_propensity_score(**data, ci="bootstrap", random_state=np.random.default_rng(0))
    with pytest.raises(ValueError, match="alpha must be a finite number in"):
        inverse_propensity_score(**data, alpha=5)
