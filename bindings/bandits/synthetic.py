"""Synthetic logged bandit data, as obp's ``SyntheticBanditDataset``: contexts, a logging
(behaviour) policy's actions and propensities, rewards, and the expected reward of every action,
which gives the true value of any target policy.

``reward_function(context, action_context, random_state) -> (n, n_actions)`` and
``behavior_policy_function(context, action_context, random_state) -> (n, n_actions)``
probabilities take obp's signature, so obp's ``logistic_reward_function`` or
``linear_behavior_policy`` plug in unchanged; a policy of ``bindings.bandits`` can log instead
(``behavior_policy=``, its ``action_probabilities`` on the contexts). Without them: context-free
expected rewards drawn uniformly from [0, 1] and a uniform logging policy, as obp's defaults.
Binary rewards are Bernoulli(q); continuous ones are q + N(0, reward_std^2) (obp truncates the
normal at 0; here rewards may be negative).
"""
from dataclasses import dataclass

import numpy as np

from bindings.validation import check_number, check_positive_int

__all__ = ["SyntheticBanditDataset", "LoggedBanditFeedback", "sample_actions"]


def sample_actions(probs, rng):
    """(n,) int64 one action per row of ``probs`` (n, n_actions), by inverse CDF.

    Never an action of probability 0: rounding can leave the last cumulative sum below a uniform
    draw, which then falls to the last action with positive probability.
    """
    cumulative = np.cumsum(probs, axis=1)
    u = rng.random((probs.shape[0], 1)) * cumulative[:, -1:]
    actions = (cumulative <= u).sum(axis=1)
    last_positive = probs.shape[1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)
    return np.minimum(actions, last_positive).astype(np.int64)


@dataclass
class LoggedBanditFeedback:
    """Logs of n rounds: contexts (n, d), actions (n,) int64, rewards (n,), propensities (n,)
    pi_b(a_i | x_i), logging_probs (n, n_actions) pi_b(. | x_i) and expected_rewards
    (n, n_actions) q(x_i, a)."""

    contexts: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    propensities: np.ndarray
    logging_probs: np.ndarray
    expected_rewards: np.ndarray

    @property
    def n_rounds(self):
        return self.actions.shape[0]

    def logged(self):
        """{actions, rewards, propensities}: the keyword arguments every estimator takes."""
        return dict(actions=self.actions, rewards=self.rewards, propensities=self.propensities)

    def policy_value(self, target_probs):
        """True value of the policy with ``target_probs`` (n, n_actions) on these contexts:
        mean_i sum_a pi_e(a | x_i) q(x_i, a) (obp's ``calc_ground_truth_policy_value``)."""
        target_probs = np.asarray(target_probs, dtype=np.float64)
        if target_probs.shape != self.expected_rewards.shape:
            raise ValueError(f"target_probs must be (n_rounds, n_actions) = "
                             f"{self.expected_rewards.shape}, got {target_probs.shape}")
        return float(np.einsum("ij,ij->i", target_probs, self.expected_rewards).mean())


class SyntheticBanditDataset:
    """Generator of logged bandit feedback (see the module docstring).

    Parameters
    ----------
    n_actions : number of actions (>= 2).
    dim_context : context dimension; contexts are N(0, I).
    reward_type : "binary" or "continuous".
    reward_function, behavior_policy_function : obp-style callables, or None.
    behavior_policy : a policy with ``action_probabilities`` (instead of the function).
    reward_std : noise of continuous rewards.
    random_state : int seed of every draw (``numpy.random.default_rng``).
    """

    def __init__(self, n_actions, *, dim_context=1, reward_type="binary", reward_function=None,
                 behavior_policy_function=None, behavior_policy=None, reward_std=1.0,
                 random_state=12345):
        self.n_actions = check_positive_int(n_actions, "n_actions")
        if self.n_actions < 2:
            raise ValueError(f"n_actions must be at least 2, got {n_actions}")
        self.dim_context = check_positive_int(dim_context, "dim_context")
        if reward_type not in ("binary", "continuous"):
            raise ValueError(f"reward_type must be 'binary' or 'continuous', got {reward_type!r}")
        self.reward_type = reward_type
        if behavior_policy is not None and behavior_policy_function is not None:
            raise ValueError("pass behavior_policy_function or behavior_policy, not both")
        if behavior_policy is not None:
            if not callable(getattr(behavior_policy, "action_probabilities", None)):
                raise TypeError("behavior_policy must have action_probabilities(contexts)")
            if behavior_policy.n_arms != self.n_actions:
                raise ValueError(f"behavior_policy has {behavior_policy.n_arms} arms, the dataset "
                                 f"{self.n_actions} actions")
        for name, fn in (("reward_function", reward_function),
                         ("behavior_policy_function", behavior_policy_function)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable(context, action_context, random_state)")
        self.reward_function = reward_function
        self.behavior_policy_function = behavior_policy_function
        self.behavior_policy = behavior_policy
        self.reward_std = check_number(reward_std, "reward_std", low=0.0)
        self.random_state = random_state
        self.rng = np.random.default_rng(random_state)
        self.action_context = np.eye(self.n_actions, dtype=int)
        # obp draws the context-free means once, at construction.
        self.expected_reward = self.rng.uniform(size=self.n_actions) if reward_function is None \
            else None

    def expected_rewards(self, contexts):
        """(n, n_actions) q(x, a) for contexts (n, dim_context)."""
        if self.reward_function is None:
            return np.tile(self.expected_reward, (contexts.shape[0], 1))
        return np.asarray(self.reward_function(context=contexts, action_context=self.action_context,
                                               random_state=self.random_state), dtype=np.float64)

    def logging_probs(self, contexts):
        """(n, n_actions) the logging policy's probabilities for contexts (n, dim_context)."""
        n = contexts.shape[0]
        if self.behavior_policy is not None:
            context = contexts if self.behavior_policy.contextual else np.zeros((n, 1))
            return np.asarray(self.behavior_policy.action_probabilities(context), dtype=np.float64)
        if self.behavior_policy_function is None:
            return np.full((n, self.n_actions), 1.0 / self.n_actions)
        return np.asarray(self.behavior_policy_function(
            context=contexts, action_context=self.action_context,
            random_state=self.random_state), dtype=np.float64)

    def obtain_batch_bandit_feedback(self, n_rounds):
        """``LoggedBanditFeedback`` of ``n_rounds`` new rounds (every call draws fresh ones)."""
        n = check_positive_int(n_rounds, "n_rounds")
        contexts = self.rng.standard_normal((n, self.dim_context))
        logging_probs = self.logging_probs(contexts)
        if logging_probs.shape != (n, self.n_actions) or np.abs(logging_probs.sum(axis=1) - 1).max() > 1e-6:
            raise ValueError(f"the logging policy must give ({n}, {self.n_actions}) probabilities "
                             f"summing to 1 per row, got shape {logging_probs.shape}")
        actions = sample_actions(logging_probs, self.rng)
        expected = self.expected_rewards(contexts)
        factual = expected[np.arange(n), actions]
        if self.reward_type == "binary":
            rewards = (self.rng.random(n) < factual).astype(np.float64)
        else:
            rewards = factual + self.reward_std * self.rng.standard_normal(n)
        return LoggedBanditFeedback(contexts, actions, rewards, logging_probs[np.arange(n), actions],
                                    logging_probs, expected)
