"""Non-contextual multi-armed bandit policies (the contextual ones are in ``.contextual``).

Every policy has ``select(context=None) -> arm``, ``update(arm, reward, context=None)``,
``select_batch``, ``update_batch``, ``action_probabilities``, ``predict_expectations``,
``add_arm``/``remove_arm``, ``reset()`` and a ``random_state`` (int, ``numpy.random.Generator`` or
None); see ``bindings.bandits.base``. Arms are labels of any hashable type
(``UCB1(["red", "green"])``) or, given a count, 0..n_arms-1 (``UCB1(2)``). The arithmetic runs in
compiled kernels (``gbdt.kernels.bandits``), the same ones ``bindings.bandits.simulation.simulate``
runs for millions of rounds.

Exploration parameters, by policy (MABWiser's name in brackets where it differs):

    epsilon       EpsilonGreedy: probability of a uniformly random arm (decay=True: its scale c
                  in eps_t = min(1, c n_arms / t))
    exploration   UCB1 / DiscountedUCB / SlidingWindowUCB: scale of the confidence width, mean +
                  exploration sqrt(2 log t / n) [alpha]; UCBV: zeta, the weight of log t in the
                  exploration function; KLUCB: c in log t + c log log t
    temperature   Softmax: P(k) proportional to exp(mean_k / temperature), in reward units [tau]
    discount      DiscountedUCB / DiscountedThompsonSampling: weight of an observation one round
                  old (1 = never forget)
    window        SlidingWindowUCB: rounds remembered
    noise_sd, prior_sd   GaussianThompsonSampling: reward noise and prior spread of each mean

Rewards are floats; Beta-Bernoulli Thompson sampling and KL-UCB need them in [0, 1], UCB-V in
[0, reward_range]. Index policies (epsilon-greedy, UCB family, softmax) play each arm once first.
"""
import math

import numpy as np

from bindings.bandits.base import Policy
from bindings.validation import check_number, check_positive_int
from gbdt.kernels.bandits import select as K
from gbdt.kernels.bandits.arm_stats import observe, observe_batch
from gbdt.kernels.bandits.sampling import new_gamma_cache

__all__ = [
    "EpsilonGreedy", "UCB1", "UCBV", "KLUCB", "BetaThompsonSampling", "GaussianThompsonSampling",
    "Softmax", "DiscountedUCB", "DiscountedThompsonSampling", "SlidingWindowUCB",
]


class BanditPolicy(Policy):
    """Base of the non-contextual policies: per-arm statistics and one compiled ``kind``.

    Subclasses set ``kind``, fill ``params`` (slots of ``gbdt.kernels.bandits.select``) and
    optionally ``window`` (sliding-window width) and ``reward_bounds``.
    """

    kind = K.EPSILON_GREEDY

    def __init__(self, arms, *, random_state=None):
        self._init_arms(arms, random_state)
        self.params = np.zeros(K.N_PARAMS)
        self.params[K.P_DISCOUNT] = 1.0
        self.window = 0
        self.sampled = bool(K.is_sampled(self.kind))
        self.reset()

    def _reset_state(self):
        self.stats = np.zeros((3, self.n_arms))
        self.window_arms = np.zeros(self.window, dtype=np.int64)
        self.window_rewards = np.zeros(self.window)
        self._scores = np.empty(self.n_arms)
        self._gamma_cache = new_gamma_cache(self.n_arms)

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

    def _select_one(self, contexts):
        return int(K.select_arm(self.kind, self.params, self.stats, self.n_rounds, self.rng,
                                self._scores, self._gamma_cache))

    def _select(self, contexts, n):
        out = np.empty(n, dtype=np.int64)
        K.select_arms(self.kind, self.params, self.stats, self.n_rounds, self.rng,
                      self._gamma_cache, out)
        return out

    def _update(self, positions, rewards, contexts):
        observe_batch(self.stats, self.window_arms, self.window_rewards, self.n_rounds, positions,
                      rewards, self.params[K.P_DISCOUNT])

    def update(self, arm, reward, context=None):
        """Record that ``arm`` (a label) paid ``reward``."""
        # The per-round path skips the base class's arrays: one compiled call per round.
        if self._arms.is_range and type(arm) is int and 0 <= arm < self.n_arms:
            reward = float(reward)
            if math.isfinite(reward) and self.reward_bounds[0] <= reward <= self.reward_bounds[1]:
                observe(self.stats, self.window_arms, self.window_rewards, self.n_rounds, arm,
                        reward, self.params[K.P_DISCOUNT])
                self.n_rounds += 1
                return self
        return super().update(arm, reward, context)

    def _probabilities(self, contexts, n_samples, rng):
        out = np.empty(self.n_arms)
        K.arm_probabilities(self.kind, self.params, self.stats, self.n_rounds, rng,
                            self._gamma_cache, np.empty(self.n_arms), n_samples, out)
        return out

    def _expectations(self, contexts):
        out = np.empty(self.n_arms)
        K.arm_scores(self.kind, self.params, self.stats, self._estimate_rng, self._gamma_cache,
                     out)
        return out

    def _insert_arm(self):
        self.stats = np.hstack([self.stats, np.zeros((3, 1))])
        self._scores = np.empty(self.n_arms)
        self._gamma_cache = new_gamma_cache(self.n_arms)

    def _delete_arm(self, position):
        self.stats = np.ascontiguousarray(np.delete(self.stats, position, axis=1))
        # Rounds of the removed arm still in the window leave it without touching the others.
        removed = self.window_arms == position
        self.window_arms[self.window_arms > position] -= 1
        self.window_arms[removed] = -1
        self._scores = np.empty(self.n_arms)
        self._gamma_cache = new_gamma_cache(self.n_arms)


