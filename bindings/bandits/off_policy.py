"""Off-policy evaluation: the value of a target policy estimated from another policy's logs.

Logged data of n rounds: ``actions`` (n,) ints in [0, n_actions), ``rewards`` (n,),
``propensities`` (n,) = pi_b(a_i | x_i) of the logging policy (a policy's
``action_probabilities`` at the time it chose), ``target_probs`` (n, n_actions) = pi_e(. | x_i) of
the policy to evaluate, and for model-based estimators ``reward_model`` (n, n_actions) =
q_hat(x_i, a), the rewards a regression model predicts (``bindings.bandits.RegressionModel``).

With importance weight w_i = pi_e(a_i | x_i) / propensities[i] (capped at ``clip`` if given),
residual e_i = r_i - q_hat(x_i, a_i) and model value m_i = sum_a pi_e(a|x_i) q_hat(x_i, a):

    IPS           mean(w r)
    SNIPS         sum(w r) / sum(w)
    DM            mean(m)
    DR            mean(m + w e)
    Switch-DR     mean(m + 1[w <= tau] w e)                       (Wang et al. 2017)
    DRos          mean(m + shrinkage w / (w^2 + shrinkage) e)      (Su et al. 2020)
    SNDR          mean(m) + sum(w e) / sum(w)
    Replay        mean of r over the rounds where a deterministic target plays a_i (Li et al. 2011)

The formulas and per-round terms are those of the Open Bandit Pipeline 0.4.1 (``obp.ope``; its
Switch-DR ``tau``, DRos ``lambda_`` = our ``shrinkage``); clipping caps the weight. Each returns a
``PolicyValueEstimate`` with a (1 - alpha) confidence interval: "normal" (central limit on the
influence terms; the delta method for the self-normalised estimators) or "bootstrap": obp's
percentile bootstrap of the per-round terms, resampled by ``numpy.random.RandomState(random_state)``
in obp's order, so the interval equals obp's ``estimate_interval`` for the same seed.
"""
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from bindings.bandits.checks import check_random_seed
from bindings.validation import check_positive_int, check_probability

__all__ = ["PolicyValueEstimate", "inverse_propensity_score", "self_normalized_ips",
           "direct_method", "doubly_robust", "switch_doubly_robust",
           "doubly_robust_with_shrinkage", "self_normalized_doubly_robust", "replay_method",
           "check_logged_data", "bootstrap_interval"]

# Rows of target_probs must sum to 1 within this tolerance.
PROBABILITY_SUM_TOLERANCE = 1e-6
# Bootstrap resamples are drawn this many at a time to bound the (chunk, n) index matrix.
BOOTSTRAP_CHUNK = 64


@dataclass
class PolicyValueEstimate:
    """Estimated value of a target policy with a (1 - alpha) confidence interval.

    round_values (n,): per-round terms whose mean is ``value`` (obp's estimated round rewards;
    for SNIPS w r / mean(w)).
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
        if not (np.isfinite(clip) and clip > 0):
            raise ValueError(f"clip must be a positive number (cap of the importance weight), "
                             f"got {clip!r}")
        weights = np.minimum(weights, clip)
    return weights


def bootstrap_means(round_values, n_bootstrap, random_state):
    """(n_bootstrap, E) means of resampled rows of ``round_values`` (n,) or (E, n), rows drawn
    as obp draws them: ``RandomState(random_state).choice`` of n rows per resample, in order.

    All E series share the resampled rows, as obp's estimators do when given one seed.
    """
    n_bootstrap = check_positive_int(n_bootstrap, "n_bootstrap")
    values = np.atleast_2d(round_values)
    n = values.shape[1]
    # RandomState.choice(n values, size=n) draws randint(0, n, size=n); one (chunk, n) draw
    # continues the same stream as chunk calls of size n.
    rng = np.random.RandomState(check_random_seed(random_state))
    means = np.empty((n_bootstrap, values.shape[0]))
    for start in range(0, n_bootstrap, BOOTSTRAP_CHUNK):
        stop = min(start + BOOTSTRAP_CHUNK, n_bootstrap)
        rows = rng.randint(0, n, size=(stop - start, n))
        for e in range(values.shape[0]):
            means[start:stop, e] = values[e].take(rows).mean(axis=1)
    return means


def bootstrap_interval(round_values, alpha=0.05, n_bootstrap=10000, random_state=None):
    """(lower, upper): obp's percentile bootstrap interval of the mean of (n,) ``round_values``."""
    means = bootstrap_means(round_values, n_bootstrap, random_state)[:, 0]
    lower, upper = np.percentile(means, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lower), float(upper)


