"""Off-policy evaluation: the value of a target policy estimated from another policy's logs.

Logged data of n rounds: ``actions`` (n,) ints in [0, n_actions), ``rewards`` (n,),
``propensities`` (n,) = pi_b(a_i | x_i) of the logging policy, ``target_probs`` (n, n_actions) =
pi_e(. | x_i) of the policy to evaluate, and for model-based estimators ``reward_model``
(n, n_actions) = q_hat(x_i, a), the rewards a regression model predicts.

With importance weight w_i = pi_e(a_i | x_i) / propensities[i] (capped at ``clip`` if given):

    IPS           mean(w r)
    SNIPS         sum(w r) / sum(w)
    DM            mean(sum_a pi_e(a|x) q_hat(x, a))
    DR            DM + mean(w (r - q_hat(x, a_i)))
    Switch-DR     DM + mean(1[w <= tau] w (r - q_hat(x, a_i)))

The formulas are those of the Open Bandit Pipeline (``obp.ope``); clipping caps the weight
(obp's ``lambda_``). Each returns a ``PolicyValueEstimate`` with a confidence interval: "normal"
(central limit; the delta method for SNIPS) or "bootstrap" (percentile, rows resampled).
"""
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from bindings.validation import check_number, check_positive_int, check_probability

__all__ = ["PolicyValueEstimate", "inverse_propensity_score", "self_normalized_ips",
           "direct_method", "doubly_robust", "switch_doubly_robust", "check_logged_data"]

# Rows of target_probs must sum to 1 within this tolerance.
PROBABILITY_SUM_TOLERANCE = 1e-6
# Bootstrap resamples are drawn this many at a time to bound the (chunk, n) index matrix.
BOOTSTRAP_CHUNK = 64


@dataclass
class PolicyValueEstimate:
    """Estimated value of a target policy with a (1 - alpha) confidence interval.

    round_values (n,): per-round terms whose mean is ``value`` (for SNIPS, w r / mean(w)).
    """

    method: str
    value: float
    lower: float
    upper: float
    round_values: np.ndarray = field(repr=False)


def check_logged_data(actions, rewards, propensities, target_probs, reward_model=None):
    """Validate logged bandit data; return them as arrays (actions int64, the rest float64).

    Raises ValueError naming the argument for wrong shapes, actions out of range, NaN rewards,
    propensities outside (0, 1], and target probabilities that are not distributions.
    """
    target_probs = np.asarray(target_probs, dtype=np.float64)
    if target_probs.ndim != 2:
        raise ValueError(f"target_probs must be (n_rounds, n_actions), got shape "
                         f"{target_probs.shape}")
    n, n_actions = target_probs.shape
    actions = np.asarray(actions)
    if actions.shape != (n,):
        raise ValueError(f"actions must have shape ({n},) like target_probs' rows, got "
                         f"{actions.shape}")
    if not np.issubdtype(actions.dtype, np.integer):
        raise TypeError(f"actions must be integers, got dtype {actions.dtype}")
    if n == 0:
        raise ValueError("logged data must have at least one round")
    if actions.min() < 0 or actions.max() >= n_actions:
        raise ValueError(f"action out of range: actions must be in [0, {n_actions}), got values "
                         f"in [{actions.min()}, {actions.max()}]")
    rewards = np.asarray(rewards, dtype=np.float64)
    propensities = np.asarray(propensities, dtype=np.float64)
    for name, values in (("rewards", rewards), ("propensities", propensities)):
        if values.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), got {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} must be finite; got NaN or infinity")
    if not np.all(np.isfinite(target_probs)) or target_probs.min() < 0:
        raise ValueError("target_probs must be finite and >= 0")
    if np.abs(target_probs.sum(axis=1) - 1).max() > PROBABILITY_SUM_TOLERANCE:
        raise ValueError("target_probs rows must sum to 1 (a distribution over actions per round)")
    if propensities.min() < 0 or propensities.max() > 1:
        raise ValueError(f"propensities must be probabilities in (0, 1], got values in "
                         f"[{propensities.min()}, {propensities.max()}]")
    rows = np.arange(n)
    zero = propensities == 0
    if np.any(zero):
        mass = zero & (target_probs[rows, actions] > 0)
        where = np.flatnonzero(mass if mass.any() else zero)[0]
        raise ValueError(f"propensities must be > 0: round {where} has propensity 0"
                         + (" where the target policy puts mass on the logged action "
                            "(importance weights are undefined)" if mass.any() else ""))
    if reward_model is not None:
        reward_model = np.asarray(reward_model, dtype=np.float64)
        if reward_model.shape != (n, n_actions):
            raise ValueError(f"reward_model must be (n_rounds, n_actions) = {(n, n_actions)}, got "
                             f"{reward_model.shape}")
        if not np.all(np.isfinite(reward_model)):
            raise ValueError("reward_model must be finite; got NaN or infinity")
    return actions.astype(np.int64), rewards, propensities, target_probs, reward_model


def _importance_weights(actions, propensities, target_probs, clip):
    weights = target_probs[np.arange(actions.shape[0]), actions] / propensities
    if clip is not None:
        weights = np.minimum(weights, check_number(clip, "clip", low=0.0, low_open=True))
    return weights


def bootstrap_ratio_interval(numerator, denominator, alpha, n_bootstrap, random_state):
    """Percentile interval of sum(numerator[idx]) / sum(denominator[idx]) over resampled rows."""
    n_bootstrap = check_positive_int(n_bootstrap, "n_bootstrap")
    rng = np.random.default_rng(random_state)
    n = numerator.shape[0]
    stats = np.empty(n_bootstrap)
    for start in range(0, n_bootstrap, BOOTSTRAP_CHUNK):
        stop = min(start + BOOTSTRAP_CHUNK, n_bootstrap)
        idx = rng.integers(0, n, size=(stop - start, n))
        stats[start:stop] = numerator[idx].sum(axis=1) / denominator[idx].sum(axis=1)
    return np.quantile(stats, alpha / 2), np.quantile(stats, 1 - alpha / 2)


