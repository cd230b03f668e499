"""Bandit kernels against naive numpy twins and scipy: arm statistics (stationary, discounted,
sliding window), UCB-V / KL-UCB indices, Beta / Gaussian / categorical draws, Sherman-Morrison,
environment schedules and the regret bookkeeping of a whole compiled run."""
import numpy as np
import pytest
from scipy import optimize, special, stats

from gbdt.kernels.bandits import select as K
from gbdt.kernels.bandits.arm_stats import observe, observe_batch, update_arm_stats
from gbdt.kernels.bandits.environment import arm_means_at
from gbdt.kernels.bandits.index import bernoulli_kl, klucb_index, ucbv_index
from gbdt.kernels.bandits.ridge import (LIN_THOMPSON, LIN_UCB, linear_scores,
                                       ridge_update_batch, sherman_morrison_update)
from gbdt.kernels.bandits.sampling import (beta_thompson_draws, categorical_sample,
                                          gaussian_posterior_sample, marsaglia_tsang_gamma,
                                          new_gamma_cache)
from gbdt.kernels.bandits.simulate import simulate_arms_run


def history(n=300, n_arms=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_arms, n), rng.random(n)


def naive_stats(arms, rewards, n_arms, weights):
    return np.vstack([np.bincount(arms, weights, n_arms),
                      np.bincount(arms, weights * rewards, n_arms),
                      np.bincount(arms, weights * rewards**2, n_arms)])


@pytest.mark.parametrize("discount", [1.0, 0.97])
def test_discounted_stats_equal_weighted_sums(discount):
    arms, rewards = history()
    stats = np.zeros((3, 4))
    for a, r in zip(arms, rewards):
        update_arm_stats(stats, a, r, discount)
    age = np.arange(len(arms))[::-1]
    np.testing.assert_allclose(stats, naive_stats(arms, rewards, 4, discount**age), rtol=1e-12)


def test_window_stats_equal_last_w_rounds_and_batch_equals_loop():
    arms, rewards = history()
    width = 37
    stats = np.zeros((3, 4))
    ring_arms, ring_rewards = np.zeros(width, np.int64), np.zeros(width)
    for t, (a, r) in enumerate(zip(arms, rewards)):
        observe(stats, ring_arms, ring_rewards, t, a, r, 1.0)
        lo = max(0, t + 1 - width)
        expected = naive_stats(arms[lo:t + 1], rewards[lo:t + 1], 4, np.ones(t + 1 - lo))
        np.testing.assert_allclose(stats, expected, atol=1e-12)
    batch = np.zeros((3, 4))
    observe_batch(batch, np.zeros(width, np.int64), np.zeros(width), 0, arms, rewards, 1.0)
    np.testing.assert_allclose(batch, stats, atol=1e-12)


def test_ucbv_index_matches_formula():
    n, s, ss, log_t = 12.0, 7.0, 5.5, np.log(100.0)
    var = ss / n - (s / n) ** 2
    expected = s / n + np.sqrt(2 * var * 1.2 * log_t / n) + 3 * 2.0 * 1.2 * log_t / n
    assert ucbv_index(n, s, ss, log_t, 1.2, 2.0) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("n,mean,t", [(3, 0.0, 10), (20, 0.35, 1000), (500, 0.9, 10**6),
                                      (1, 1.0, 50), (4000, 0.02, 10**7)])
def test_klucb_index_solves_its_equation(n, mean, t):
    """The root of n KL(mean, q) = log t + 3 log log t on [mean, 1], found by scipy's brentq."""
    log_t = np.log(t)
    budget = (log_t + 3 * np.log(log_t)) / n

    def excess(q):
        return stats.entropy([mean, 1 - mean], [q, 1 - q]) - budget

    expected = 1.0 if excess(1 - 1e-12) <= 0 else optimize.brentq(excess, mean + 1e-15, 1 - 1e-12,
                                                                   xtol=1e-14)
    assert klucb_index(float(n), n * mean, log_t, 3.0) == pytest.approx(expected, abs=1e-8)
    assert bernoulli_kl(0.3, 0.6) == pytest.approx(stats.entropy([0.3, 0.7], [0.6, 0.4]), rel=1e-12)


@pytest.mark.parametrize("shape", [1.0, 1.7, 12.0, 5000.0])
def test_marsaglia_tsang_gamma_follows_gamma(shape):
    rng = np.random.default_rng(2)
    d = shape - 1 / 3
    draws = np.array([marsaglia_tsang_gamma(rng, d, 1 / np.sqrt(9 * d)) for _ in range(4000)])
    assert stats.kstest(draws, stats.gamma(shape).cdf).pvalue > 1e-3


