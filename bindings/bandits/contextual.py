"""Contextual bandit policies: per-arm ridge regression (LinUCB, linear Thompson sampling) and a
learned reward model with epsilon-greedy exploration. The interface is ``bindings.bandits.base``'s;
contexts are (n_features,) per round or (n, n_features) for batches.

Exploration parameters: ``exploration`` is LinUCB's alpha (MABWiser's name) in
x . theta_k + alpha sqrt(x^T A_k^-1 x), and linear Thompson sampling's v, the scale of the posterior
N(theta_k, v^2 A_k^-1) it draws from; ``ridge`` is the L2 penalty lambda of A_k = lambda I + X^T X
(MABWiser's l2_lambda); ``epsilon`` the reward-model policy's probability of a random arm.
"""
import numpy as np

from bindings.bandits.base import Policy
from bindings.validation import check_number, check_positive_int
from gbdt.kernels.bandits.ridge import (LIN_THOMPSON, LIN_UCB, linear_probabilities_batch,
                                       ridge_update_batch, select_linear_arms)

__all__ = ["LinUCB", "LinearThompsonSampling", "RewardModelEpsilonGreedy"]


class LinearPolicy(Policy):
    """Base of the ridge-regression policies (``gbdt.kernels.bandits.ridge``)."""

    kind = LIN_UCB
    contextual = True

    def __init__(self, arms, n_features, *, exploration=1.0, ridge=1.0, random_state=None):
        self._init_arms(arms, random_state)
        self.n_features = check_positive_int(n_features, "n_features")
        self.exploration = check_number(exploration, "exploration", low=0.0)
        self.ridge = check_number(ridge, "ridge", low=0.0, low_open=True)
        self.reset()

    def _reset_state(self):
        eye = np.eye(self.n_features) / self.ridge
        self.a_inv = np.repeat(eye[None], self.n_arms, axis=0)
        self.b = np.zeros((self.n_arms, self.n_features))

    @property
    def coef_(self):
        """(n_arms, n_features) ridge coefficients theta_k = A_k^-1 b_k."""
        return np.einsum("kij,kj->ki", self.a_inv, self.b)

    def _select(self, contexts, n):
        out = np.empty(contexts.shape[0], dtype=np.int64)
        select_linear_arms(self.kind, self.exploration, self.a_inv, self.b, contexts, self.rng, out)
        return out

    def _update(self, positions, rewards, contexts):
        ridge_update_batch(self.a_inv, self.b, positions, contexts, rewards)

    def _probabilities(self, contexts, n_samples, rng):
        out = np.empty((contexts.shape[0], self.n_arms))
        linear_probabilities_batch(self.kind, self.exploration, self.a_inv, self.b, contexts, rng,
                                   n_samples, out)
        return out

    def _means_and_widths(self, contexts):
        """(n, n_arms) ridge predictions x . theta_k and widths sqrt(x^T A_k^-1 x)."""
        quad = np.einsum("ni,kij,nj->nk", contexts, self.a_inv, contexts)
        return contexts @ self.coef_.T, np.sqrt(np.maximum(quad, 0.0))

    def _insert_arm(self):
        eye = np.eye(self.n_features) / self.ridge
        self.a_inv = np.concatenate([self.a_inv, eye[None]])
        self.b = np.vstack([self.b, np.zeros((1, self.n_features))])

    def _delete_arm(self, position):
        self.a_inv = np.ascontiguousarray(np.delete(self.a_inv, position, axis=0))
        self.b = np.ascontiguousarray(np.delete(self.b, position, axis=0))


class LinUCB(LinearPolicy):
    """Disjoint LinUCB (Li et al. 2010): x . theta_k + exploration sqrt(x^T A_k^-1 x)."""

    kind = LIN_UCB

    def _expectations(self, contexts):
        means, widths = self._means_and_widths(contexts)
        return means + self.exploration * widths


class LinearThompsonSampling(LinearPolicy):
    """Linear Thompson sampling (Agrawal & Goyal 2013): theta_k ~ N(theta_hat_k,
    exploration^2 A_k^-1); ``predict_expectations`` gives the posterior means x . theta_hat_k."""

    kind = LIN_THOMPSON
    sampled = True

    def _expectations(self, contexts):
        return self._means_and_widths(contexts)[0]


