"""Regret simulation on fixed seeds: ordering and growth of regret on Bernoulli arms, forgetting
on changing arms, contextual policies on linear arms, the Python-loop path, determinism and
bad input."""
import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor

from bindings.bandits import (KLUCB, UCB1, BernoulliArms, BetaThompsonSampling, DiscountedThompsonSampling,
                              DriftingArms, EpsilonGreedy, GaussianArms, GaussianThompsonSampling,
                              LinearContextualArms, LinearThompsonSampling, LinUCB, PiecewiseStationaryArms,
                              RewardModelEpsilonGreedy, SlidingWindowUCB, Softmax, simulate)
from gbdt.kernels.bandits.index import bernoulli_kl

ARMS = BernoulliArms([0.1, 0.2, 0.3, 0.4, 0.5])


@pytest.fixture(scope="module")
def stationary_result():
    policies = {"thompson": BetaThompsonSampling(5), "kl-ucb": KLUCB(5), "ucb1": UCB1(5),
                "eps-fixed": EpsilonGreedy(5, epsilon=0.1),
                "eps-decay": EpsilonGreedy(5, epsilon=5.0, decay=True)}
    return simulate(policies, ARMS, 30000, n_runs=16, seed=1, checkpoints=[3000, 30000])


def test_regret_ordering_on_bernoulli_arms(stationary_result):
    final = stationary_result.final_regret()
    low, high = stationary_result.confidence_band()
    upper = dict(zip(stationary_result.names, high[:, -1]))
    lower = dict(zip(stationary_result.names, low[:, -1]))
    # Ordered with the 95% bands apart, not just the means.
    assert upper["thompson"] < lower["ucb1"] < upper["ucb1"] < lower["eps-fixed"]
    assert upper["kl-ucb"] < lower["ucb1"]
    assert final["eps-decay"] < final["eps-fixed"] / 3


def test_regret_growth_log_versus_linear(stationary_result):
    """Ten times the horizon: logarithmic regret grows by a constant (ratio well below 10),
    fixed epsilon keeps paying epsilon * mean gap per round (ratio near 10)."""
    mean = stationary_result.mean_regret()
    ratio = dict(zip(stationary_result.names, mean[:, 1] / mean[:, 0]))
    for name in ("thompson", "kl-ucb", "ucb1", "eps-decay"):
        assert ratio[name] < 2.5, name
    assert ratio["eps-fixed"] > 5
    # Fixed epsilon's slope: epsilon * (mean gap over uniformly drawn arms) per round.
    slope = (mean[3, 1] - mean[3, 0]) / 27000
    assert slope == pytest.approx(0.1 * np.mean(0.5 - ARMS.means_table[0]), rel=0.1)


def test_thompson_pulls_follow_lai_robbins_rate():
    """Suboptimal pulls of Thompson sampling grow like log(T) / KL(mu_k, mu*), within a factor."""
    result = simulate([BetaThompsonSampling(5)], ARMS, 100000, n_runs=8, seed=3, checkpoints=1)
    pulls = result.pulls[0].mean(axis=0)
    rates = [bernoulli_kl(m, 0.5) for m in ARMS.means_table[0, :4]]
    predicted = np.log(100000) / np.array(rates)
    assert np.all(pulls[:4] > 0.3 * predicted) and np.all(pulls[:4] < 1.5 * predicted)
    regret = result.final_regret()[result.names[0]]
    assert regret < 1.5 * ARMS.lai_robbins_constant() * np.log(100000)


def test_forgetting_policies_track_changing_arms():
    table = [[0.8, 0.5, 0.2], [0.2, 0.5, 0.8], [0.5, 0.8, 0.2], [0.8, 0.2, 0.5]]
    changing = PiecewiseStationaryArms(table, [0, 4000, 8000, 12000])
    policies = {"thompson": BetaThompsonSampling(3),
                "discounted": DiscountedThompsonSampling(3, discount=0.995),
                "window": SlidingWindowUCB(3, window=1000)}
    final = simulate(policies, changing, 16000, n_runs=12, seed=4).final_regret()
    assert final["discounted"] < final["thompson"] / 3
    assert final["window"] < final["thompson"]
    # On stationary arms forgetting has a price: discounted Thompson keeps exploring.
    still = simulate(policies, BernoulliArms([0.8, 0.5, 0.2]), 16000, n_runs=12, seed=4)
    assert still.final_regret()["discounted"] > 2 * still.final_regret()["thompson"]
    drifting = DriftingArms([0.5, 0.5, 0.5], amplitude=0.3, period=6000)
    final = simulate(policies, drifting, 12000, n_runs=8, seed=5).final_regret()
    assert final["discounted"] < final["thompson"] / 2


