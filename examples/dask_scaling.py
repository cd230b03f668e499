"""Parallel efficiency of Dask training from 1 to 2 to 4 workers, next to xgboost.dask.

One synthetic binary task (default 400k x 28), the same row blocks, 1 thread per worker, a fresh
LocalCluster per worker count. Efficiency = T(1 worker) / (W x T(W workers)); both libraries are
timed in the same cluster, one after the other. Worker counts above the machine's cores are
skipped (they would measure time-slicing, not scaling). Writes examples/figures/dask_scaling.png.

    python examples/dask_scaling.py [--rows 400000] [--workers 1,2,4] [--quantized]
"""
import argparse
import os
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import xgboost as xgb  # noqa: E402
import xgboost.dask  # noqa: E402,F401  (registers xgb.dask)
from distributed import Client, LocalCluster  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cluster  # noqa: E402
from _dask_blocks import scattered_blocks  # noqa: E402
from _figures import save_figure  # noqa: E402
from benchmarks.synthetic import binary_task  # noqa: E402

PARAMS = {"objective": "binary:logistic", "max_depth": 6, "learning_rate": 0.1, "max_bin": 256}
ROUNDS = 50


def time_both(n_workers, X, y, quantized=False):
    """(our seconds, xgboost.dask seconds) on a fresh cluster of ``n_workers`` x 1 thread; ours with
    ``use_quantized_grad`` when ``quantized`` (XGBoost has no such option: its fit stays exact)."""
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
            Client(lc) as client:
        dX, dy = scattered_blocks(client, X, y, 4 * n_workers)  # both fits start with the blocks on the workers
        # every worker, even on data the default would leave to fewer workers
        cluster.train(client, PARAMS, X[:2000], y[:2000], num_boost_round=2, min_rows_per_worker=1)  # load kernels
        t = time.perf_counter()
        cluster.train(client, {**PARAMS, "n_jobs": 1, "use_quantized_grad": quantized}, dX, dy, num_boost_round=ROUNDS,
                      min_rows_per_worker=1)
        ours = time.perf_counter() - t
        t = time.perf_counter()
        xgb.dask.train(client, {**PARAMS, "tree_method": "hist", "nthread": 1}, xgb.dask.DaskDMatrix(client, dX, dy),
                       ROUNDS)
        return ours, time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--quantized", action="store_true", help="train ours with use_quantized_grad")
    args = ap.parse_args(argv)
    counts = [w for w in map(int, args.workers.split(",")) if w <= os.cpu_count()]
    X, y = binary_task(args.rows)
    seconds = {}
    print(f"{'workers':>8} {'ours s':>8} {'eff':>6} {'xgb.dask s':>11} {'eff':>6} {'xgb/ours':>9}")
    for w in counts:  # a row as soon as it is measured, so a run cut short still reports
        ours, theirs = seconds[w] = time_both(w, X, y, args.quantized)
        print(f"{w:8d} {ours:8.2f} {seconds[counts[0]][0] * counts[0] / (w * ours):6.2f} {theirs:11.2f} "
              f"{seconds[counts[0]][1] * counts[0] / (w * theirs):6.2f} {theirs / ours:9.2f}", flush=True)
    fig, ax = plt.subplots(figsize=(5, 4))
    for idx, label in ((0, "gbdt-engine"), (1, "xgboost.dask")):
        ax.plot(counts, [seconds[w][idx] for w in counts], "o-", label=label)
    ax.set(xlabel="workers (1 thread each)", ylabel="wall seconds", xticks=counts,
           title=f"{args.rows // 1000}k x 28, {ROUNDS} rounds, depth 6 ({os.cpu_count()} cores)")
    ax.legend()
    save_figure(fig, "dask_scaling")


if __name__ == "__main__":
    main()
