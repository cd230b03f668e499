"""Main job: train on an embedded Dask LocalCluster and compare with xgboost.dask on the same cluster.

Two data sets, each split into row blocks spread over the workers: statsmodels' Fair affairs survey
(real, 6366 x 8) and a synthetic 400k x 28 binary task. Same parameters, same cluster (2 worker
processes x 1 thread unless ``--workers``/``--threads`` say otherwise), same blocks. Prints test
AUC, wall time and peak worker memory (the largest increase of any worker's peak RSS over its RSS
before the fit, with the blocks already in memory) of both and writes
examples/figures/dask_vs_xgboost.png.

    python examples/dask_vs_xgboost.py [--rows 400000] [--workers 2] [--threads 1]
"""
import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
import xgboost.dask  # noqa: E402,F401  (registers xgb.dask)
from distributed import Client, LocalCluster  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cluster  # noqa: E402
from _dask_blocks import scattered_blocks  # noqa: E402
from _figures import save_figure  # noqa: E402
from benchmarks.synthetic import binary_task  # noqa: E402

PARAMS = {"objective": "binary:logistic", "max_depth": 6, "learning_rate": 0.1, "max_bin": 256}
ROUNDS = 50


def fair_affairs():
    import statsmodels.api as sm

    df = sm.datasets.fair.load_pandas().data
    return df.drop(columns="affairs").to_numpy(float), (df["affairs"] > 0).to_numpy(float)


def _reset_peak_rss():
    """Linux: restart the process's peak-RSS counter (VmHWM); returns the current RSS in bytes."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    return _status_kib("VmRSS") * 1024


def _peak_rss():
    return _status_kib("VmHWM") * 1024


def _status_kib(field):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


def timed_with_peak_memory(client, fit):
    """(result of fit(), wall seconds, largest peak-RSS increase over the workers in MiB)."""
    before = client.run(_reset_peak_rss)
    t = time.perf_counter()
    result = fit()
    seconds = time.perf_counter() - t
    peak = client.run(_peak_rss)
    return result, seconds, max(peak[w] - before[w] for w in peak) / 2**20


def compare(client, name, X, y, n_workers, threads):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    dX, dy = scattered_blocks(client, Xtr, ytr, 2 * n_workers)  # both fits start with the blocks on the workers
    ours, t_ours, mem_ours = timed_with_peak_memory(
        client, lambda: cluster.train(client, {**PARAMS, "n_jobs": threads}, dX, dy, num_boost_round=ROUNDS))
    theirs, t_xgb, mem_xgb = timed_with_peak_memory(
        client, lambda: xgb.dask.train(client, {**PARAMS, "tree_method": "hist", "nthread": threads},
                                       xgb.dask.DaskDMatrix(client, dX, dy), ROUNDS)["booster"])
    auc_ours = roc_auc_score(yte, ours.predict(Xte))
    auc_xgb = roc_auc_score(yte, theirs.predict(xgb.DMatrix(Xte)))
    print(f"{name:22s} AUC ours {auc_ours:.4f}  xgboost.dask {auc_xgb:.4f}  |  wall s ours {t_ours:.2f}  "
          f"xgboost.dask {t_xgb:.2f}  (x{t_xgb / t_ours:.2f})  |  peak worker MiB ours {mem_ours:.0f}  "
          f"xgboost.dask {mem_xgb:.0f}  |  rows/worker {list(ours.rows_per_worker.values())}")
    return {"auc": (auc_ours, auc_xgb), "seconds": (t_ours, t_xgb), "memory": (mem_ours, mem_xgb)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="threads per worker, for both libraries")
    args = ap.parse_args(argv)
    with LocalCluster(n_workers=args.workers, threads_per_worker=args.threads, processes=True,
                      dashboard_address=None) as lc, Client(lc) as client:
        small = np.random.default_rng(0).standard_normal((500, 3))
        # every worker loads the compiled kernels (a fit this small would otherwise run on one worker)
        cluster.train(client, PARAMS, small, (small[:, 0] > 0).astype(float), num_boost_round=2, min_rows_per_worker=1)
        synthetic = f"synthetic {args.rows // 1000}k x 28"
        results = {
            "fair affairs (real)": compare(client, "fair affairs (real)", *fair_affairs(), args.workers, args.threads),
            synthetic: compare(client, synthetic, *binary_task(args.rows), args.workers, args.threads)}
    fig, (ax_t, ax_a) = plt.subplots(1, 2, figsize=(10, 4))
    names = list(results)
    pos = np.arange(len(names))
    for offset, label, idx in ((-0.2, "gbdt-engine", 0), (0.2, "xgboost.dask", 1)):
        ax_t.bar(pos + offset, [results[n]["seconds"][idx] for n in names], 0.4, label=label)
        ax_a.bar(pos + offset, [results[n]["auc"][idx] for n in names], 0.4, label=label)
    ax_t.set(xticks=pos, xticklabels=names, ylabel="wall seconds",
             title=f"{ROUNDS} rounds, {args.workers} workers x {args.threads} thread(s)")
    ax_a.set(xticks=pos, xticklabels=names, ylabel="test AUC", ylim=(0.5, 1.0), title="test AUC")
    ax_t.legend()
    save_figure(fig, "dask_vs_xgboost")


if __name__ == "__main__":
    main()
