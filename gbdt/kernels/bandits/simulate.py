"""Whole bandit runs in compiled code: policy and environment interleaved for ``horizon`` rounds.

One call is one independent run with its own ``numpy.random.Generator``; the kernels release
the GIL (``nogil``), so the Python driver runs several runs at once on threads. Cumulative
(pseudo-)regret, sum over rounds of best mean - chosen arm's mean, is written at the 1-based
round counts in ``checkpoints`` (C,) int64, sorted, last <= horizon.

A run may also log every round as a logging policy's record for off-policy evaluation: the arm,
its reward and its propensity, the probability the policy gave that arm before choosing
(``select.arm_probabilities`` / ``ridge.linear_probabilities``, computed with a second Generator
``log_rng`` so that logging leaves the run itself unchanged). Log arrays of length 0 turn logging
off. For Thompson sampling the propensity is estimated from ``n_samples`` simulated choices plus
the real one, (count + 1) / (n_samples + 1): all n_samples + 1 are independent draws of the same
choice, so the estimate is unbiased and never 0 for the arm actually played.
"""
import numpy as np

from gbdt._jit import jit
from gbdt.kernels.bandits.arm_stats import observe
from gbdt.kernels.bandits.environment import arm_means_at, draw_reward, linear_means
from gbdt.kernels.bandits.ridge import (LIN_THOMPSON, LIN_UCB, linear_probabilities, linear_scores,
                                       sherman_morrison_update)
from gbdt.kernels.bandits.sampling import new_gamma_cache
from gbdt.kernels.bandits.select import (P_DISCOUNT, P_EXPLORE, argmax_first, argmax_random_tie,
                                        arm_probabilities, is_sampled, select_arm)


@jit
def record_regret(t, regret, checkpoints, next_checkpoint, regret_out):
    """Store ``regret`` if round t+1 is checkpoint ``next_checkpoint``; return the next one."""
    if next_checkpoint < checkpoints.shape[0] and checkpoints[next_checkpoint] == t + 1:
        regret_out[next_checkpoint] = regret
        return next_checkpoint + 1
    return next_checkpoint


@jit
def logged_propensity(probs, arm, sampled, n_samples):
    """Propensity of the played ``arm`` from ``probs`` (n_arms,); for a sampled (Thompson) policy
    the played choice joins the ``n_samples`` simulated ones."""
    if sampled:
        return (probs[arm] * n_samples + 1.0) / (n_samples + 1.0)
    return probs[arm]


@jit
def simulate_arms_run(kind, params, window, change_times, means_table, drift, bernoulli, noise_sd,
                      horizon, checkpoints, rng, regret_out, pulls_out, log_rng, n_samples,
                      log_actions, log_rewards, log_propensities):
    """One run of non-contextual policy ``kind`` (see ``select``) on the arms of
    ``environment``; window > 0 keeps sliding-window statistics of that width.

    regret_out (C,) float64 and pulls_out (n_arms,) float64 (pulls per arm) are filled; with
    logging on, log_actions (horizon,) int64, log_rewards and log_propensities (horizon,) float64.
    """
    logging = log_actions.shape[0] > 0
    probs = np.empty(means_table.shape[1])
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
        if logging:
            arm_probabilities(kind, params, stats, t, log_rng, gamma_cache, scores, n_samples, probs)
        arm = select_arm(kind, params, stats, t, rng, scores, gamma_cache)
        reward = draw_reward(rng, means[arm], bernoulli, noise_sd)
        if logging:
            log_actions[t] = arm
            log_rewards[t] = reward
            log_propensities[t] = logged_propensity(probs, arm, is_sampled(kind), n_samples)
        observe(stats, window_arms, window_rewards, t, arm, reward, params[P_DISCOUNT])
        pulls_out[arm] += 1.0
        regret += best - means[arm]
        next_checkpoint = record_regret(t, regret, checkpoints, next_checkpoint, regret_out)


@jit
def simulate_linear_run(kind, params, window, ridge, theta, noise_sd, horizon, checkpoints, rng,
                        regret_out, pulls_out, log_rng, n_samples, log_actions, log_rewards,
                        log_propensities, log_contexts):
    """One run on linear contextual arms (``environment``), theta (n_arms, d).

    ``kind`` LIN_UCB / LIN_THOMPSON fit per-arm ridge models (regularisation ``ridge``);
    any other kind plays the non-contextual policy (``window`` as in ``simulate_arms_run``),
    which ignores the context. Logging as in ``simulate_arms_run``, plus log_contexts (horizon, d).
    """
    logging = log_actions.shape[0] > 0
    sampled = kind == LIN_THOMPSON or is_sampled(kind)
    probs = np.empty(theta.shape[0])
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
        if logging and contextual:
            linear_probabilities(kind, params[P_EXPLORE], a_inv, b, x, log_rng, n_samples, scores,
                                 probs)
        elif logging:
            arm_probabilities(kind, params, stats, t, log_rng, gamma_cache, scores, n_samples, probs)
        if contextual:
            linear_scores(kind, params[P_EXPLORE], a_inv, b, x, rng, scores)
            arm = argmax_random_tie(scores, rng)
        else:
            arm = select_arm(kind, params, stats, t, rng, scores, gamma_cache)
        reward = means[arm] + noise_sd * rng.standard_normal()
        if logging:
            log_actions[t] = arm
            log_rewards[t] = reward
            log_propensities[t] = logged_propensity(probs, arm, sampled, n_samples)
            for j in range(d):
                log_contexts[t, j] = x[j]
        if contextual:
            sherman_morrison_update(a_inv[arm], b[arm], x, reward, solve_scratch)
        else:
            observe(stats, window_arms, window_rewards, t, arm, reward, params[P_DISCOUNT])
        pulls_out[arm] += 1.0
        regret += means[argmax_first(means)] - means[arm]
        next_checkpoint = record_regret(t, regret, checkpoints, next_checkpoint, regret_out)