class RewardModelEpsilonGreedy(Policy):
    """Hybrid contextual policy: a learned reward model is the greedy part, epsilon explores.

    ``reward_model`` is any regressor with ``fit(X, y)`` / ``predict(X)`` (scikit-learn style),
    for example ``bindings.GBDTRegressor``. Its features are the context followed by a one-hot
    code of the arm, so one model learns every arm and their interactions with the context. It is
    refit on all observations every ``refit_every`` rounds, and at once when an arm is added or
    removed (the one-hot code changes width); until the first fit arms are uniform.
    """

    contextual = True

    def __init__(self, reward_model, arms, n_features, *, epsilon=0.1, refit_every=100,
                 random_state=None):
        if not (callable(getattr(reward_model, "fit", None))
                and callable(getattr(reward_model, "predict", None))):
            raise TypeError(f"reward_model must have fit(X, y) and predict(X) methods, got "
                            f"{type(reward_model).__name__}")
        self.reward_model = reward_model
        self._init_arms(arms, random_state)
        self.n_features = check_positive_int(n_features, "n_features")
        self.epsilon = check_number(epsilon, "epsilon", low=0.0, high=1.0)
        self.refit_every = check_positive_int(refit_every, "refit_every")
        self.reset()

    def _reset_state(self):
        # Observations as (contexts, positions, rewards) chunks, joined when the model is refit.
        self._seen = [(np.empty((0, self.n_features)), np.empty(0, dtype=np.int64), np.empty(0))]
        self._fitted = False

    def _observations(self):
        """All observations as one chunk: (n, n_features) contexts, (n,) positions, (n,) rewards."""
        if len(self._seen) > 1:
            contexts, positions, rewards = zip(*self._seen)
            self._seen = [(np.vstack(contexts), np.concatenate(positions), np.concatenate(rewards))]
        return self._seen[0]

    def _features(self, contexts, positions):
        onehot = np.zeros((contexts.shape[0], self.n_arms))
        onehot[np.arange(contexts.shape[0]), positions] = 1.0
        return np.hstack([contexts, onehot])

    def _refit(self):
        contexts, positions, rewards = self._observations()
        if positions.size:
            self.reward_model.fit(self._features(contexts, positions), rewards)
            self._fitted = True

    def predict_rewards(self, contexts):
        """(n, n_arms) rewards the model predicts for every arm in each row of ``contexts``."""
        contexts = self._contexts(contexts)
        n = contexts.shape[0]
        features = self._features(np.repeat(contexts, self.n_arms, axis=0),
                                  np.tile(np.arange(self.n_arms), n))
        return np.asarray(self.reward_model.predict(features), dtype=np.float64).reshape(n, -1)

    def _greedy_shares(self, contexts):
        """(n, n_arms): 1 split over the arms tied for the best prediction (uniform unfitted)."""
        if not self._fitted:
            return np.full((contexts.shape[0], self.n_arms), 1.0 / self.n_arms)
        predicted = self.predict_rewards(contexts)
        best = predicted == predicted.max(axis=1, keepdims=True)
        return best / best.sum(axis=1, keepdims=True)

    def _select(self, contexts, n):
        n = contexts.shape[0]
        explore = self.rng.random(n) < self.epsilon
        positions = self.rng.integers(0, self.n_arms, size=n)
        greedy = ~explore
        if self._fitted and greedy.any():
            shares = self._greedy_shares(contexts[greedy])
            tied = (shares > 0).sum(axis=1) > 1
            # A uniform draw among tied best arms, as the probabilities split them; random keys
            # only for the rows that have a tie.
            shares[tied] *= self.rng.random((int(tied.sum()), self.n_arms))
            positions[greedy] = np.argmax(shares, axis=1)
        return positions.astype(np.int64)

    def _probabilities(self, contexts, n_samples, rng):
        return self.epsilon / self.n_arms + (1 - self.epsilon) * self._greedy_shares(contexts)

    def _expectations(self, contexts):
        if not self._fitted:
            return np.full((contexts.shape[0], self.n_arms), np.nan)
        return self.predict_rewards(contexts)

    def _update(self, positions, rewards, contexts):
        self._seen.append((contexts, positions, rewards))
        before = self.n_rounds
        if (before + positions.shape[0]) // self.refit_every > before // self.refit_every:
            self._refit()

    def _insert_arm(self):
        if self._fitted:
            self._refit()

    def _delete_arm(self, position):
        contexts, positions, rewards = self._observations()
        keep = positions != position
        self._seen = [(contexts[keep], positions[keep] - (positions[keep] > position),
                       rewards[keep])]
        if self._fitted:
            self._fitted = False
            self._refit()

    def __repr__(self):
        arms = self.n_arms if self._arms.is_range else self.arms
        return (f"{type(self).__name__}({type(self.reward_model).__name__}, {arms!r}, "
                f"n_features={self.n_features})")
