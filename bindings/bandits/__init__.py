"""Multi-armed bandits: the public API of the topic in one import.

Policies (:mod:`.policies`): ``EpsilonGreedy``, the UCB family (``UCB1``, ``UCBV``, ``KLUCB``,
``DiscountedUCB``, ``SlidingWindowUCB``), Thompson sampling (``BetaThompsonSampling``,
``GaussianThompsonSampling``, ``DiscountedThompsonSampling``), ``Softmax``, contextual ``LinUCB``,
``LinearThompsonSampling`` and ``RewardModelEpsilonGreedy``. Environments (:mod:`.envs`), simulation of
whole horizons in compiled code (:mod:`.simulation`), off-policy estimators (:mod:`.off_policy`) and the
deployment test built on them (:mod:`.safe_deployment`)::

    from bindings.bandits import UCB1, BernoulliArms, simulate, doubly_robust, should_deploy
"""
from bindings.bandits.envs import (BernoulliArms, DriftingArms, GaussianArms, LinearContextualArms,
                                   PiecewiseStationaryArms)
from bindings.bandits.off_policy import (PolicyValueEstimate, check_logged_data, direct_method, doubly_robust,
                                         inverse_propensity_score, self_normalized_ips, switch_doubly_robust)
from bindings.bandits.policies import (KLUCB, UCB1, UCBV, BetaThompsonSampling, DiscountedThompsonSampling,
                                       DiscountedUCB, EpsilonGreedy, GaussianThompsonSampling, LinearThompsonSampling,
                                       LinUCB, RewardModelEpsilonGreedy, SlidingWindowUCB, Softmax)
from bindings.bandits.safe_deployment import DeploymentDecision, policy_value_bound, should_deploy
from bindings.bandits.simulation import SimulationResult, simulate

__all__ = [
    "EpsilonGreedy", "UCB1", "UCBV", "KLUCB", "BetaThompsonSampling", "GaussianThompsonSampling", "Softmax",
    "DiscountedUCB", "DiscountedThompsonSampling", "SlidingWindowUCB", "LinUCB", "LinearThompsonSampling",
    "RewardModelEpsilonGreedy",
    "BernoulliArms", "GaussianArms", "PiecewiseStationaryArms", "DriftingArms", "LinearContextualArms",
    "simulate", "SimulationResult",
    "PolicyValueEstimate", "inverse_propensity_score", "self_normalized_ips", "direct_method", "doubly_robust",
    "switch_doubly_robust", "check_logged_data",
    "policy_value_bound", "should_deploy", "DeploymentDecision",
]
