"""Sparse (CSR) input: our time and memory against our dense twin, XGBoost and LightGBM on the same CSR.

One binary task on a CSR matrix; every library gets the same rows, trees, depth, bins and
threads in one process run. Ratios are peer time / ours (> 1: we are faster). Our binning of the
CSR is timed against binning its dense twin (the same edges and bins, tested bit for bit); peak
memory of our Dataset + training is measured with tracemalloc in separate, untimed passes. Semantics differ: we and LightGBM read absent entries as 0.0, XGBoost reads them
as missing; the test AUC column shows what each learns.

    python -m benchmarks.sparse --rows 200000 --features 500 --density 0.02 --threads 2
"""
import argparse
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp

from bindings import Dataset, train
from bindings.metrics import roc_auc
from gbdt.threads import using_threads


def sparse_task(n_rows, n_features, density, seed=0):
    """CSR (n, F) with standard-normal non-zeros; logit = X @ w plus a threshold and an interaction."""
    rng = np.random.default_rng(seed)
    X = sp.random(n_rows, n_features, density=density, random_state=seed, format="csr",
                  data_rvs=rng.standard_normal)
    w = rng.standard_normal(n_features) * 3
    first = X[:, :2].toarray()
    logit = X @ w + 2 * (first[:, 0] > 0.2) - 3 * first[:, 0] * first[:, 1]
    y = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(np.float64)
    return X, y


def binning_seconds(data, y, bins):
    """Seconds for bin edges + the binned matrix of a new Dataset."""
    t = time.perf_counter()
    dataset = Dataset(data, y)
    dataset.binned(*dataset.bin_edges(bins), bins)
    return time.perf_counter() - t


def run_ours(X, y, Xt, args):
    params = {"objective": "binary:logistic", "max_depth": args.depth, "max_bin": args.bins,
              "learning_rate": 0.1, "n_jobs": args.threads}
    t = time.perf_counter()
    booster = train(params, Dataset(X, y), args.trees)
    fit = time.perf_counter() - t
    t = time.perf_counter()
    pred = booster.predict(Xt)
    return fit, time.perf_counter() - t, pred


def run_xgboost(X, y, Xt, args):
    import xgboost as xgb

    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": args.depth,
              "max_bin": args.bins, "eta": 0.1, "nthread": args.threads}
    t = time.perf_counter()
    booster = xgb.train(params, xgb.DMatrix(X, y, nthread=args.threads), args.trees)
    fit = time.perf_counter() - t
    t = time.perf_counter()
    pred = booster.predict(xgb.DMatrix(Xt, nthread=args.threads))
    return fit, time.perf_counter() - t, pred


def run_lightgbm(X, y, Xt, args):
    import lightgbm as lgb

    params = {"objective": "binary", "max_depth": args.depth, "num_leaves": 2 ** args.depth - 1,
              "max_bin": args.bins - 1, "learning_rate": 0.1, "num_threads": args.threads,
              "min_child_weight": 1.0, "min_data_in_leaf": 1, "verbosity": -1}
    t = time.perf_counter()
    booster = lgb.train(params, lgb.Dataset(X, y), args.trees)
    fit = time.perf_counter() - t
    t = time.perf_counter()
    pred = booster.predict(Xt, num_threads=args.threads)
    return fit, time.perf_counter() - t, pred


def peak_training_bytes(X, y, args):
    """tracemalloc peak of Dataset + 2 training rounds (kernels already compiled)."""
    tracemalloc.start()
    try:
        train({"max_depth": args.depth, "max_bin": args.bins, "n_jobs": args.threads}, Dataset(X, y), 2)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--test-rows", type=int, default=50_000)
    ap.add_argument("--features", type=int, default=500)
    ap.add_argument("--density", type=float, default=0.02)
    ap.add_argument("--trees", type=int, default=50)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--bins", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    X, y = sparse_task(args.rows + args.test_rows, args.features, args.density)
    X, Xt, y, yt = X[: args.rows], X[args.rows:], y[: args.rows], y[args.rows:]
    run_ours(X[:1000], y[:1000], Xt[:10], argparse.Namespace(**{**vars(args), "trees": 2}))  # compile
    dense = X.toarray()
    with using_threads(args.threads):
        sparse_bin_s, dense_bin_s = binning_seconds(X, y, args.bins), binning_seconds(dense, y, args.bins)
    results = {}
    for name, fn in (("ours", run_ours), ("xgboost", run_xgboost), ("lightgbm", run_lightgbm)):
        fit, predict, pred = fn(X, y, Xt, args)
        results[name] = {"train_s": fit, "predict_s": predict, "auc": roc_auc(yt, np.asarray(pred))}
    ours = results["ours"]
    print(f"{args.rows}x{args.features} CSR, density {args.density} ({X.nnz} non-zeros), {args.trees} trees, "
          f"depth {args.depth}, {args.bins} bins, {args.threads} threads")
    print(f"binning (edges + bins): CSR {sparse_bin_s:.3f} s, dense twin {dense_bin_s:.3f} s, "
          f"dense / CSR {dense_bin_s / sparse_bin_s:.2f}")
    print(f"{'library (CSR)':14s} {'train s':>8s} {'predict s':>10s} {'test AUC':>9s} {'train x ours':>13s} "
          f"{'predict x ours':>15s}")
    for name, r in results.items():
        print(f"{name:14s} {r['train_s']:8.2f} {r['predict_s']:10.3f} {r['auc']:9.5f} "
              f"{r['train_s'] / ours['train_s']:13.2f} {r['predict_s'] / ours['predict_s']:15.2f}")
    csr_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    print(f"memory: input CSR {csr_bytes / 1e6:.0f} MB vs dense {dense.nbytes / 1e6:.0f} MB; peak traced by "
          f"Dataset + training: from CSR {peak_training_bytes(X, y, args) / 1e6:.0f} MB, from the dense twin "
          f"{peak_training_bytes(dense, y, args) / 1e6:.0f} MB (the binned matrix is {X.shape[0] * X.shape[1] / 1e6:.0f} MB)")

if __name__ == "__main__":
    main()
