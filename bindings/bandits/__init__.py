"""Multi-armed bandits: the public API of the topic in one import.

Policies: ``EpsilonGreedy``, the UCB family (``UCB1``, ``UCBV``, ``KLUCB``, ``DiscountedUCB``,
``SlidingWindowUCB``), Thompson sampling (``BetaThompsonSampling``, ``GaussianThompsonSampling``,
``DiscountedThompsonSampling``), ``Softmax`` (:mod:`.policies`) and the contextual ``LinUCB``,
``LinearThompsonSampling`` and ``RewardModelEpsilonGreedy`` (:mod:`.contextual`), all with arm
labels of any hashable type, ``action_probabilities``, ``predict_expectations`` and
``add_arm``/``remove_arm`` (:mod:`.base`). Environments (:mod:`.envs`), simulation of whole
horizons in compiled code with optional logs (:mod:`.simulation`), logged-data generation
(:mod:`.synthetic`), off-policy estimators (:mod:`.off_policy`), their summary table
(:mod:`.evaluation`), cross-fitted reward models (:mod:`.reward_model`), and safe deployment
(:mod:`.safe_deployment`) with sequential roll-outs (:mod:`.rollout`)::

    from bindings.bandits import UCB1, BernoulliArms, simulate, OffPolicyEvaluation, should_deploy
"""
from bindings.bandits.contextual import LinearThompsonSampling, LinUCB, RewardModelEpsilonGreedy
from bindings.bandits.envs import (BernoulliArms, DriftingArms, GaussianArms, LinearContextualArms,
                                   PiecewiseStationaryArms)
from bindings.bandits.evaluation import OffPolicyEvaluation
from bindings.bandits.off_policy import (PolicyValueEstimate, bootstrap_interval, check_logged_data, direct_method,
                                         doubly_robust, doubly_robust_with_shrinkage, inverse_propensity_score,
                                         replay_method, self_normalized_doubly_robust, self_normalized_ips,
                                         switch_doubly_robust)
from bindings.bandits.policies import (KLUCB, UCB1, UCBV, BetaThompsonSampling, DiscountedThompsonSampling,
                                       DiscountedUCB, EpsilonGreedy, GaussianThompsonSampling, SlidingWindowUCB,
                                       Softmax)
from bindings.bandits.reward_model import RegressionModel
from bindings.bandits.rollout import RolloutDecision, SequentialRollout, spending_schedule
from bindings.bandits.safe_deployment import (DeploymentDecision, importance_weight_range, policy_value_bound,
                                              should_deploy)
from bindings.bandits.simulation import SimulationResult, simulate
from bindings.bandits.synthetic import LoggedBanditFeedback, SyntheticBanditDataset

__all__ = [
    "EpsilonGreedy", "UCB1", "UCBV", "KLUCB", "BetaThompsonSampling", "GaussianThompsonSampling", "Softmax",
    "DiscountedUCB", "DiscountedThompsonSampling", "SlidingWindowUCB", "LinUCB", "LinearThompsonSampling",
    "RewardModelEpsilonGreedy",
    "BernoulliArms", "GaussianArms", "PiecewiseStationaryArms", "DriftingArms", "LinearContextualArms",
    "simulate", "SimulationResult",
    "SyntheticBanditDataset", "LoggedBanditFeedback",
    "PolicyValueEstimate", "inverse_propensity_score", "self_normalized_ips", "direct_method", "doubly_robust",
    "switch_doubly_robust", "doubly_robust_with_shrinkage", "self_normalized_doubly_robust", "replay_method",
    "check_logged_data", "bootstrap_interval", "OffPolicyEvaluation", "RegressionModel",
    "policy_value_bound", "should_deploy", "DeploymentDecision", "importance_weight_range",
    "SequentialRollout", "RolloutDecision", "spending_schedule",
]
