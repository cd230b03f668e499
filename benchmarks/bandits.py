"""Bandit simulation speed against MABWiser on the same Bernoulli simulation.

Beta-Bernoulli Thompson sampling on 10 arms (means 0.05 ... 0.5). Three ways to run it:

- ours, compiled: ``bindings.bandits.simulation.simulate`` runs the whole horizon in one compiled
  call (one run per thread; here one thread so the comparison is per core);
- ours, Python loop: ``policy.select()`` / ``policy.update()`` once per round from Python;
- MABWiser: ``mab.predict()`` / ``mab.partial_fit()`` once per round, its online interface.

MABWiser needs ~0.5 ms a round, so it runs ``--peer-rounds`` rounds; times are compared per round.
Also times UCB1 and KL-UCB compiled runs and LinUCB (10 arms, 10 features) against MABWiser's.

Run: ``python -m benchmarks.bandits [--rounds 1000000] [--peer-rounds 5000] [--repeats 3]``.
Prints seconds per 1M-round run and per-round ratios ours / MABWiser (< 1: ours faster), and
writes benchmarks/figures/bandits.png.
"""
import argparse
import os
import time
import timeit

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402
from mabwiser.mab import MAB, LearningPolicy  # noqa: E402

from benchmarks._figures import save_figure  # noqa: E402
from bindings.bandits import (KLUCB, UCB1, BernoulliArms, BetaThompsonSampling, LinearContextualArms,  # noqa: E402
                              LinUCB, simulate)

MEANS = np.linspace(0.05, 0.5, 10)


def compiled_run_seconds(policy, env, rounds, repeats):
    """Median (wall, CPU) seconds of one compiled run of ``rounds`` rounds after a warm-up run.

    CPU time is reported too because on a shared machine wall time includes waiting for a core.
    """
    def run():
        simulate([policy], env, rounds, n_runs=1, n_jobs=1, checkpoints=1)
    run()
    wall = float(np.median(timeit.repeat(run, number=1, repeat=repeats)))
    cpu = float(np.median(timeit.repeat(run, number=1, repeat=repeats, timer=time.process_time)))
    return wall, cpu


def python_loop_seconds(policy, rounds, contexts=None, theta=None):
    """Seconds for ``rounds`` select/update calls of one of our policies."""
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for t in range(rounds):
        context = None if contexts is None else contexts[t]
        arm = policy.select(context)
        mean = MEANS[arm] if theta is None else theta[arm] @ context
        policy.update(arm, float(rng.random() < mean) if theta is None else mean, context)
    return time.perf_counter() - start


def mabwiser_loop_seconds(learning_policy, rounds, contexts=None, theta=None):
    """Seconds for ``rounds`` predict/partial_fit calls of MABWiser (after one initial fit)."""
    rng = np.random.default_rng(0)
    arms = list(range(10))
    mab = MAB(arms=arms, learning_policy=learning_policy, seed=0)
    if contexts is None:
        mab.fit(arms, [0, 1] * 5)
    else:
        mab.fit(arms, np.zeros(10), contexts[:10])
    start = time.perf_counter()
    for t in range(rounds):
        if contexts is None:
            arm = mab.predict()
            mab.partial_fit([arm], [int(rng.random() < MEANS[arm])])
        else:
            x = contexts[t:t + 1]
            arm = mab.predict(x)
            mab.partial_fit([arm], [float(theta[arm] @ x[0])], x)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1_000_000)
    parser.add_argument("--peer-rounds", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    numba.set_num_threads(1)
    print(f"threads: 1 (one run per thread; numba {numba.__version__}), cpus here: "
          f"{os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    env = BernoulliArms(MEANS)
    per_round = {}
    for name, policy in [("thompson", BetaThompsonSampling(10)), ("ucb1", UCB1(10)),
                         ("kl-ucb", KLUCB(10))]:
        seconds, cpu = compiled_run_seconds(policy, env, args.rounds, args.repeats)
        per_round[f"{name} compiled"] = seconds / args.rounds
        print(f"{name:9s} compiled: {seconds:.3f} s wall, {cpu:.3f} s CPU per "
              f"{args.rounds:,}-round run of 10 arms")
    # Runs are independent compiled calls that release the GIL: threads should scale with cores.
    runs = 2 * (os.cpu_count() or 1)
    timings = {}
    for jobs in (1, os.cpu_count() or 1):
        start = time.perf_counter()
        simulate([BetaThompsonSampling(10)], env, args.rounds // 10, n_runs=runs, n_jobs=jobs)
        timings[jobs] = time.perf_counter() - start
    print(f"simulate {runs} Thompson runs of {args.rounds // 10:,} rounds: n_jobs=1 "
          f"{timings[1]:.2f} s, n_jobs={max(timings)} {timings[max(timings)]:.2f} s, speed-up "
          f"{timings[1] / timings[max(timings)]:.2f}")
    peer = args.peer_rounds
    ours_loop = python_loop_seconds(BetaThompsonSampling(10, random_state=0), peer) / peer
    theirs = mabwiser_loop_seconds(LearningPolicy.ThompsonSampling(), peer) / peer
    per_round["thompson python loop"] = ours_loop
    per_round["thompson mabwiser"] = theirs
    print(f"thompson per round: compiled {per_round['thompson compiled'] * 1e9:.0f} ns, "
          f"python loop {ours_loop * 1e6:.1f} us, mabwiser {theirs * 1e6:.1f} us")
    print(f"ratio ours compiled / mabwiser: {per_round['thompson compiled'] / theirs:.2e}  "
          f"(mabwiser would need {theirs * args.rounds:.0f} s for {args.rounds:,} rounds)")
    print(f"ratio ours python loop / mabwiser: {ours_loop / theirs:.3f}")

    rng = np.random.default_rng(1)
    theta = rng.standard_normal((10, 10))
    contexts = rng.standard_normal((peer, 10))
    lin_env = LinearContextualArms(theta, noise_sd=0.0)
    lin_compiled = compiled_run_seconds(LinUCB(10, 10), lin_env, 100_000, 1)[0] / 100_000
    lin_loop = python_loop_seconds(LinUCB(10, 10), peer, contexts, theta) / peer
    lin_theirs = mabwiser_loop_seconds(LearningPolicy.LinUCB(alpha=1.0), peer, contexts,
                                       theta) / peer
    per_round.update({"linucb compiled": lin_compiled, "linucb python loop": lin_loop,
                      "linucb mabwiser": lin_theirs})
    print(f"linucb per round: compiled {lin_compiled * 1e6:.2f} us, python loop "
          f"{lin_loop * 1e6:.1f} us, mabwiser {lin_theirs * 1e6:.1f} us; ratios ours / mabwiser: "
          f"compiled {lin_compiled / lin_theirs:.2e}, python loop {lin_loop / lin_theirs:.3f}")

    os.makedirs("benchmarks/figures", exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = list(per_round)
    ax.barh(names, [per_round[n] * 1e6 for n in names], color="tab:blue")
    ax.set_xscale("log")
    ax.set_xlabel("microseconds per round (log scale, 1 thread)")
    ax.set_title("10-armed bandit simulation: ours vs MABWiser")
    save_figure(fig, "bandits")


if __name__ == "__main__":
    main()
