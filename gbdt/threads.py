"""Numba thread count for one call: ``with using_threads(n_jobs): ...``.

Numba's pool size is fixed at import (NUMBA_NUM_THREADS, default: all cores); a request for more
threads than that is capped, so ``n_jobs`` larger than the machine still runs.
"""
from contextlib import contextmanager

import numba


def effective_threads(n_jobs):
    """Threads actually used for ``n_jobs`` (None or -1 = all available)."""
    limit = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None or n_jobs == -1:
        return limit
    return max(1, min(int(n_jobs), limit))


@contextmanager
def using_threads(n_jobs):
    """Run the body with ``effective_threads(n_jobs)`` Numba threads, then restore the old count."""
    previous = numba.get_num_threads()
    numba.set_num_threads(effective_threads(n_jobs))
    try:
        yield
    finally:
        numba.set_num_threads(previous)
