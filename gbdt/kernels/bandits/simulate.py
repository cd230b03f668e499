"""Whole bandit runs in compiled code: policy and environment interleaved for ``horizon`` rounds.

One call is one independent run with its own ``numpy.random.Generator``; the kernels release
the GIL (``nogil``), so the Python driver runs several runs at once on threads. Cumulative
(pseudo-)regret, sum over rounds of best mean - chosen arm's mean, is written at the 1-based
round counts in ``checkpoints`` (C,) int64, sorted, last <= horizon.
"""
import numpy as np

from gbdt._jit import jit
from gbdt.kernels.bandits.arm_stats import observe
from gbdt.kernels.bandits.environment import arm_means_at, draw_reward, linear_means
from gbdt.kernels.bandits.ridge import LIN_THOMPSON, LIN_UCB, linear_scores, sherman_morrison_update
from gbdt.kernels.bandits.sampling import new_gamma_cache
from gbdt.kernels.bandits.select import P_DISCOUNT, P_EXPLORE, argmax_first, select_arm


@jit
def record_regret(t, regret, checkpoints, next_checkpoint, regret_out):
    """Store ``regret`` if round t+1 is checkpoint ``next_checkpoint``; return the next one."""
    if next_checkpoint < checkpoints.shape[0] and checkpoints[next_checkpoint] == t + 1:
        regret_out[next_checkpoint] = regret
        return next_checkpoint + 1
    return next_checkpoint


@jit
def simulate_arms_run(kind, params, window, change_times, means_table, drift, bernoulli, noise_sd,
                      horizon, checkpoints, rng, regret_out, pulls_out):
    """One run of non-contextual policy ``kind`` (see ``select``) on the arms of
    ``environment``; window > 0 keeps sliding-window statistics of that width.

    regret_out (C,) float64 and pulls_out (n_arms,) float64 (pulls per arm) are filled.
    """
    n_arms = means_table.shape[1]
    stats = np.zeros((3, n_arms))
    window_arms = np.zeros(window, dtype=np.int64)
    window_rewards = np.zeros(window)
    scores = np.empty(n_arms)
    gamma_cache = new_gamma_cache(n_arms)
    means = np.empty(n_arms)
    drifting = False
    for k in range(n_arms):
        drifting = drifting or drift[0, k] != 0.0
    for k in range(n_arms):
        pulls_out[k] = 0.0
    regret = 0.0
    best = 0.0
    next_checkpoint = 0
    next_change = 0
    for t in range(horizon):
        # Means change only at a change time or, for drifting arms, every round.
        if drifting or (next_change < change_times.shape[0] and change_times[next_change] <= t):
            arm_means_at(t, change_times, means_table, drift, bernoulli, means)
            best = means[argmax_first(means)]
            while next_change < change_times.shape[0] and change_times[next_change] <= t:
                next_change += 1
        arm = select_arm(kind, params, stats, t, rng, scores, gamma_cache)
        reward = draw_reward(rng, means[arm], bernoulli, noise_sd)
        observe(stats, window_arms, window_rewards, t, arm, reward, params[P_DISCOUNT])
        pulls_out[arm] += 1.0
        regret += best - means[arm]
        next_checkpoint = record_regret(t, regret, checkpoints, next_checkpoint, regret_out)


@jit
def simulate_linear_run(kind, params, window, ridge, theta, noise_sd, horizon, checkpoints, rng,
                        regret_out, pulls_out):
    """One run on linear contextual arms (``environment``), theta (n_arms, d).

    ``kind`` LIN_UCB / LIN_THOMPSON fit per-arm ridge models (regularisation ``ridge``);
    any other kind plays the non-contextual policy (``window`` as in ``simulate_arms_run``),
    which ignores the context.
    """
    n_arms, d = theta.shape
    contextual = kind == LIN_UCB or kind == LIN_THOMPSON
    a_inv = np.zeros((n_arms, d, d))
    for k in range(n_arms):
        for j in range(d):
            a_inv[k, j, j] = 1.0 / ridge
    b = np.zeros((n_arms, d))
    stats = np.zeros((3, n_arms))
    window_arms = np.zeros(window, dtype=np.int64)
    window_rewards = np.zeros(window)
    x = np.empty(d)
    scores = np.empty(n_arms)
    gamma_cache = new_gamma_cache(n_arms)
    means = np.empty(n_arms)
    solve_scratch = np.empty(d)
    for k in range(n_arms):
        pulls_out[k] = 0.0
    regret = 0.0
    next_checkpoint = 0
    for t in range(horizon):
        for j in range(d):
            x[j] = rng.standard_normal()
        linear_means(theta, x, means)
        if contextual:
            linear_scores(kind, params[P_EXPLORE], a_inv, b, x, rng, scores)
            arm = argmax_first(scores)
        else:
            arm = select_arm(kind, params, stats, t, rng, scores, gamma_cache)
        reward = means[arm] + noise_sd * rng.standard_normal()
        if contextual:
            sherman_morrison_update(a_inv[arm], b[arm], x, reward, solve_scratch)
        else:
            observe(stats, window_arms, window_rewards, t, arm, reward, params[P_DISCOUNT])
        pulls_out[arm] += 1.0
        regret += means[argmax_first(means)] - means[arm]
        next_checkpoint = record_regret(t, regret, checkpoints, next_checkpoint, regret_out)
