"""Arm choice of every non-contextual policy, one compiled dispatch on an integer ``kind``.

The policies differ only in how they turn ``stats`` (3, n_arms; see ``arm_stats``) into a
choice, so one kernel serves the Python API (one round at a time) and the compiled simulation.

``params`` (N_PARAMS,) float64, slots named below; a policy reads only its own slots:

    P_EPSILON        epsilon of epsilon-greedy (its c when decaying: eps_t = min(1, c K / t))
    P_EPSILON_DECAY  1.0 to decay epsilon as above, 0.0 to keep it fixed
    P_EXPLORE        exploration scale: UCB's c, UCB-V's zeta, KL-UCB's c in log t + c log log t
    P_TEMPERATURE    softmax temperature (reward units)
    P_NOISE_SD       Gaussian Thompson: reward noise standard deviation
    P_PRIOR_SD       Gaussian Thompson: prior standard deviation of each arm's mean (prior mean 0)
    P_REWARD_RANGE   UCB-V: rewards lie in [0, reward_range]
    P_DISCOUNT       forgetting factor of the statistics, 1.0 = stationary

Index policies (epsilon-greedy, UCB family, softmax) first play every arm with zero pulls, in
arm order; ties of the argmax go to the lowest arm.
"""
import math

import numpy as np

from gbdt._jit import jit
from gbdt.kernels.bandits.index import klucb_index, ucb_index, ucbv_index
from gbdt.kernels.bandits.sampling import (beta_thompson_draws, categorical_sample,
                                          gaussian_posterior_sample)

EPSILON_GREEDY = 0
UCB = 1
UCB_V = 2
KL_UCB = 3
THOMPSON_BETA = 4
THOMPSON_GAUSSIAN = 5
SOFTMAX = 6

P_EPSILON = 0
P_EPSILON_DECAY = 1
P_EXPLORE = 2
P_TEMPERATURE = 3
P_NOISE_SD = 4
P_PRIOR_SD = 5
P_REWARD_RANGE = 6
P_DISCOUNT = 7
N_PARAMS = 8


@jit
def argmax_first(values):
    """Index of the largest of (n,) ``values``; the lowest index among ties."""
    best = 0
    for k in range(1, values.shape[0]):
        if values[k] > values[best]:
            best = k
    return best


@jit
def first_unplayed_arm(stats):
    """Lowest arm with zero pulls in ``stats`` (3, n_arms), or -1 when every arm has been played."""
    for k in range(stats.shape[1]):
        if stats[0, k] <= 0.0:
            return k
    return -1


@jit
def arm_scores(kind, params, stats, rng, gamma_cache, out):
    """Fill ``out`` (n_arms,) with the score each arm is chosen by (argmax).

    log t of the indices is the log of the total (possibly discounted or windowed) pulls.
    gamma_cache : (6, n_arms), see ``sampling``; used by Beta Thompson sampling.
    """
    n_arms = stats.shape[1]
    # One loop per kind, not one branch per arm: keeps the Thompson loop tight.
    if kind == THOMPSON_BETA:
        beta_thompson_draws(rng, stats, gamma_cache, out)
        return
    if kind == THOMPSON_GAUSSIAN:
        for k in range(n_arms):
            out[k] = gaussian_posterior_sample(rng, stats[0, k], stats[1, k], params[P_NOISE_SD],
                                               params[P_PRIOR_SD])
        return
    total = 0.0
    for k in range(n_arms):
        total += stats[0, k]
    log_total = math.log(total) if total > 0.0 else 0.0
    for k in range(n_arms):
        n = stats[0, k]
        if kind == UCB:
            out[k] = ucb_index(n, stats[1, k], log_total, params[P_EXPLORE])
        elif kind == UCB_V:
            out[k] = ucbv_index(n, stats[1, k], stats[2, k], log_total, params[P_EXPLORE],
                                params[P_REWARD_RANGE])
        elif kind == KL_UCB:
            out[k] = klucb_index(n, stats[1, k], log_total, params[P_EXPLORE])
        else:  # greedy part of epsilon-greedy and softmax: the empirical mean
            out[k] = stats[1, k] / n


@jit
def select_arm(kind, params, stats, n_rounds, rng, scores, gamma_cache):
    """Arm chosen by policy ``kind`` given ``stats`` (3, n_arms) after ``n_rounds`` rounds.

    scores : (n_arms,) float64 work buffer; gamma_cache : (6, n_arms), see ``sampling``.
    """
    n_arms = stats.shape[1]
    if kind != THOMPSON_BETA and kind != THOMPSON_GAUSSIAN:
        unplayed = first_unplayed_arm(stats)
        if unplayed >= 0:
            return unplayed
    if kind == EPSILON_GREEDY:
        epsilon = params[P_EPSILON]
        if params[P_EPSILON_DECAY] > 0.0:
            epsilon = min(1.0, epsilon * n_arms / max(n_rounds, 1))
        if rng.random() < epsilon:
            return int(rng.integers(0, n_arms))
    arm_scores(kind, params, stats, rng, gamma_cache, scores)
    if kind == SOFTMAX:
        top = scores[argmax_first(scores)]
        for k in range(n_arms):
            scores[k] = math.exp((scores[k] - top) / params[P_TEMPERATURE])
        return categorical_sample(rng, scores)
    return argmax_first(scores)


@jit
def select_arms(kind, params, stats, n_rounds, rng, gamma_cache, out):
    """Fill ``out`` (n,) int64 with n independent choices from the same ``stats`` (a batch)."""
    scores = np.empty(stats.shape[1])
    for i in range(out.shape[0]):
        out[i] = select_arm(kind, params, stats, n_rounds, rng, scores, gamma_cache)
