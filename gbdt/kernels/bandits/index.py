"""Optimistic indices of one arm: UCB1 (also discounted / sliding-window), UCB-V and KL-UCB.

Each takes the arm's statistics (pulls ``n`` > 0, reward sum, squared-reward sum) and
``log_total`` = log of the pulls of all arms, and returns the index as float64. Rewards
are assumed in [0, ``reward_range``] (UCB-V) or [0, 1] (KL-UCB).
"""
import math

from gbdt._jit import jit

# KL-UCB's Newton iteration stops when its step is this small (far below any gap between means).
KL_UCB_TOLERANCE = 1e-12
KL_UCB_MAX_STEPS = 100


@jit
def ucb_index(n, reward_sum, log_total, explore):
    """UCB1 (Auer et al. 2002): mean + explore * sqrt(2 log_total / n).

    With discounted ``n`` and ``log_total`` it is D-UCB (Garivier & Moulines 2011); with
    windowed ones, SW-UCB.
    """
    return reward_sum / n + explore * math.sqrt(2.0 * max(log_total, 0.0) / n)


@jit
def ucbv_index(n, reward_sum, reward_sq_sum, log_total, explore, reward_range):
    """UCB-V (Audibert, Munos & Szepesvari 2009) with exploration function E = explore * log_total.

    mean + sqrt(2 var E / n) + 3 reward_range E / n, var the biased empirical variance.
    """
    mean = reward_sum / n
    var = max(reward_sq_sum / n - mean * mean, 0.0)
    exploration = explore * max(log_total, 0.0)
    return mean + math.sqrt(2.0 * var * exploration / n) + 3.0 * reward_range * exploration / n


@jit
def bernoulli_kl(p, q):
    """KL divergence KL(Bernoulli(p) || Bernoulli(q)) in nats; p, q clipped into (0, 1)."""
    eps = 1e-15
    p = min(max(p, eps), 1.0 - eps)
    q = min(max(q, eps), 1.0 - eps)
    return p * math.log(p / q) + (1.0 - p) * math.log((1.0 - p) / (1.0 - q))


@jit
def klucb_index(n, reward_sum, log_total, explore):
    """KL-UCB (Garivier & Cappe 2011) for rewards in [0, 1].

    The largest q in [mean, 1] with n * KL(mean, q) <= log t + explore * log log t,
    where log_total = log t. Newton's method on the convex, increasing
    f(q) = KL(mean, q) - budget, started right of the root at Pinsker's bound
    (KL(p, q) >= 2 (p - q)^2), descends monotonically onto it, so the result never
    undercuts the exact index by more than the tolerance.
    """
    mean = min(max(reward_sum / n, 0.0), 1.0)
    log_log = math.log(log_total) if log_total > 1.0 else 0.0
    budget = max(log_total + explore * log_log, 0.0) / n
    q = mean + math.sqrt(0.5 * budget)
    if q >= 1.0:
        if bernoulli_kl(mean, 1.0) <= budget:
            return 1.0
        q = 1.0 - 1e-12
    for _ in range(KL_UCB_MAX_STEPS):
        excess = bernoulli_kl(mean, q) - budget
        if excess <= 0.0 or q <= mean:
            break
        step = excess * q * (1.0 - q) / (q - mean)
        q -= step
        if step < KL_UCB_TOLERANCE:
            break
    return max(q, mean)
