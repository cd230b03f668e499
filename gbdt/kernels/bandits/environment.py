"""Reward environments of bandit simulations as plain arrays.

Non-contextual arms: the mean of arm k at round t (0-based) is

    means_table[s, k] + drift[0, k] * sin(2 pi t / drift[1, k] + drift[2, k])

where segment s is the last with ``change_times[s] <= t`` (change_times (S,) int64, sorted,
change_times[0] = 0) and ``drift`` (3, n_arms) holds amplitude, period (rounds), phase.
Stationary arms: S = 1 and zero amplitude; abruptly changing: S > 1; slowly drifting: amplitude > 0.
Bernoulli arms clip the mean into [0, 1] and pay 0/1; Gaussian arms add N(0, noise_sd^2).

Linear contextual arms: context x ~ N(0, I_d), mean reward of arm k is x . theta[k].
"""
import math

from gbdt._jit import jit


@jit
def segment_at(change_times, t):
    """Index of the last segment starting at or before round ``t``."""
    s = 0
    while s + 1 < change_times.shape[0] and change_times[s + 1] <= t:
        s += 1
    return s


@jit
def arm_means_at(t, change_times, means_table, drift, bernoulli, out):
    """Fill ``out`` (n_arms,) with every arm's expected reward at round ``t``."""
    s = segment_at(change_times, t)
    for k in range(out.shape[0]):
        mean = means_table[s, k]
        if drift[0, k] != 0.0:
            mean += drift[0, k] * math.sin(2.0 * math.pi * t / drift[1, k] + drift[2, k])
        if bernoulli:
            mean = min(max(mean, 0.0), 1.0)
        out[k] = mean


@jit
def draw_reward(rng, mean, bernoulli, noise_sd):
    """One reward of mean ``mean``: Bernoulli(mean), or mean + N(0, noise_sd^2)."""
    if bernoulli:
        return 1.0 if rng.random() < mean else 0.0
    return mean + noise_sd * rng.standard_normal()


@jit
def linear_means(theta, x, out):
    """Fill ``out`` (n_arms,) with x . theta[k]; theta (n_arms, d), x (d,)."""
    for k in range(theta.shape[0]):
        acc = 0.0
        for j in range(x.shape[0]):
            acc += theta[k, j] * x[j]
        out[k] = acc
