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
    result = simulate({"linucb": LinUCB(4, 3), "lints": LinearThompsonSampling(4, 3, exploration=0.2),
                       "ucb1": UCB1(4), "gauss-ts": GaussianThompsonSampling(4),
                       "window-ucb": SlidingWindowUCB(4, window=500)},
                      env, 4000, n_runs=8, seed=6, checkpoints=[400, 4000])
    mean = dict(zip(result.names, result.mean_regret()))
    for name in ("linucb", "lints"):
        assert mean[name][-1] < 0.05 * min(mean[blind][-1] for blind in
                                           ("ucb1", "gauss-ts", "window-ucb"))
        assert mean[name][-1] < 2 * mean[name][0]  # learning stops the regret growing linearly


def test_python_loop_policy_and_gaussian_arms():
    """A policy without compiled kind (the hybrid) runs through select/update in Python. Arm 0
    pays x0, arm 1 pays 0: playing at random costs E|x0| / 2 = sqrt(2 / pi) / 2 per round; once
    its tree has learnt the interaction the hybrid pays a fraction of that (epsilon = 0.05 alone
    costs 5%, the tree's steps near x0 = 0 some more)."""
    theta = np.array([[1.0, 0.0], [0.0, 0.0]])
    env = LinearContextualArms(theta, noise_sd=0.1)
    hybrid = RewardModelEpsilonGreedy(DecisionTreeRegressor(max_depth=3, random_state=0), 2, 2,
                                      epsilon=0.05, refit_every=100)
    result = simulate({"hybrid": hybrid, "linucb": LinUCB(2, 2)}, env, 800, n_runs=2, seed=7,
                      n_jobs=1, checkpoints=[400, 800])
    hybrid_regret = result.mean_regret()[0]
    per_round_late = (hybrid_regret[1] - hybrid_regret[0]) / 400
    assert per_round_late < 0.35 * np.sqrt(2 / np.pi) / 2
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


def test_logs_record_each_policys_own_propensities():
    """Replaying a logged run through the same policy reproduces every logged propensity from
    action_probabilities (exact policies: equal; Thompson: within its Monte-Carlo error), and
    logging leaves the regret unchanged."""
    policies = {"eps": EpsilonGreedy(3, epsilon=0.2), "softmax": Softmax(3, temperature=0.2), "ucb1": UCB1(3),
                "thompson": BetaThompsonSampling(3)}
    env = BernoulliArms([0.2, 0.5, 0.7])
    logged = simulate(policies, env, 400, n_runs=2, seed=11, log=True, propensity_samples=4000)
    plain = simulate(policies, env, 400, n_runs=2, seed=11)
    np.testing.assert_array_equal(logged.regret, plain.regret)
    assert logged.actions.shape == logged.propensities.shape == (4, 2, 400) and logged.contexts is None
    for name, policy in policies.items():
        data = logged.logged_data(name, 1)
        replay = type(policy)(3, **({"epsilon": 0.2} if name == "eps" else
                                    {"temperature": 0.2} if name == "softmax" else {}))
        expected = []
        for arm, reward in zip(data["actions"], data["rewards"]):
            expected.append(replay.action_probabilities(n_samples=4000)[arm])
            replay.update(int(arm), reward)
        expected = np.array(expected)
        if name == "thompson":
            # two independent estimates, each with standard error <= 0.5 / sqrt(4000)
            assert np.abs(data["propensities"] - expected).max() < 6 * 0.5 * np.sqrt(2 / 4000)
            assert data["propensities"].min() > 0  # the played draw counts: never 0
        else:
            np.testing.assert_allclose(data["propensities"], expected, rtol=1e-12)


def test_logged_propensities_give_unbiased_off_policy_estimates():
    """Epsilon-greedy's own logs evaluate the uniform policy: over 40 runs the IPS estimates
    average to its true value 0.5 within 4 standard errors (a wrong propensity, e.g. the
    greedy share for every round, biases it by far more)."""
    from bindings.bandits import inverse_propensity_score
    env = BernoulliArms([0.2, 0.5, 0.8])
    result = simulate([EpsilonGreedy(3, epsilon=0.3)], env, 500, n_runs=40, seed=12, log=True)
    estimates = []
    for run in range(40):
        data = result.logged_data(0, run)
        estimates.append(inverse_propensity_score(**data, target_probs=np.full((500, 3), 1 / 3)).value)
    estimates = np.array(estimates)
    assert abs(estimates.mean() - 0.5) < 4 * estimates.std(ddof=1) / np.sqrt(40)


def test_contextual_logs_and_python_loop_logs():
    """Contextual logs (compiled LinUCB and linear Thompson, the Python-loop hybrid): replaying
    each log through a fresh policy reproduces its propensities from action_probabilities."""
    theta = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    env = LinearContextualArms(theta, noise_sd=0.1)

    def make_hybrid():
        return RewardModelEpsilonGreedy(DecisionTreeRegressor(max_depth=3, random_state=0), 3, 2,
                                        epsilon=0.2, refit_every=50)
    makers = {"linucb": lambda: LinUCB(3, 2), "lints": lambda: LinearThompsonSampling(3, 2),
              "hybrid": make_hybrid}
    result = simulate({name: make() for name, make in makers.items()}, env, 200, n_runs=1, seed=13,
                      n_jobs=1, log=True, propensity_samples=2000)
    assert result.contexts.shape == (3, 1, 200, 2)
    for name, make in makers.items():
        data = result.logged_data(name)
        replay = make()
        expected = []
        for arm, reward, x in zip(data["actions"], data["rewards"], data["contexts"]):
            expected.append(replay.action_probabilities(x, n_samples=2000)[arm])
            replay.update(int(arm), reward, x)
        if name == "lints":
            assert np.abs(data["propensities"] - expected).max() < 6 * 0.5 * np.sqrt(2 / 2000)
        else:
            np.testing.assert_allclose(data["propensities"], expected, rtol=1e-12)
    np.testing.assert_allclose(result.propensities[2, 0, :50], 1 / 3)  # the hybrid before its fit
    with pytest.raises(ValueError, match="no logs"):
        simulate([LinUCB(3, 2)], env, 10, n_runs=1).logged_data()
