"""Regret simulation: many independent runs of several policies on one environment.

Policies of ``bindings.bandits.policies`` with compiled kinds run whole horizons inside one compiled call
(``gbdt.kernels.bandits.simulate``), several runs at once on threads (the kernels release the GIL).
Any other object with ``n_arms``, ``random_state``, ``reset``/``select``/``update`` (e.g.
``RewardModelEpsilonGreedy``) runs in a Python loop on a deep copy. Run r of every policy starts
from the same seed, so policies are compared on common random numbers where their choices agree.

With ``log=True`` every round is also recorded as a logging policy's record for off-policy
evaluation: the arm played (its position in the policy's ``arms``), the reward, the propensity
(the probability the policy gave that arm, see ``Policy.action_probabilities``) and, on
contextual arms, the context. Logging draws its Monte-Carlo samples from a stream of its own, so
the regret of a run is the same with and without it.
"""
import copy
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from bindings.bandits.base import Policy
from bindings.validation import check_positive_int
from bindings.bandits.contextual import LinearPolicy
from bindings.bandits.envs import ArmEnvironment, LinearContextualArms
from bindings.bandits.policies import BanditPolicy
from gbdt.kernels.bandits import select as K
from gbdt.kernels.bandits.simulate import simulate_arms_run, simulate_linear_run

__all__ = ["simulate", "SimulationResult"]


@dataclass
class SimulationResult:
    """Cumulative pseudo-regret of ``simulate``, and its logs when asked for.

    names : policy names (P,); rounds : (C,) 1-based round counts of the checkpoints;
    regret : (P, n_runs, C) cumulative regret; pulls : (P, n_runs, n_arms) pulls per arm.
    With ``log=True``: actions (P, n_runs, horizon) int64 arm positions, rewards and
    propensities (P, n_runs, horizon) float64, and on contextual arms contexts
    (P, n_runs, horizon, n_features); otherwise None.
    """

    names: list
    rounds: np.ndarray
    regret: np.ndarray
    pulls: np.ndarray
    actions: np.ndarray = None
    rewards: np.ndarray = None
    propensities: np.ndarray = None
    contexts: np.ndarray = None

    def logged_data(self, policy=0, run=0):
        """The log of one run as keyword arguments of the off-policy estimators: a dict of
        actions, rewards, propensities (each (horizon,)) and, on contextual arms, contexts.

        policy : its name or its index in ``names``.
        """
        if self.actions is None:
            raise ValueError("this result has no logs: run simulate(..., log=True)")
        p = self.names.index(policy) if isinstance(policy, str) else policy
        data = dict(actions=self.actions[p, run], rewards=self.rewards[p, run],
                    propensities=self.propensities[p, run])
        if self.contexts is not None:
            data["contexts"] = self.contexts[p, run]
        return data

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
        params[K.P_EXPLORE] = policy.exploration
        params[K.P_DISCOUNT] = 1.0
        return policy.kind, params, 0
    return None


def _log_buffers(env, horizon, log):
    """Per-run log arrays: actions, rewards, propensities (horizon,), contexts (horizon, d);
    length 0 when not logging (the kernels skip logging then)."""
    rounds = horizon if log else 0
    d = env.n_features if env.contextual else 0
    return (np.zeros(rounds, dtype=np.int64), np.zeros(rounds), np.zeros(rounds),
            np.zeros((rounds if d else 0, d)))


