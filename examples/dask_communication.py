"""Dask training: bytes moved between workers by data- and feature-parallel fits, and where splits are searched.

Part 1, data- vs feature-parallel. Per tree of depth D on W workers with F features and B bins (float64 gradient
and hessian = 16 bytes a bin; 8 with ``use_quantized_grad``, whose shards add packed integer sums, which halves
the histogram terms):
- data-parallel moves histograms: (W - 1) x F x B x 16 x 2^(D-1) bytes (the root plus the smaller child of every
  split above the last level), independent of the number of rows;
- feature-parallel moves one left/right byte per row per split level to each other worker: n x D x (W - 1) (its
  shards search their own features' complete histograms, which never travel).
So feature-parallel wins when rows are few relative to features x bins x 2^D, and loses on tall data. Trains both
modes on a LocalCluster (2 workers) for several shapes, prints predicted and measured megabytes per tree, and
writes examples/figures/dask_communication.png.

Part 2, reduce-scatter (``split_search="shards"``, the default) against the leader's search
(``split_search="leader"``, the gathered path) on the same data, 2 and 4 workers x 1 thread, 20k rows per
worker, 28 features, 256 bins, depth 6: the bytes each worker receives per tree level (the most loaded worker: the
leader, for the gathered path), the leader's wall time per level and the part of it spent waiting for the other
workers, and the CPU time of the leader's thread per level, split into its own work (histograms of its rows, sums,
subtraction, scan) and coordination (everything else: the grower's bookkeeping, pickling, the queue of commands).
CPU time, not wall time, because other processes on a loaded machine stretch wall times. Both searches give the
same model bit for bit (checked here).

    python examples/dask_communication.py            # both parts
    python examples/dask_communication.py --search   # part 2 only
"""
import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cluster  # noqa: E402
from _dask_blocks import scattered_blocks  # noqa: E402
from _figures import save_figure  # noqa: E402

DEPTH, BINS, TREES, WORKERS = 5, 64, 3, 2


def predicted_mb(n_rows, n_features):
    hist = n_features * BINS * 16 * 2 ** (DEPTH - 1)
    return {"data": (WORKERS - 1) * hist / 1e6,
            "feature": n_rows * DEPTH * (WORKERS - 1) / 1e6}


def measured_mb(client, n_rows, n_features, mode):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_rows, n_features))
    y = (X[:, 0] + X[:, 1] * X[:, 2 % n_features] > 0).astype(float)
    bst = cluster.train(client, {"objective": "binary:logistic", "max_depth": DEPTH, "max_bin": BINS},
                        *scattered_blocks(client, X, y, WORKERS),
                        num_boost_round=TREES, distributed_mode=mode, min_rows_per_worker=1)  # every worker
    return sum(bst.traffic_bytes.values()) / TREES / 1e6


def modes_table():
    shapes = [(2_000, 200), (10_000, 100), (50_000, 20), (200_000, 10)]
    rows = []
    with LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
            Client(lc) as client:
        for n, f in shapes:
            pred = predicted_mb(n, f)
            meas = {m: measured_mb(client, n, f, m) for m in ("data", "feature")}
            rows.append((n, f, pred, meas))
            winner = min(meas, key=meas.get)
            print(f"{n:>8} rows x {f:>4} features: MB/tree data {meas['data']:.2f} (predicted {pred['data']:.2f})  "
                  f"feature {meas['feature']:.2f} (predicted {pred['feature']:.2f})  -> {winner}-parallel moves less")
    fig, ax = plt.subplots(figsize=(7, 4))
    ratio = [n / f for n, f, _, _ in rows]
    for mode, marker in (("data", "o"), ("feature", "s")):
        ax.plot(ratio, [r[3][mode] for r in rows], marker=marker, label=f"{mode}-parallel, measured")
        ax.plot(ratio, [r[2][mode] for r in rows], linestyle="--", label=f"{mode}-parallel, predicted")
    ax.set(xscale="log", yscale="log", xlabel="rows / features", ylabel="MB between workers per tree",
           title=f"depth {DEPTH}, {BINS} bins, {WORKERS} workers")
    ax.legend()
    save_figure(fig, "dask_communication")


def level_numbers(bst):
    """Per tree level of a fit: bytes received and the leader's times (``fit_profile``)."""
    prof = bst.fit_profile
    levels = prof["levels"]
    return {"kB in, busiest worker": max(prof["received_bytes"]) / levels / 1e3,
            "kB in, mean worker": sum(prof["received_bytes"]) / len(prof["received_bytes"]) / levels / 1e3,
            "leader ms": prof["boost_s"] / levels * 1e3, "waiting ms": prof["wait_s"] / levels * 1e3,
            "leader CPU ms": prof["boost_cpu_s"] / levels * 1e3, "own work CPU ms": prof["work_cpu_s"] / levels * 1e3,
            "coordination CPU ms": (prof["boost_cpu_s"] - prof["work_cpu_s"]) / levels * 1e3}


def search_table(rows_per_worker=20_000, n_features=28, trees=5, repeats=5, workers=(2, 4)):
    """Print the reduce-scatter before/after table (part 2); returns {(workers, search): numbers}. The two
    searches alternate fit by fit; each number is the least of ``repeats`` fits (after a warm-up round)."""
    rng = np.random.default_rng(0)
    params = {"objective": "binary:logistic", "max_depth": 6, "max_bin": 256, "n_jobs": 1}
    table = {}
    for n_workers in workers:
        n = rows_per_worker * n_workers
        X = rng.standard_normal((n, n_features))
        y = (X[:, 0] + X[:, 1] * X[:, 2] + 0.5 * rng.standard_normal(n) > 0).astype(float)
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
                Client(lc) as client:
            dX, dy = scattered_blocks(client, X, y, n_workers)
            predictions = {}
            for attempt in range(repeats + 1):  # the first round warms up (the workers compile the kernels)
                for search in ("leader", "shards"):
                    bst = cluster.train(client, params, dX, dy, num_boost_round=trees, min_rows_per_worker=1,
                                        split_search=search)
                    predictions[search] = bst.predict(X[:2000])
                    numbers = level_numbers(bst)
                    kept = table.setdefault((n_workers, search), numbers)
                    if attempt:  # each number's best (least) of the repeats
                        table[(n_workers, search)] = {k: min(v, numbers[k]) for k, v in kept.items()}
            assert np.array_equal(predictions["leader"], predictions["shards"]), "the searches' models differ"
    columns = list(next(iter(table.values())))
    print(f"{rows_per_worker} rows per worker x {n_features} features, 256 bins, depth 6, {trees} trees, 1 thread per "
          f"worker; per tree level, least of {repeats} fits (the same model bit for bit either way)")
    print(f"{'workers':>7} {'split search':>15} " + " ".join(f"{c:>{len(c) + 1}}" for c in columns))
    for (n_workers, search), numbers in table.items():
        label = "leader (before)" if search == "leader" else "shards (after)"
        print(f"{n_workers:>7} {label:>15} " + " ".join(f"{numbers[c]:>{len(c) + 1}.2f}" for c in columns))
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", action="store_true", help="only part 2 (reduce-scatter against the leader)")
    args = parser.parse_args()
    if not args.search:
        modes_table()
    search_table()


if __name__ == "__main__":
    main()