def test_contextual_policies_beat_context_blind_ones():
    theta = np.random.default_rng(0).standard_normal((4, 3))
    env = LinearContextualArms(theta, noise_sd=0.1)
    result = simulate({"linucb": LinUCB(4, 3), "lints": LinearThompsonSampling(4, 3, v=0.2),
                       "ucb1": UCB1(4), "gauss-ts": GaussianThompsonSampling(4),
                       "window-ucb": SlidingWindowUCB(4, window=500)},
                      env, 4000, n_runs=8, seed=6, checkpoints=[400, 4000])
    mean = dict(zip(result.names, result.mean_regret()))
    for name in ("linucb", "lints"):
        assert mean[name][-1] < 0.05 * min(mean[blind][-1] for blind in
                                           ("ucb1", "gauss-ts", "window-ucb"))
        assert mean[name][-1] < 2 * mean[name][0]  # learning stops the regret growing linearly


def test_python_loop_policy_and_gaussian_arms():
    """A policy without compiled kind (the hybrid) runs through select/update in Python."""
    theta = np.array([[1.0, 0.0], [-1.0, 0.0]])
    env = LinearContextualArms(theta, noise_sd=0.1)
    hybrid = RewardModelEpsilonGreedy(DecisionTreeRegressor(max_depth=3, random_state=0), 2, 2,
                                      epsilon=0.05, refit_every=100)
    result = simulate({"hybrid": hybrid, "linucb": LinUCB(2, 2)}, env, 800, n_runs=2, seed=7,
                      n_jobs=1, checkpoints=[400, 800])
    hybrid_regret = result.mean_regret()[0]
    # Playing at random costs E|x0| = sqrt(2 / pi) per round; once fitted the model is greedy.
    per_round_late = (hybrid_regret[1] - hybrid_regret[0]) / 400
    assert per_round_late < 0.15 * np.sqrt(2 / np.pi)
    assert hybrid.n_rounds == 0  # the policy passed in is a configuration, left untouched
    gauss = simulate([GaussianThompsonSampling(3), Softmax(3, temperature=0.05)],
                     GaussianArms([0.0, 0.5, 1.0], noise_sd=0.5), 3000, n_runs=4, seed=8)
    assert all(v < 0.1 * 3000 * 0.75 for v in gauss.final_regret().values())


def test_deterministic_given_seed_whatever_the_threads():
    policies = [BetaThompsonSampling(5), EpsilonGreedy(5)]
    first = simulate(policies, ARMS, 2000, n_runs=4, seed=9, n_jobs=1)
    second = simulate(policies, ARMS, 2000, n_runs=4, seed=9, n_jobs=2)
    np.testing.assert_array_equal(first.regret, second.regret)
    other = simulate(policies, ARMS, 2000, n_runs=4, seed=10)
    assert not np.array_equal(first.regret, other.regret)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="has 3 arms, env has 5"):
        simulate([UCB1(3)], ARMS, 100)
    with pytest.raises(ValueError, match="needs a contextual environment"):
        simulate([LinUCB(5, 2)], ARMS, 100)
    with pytest.raises(ValueError, match="needs rewards in"):
        simulate([BetaThompsonSampling(3)], GaussianArms([0.0, 1.0, 2.0]), 100)
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        simulate([UCB1(5)], ARMS, 0)
    with pytest.raises(ValueError, match="checkpoints must be rounds in"):
        simulate([UCB1(5)], ARMS, 100, checkpoints=[0, 50])
    with pytest.raises(TypeError, match="env must be an environment"):
        simulate([UCB1(5)], [0.1, 0.5], 100)
    with pytest.raises(ValueError, match="Bernoulli arm means must lie in"):
        BernoulliArms([0.5, 1.5])
    with pytest.raises(ValueError, match="change_times must be"):
        PiecewiseStationaryArms([[0.1, 0.2], [0.3, 0.4]], [5, 10])
