"""``RegressionModel``: the reward model q_hat(x, a) of the model-based off-policy estimators
(DM, DR, Switch-DR, DRos, SNDR), fitted by any scikit-learn style regressor, cross-fitted so that
no round is predicted by a model that saw it (obp's ``RegressionModel``; Narita et al. 2020).

Features of (x, a) are the context followed by the action's row of ``action_context``
(one-hot by default), as obp builds them, so the same base model on the same folds gives obp's
predictions. A classifier (``predict_proba``) models binary rewards by P(reward = 1).
Fitting methods (obp's): "normal" (plain least squares), "iw" (rows weighted by the importance
weight pi_e(a|x) / pi_b(a|x)) and "mrdr" (weights pi_e(a|x) (1 - pi_b(a|x)) / pi_b(a|x)^2, the
"more robust doubly robust" choice of Farajtabar et al. 2018).
"""
import copy

import numpy as np

from bindings.bandits.checks import check_contexts
from bindings.validation import check_positive_int
from bindings.cv import resolve_folds

__all__ = ["RegressionModel"]

FITTING_METHODS = ("normal", "iw", "mrdr")


def _is_classifier(model):
    try:
        from sklearn.base import is_classifier
    except ImportError:  # without scikit-learn, no model is a scikit-learn classifier
        return False
    return is_classifier(model)