def _estimate(method, numerator, denominator, ci, alpha, n_bootstrap, random_state):
    """Estimate sum(numerator) / sum(denominator) with a confidence interval.

    denominator is all ones for the mean-type estimators; for SNIPS it holds the weights and the
    normal interval uses the delta method, whose influence terms are (u_i - V v_i) / mean(v).
    """
    alpha = check_probability(alpha, "alpha", open_interval=True)
    mean_denominator = denominator.mean()
    if mean_denominator <= 0:
        raise ValueError("the target policy puts no mass on any logged action: all importance "
                         "weights are 0, so the self-normalized estimate is undefined")
    value = numerator.mean() / mean_denominator
    n = numerator.shape[0]
    if ci == "normal":
        influence = (numerator - value * denominator) / mean_denominator
        sd = influence.std(ddof=1) if n > 1 else 0.0
        half = NormalDist().inv_cdf(1 - alpha / 2) * sd / np.sqrt(n)
        lower, upper = value - half, value + half
    elif ci == "bootstrap":
        lower, upper = bootstrap_ratio_interval(numerator, denominator, alpha, n_bootstrap,
                                                random_state)
    else:
        raise ValueError(f"ci must be 'normal' or 'bootstrap', got {ci!r}")
    round_values = numerator / mean_denominator
    return PolicyValueEstimate(method, float(value), float(lower), float(upper), round_values)


def inverse_propensity_score(actions, rewards, propensities, target_probs, *, clip=None,
                             ci="normal", alpha=0.05, n_bootstrap=2000, random_state=None):
    """IPS estimate mean(w r); with ``clip`` the weights are capped (clipped IPS).

    Unbiased when every propensity is the true logging probability and no clip binds.
    """
    actions, rewards, propensities, target_probs, _ = check_logged_data(
        actions, rewards, propensities, target_probs)
    weights = _importance_weights(actions, propensities, target_probs, clip)
    method = "ips" if clip is None else "clipped-ips"
    return _estimate(method, weights * rewards, np.ones_like(weights), ci, alpha, n_bootstrap,
                     random_state)


def self_normalized_ips(actions, rewards, propensities, target_probs, *, ci="normal", alpha=0.05,
                        n_bootstrap=2000, random_state=None):
    """SNIPS estimate sum(w r) / sum(w): biased but consistent, bounded by the reward range."""
    actions, rewards, propensities, target_probs, _ = check_logged_data(
        actions, rewards, propensities, target_probs)
    weights = _importance_weights(actions, propensities, target_probs, None)
    return _estimate("snips", weights * rewards, weights, ci, alpha, n_bootstrap, random_state)


def _model_value(target_probs, reward_model):
    """(n,) expected modelled reward under the target policy, sum_a pi_e(a|x) q_hat(x, a)."""
    return np.einsum("ij,ij->i", target_probs, reward_model)


def direct_method(actions, rewards, propensities, target_probs, reward_model, *, ci="normal",
                  alpha=0.05, n_bootstrap=2000, random_state=None):
    """DM estimate mean(sum_a pi_e(a|x) q_hat(x, a)): low variance, biased by the model's error."""
    _, _, _, target_probs, reward_model = check_logged_data(
        actions, rewards, propensities, target_probs, reward_model)
    terms = _model_value(target_probs, reward_model)
    return _estimate("dm", terms, np.ones_like(terms), ci, alpha, n_bootstrap, random_state)


def _doubly_robust_terms(actions, rewards, propensities, target_probs, reward_model, clip):
    """(n,) DR terms and (n,) importance weights."""
    weights = _importance_weights(actions, propensities, target_probs, clip)
    residual = rewards - reward_model[np.arange(actions.shape[0]), actions]
    return _model_value(target_probs, reward_model), weights, residual


def doubly_robust(actions, rewards, propensities, target_probs, reward_model, *, clip=None,
                  ci="normal", alpha=0.05, n_bootstrap=2000, random_state=None):
    """DR estimate DM + mean(w (r - q_hat(x, a_i))): unbiased if either the propensities or the
    reward model are right; ``clip`` caps the weights."""
    actions, rewards, propensities, target_probs, reward_model = check_logged_data(
        actions, rewards, propensities, target_probs, reward_model)
    model_value, weights, residual = _doubly_robust_terms(
        actions, rewards, propensities, target_probs, reward_model, clip)
    terms = model_value + weights * residual
    method = "dr" if clip is None else "clipped-dr"
    return _estimate(method, terms, np.ones_like(terms), ci, alpha, n_bootstrap, random_state)


def switch_doubly_robust(actions, rewards, propensities, target_probs, reward_model, *, tau,
                         ci="normal", alpha=0.05, n_bootstrap=2000, random_state=None):
    """Switch-DR (Wang et al. 2017): the DR correction only where the weight is <= ``tau``,
    the model alone elsewhere. tau = inf is DR; tau = 0 is DM."""
    if tau != np.inf:  # inf is DR, a value check_number refuses as non-finite
        tau = check_number(tau, "tau", low=0.0)
    actions, rewards, propensities, target_probs, reward_model = check_logged_data(
        actions, rewards, propensities, target_probs, reward_model)
    model_value, weights, residual = _doubly_robust_terms(
        actions, rewards, propensities, target_probs, reward_model, None)
    terms = model_value + (weights <= tau) * weights * residual
    return _estimate("switch-dr", terms, np.ones_like(terms), ci, alpha, n_bootstrap, random_state)
