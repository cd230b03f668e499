"""Reward environments for bandit simulations: Bernoulli, Gaussian, changing and drifting arms,
and linear contextual arms.

Each environment is a thin holder of the arrays that ``gbdt.kernels.bandits.environment`` reads
(so ``bindings.bandits.simulation.simulate`` runs it in compiled code), plus the same quantities
one round at a time for policies that run in Python (``expected_rewards``, ``draw_reward``).
Rounds t are 0-based.
"""
import numpy as np

from bindings.validation import as_finite_array, check_number
from gbdt.kernels.bandits.environment import arm_means_at, draw_reward
from gbdt.kernels.bandits.index import bernoulli_kl

__all__ = ["BernoulliArms", "GaussianArms", "PiecewiseStationaryArms", "DriftingArms",
           "LinearContextualArms"]


class ArmEnvironment:
    """Non-contextual arms whose means follow a schedule: piecewise constant plus a sinusoid.

    means_table (S, n_arms): means of each segment; change_times (S,): first round of each
    segment, change_times[0] = 0; drift (3, n_arms): amplitude, period (rounds), phase.
    Bernoulli arms pay 0/1 (means clipped into [0, 1]); otherwise mean + N(0, noise_sd^2).
    """

    contextual = False

    def __init__(self, means_table, change_times=(0,), drift=None, *, bernoulli=True, noise_sd=0.0):
        self.means_table = as_finite_array(means_table, "means", 2)
        n_segments, n_arms = self.means_table.shape
        self.change_times = np.asarray(change_times, dtype=np.int64)
        if (self.change_times.shape != (n_segments,) or self.change_times[0] != 0
                or np.any(np.diff(self.change_times) <= 0)):
            raise ValueError(f"change_times must be {n_segments} increasing rounds starting at 0, "
                             f"got {change_times!r}")
        if drift is None:
            drift = np.vstack([np.zeros(n_arms), np.ones(n_arms), np.zeros(n_arms)])
        self.drift = as_finite_array(drift, "drift", 2)
        if self.drift.shape != (3, n_arms) or np.any(self.drift[1] <= 0):
            raise ValueError(f"drift must be (3, {n_arms}) rows amplitude, period > 0, phase")
        if bernoulli and (self.means_table.min() < 0 or self.means_table.max() > 1):
            raise ValueError("Bernoulli arm means must lie in [0, 1]")
        self.bernoulli = bool(bernoulli)
        self.noise_sd = check_number(noise_sd, "noise_sd", low=0.0)
        self.n_arms = n_arms

    def sample_context(self, rng):
        """No context: None."""
        return None

    def expected_rewards(self, t, context=None):
        """(n_arms,) expected reward of every arm at round ``t``."""
        out = np.empty(self.n_arms)
        arm_means_at(t, self.change_times, self.means_table, self.drift, self.bernoulli, out)
        return out

    def draw_reward(self, arm, t, context, rng):
        """One reward of ``arm`` at round ``t`` drawn with ``rng`` (numpy Generator)."""
        return draw_reward(rng, self.expected_rewards(t)[arm], self.bernoulli, self.noise_sd)


class BernoulliArms(ArmEnvironment):
    """Stationary Bernoulli arms with success probabilities ``means`` (n_arms,)."""

    def __init__(self, means):
        super().__init__(as_finite_array(means, "means", 1)[None, :], bernoulli=True)

    def lai_robbins_constant(self):
        """sum over suboptimal arms of gap / KL(mu_k, mu*): any consistent policy's regret is at
        least this times log T asymptotically (Lai & Robbins 1985)."""
        means = self.means_table[0]
        best = means.max()
        return sum((best - m) / bernoulli_kl(m, best) for m in means if m < best)


class GaussianArms(ArmEnvironment):
    """Stationary Gaussian arms: means (n_arms,), common noise standard deviation ``noise_sd``."""

    def __init__(self, means, noise_sd=1.0):
        super().__init__(as_finite_array(means, "means", 1)[None, :], bernoulli=False,
                         noise_sd=noise_sd)


class PiecewiseStationaryArms(ArmEnvironment):
    """Abruptly changing arms: ``means`` (S, n_arms) hold from ``change_times[s]`` (S,) on."""

    def __init__(self, means, change_times, *, bernoulli=True, noise_sd=0.0):
        super().__init__(means, change_times, bernoulli=bernoulli, noise_sd=noise_sd)


class DriftingArms(ArmEnvironment):
    """Slowly drifting arms: base + amplitude * sin(2 pi t / period + phase), all (n_arms,).

    Phases default to evenly spread over the circle so that the best arm keeps changing.
    """

    def __init__(self, base_means, amplitude, period, phase=None, *, bernoulli=True, noise_sd=0.0):
        base = as_finite_array(base_means, "base_means", 1)
        n_arms = base.shape[0]
        if phase is None:
            phase = 2 * np.pi * np.arange(n_arms) / n_arms
        drift = np.vstack([np.broadcast_to(np.asarray(v, dtype=np.float64), (n_arms,))
                           for v in (amplitude, period, phase)])
        super().__init__(base[None, :], (0,), drift, bernoulli=bernoulli, noise_sd=noise_sd)


class LinearContextualArms:
    """Contexts x ~ N(0, I_d); arm k pays x . theta[k] + N(0, noise_sd^2); theta (n_arms, d)."""

    contextual = True

    def __init__(self, theta, noise_sd=0.1):
        self.theta = as_finite_array(theta, "theta", 2)
        self.noise_sd = check_number(noise_sd, "noise_sd", low=0.0)
        self.n_arms, self.n_features = self.theta.shape

    def sample_context(self, rng):
        """One context (d,) drawn with ``rng``."""
        return rng.standard_normal(self.n_features)

    def expected_rewards(self, t, context=None):
        """(n_arms,) expected reward of every arm for ``context`` (d,)."""
        return self.theta @ context

    def draw_reward(self, arm, t, context, rng):
        """One reward of ``arm`` for ``context``, drawn with ``rng``."""
        return draw_reward(rng, self.expected_rewards(t, context)[arm], False, self.noise_sd)
