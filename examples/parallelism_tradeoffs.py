"""XGBoost's three split-finding methods measured: exact vs approx vs hist (16/64/256 bins), and
data- vs feature-parallel histograms: train time, training memory, held-out AUC.

Two binary tasks: a real one shipped with statsmodels (the Fair affairs survey, 6366 x 8, a
woman reports an affair; discrete answers, so few distinct values per feature) and a synthetic one
(``benchmarks.synthetic.binary_task``, continuous features: every value distinct). Each model is
fitted by this engine (and, for exact, approx 256 and hist 256, by XGBoost: same ``tree_method``,
depth, rounds, learning rate, threads) on 75% of the rows, and scored on the other 25% (no tuning:
the same fixed settings for every method). Each fit runs in a fresh process, after a 2-tree warm-up fit on 3000 of its rows (loads
compiled kernels); memory is the rise of that process's peak resident set over the fit (Linux
``/proc/self/clear_refs``), so it counts what the method builds (bins, column blocks, histograms),
not the raw data held before. Times are the fastest of ``--repeats`` fits.

On Dask (``cluster.train``, a LocalCluster of 2 workers x 1 thread, the synthetic task at ``--dask-rows``
rows, 256 bins, the same depth and trees): the bytes moved between workers per tree (``booster.traffic_bytes``
/ trees, by kind: histograms, row masks, approx's per-tree sketch) for hist and approx, each data- and
feature-parallel (the default split search, ``split_search="shards"``), and their held-out AUC. ``exact`` is
local only (refused on Dask, as XGBoost refuses it).

Prints one table (one row per task, library and method), the Dask table and the claims
docs/tree-methods.md quotes; writes examples/figures/parallelism_tradeoffs.png.

    python examples/parallelism_tradeoffs.py                 # synthetic 30k rows, ~3 min on 2 cores
    python examples/parallelism_tradeoffs.py --dask-only     # the Dask bytes per tree only, ~30 s
    python examples/parallelism_tradeoffs.py --rows 1000000  # the 1M-row study (exact is slow there)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see examples/split_mode_crossover.py

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _figures import save_figure  # noqa: E402
from benchmarks.child import current_rss_mib, peak_rss_mib, reset_peak  # noqa: E402
from benchmarks.synthetic import binary_task  # noqa: E402
from bindings import Dataset, train  # noqa: E402
from gbdt.binning import bin_matrix, compute_bin_edges  # noqa: E402
from gbdt.exact import ColumnBlocks  # noqa: E402

# (label, tree_method, max_bin, split_mode): the methods compared; split_mode is ours only and
# never changes the model, only how histograms are shared among threads
CONFIGS = [("exact", "exact", None, "auto")] + [
    (f"approx {b}", "approx", b, "auto") for b in (16, 64, 256)] + [
    (f"hist {b}", "hist", b, "auto") for b in (16, 64, 256)] + [
    ("hist 256 data-par.", "hist", 256, "data"), ("hist 256 feature-par.", "hist", 256, "feature")]


XGBOOST_REFERENCE = ("exact", "approx 256", "hist 256")
DASK_WORKERS, DASK_BINS = 2, 256
DASK_CONFIGS = [(method, mode) for method in ("hist", "approx") for mode in ("data", "feature")]


def fair_task():
    """(X, y) of the Fair survey (statsmodels): 8 answers, y = reported any affair."""
    import statsmodels.datasets

    frame = statsmodels.datasets.fair.load_pandas().data
    return frame.drop(columns="affairs").to_numpy(np.float64), (frame["affairs"] > 0).to_numpy(np.float64)


def fit(library, method, max_bin, split_mode, X, y, args):
    """A fitted model's predict function, after fitting on (X, y)."""
    params = {"objective": "binary:logistic", "max_depth": args.depth, "learning_rate": 0.1, "tree_method": method}
    if max_bin is not None:
        params["max_bin"] = max_bin
    if library == "ours":
        booster = train({**params, "n_jobs": args.threads, "split_mode": split_mode}, Dataset(X, y), args.trees)
        return booster.predict
    booster = xgb.train({**params, "nthread": args.threads}, xgb.DMatrix(X, y, nthread=args.threads), args.trees)
    return lambda Z: booster.predict(xgb.DMatrix(Z))