def _estimate(method, round_values, influence, ci, alpha, n_bootstrap, random_state):
    """A PolicyValueEstimate of mean(round_values); ``influence`` (n,) are the terms whose
    standard deviation / sqrt(n) is the standard error (round_values for plain means)."""
    check_probability(alpha, "alpha", open_interval=True)
    value = float(round_values.mean())
    n = round_values.shape[0]
    if ci == "normal":
        sd = influence.std(ddof=1) if n > 1 else 0.0
        half = NormalDist().inv_cdf(1 - alpha / 2) * sd / np.sqrt(n)
        lower, upper = value - half, value + half
    elif ci == "bootstrap":
        lower, upper = bootstrap_interval(round_values, alpha, n_bootstrap, random_state)
    else:
        raise ValueError(f"ci must be 'normal' or 'bootstrap', got {ci!r}")
    return PolicyValueEstimate(method, value, float(lower), float(upper), round_values)


def _mean_estimate(method, round_values, ci, alpha, n_bootstrap, random_state):
    return _estimate(method, round_values, round_values, ci, alpha, n_bootstrap, random_state)


def _self_normalized_terms(terms, weights):
    """Round values terms / mean(weights) and the delta method's influence terms
    (terms - V weights) / mean(weights) of V = sum(terms) / sum(weights)."""
    mean_weight = weights.mean()
    if mean_weight <= 0:
        raise ValueError("the target policy puts no mass on any logged action: all importance "
                         "weights are 0, so the self-normalized estimate is undefined")
    value = terms.sum() / weights.sum()
    return terms / mean_weight, (terms - value * weights) / mean_weight


def inverse_propensity_score(actions, rewards, propensities, target_probs, *, clip=None,
                             ci="normal", alpha=0.05, n_bootstrap=10000, random_state=None):
    """IPS estimate mean(w r); with ``clip`` the weights are capped (clipped IPS).

    Unbiased when every propensity is the true logging probability and no clip binds.
    """
    actions, rewards, propensities, target_probs, _ = check_logged_data(
        actions, rewards, propensities, target_probs)
    weights = _importance_weights(actions, propensities, target_probs, clip)
    method = "ips" if clip is None else "clipped-ips"
    return _mean_estimate(method, weights * rewards, ci, alpha, n_bootstrap, random_state)


def self_normalized_ips(actions, rewards, propensities, target_probs, *, ci="normal", alpha=0.05,
                        n_bootstrap=10000, random_state=None):
    """SNIPS estimate sum(w r) / sum(w): biased but consistent, bounded by the reward range."""
    actions, rewards, propensities, target_probs, _ = check_logged_data(
        actions, rewards, propensities, target_probs)
    weights = _importance_weights(actions, propensities, target_probs, None)
    round_values, influence = _self_normalized_terms(weights * rewards, weights)
    return _estimate("snips", round_values, influence, ci, alpha, n_bootstrap, random_state)


def _model_value(target_probs, reward_model):
    """(n,) expected modelled reward under the target policy, sum_a pi_e(a|x) q_hat(x, a)."""
    return np.einsum("ij,ij->i", target_probs, reward_model)


def direct_method(actions, rewards, propensities, target_probs, reward_model, *, ci="normal",
                  alpha=0.05, n_bootstrap=10000, random_state=None):
    """DM estimate mean(sum_a pi_e(a|x) q_hat(x, a)): low variance, biased by the model's error."""
    _, _, _, target_probs, reward_model = check_logged_data(
        actions, rewards, propensities, target_probs, reward_model)
    return _mean_estimate("dm", _model_value(target_probs, reward_model), ci, alpha, n_bootstrap,
                          random_state)


def _doubly_robust_terms(actions, rewards, propensities, target_probs, reward_model, clip):
    """Checked inputs -> (n,) model values m, (n,) importance weights w and (n,) residuals e."""
    actions, rewards, propensities, target_probs, reward_model = check_logged_data(
        actions, rewards, propensities, target_probs, reward_model)
    weights = _importance_weights(actions, propensities, target_probs, clip)
    residual = rewards - reward_model[np.arange(actions.shape[0]), actions]
    return _model_value(target_probs, reward_model), weights, residual


