"""Argument checks of the bandit modules' own data (rewards, contexts, seeds); scalar parameters go
through ``bindings.validation``. Each returns the clean value or raises a TypeError/ValueError that
names the argument and says what was expected."""
import numbers

import numpy as np


__all__ = ["check_rewards", "check_contexts", "check_random_seed"]


def check_rewards(rewards, n, reward_bounds):
    """(n,) float64 finite rewards within ``reward_bounds`` (low, high)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    if rewards.shape != (n,):
        raise ValueError(f"arms and rewards must be 1-d of equal length, got {n} arms and "
                         f"rewards of shape {rewards.shape}")
    if not np.all(np.isfinite(rewards)):
        raise ValueError("reward must be finite; got NaN or infinity")
    low, high = reward_bounds
    if rewards.size and (rewards.min() < low or rewards.max() > high):
        raise ValueError(f"reward must be in [{low}, {high}] for this policy, got values in "
                         f"[{rewards.min()}, {rewards.max()}]")
    return rewards


def check_contexts(contexts, n_features, n_rows=None):
    """Contexts as a C-contiguous finite (n, n_features) float64 array; n_rows checks n."""
    if contexts is None:
        raise ValueError(f"this policy needs contexts of {n_features} features, got None")
    contexts = np.asarray(contexts, dtype=np.float64)
    if contexts.ndim == 1:
        contexts = contexts.reshape(1, -1)
    if contexts.ndim != 2 or contexts.shape[1] != n_features:
        raise ValueError(f"context must have {n_features} features (shape (n, {n_features})), "
                         f"got shape {contexts.shape}")
    if n_rows is not None and contexts.shape[0] != n_rows:
        raise ValueError(f"contexts must have one row per round ({n_rows}), got "
                         f"{contexts.shape[0]}")
    if not np.all(np.isfinite(contexts)):
        raise ValueError("context must be finite; got NaN or infinity")
    return np.ascontiguousarray(contexts)


def check_random_seed(random_state, name="random_state"):
    """An int >= 0 or None, the seeds ``numpy.random.RandomState`` takes as obp does."""
    if random_state is None:
        return None
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral) \
            or random_state < 0:
        raise ValueError(f"{name} must be None or an integer >= 0, got {random_state!r}")
    return int(random_state)
