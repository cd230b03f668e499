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

A ``parallel=True`` kernel is a ``ThreadedKernel``: inside ``gbdt.threads.using_threads(1)`` a
call runs a serial compilation of the same function (``prange`` is ``range`` there). A parallel
region costs compile time (~1 s per kernel) and a per-call launch that one thread does not need:
a first fit of 1k x 10 rows with an empty cache takes 5.1-6.3 s with serial kernels against
9.3-11.1 s (2-core machine, alternating runs).
"""
import functools
import types

from numba import config, njit
from numba.extending import typeof_impl

from gbdt.threads import serial_kernels


class ThreadedKernel:
    """A ``parallel=True`` kernel with a serial twin, compiled on first use, for one-thread calls.

    The twin is a copy of the Python function under its own name (``<name>__serial``), so Numba
    caches the two compilations side by side instead of one overwriting the other.
    """

    def __init__(self, fn, flags):
        functools.update_wrapper(self, fn)
        self.py_func = fn
        self.parallel = njit(parallel=True, **flags)(fn)
        self._flags = flags
        self._serial = None

    @property
    def serial(self):
        """The serial compilation (created on first access)."""
        if self._serial is None:
            fn = self.py_func
            twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
            twin.__qualname__ = fn.__qualname__ + "__serial"
            twin.__module__ = fn.__module__
            self._serial = njit(**self._flags)(twin)
        return self._serial

    def __call__(self, *args):
        return (self.serial if serial_kernels() else self.parallel)(*args)


@typeof_impl.register(ThreadedKernel)
def _typeof_threaded_kernel(kernel, context):
    """Compiled callers (a coordinate-descent sweep calls ``packed_square_weighted``) see the
    parallel compilation."""
    return typeof_impl(kernel.parallel, context)


def jit(fn=None, *, parallel=False, fastmath=False, inline=False, ieee=False):
    """Decorate ``fn`` with the project's njit flags; usable as ``@jit`` or ``@jit(parallel=True)``."""
    error_model = "numpy" if ieee else "python"
    if inline:
        decorate = njit(inline="always", nogil=True, error_model=error_model)
    elif parallel and not config.DISABLE_JIT:
        flags = dict(cache=True, nogil=True, fastmath=fastmath, error_model=error_model)
        decorate = functools.partial(ThreadedKernel, flags=flags)
    else:
        decorate = njit(cache=True, nogil=True, fastmath=fastmath, error_model=error_model)
    if fn is None:
        return decorate
    return decorate(fn)