class RegressionModel:
    """Reward model over (context, action) features, fitted by a copy of ``base_model``.

    Parameters
    ----------
    base_model : any object with ``fit(X, y[, sample_weight])`` and ``predict(X)`` (or
        ``predict_proba`` for a classifier), e.g. ``bindings.GBDTRegressor`` or a scikit-learn
        regressor; it is copied, never fitted itself.
    n_actions : number of actions.
    action_context : (n_actions, d_a) features of each action (default: the identity, one-hot).
    fitting_method : "normal", "iw" or "mrdr" (module docstring).
    """

    def __init__(self, base_model, n_actions, *, action_context=None, fitting_method="normal"):
        if not (callable(getattr(base_model, "fit", None))
                and callable(getattr(base_model, "predict", None))):
            raise TypeError(f"base_model must have fit(X, y) and predict(X) methods, got "
                            f"{type(base_model).__name__}")
        self.base_model = base_model
        self.n_actions = check_positive_int(n_actions, "n_actions")
        if action_context is None:
            action_context = np.eye(self.n_actions)
        action_context = np.asarray(action_context, dtype=np.float64)
        if action_context.ndim != 2 or action_context.shape[0] != self.n_actions:
            raise ValueError(f"action_context must be (n_actions, d) = ({self.n_actions}, d), got "
                             f"shape {action_context.shape}")
        self.action_context = action_context
        if fitting_method not in FITTING_METHODS:
            raise ValueError(f"fitting_method must be one of {FITTING_METHODS}, got "
                             f"{fitting_method!r}")
        self.fitting_method = fitting_method

    def _check(self, contexts, actions, rewards, propensities, target_probs):
        if np.ndim(contexts) != 2:
            raise ValueError(f"contexts must be (n_rounds, n_features), got shape "
                             f"{np.shape(contexts)}")
        contexts = check_contexts(contexts, np.shape(contexts)[1])
        n = contexts.shape[0]
        actions = np.asarray(actions)
        if actions.shape != (n,) or (n and not np.issubdtype(actions.dtype, np.integer)):
            raise ValueError(f"actions must be ({n},) integers like the rows of contexts, got "
                             f"shape {actions.shape} and dtype {actions.dtype}")
        if n and (actions.min() < 0 or actions.max() >= self.n_actions):
            raise ValueError(f"action out of range: actions must be in [0, {self.n_actions})")
        rewards = np.asarray(rewards, dtype=np.float64)
        if rewards.shape != (n,) or not np.all(np.isfinite(rewards)):
            raise ValueError(f"rewards must be ({n},) finite values, got shape {rewards.shape}")
        if propensities is None:
            propensities = np.full(n, 1.0 / self.n_actions)  # obp's default: uniform logging
        propensities = np.asarray(propensities, dtype=np.float64)
        if propensities.shape != (n,) or not np.all((propensities > 0) & (propensities <= 1)):
            raise ValueError(f"propensities must be ({n},) probabilities in (0, 1]")
        if self.fitting_method != "normal":
            if target_probs is None:
                raise ValueError(f"fitting_method {self.fitting_method!r} needs target_probs "
                                 f"(n_rounds, n_actions) of the policy to evaluate")
            target_probs = np.asarray(target_probs, dtype=np.float64)
            if target_probs.shape != (n, self.n_actions):
                raise ValueError(f"target_probs must be ({n}, {self.n_actions}), got "
                                 f"{target_probs.shape}")
        return contexts, actions.astype(np.int64), rewards, propensities, target_probs

    def _features(self, contexts, actions):
        return np.hstack([contexts, self.action_context[actions]])

    def _fit_copy(self, contexts, actions, rewards, propensities, target_probs):
        model = copy.deepcopy(self.base_model)
        features = self._features(contexts, actions)
        if self.fitting_method == "normal":
            return model.fit(features, rewards)
        target = target_probs[np.arange(actions.shape[0]), actions]
        if self.fitting_method == "iw":
            weight = target / propensities
        else:
            weight = target * (1.0 - propensities) / propensities ** 2
        return model.fit(features, rewards, sample_weight=weight)

    def _predict_with(self, model, contexts):
        n = contexts.shape[0]
        out = np.empty((n, self.n_actions))
        classifier = _is_classifier(model)
        for a in range(self.n_actions):
            features = self._features(contexts, np.full(n, a))
            out[:, a] = model.predict_proba(features)[:, 1] if classifier else model.predict(features)
        return out

    def fit(self, contexts, actions, rewards, propensities=None, target_probs=None):
        """Fit one model on all rounds: contexts (n, d), actions (n,), rewards (n,), the logging
        propensities (n,) and, for "iw"/"mrdr", target_probs (n, n_actions)."""
        self.model_ = self._fit_copy(*self._check(contexts, actions, rewards, propensities,
                                                  target_probs))
        self.n_features_ = np.shape(contexts)[1]
        return self

    def predict(self, contexts):
        """(n, n_actions) q_hat(x, a) for every row of ``contexts`` by the model ``fit`` made."""
        if not hasattr(self, "model_"):
            raise ValueError("RegressionModel is not fitted: call fit (fit_predict's fold models "
                             "only predict their own held-out rounds)")
        return self._predict_with(self.model_, check_contexts(contexts, self.n_features_))

    def fit_predict(self, contexts, actions, rewards, propensities=None, target_probs=None, *,
                    n_folds=1, folds=None, random_state=0):
        """(n, n_actions) q_hat on the logged rounds themselves, cross-fitted.

        n_folds = 1 fits on all rounds and predicts them (obp's default); n_folds > 1 predicts
        each fold with a model fitted on the others, folds from ``bindings.cv.make_folds`` seeded
        by ``random_state``. ``folds`` overrides both: (train, test) index pairs or a
        scikit-learn splitter (``KFold(5, shuffle=True, random_state=s)`` gives obp's folds for
        ``n_folds=5, random_state=s``).
        """
        contexts, actions, rewards, propensities, target_probs = self._check(
            contexts, actions, rewards, propensities, target_probs)
        n = contexts.shape[0]
        if folds is None and check_positive_int(n_folds, "n_folds") == 1:
            self.fit(contexts, actions, rewards, propensities, target_probs)
            return self.predict(contexts)
        pairs = resolve_folds(folds, n, nfold=n_folds, shuffle=True, seed=random_state)
        out = np.empty((n, self.n_actions))
        self.fold_models_ = []
        for train, test in pairs:
            model = self._fit_copy(contexts[train], actions[train], rewards[train],
                                   propensities[train],
                                   None if target_probs is None else target_probs[train])
            out[test] = self._predict_with(model, contexts[test])
            self.fold_models_.append(model)
        return out
