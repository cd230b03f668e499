"""JIT flags in one place: every kernel in gbdt/ is compiled through ``jit``.

``cache=True`` so a second process loads machine code from disk instead of recompiling;
``nogil=True`` so Dask worker threads can run kernels concurrently. ``parallel=True`` only
where a kernel has an outer ``prange``. Never ``fastmath``: split gains compare sums of
floats and must not be reassociated.
"""
from numba import njit


def jit(fn=None, *, parallel=False):
    """Decorate ``fn`` with the project's njit flags; usable as ``@jit`` or ``@jit(parallel=True)``."""
    decorate = njit(cache=True, nogil=True, parallel=parallel)
    if fn is None:
        return decorate
    return decorate(fn)