def child(spec):
    """In a fresh process: warm up, then fit one library and method on the saved task; prints
    {"train_s", "mib", "auc"} as JSON."""
    folder = Path(spec["data"])
    X, y, X_test, y_test = (np.load(folder / f"{name}.npy") for name in ("X", "y", "X_test", "y_test"))
    args = argparse.Namespace(**spec["args"])
    method, max_bin, split_mode = spec["config"]
    fit(spec["library"], method, max_bin, split_mode, X[:3000], y[:3000], argparse.Namespace(**{**spec["args"],
                                                                                              "trees": 2}))
    before = current_rss_mib()
    reset_peak()
    start = time.perf_counter()
    predict = fit(spec["library"], method, max_bin, split_mode, X, y, args)
    seconds = time.perf_counter() - start
    mib = peak_rss_mib() - before
    print(json.dumps({"train_s": seconds, "mib": mib, "auc": roc_auc_score(y_test, predict(X_test))}))


def measure(library, config, folder, args):
    """(train seconds, training MiB, test AUC) of one library and method on the task saved in
    ``folder``: the fastest of ``args.repeats`` fresh-process fits and their largest memory rise."""
    threads = str(args.threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "NUMBA_NUM_THREADS": threads}
    spec = json.dumps({"library": library, "config": config[1:], "data": str(folder), "args": vars(args)})
    runs = [json.loads(subprocess.run([sys.executable, __file__, "--child", spec], env=env, check=True,
                                      capture_output=True, text=True).stdout.splitlines()[-1])
            for _ in range(args.repeats)]
    return min(r["train_s"] for r in runs), max(r["mib"] for r in runs), runs[0]["auc"]


