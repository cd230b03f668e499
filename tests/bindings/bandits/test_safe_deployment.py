"""Safe deployment: the high-confidence bounds hold at their stated rate on simulated logs,
equal the closed form where the variance vanishes (with the weight range the policies fix, not
the largest observed weight), tighten with data, refuse without a known weight range, and
``should_deploy`` only approves a policy that is really better."""
import numpy as np
import pytest

from bindings.bandits import EpsilonGreedy, importance_weight_range, policy_value_bound, should_deploy

ARM_MEANS = np.array([0.3, 0.5, 0.6])
LOGGING = np.array([0.5, 0.3, 0.2])  # the logging policy favours the worst arm


def logs(n, seed):
    """Logged rounds of the LOGGING policy, with its probabilities on every round."""
    rng = np.random.default_rng(seed)
    actions = rng.choice(3, size=n, p=LOGGING)
    rewards = (rng.random(n) < ARM_MEANS[actions]).astype(float)
    return dict(actions=actions, rewards=rewards, propensities=LOGGING[actions],
                logging_probs=np.tile(LOGGING, (n, 1)))


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
    """Constant rewards and weight 1 on every logged round: every term is the same, so the bound
    is exactly mean - 7 b ln(2/delta) / (3 (n - 1)), b = the weight range times the reward range.
    The range comes from the clip, or from the policies' probabilities over *all* actions: here
    action 1, never logged, has weight 0.5 / 0.25 = 2 although every observed weight is 1."""
    n = 500
    data = dict(actions=np.zeros(n, dtype=int), rewards=np.full(n, 0.8), propensities=np.full(n, 0.5))
    target = policy([0.5, 0.5, 0.0], n)
    logging = policy([0.5, 0.25, 0.25], n)
    margin = 7 * 2.0 * np.log(2 / 0.05) / (3 * (n - 1))
    for weight_range in (dict(clip=2.0), dict(logging_probs=logging), dict(weight_bound=2.0)):
        bound = policy_value_bound(**data, target_probs=target, delta=0.05, **weight_range)
        assert bound == pytest.approx(0.8 - margin, rel=1e-12)
        upper = policy_value_bound(**data, target_probs=target, delta=0.05, side="upper", **weight_range)
        assert upper == pytest.approx(0.8 + margin, rel=1e-12)
    assert importance_weight_range(target, logging) == 2.0


def test_bounds_tighten_with_data_and_confidence():
    target = [0.1, 0.2, 0.7]
    small, large = logs(500, 1), logs(20000, 1)
    lb = [policy_value_bound(**d, target_probs=policy(target, len(d["actions"]))) for d in (small, large)]
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


def test_refuses_without_a_known_weight_range():
    """Without clip, weight_bound or logging_probs the Bernstein bound would have to read its
    range off the data, which voids the guarantee: it refuses; the bootstrap needs no range."""
    data = logs(100, 4)
    del data["logging_probs"]
    target = policy([0.2, 0.3, 0.5], 100)
    with pytest.raises(ValueError, match="needs the range of the importance weights known in advance"):
        policy_value_bound(**data, target_probs=target)
    with pytest.raises(ValueError, match="needs the range of the importance weights"):
        should_deploy(target, 0.4, 0.05, **data)
    assert np.isfinite(policy_value_bound(**data, target_probs=target, method="bootstrap", random_state=0))
    with pytest.raises(ValueError, match="exceeds weight_bound"):
        policy_value_bound(**data, target_probs=target, weight_bound=1.1)
    with pytest.raises(ValueError, match="propensities must be logging_probs at the logged actions"):
        policy_value_bound(**data, target_probs=target, logging_probs=policy([0.4, 0.4, 0.2], 100))
    with pytest.raises(ValueError, match="round 0: the target policy plays an action the logging policy never"):
        importance_weight_range(target, policy([0.5, 0.5, 0.0], 100))


def test_logging_probs_from_a_policys_action_probabilities():
    """A policy's action_probabilities are the logging_probs: the bound's range is theirs."""
    logger = EpsilonGreedy(["x", "y", "z"], epsilon=0.3).update_batch(["x", "y", "z"], [0.2, 0.5, 0.6])
    probs = logger.action_probabilities()
    rng = np.random.default_rng(5)
    actions = rng.choice(3, size=2000, p=probs)
    rewards = (rng.random(2000) < ARM_MEANS[actions]).astype(float)
    target = policy([0.0, 0.2, 0.8], 2000)
    bound = policy_value_bound(actions, rewards, probs[actions], target, logging_probs=np.tile(probs, (2000, 1)))
    assert bound < float(np.dot([0.0, 0.2, 0.8], ARM_MEANS))


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
