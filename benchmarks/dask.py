"""Dask training against xgboost.dask on the same LocalCluster: wall time, peak memory per worker, test AUC.

    python -m benchmarks.dask --parquet                      # 2M rows x 28 float32 in 10 Parquet files
    python -m benchmarks.dask --parquet --rows 10000000      # the issue's size (needs ~8 GB free)
    python -m benchmarks.dask --rows 400000                  # in-memory blocks scattered to the workers
    python -m benchmarks.dask --parquet --workers 1,2,4,8    # scaling table (benchmarks/device_scaling.sh)

With ``--parquet`` the rows are written to Parquet files in a temporary directory first (one row group
per 500k rows, float32 features), then each library reads them the way its users do: ours with
``cluster.read_parquet`` + ``cluster.train`` (each worker streams its own row groups and keeps only the
binned rows), xgboost.dask with ``dask.dataframe.read_parquet``, the frame persisted (its
``DaskQuantileDMatrix`` needs the partitions of X and y computed together) and ``xgb.dask.train``.
The timed span is the whole job: from the file paths to a trained model.

Each library runs on a fresh LocalCluster (``--workers`` processes x ``--threads`` threads, the same for
both; with a list of worker counts, one cluster per count, and a table of parallel efficiency), warmed up by a tiny fit first, so that its peak memory is its own: the table reports, per
worker, the peak resident memory during the job (VmHWM, reset just before) and its increase over
the worker's memory before the job. Test AUC is on rows held out from the same generator. Ours also prints
the leader's phases (``cluster.train``'s ``fit_profile``): what of a fit does not shrink with more workers.
"""
import argparse
import functools
import os
import sys
import tempfile
import time

import numpy as np

from benchmarks.child import current_rss_mib, peak_rss_mib, reset_peak
from benchmarks.synthetic import binary_task

PARAMS = {"objective": "binary:logistic", "max_depth": 6, "learning_rate": 0.1, "max_bin": 256}
ROWS_PER_GROUP = 500_000
HELD_OUT = 100_000


