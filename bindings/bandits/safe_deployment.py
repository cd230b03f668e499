"""Safe deployment: high-confidence bounds on a policy's value from logged data, and a rule
that deploys a new policy only when it beats the baseline with probability >= 1 - delta.

The bounds use importance-weighted rewards X_i = w_i (r_i - low), shifted so X_i >= 0 (for the
upper bound, w_i (high - r_i)). Their mean is the value (minus ``low``) whenever the propensities
are the logging policy's; capping the weight at ``clip`` only lowers E[X], so a lower bound on
the capped mean still bounds the true value (Thomas et al. 2015, "High-confidence off-policy
evaluation").

- "bernstein": the empirical Bernstein bound (Maurer & Pontil 2009, Theorem 4): for independent
  X_i in [0, b] with a common mean, with probability >= 1 - delta,
  E X >= mean - sqrt(2 var ln(2/delta) / n) - 7 b ln(2/delta) / (3 (n - 1)), var with ddof=1.
  The range b must be known before the actions and rewards are drawn, never read off them (the
  largest observed weight would make the bound data-dependent and void its guarantee). It is
  (high - low) times a weight range W from, in order of precedence:
    ``clip``          W = clip, the weights capped there;
    ``weight_bound``  W given by the caller (an error if a logged weight exceeds it);
    ``logging_probs`` (n, n_actions) the logging policy's action probabilities on each logged
                      round (``Policy.action_probabilities``): W = the largest
                      pi_e(a|x_i) / pi_b(a|x_i) over every round and every action, played or not,
                      which the policies fix before any action is drawn.
  Without any of them the Bernstein bound refuses (ValueError).
- "bootstrap": the delta quantile of the percentile bootstrap (approximate, often tighter; needs
  no range).
"""
from dataclasses import dataclass

import numpy as np

from bindings.bandits.off_policy import PROBABILITY_SUM_TOLERANCE, bootstrap_interval, check_logged_data
from bindings.validation import check_probability

__all__ = ["policy_value_bound", "should_deploy", "DeploymentDecision", "importance_weight_range"]

# Logged propensities must equal logging_probs at the logged actions within this tolerance.
PROPENSITY_TOLERANCE = 1e-9


@dataclass
class DeploymentDecision:
    """``deploy`` is True when new_lower > baseline_upper (each holding w.p. >= 1 - delta/2,
    or 1 - delta when the baseline value is a known number)."""

    deploy: bool
    new_lower: float
    baseline_upper: float
    delta: float
    method: str


def importance_weight_range(target_probs, logging_probs, propensities=None, actions=None):
    """Largest importance weight pi_e(a|x_i) / pi_b(a|x_i) over all rounds i and actions a.

    target_probs, logging_probs : (n, n_actions) the two policies' probabilities on the logged
    rounds. Given ``propensities`` and ``actions`` (n,), checks that the logged propensities are
    logging_probs' at the logged actions. Raises ValueError where the logging policy gives
    probability 0 to an action the target plays (no finite range: the logs cannot evaluate it).
    """
    logging_probs = np.asarray(logging_probs, dtype=np.float64)
    if logging_probs.shape != target_probs.shape:
        raise ValueError(f"logging_probs must be (n_rounds, n_actions) = {target_probs.shape} like "
                         f"target_probs, got {logging_probs.shape}")
    if (not np.all(np.isfinite(logging_probs)) or logging_probs.min() < 0
            or np.abs(logging_probs.sum(axis=1) - 1).max() > PROBABILITY_SUM_TOLERANCE):
        raise ValueError("logging_probs rows must be probability distributions over the actions")
    if propensities is not None:
        logged = logging_probs[np.arange(actions.shape[0]), actions]
        if np.abs(logged - propensities).max() > PROPENSITY_TOLERANCE:
            raise ValueError("propensities must be logging_probs at the logged actions; they "
                             "differ, so one of them is not the logging policy's")
    unsupported = (logging_probs == 0) & (target_probs > 0)
    if unsupported.any():
        row = int(np.flatnonzero(unsupported.any(axis=1))[0])
        raise ValueError(f"round {row}: the target policy plays an action the logging policy "
                         f"never plays, so the importance weights have no finite range")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(target_probs > 0, target_probs / logging_probs, 0.0)
    return float(ratios.max())


