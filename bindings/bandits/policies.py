"""Multi-armed bandit policies sharing one interface.

Every policy has ``select(context=None) -> arm``, ``update(arm, reward, context=None)``,
``select_batch(n or contexts)``, ``update_batch(arms, rewards, contexts=None)``, ``reset()`` and a
``random_state`` (int, ``numpy.random.Generator`` or None). Non-contextual policies ignore the
context. The arithmetic runs in compiled kernels (``gbdt.kernels.bandits``), the same ones
``bindings.bandits.simulation.simulate`` runs for millions of rounds.

Rewards are floats; Beta-Bernoulli Thompson sampling and KL-UCB need them in [0, 1], UCB-V in
[0, reward_range]. Index policies (epsilon-greedy, UCB family, softmax) play each arm once first.
"""
import math
import numbers

import numpy as np

from bindings.validation import check_number, check_positive_int
from gbdt.kernels.bandits import select as K
from gbdt.kernels.bandits.arm_stats import observe, observe_batch
from gbdt.kernels.bandits.ridge import (LIN_THOMPSON, LIN_UCB, ridge_update_batch,
                                       select_linear_arms)
from gbdt.kernels.bandits.sampling import new_gamma_cache

__all__ = [
    "EpsilonGreedy", "UCB1", "UCBV", "KLUCB", "BetaThompsonSampling", "GaussianThompsonSampling",
    "Softmax", "DiscountedUCB", "DiscountedThompsonSampling", "SlidingWindowUCB", "LinUCB",
    "LinearThompsonSampling", "RewardModelEpsilonGreedy",
]


def check_arms_rewards(arms, rewards, n_arms, reward_bounds):
    """(n,) int64 arms in [0, n_arms) and (n,) float64 finite rewards within ``reward_bounds``."""
    arms = np.asarray(arms)
    rewards = np.asarray(rewards, dtype=np.float64)
    if arms.ndim != 1 or rewards.shape != arms.shape:
        raise ValueError(f"arms and rewards must be 1-d of equal length, got shapes "
                         f"{arms.shape} and {rewards.shape}")
    if arms.size and not np.issubdtype(arms.dtype, np.integer):
        raise TypeError(f"arms must be integers, got dtype {arms.dtype}")
    if arms.size and (arms.min() < 0 or arms.max() >= n_arms):
        raise ValueError(f"arm out of range: arms must be in [0, {n_arms}), got values in "
                         f"[{arms.min()}, {arms.max()}]")
    if not np.all(np.isfinite(rewards)):
        raise ValueError("reward must be finite; got NaN or infinity")
    low, high = reward_bounds
    if rewards.size and (rewards.min() < low or rewards.max() > high):
        raise ValueError(f"reward must be in [{low}, {high}] for this policy, got values in "
                         f"[{rewards.min()}, {rewards.max()}]")
    return arms.astype(np.int64), rewards


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