def write_parquet(directory, n_rows, n_files, seed=0):
    """Write ``n_rows`` rows of ``benchmarks.synthetic.binary_task`` (28 float32 features, label "y") to
    ``n_files`` Parquet files, generated file by file (never the whole data in memory); returns the
    feature names."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    bounds = np.linspace(0, n_rows, n_files + 1).astype(int)
    names = None
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        X, y = binary_task(hi - lo, seed=seed + 1 + i)
        names = [f"f{j}" for j in range(X.shape[1])]
        table = pa.table({**{n: X[:, j].astype(np.float32) for j, n in enumerate(names)}, "y": y})
        pq.write_table(table, os.path.join(directory, f"part-{i:03d}.parquet"), row_group_size=ROWS_PER_GROUP)
    return names


def _reset_peak_rss():
    """On a worker: restart its peak-RSS counter; returns its RSS now (MiB)."""
    reset_peak()
    return current_rss_mib()


def measured(client, job):
    """(job's result, wall seconds, {worker: (peak RSS MiB, increase over its RSS before, MiB)})."""
    before = client.run(_reset_peak_rss)
    start = time.perf_counter()
    result = job()
    seconds = time.perf_counter() - start
    peak = client.run(peak_rss_mib)
    return result, seconds, {w: (peak[w], peak[w] - before[w]) for w in peak}


def ours(client, source, args, split_search="shards"):
    """Our job: read the files' footers, stream the row groups into the workers, train (``split_search``:
    see ``cluster.train``)."""
    import cluster

    def job():
        data = cluster.read_parquet(source, "y") if args.parquet else source
        return cluster.train(client, {**PARAMS, "n_jobs": args.threads}, data.X if args.parquet else data[0],
                             data.y if args.parquet else data[1], num_boost_round=args.trees,
                             split_search=split_search)

    warm = np.random.default_rng(0).standard_normal((2000, 28))
    cluster.train(client, PARAMS, warm, (warm[:, 0] > 0).astype(float), num_boost_round=2, min_rows_per_worker=1)
    model, seconds, memory = measured(client, job)
    prof = model.fit_profile
    (sketch_s, sketch_cpu), (bin_s, bin_cpu) = prof["sketch"], prof["binning"]
    print(f"ours trained on {len(model.rows_per_worker)} of {len(memory)} workers (min_rows_per_worker's default); "
          f"the leader's phases, wall s (its thread's CPU s): sketch {sketch_s:.2f} ({sketch_cpu:.2f}), binning "
          f"{bin_s:.2f} ({bin_cpu:.2f}), boosting {prof['boost_s']:.2f} ({prof['boost_cpu_s']:.2f}: own shard's "
          f"{prof['work_cpu_s']:.2f}; {prof['wait_s']:.2f} s waiting on other shards), the rest of the job "
          f"{seconds - sketch_s - bin_s - prof['boost_s']:.2f}")
    return model.predict, seconds, memory


def theirs(client, source, args):
    """xgboost.dask's job: the frame read and persisted, a DaskQuantileDMatrix, train."""
    import xgboost as xgb
    import xgboost.dask  # noqa: F401  (registers xgb.dask)

    def job():
        if args.parquet:
            import dask.dataframe as dd

            frame = dd.read_parquet(source).persist()
            X, y = frame.drop(columns="y"), frame["y"]
        else:
            X, y = source
        matrix = xgb.dask.DaskQuantileDMatrix(client, X, y, max_bin=PARAMS["max_bin"])
        return xgb.dask.train(client, {**PARAMS, "tree_method": "hist", "nthread": args.threads}, matrix,
                              args.trees)["booster"]

    import dask.array as da

    warm = da.from_array(np.random.default_rng(0).standard_normal((2000, 28)), chunks=(500, 28))
    xgb.dask.train(client, {**PARAMS, "tree_method": "hist"}, xgb.dask.DaskDMatrix(client, warm, warm[:, 0] > 0), 2)
    booster, seconds, memory = measured(client, job)
    return (lambda X: booster.predict(xgb.DMatrix(X, feature_names=booster.feature_names))), seconds, memory


def run_jobs(args, source, n_workers, X_test, y_test):
    """[(library, wall s, {worker: (peak MiB, increase MiB)}, test AUC)] of each library's job on a
    fresh LocalCluster of ``n_workers`` x ``args.threads``."""
    from distributed import Client, LocalCluster
    from sklearn.metrics import roc_auc_score

    runners = {"ours": ours, "ours-leader": functools.partial(ours, split_search="leader"), "xgboost.dask": theirs}
    rows = []
    for name in args.libraries.split(","):
        if name not in runners:
            raise ValueError(f"--libraries: unknown {name!r}; choose from {list(runners)}")
        with LocalCluster(n_workers=n_workers, threads_per_worker=args.threads, processes=True,
                          dashboard_address=None) as lc, Client(lc) as client:
            data = source
            if not args.parquet:  # in-memory blocks, already on the workers before the timed job
                sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples"))
                from _dask_blocks import scattered_blocks
                data = scattered_blocks(client, *source, 4 * n_workers)
            predict, seconds, memory = runners[name](client, data, args)
        rows.append((name, seconds, memory, roc_auc_score(y_test, predict(X_test.astype(np.float32)))))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.dask", description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000, help="training rows (default 2M)")
    ap.add_argument("--parquet", action="store_true", help="read the rows from Parquet files (see above)")
    ap.add_argument("--files", type=int, default=10, help="Parquet files (default 10)")
    ap.add_argument("--workers", default="2", help="worker processes; a list (1,2,4,8) adds a scaling table with "
                    "each library's parallel efficiency T(first) x first / (T(W) x W)")
    ap.add_argument("--threads", type=int, default=1, help="threads per worker, for both libraries")
    ap.add_argument("--trees", type=int, default=20)
    ap.add_argument("--libraries", default="ours,xgboost.dask",
                    help="comma-separated: ours, ours-leader (the leader searches the splits), xgboost.dask")
    args = ap.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    X_test, y_test = binary_task(HELD_OUT, seed=10_000)
    results = {}
    with tempfile.TemporaryDirectory(prefix="gbdt-dask-bench-") as directory:
        if args.parquet:
            write_parquet(directory, args.rows, args.files)
            source = directory
        else:
            source = binary_task(args.rows)
        for n_workers in counts:
            results[n_workers] = rows = run_jobs(args, source, n_workers, X_test, y_test)
            where = f"{args.files} Parquet files" if args.parquet else "scattered in-memory blocks"
            print(f"{args.rows:,} rows x 28 features from {where}; {args.trees} trees, depth {PARAMS['max_depth']}, "
                  f"{n_workers} workers x {args.threads} thread(s)")
            print(f"{'library':>14} {'wall s':>8} {'peak RSS per worker MiB':>26} {'increase MiB':>14} {'test AUC':>9}")
            for name, seconds, memory, auc in rows:
                peaks = "/".join(f"{m[0]:.0f}" for m in memory.values())
                grown = "/".join(f"{m[1]:.0f}" for m in memory.values())
                print(f"{name:>14} {seconds:>8.2f} {peaks:>26} {grown:>14} {auc:>9.4f}")
            if [r[0] for r in rows] == ["ours", "xgboost.dask"]:
                (_, t0, m0, _), (_, t1, m1, _) = rows
                print(f"ours / xgboost.dask: wall {t0 / t1:.2f}x, largest worker peak "
                      f"{max(m[0] for m in m0.values()) / max(m[0] for m in m1.values()):.2f}x", flush=True)
    if len(counts) > 1:
        first = counts[0]
        print(f"scaling: wall s (parallel efficiency against {first} worker(s))")
        print(f"{'workers':>8} " + " ".join(f"{row[0]:>22}" for row in results[first]))
        for n_workers in counts:
            cells = [f"{row[1]:.2f} ({base[1] * first / (row[1] * n_workers):.2f})"
                     for row, base in zip(results[n_workers], results[first])]
            print(f"{n_workers:>8} " + " ".join(f"{c:>22}" for c in cells))
    return results


if __name__ == "__main__":
    main()
