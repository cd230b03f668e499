"""Sequential roll-out with alpha spending: the schedules spend at most delta, each look is
should_deploy at its own delta, and over 200 simulated roll-outs of a candidate that is not
better the false-deploy rate stays <= delta + 3 binomial standard errors (default Bernstein bounds
and the bootstrap), while the same looks without spending exceed it (the check has teeth); a
better candidate still gets deployed."""
import numpy as np
import pytest

from bindings.bandits import SequentialRollout, should_deploy, spending_schedule

ARM_MEANS = np.array([0.3, 0.5, 0.6])
LOGGING = np.array([0.5, 0.3, 0.2])
SAME_VALUE = np.array([0.1, 0.2, 0.7])   # value 0.55: the boundary of "not better" than 0.55
BETTER = np.array([0.0, 0.1, 0.9])       # value 0.59 against LOGGING's 0.42


def rollout_deploys(candidate, baseline, seed, rows, looks, decide):
    """Run looks on logs growing by ``rows``; True if any look deploys (then it stops)."""
    rng = np.random.default_rng(seed)
    actions = rng.choice(3, size=rows * looks, p=LOGGING)
    rewards = (rng.random(rows * looks) < ARM_MEANS[actions]).astype(float)
    for look in range(1, looks + 1):
        n = rows * look
        data = dict(actions=actions[:n], rewards=rewards[:n], propensities=LOGGING[actions[:n]])
        if decide(np.tile(candidate, (n, 1)), baseline, data, n):
            return True
    return False


def within_delta(deploys, trials, delta):
    return deploys / trials <= delta + 3 * np.sqrt(delta * (1 - delta) / trials)


def test_spending_schedules_spend_at_most_delta():
    assert sum(spending_schedule(0.05, j, max_looks=8) for j in range(8)) == pytest.approx(0.05, rel=1e-12)
    geometric = [spending_schedule(0.05, j, spending="geometric") for j in range(60)]
    assert sum(geometric[:10]) < 0.05 and sum(geometric) <= 0.05 and sum(geometric) == pytest.approx(0.05, rel=1e-12)
    assert geometric[0] == 0.025 and geometric[1] == 0.0125
    rollout = SequentialRollout(0.1, max_looks=2)
    data = dict(actions=np.array([0, 1, 2, 2]), rewards=np.array([0.0, 1.0, 1.0, 0.0]),
                propensities=LOGGING[[0, 1, 2, 2]], logging_probs=np.tile(LOGGING, (4, 1)))
    first = rollout.look(np.tile(BETTER, (4, 1)), 0.4, **data)
    direct = should_deploy(np.tile(BETTER, (4, 1)), 0.4, 0.05, **data)
    assert (first.look, first.look_delta, first.new_lower) == (0, 0.05, direct.new_lower)
    rollout.look(np.tile(BETTER, (4, 1)), 0.4, **data)
    with pytest.raises(ValueError, match="all 2 planned looks are spent"):
        rollout.look(np.tile(BETTER, (4, 1)), 0.4, **data)


@pytest.mark.parametrize("spending", ["bonferroni", "geometric"])
def test_default_bernstein_rollout_keeps_type_one_error_under_delta(spending):
    """The candidate is not better (against the current policy's probabilities, and against its
    own true value as a known baseline): 200 roll-outs of 8 looks."""
    delta = 0.1
    for baseline in ("current", float(SAME_VALUE @ ARM_MEANS)):
        deploys = 0
        for seed in range(200):
            rollout = SequentialRollout(delta, max_looks=8, spending=spending)

            def decide(new, base, data, n, rollout=rollout):
                base = np.tile(SAME_VALUE, (n, 1)) if base == "current" else base
                return rollout.look(new, base, logging_probs=np.tile(LOGGING, (n, 1)), **data).deploy
            deploys += rollout_deploys(SAME_VALUE, baseline, seed, 150, 8, decide)
        assert within_delta(deploys, 200, delta)


def test_bootstrap_rollout_spends_delta_and_unspent_looks_do_not():
    """Bootstrap bounds are close to exact at the boundary (candidate value = known baseline),
    so each look deploys with probability near its delta: with Bonferroni spending the 6 looks
    together stay under delta = 0.2; testing every look at 0.2 deploys far more often."""
    delta = 0.2
    truth = float(SAME_VALUE @ ARM_MEANS)
    spent = unspent = 0
    for seed in range(200):
        rollout = SequentialRollout(delta, max_looks=6, method="bootstrap", n_bootstrap=200, random_state=seed)
        spent += rollout_deploys(SAME_VALUE, truth, seed, 60, 6,
                                 lambda new, base, data, n: rollout.look(new, base, **data).deploy)
        unspent += rollout_deploys(SAME_VALUE, truth, seed, 60, 6, lambda new, base, data, n: should_deploy(
            new, base, delta, method="bootstrap", n_bootstrap=200, random_state=seed, **data).deploy)
    assert within_delta(spent, 200, delta)
    assert not within_delta(unspent, 200, delta)


def test_better_candidate_is_deployed():
    deploys = 0
    for seed in range(50):
        rollout = SequentialRollout(0.1, max_looks=6)

        def decide(new, base, data, n, rollout=rollout):
            return rollout.look(new, np.tile(LOGGING, (n, 1)), logging_probs=np.tile(LOGGING, (n, 1)), **data).deploy
        deploys += rollout_deploys(BETTER, None, seed, 500, 6, decide)
    assert deploys >= 40  # ~47 of 50 deploy by 3,000 rows


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="spending must be one of"):
        SequentialRollout(0.05, spending="pocock")
    with pytest.raises(ValueError, match="bonferroni spending needs max_looks"):
        spending_schedule(0.05, 0)
    with pytest.raises(ValueError, match="delta must be a finite number in"):
        SequentialRollout(0.0)
    with pytest.raises(ValueError, match="ratio must be below 1"):
        SequentialRollout(0.05, spending="geometric", ratio=1.0)
