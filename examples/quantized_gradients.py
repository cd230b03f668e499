"""Quantised gradients: how much faster, and what it costs in accuracy, against LightGBM's same option.

Trains the binary task (default 300k x 28, 50 trees, depth 8) exactly and with
``use_quantized_grad`` at 2, 4, 8 and 16 gradient levels (``num_grad_quant_bins``), and LightGBM
with and without its ``use_quantized_grad``; same trees, depth, bins, L2 penalty and threads.
Each fit is timed ``--repeats`` times (fastest kept; the data are binned once beforehand for our
engine, so its times are boosting only). Prints train seconds and test AUC; writes
examples/figures/quantized_gradients.png.

    python examples/quantized_gradients.py [--rows 300000] [--threads 2] [--repeats 2]
"""
import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP waits starve a shared machine

import lightgbm as lgb  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _figures import save_figure  # noqa: E402
from benchmarks.synthetic import binary_task  # noqa: E402
from benchmarks.timing import fastest_of  # noqa: E402
from bindings import Dataset, train  # noqa: E402

TREES, DEPTH = 50, 8
LEVELS = (2, 4, 8, 16)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    X, y = binary_task(args.rows, 28, seed=0)
    X_test, y_test = binary_task(100_000, 28, seed=1)
    dtrain = Dataset(X, label=y)
    base = {"objective": "binary:logistic", "max_depth": DEPTH, "learning_rate": 0.1, "n_jobs": args.threads}
    train({**base, "use_quantized_grad": True}, Dataset(X[:2000], label=y[:2000]), 2)  # compile both paths
    train(base, dtrain, 1)  # bins dtrain once, outside the timings

    results = {}
    for label, extra in [("exact", {})] + [(f"{q} levels", {"use_quantized_grad": True, "num_grad_quant_bins": q})
                                          for q in LEVELS]:
        seconds, model = fastest_of(lambda: train({**base, **extra}, dtrain, TREES), args.repeats)
        results[("ours", label)] = (seconds, roc_auc_score(y_test, model.predict(X_test)))
    lgb_data = lgb.Dataset(X, y, params={"max_bin": 255, "verbosity": -1, "feature_pre_filter": False}).construct()
    for label, quantized in (("exact", False), ("4 levels", True)):
        params = {"objective": "binary", "max_depth": DEPTH, "num_leaves": 2 ** DEPTH, "learning_rate": 0.1,
                  "num_threads": args.threads, "lambda_l2": 1.0, "min_sum_hessian_in_leaf": 1.0,
                  "min_data_in_leaf": 1, "verbosity": -1, "use_quantized_grad": quantized}
        seconds, model = fastest_of(lambda: lgb.train(params, lgb_data, TREES), args.repeats)
        results[("LightGBM", label)] = (seconds, roc_auc_score(y_test, model.predict(X_test)))

    print(f"{args.rows} x 28 binary, {TREES} trees, depth {DEPTH}, {args.threads} threads, fastest of {args.repeats}")
    exact_s = results[("ours", "exact")][0]
    for (library, label), (seconds, auc) in results.items():
        print(f"{library:9s} {label:9s} train {seconds:6.2f} s ({seconds / exact_s:4.2f}x our exact)  AUC {auc:.5f}")

    fig, (ax_time, ax_auc) = plt.subplots(1, 2, figsize=(10, 3.8))
    names = [f"{library}\n{label}" for library, label in results]
    colors = ["tab:blue" if library == "ours" else "tab:green" for library, _ in results]
    ax_time.bar(names, [s for s, _ in results.values()], color=colors)
    ax_time.set_ylabel("train seconds")
    ax_auc.bar(names, [a for _, a in results.values()], color=colors)
    aucs = [a for _, a in results.values()]
    ax_auc.set_ylim(min(aucs) - 0.002, max(aucs) + 0.001)
    ax_auc.set_ylabel("test AUC")
    for ax in (ax_time, ax_auc):
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(f"Quantised gradients: {args.rows} x 28 binary, {TREES} trees, {args.threads} threads")
    save_figure(fig, "quantized_gradients")


if __name__ == "__main__":
    main()
