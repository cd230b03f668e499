"""Sequential roll-out: the deployment test of ``safe_deployment`` repeated as logs grow, with
the error budget delta spent across the looks.

Testing k times at delta each lets a policy that is not better through with probability up to
k delta. Alpha spending gives look j its own delta_j with sum_j delta_j <= delta; each look's
bounds hold with probability >= 1 - delta_j whatever happened at the other looks, so by the union
bound the probability that *any* look deploys a policy that is not better stays <= delta, however
the looks depend on one another and whenever the roll-out stops.

Spending schedules:

    "bonferroni"  delta_j = delta / max_looks for j < max_looks (no look beyond)
    "geometric"   delta_j = delta (1 - ratio) ratio^j, no limit on the number of looks; early
                  looks get the larger share

The bounds treat the logged rows as independent with a common mean: true when the traffic
shares of the schedule (and so the logging policies) are fixed in advance, whatever the looks
decide, and each row carries the propensities it was logged with.
"""
from dataclasses import dataclass

from bindings.validation import check_number, check_positive_int
from bindings.bandits.safe_deployment import should_deploy

__all__ = ["SequentialRollout", "RolloutDecision", "spending_schedule"]

SPENDINGS = ("bonferroni", "geometric")


def spending_schedule(delta, look, *, spending="bonferroni", max_looks=None, ratio=0.5):
    """delta_j of 0-based ``look`` j under ``spending``; sum over all looks <= delta."""
    if spending == "bonferroni":
        if max_looks is None:
            raise ValueError("bonferroni spending needs max_looks, the number of looks planned")
        if look >= max_looks:
            raise ValueError(f"all {max_looks} planned looks are spent: delta is used up")
        return delta / max_looks
    if spending == "geometric":
        if max_looks is not None and look >= max_looks:
            raise ValueError(f"all {max_looks} planned looks are spent")
        return delta * (1 - ratio) * ratio ** look
    raise ValueError(f"spending must be one of {SPENDINGS}, got {spending!r}")


@dataclass
class RolloutDecision:
    """Outcome of one look: the 0-based ``look``, the ``look_delta`` it spent and
    ``should_deploy``'s deploy flag and bounds at that delta."""

    look: int
    look_delta: float
    deploy: bool
    new_lower: float
    baseline_upper: float


class SequentialRollout:
    """Repeated ``should_deploy`` looks whose overall error probability is <= ``delta``.

    Parameters
    ----------
    delta : the probability, over the whole roll-out, of ever deploying a policy that is not
        better than the baseline.
    max_looks : looks planned (required by "bonferroni"; a cap for "geometric").
    spending : "bonferroni" or "geometric" (see the module docstring); ratio : the geometric
        decay of the per-look share.
    **test_options : passed to every ``should_deploy`` (method, reward_range, clip, weight_bound,
        n_bootstrap, random_state).

    ``look(new, baseline, actions=..., rewards=..., propensities=..., logging_probs=...)`` runs the
    next look on the logs so far; ``looks`` lists the decisions made.
    """

    def __init__(self, delta=0.05, *, max_looks=10, spending="bonferroni", ratio=0.5,
                 **test_options):
        self.delta = check_number(delta, "delta", low=0.0, high=1.0, low_open=True)
        self.max_looks = None if max_looks is None else check_positive_int(max_looks, "max_looks")
        if spending not in SPENDINGS:
            raise ValueError(f"spending must be one of {SPENDINGS}, got {spending!r}")
        self.spending = spending
        self.ratio = check_number(ratio, "ratio", low=0.0, high=1.0, low_open=True)
        if self.ratio == 1.0:
            raise ValueError("ratio must be below 1 (ratio 1 would give every look delta 0)")
        self.test_options = test_options
        self.looks = []

    def next_delta(self):
        """delta_j of the next look."""
        return spending_schedule(self.delta, len(self.looks), spending=self.spending,
                                 max_looks=self.max_looks, ratio=self.ratio)

    def look(self, new, baseline, *, actions, rewards, propensities, logging_probs=None):
        """One deployment test at the next look's delta; returns (and records) its decision."""
        look_delta = self.next_delta()
        decision = should_deploy(new, baseline, look_delta, actions=actions, rewards=rewards,
                                 propensities=propensities, logging_probs=logging_probs,
                                 **self.test_options)
        result = RolloutDecision(len(self.looks), look_delta, decision.deploy, decision.new_lower,
                                 decision.baseline_upper)
        self.looks.append(result)
        return result
