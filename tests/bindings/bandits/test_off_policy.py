"""Off-policy estimators against the Open Bandit Pipeline (obp) on the same logged data, their
invariants, confidence intervals and bad input."""
import dataclasses

import numpy as np
import pytest
from obp.ope import (DirectMethod, DoublyRobust, InverseProbabilityWeighting,
                     SelfNormalizedInverseProbabilityWeighting, SwitchDoublyRobust)

from bindings.bandits import (direct_method, doubly_robust, inverse_propensity_score, self_normalized_ips,
                              switch_doubly_robust)


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


def obp_value(estimator, data, model=None):
    kwargs = dict(reward=data["rewards"], action=data["actions"], pscore=data["propensities"],
                  action_dist=data["target_probs"][:, :, None])
    if model is not None:
        kwargs["estimated_rewards_by_reg_model"] = model[:, :, None]
    return estimator.estimate_policy_value(**kwargs)


def obp_with_threshold(cls, threshold):
    """obp renamed Switch-DR's ``tau`` to ``lambda_`` in 0.5; build it under either version."""
    fields = {f.name for f in dataclasses.fields(cls)}
    return cls(**{("tau" if "tau" in fields else "lambda_"): threshold})


def test_estimates_equal_obp_to_1e8():
    data, model, _, _ = logged_bandit()
    pairs = [
        (inverse_propensity_score(**data).value, obp_value(InverseProbabilityWeighting(), data)),
        (self_normalized_ips(**data).value,
         obp_value(SelfNormalizedInverseProbabilityWeighting(), data)),
        (direct_method(**data, reward_model=model).value, obp_value(DirectMethod(), data, model)),
        (doubly_robust(**data, reward_model=model).value, obp_value(DoublyRobust(), data, model)),
    ]
    for tau in (0.5, 2.0, 1e9):
        ours = switch_doubly_robust(**data, reward_model=model, tau=tau).value
        pairs.append((ours, obp_value(obp_with_threshold(SwitchDoublyRobust, tau), data, model)))
    for ours, reference in pairs:
        assert ours == pytest.approx(reference, abs=1e-8)


def test_clipped_estimators_cap_the_weight():
    """Clipped IPS/DR equal obp's ``lambda_`` variants (obp >= 0.5); older obp has no clipping,
    so they are then checked against IPS/DR on weights capped by hand."""
    data, model, _, _ = logged_bandit(seed=1)
    clip = 2.0
    capped = dict(data)
    weight = data["target_probs"][np.arange(len(data["actions"])), data["actions"]]
    weight = weight / data["propensities"]
    assert (weight > clip).any(), "the clip must bind for this test to mean anything"
    fields = {f.name for f in dataclasses.fields(InverseProbabilityWeighting)}
    if "lambda_" in fields:
        ips_ref = obp_value(InverseProbabilityWeighting(lambda_=clip), data)
        dr_ref = obp_value(DoublyRobust(lambda_=clip), data, model)
    else:
        # Scaling the logged action's target probability by min(w, clip)/w caps w at clip.
        rows = np.arange(len(weight))
        scale = np.minimum(weight, clip) / weight
        capped["propensities"] = data["propensities"] / scale
        ips_ref = obp_value(InverseProbabilityWeighting(), capped)
        dm_part = (data["target_probs"] * model).sum(axis=1)
        dr_ref = np.mean(dm_part + np.minimum(weight, clip)
                         * (data["rewards"] - model[rows, data["actions"]]))
    assert inverse_propensity_score(**data, clip=clip).value == pytest.approx(ips_ref, abs=1e-8)
    assert doubly_robust(**data, reward_model=model, clip=clip).value == pytest.approx(dr_ref,
                                                                                        abs=1e-8)


def test_target_equal_to_logging_gives_mean_reward():
    data, model, _, behaviour = logged_bandit(seed=2)
    data["target_probs"] = behaviour
    mean = data["rewards"].mean()
    assert inverse_propensity_score(**data).value == pytest.approx(mean, abs=1e-12)
    assert self_normalized_ips(**data).value == pytest.approx(mean, abs=1e-12)


def test_switch_dr_limits_are_dm_and_dr():
    data, model, _, _ = logged_bandit(seed=3)
    assert switch_doubly_robust(**data, reward_model=model, tau=0.0).value == pytest.approx(
        direct_method(**data, reward_model=model).value, abs=1e-12)
    assert switch_doubly_robust(**data, reward_model=model, tau=np.inf).value == pytest.approx(
        doubly_robust(**data, reward_model=model).value, abs=1e-12)


def test_bootstrap_interval_matches_obp():
    """Both are percentile bootstraps of the same per-round terms; they differ only by
    resampling noise, far below the interval's width."""
    data, _, _, _ = logged_bandit(n=1000, seed=4, sharpness=0.5)
    ours = inverse_propensity_score(**data, ci="bootstrap", n_bootstrap=4000, random_state=0)
    ref = InverseProbabilityWeighting().estimate_interval(
        reward=data["rewards"], action=data["actions"], pscore=data["propensities"],
        action_dist=data["target_probs"][:, :, None], n_bootstrap_samples=4000, random_state=0)
    low, high = [v for k, v in ref.items() if "lower" in k][0], [v for k, v in ref.items()
                                                                  if "upper" in k][0]
    width = high - low
    assert abs(ours.lower - low) < 0.05 * width
    assert abs(ours.upper - high) < 0.05 * width
    normal = inverse_propensity_score(**data)
    assert abs(normal.lower - low) < 0.1 * width and abs(normal.upper - high) < 0.1 * width


@pytest.mark.parametrize("estimator", ["ips", "snips", "dr"])
def test_normal_interval_covers_truth_about_95_percent(estimator):
    hits = 0
    n_trials = 150
    for seed in range(n_trials):
        data, model, truth, _ = logged_bandit(n=400, seed=100 + seed, sharpness=0.5)
        if estimator == "ips":
            est = inverse_propensity_score(**data)
        elif estimator == "snips":
            est = self_normalized_ips(**data)
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