def _run_compiled(spec, policy, env, horizon, checkpoints, rng, log_rng, n_samples, log):
    kind, params, window = spec
    regret = np.zeros(checkpoints.shape[0])
    pulls = np.zeros(env.n_arms)
    actions, rewards, propensities, contexts = _log_buffers(env, horizon, log)
    if isinstance(env, LinearContextualArms):
        ridge = policy.ridge if isinstance(policy, LinearPolicy) else 1.0
        simulate_linear_run(kind, params, window, ridge, env.theta, env.noise_sd, horizon,
                            checkpoints, rng, regret, pulls, log_rng, n_samples, actions, rewards,
                            propensities, contexts)
    elif isinstance(policy, LinearPolicy):
        raise ValueError(f"{policy!r} needs a contextual environment, got {type(env).__name__}")
    else:
        simulate_arms_run(kind, params, window, env.change_times, env.means_table, env.drift,
                          env.bernoulli, env.noise_sd, horizon, checkpoints, rng, regret, pulls,
                          log_rng, n_samples, actions, rewards, propensities)
    return regret, pulls, (actions, rewards, propensities, contexts)


def _run_python(policy, env, horizon, checkpoints, rng, policy_seed, n_samples, log):
    policy = copy.deepcopy(policy)
    policy.random_state = policy_seed
    policy.reset()
    regret = np.zeros(checkpoints.shape[0])
    pulls = np.zeros(env.n_arms)
    logs = _log_buffers(env, horizon, log)
    actions, rewards, propensities, contexts = logs
    sampled = getattr(policy, "sampled", False)
    total = 0.0
    next_checkpoint = 0
    for t in range(horizon):
        context = env.sample_context(rng)
        if log:
            probs = policy.action_probabilities(context, n_samples=n_samples)
        label = policy.select(context)
        arm = policy._arms.index_of(label) if isinstance(policy, Policy) else label
        means = env.expected_rewards(t, context)
        reward = env.draw_reward(arm, t, context, rng)
        policy.update(label, reward, context)
        if log:
            # A sampled policy's played choice joins its simulated ones (see the kernels' docs).
            actions[t], rewards[t] = arm, reward
            propensities[t] = (probs[arm] * n_samples + 1) / (n_samples + 1) if sampled \
                else probs[arm]
            if contexts.shape[0]:
                contexts[t] = context
        pulls[arm] += 1
        total += means.max() - means[arm]
        if next_checkpoint < checkpoints.shape[0] and checkpoints[next_checkpoint] == t + 1:
            regret[next_checkpoint] = total
            next_checkpoint += 1
    return regret, pulls, logs


def simulate(policies, env, horizon, *, n_runs=10, seed=0, n_jobs=None, checkpoints=200,
             log=False, propensity_samples=1000):
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
    log : record every round (actions, rewards, propensities, contexts) in the result; memory
        grows as P * n_runs * horizon.
    propensity_samples : Monte-Carlo draws per round behind a Thompson policy's propensities
        (standard error <= 0.5 / sqrt(propensity_samples)); exact policies ignore it.

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
    n_samples = check_positive_int(propensity_samples, "propensity_samples")
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
        if log and not hasattr(policy, "action_probabilities"):
            raise ValueError(f"log=True needs the propensities of every policy, but policy "
                             f"{name!r} has no action_probabilities method")

    def one_run(task):
        policy, run = task
        rng = np.random.default_rng([seed, run])
        log_rng = np.random.default_rng([seed, run, 2])
        spec = _compiled_spec(policy)
        if spec is None:
            return _run_python(policy, env, horizon, checkpoints, rng, [seed, run, 1], n_samples,
                               log)
        return _run_compiled(spec, policy, env, horizon, checkpoints, rng, log_rng, n_samples, log)

    tasks = [(policy, run) for policy in policies.values() for run in range(n_runs)]
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        results = list(pool.map(one_run, tasks))
    shape = (len(policies), n_runs)
    regret = np.array([r for r, _, _ in results]).reshape(shape + (checkpoints.shape[0],))
    pulls = np.array([p for _, p, _ in results]).reshape(shape + (env.n_arms,))
    logs = {}
    if log:
        for i, name in enumerate(("actions", "rewards", "propensities", "contexts")):
            logs[name] = np.array([r[2][i] for r in results]).reshape(
                shape + results[0][2][i].shape)
        if not env.contextual:
            del logs["contexts"]
    return SimulationResult(list(policies), checkpoints, regret, pulls, **logs)
