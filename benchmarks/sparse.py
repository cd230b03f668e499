"""Sparse (CSR) input: train time, test AUC, memory and predict time of ours, XGBoost and LightGBM on three shapes.

- ``text``: n x 5,000 tf-idf rows of ~13 words (l2-normalised, as scikit-learn's
  TfidfVectorizer), word popularity Zipf(1), a binary click-like label with 1.2% positives.
- ``onehot``: 30 categorical columns of 100 categories each (Zipf-like popularity) one-hot
  encoded into 3,000 columns of 1.0, a binary label (~10% positives) from per-category effects.
- ``wide``: n x 500 at 60% density, stored as CSR: the density rule
  (``bindings.sparse_input.SPARSE_MAX_DENSITY``) sends its training down the dense path.

Every library fits the same CSR rows with the same trees, depth, bins (``peers.Setting``:
lambda 1, min child hessian 1) and threads, each in its own process (thread pools sized by the
environment) after an untimed warm-up fit on 1,000 rows; the process reports train seconds
(Dataset/DMatrix construction included), test AUC and its memory (``benchmarks.child``'s
counters: peak RSS of the fit above the RSS before it, and the whole process's peak), then
the wall and CPU seconds of predicting the test rows (after an untimed prediction of them),
also as ratios to XGBoost's. With ``--repeats`` the libraries run round-robin and each reports
its fastest run and its fastest prediction. ``--baseline PATH`` also runs the engine found at PATH
(another checkout, e.g. the main branch) as ``ours@base``, for before/after numbers in one run.
We and LightGBM read absent entries as 0.0, XGBoost reads them as missing.

    python -m benchmarks.sparse --rows 50000 --onehot-rows 200000 --trees 20 --threads 2 --repeats 3
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "RESULT "
LIBRARIES = ("ours", "xgboost", "lightgbm")
SHAPES = ("text", "onehot", "wide")
WARM_UP_ROWS = 1000


def prevalence_intercept(logit, rate):
    """b such that mean(sigmoid(logit + b)) = rate (bisection)."""
    low, high = -40.0, 40.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if np.mean(1 / (1 + np.exp(-(logit + mid)))) < rate else (low, mid)
    return (low + high) / 2


def draw_label(rng, logit, rate):
    """Bernoulli labels of ``logit`` shifted to a positive ``rate``."""
    p = 1 / (1 + np.exp(-(logit + prevalence_intercept(logit, rate))))
    return (rng.random(logit.shape[0]) < p).astype(np.float64)


def text_task(n, seed=0, n_words=5000, per_row=13, positives=0.012):
    """(CSR (n, n_words) tf-idf, y): Poisson(per_row) Zipf-drawn words a row, 1.2% positives
    from a sparse linear score of the words plus one interaction."""
    rng = np.random.default_rng(seed)
    counts = np.maximum(1, rng.poisson(per_row, n))
    popularity = 1.0 / np.arange(1, n_words + 1)
    words = rng.choice(n_words, counts.sum(), p=popularity / popularity.sum())
    X = sp.csr_matrix((np.ones(words.size), (np.repeat(np.arange(n), counts), words)), shape=(n, n_words))
    X.sum_duplicates()
    idf = np.log((1 + n) / (1 + np.bincount(X.indices, minlength=n_words))) + 1
    X.data *= idf[X.indices]
    X = sp.csr_matrix(sp.diags(1 / np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())) @ X)
    w = 6 * rng.standard_normal(n_words) * (rng.random(n_words) < 0.1)
    logit = X @ w + 2.0 * (X[:, 3].toarray().ravel() > 0.2) * (X[:, 10].toarray().ravel() > 0)
    return X, draw_label(rng, logit, positives)


def onehot_task(n, seed=0, n_columns=30, categories=100, positives=0.1):
    """(CSR (n, n_columns * categories) of one-hot 1.0, y) from Zipf-like category draws."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, categories + 1) ** 0.8
    codes = rng.choice(categories, (n, n_columns), p=popularity / popularity.sum())
    effect = rng.standard_normal((n_columns, categories)) * (rng.random((n_columns, categories)) < 0.3)
    logit = effect[np.arange(n_columns), codes].sum(axis=1) + 1.5 * (codes[:, 0] == codes[:, 1])
    columns = codes + categories * np.arange(n_columns)
    X = sp.csr_matrix((np.ones(n * n_columns), columns.ravel(), np.arange(0, n * n_columns + 1, n_columns)),
                      shape=(n, n_columns * categories))
    return X, draw_label(rng, logit, positives)


