"""Random draws of bandit policies from a ``numpy.random.Generator`` passed into compiled code.

Beta draws are the ratio of two gamma draws (exact: X/(X+Y) ~ Beta(a, b) for X ~ Gamma(a),
Y ~ Gamma(b)); with our own Marsaglia-Tsang gamma for shapes >= 1 (every Beta-Thompson shape is
1 + counts) a 10-armed Thompson round costs about half of ``Generator.beta`` in Numba.
"""
import math

from gbdt._jit import jit


@jit
def gamma_sample(rng, shape):
    """One Gamma(shape, 1) draw, shape > 0.

    Shape >= 1: Marsaglia & Tsang (2000) squeeze-and-reject, one normal and one uniform per try
    (accepts ~98% of tries at once); the parameters are inlined rather than called through
    ``Generator.standard_gamma``, which is the hot spot of Thompson sampling. Shape < 1 goes to
    the Generator.
    """
    if shape < 1.0:
        return rng.standard_gamma(shape)
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
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
def beta_sample(rng, a, b):
    """One Beta(a, b) draw, a, b > 0."""
    x = gamma_sample(rng, a)
    y = gamma_sample(rng, b)
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
