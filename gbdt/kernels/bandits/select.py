"""Arm choice of every non-contextual policy, one compiled dispatch on an integer ``kind``.

The policies differ only in how they turn ``stats`` (3, n_arms; see ``arm_stats``) into a
choice, so one kernel serves the Python API (one round at a time) and the compiled simulation.

``params`` (N_PARAMS,) float64, slots named below; a policy reads only its own slots:

    P_EPSILON        epsilon of epsilon-greedy (its c when decaying: eps_t = min(1, c K / t))
    P_EPSILON_DECAY  1.0 to decay epsilon as above, 0.0 to keep it fixed
    P_EXPLORE        the policies' ``exploration``: UCB1's alpha (MABWiser's name), UCB-V's zeta,
                     KL-UCB's c in log t + c log log t
    P_TEMPERATURE    softmax temperature (reward units)
    P_NOISE_SD       Gaussian Thompson: reward noise standard deviation
    P_PRIOR_SD       Gaussian Thompson: prior standard deviation of each arm's mean (prior mean 0)
    P_REWARD_RANGE   UCB-V: rewards lie in [0, reward_range]
    P_DISCOUNT       forgetting factor of the statistics, 1.0 = stationary

Index policies (epsilon-greedy, UCB family, softmax) first play every arm with zero pulls, in
arm order; ties of the argmax are broken uniformly at random, so a policy's probability of
choosing each arm (``arm_probabilities``) splits the mass of a tie evenly and every tied arm gets
logged with a positive propensity.
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
def argmax_random_tie(values, rng):
    """Index of the largest of (n,) ``values``, uniform among ties (one-pass reservoir choice:
    the m-th tied index seen replaces the current one with probability 1/m)."""
    best = 0
    ties = 1
    for k in range(1, values.shape[0]):
        if values[k] > values[best]:
            best = k
            ties = 1
        elif values[k] == values[best]:
            ties += 1
            if rng.random() * ties < 1.0:
                best = k
    return best


@jit
def split_argmax(values, out):
    """Fill ``out`` (n,) with 1/m on each of the m indices tied for the largest of ``values``."""
    top = values[argmax_first(values)]
    ties = 0
    for k in range(values.shape[0]):
        ties += values[k] == top
    for k in range(values.shape[0]):
        out[k] = 1.0 / ties if values[k] == top else 0.0


@jit
def current_epsilon(params, n_arms, n_rounds):
    """Exploration probability of epsilon-greedy after ``n_rounds`` rounds (fixed or decaying)."""
    epsilon = params[P_EPSILON]
    if params[P_EPSILON_DECAY] > 0.0:
        epsilon = min(1.0, epsilon * n_arms / max(n_rounds, 1))
    return epsilon


@jit
def softmax_weights(scores, temperature):
    """Overwrite (n_arms,) mean rewards ``scores`` with exp((mean - max) / temperature)."""
    top = scores[argmax_first(scores)]
    for k in range(scores.shape[0]):
        scores[k] = math.exp((scores[k] - top) / temperature)


@jit
def is_sampled(kind):
    """Whether policy ``kind`` chooses by posterior sampling (no closed-form arm probabilities)."""
    return kind == THOMPSON_BETA or kind == THOMPSON_GAUSSIAN


@jit
def first_unplayed_arm(stats):
    """Lowest arm with zero pulls in ``stats`` (3, n_arms), or -1 when every arm has been played."""
    for k in range(stats.shape[1]):
        if stats[0, k] <= 0.0:
            return k
    return -1


@jit
def arm_scores(kind, params, stats, rng, gamma_cache, out):
    """Fill ``out`` (n_arms,) with the score each arm is chosen by (argmax); +inf for an arm
    never played, except under Thompson sampling, whose scores are posterior draws.

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
        if n <= 0.0:  # never played: index policies play it first
            out[k] = np.inf
        elif kind == UCB:
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
    if not is_sampled(kind):
        unplayed = first_unplayed_arm(stats)
        if unplayed >= 0:
            return unplayed
    if kind == EPSILON_GREEDY and rng.random() < current_epsilon(params, n_arms, n_rounds):
        return int(rng.integers(0, n_arms))
    arm_scores(kind, params, stats, rng, gamma_cache, scores)
    if kind == SOFTMAX:
        softmax_weights(scores, params[P_TEMPERATURE])
        return categorical_sample(rng, scores)
    return argmax_random_tie(scores, rng)


@jit
def arm_probabilities(kind, params, stats, n_rounds, rng, gamma_cache, scores, n_samples, out):
    """Fill ``out`` (n_arms,) with the probability that ``select_arm`` picks each arm now.

    Exact for every kind but Thompson sampling: the first unplayed arm has probability 1;
    epsilon-greedy puts epsilon_t / n_arms on each arm plus 1 - epsilon_t split over the tied
    best means; softmax is the normalised exp weights; the UCB family splits 1 over the tied
    best indices. Thompson sampling (``is_sampled``) has no closed form: ``out`` holds the
    frequencies of ``n_samples`` draws of its choice with ``rng``, each within a standard error
    sqrt(p (1 - p) / n_samples) of the truth. Other kinds never touch ``rng``.
    scores : (n_arms,) work buffer; gamma_cache : (6, n_arms), see ``sampling``.
    """
    n_arms = stats.shape[1]
    if is_sampled(kind):
        for k in range(n_arms):
            out[k] = 0.0
        for _ in range(n_samples):
            arm_scores(kind, params, stats, rng, gamma_cache, scores)
            out[argmax_random_tie(scores, rng)] += 1.0
        for k in range(n_arms):
            out[k] /= n_samples
        return
    unplayed = first_unplayed_arm(stats)
    if unplayed >= 0:
        for k in range(n_arms):
            out[k] = 0.0
        out[unplayed] = 1.0
        return
    arm_scores(kind, params, stats, rng, gamma_cache, scores)
    if kind == SOFTMAX:
        softmax_weights(scores, params[P_TEMPERATURE])
        total = 0.0
        for k in range(n_arms):
            total += scores[k]
        for k in range(n_arms):
            out[k] = scores[k] / total
        return
    split_argmax(scores, out)
    if kind == EPSILON_GREEDY:
        epsilon = current_epsilon(params, n_arms, n_rounds)
        for k in range(n_arms):
            out[k] = epsilon / n_arms + (1.0 - epsilon) * out[k]


@jit
def select_arms(kind, params, stats, n_rounds, rng, gamma_cache, out):
    """Fill ``out`` (n,) int64 with n independent choices from the same ``stats`` (a batch)."""
    scores = np.empty(stats.shape[1])
    for i in range(out.shape[0]):
        out[i] = select_arm(kind, params, stats, n_rounds, rng, scores, gamma_cache)
