"""``OffPolicyEvaluation``: several estimators of one target policy's value on the same logs, with
confidence intervals, in one table (obp's ``OffPolicyEvaluation.summarize_off_policy_estimates``).

Every estimator is one of ``bindings.bandits.off_policy``; with ``ci="bootstrap"`` (the default,
as obp) all of them are resampled on the same rows, drawn as obp draws them, so each value and
interval equals obp 0.4.1's for the same ``random_state``.
"""
import numpy as np

from bindings.bandits import off_policy as ope

__all__ = ["OffPolicyEvaluation", "ESTIMATORS"]

# name -> (estimator, needs a reward model, its parameter)
ESTIMATORS = {
    "ips": (ope.inverse_propensity_score, False, None),
    "snips": (ope.self_normalized_ips, False, None),
    "dm": (ope.direct_method, True, None),
    "dr": (ope.doubly_robust, True, None),
    "switch-dr": (ope.switch_doubly_robust, True, "tau"),
    "dros": (ope.doubly_robust_with_shrinkage, True, "shrinkage"),
    "sndr": (ope.self_normalized_doubly_robust, True, None),
    "replay": (ope.replay_method, False, None),
}
DEFAULT_ESTIMATORS = ("ips", "snips", "dm", "dr", "switch-dr", "dros", "sndr")


class OffPolicyEvaluation:
    """Estimate one target policy's value with several off-policy estimators at once.

    Parameters
    ----------
    estimators : names from ``ESTIMATORS`` ("ips", "snips", "dm", "dr", "switch-dr", "dros",
        "sndr", "replay"); the model-based ones need ``reward_model`` at ``summarize``.
    tau : Switch-DR's weight threshold (obp's ``tau``, default 1 as obp's).
    shrinkage : DRos' shrinkage (obp's ``lambda_``, default 0 as obp's, which is DM).
    """

    def __init__(self, estimators=DEFAULT_ESTIMATORS, *, tau=1.0, shrinkage=0.0):
        estimators = list(estimators)
        unknown = [name for name in estimators if name not in ESTIMATORS]
        if unknown or not estimators or len(set(estimators)) != len(estimators):
            raise ValueError(f"estimators must be distinct names from {sorted(ESTIMATORS)}, got "
                             f"{estimators!r}")
        self.estimators = estimators
        self.params = {"tau": tau, "shrinkage": shrinkage}

    def estimate(self, actions, rewards, propensities, target_probs, reward_model=None, *,
                 ci="normal", alpha=0.05):
        """{name: PolicyValueEstimate} with normal (or bootstrap, seed None) intervals."""
        return {name: self._one(name, actions, rewards, propensities, target_probs, reward_model,
                                ci=ci, alpha=alpha)
                for name in self.estimators}

    def _one(self, name, actions, rewards, propensities, target_probs, reward_model, **ci):
        estimator, model_based, param = ESTIMATORS[name]
        kwargs = dict(ci)
        if param is not None:
            kwargs[param] = self.params[param]
        if model_based:
            if reward_model is None:
                raise ValueError(f"estimator {name!r} needs reward_model (n_rounds, n_actions), "
                                 f"e.g. RegressionModel(...).fit_predict(...)")
            return estimator(actions, rewards, propensities, target_probs, reward_model, **kwargs)
        return estimator(actions, rewards, propensities, target_probs, **kwargs)

    def summarize(self, actions, rewards, propensities, target_probs, reward_model=None, *,
                  ci="bootstrap", alpha=0.05, n_bootstrap=10000, random_state=None):
        """One row per estimator: value, lower, upper of the (1 - alpha) interval, and
        relative_value = value / mean logged reward (the logging policy's on-policy value, as
        obp's relative_estimated_policy_value; NaN when that mean is <= 0).

        ci : "bootstrap" (obp's, every estimator on the same resampled rows; ``random_state`` an
        int or None) or "normal". Returns a pandas DataFrame indexed by estimator name.
        """
        import pandas as pd

        estimates = self.estimate(actions, rewards, propensities, target_probs, reward_model,
                                  ci="normal", alpha=alpha)
        if ci == "bootstrap":
            terms = np.vstack([e.round_values for e in estimates.values()])
            means = ope.bootstrap_means(terms, n_bootstrap, random_state)
            lower = np.percentile(means, 100 * alpha / 2, axis=0)
            upper = np.percentile(means, 100 * (1 - alpha / 2), axis=0)
        elif ci == "normal":
            lower = [e.lower for e in estimates.values()]
            upper = [e.upper for e in estimates.values()]
        else:
            raise ValueError(f"ci must be 'bootstrap' or 'normal', got {ci!r}")
        values = np.array([e.value for e in estimates.values()])
        logged_mean = float(np.mean(rewards))
        relative = values / logged_mean if logged_mean > 0 else np.full_like(values, np.nan)
        return pd.DataFrame({"value": values, "lower": lower, "upper": upper,
                             "relative_value": relative},
                            index=pd.Index(list(estimates), name="estimator"))