def wide_task(n, seed=0, n_features=500, density=0.6):
    """(CSR (n, n_features) at ``density``, y): mostly dense normal values, a balanced label."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, n_features, density=density, format="csr", random_state=seed, data_rvs=rng.standard_normal)
    w = rng.standard_normal(n_features) * (rng.random(n_features) < 0.2)
    logit = X @ w + np.abs(X[:, 0].toarray().ravel())
    return X, draw_label(rng, logit, 0.5)


TASKS = {"text": text_task, "onehot": onehot_task, "wide": wide_task}


def fit_and_predict(library, X, y, X_test, setting):
    from benchmarks.peers import LIBRARIES as PEERS

    peer = PEERS["ours" if library.startswith("ours") else library]
    model = peer.fit(X, y, setting)
    return model, peer.predict(model, X_test, setting)


def child(spec):
    """One library's fit in this process: warm-up fit, then the timed fit with its memory."""
    from benchmarks.child import current_rss_mib, peak_rss_mib, reset_peak
    from benchmarks.peers import Setting

    setting = Setting(**spec["setting"])
    data = Path(spec["data"])
    X, X_test = sp.load_npz(data / "X.npz"), sp.load_npz(data / "X_test.npz")
    y = np.load(data / "y.npy")
    fit_and_predict(spec["library"], X[:WARM_UP_ROWS], y[:WARM_UP_ROWS], X_test[:10], setting)
    rss = current_rss_mib()
    reset_peak()
    start = time.perf_counter()
    model, _ = fit_and_predict(spec["library"], X, y, X_test[:1], setting)
    train_s = time.perf_counter() - start
    train_mem = peak_rss_mib() - rss
    from benchmarks.peers import LIBRARIES as PEERS

    predict = PEERS["ours" if spec["library"].startswith("ours") else spec["library"]].predict
    predict(model, X_test, setting)  # untimed: loads what a prediction of many rows runs (our parallel kernel)
    wall, cpu = time.perf_counter(), time.process_time()
    pred = predict(model, X_test, setting)
    predict_s, predict_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    np.save(spec["pred"], np.asarray(pred, dtype=np.float64))
    result = {"train_s": train_s, "predict_s": predict_s, "predict_cpu_s": predict_cpu_s, "train_mem_mib": train_mem,
              "peak_rss_mib": peak_rss_mib()}
    if spec["library"].startswith("ours"):
        from bindings import Dataset

        dataset = Dataset(X, y)
        result["path"] = type(dataset.binned(*dataset.bin_edges(setting.bins), setting.bins)).__name__
    return result


def run_child(library, setting, folder, engine_path):
    """(result dict, test predictions) of ``library`` fitted in a fresh process; ``engine_path``:
    where that process imports our engine from (None: this checkout)."""
    spec_path = Path(folder) / f"spec_{library}.json"
    pred_path = Path(folder) / f"pred_{library}.npy"
    spec_path.write_text(json.dumps({"library": library, "setting": asdict(setting), "data": str(folder),
                                     "pred": str(pred_path)}))
    threads = str(setting.threads)
    path = [str(engine_path)] if engine_path else []
    # passive OpenMP waits, as benchmarks.suite's default: spinning threads of a shared machine slow every library
    python_path = os.pathsep.join(path + [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    env = {**os.environ, "OMP_NUM_THREADS": threads, "NUMBA_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
           "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": python_path}
    # run as a file, so that a baseline engine's own benchmarks package cannot shadow this module
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(spec_path)], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(PREFIX)]
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]}, None
    return json.loads(lines[-1][len(PREFIX):]), np.load(pred_path)


