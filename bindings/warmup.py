"""Compile the common training and prediction paths once, after install: ``python -m bindings.warmup``
(or ``gbdt warmup``).

Numba compiles every kernel on its first call and keeps the machine code in its disk cache
(``__pycache__`` beside the sources, or ``NUMBA_CACHE_DIR``), so only the first process pays.
That first fit of 1k rows takes ~5 s of compilation on the 2-core machine; later processes load
the code in ~0.3 s. Small fits grow their trees with the compiled grower (``gbdt.compiled_grower``)
only once it is in the cache (``gbdt.grower.TreeGrower.compiled``), since compiling it costs
more than a small fit saves: this command compiles it, with the kernels of the common paths, one
tiny fit per path (~1-2 minutes on the 2-core machine):

- binary, squared-error and softmax objectives, depthwise trees, one thread (fits below
  ``gbdt.threads.SERIAL_FIT_CELLS`` cells run on one thread);
- binary with lossguide trees, one thread;
- binary depthwise on several threads (skipped where Numba has one), and predictions on one
  thread and on several.
"""
import argparse
import sys
import time
from contextlib import contextmanager

import numpy as np

from bindings.dataset import Dataset
from bindings.train import train
from gbdt.grower import TreeGrower
from gbdt.threads import SERIAL_FIT_CELLS, SERIAL_PREDICT_ROWS, effective_threads

__all__ = ["WARMUPS", "warm_up", "compiled_growth", "main"]

# (what, training parameters, threads: "one" or "all")
WARMUPS = (
    ("binary, depthwise, 1 thread", {"objective": "binary:logistic"}, "one"),
    ("regression, depthwise, 1 thread", {"objective": "reg:squarederror"}, "one"),
    ("multiclass, depthwise, 1 thread", {"objective": "multi:softprob", "num_class": 3}, "one"),
    ("binary, lossguide, 1 thread", {"objective": "binary:logistic", "grow_policy": "lossguide", "max_leaves": 16},
     "one"),
    ("binary, depthwise, all threads", {"objective": "binary:logistic"}, "all"),
)
FEATURES = 8


@contextmanager
def compiled_growth():
    """Grow trees with the compiled grower, compiling it where it is not in the cache."""
    previous = TreeGrower.compiled
    TreeGrower.compiled = True
    try:
        yield
    finally:
        TreeGrower.compiled = previous


def warm_up(names=None, log=print):
    """Fit and predict once per path of ``WARMUPS`` (those whose description is in ``names``;
    None: all), compiling into Numba's disk cache what is not there yet; returns {path: seconds}."""
    rng = np.random.default_rng(0)
    seconds = {}
    for what, params, threads in WARMUPS:
        if names is not None and what not in names:
            continue
        if threads == "all" and effective_threads(None) < 2:
            log(f"{what}: skipped (Numba has one thread)")
            continue
        rows = SERIAL_FIT_CELLS // FEATURES if threads == "all" else 500  # the cells a fit needs for threads
        X = rng.standard_normal((max(rows, SERIAL_PREDICT_ROWS), FEATURES))
        y = X[:, 0] + X[:, 1] ** 2 > 0.5
        label = (y + (X[:, 2] > 0) if params.get("num_class") else y).astype(np.float64)
        start = time.perf_counter()
        with compiled_growth():
            booster = train({**params, "max_depth": 4, "n_jobs": -1 if threads == "all" else 1},
                            Dataset(X[:rows], label[:rows]), 2)
        booster.predict(X[:SERIAL_PREDICT_ROWS - 1])  # one thread
        if threads == "all":
            booster.predict(X)
        seconds[what] = time.perf_counter() - start
        log(f"{what}: {seconds[what]:.1f} s")
    return seconds


def main(argv=None):
    """``python -m bindings.warmup [--paths ...]``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bindings.warmup", description=__doc__.splitlines()[0])
    parser.add_argument("--paths", nargs="+", choices=[w[0] for w in WARMUPS], metavar="PATH",
                        help=f"only these paths (default: all): {'; '.join(w[0] for w in WARMUPS)}")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    warm_up(args.paths)
    print(f"compiled into Numba's cache in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
