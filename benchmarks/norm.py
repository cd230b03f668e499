"""LayerNorm / RMSNorm forward + backward against PyTorch CPU on the same threads, at several shapes, with the
bandwidth each moves against a same-size copy.

For each (rows, dim) float32 shape, paired rounds time in turn: a copy of x (numpy's and a numba prange copy,
the faster counts), ``bindings.nn.LayerNorm`` forward + backward (parameter gradients included), torch's
``nn.LayerNorm`` forward + autograd backward, and the same for RMSNorm; with ``--baseline REF`` also the row
kernels of ``gbdt/kernels/nn/norm.py`` as of git revision REF and of the working tree, both into preallocated
outputs (before/after in one run, same rounds; the layers return new arrays, over their spare buffers
when the previous round's results are gone: ``bindings.nn.buffers``).
Numba and torch both use ``--threads`` threads. Effective bandwidth counts the bytes a fused implementation
must move: forward reads x and writes y, backward reads dy and x and writes dx (5 arrays), over the best round;
the ratio ours / torch is the median over rounds of the per-round ratio (< 1: ours is faster).

Run: ``python -m benchmarks.norm [--threads N] [--shapes 8192x1024 16384x256] [--repeats 15] [--baseline REF]
[--clock cpu]``.
Writes benchmarks/figures/norm.png (GB/s per shape).
"""
import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from numba import prange  # noqa: E402

from benchmarks._figures import save_figure  # noqa: E402
from bindings.nn import LayerNorm, RMSNorm  # noqa: E402
from gbdt._jit import jit  # noqa: E402

DEFAULT_SHAPES = ["8192x1024", "32768x256", "2048x4096", "65536x64"]


@jit(parallel=True)
def parallel_copy(src, dst):
    """dst[:] = src[:] split over the numba threads (the bandwidth a prange kernel can reach)."""
    n = src.shape[0]
    for i in prange(n):
        dst[i] = src[i]


def round_times(fns, repeats, clock=time.perf_counter):
    """(repeats, len(fns)) times on ``clock``; the callables take turns in every round, so a change of
    load on the (shared) machine hits all of them alike and the ratios stay meaningful."""
    for fn in fns:
        fn()
    times = np.empty((repeats, len(fns)))
    for r in range(repeats):
        for k, fn in enumerate(fns):
            start = clock()
            fn()
            times[r, k] = clock() - start
    return times


