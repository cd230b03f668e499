"""Regret simulation: many independent runs of several policies on one environment.

Policies of ``bindings.bandits.policies`` with compiled kinds run whole horizons inside one compiled call
(``gbdt.kernels.bandits.simulate``), several runs at once on threads (the kernels release the GIL).
Any other object with ``n_arms``, ``random_state``, ``reset``/``select``/``update`` (e.g.
``RewardModelEpsilonGreedy``) runs in a Python loop on a deep copy. Run r of every policy starts
from the same seed, so policies are compared on common random numbers where their choices agree.
"""
import copy
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from bindings.bandits.envs import ArmEnvironment, LinearContextualArms
from bindings.bandits.policies import BanditPolicy, LinearPolicy
from bindings.validation import check_positive_int
from gbdt.kernels.bandits import select as K
from gbdt.kernels.bandits.simulate import simulate_arms_run, simulate_linear_run

__all__ = ["simulate", "SimulationResult"]


@dataclass
class SimulationResult:
    """Cumulative pseudo-regret of ``simulate``.

    names : policy names (P,); rounds : (C,) 1-based round counts of the checkpoints;
    regret : (P, n_runs, C) cumulative regret; pulls : (P, n_runs, n_arms) pulls per arm.
    """

    names: list
    rounds: np.ndarray
    regret: np.ndarray
    pulls: np.ndarray

    def mean_regret(self):
        """(P, C) cumulative regret averaged over runs."""
        return self.regret.mean(axis=1)

    def confidence_band(self, level=0.95):
        """(low, high), each (P, C): normal confidence interval of the mean regret over runs."""
        n_runs = self.regret.shape[1]
        z = NormalDist().inv_cdf(0.5 + level / 2)
        sd = self.regret.std(axis=1, ddof=1) if n_runs > 1 else np.zeros_like(self.mean_regret())
        half = z * sd / np.sqrt(n_runs)
        return self.mean_regret() - half, self.mean_regret() + half

    def final_regret(self):
        """{name: mean cumulative regret at the last checkpoint}."""
        return {name: float(v) for name, v in zip(self.names, self.mean_regret()[:, -1])}


def _compiled_spec(policy):
    """(kind, params, window) for the compiled simulation, or None for a Python-only policy."""
    if isinstance(policy, BanditPolicy):
        return policy.kind, policy.params, policy.window
    if isinstance(policy, LinearPolicy):
        params = np.zeros(K.N_PARAMS)
        params[K.P_EXPLORE] = policy.explore
        params[K.P_DISCOUNT] = 1.0
        return policy.kind, params, 0
    return None


def _run_compiled(spec, policy, env, horizon, checkpoints, rng):
    kind, params, window = spec
    regret = np.zeros(checkpoints.shape[0])
    pulls = np.zeros(env.n_arms)
    if isinstance(env, LinearContextualArms):
        ridge = policy.ridge if isinstance(policy, LinearPolicy) else 1.0
        simulate_linear_run(kind, params, window, ridge, env.theta, env.noise_sd, horizon,
                            checkpoints, rng, regret, pulls)
    elif isinstance(policy, LinearPolicy):
        raise ValueError(f"{policy!r} needs a contextual environment, got {type(env).__name__}")
    else:
        simulate_arms_run(kind, params, window, env.change_times, env.means_table, env.drift,
                          env.bernoulli, env.noise_sd, horizon, checkpoints, rng, regret, pulls)
    return regret, pulls


def _run_python(policy, env, horizon, checkpoints, rng, policy_seed):
    policy = copy.deepcopy(policy)
    policy.random_state = policy_seed
    policy.reset()
    regret = np.zeros(checkpoints.shape[0])
    pulls = np.zeros(env.n_arms)
    total = 0.0
    next_checkpoint = 0
    for t in range(horizon):
        context = env.sample_context(rng)
        arm = policy.select(context)
        means = env.expected_rewards(t, context)
        policy.update(arm, env.draw_reward(arm, t, context, rng), context)
        pulls[arm] += 1
        total += means.max() - means[arm]
        if next_checkpoint < checkpoints.shape[0] and checkpoints[next_checkpoint] == t + 1:
            regret[next_checkpoint] = total
            next_checkpoint += 1
    return regret, pulls


def simulate(policies, env, horizon, *, n_runs=10, seed=0, n_jobs=None, checkpoints=200):
    """Cumulative regret of each policy over ``n_runs`` independent runs of ``horizon`` rounds.

    Parameters
    ----------
    policies : dict name -> policy, or a list of policies (named by their repr). The objects
        are used as configurations and are not modified.
    env : an environment of ``bindings.bandits.envs``.
    horizon : rounds per run.
    n_runs, seed : runs per policy; run r draws from ``numpy.random.default_rng([seed, r])``.
    n_jobs : threads running runs concurrently (default: all CPUs).
    checkpoints : int, how many evenly spaced rounds to record, or an array of 1-based rounds.

    Returns
    -------
    SimulationResult
    """
    if not isinstance(policies, dict):
        policies = {repr(p): p for p in policies}
    if not policies:
        raise ValueError("policies must name at least one policy")
    if not isinstance(env, (ArmEnvironment, LinearContextualArms)):
        raise TypeError(f"env must be an environment of bindings.bandits.envs, got "
                        f"{type(env).__name__}")
    horizon = check_positive_int(horizon, "horizon")
    n_runs = check_positive_int(n_runs, "n_runs")
    n_jobs = check_positive_int(n_jobs or os.cpu_count() or 1, "n_jobs")
    if np.ndim(checkpoints) == 0:
        count = check_positive_int(checkpoints, "checkpoints")
        checkpoints = np.linspace(1, horizon, min(count, horizon))
    checkpoints = np.unique(np.asarray(checkpoints).round().astype(np.int64))
    if checkpoints[0] < 1 or checkpoints[-1] > horizon:
        raise ValueError(f"checkpoints must be rounds in [1, {horizon}]")
    for name, policy in policies.items():
        if policy.n_arms != env.n_arms:
            raise ValueError(f"policy {name!r} has {policy.n_arms} arms, env has {env.n_arms}")
        low, high = getattr(policy, "reward_bounds", (-np.inf, np.inf))
        env_bernoulli = getattr(env, "bernoulli", False)
        if (low, high) != (-np.inf, np.inf) and not (env_bernoulli and low <= 0 and high >= 1):
            raise ValueError(f"policy {name!r} needs rewards in [{low}, {high}], but "
                             f"{type(env).__name__} pays unbounded Gaussian rewards")
        if getattr(policy, "contextual", False) and not env.contextual:
            raise ValueError(f"policy {name!r} needs a contextual environment, got "
                             f"{type(env).__name__}")

    def one_run(task):
        policy, run = task
        rng = np.random.default_rng([seed, run])
        spec = _compiled_spec(policy)
        if spec is None:
            return _run_python(policy, env, horizon, checkpoints, rng, [seed, run, 1])
        return _run_compiled(spec, policy, env, horizon, checkpoints, rng)

    tasks = [(policy, run) for policy in policies.values() for run in range(n_runs)]
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        results = list(pool.map(one_run, tasks))
    shape = (len(policies), n_runs)
    regret = np.array([r for r, _ in results]).reshape(shape + (checkpoints.shape[0],))
    pulls = np.array([p for _, p in results]).reshape(shape + (env.n_arms,))
    return SimulationResult(list(policies), checkpoints, regret, pulls)