def doubly_robust(actions, rewards, propensities, target_probs, reward_model, *, clip=None,
                  ci="normal", alpha=0.05, n_bootstrap=10000, random_state=None):
    """DR estimate mean(m + w (r - q_hat(x, a_i))): unbiased if either the propensities or the
    reward model are right; ``clip`` caps the weights."""
    model_value, weights, residual = _doubly_robust_terms(
        actions, rewards, propensities, target_probs, reward_model, clip)
    method = "dr" if clip is None else "clipped-dr"
    return _mean_estimate(method, model_value + weights * residual, ci, alpha, n_bootstrap,
                          random_state)


def switch_doubly_robust(actions, rewards, propensities, target_probs, reward_model, *, tau,
                         ci="normal", alpha=0.05, n_bootstrap=10000, random_state=None):
    """Switch-DR (Wang et al. 2017): the DR correction only where the weight is <= ``tau``,
    the model alone elsewhere. tau = inf is DR; tau = 0 is DM (obp's ``tau``)."""
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau >= 0:
        raise ValueError(f"tau must be a number >= 0 (the weight above which DM is used), got "
                         f"{tau!r}")
    model_value, weights, residual = _doubly_robust_terms(
        actions, rewards, propensities, target_probs, reward_model, None)
    return _mean_estimate("switch-dr", model_value + (weights <= tau) * weights * residual, ci,
                          alpha, n_bootstrap, random_state)


def doubly_robust_with_shrinkage(actions, rewards, propensities, target_probs, reward_model, *,
                                 shrinkage, ci="normal", alpha=0.05, n_bootstrap=10000,
                                 random_state=None):
    """DRos (Su et al. 2020, optimistic shrinkage): DR with the weight shrunk to
    shrinkage w / (w^2 + shrinkage), which is <= min(w, sqrt(shrinkage) / 2). shrinkage = 0 is DM,
    shrinkage = inf is DR (obp's ``lambda_``)."""
    if isinstance(shrinkage, bool) or not isinstance(shrinkage, (int, float)) or not shrinkage >= 0:
        raise ValueError(f"shrinkage must be a number >= 0 (obp's lambda_), got {shrinkage!r}")
    model_value, weights, residual = _doubly_robust_terms(
        actions, rewards, propensities, target_probs, reward_model, None)
    if shrinkage == 0:
        shrunk = np.zeros_like(weights)
    elif np.isinf(shrinkage):
        shrunk = weights
    else:
        shrunk = shrinkage * weights / (weights ** 2 + shrinkage)
    return _mean_estimate("dros", model_value + shrunk * residual, ci, alpha, n_bootstrap,
                          random_state)


def self_normalized_doubly_robust(actions, rewards, propensities, target_probs, reward_model, *,
                                  ci="normal", alpha=0.05, n_bootstrap=10000, random_state=None):
    """SNDR: mean(m) + sum(w e) / sum(w), DR whose correction is self-normalised."""
    model_value, weights, residual = _doubly_robust_terms(
        actions, rewards, propensities, target_probs, reward_model, None)
    correction, influence = _self_normalized_terms(weights * residual, weights)
    return _estimate("sndr", model_value + correction, model_value + influence, ci, alpha,
                     n_bootstrap, random_state)


def replay_method(actions, rewards, propensities, target_probs, *, ci="normal", alpha=0.05,
                  n_bootstrap=10000, random_state=None):
    """Replay (Li et al. 2011): the mean reward of the rounds where a deterministic target policy
    (one-hot ``target_probs``) plays the logged action; unbiased under uniform logging."""
    actions, rewards, propensities, target_probs, _ = check_logged_data(
        actions, rewards, propensities, target_probs)
    if not np.all((target_probs == 0) | (target_probs == 1)):
        raise ValueError("replay_method needs a deterministic target policy: every row of "
                         "target_probs one-hot")
    match = target_probs[np.arange(actions.shape[0]), actions]
    if not match.any():
        raise ValueError("replay_method: the target policy plays the logged action in no round")
    round_values, influence = _self_normalized_terms(match * rewards, match)
    return _estimate("replay", round_values, influence, ci, alpha, n_bootstrap, random_state)