def test_thompson_draws_with_cache_follow_each_arms_beta():
    """Memoised constants: arm 0's shapes change every draw, arm 1's stay; both must follow
    their own Beta posterior, and the cache must hold arm 1's current shapes."""
    rng = np.random.default_rng(3)
    cache = new_gamma_cache(2)
    out = np.empty(2)
    draws = np.empty((3000, 2))
    shapes0 = [(4.0, 7.0), (40.0, 2.0)]
    for i in range(3000):
        succ0, fail0 = shapes0[i % 2]
        arm_stats = np.array([[succ0 + fail0 - 2, 30.0], [succ0 - 1, 12.0], [0.0, 0.0]])
        beta_thompson_draws(rng, arm_stats, cache, out)
        draws[i] = out
    assert stats.kstest(draws[0::2, 0], stats.beta(4.0, 7.0).cdf).pvalue > 1e-3
    assert stats.kstest(draws[1::2, 0], stats.beta(40.0, 2.0).cdf).pvalue > 1e-3
    assert stats.kstest(draws[:, 1], stats.beta(13.0, 19.0).cdf).pvalue > 1e-3
    # Beta(1, 900): one shape at the algorithm's lower limit, one far in the tail.
    tail = np.empty((3000, 1))
    for i in range(3000):
        beta_thompson_draws(rng, np.array([[899.0], [0.0], [0.0]]), new_gamma_cache(1), tail[i])
    assert stats.kstest(tail[:, 0], stats.beta(1.0, 900.0).cdf).pvalue > 1e-3
    np.testing.assert_allclose(cache[[0, 3], 1], [13.0, 19.0])
    np.testing.assert_allclose(cache[[1, 2], 1], [13.0 - 1 / 3, 1 / np.sqrt(9 * (13.0 - 1 / 3))])


def test_gaussian_posterior_matches_conjugate_regression():
    """Posterior of a mean under N(0, tau^2) prior = Bayesian regression on a column of ones."""
    rng = np.random.default_rng(2)
    rewards = 0.7 + 0.5 * rng.standard_normal(9)
    noise, prior = 0.5, 2.0
    ones = np.ones((9, 1))
    cov = np.linalg.inv(ones.T @ ones / noise**2 + np.eye(1) / prior**2)
    mean = cov @ ones.T @ rewards / noise**2
    draws = np.array([gaussian_posterior_sample(rng, 9.0, rewards.sum(), noise, prior)
                      for _ in range(4000)])
    dist = stats.norm(mean[0], np.sqrt(cov[0, 0]))
    assert stats.kstest(draws, dist.cdf).pvalue > 1e-3


def test_categorical_and_softmax_frequencies():
    rng = np.random.default_rng(3)
    weights = np.array([0.1, 0.0, 2.0, 0.9])
    counts = np.bincount([categorical_sample(rng, weights) for _ in range(6000)], minlength=4)
    assert counts[1] == 0
    keep = weights > 0
    expected = 6000 * weights[keep] / weights.sum()
    assert stats.chisquare(counts[keep], expected).pvalue > 1e-3
    # Softmax policy: choice frequencies follow scipy's softmax of the means / temperature.
    stats_arr = np.array([[10.0, 10, 10], [2.0, 5, 6], [0, 0, 0]])
    params = np.zeros(K.N_PARAMS)
    params[K.P_TEMPERATURE] = 0.2
    out = np.empty(6000, np.int64)
    K.select_arms(K.SOFTMAX, params, stats_arr, 30, rng, new_gamma_cache(3), out)
    probs = special.softmax(stats_arr[1] / 10 / 0.2)
    assert stats.chisquare(np.bincount(out, minlength=3), 6000 * probs).pvalue > 1e-3


def test_epsilon_greedy_and_thompson_choice_probabilities():
    rng = np.random.default_rng(4)
    stats_arr = np.array([[20.0, 30, 25], [8.0, 15, 14], [0, 0, 0]])
    params = np.zeros(K.N_PARAMS)
    params[K.P_EPSILON] = 0.3
    out = np.empty(6000, np.int64)
    K.select_arms(K.EPSILON_GREEDY, params, stats_arr, 75, rng, new_gamma_cache(3), out)
    greedy = np.argmax(stats_arr[1] / stats_arr[0])
    expected = np.full(3, 0.3 / 3)
    expected[greedy] += 0.7
    assert stats.chisquare(np.bincount(out, minlength=3), 6000 * expected).pvalue > 1e-3
    # Thompson: P(arm k wins) estimated with numpy's own Beta sampler.
    K.select_arms(K.THOMPSON_BETA, params, stats_arr, 75, rng, new_gamma_cache(3), out)
    ref = np.random.default_rng(5).beta(1 + stats_arr[1], 1 + stats_arr[0] - stats_arr[1],
                                        size=(200000, 3)).argmax(axis=1)
    expected = np.bincount(ref, minlength=3) / ref.size
    assert stats.chisquare(np.bincount(out, minlength=3), 6000 * expected).pvalue > 1e-3


