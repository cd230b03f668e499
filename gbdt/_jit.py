"""JIT flags in one place: every kernel in gbdt/ is compiled through ``jit``.

``cache=True`` so a second process loads machine code from disk instead of recompiling;
``nogil=True`` so Dask worker threads can run kernels concurrently. ``parallel=True`` only
where a kernel has an outer ``prange``. ``fastmath`` only where reassociating a sum is harmless
and measured to pay (a dot product inside an iterative solver); never on split gains, which
compare sums of floats. ``inline=True`` for small helpers called once per node or row: Numba
inlines them into the calling kernel at IR level (LLVM does not inline across Numba's
per-function modules); they are compiled, and cached, as part of their callers. ``ieee=True``
(Numba's numpy error model) lets a float division by zero give inf/NaN instead of raising: the
zero test Numba adds to every division is a branch that stops LLVM vectorising a loop; only for
kernels whose invalid lanes are discarded by a select.
"""
from numba import njit


def jit(fn=None, *, parallel=False, fastmath=False, inline=False, ieee=False):
    """Decorate ``fn`` with the project's njit flags; usable as ``@jit`` or ``@jit(parallel=True)``."""
    error_model = "numpy" if ieee else "python"
    if inline:
        decorate = njit(inline="always", nogil=True, error_model=error_model)
    else:
        decorate = njit(cache=True, nogil=True, parallel=parallel, fastmath=fastmath, error_model=error_model)
    if fn is None:
        return decorate
    return decorate(fn)