def run_shape(shape, rows, test_rows, setting, baseline, repeats):
    """Print one shape's table: every library's fastest train time of ``repeats`` interleaved runs
    against the faster peer's, AUC, memory."""
    from bindings.metrics import roc_auc

    X, y = TASKS[shape](rows + test_rows)
    libraries = list(LIBRARIES) + (["ours@base"] if baseline else [])
    with tempfile.TemporaryDirectory() as folder:
        sp.save_npz(Path(folder) / "X.npz", X[:rows], compressed=False)
        sp.save_npz(Path(folder) / "X_test.npz", X[rows:], compressed=False)
        np.save(Path(folder) / "y.npy", y[:rows])
        runs = {library: [] for library in libraries}
        for round_ in range(repeats):  # round-robin: a slow phase of a shared machine slows every library of a round
            for library in libraries[:len(LIBRARIES)] if round_ else libraries:  # the baseline once: it is far slower
                result, pred = run_child(library, setting, folder, baseline if library == "ours@base" else None)
                if pred is not None:
                    result["auc"] = roc_auc(y[rows:], pred)
                runs[library].append(result)
        # each library's fastest run (the least disturbed one), an error if any run failed; its
        # fastest prediction, which may come from another run
        results = {library: next((r for r in rs if "error" in r), None) or min(rs, key=lambda r: r["train_s"])
                   for library, rs in runs.items()}
        for library, rs in runs.items():
            if "error" not in results[library]:
                for key in ("predict_s", "predict_cpu_s"):
                    results[library][key] = min(r[key] for r in rs)
    print(f"\n{shape}: {rows} x {X.shape[1]} CSR ({X[:rows].nnz / rows:.1f} stored a row, density "
          f"{X.nnz / X.shape[0] / X.shape[1]:.4f}), {y.mean():.3f} positive; {setting.trees} trees, depth "
          f"{setting.depth}, {setting.bins} bins, {setting.threads} threads")
    peers = [results[p]["train_s"] for p in ("xgboost", "lightgbm") if "train_s" in results[p]]
    fastest = min(peers) if peers else float("nan")
    xgb = results["xgboost"] if "predict_s" in results["xgboost"] else {"predict_s": np.nan, "predict_cpu_s": np.nan}
    print(f"{'library':10s} {'train s':>8s} {'x faster peer':>14s} {'test AUC':>9s} {'fit MiB':>8s} "
          f"{'peak MiB':>9s} {'predict s':>10s} {'x xgboost':>10s} {'cpu s':>7s} {'x xgboost':>10s}  path")
    for library, r in results.items():
        if "error" in r:
            print(f"{library:10s} failed: {r['error']}")
            continue
        print(f"{library:10s} {r['train_s']:8.2f} {r['train_s'] / fastest:14.2f} {r['auc']:9.4f} "
              f"{r['train_mem_mib']:8.0f} {r['peak_rss_mib']:9.0f} {r['predict_s']:10.3f} "
              f"{r['predict_s'] / xgb['predict_s']:10.2f} {r['predict_cpu_s']:7.3f} "
              f"{r['predict_cpu_s'] / xgb['predict_cpu_s']:10.2f}  {r.get('path', '')}")
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", nargs="+", choices=SHAPES, default=list(SHAPES))
    ap.add_argument("--rows", type=int, default=200_000, help="training rows of text and wide")
    ap.add_argument("--onehot-rows", type=int, default=1_000_000, help="training rows of onehot")
    ap.add_argument("--test-rows", type=int, default=50_000)
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--bins", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1, help="interleaved runs per library, the fastest reported")
    ap.add_argument("--baseline", type=Path, default=None, help="another checkout of this engine to run too")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(PREFIX + json.dumps(child(json.loads(args.child.read_text()))), flush=True)
        return
    from benchmarks.peers import Setting

    setting = Setting("binary", args.trees, args.depth, args.bins, args.threads)
    for shape in args.shapes:
        run_shape(shape, args.onehot_rows if shape == "onehot" else args.rows, args.test_rows, setting,
                  args.baseline, args.repeats)


if __name__ == "__main__":
    main()
