"""Numba thread count for one call: ``with using_threads(n_jobs): ...``, the one thread-count context of
every topic (GBDT, logistic regression, recommenders, multimodal network).

Numba's pool size is fixed at import (NUMBA_NUM_THREADS, default: all cores); a request for more
threads than that is capped, so ``n_jobs`` larger than the machine still runs. Inside
``using_threads`` of one thread, parallel kernels run their serial compilation
(``gbdt._jit.ThreadedKernel``); ``serial_kernels`` tells them, per calling thread (Dask workers
run fits side by side in one process).
"""
import threading
from contextlib import contextmanager, nullcontext

import numba

# a fit with fewer (row, feature) cells than this runs on one thread. 100 trees of depth 6 on the
# 2-core machine, 2 threads' time over the serial kernels' in the same runs: 1k x 28 1.01-1.19,
# 5k x 28 0.86-1.22, 100k x 28 0.92-1.02 (noisy); kept low, since machines with more cores gain sooner
SERIAL_FIT_CELLS = 1 << 16

# a prediction of fewer rows than this runs on one thread: 1k rows x 100 trees of depth 6 take
# ~0.5 ms, and the parallel compilation of the forest walk ~2 s of a cold first prediction
SERIAL_PREDICT_ROWS = 1 << 12

_state = threading.local()


def effective_threads(n_jobs):
    """Threads actually used for ``n_jobs`` (None or -1 = all available)."""
    limit = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None or n_jobs == -1:
        return limit
    return max(1, min(int(n_jobs), limit))


def fit_threads(n_jobs, n_rows, n_features, serial_cells=None):
    """Threads a fit on ``n_rows`` x ``n_features`` uses: ``effective_threads(n_jobs)``, or one below
    ``serial_cells`` cells (default SERIAL_FIT_CELLS, the GBDT's), where starting threads costs more than they save."""
    cells = SERIAL_FIT_CELLS if serial_cells is None else serial_cells
    return 1 if n_rows * n_features < cells else effective_threads(n_jobs)


def predict_threads(n_jobs, n_rows):
    """Threads a prediction of ``n_rows`` rows uses: ``effective_threads(n_jobs)``, or one below
    SERIAL_PREDICT_ROWS."""
    return 1 if n_rows < SERIAL_PREDICT_ROWS else effective_threads(n_jobs)


def serial_kernels():
    """Whether the calling thread is inside ``using_threads`` of one thread."""
    return getattr(_state, "threads", 0) == 1


@contextmanager
def using_threads(n_jobs, *, chunksize=None):
    """Run the body with ``effective_threads(n_jobs)`` Numba threads, then restore the old count.

    chunksize : prange iterations a thread takes at a time (``numba.parallel_chunksize``); None keeps
    Numba's equal static shares. 1 hands out blocks one by one, which keeps threads busy when a few
    blocks hold most of the work (the recommenders' popular items).
    """
    previous, previous_state = numba.get_num_threads(), getattr(_state, "threads", 0)
    _state.threads = effective_threads(n_jobs)
    numba.set_num_threads(_state.threads)
    try:
        with numba.parallel_chunksize(chunksize) if chunksize is not None else nullcontext():
            yield
    finally:
        numba.set_num_threads(previous)
        _state.threads = previous_state
