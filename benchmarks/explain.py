"""TreeSHAP contributions and leaf ids against XGBoost on the very same trees.

XGBoost trains a binary model (hist, ``--depth``, ``--rounds``) on ``benchmarks.synthetic``
data; ``from_xgboost`` loads its trees into our Booster, so both libraries explain an identical
forest. Times ``predict(pred_contribs=True)`` and ``predict(pred_leaf=True)`` on ``--rows`` rows,
both with ``--threads`` threads, after a warm-up call (our kernels compile once), and checks that
the contributions agree.

Run: ``python -m benchmarks.explain [--rows 2000] [--rounds 100] [--depth 6] [--threads 2]``.
Prints seconds and ratios ours / XGBoost (< 1: ours faster), writes benchmarks/figures/explain.png.
"""
import argparse
import timeit

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402

from benchmarks._figures import save_figure  # noqa: E402
from benchmarks.synthetic import binary_task  # noqa: E402
from bindings.xgboost_model import from_xgboost  # noqa: E402


def best_seconds(fn, repeats):
    fn()
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    X, y = binary_task(50000, n_features=20, missing_fraction=0.05, seed=0)
    X = X.astype(np.float32).astype(np.float64)  # XGBoost compares float32 values
    theirs = xgb.train({"objective": "binary:logistic", "max_depth": args.depth, "tree_method": "hist",
                        "nthread": args.threads}, xgb.DMatrix(X, y), args.rounds)
    ours = from_xgboost(theirs)
    ours.n_jobs = args.threads
    Xt = X[:args.rows]
    dtest = xgb.DMatrix(Xt, nthread=args.threads)

    agreement = np.abs(ours.predict(Xt, pred_contribs=True) - theirs.predict(dtest, pred_contribs=True)).max()
    leaves_equal = np.array_equal(ours.predict(Xt, pred_leaf=True), theirs.predict(dtest, pred_leaf=True))
    n_leaves = sum(t.n_leaves for t in ours.trees)
    print(f"{args.rounds} trees of depth <= {args.depth} ({n_leaves} leaves), {args.rows} rows, "
          f"{args.threads} threads")
    print(f"max |contribution difference| = {agreement:.2e}; leaf ids equal: {leaves_equal}")

    rows = []
    for label, kwargs in (("pred_contribs", {"pred_contribs": True}), ("pred_leaf", {"pred_leaf": True})):
        t_ours = best_seconds(lambda: ours.predict(Xt, **kwargs), args.repeats)
        t_xgb = best_seconds(lambda: theirs.predict(dtest, **kwargs), args.repeats)
        rows.append((label, t_ours, t_xgb))
        print(f"{label:14s} ours {t_ours:.3f} s  xgboost {t_xgb:.3f} s  ratio ours/xgboost {t_ours / t_xgb:.2f}")

    fig, ax = plt.subplots(figsize=(6, 3.5))
    pos = np.arange(len(rows))
    ax.bar(pos - 0.2, [r[1] for r in rows], 0.4, label="ours")
    ax.bar(pos + 0.2, [r[2] for r in rows], 0.4, label="XGBoost")
    ax.set_xticks(pos, labels=[r[0] for r in rows])
    ax.set_ylabel("seconds")
    ax.set_title(f"{args.rows} rows, {args.rounds} trees (depth {args.depth}), {args.threads} threads")
    ax.legend()
    save_figure(fig, "explain")


if __name__ == "__main__":
    main()
