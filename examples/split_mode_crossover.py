"""Data- vs feature-parallel histograms: which is faster on a wide and on a tall data set, and what
``split_mode="auto"`` picks.

Trains the same binary model with ``split_mode`` "data", "feature" and "auto" on a wide task
(20k x 1000) and a tall task (1M x 8), same trees/depth/threads, the modes interleaved and each
timed ``--repeats`` times (the fastest kept, as the machine may be shared). The data are binned
once beforehand and the time of a 0-round fit is subtracted, so the times are boosting only; the
seconds inside ``HistogramBuilder.build`` (the part ``split_mode`` changes) are shown apart.
Prints the seconds, the winner and the mode auto chose at each tree level (recorded from
``HistogramBuilder.mode_for``, the rule in gbdt/histogram.py); writes
examples/figures/split_mode_crossover.png.

    python examples/split_mode_crossover.py [--threads 2] [--trees 5] [--repeats 3]
"""
import argparse
import contextlib
import os
import sys
import time
from collections import Counter
from pathlib import Path

# Numba's omp layer spins waiting threads by default; on a shared 2-core machine that made 2-thread
# fits up to 40x slower than with passive waits. Must be set before the OpenMP runtime loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _figures import save_figure  # noqa: E402
from benchmarks.synthetic import binary_task  # noqa: E402
from bindings import Dataset, train  # noqa: E402
from gbdt.grower import TreeGrower  # noqa: E402
from gbdt.histogram import HistogramBuilder  # noqa: E402

MODES = ("data", "feature", "auto")
TASKS = {"wide 20k x 1000": (20_000, 1000), "tall 1M x 8": (1_000_000, 8)}


@contextlib.contextmanager
def instrumented_builder(log):
    """Add the seconds spent in ``HistogramBuilder.build`` to ``log["hist_s"]`` and append every
    strategy ``auto`` picks (one per tree level) to ``log["auto"]``; the methods are restored after.
    Trees grow with the Python driver, which calls the builder per level (the compiled grower
    makes the same histograms with the same strategies in one call per tree)."""
    build, mode_for, compiled = HistogramBuilder.build, HistogramBuilder.mode_for, TreeGrower.compiled

    def timed_build(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return build(self, *args, **kwargs)
        finally:
            log["hist_s"] += time.perf_counter() - start

    def recorded_mode_for(self, *level):
        plan = mode_for(self, *level)
        if self.split_mode == "auto":
            log["auto"].append(plan[0])
        return plan

    HistogramBuilder.build, HistogramBuilder.mode_for, TreeGrower.compiled = timed_build, recorded_mode_for, False
    try:
        yield log
    finally:
        HistogramBuilder.build, HistogramBuilder.mode_for, TreeGrower.compiled = build, mode_for, compiled


def time_modes(dataset, params, trees, repeats):
    """({mode: fastest boosting seconds}, {mode: fastest histogram seconds}, Counter of auto's
    per-level choices).

    Boosting seconds = a fit's seconds minus those of a 0-round fit, which pays what every mode
    pays alike (bin edges, which ``train`` recomputes per fit, and the cached bins' lookup).
    """
    fit = {mode: float("inf") for mode in ("setup",) + MODES}
    hist = dict(fit)
    picks = []
    for _ in range(repeats):
        for mode in ("setup",) + MODES:  # interleaved, so a change in load hits every mode alike
            log = {"hist_s": 0.0, "auto": picks}
            with instrumented_builder(log):
                start = time.perf_counter()
                train({**params, "split_mode": "data" if mode == "setup" else mode}, dataset,
                      0 if mode == "setup" else trees)
                fit[mode] = min(fit[mode], time.perf_counter() - start)
            hist[mode] = min(hist[mode], log["hist_s"])
    boosting = {mode: fit[mode] - fit["setup"] for mode in MODES}
    return boosting, {mode: hist[mode] for mode in MODES}, Counter(picks)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--trees", type=int, default=5)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    params = {"objective": "binary:logistic", "max_depth": args.depth, "max_bin": 256, "learning_rate": 0.1,
              "n_jobs": args.threads}
    X, y = binary_task(1000, 8)
    train(params, Dataset(X, y), 2)  # compile (or load from the Numba cache) outside the timings

    print(f"{args.trees} trees, depth {args.depth}, {args.threads} threads; boosting seconds (data binned before)")
    results = {}
    for name, (rows, features) in TASKS.items():
        X, y = binary_task(rows, features)
        dataset = Dataset(X, y)
        train(params, dataset, 0)  # bins the data once; every mode below reuses the cached bins
        boosting, hist, picks = time_modes(dataset, params, args.trees, args.repeats)
        results[name] = boosting, hist
        winner = min(("data", "feature"), key=boosting.get)
        auto_mode = "/".join(f"{mode} {n}x" for mode, n in picks.most_common())
        print(f"{name:16s} boosting: data {boosting['data']:6.2f} s  feature {boosting['feature']:6.2f} s  "
              f"auto {boosting['auto']:6.2f} s -> {winner} faster by "
              f"{max(boosting['data'], boosting['feature']) / boosting[winner]:.2f}x; auto chose {auto_mode} (levels)")
        print(f"{'':16s} histograms: data {hist['data']:6.2f} s  feature {hist['feature']:6.2f} s  "
              f"auto {hist['auto']:6.2f} s")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.27
    for ax, part, label in zip(axes, (0, 1), ("boosting seconds", "seconds in histogram building")):
        for i, mode in enumerate(MODES):
            ax.bar([j + (i - 1) * width for j in range(len(results))], [r[part][mode] for r in results.values()],
                   width, label=f'split_mode="{mode}"')
        ax.set_xticks(range(len(results)), list(results))
        ax.set(ylabel=label)
    axes[0].legend()
    fig.suptitle(f"{args.trees} trees, depth {args.depth}, {args.threads} threads")
    save_figure(fig, "split_mode_crossover")


if __name__ == "__main__":
    main()