def test_sherman_morrison_equals_ridge_inverse():
    rng = np.random.default_rng(6)
    n_arms, d, lam = 3, 5, 0.7
    x = rng.standard_normal((200, d))
    arms = rng.integers(0, n_arms, 200)
    y = rng.standard_normal(200)
    a_inv = np.repeat(np.eye(d)[None] / lam, n_arms, axis=0)
    b = np.zeros((n_arms, d))
    ridge_update_batch(a_inv, b, arms, x, y)
    for k in range(n_arms):
        xk, yk = x[arms == k], y[arms == k]
        np.testing.assert_allclose(a_inv[k], np.linalg.inv(lam * np.eye(d) + xk.T @ xk),
                                   rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b[k], xk.T @ yk, rtol=1e-12, atol=1e-12)
    single = np.eye(d) / lam
    sherman_morrison_update(single, np.zeros(d), x[0], 1.0, np.empty(d))
    np.testing.assert_allclose(single, np.linalg.inv(lam * np.eye(d) + np.outer(x[0], x[0])))


def test_linear_scores_ucb_and_thompson_distribution():
    rng = np.random.default_rng(7)
    d = 4
    a_inv = np.stack([np.linalg.inv(np.eye(d) + m @ m.T) for m in rng.standard_normal((2, d, d))])
    b = rng.standard_normal((2, d))
    x = rng.standard_normal(d)
    theta = np.einsum("kij,kj->ki", a_inv, b)
    width = np.sqrt(np.einsum("i,kij,j->k", x, a_inv, x))
    out = np.empty(2)
    linear_scores(LIN_UCB, 0.8, a_inv, b, x, rng, out)
    np.testing.assert_allclose(out, theta @ x + 0.8 * width, rtol=1e-12)
    # Thompson: x . theta_tilde with theta_tilde ~ N(theta, v^2 A^-1), as numpy draws it.
    draws = np.empty((3000, 2))
    for i in range(3000):
        linear_scores(LIN_THOMPSON, 0.5, a_inv, b, x, rng, draws[i])
    ref = rng.multivariate_normal(theta[0], 0.25 * a_inv[0], size=3000) @ x
    assert stats.ks_2samp(draws[:, 0], ref).pvalue > 1e-3


def test_arm_means_schedule():
    times = np.array([0, 10, 25], np.int64)
    table = np.array([[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]])
    drift = np.array([[0.0, 0.3], [1.0, 40.0], [0.0, 1.0]])
    out = np.empty(2)
    for t in [0, 9, 10, 24, 25, 100]:
        arm_means_at(t, times, table, drift, True, out)
        seg = np.searchsorted(times, t, side="right") - 1
        expected = table[seg] + drift[0] * np.sin(2 * np.pi * t / drift[1] + drift[2])
        np.testing.assert_allclose(out, np.clip(expected, 0, 1), rtol=1e-14)


@pytest.mark.parametrize("kind", [K.UCB, K.KL_UCB, K.THOMPSON_BETA, K.EPSILON_GREEDY])
def test_compiled_run_regret_is_gap_times_pulls(kind):
    """On stationary arms the cumulative pseudo-regret is sum_k gap_k * pulls_k exactly."""
    means = np.array([[0.2, 0.5, 0.45, 0.1]])
    params = np.zeros(K.N_PARAMS)
    params[[K.P_DISCOUNT, K.P_EXPLORE, K.P_EPSILON]] = 1.0, 1.0, 0.1
    regret, pulls = np.zeros(3), np.zeros(4)
    checkpoints = np.array([10, 500, 3000], np.int64)
    drift = np.vstack([np.zeros(4), np.ones(4), np.zeros(4)])
    simulate_arms_run(kind, params, 0, np.zeros(1, np.int64), means, drift, True, 0.0, 3000,
                      checkpoints, np.random.default_rng(8), regret, pulls)
    assert pulls.sum() == 3000
    assert regret[-1] == pytest.approx(((0.5 - means[0]) * pulls).sum(), rel=1e-12)
    assert np.all(np.diff(regret) >= 0)
