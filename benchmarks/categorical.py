"""Fit time with categorical features (vs LightGBM and XGBoost) and with monotone constraints (vs XGBoost).

Data: ``--rows`` rows, 4 pandas ``category`` columns of 8, 30, 100 and 250 categories whose label
effects are random per category, and 8 numeric columns. Categorical: our categorical splits,
LightGBM's and XGBoost's (``enable_categorical``, hist), same depth, rounds and threads.
Monotone: the numeric columns only, every one constrained +1 where its effect rises, ours against
XGBoost hist. Each fit is timed best of ``--repeats`` after a warm-up fit (our kernels compile once);
test accuracy is printed next to each time.

Run: ``python -m benchmarks.categorical [--rows 200000] [--rounds 50] [--depth 6] [--threads 2]``.
Prints seconds and ratios ours / peer (< 1: ours faster), writes benchmarks/figures/categorical.png.
"""
import argparse
import timeit

import matplotlib

matplotlib.use("Agg")
import lightgbm as lgb  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xgboost as xgb  # noqa: E402

from benchmarks._figures import save_figure  # noqa: E402
from bindings import Dataset, train  # noqa: E402

CARDINALITIES = (8, 30, 100, 250)
N_NUMERIC = 8


def make(n, seed):
    """(frame with category and numeric columns, binary labels)."""
    rng = np.random.default_rng(seed)
    effects = np.random.default_rng(1000)
    columns, logit = {}, np.zeros(n)
    for j, k in enumerate(CARDINALITIES):
        codes = rng.integers(0, k, n)
        logit += effects.normal(0, 1, k)[codes]
        columns[f"cat{j}"] = pd.Categorical(codes, categories=range(k))
    for j in range(N_NUMERIC):
        x = rng.standard_normal(n)
        logit += effects.uniform(0.2, 1.0) * x
        columns[f"num{j}"] = x
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return pd.DataFrame(columns), y


def best_seconds(fn, repeats):
    fn()
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def accuracy(p, y):
    return float(((p > 0.5) == y).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    frame, y = make(args.rows, 0)
    test, y_test = make(50_000, 1)
    rounds, depth, threads = args.rounds, args.depth, args.threads
    params = {"objective": "binary:logistic", "max_depth": depth, "learning_rate": 0.1}
    ours = {**params, "n_jobs": threads, "max_bin": 256}
    theirs_xgb = {**params, "tree_method": "hist", "nthread": threads, "max_cat_to_onehot": 4}
    theirs_lgb = {"objective": "binary", "max_depth": depth, "num_leaves": 2 ** depth, "learning_rate": 0.1,
                  "verbose": -1, "num_threads": threads}
    numeric = [c for c in frame.columns if c.startswith("num")]
    monotone = tuple([1] * len(numeric))
    fits = {
        "categorical": {
            "ours": (lambda: train(ours, Dataset(frame, y), rounds), lambda m: m.predict(test)),
            "LightGBM": (lambda: lgb.train(theirs_lgb, lgb.Dataset(frame, y), rounds), lambda m: m.predict(test)),
            "XGBoost": (lambda: xgb.train(theirs_xgb, xgb.DMatrix(frame, y, enable_categorical=True), rounds),
                        lambda m: m.predict(xgb.DMatrix(test, enable_categorical=True))),
        },
        "monotone": {
            "ours": (lambda: train({**ours, "monotone_constraints": monotone}, Dataset(frame[numeric], y), rounds),
                     lambda m: m.predict(test[numeric])),
            "XGBoost": (lambda: xgb.train({**theirs_xgb, "monotone_constraints": str(monotone).replace(" ", "")},
                                          xgb.DMatrix(frame[numeric], y), rounds),
                        lambda m: m.predict(xgb.DMatrix(test[numeric]))),
        },
    }
    print(f"{args.rows} rows, {rounds} rounds, depth {depth}, {threads} threads")
    timings = {}
    for task, peers in fits.items():
        for name, (fit, predict) in peers.items():
            seconds = best_seconds(fit, args.repeats)
            timings[task, name] = seconds
            print(f"{task:12s} {name:9s} fit {seconds:7.3f} s  test accuracy {accuracy(predict(fit()), y_test):.4f}")
        for name in peers:
            if name != "ours":
                print(f"{task:12s} ratio ours/{name} {timings[task, 'ours'] / timings[task, name]:.2f}")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels = [f"{task}\n{name}" for task, name in timings]
    ax.bar(range(len(timings)), list(timings.values()))
    ax.set_xticks(range(len(timings)), labels=labels, fontsize=8)
    ax.set_ylabel("fit seconds")
    ax.set_title(f"{args.rows} rows, {rounds} rounds, depth {depth}, {threads} threads")
    save_figure(fig, "categorical")


if __name__ == "__main__":
    main()