def load_kernels(revision):
    """The module gbdt/kernels/nn/norm.py as of git ``revision``, imported under another name."""
    source = subprocess.run(["git", "show", f"{revision}:gbdt/kernels/nn/norm.py"], check=True, capture_output=True,
                            text=True).stdout
    path = os.path.join(tempfile.mkdtemp(), "norm_baseline.py")
    with open(path, "w") as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("norm_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["norm_baseline"] = module
    spec.loader.exec_module(module)
    return module


def forward_backward(layer, x, dy):
    """One forward of ``layer`` (ours) on x, then its backward with dy."""
    def run():
        layer.forward(x)
        layer.backward(dy)

    return run


def kernel_pass(kernels, x, dy, center):
    """Forward + backward through ``kernels``' row kernels into preallocated outputs: the kernels' own
    bandwidth, without the layer's validation, reshapes and output arrays."""
    n, d = x.shape
    gamma, beta = np.ones(d, x.dtype), np.zeros(d, x.dtype)
    out, dx, mean, rstd = np.empty_like(x), np.empty_like(x), np.empty(n), np.empty(n)
    partial_g, partial_b = np.empty((min(n, kernels.N_ROW_CHUNKS), d)), np.empty((min(n, kernels.N_ROW_CHUNKS), d))
    dgamma, dbeta = np.empty(d), np.empty(d)

    def run():
        kernels.row_norm_forward(x, gamma, beta, 1e-5, center, out, mean, rstd)
        kernels.row_norm_backward(dy, x, gamma, mean, rstd, center, dx, partial_g, partial_b)
        kernels.sum_chunks(partial_g, dgamma)
        kernels.sum_chunks(partial_b, dbeta)

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    parser.add_argument("--shapes", nargs="+", default=DEFAULT_SHAPES, help="ROWSxDIM float32 inputs")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--baseline", help="git revision whose row kernels to time alongside (before/after)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: the process's CPU time, with --threads 1 a stand-in for the wall time of a "
                             "quiet machine when other jobs load it (they still share its memory bandwidth)")
    args = parser.parse_args(argv)
    if args.clock == "cpu" and args.threads != 1:
        parser.error("--clock cpu sums the CPU time of every thread: use it with --threads 1")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    numba.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    baseline = load_kernels(args.baseline) if args.baseline else None
    print(f"threads={args.threads} (numba and torch), cpus={os.cpu_count()}, load average "
          f"{os.getloadavg()[0]:.1f}, torch {torch.__version__}, repeats={args.repeats}, clock={args.clock}")
    rng = np.random.default_rng(0)
    rows = []
    for text in args.shapes:
        n, d = map(int, text.lower().split("x"))
        x = rng.standard_normal((n, d)).astype(np.float32)
        dy = rng.standard_normal(x.shape).astype(np.float32)
        tx, tdy = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(dy)
        dst = np.empty_like(x)
        fns = {"copy (numpy)": lambda: np.copyto(dst, x), "copy (prange)": lambda: parallel_copy(x, dst)}
        for name, ours, theirs, center in (("LayerNorm", LayerNorm(d), torch.nn.LayerNorm(d), True),
                                           ("RMSNorm", RMSNorm(d, eps=1e-5), torch.nn.RMSNorm(d, eps=1e-5), False)):
            fns[f"{name} ours"] = forward_backward(ours, x, dy)
            fns[f"{name} torch"] = lambda theirs=theirs: theirs(tx).backward(tdy)
            if baseline is not None:
                fns[f"{name} baseline"] = kernel_pass(baseline, x, dy, center)
                fns[f"{name} kernels"] = kernel_pass(sys.modules["gbdt.kernels.nn.norm"], x, dy, center)
        times = dict(zip(fns, round_times(list(fns.values()), args.repeats, clock).T))
        copy_gbs = 2 * x.nbytes / min(times["copy (numpy)"].min(), times["copy (prange)"].min()) / 1e9
        print(f"({n}, {d}) float32, {x.nbytes / 1e6:.0f} MB per array; copy {copy_gbs:.1f} GB/s (read + write)")
        row = {"shape": f"{n}x{d}", "copy": copy_gbs}
        for name in ("LayerNorm", "RMSNorm"):
            ours, theirs = times[f"{name} ours"], times[f"{name} torch"]
            gbs = 5 * x.nbytes / ours.min() / 1e9
            row[name] = gbs
            row[f"{name} torch"] = 5 * x.nbytes / theirs.min() / 1e9
            line = (f"  {name:9s} fwd+bwd: ours {np.median(ours) * 1e3:7.2f} ms, "
                    f"torch {np.median(theirs) * 1e3:7.2f} ms, "
                    f"ours/torch {np.median(ours / theirs):.2f}; ours {gbs:5.1f} GB/s = {gbs / copy_gbs:.0%} of copy, "
                    f"torch {row[f'{name} torch']:5.1f} GB/s")
            if baseline is not None:
                before, after = times[f"{name} baseline"], times[f"{name} kernels"]
                line += (f"; kernels {args.baseline} -> now: {np.median(before) * 1e3:.2f} -> "
                         f"{np.median(after) * 1e3:.2f} ms, {5 * x.nbytes / before.min() / 1e9:.1f} -> "
                         f"{5 * x.nbytes / after.min() / 1e9:.1f} GB/s")
            print(line)
        rows.append(row)

    fig, ax = plt.subplots(figsize=(7, 3.5))
    keys = ["copy", "LayerNorm", "LayerNorm torch", "RMSNorm", "RMSNorm torch"]
    width = 0.8 / len(keys)
    for k, key in enumerate(keys):
        ax.bar(np.arange(len(rows)) + k * width, [r[key] for r in rows], width, label=key.replace("Norm", "Norm ours")
               if key in ("LayerNorm", "RMSNorm") else key)
    ax.set_xticks(np.arange(len(rows)) + 0.4 - width / 2, [r["shape"] for r in rows])
    ax.set_ylabel("GB/s (best round)")
    ax.set_title(f"forward + backward, float32, {args.threads} threads")
    ax.legend(fontsize=7)
    save_figure(fig, "norm")


if __name__ == "__main__":
    main()