class EpsilonGreedy(BanditPolicy):
    """Best empirical mean, or a uniformly random arm with probability ``epsilon``.

    decay=True uses epsilon_t = min(1, epsilon * n_arms / t) (Auer et al. 2002's epsilon_n-greedy,
    epsilon playing the role of c / d^2), whose regret grows like log t instead of linearly.
    """

    kind = K.EPSILON_GREEDY

    def __init__(self, arms, *, epsilon=0.1, decay=False, random_state=None):
        super().__init__(arms, random_state=random_state)
        high = np.inf if decay else 1.0
        self.params[K.P_EPSILON] = check_number(epsilon, "epsilon", low=0.0, high=high)
        self.params[K.P_EPSILON_DECAY] = 1.0 if decay else 0.0


class UCB1(BanditPolicy):
    """UCB1 (Auer et al. 2002): mean + exploration * sqrt(2 log t / n_k); rewards in [0, 1].

    ``exploration`` is MABWiser's ``alpha``; 1 is Auer et al.'s index.
    """

    kind = K.UCB

    def __init__(self, arms, *, exploration=1.0, random_state=None):
        super().__init__(arms, random_state=random_state)
        self.params[K.P_EXPLORE] = check_number(exploration, "exploration", low=0.0)


class UCBV(BanditPolicy):
    """UCB-V: variance-aware UCB (Audibert et al. 2009), rewards in [0, reward_range].

    ``exploration`` is the paper's zeta > 1 in the exploration function zeta log t.
    """

    kind = K.UCB_V

    def __init__(self, arms, *, exploration=1.2, reward_range=1.0, random_state=None):
        super().__init__(arms, random_state=random_state)
        self.params[K.P_EXPLORE] = check_number(exploration, "exploration", low=0.0, low_open=True)
        self.params[K.P_REWARD_RANGE] = check_number(reward_range, "reward_range", low=0.0, low_open=True)
        self.reward_bounds = (0.0, self.params[K.P_REWARD_RANGE])


class KLUCB(BanditPolicy):
    """KL-UCB for rewards in [0, 1] (Garivier & Cappe 2011): the largest q with
    n_k KL(mean_k, q) <= log t + exploration log log t; exploration = 0 is the recommended practice."""

    kind = K.KL_UCB

    def __init__(self, arms, *, exploration=0.0, random_state=None):
        super().__init__(arms, random_state=random_state)
        self.params[K.P_EXPLORE] = check_number(exploration, "exploration", low=0.0)
        self.reward_bounds = (0.0, 1.0)


class BetaThompsonSampling(BanditPolicy):
    """Thompson sampling with Beta(1, 1) priors; rewards in [0, 1] (fractions count partially)."""

    kind = K.THOMPSON_BETA

    def __init__(self, arms, *, random_state=None):
        super().__init__(arms, random_state=random_state)
        self.reward_bounds = (0.0, 1.0)

    def _expectations(self, contexts):
        successes = np.maximum(self.stats[1], 0.0)
        failures = np.maximum(self.stats[0] - self.stats[1], 0.0)
        return (1.0 + successes) / (2.0 + successes + failures)


class GaussianThompsonSampling(BanditPolicy):
    """Thompson sampling for Gaussian rewards: prior N(0, prior_sd^2) on each mean, known noise_sd."""

    kind = K.THOMPSON_GAUSSIAN

    def __init__(self, arms, *, noise_sd=1.0, prior_sd=10.0, random_state=None):
        super().__init__(arms, random_state=random_state)
        self.params[K.P_NOISE_SD] = check_number(noise_sd, "noise_sd", low=0.0, low_open=True)
        self.params[K.P_PRIOR_SD] = check_number(prior_sd, "prior_sd", low=0.0, low_open=True)

    def _expectations(self, contexts):
        noise_var = self.params[K.P_NOISE_SD] ** 2
        precision = 1.0 / self.params[K.P_PRIOR_SD] ** 2 + self.stats[0] / noise_var
        return self.stats[1] / noise_var / precision


class Softmax(BanditPolicy):
    """Boltzmann exploration: P(k) proportional to exp(mean_k / temperature) (MABWiser's tau)."""

    kind = K.SOFTMAX

    def __init__(self, arms, *, temperature=0.1, random_state=None):
        super().__init__(arms, random_state=random_state)
        self.params[K.P_TEMPERATURE] = check_number(temperature, "temperature", low=0.0, low_open=True)


class DiscountedUCB(UCB1):
    """D-UCB (Garivier & Moulines 2011): UCB1 on statistics discounted by ``discount`` per round."""

    def __init__(self, arms, *, discount=0.99, exploration=1.0, random_state=None):
        super().__init__(arms, exploration=exploration, random_state=random_state)
        self.params[K.P_DISCOUNT] = check_number(discount, "discount", low=0.0, high=1.0, low_open=True)


class DiscountedThompsonSampling(BetaThompsonSampling):
    """Discounted Beta Thompson sampling (Raj & Kalyani 2017): successes and failures decay."""

    def __init__(self, arms, *, discount=0.99, random_state=None):
        super().__init__(arms, random_state=random_state)
        self.params[K.P_DISCOUNT] = check_number(discount, "discount", low=0.0, high=1.0, low_open=True)


class SlidingWindowUCB(UCB1):
    """SW-UCB (Garivier & Moulines 2011): UCB1 on the last ``window`` rounds only."""

    def __init__(self, arms, *, window=1000, exploration=1.0, random_state=None):
        super().__init__(arms, exploration=exploration, random_state=random_state)
        self._set_window(window)
