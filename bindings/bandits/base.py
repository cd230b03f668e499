"""The interface every bandit policy shares, over arm labels (``bindings.bandits.arms``).

A policy chooses among labelled arms (``select``, ``select_batch``), learns from rewards
(``update``, ``update_batch``), reports the probability it gives each arm
(``action_probabilities``, the propensities off-policy evaluation needs) and the score each arm
is chosen by (``predict_expectations``, MABWiser's name), and gains or loses arms
(``add_arm``/``remove_arm``). Subclasses work on arm positions 0..n_arms-1 and implement the
underscored hooks; this class converts labels, checks input and owns the random streams.

Two streams per policy, both restarted by ``reset`` from ``random_state``: ``rng`` drives the
choices, and a child stream drives the Monte-Carlo estimates of ``action_probabilities`` and
``predict_expectations``, so asking for them never changes what the policy does next.
"""
import math

import numpy as np

from bindings.bandits.arms import ArmLabels
from bindings.bandits.checks import check_contexts, check_rewards
from bindings.validation import check_positive_int

__all__ = ["Policy"]

# Default Monte-Carlo draws of a sampled policy's action probabilities: standard error
# sqrt(p (1 - p) / n) <= 0.005.
PROBABILITY_SAMPLES = 10_000


class Policy:
    """Base of every policy. Subclasses set ``contextual`` and implement:

    _reset_state()                      fresh statistics for ``n_arms`` arms
    _select(contexts or None, n)        (n,) int64 positions (``_select_one``: one, as int)
    _update(positions, rewards, contexts or None)
    _probabilities(contexts or None, n_samples, rng) -> (K,) or (n, K), exact unless ``sampled``
    _expectations(contexts or None)     -> (K,) or (n, K)
    _insert_arm() / _delete_arm(position)
    """

    contextual = False
    sampled = False  # True where action probabilities are Monte-Carlo estimates
    n_features = None

    def _init_arms(self, arms, random_state):
        self._arms = ArmLabels(arms)
        self.random_state = random_state
        self.reward_bounds = (-np.inf, np.inf)

    @property
    def arms(self):
        """The arm labels, in position order (a new list)."""
        return list(self._arms.labels)

    @property
    def n_arms(self):
        """Number of arms."""
        return len(self._arms)

    def reset(self):
        """Forget every observation and restart the random streams from ``random_state``."""
        self.n_rounds = 0
        self.rng = np.random.default_rng(self.random_state)
        # A child seed, not draws of rng: the choices' stream stays the one random_state gives.
        self._estimate_rng = np.random.default_rng(self.rng.bit_generator.seed_seq.spawn(1)[0])
        self._reset_state()
        return self

    def _contexts(self, contexts, n_rows=None):
        """(n, n_features) contexts for a contextual policy; None for the others."""
        return check_contexts(contexts, self.n_features, n_rows) if self.contextual else None

    def select(self, context=None):
        """The arm (label) to play next; ``context`` (n_features,) for contextual policies."""
        return self._arms.labels[self._select_one(self._contexts(context, 1))]

    def _select_one(self, contexts):
        return int(self._select(contexts, 1)[0])

    def select_batch(self, n=None, *, contexts=None):
        """(n,) arms (labels) chosen independently from the current state, no update between.

        Contextual policies choose one arm per row of ``contexts`` (n, n_features); the others
        ignore contexts, whose row count is the default ``n``.
        """
        if self.contextual:
            contexts = self._contexts(contexts, n)
            n = contexts.shape[0]
        else:
            n = check_positive_int(len(contexts) if n is None and contexts is not None else n, "n")
            contexts = None
        return self._arms.labels_of(self._select(contexts, n))

    def update(self, arm, reward, context=None):
        """Record that ``arm`` (a label) paid ``reward``, in ``context`` for contextual policies."""
        position = self._arms.index_of(arm)
        reward = float(reward)
        # Scalar checks without building arrays: update is called once per round.
        if not (math.isfinite(reward) and self.reward_bounds[0] <= reward <= self.reward_bounds[1]):
            check_rewards([reward], 1, self.reward_bounds)
        self._update(np.array([position]), np.array([reward]), self._contexts(context, 1))
        self.n_rounds += 1
        return self

    def update_batch(self, arms, rewards, contexts=None):
        """Record n rounds in order: arms (n,) labels, rewards (n,), contexts (n, n_features)."""
        positions = self._arms.indices_of(arms)
        rewards = check_rewards(rewards, positions.shape[0], self.reward_bounds)
        self._update(positions, rewards, self._contexts(contexts, positions.shape[0]))
        self.n_rounds += positions.shape[0]
        return self

    def action_probabilities(self, context=None, *, n_samples=PROBABILITY_SAMPLES,
                             return_std=False):
        """Probability that ``select`` picks each arm now, in the order of ``arms``.

        Exact for epsilon-greedy, softmax, the UCB family, LinUCB and the reward-model policy
        (ties of a best score share its mass equally, as ``select`` breaks them at random).
        Thompson sampling has no closed form: the result is the frequency of each arm among
        ``n_samples`` simulated choices (from a stream of its own, so the policy's next choices
        are unchanged), with standard error sqrt(p (1 - p) / n_samples) <= 0.5 / sqrt(n_samples).

        Parameters
        ----------
        context : None, (n_features,) or (n, n_features). Contextual policies need it; the
            others ignore it except that 2-d contexts give one (identical) row per context.
        n_samples : Monte-Carlo draws per context of a sampled policy.
        return_std : also return the standard errors (zeros where exact).

        Returns
        -------
        (n_arms,) float64, or (n, n_arms) for 2-d ``context``; with return_std a pair.
        """
        n_samples = check_positive_int(n_samples, "n_samples")
        rows = None if context is None else np.ndim(context)
        if self.contextual:
            probs = self._probabilities(self._contexts(context), n_samples, self._estimate_rng)
            probs = probs[0] if rows == 1 else probs
        else:
            probs = self._probabilities(None, n_samples, self._estimate_rng)
            if rows == 2:
                probs = np.tile(probs, (len(context), 1))
        if not return_std:
            return probs
        std = np.sqrt(probs * (1 - probs) / n_samples) if self.sampled else np.zeros_like(probs)
        return probs, std

    def predict_expectations(self, context=None):
        """{arm label: score the arm is chosen by}, as MABWiser's ``predict_expectations``.

        The score is the empirical mean (epsilon-greedy, softmax), the optimistic index (UCB
        family, LinUCB), the posterior mean reward (Thompson sampling; MABWiser returns one
        posterior draw) or the reward model's prediction. Index policies play an arm never
        played first, so its score is +inf. 2-d ``context`` gives a list of dicts, one per row.
        """
        rows = None if context is None else np.ndim(context)
        scores = self._expectations(self._contexts(context))
        if scores.ndim == 1 and rows == 2:
            scores = np.tile(scores, (len(context), 1))
        if scores.ndim == 2 and rows != 2:
            scores = scores[0]
        if scores.ndim == 1:
            return dict(zip(self._arms.labels, scores.tolist()))
        return [dict(zip(self._arms.labels, row)) for row in scores.tolist()]

    def add_arm(self, arm):
        """Add arm ``arm`` (a new label) with no observations; returns self."""
        self._arms.add(arm)
        self._insert_arm()
        return self

    def remove_arm(self, arm):
        """Remove arm ``arm`` and everything learnt about it; returns self."""
        self._delete_arm(self._arms.remove(arm))
        return self

    def __repr__(self):
        arms = self.n_arms if self._arms.is_range else self.arms
        features = f", n_features={self.n_features}" if self.contextual else ""
        return f"{type(self).__name__}({arms!r}{features})"
