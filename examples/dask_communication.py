"""Data-parallel vs feature-parallel Dask training: bytes moved between workers, predicted and measured.

Per tree of depth D on W workers with F features and B bins (float64 gradient and hessian = 16 bytes a bin;
8 with ``use_quantized_grad``, whose shards add packed integer sums, which halves the histogram terms):
- data-parallel moves histograms: (W - 1) x F x B x 16 x 2^(D-1) bytes (the root plus the smaller child of every
  split above the last level), independent of the number of rows;
- feature-parallel moves the owners' feature slices of the same histograms, F x B x 16 x 2^(D-1) x (W - 1) / W,
  plus one left/right byte per row per split level to each other worker: n x D x (W - 1).
So feature-parallel wins when rows are few relative to features x bins x 2^D, and loses on tall data. This script
trains both modes on a LocalCluster (2 workers) for several shapes, prints predicted and measured megabytes per
tree, and writes examples/figures/dask_communication.png.

    python examples/dask_communication.py
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cluster  # noqa: E402
from _dask_blocks import scattered_blocks  # noqa: E402
from _figures import save_figure  # noqa: E402

DEPTH, BINS, TREES, WORKERS = 5, 64, 3, 2


def predicted_mb(n_rows, n_features):
    hist = n_features * BINS * 16 * 2 ** (DEPTH - 1)
    return {"data": (WORKERS - 1) * hist / 1e6,
            "feature": (hist * (WORKERS - 1) / WORKERS + n_rows * DEPTH * (WORKERS - 1)) / 1e6}


def measured_mb(client, n_rows, n_features, mode):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_rows, n_features))
    y = (X[:, 0] + X[:, 1] * X[:, 2 % n_features] > 0).astype(float)
    bst = cluster.train(client, {"objective": "binary:logistic", "max_depth": DEPTH, "max_bin": BINS},
                        *scattered_blocks(client, X, y, WORKERS),
                        num_boost_round=TREES, distributed_mode=mode, min_rows_per_worker=1)  # every worker
    return sum(bst.traffic_bytes.values()) / TREES / 1e6


def main():
    shapes = [(2_000, 200), (10_000, 100), (50_000, 20), (200_000, 10)]
    rows = []
    with LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
            Client(lc) as client:
        for n, f in shapes:
            pred = predicted_mb(n, f)
            meas = {m: measured_mb(client, n, f, m) for m in ("data", "feature")}
            rows.append((n, f, pred, meas))
            winner = min(meas, key=meas.get)
            print(f"{n:>8} rows x {f:>4} features: MB/tree data {meas['data']:.2f} (predicted {pred['data']:.2f})  "
                  f"feature {meas['feature']:.2f} (predicted {pred['feature']:.2f})  -> {winner}-parallel moves less")
    fig, ax = plt.subplots(figsize=(7, 4))
    ratio = [n / f for n, f, _, _ in rows]
    for mode, marker in (("data", "o"), ("feature", "s")):
        ax.plot(ratio, [r[3][mode] for r in rows], marker=marker, label=f"{mode}-parallel, measured")
        ax.plot(ratio, [r[2][mode] for r in rows], linestyle="--", label=f"{mode}-parallel, predicted")
    ax.set(xscale="log", yscale="log", xlabel="rows / features", ylabel="MB between workers per tree",
           title=f"depth {DEPTH}, {BINS} bins, {WORKERS} workers")
    ax.legend()
    save_figure(fig, "dask_communication")


if __name__ == "__main__":
    main()