class BanditPolicy:
    """Base of the non-contextual policies: per-arm statistics and one compiled ``kind``.

    Subclasses set ``kind``, fill ``params`` (slots of ``gbdt.kernels.bandits.select``) and
    optionally ``window`` (sliding-window width) and ``reward_bounds``.
    """

    kind = K.EPSILON_GREEDY
    contextual = False

    def __init__(self, n_arms, *, random_state=None):
        self.n_arms = check_positive_int(n_arms, "n_arms")
        self.random_state = random_state
        self.params = np.zeros(K.N_PARAMS)
        self.params[K.P_DISCOUNT] = 1.0
        self.window = 0
        self.reward_bounds = (-np.inf, np.inf)
        self.reset()

    def reset(self):
        """Forget every observation and restart the random stream from ``random_state``."""
        self.stats = np.zeros((3, self.n_arms))
        self.window_arms = np.zeros(self.window, dtype=np.int64)
        self.window_rewards = np.zeros(self.window)
        self.n_rounds = 0
        self.rng = np.random.default_rng(self.random_state)
        self._scores = np.empty(self.n_arms)
        self._gamma_cache = new_gamma_cache(self.n_arms)
        return self

    def _set_window(self, window):
        self.window = check_positive_int(window, "window")
        self.reset()

    @property
    def counts(self):
        """(n_arms,) pulls per arm (discounted or windowed where the policy forgets)."""
        return self.stats[0].copy()

    @property
    def means(self):
        """(n_arms,) empirical mean reward per arm; NaN for arms never pulled."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.stats[0] > 0, self.stats[1] / self.stats[0], np.nan)

    def select(self, context=None):
        """The arm to play next (int)."""
        return int(K.select_arm(self.kind, self.params, self.stats, self.n_rounds, self.rng,
                                self._scores, self._gamma_cache))

    def select_batch(self, n=None, *, contexts=None):
        """(n,) int64 arms chosen independently from the current statistics (no update between).

        ``n`` defaults to the number of rows of ``contexts``, which are otherwise ignored.
        """
        n = check_positive_int(len(contexts) if n is None and contexts is not None else n, "n")
        out = np.empty(n, dtype=np.int64)
        K.select_arms(self.kind, self.params, self.stats, self.n_rounds, self.rng,
                      self._gamma_cache, out)
        return out

    def update(self, arm, reward, context=None):
        """Record that ``arm`` paid ``reward``."""
        if isinstance(arm, bool) or not isinstance(arm, numbers.Integral):
            raise TypeError(f"arm must be an integer in [0, {self.n_arms}), got {arm!r}")
        # Scalar checks without building arrays: update is called once per round.
        reward = float(reward)
        if not 0 <= arm < self.n_arms or not math.isfinite(reward) or not (
                self.reward_bounds[0] <= reward <= self.reward_bounds[1]):
            check_arms_rewards([arm], [reward], self.n_arms, self.reward_bounds)
        observe(self.stats, self.window_arms, self.window_rewards, self.n_rounds, int(arm),
                reward, self.params[K.P_DISCOUNT])
        self.n_rounds += 1
        return self

    def update_batch(self, arms, rewards, contexts=None):
        """Record n rounds in order: arms (n,) ints, rewards (n,) floats."""
        arms, rewards = check_arms_rewards(arms, rewards, self.n_arms, self.reward_bounds)
        observe_batch(self.stats, self.window_arms, self.window_rewards, self.n_rounds, arms,
                      rewards, self.params[K.P_DISCOUNT])
        self.n_rounds += arms.shape[0]
        return self

    def __repr__(self):
        return f"{type(self).__name__}(n_arms={self.n_arms})"


class EpsilonGreedy(BanditPolicy):
    """Best empirical mean, or a uniformly random arm with probability epsilon.

    decay=True uses epsilon_t = min(1, epsilon * n_arms / t) (Auer et al. 2002's epsilon_n-greedy,
    epsilon playing the role of c / d^2), whose regret grows like log t instead of linearly.
    """

    kind = K.EPSILON_GREEDY

    def __init__(self, n_arms, *, epsilon=0.1, decay=False, random_state=None):
        super().__init__(n_arms, random_state=random_state)
        high = np.inf if decay else 1.0
        self.params[K.P_EPSILON] = check_number(epsilon, "epsilon", low=0.0, high=high)
        self.params[K.P_EPSILON_DECAY] = 1.0 if decay else 0.0


class UCB1(BanditPolicy):
    """UCB1: mean + c sqrt(2 log t / n_k) (Auer et al. 2002); rewards assumed in [0, 1]."""

    kind = K.UCB

    def __init__(self, n_arms, *, c=1.0, random_state=None):
        super().__init__(n_arms, random_state=random_state)
        self.params[K.P_EXPLORE] = check_number(c, "c", low=0.0)


class UCBV(BanditPolicy):
    """UCB-V: variance-aware UCB (Audibert et al. 2009), rewards in [0, reward_range]."""

    kind = K.UCB_V

    def __init__(self, n_arms, *, zeta=1.2, reward_range=1.0, random_state=None):
        super().__init__(n_arms, random_state=random_state)
        self.params[K.P_EXPLORE] = check_number(zeta, "zeta", low=0.0, low_open=True)
        self.params[K.P_REWARD_RANGE] = check_number(reward_range, "reward_range", low=0.0, low_open=True)
        self.reward_bounds = (0.0, self.params[K.P_REWARD_RANGE])


class KLUCB(BanditPolicy):
    """KL-UCB for rewards in [0, 1] (Garivier & Cappe 2011); c = 0 is the recommended practice."""

    kind = K.KL_UCB

    def __init__(self, n_arms, *, c=0.0, random_state=None):
        super().__init__(n_arms, random_state=random_state)
        self.params[K.P_EXPLORE] = check_number(c, "c", low=0.0)
        self.reward_bounds = (0.0, 1.0)


class BetaThompsonSampling(BanditPolicy):
    """Thompson sampling with Beta(1, 1) priors; rewards in [0, 1] (fractions count partially)."""

    kind = K.THOMPSON_BETA

    def __init__(self, n_arms, *, random_state=None):
        super().__init__(n_arms, random_state=random_state)
        self.reward_bounds = (0.0, 1.0)


class GaussianThompsonSampling(BanditPolicy):
    """Thompson sampling for Gaussian rewards: prior N(0, prior_sd^2), known noise_sd."""

    kind = K.THOMPSON_GAUSSIAN

    def __init__(self, n_arms, *, noise_sd=1.0, prior_sd=10.0, random_state=None):
        super().__init__(n_arms, random_state=random_state)
        self.params[K.P_NOISE_SD] = check_number(noise_sd, "noise_sd", low=0.0, low_open=True)
        self.params[K.P_PRIOR_SD] = check_number(prior_sd, "prior_sd", low=0.0, low_open=True)


class Softmax(BanditPolicy):
    """Boltzmann exploration: P(k) proportional to exp(mean_k / temperature)."""

    kind = K.SOFTMAX

    def __init__(self, n_arms, *, temperature=0.1, random_state=None):
        super().__init__(n_arms, random_state=random_state)
        self.params[K.P_TEMPERATURE] = check_number(temperature, "temperature", low=0.0, low_open=True)


class DiscountedUCB(UCB1):
    """D-UCB (Garivier & Moulines 2011): UCB1 on statistics discounted by ``discount`` per round."""

    def __init__(self, n_arms, *, discount=0.99, c=1.0, random_state=None):
        super().__init__(n_arms, c=c, random_state=random_state)
        self.params[K.P_DISCOUNT] = check_number(discount, "discount", low=0.0, high=1.0, low_open=True)


class DiscountedThompsonSampling(BetaThompsonSampling):
    """Discounted Beta Thompson sampling (Raj & Kalyani 2017): successes and failures decay."""

    def __init__(self, n_arms, *, discount=0.99, random_state=None):
        super().__init__(n_arms, random_state=random_state)
        self.params[K.P_DISCOUNT] = check_number(discount, "discount", low=0.0, high=1.0, low_open=True)


class SlidingWindowUCB(UCB1):
    """SW-UCB (Garivier & Moulines 2011): UCB1 on the last ``window`` rounds only."""

    def __init__(self, n_arms, *, window=1000, c=1.0, random_state=None):
        super().__init__(n_arms, c=c, random_state=random_state)
        self._set_window(window)


class LinearPolicy:
    """Base of the contextual policies: ridge regression per arm (``gbdt.kernels.bandits.ridge``)."""

    kind = LIN_UCB
    contextual = True

    def __init__(self, n_arms, n_features, *, explore, explore_name, ridge=1.0, random_state=None):
        self.n_arms = check_positive_int(n_arms, "n_arms")
        self.n_features = check_positive_int(n_features, "n_features")
        self.explore = check_number(explore, explore_name, low=0.0)
        self.ridge = check_number(ridge, "ridge", low=0.0, low_open=True)
        self.random_state = random_state
        self.reward_bounds = (-np.inf, np.inf)
        self.reset()

    def reset(self):
        """Forget every observation and restart the random stream from ``random_state``."""
        eye = np.eye(self.n_features) / self.ridge
        self.a_inv = np.repeat(eye[None], self.n_arms, axis=0)
        self.b = np.zeros((self.n_arms, self.n_features))
        self.n_rounds = 0
        self.rng = np.random.default_rng(self.random_state)
        return self

    @property
    def coef_(self):
        """(n_arms, n_features) ridge coefficients theta_k = A_k^-1 b_k."""
        return np.einsum("kij,kj->ki", self.a_inv, self.b)

    def select(self, context=None):
        """The arm to play for ``context`` (n_features,)."""
        return int(self.select_batch(contexts=check_contexts(context, self.n_features, 1))[0])

    def select_batch(self, n=None, *, contexts=None):
        """(n,) int64 arms, one per row of ``contexts`` (n, n_features), without updates between."""
        contexts = check_contexts(contexts, self.n_features, n)
        out = np.empty(contexts.shape[0], dtype=np.int64)
        select_linear_arms(self.kind, self.explore, self.a_inv, self.b, contexts, self.rng, out)
        return out

    def update(self, arm, reward, context=None):
        """Record that ``arm`` paid ``reward`` in ``context`` (n_features,)."""
        return self.update_batch([arm], [reward], check_contexts(context, self.n_features, 1))

    def update_batch(self, arms, rewards, contexts=None):
        """Record n rounds: arms (n,), rewards (n,), contexts (n, n_features)."""
        arms, rewards = check_arms_rewards(arms, rewards, self.n_arms, self.reward_bounds)
        contexts = check_contexts(contexts, self.n_features, arms.shape[0])
        ridge_update_batch(self.a_inv, self.b, arms, contexts, rewards)
        self.n_rounds += arms.shape[0]
        return self

    def __repr__(self):
        return f"{type(self).__name__}(n_arms={self.n_arms}, n_features={self.n_features})"


class LinUCB(LinearPolicy):
    """Disjoint LinUCB (Li et al. 2010): x . theta_k + alpha sqrt(x^T A_k^-1 x)."""

    kind = LIN_UCB

    def __init__(self, n_arms, n_features, *, alpha=1.0, ridge=1.0, random_state=None):
        super().__init__(n_arms, n_features, explore=alpha, explore_name="alpha", ridge=ridge,
                         random_state=random_state)


class LinearThompsonSampling(LinearPolicy):
    """Linear Thompson sampling (Agrawal & Goyal 2013): theta_k ~ N(theta_hat_k, v^2 A_k^-1)."""

    kind = LIN_THOMPSON

    def __init__(self, n_arms, n_features, *, v=1.0, ridge=1.0, random_state=None):
        super().__init__(n_arms, n_features, explore=v, explore_name="v", ridge=ridge,
                         random_state=random_state)


class RewardModelEpsilonGreedy:
    """Hybrid contextual policy: a learned reward model is the greedy part, epsilon explores.

    ``reward_model`` is any regressor with ``fit(X, y)`` / ``predict(X)`` (scikit-learn style),
    for example ``bindings.GBDTRegressor``. Its features are the context followed by a one-hot
    code of the arm, so one model learns every arm and their interactions with the context. It is
    refit on all observations every ``refit_every`` rounds; until the first fit arms are uniform.
    """

    contextual = True

    def __init__(self, reward_model, n_arms, n_features, *, epsilon=0.1, refit_every=100,
                 random_state=None):
        if not (callable(getattr(reward_model, "fit", None))
                and callable(getattr(reward_model, "predict", None))):
            raise TypeError(f"reward_model must have fit(X, y) and predict(X) methods, got "
                            f"{type(reward_model).__name__}")
        self.reward_model = reward_model
        self.n_arms = check_positive_int(n_arms, "n_arms")
        self.n_features = check_positive_int(n_features, "n_features")
        self.epsilon = check_number(epsilon, "epsilon", low=0.0, high=1.0)
        self.refit_every = check_positive_int(refit_every, "refit_every")
        self.random_state = random_state
        self.reward_bounds = (-np.inf, np.inf)
        self.reset()

    def reset(self):
        """Forget every observation (the model counts as unfitted) and restart the random stream."""
        self._rows = []
        self._fitted = False
        self.n_rounds = 0
        self.rng = np.random.default_rng(self.random_state)
        return self

    def _features(self, contexts, arms):
        onehot = np.zeros((contexts.shape[0], self.n_arms))
        onehot[np.arange(contexts.shape[0]), arms] = 1.0
        return np.hstack([contexts, onehot])

    def predict_rewards(self, contexts):
        """(n, n_arms) rewards the model predicts for every arm in each row of ``contexts``."""
        contexts = check_contexts(contexts, self.n_features)
        n = contexts.shape[0]
        features = self._features(np.repeat(contexts, self.n_arms, axis=0),
                                  np.tile(np.arange(self.n_arms), n))
        return np.asarray(self.reward_model.predict(features), dtype=np.float64).reshape(n, -1)

    def select(self, context=None):
        """The arm to play for ``context`` (n_features,)."""
        return int(self.select_batch(contexts=check_contexts(context, self.n_features, 1))[0])

    def select_batch(self, n=None, *, contexts=None):
        """(n,) int64 arms for the rows of ``contexts`` (n, n_features), without updates between."""
        contexts = check_contexts(contexts, self.n_features, n)
        n = contexts.shape[0]
        explore = self.rng.random(n) < self.epsilon
        arms = self.rng.integers(0, self.n_arms, size=n)
        if self._fitted and not explore.all():
            greedy = np.argmax(self.predict_rewards(contexts[~explore]), axis=1)
            arms[~explore] = greedy
        return arms.astype(np.int64)

    def update(self, arm, reward, context=None):
        """Record that ``arm`` paid ``reward`` in ``context``; refit when due."""
        return self.update_batch([arm], [reward], check_contexts(context, self.n_features, 1))

    def update_batch(self, arms, rewards, contexts=None):
        """Record n rounds (arms (n,), rewards (n,), contexts (n, n_features)); refit when due."""
        arms, rewards = check_arms_rewards(arms, rewards, self.n_arms, self.reward_bounds)
        contexts = check_contexts(contexts, self.n_features, arms.shape[0])
        self._rows.append((self._features(contexts, arms), rewards))
        before = self.n_rounds
        self.n_rounds += arms.shape[0]
        if self.n_rounds // self.refit_every > before // self.refit_every:
            features = np.vstack([rows for rows, _ in self._rows])
            targets = np.concatenate([y for _, y in self._rows])
            self._rows = [(features, targets)]
            self.reward_model.fit(features, targets)
            self._fitted = True
        return self

    def __repr__(self):
        return (f"{type(self).__name__}({type(self.reward_model).__name__}, n_arms={self.n_arms}, "
                f"n_features={self.n_features})")
