"""Random draws of bandit policies from a ``numpy.random.Generator`` passed into compiled code.

Beta draws are the ratio of two gamma draws (exact: X/(X+Y) ~ Beta(a, b) for X ~ Gamma(a),
Y ~ Gamma(b)), each by Marsaglia & Tsang (2000). Its constants d = shape - 1/3 and
c = 1/sqrt(9 d) cost as much as the draw itself (a dependent sqrt and division), and an arm's
Beta-Thompson shapes (1 + successes, 1 + failures, both >= 1) change only when it is played, so
Thompson sampling memoises them per arm in a ``gamma_cache`` (6, n_arms) float64 made by
``new_gamma_cache``::

    rows 0..2  shape a, its d, its c   (success side of Beta(a, b))
    rows 3..5  shape b, its d, its c   (failure side)

A slot whose stored shape differs from the requested one is recomputed, so the cache is never
stale whatever updated the statistics. The gamma draw takes only scalars and the Generator, so
it stays small enough for LLVM to inline (``Generator.standard_gamma`` in the hot loop stopped
that and cost a factor ~2).
"""
import math

import numpy as np

from gbdt._jit import jit

GAMMA_CACHE_ROWS = 6


@jit
def new_gamma_cache(n_arms):
    """A (6, n_arms) gamma-constant cache whose shapes match nothing yet (NaN)."""
    return np.full((GAMMA_CACHE_ROWS, n_arms), np.nan)


@jit
def marsaglia_tsang_gamma(rng, d, c):
    """One Gamma(d + 1/3, 1) draw given d = shape - 1/3 and c = 1/sqrt(9 d), shape >= 1.

    Squeeze-and-reject with one normal and one uniform per try (~98% accepted at once).
    """
    while True:
        x = rng.standard_normal()
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = rng.random()
        if u < 1.0 - 0.0331 * (x * x) * (x * x):
            return d * v
        if math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return d * v


@jit
def refresh_gamma_constants(gamma_cache, row, arm, shape):
    """Store shape >= 1 and its Marsaglia-Tsang d, c at gamma_cache[row:row + 3, arm] if changed."""
    if gamma_cache[row, arm] != shape:
        d = shape - 1.0 / 3.0
        gamma_cache[row, arm] = shape
        gamma_cache[row + 1, arm] = d
        gamma_cache[row + 2, arm] = 1.0 / math.sqrt(9.0 * d)


@jit
def beta_thompson_draws(rng, stats, gamma_cache, out):
    """Fill ``out`` (n_arms,) with one Beta(1 + successes, 1 + failures) draw per arm.

    stats : (3, n_arms) pulls and reward sums (rewards in [0, 1]); gamma_cache : (6, n_arms).
    """
    for k in range(out.shape[0]):
        successes = max(stats[1, k], 0.0)
        failures = max(stats[0, k] - stats[1, k], 0.0)
        refresh_gamma_constants(gamma_cache, 0, k, 1.0 + successes)
        refresh_gamma_constants(gamma_cache, 3, k, 1.0 + failures)
        x = marsaglia_tsang_gamma(rng, gamma_cache[1, k], gamma_cache[2, k])
        y = marsaglia_tsang_gamma(rng, gamma_cache[4, k], gamma_cache[5, k])
        out[k] = x / (x + y)


@jit
def gaussian_posterior_sample(rng, n, reward_sum, noise_sd, prior_sd):
    """One draw of an arm's mean from its Normal posterior.

    Prior N(0, prior_sd^2) on the mean, rewards N(mean, noise_sd^2), ``n`` observations
    summing to ``reward_sum``: posterior precision 1/prior_sd^2 + n/noise_sd^2 and mean
    (reward_sum/noise_sd^2) / precision.
    """
    noise_var = noise_sd * noise_sd
    precision = 1.0 / (prior_sd * prior_sd) + n / noise_var
    mean = reward_sum / noise_var / precision
    return mean + rng.standard_normal() / math.sqrt(precision)


@jit
def categorical_sample(rng, weights):
    """Index k drawn with probability weights[k] / sum(weights); weights (n,) >= 0, sum > 0."""
    total = 0.0
    for k in range(weights.shape[0]):
        total += weights[k]
    u = rng.random() * total
    acc = 0.0
    for k in range(weights.shape[0]):
        acc += weights[k]
        if u < acc:
            return k
    # u == total only through rounding: the last arm with positive weight.
    for k in range(weights.shape[0] - 1, -1, -1):
        if weights[k] > 0.0:
            return k
    return weights.shape[0] - 1
