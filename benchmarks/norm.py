"""LayerNorm / RMSNorm forward + backward against PyTorch CPU on the same threads, and memory bandwidth.

Times ``bindings.nn.norm.LayerNorm``/``RMSNorm`` (forward, backward incl. parameter gradients) and
``torch.nn.LayerNorm``/``RMSNorm`` (forward, autograd backward) on an (8192, 1024) float32 input,
median of ``--repeats`` interleaved runs after a warm-up, with numba and torch both set to ``--threads`` threads.
Effective bandwidth counts the bytes a fused implementation must move: forward reads x and writes y
(2 arrays), backward reads dy and x and writes dx (3 arrays); it is compared with the copy bandwidth
(read + write) measured in the same run on arrays of the same size and on arrays 16 times larger.

Run: ``python -m benchmarks.norm [--threads N] [--rows 8192] [--dim 1024] [--repeats 20]``.
Prints one line per layer with the ratio ours / torch (< 1 means ours is faster) and writes
benchmarks/figures/norm.png.
"""
import argparse
import os
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


@jit(parallel=True)
def parallel_copy(src, dst):
    """dst[:] = src[:] split over the numba threads (the bandwidth a prange kernel can reach)."""
    n = src.shape[0]
    for i in prange(n):
        dst[i] = src[i]


def round_times(fns, repeats):
    """(repeats, len(fns)) wall times; the callables take turns in every round, so a change of
    load on the (shared) machine hits all of them alike and the ratios stay meaningful."""
    for fn in fns:
        fn()
    times = np.empty((repeats, len(fns)))
    for r in range(repeats):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[r, k] = time.perf_counter() - start
    return times


def copy_bandwidth(n_bytes, repeats):
    """Best round of numpy's copy and of a numba prange copy, in GB/s of read + write traffic."""
    src = np.ones(n_bytes // 4, np.float32)
    dst = np.empty_like(src)
    best = round_times([lambda: np.copyto(dst, src), lambda: parallel_copy(src, dst)], repeats).min()
    return 2 * n_bytes / best / 1e9


def time_pair(ours, theirs, x, dy, repeats):
    """Median (ours forward, ours backward, torch forward, torch backward) in seconds, and the
    best round of ours forward + backward (for the bandwidth, comparable with the best copy)."""
    tx = torch.from_numpy(x).requires_grad_(True)
    tdy = torch.from_numpy(dy)

    def ours_backward():
        ours.backward(dy)  # reuses the statistics kept by the last ours.forward(x)

    def torch_forward_backward():
        # autograd frees the graph after backward, so each repetition needs its own forward;
        # the forward is timed on its own and subtracted.
        theirs(tx).backward(tdy)

    times = round_times([lambda: ours.forward(x), ours_backward, lambda: theirs(tx), torch_forward_backward],
                        repeats)
    ours_f, ours_b, torch_f, torch_fb = np.median(times, axis=0)
    return (ours_f, ours_b, torch_f, torch_fb - torch_f), (times[:, 0] + times[:, 1]).min()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    numba.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.rows, args.dim)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    array_bytes = x.nbytes
    copy_same = copy_bandwidth(array_bytes, args.repeats)
    copy_large = copy_bandwidth(16 * array_bytes, max(3, args.repeats // 4))
    print(f"threads={args.threads} (numba and torch), x=({args.rows}, {args.dim}) float32, "
          f"cpus={os.cpu_count()}, torch {torch.__version__}")
    print(f"copy bandwidth (read+write): {copy_same:.1f} GB/s on {array_bytes / 1e6:.0f} MB arrays, "
          f"{copy_large:.1f} GB/s on {16 * array_bytes / 1e6:.0f} MB arrays")

    results = {}
    for name, ours, theirs in (("LayerNorm", LayerNorm(args.dim), torch.nn.LayerNorm(args.dim)),
                               ("RMSNorm", RMSNorm(args.dim), torch.nn.RMSNorm(args.dim, eps=1e-5))):
        (ours_f, ours_b, torch_f, torch_b), ours_best = time_pair(ours, theirs, x, dy, args.repeats)
        total_ours, total_torch = ours_f + ours_b, torch_f + torch_b
        bandwidth = 5 * array_bytes / ours_best / 1e9
        results[name] = (ours_f, ours_b, torch_f, torch_b)
        print(f"{name:9s} forward+backward: ours {total_ours * 1e3:6.1f} ms "
              f"(fwd {ours_f * 1e3:.1f}, bwd {ours_b * 1e3:.1f}), torch {total_torch * 1e3:6.1f} ms "
              f"(fwd {torch_f * 1e3:.1f}, bwd {torch_b * 1e3:.1f}); ratio ours/torch {total_ours / total_torch:.2f}; "
              f"ours (best round) moves {bandwidth:.1f} GB/s = {bandwidth / copy_same:.0%} of same-size copy, "
              f"{bandwidth / copy_large:.0%} of large copy")

    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels = [f"{name}\n{who}" for name in results for who in ("ours", "torch")]
    fwd = [t for r in results.values() for t in (r[0], r[2])]
    bwd = [t for r in results.values() for t in (r[1], r[3])]
    ax.bar(labels, np.array(fwd) * 1e3, label="forward")
    ax.bar(labels, np.array(bwd) * 1e3, bottom=np.array(fwd) * 1e3, label="backward")
    ax.set_ylabel("ms (median)")
    ax.set_title(f"({args.rows}, {args.dim}) float32, {args.threads} threads")
    ax.legend()
    save_figure(fig, "norm")


if __name__ == "__main__":
    main()
