"""Train/predict time and test AUC of this engine, XGBoost (hist) and LightGBM on one binary task.

Same data, trees, depth, bins and threads for every library, measured in one process run; the
table prints each peer's time as a ratio to ours (> 1 means we are faster). Our first (compiling)
fit on a small sample is reported separately as ``compile_s``. All three run in this one process;
``python -m benchmarks`` runs more tasks and libraries, each fit in its own process.

    python -m benchmarks.vs_xgboost --rows 1000000 --trees 100 --depth 8 --threads 2
"""
import argparse
import json
import os
import platform
import time
from dataclasses import replace
from pathlib import Path

# Every library here waits on OpenMP threads; spinning waits starve on a shared machine (see
# benchmarks.suite). Read when an OpenMP runtime loads, so before the imports below.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

from benchmarks.peers import Setting, timed_fit_predict  # noqa: E402
from benchmarks.synthetic import binary_task  # noqa: E402
from bindings.metrics import roc_auc  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--test-rows", type=int, default=100_000)
    ap.add_argument("--features", type=int, default=28)
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--bins", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--split-mode", default="auto", choices=["auto", "data", "feature"])
    ap.add_argument("--missing", type=float, default=0.0, help="fraction of NaN cells")
    ap.add_argument("--out", default="benchmarks/results/vs_xgboost.json")
    args = ap.parse_args(argv)

    X, y = binary_task(args.rows + args.test_rows, args.features, args.missing, seed=0)
    X, Xt, y, yt = X[: args.rows], X[args.rows:], y[: args.rows], y[args.rows:]
    setting = Setting("binary", args.trees, args.depth, args.bins, args.threads, split_mode=args.split_mode)
    t = time.perf_counter()
    timed_fit_predict("ours", X[:1000], y[:1000], Xt[:10], replace(setting, trees=2))
    compile_s = time.perf_counter() - t

    results = {}
    for name in ("ours", "xgboost", "lightgbm"):
        fit, predict, pred = timed_fit_predict(name, X, y, Xt, setting)
        results[name] = {"train_s": fit, "predict_s": predict, "auc": roc_auc(yt, np.asarray(pred))}
    ours = results["ours"]
    print(f"{args.rows}x{args.features}, {args.trees} trees, depth {args.depth}, {args.bins} bins, "
          f"{args.threads} threads; our compile (first fit, 1k rows): {compile_s:.1f} s")
    print(f"{'library':10s} {'train s':>8s} {'predict s':>10s} {'test AUC':>9s} {'train x ours':>13s} {'predict x ours':>15s}")
    for name, r in results.items():
        print(f"{name:10s} {r['train_s']:8.2f} {r['predict_s']:10.3f} {r['auc']:9.5f} "
              f"{r['train_s'] / ours['train_s']:13.2f} {r['predict_s'] / ours['predict_s']:15.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"args": vars(args), "compile_s": compile_s, "results": results,
                                          "machine": platform.platform(), "cpu": platform.processor()}, indent=1))


if __name__ == "__main__":
    main()
