"""Safe deployment: the high-confidence bounds hold at their stated rate on simulated logs,
equal the closed form where the variance vanishes, tighten with data, and ``should_deploy``
only approves a policy that is really better."""
import numpy as np
import pytest

from bindings.bandits import policy_value_bound, should_deploy

ARM_MEANS = np.array([0.3, 0.5, 0.6])
LOGGING = np.array([0.5, 0.3, 0.2])  # the logging policy favours the worst arm


def logs(n, seed):
    rng = np.random.default_rng(seed)
    actions = rng.choice(3, size=n, p=LOGGING)
    rewards = (rng.random(n) < ARM_MEANS[actions]).astype(float)
    return dict(actions=actions, rewards=rewards, propensities=LOGGING[actions])


def policy(probs, n):
    return np.tile(np.asarray(probs, dtype=float), (n, 1))


@pytest.mark.parametrize("method", ["bernstein", "bootstrap"])
def test_lower_bound_holds_with_probability_one_minus_delta(method):
    target = [0.1, 0.2, 0.7]
    truth = float(np.dot(target, ARM_MEANS))
    failures = 0
    trials = 200
    for seed in range(trials):
        data = logs(300, seed)
        bound = policy_value_bound(**data, target_probs=policy(target, 300), delta=0.1,
                                   method=method, n_bootstrap=300, random_state=seed)
        failures += bound > truth
    # delta = 0.1: Binomial(200, 0.1) exceeds 32 with probability < 0.01; Bernstein is conservative.
    assert failures <= 32
    if method == "bernstein":
        assert failures <= 5


def test_bernstein_closed_form_when_variance_vanishes():
    """Constant rewards and the logging policy as target: every term is the same, so the bound
    is exactly mean - 7 b ln(2/delta) / (3 (n - 1)) with b = the weight cap times the range."""
    n = 500
    data = dict(actions=np.zeros(n, dtype=int), rewards=np.full(n, 0.8),
                propensities=np.full(n, 0.5))
    target = policy([0.5, 0.5, 0.0], n)
    bound = policy_value_bound(**data, target_probs=target, delta=0.05, clip=2.0)
    assert bound == pytest.approx(0.8 - 7 * 2.0 * np.log(2 / 0.05) / (3 * (n - 1)), rel=1e-12)
    upper = policy_value_bound(**data, target_probs=target, delta=0.05, clip=2.0, side="upper")
    assert upper == pytest.approx(0.8 + 7 * 2.0 * np.log(2 / 0.05) / (3 * (n - 1)), rel=1e-12)


def test_bounds_tighten_with_data_and_confidence():
    target = [0.1, 0.2, 0.7]
    small, large = logs(500, 1), logs(20000, 1)
    lb = [policy_value_bound(**d, target_probs=policy(target, len(d["actions"])))
          for d in (small, large)]
    truth = float(np.dot(target, ARM_MEANS))
    assert lb[0] < lb[1] < truth
    loose = policy_value_bound(**large, target_probs=policy(target, 20000), delta=0.001)
    assert loose < lb[1]


def test_should_deploy_only_a_better_policy():
    n = 20000
    data = logs(n, 2)
    better = policy([0.0, 0.1, 0.9], n)  # value 0.59 vs the logging policy's 0.42
    same = policy(LOGGING, n)
    worse = policy([1.0, 0.0, 0.0], n)
    decision = should_deploy(better, same, 0.05, **data)
    assert decision.deploy and decision.new_lower > decision.baseline_upper
    assert not should_deploy(same, same, 0.05, **data).deploy
    assert not should_deploy(worse, same, 0.05, **data).deploy
    # A known baseline value: the logged mean reward of the current policy.
    assert should_deploy(better, float(data["rewards"].mean()), 0.05, **data).deploy
    assert not should_deploy(better, 0.7, 0.05, **data).deploy
    boot = should_deploy(better, same, 0.05, **data, method="bootstrap", n_bootstrap=200,
                         random_state=0)
    assert boot.deploy and boot.new_lower >= decision.new_lower  # bootstrap is less conservative


def test_bad_input_raises_clear_errors():
    data = logs(100, 3)
    target = policy([0.2, 0.3, 0.5], 100)
    with pytest.raises(ValueError, match=r"delta must be a finite number in \(0.0, 1.0\)"):
        policy_value_bound(**data, target_probs=target, delta=1.5)
    with pytest.raises(ValueError, match="rewards must lie in reward_range"):
        policy_value_bound(**data, target_probs=target, reward_range=(0.0, 0.5))
    with pytest.raises(ValueError, match="method must be"):
        policy_value_bound(**data, target_probs=target, method="hoeffding-ish")
    with pytest.raises(ValueError, match="side must be"):
        policy_value_bound(**data, target_probs=target, side="both")
    with pytest.raises(ValueError, match="baseline must be a finite value"):
        should_deploy(target, float("nan"), 0.05, **data)
    with pytest.raises(ValueError, match="target_probs must be"):
        should_deploy(target, np.ones(3), 0.05, **data)
