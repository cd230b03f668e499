"""Safe deployment: high-confidence bounds on a policy's value from logged data, and a rule
that deploys a new policy only when it beats the baseline with probability >= 1 - delta.

The bounds use importance-weighted rewards X_i = w_i (r_i - low), shifted so X_i >= 0 (for the
upper bound, w_i (high - r_i)), with the weight optionally capped at ``clip``. Capping only
lowers E[X], so a lower bound on the capped mean still bounds the true value (Thomas et al.
2015, "High-confidence off-policy evaluation").

- "bernstein": the empirical Bernstein bound (Maurer & Pontil 2009, Theorem 4): for X_i in
  [0, b], with probability >= 1 - delta,
  E X >= mean - sqrt(2 var ln(2/delta) / n) - 7 b ln(2/delta) / (3 (n - 1)), var with ddof=1.
  b = clip * (high - low); without ``clip`` the largest observed weight stands in for it, which
  makes the bound data-dependent (pass ``clip`` for the guarantee).
- "bootstrap": the delta quantile of the percentile bootstrap (approximate, often tighter).
"""
from dataclasses import dataclass

import numpy as np

from bindings.bandits.off_policy import bootstrap_ratio_interval, check_logged_data
from bindings.validation import check_number, check_probability

__all__ = ["policy_value_bound", "should_deploy", "DeploymentDecision"]


@dataclass
class DeploymentDecision:
    """``deploy`` is True when new_lower > baseline_upper (each holding w.p. >= 1 - delta/2,
    or 1 - delta when the baseline value is a known number)."""

    deploy: bool
    new_lower: float
    baseline_upper: float
    delta: float
    method: str


def _shifted_terms(actions, rewards, propensities, target_probs, side, reward_range, clip):
    """(n,) non-negative terms whose mean bounds the value, the bound b of each, and the offset."""
    low, high = float(reward_range[0]), float(reward_range[1])
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"reward_range must be finite (low, high) with low < high, got "
                         f"{reward_range!r}")
    if rewards.min() < low or rewards.max() > high:
        raise ValueError(f"rewards must lie in reward_range [{low}, {high}], got values in "
                         f"[{rewards.min()}, {rewards.max()}]")
    weights = target_probs[np.arange(actions.shape[0]), actions] / propensities
    if clip is not None:
        clip = check_number(clip, "clip", low=0.0, low_open=True)
        weights = np.minimum(weights, clip)
    cap = clip if clip is not None else max(weights.max(), 1e-300)
    if side == "lower":
        return weights * (rewards - low), cap * (high - low), low, 1.0
    if side == "upper":
        return weights * (high - rewards), cap * (high - low), high, -1.0
    raise ValueError(f"side must be 'lower' or 'upper', got {side!r}")


def policy_value_bound(actions, rewards, propensities, target_probs, *, delta=0.05, side="lower",
                       method="bernstein", reward_range=(0.0, 1.0), clip=None, n_bootstrap=2000,
                       random_state=None):
    """A value the target policy's expected reward exceeds (side="lower") or stays below
    (side="upper") with probability >= 1 - delta, from logged data (see ``bindings.bandits.off_policy``
    for the arguments); rewards must lie in ``reward_range``."""
    delta = check_probability(delta, "delta", open_interval=True)
    actions, rewards, propensities, target_probs, _ = check_logged_data(
        actions, rewards, propensities, target_probs)
    terms, bound, offset, sign = _shifted_terms(actions, rewards, propensities, target_probs,
                                                side, reward_range, clip)
    n = terms.shape[0]
    if method == "bernstein":
        if n < 2:
            raise ValueError("the empirical Bernstein bound needs at least 2 logged rounds")
        log_term = np.log(2 / delta)
        margin = (np.sqrt(2 * terms.var(ddof=1) * log_term / n)
                  + 7 * bound * log_term / (3 * (n - 1)))
        term_lower = max(terms.mean() - margin, 0.0)
    elif method == "bootstrap":
        term_lower, _ = bootstrap_ratio_interval(terms, np.ones(n), 2 * delta, n_bootstrap,
                                                 random_state)
    else:
        raise ValueError(f"method must be 'bernstein' or 'bootstrap', got {method!r}")
    return float(offset + sign * term_lower)


def should_deploy(new, baseline, delta=0.05, *, actions, rewards, propensities, method="bernstein",
                  reward_range=(0.0, 1.0), clip=None, n_bootstrap=2000, random_state=None):
    """Deploy ``new`` only if its value's lower bound beats the baseline's upper bound.

    new : (n, n_actions) target probabilities of the candidate policy on the logged rounds.
    baseline : the same for the current policy, or a number (its known value, e.g. the mean
        reward it earns online). With probabilities, delta is split between the two bounds.
    """
    delta = check_probability(delta, "delta", open_interval=True)
    logged = dict(actions=actions, rewards=rewards, propensities=propensities, method=method,
                  reward_range=reward_range, clip=clip, n_bootstrap=n_bootstrap,
                  random_state=random_state)
    if np.ndim(baseline) == 0:
        if not np.isfinite(baseline):
            raise ValueError(f"baseline must be a finite value or target probabilities, got "
                             f"{baseline!r}")
        new_lower = policy_value_bound(target_probs=new, delta=delta, **logged)
        baseline_upper = float(baseline)
    else:
        new_lower = policy_value_bound(target_probs=new, delta=delta / 2, **logged)
        baseline_upper = policy_value_bound(target_probs=baseline, delta=delta / 2, side="upper",
                                            **logged)
    return DeploymentDecision(bool(new_lower > baseline_upper), new_lower, baseline_upper, delta,
                              method)