def _weight_range(actions, propensities, target_probs, weights, clip, weight_bound, logging_probs,
                  method):
    """The known range W of the (possibly capped) weights, or None for the bootstrap."""
    if clip is not None:
        return float(clip)
    if weight_bound is not None:
        if not (np.isfinite(weight_bound) and weight_bound > 0):
            raise ValueError(f"weight_bound must be a positive number, got {weight_bound!r}")
        if weights.max() > weight_bound * (1 + PROPENSITY_TOLERANCE):
            raise ValueError(f"a logged importance weight ({weights.max():.6g}) exceeds "
                             f"weight_bound ({weight_bound}): the bound is not a bound")
        return float(weight_bound)
    if logging_probs is not None:
        return importance_weight_range(target_probs, logging_probs, propensities, actions)
    if method == "bernstein":
        raise ValueError("the empirical Bernstein bound needs the range of the importance weights "
                         "known in advance: pass logging_probs (the logging policy's "
                         "action_probabilities on the logged rounds), weight_bound, or clip; "
                         "the largest observed weight would void its guarantee")
    return None


def policy_value_bound(actions, rewards, propensities, target_probs, *, delta=0.05, side="lower",
                       method="bernstein", reward_range=(0.0, 1.0), logging_probs=None,
                       weight_bound=None, clip=None, n_bootstrap=2000, random_state=None):
    """A value the target policy's expected reward exceeds (side="lower") or stays below
    (side="upper") with probability >= 1 - delta, from logged data.

    actions, rewards, propensities (n,), target_probs (n, n_actions): as in
    ``bindings.bandits.off_policy``; rewards must lie in ``reward_range``. logging_probs
    (n, n_actions), weight_bound or clip give the weight range the Bernstein bound needs (see the
    module docstring); random_state seeds the bootstrap (int or None).
    """
    delta = check_probability(delta, "delta", open_interval=True)
    actions, rewards, propensities, target_probs, _ = check_logged_data(
        actions, rewards, propensities, target_probs)
    low, high = float(reward_range[0]), float(reward_range[1])
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"reward_range must be finite (low, high) with low < high, got "
                         f"{reward_range!r}")
    if rewards.min() < low or rewards.max() > high:
        raise ValueError(f"rewards must lie in reward_range [{low}, {high}], got values in "
                         f"[{rewards.min()}, {rewards.max()}]")
    if side not in ("lower", "upper"):
        raise ValueError(f"side must be 'lower' or 'upper', got {side!r}")
    if method not in ("bernstein", "bootstrap"):
        raise ValueError(f"method must be 'bernstein' or 'bootstrap', got {method!r}")
    weights = target_probs[np.arange(actions.shape[0]), actions] / propensities
    if clip is not None:
        if not (np.isfinite(clip) and clip > 0):
            raise ValueError(f"clip must be a positive number, got {clip!r}")
        weights = np.minimum(weights, clip)
    weight_range = _weight_range(actions, propensities, target_probs, weights, clip, weight_bound,
                                 logging_probs, method)
    offset, sign = (low, 1.0) if side == "lower" else (high, -1.0)
    terms = weights * sign * (rewards - offset)
    n = terms.shape[0]
    if method == "bernstein":
        if n < 2:
            raise ValueError("the empirical Bernstein bound needs at least 2 logged rounds")
        log_term = np.log(2 / delta)
        margin = (np.sqrt(2 * terms.var(ddof=1) * log_term / n)
                  + 7 * weight_range * (high - low) * log_term / (3 * (n - 1)))
        term_lower = max(terms.mean() - margin, 0.0)
    else:
        term_lower, _ = bootstrap_interval(terms, 2 * delta, n_bootstrap, random_state)
    return float(offset + sign * term_lower)


def should_deploy(new, baseline, delta=0.05, *, actions, rewards, propensities, logging_probs=None,
                  weight_bound=None, method="bernstein", reward_range=(0.0, 1.0), clip=None,
                  n_bootstrap=2000, random_state=None):
    """Deploy ``new`` only if its value's lower bound beats the baseline's upper bound.

    new : (n, n_actions) target probabilities of the candidate policy on the logged rounds.
    baseline : the same for the current policy, or a number (its known value, e.g. the mean
        reward it earns online). With probabilities, delta is split between the two bounds.
    logging_probs (n, n_actions), weight_bound, clip : the weight range of the Bernstein bound
        (``policy_value_bound``).
    """
    delta = check_probability(delta, "delta", open_interval=True)
    logged = dict(actions=actions, rewards=rewards, propensities=propensities,
                  logging_probs=logging_probs, weight_bound=weight_bound, method=method,
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