def dask_traffic(args):
    """{(tree_method, distributed_mode): ({kind: bytes moved between workers per tree}, held-out AUC, training
    rows held by the workers other than the leader)} of 2-worker Dask fits on the synthetic task at
    ``args.dask_rows`` rows (75% to train)."""
    from distributed import Client, LocalCluster

    import cluster
    from _dask_blocks import scattered_blocks

    X, y = binary_task(args.dask_rows, 28, 0.05)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    params = {"objective": "binary:logistic", "max_depth": args.depth, "learning_rate": 0.1, "max_bin": DASK_BINS}
    results = {}
    with LocalCluster(n_workers=DASK_WORKERS, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
            Client(lc) as client:
        for method, mode in DASK_CONFIGS:
            booster = cluster.train(client, {**params, "tree_method": method},
                                    *scattered_blocks(client, X_train, y_train, DASK_WORKERS),
                                    num_boost_round=args.trees, distributed_mode=mode,
                                    min_rows_per_worker=1)  # both workers, whatever the size
            results[method, mode] = ({kind: moved / args.trees for kind, moved in booster.traffic_bytes.items()},
                                     roc_auc_score(y_test, booster.predict(X_test)),
                                     sum(booster.rows_per_worker.values()) -
                                     booster.rows_per_worker[booster.fit_profile["workers"][0]])
    return results


def print_dask(results, args):
    """The Dask table and its claims."""
    print(f"\nDask, {DASK_WORKERS} workers x 1 thread, synthetic {args.dask_rows} x 28 (75% to train), {DASK_BINS} "
          f"bins, depth {args.depth}, {args.trees} trees: kB moved between workers per tree")
    print(f"{'method':8s} {'mode':8s} {'total kB':>9s} {'histograms':>11s} {'masks':>8s} {'sketch':>8s} {'AUC':>8s}")
    for (method, mode), (moved, auc, _) in results.items():
        print(f"{method:8s} {mode:8s} {sum(moved.values()) / 1e3:9.1f} {moved['histograms'] / 1e3:11.1f} "
              f"{moved['masks'] / 1e3:8.1f} {moved['sketch'] / 1e3:8.1f} {auc:8.4f}")
    total = {key: sum(moved.values()) for key, (moved, _, _) in results.items()}
    for method in ("hist", "approx"):
        print(f"claim [dask] {method} data- vs feature-parallel: {total[method, 'data'] / 1e3:.1f} vs "
              f"{total[method, 'feature'] / 1e3:.1f} kB per tree, AUC equal: "
              f"{results[method, 'data'][1] == results[method, 'feature'][1]}")
    # approx's sketch per tree, data-parallel: the leader gets the other worker's sampled hessians (float32;
    # every row while the data has at most 200k), every other worker the edges of every feature
    follower_rows = results["approx", "data"][2]
    edges = 28 * ((DASK_BINS - 1) * 8 + 4) * (DASK_WORKERS - 1)
    predicted = {"data": (4 * follower_rows + edges,
                          f"hessians 4 bytes x {follower_rows} rows + edges {edges / 1e3:.1f}"),
                 "feature": (edges, "edges only: every worker holds every row's hessians")}
    for mode, (expected, parts) in predicted.items():
        sketch = results["approx", mode][0]["sketch"]
        print(f"claim [dask] approx vs hist, {mode}-parallel: {total['approx', mode] / 1e3:.1f} vs "
              f"{total['hist', mode] / 1e3:.1f} kB per tree; approx's sketch {sketch / 1e3:.1f} kB (predicted "
              f"{expected / 1e3:.1f}: {parts})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=30_000, help="synthetic task rows (train + test)")
    ap.add_argument("--trees", type=int, default=20)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--dask-rows", type=int, default=40_000, help="synthetic task rows of the Dask part")
    ap.add_argument("--dask-only", action="store_true", help="run the Dask part only")
    ap.add_argument("--child", help=argparse.SUPPRESS)  # one measured fit (see ``child``)
    args = ap.parse_args()
    if args.child:
        return child(json.loads(args.child))
    del args.child
    if args.dask_only:
        return print_dask(dask_traffic(args), args)
    tasks = {"Fair survey 6366 x 8": fair_task(), f"synthetic {args.rows} x 28": binary_task(args.rows, 28, 0.05)}

    print(f"{args.trees} trees, depth {args.depth}, learning rate 0.1, {args.threads} threads; "
          "AUC on 25% held-out rows; MiB: rise of the peak resident set during the fit")
    print(f"{'task':26s} {'library':8s} {'method':22s} {'train s':>8s} {'train MiB':>10s} {'AUC':>8s}")
    results = {}
    for task, (X, y) in tasks.items():
        split = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
        with tempfile.TemporaryDirectory(prefix="tradeoffs-") as folder:
            for name, array in zip(("X", "X_test", "y", "y_test"), split):
                np.save(Path(folder) / f"{name}.npy", array)
            for config in CONFIGS:
                for library in ("ours", "xgboost"):
                    if library == "xgboost" and config[0] not in XGBOOST_REFERENCE:
                        continue  # split_mode is ours; one XGBoost row per method keeps the run short
                    results[task, library, config[0]] = r = measure(library, config, folder, args)
                    print(f"{task:26s} {library:8s} {config[0]:22s} {r[0]:8.2f} {r[1]:10.1f} {r[2]:8.4f}",
                          flush=True)
    print()
    for task, (X, _) in tasks.items():
        present = np.isfinite(X).sum()
        blocks = ColumnBlocks.from_dense(X).nbytes
        bins = bin_matrix(X, *compute_bin_edges(X, 256), 256).nbytes
        print(f"claim [{task}] kept per present value: exact's column blocks {blocks / present:.2f} bytes, "
              f"hist's bins {bins / present:.2f} bytes (approx keeps both)")
        ours = {label: results[task, "ours", label] for label, *_ in CONFIGS}
        exact_s, exact_mib, exact_auc = ours["exact"]
        for label in ("hist 16", "hist 256", "approx 256"):
            s, mib, auc = ours[label]
            print(f"claim [{task}] {label} vs exact: AUC {auc - exact_auc:+.4f}; time {s:.2f} vs {exact_s:.2f} s "
                  f"(exact / {label}: {exact_s / s:.1f}x); training memory {mib:.1f} vs {exact_mib:.1f} MiB "
                  f"(exact / {label}: {exact_mib / max(mib, 0.1):.2f}x)")
        xgb_exact = results[task, "xgboost", "exact"]
        print(f"claim [{task}] exact, ours vs XGBoost: AUC {exact_auc:.4f} vs {xgb_exact[2]:.4f}, "
              f"time x{xgb_exact[0] / exact_s:.2f} (XGBoost s / ours), memory {exact_mib:.1f} vs "
              f"{xgb_exact[1]:.1f} MiB")
        data_s, feature_s = ours["hist 256 data-par."][0], ours["hist 256 feature-par."][0]
        print(f"claim [{task}] hist 256 data- vs feature-parallel: {data_s:.2f} vs {feature_s:.2f} s, AUC equal: "
              f"{ours['hist 256 data-par.'][2] == ours['hist 256 feature-par.'][2]}")

    fig, axes = plt.subplots(len(tasks), 3, figsize=(14, 3.6 * len(tasks)), squeeze=False)
    labels = [label for label, *_ in CONFIGS]
    for row, task in zip(axes, tasks):
        for ax, part, name in zip(row, range(3), ("train seconds", "training MiB", "test AUC")):
            for i, library in enumerate(("ours", "xgboost")):
                values = [results.get((task, library, label), (np.nan,) * 3)[part] for label in labels]
                ax.bar(np.arange(len(labels)) + (i - 0.5) * 0.4, values, 0.4, label=library)
            ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
            ax.set(title=f"{task}: {name}")
            if part == 2:
                aucs = [v[2] for k, v in results.items() if k[0] == task]
                ax.set_ylim(min(aucs) - 0.01, max(aucs) + 0.005)
        row[0].legend()
    save_figure(fig, "parallelism_tradeoffs")
    print_dask(dask_traffic(args), args)


if __name__ == "__main__":
    main()
