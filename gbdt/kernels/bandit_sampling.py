"""Random draws of bandit policies from a ``numpy.random.Generator`` passed into compiled code.

Beta draws are the ratio of two gamma draws (exact: X/(X+Y) ~ Beta(a, b) for X ~ Gamma(a),
Y ~ Gamma(b)); it is faster than ``Generator.beta`` in Numba because it skips the Johnk branch.
"""
import math

from gbdt._jit import jit


@jit
def beta_sample(rng, a, b):
    """One Beta(a, b) draw, a, b > 0."""
    x = rng.standard_gamma(a)
    y = rng.standard_gamma(b)
    return x / (x + y)


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
