"""JIT flags in one place: every kernel in gbdt/ is compiled through ``jit``.

``cache=True`` so a second process loads machine code from disk instead of recompiling;
no cfunc wrapper (nothing calls a kernel through a C function pointer; each costs compile time);
``nogil=True`` so Dask worker threads can run kernels concurrently. ``parallel=True`` only
where a kernel has an outer ``prange``. ``fastmath`` only where reassociating a sum is harmless
and measured to pay (a dot product inside an iterative solver); never on split gains, which
compare sums of floats. ``inline=True`` for small helpers called once per node or row: Numba
inlines them into the calling kernel at IR level (LLVM does not inline across Numba's
per-function modules); they are compiled, and cached, as part of their callers. The compiled
grower's steps are inlined into it too (``inline=True, calls_parallel=True``: their serial twins
into its serial twin): every separately compiled function links, re-optimises and re-emits the
machine code of all the functions it calls, and numbers of cache files to load add up. Inlining
cannot drop a branch on ``x is None`` (Numba prunes those only on a function's own arguments),
so such branches live in small functions of their own. ``ieee=True``
(Numba's numpy error model) lets a float division by zero give inf/NaN instead of raising: the
zero test Numba adds to every division is a branch that stops LLVM vectorising a loop; only for
kernels whose invalid lanes are discarded by a select. Scalar minima and maxima on a first fit's
path are ``np.minimum``/``np.maximum``, which compile inline: Python's ``min``/``max`` are Numba
overloads compiled, ~0.02 s each, for every tuple of argument types in a process.

A kernel is a ``Kernel``: its Numba dispatcher is created on first use, not at import.
A ``parallel=True`` kernel is a ``ThreadedKernel``: inside ``gbdt.threads.using_threads(1)`` a
call runs a serial compilation of the same function (``prange`` is ``range`` there). A parallel
region costs compile time (~1 s per kernel) and a per-call launch that one thread does not need:
a first fit of 1k x 10 rows with an empty cache takes 5.1-6.3 s with serial kernels against
9.3-11.1 s (2-core machine, alternating runs). A driver that calls parallel kernels from compiled
code (``jit(calls_parallel=True)``, e.g. the compiled tree grower) is a ``ThreadedKernel`` too,
without a ``prange`` of its own: its serial twin calls the serial twins of its callees. A
``ThreadedKernel``'s first call (a compile, or a load from the cache) leaves the objects alive
before it out of Python's garbage collections (``_collector_paused``).
"""
import contextlib
import functools
import gc
import types

from numba import config, njit
from numba.core.compiler_lock import global_compiler_lock
from numba.extending import typeof_impl

from gbdt.threads import serial_kernels


@contextlib.contextmanager
def _collector_paused():
    """Run the body with the objects alive now left out of Python's cyclic garbage collections
    (``gc.freeze``; ``gc.unfreeze`` after it puts them back): a kernel's first call, which compiles
    it or loads it from Numba's cache. Numba allocates so much on a compile that the collector
    runs full collections over every object of the process (~200k with scikit-learn and Numba
    loaded, ~0.1 s each): 7 of them took ~0.8 s of a ~8.3 s cold first fit + predict of 1k rows,
    ~4 s of compiling the compiled grower. Garbage made in the body is still collected, so the
    memory peak stays as it was (turning the collector off instead added ~175 MB to that
    compile's). Nothing is paused where the program froze objects itself."""
    if gc.get_freeze_count():  # the program froze objects itself: unfreezing would undo that
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _njit(fn, **flags):
    """``njit(**flags)(fn)``, cached on disk, without a cfunc wrapper."""
    return njit(cache=True, no_cfunc_wrapper=True, **flags)(fn)


class Kernel:
    """A kernel whose Numba dispatcher (``dispatcher``) is created on first use: a call from Python,
    or a compiled caller typing it as a global (the compiled code then calls the dispatcher itself;
    an ``inline`` kernel is inlined from ``py_func``). Creating one costs ~0.2 ms (a cache locator
    that probes its directory) and a process calls few of the ~160 kernels that ``import bindings``
    defines. Its other public attributes are the dispatcher's (``signatures``, ``overloads``,
    ``targetoptions``).
    Pickles by reference (module and name), as a function does.
    """

    def __init__(self, fn, flags):
        functools.update_wrapper(self, fn)
        self.py_func = fn
        self._flags = flags

    def __getattr__(self, name):
        """Runs only when ``name`` is not an attribute of the kernel itself: the dispatcher's public
        attributes. Private names (probes of copy, pickle, pytest; a half-built kernel) create nothing."""
        if name.startswith("_"):
            raise AttributeError(name)
        if name == "dispatcher":
            with global_compiler_lock:  # threads (Dask workers) calling it first create one
                if "dispatcher" not in vars(self):
                    self.dispatcher = _njit(self.py_func, **self._flags)  # an attribute now: found without us
            return self.dispatcher
        return getattr(self.dispatcher, name)

    def __call__(self, *args, **kwargs):
        return self.dispatcher(*args, **kwargs)

    def __reduce__(self):
        return self.__qualname__


class ThreadedKernel:
    """A ``parallel=True`` kernel with a serial twin, for one-thread calls; each a ``Kernel``, so
    their dispatchers are created on first use.

    The twin is a copy of the Python function under its own name (``<name>__serial``), so Numba
    caches the two compilations side by side instead of one overwriting the other. Its globals
    name the serial twins of the ``ThreadedKernel`` s the function calls, so compiled code that
    calls parallel kernels (``parallel=False``: a driver without a ``prange``) runs them serially
    in its serial twin.
    """

    def __init__(self, fn, flags, parallel=True):
        functools.update_wrapper(self, fn)
        self.py_func = fn
        self.parallel = Kernel(fn, dict(flags, parallel=parallel))
        self._flags = flags
        self._serial = None

    @property
    def serial(self):
        """The serial compilation (created on first access)."""
        if self._serial is None:
            fn = self.py_func
            # a snapshot of the module's globals taken at first use, when the module is complete;
            # Numba reads it when it compiles, after the serial twins are filled in below
            serial_globals = dict(fn.__globals__)
            twin = types.FunctionType(fn.__code__, serial_globals, fn.__name__, fn.__defaults__, fn.__closure__)
            twin.__qualname__ = fn.__qualname__ + "__serial"
            twin.__module__ = fn.__module__
            self._serial = Kernel(twin, self._flags)
            for name, value in fn.__globals__.items():  # after self._serial is set: kernels may call each other
                if isinstance(value, ThreadedKernel):
                    serial_globals[name] = value.serial
        return self._serial

    def __call__(self, *args):
        dispatcher = self.current.dispatcher
        if dispatcher.signatures:  # machine code in the process: the common case, nothing to pause
            return dispatcher(*args)
        with _collector_paused():
            return dispatcher(*args)

    @property
    def current(self):
        """The compilation a call from this thread runs (serial inside ``using_threads(1)``)."""
        return self.serial if serial_kernels() else self.parallel

    def __reduce__(self):
        return self.__qualname__


@typeof_impl.register(Kernel)
def _typeof_kernel(kernel, context):
    """What a compiled caller sees: the dispatcher."""
    return typeof_impl(kernel.dispatcher, context)


@typeof_impl.register(ThreadedKernel)
def _typeof_threaded_kernel(kernel, context):
    """Compiled callers (a coordinate-descent sweep calls ``packed_square_weighted``) see the
    parallel compilation."""
    return typeof_impl(kernel.parallel.dispatcher, context)


def jit(fn=None, *, parallel=False, calls_parallel=False, fastmath=False, inline=False, ieee=False):
    """Decorate ``fn`` with the project's njit flags; usable as ``@jit`` or ``@jit(parallel=True)``.
    ``calls_parallel=True``: ``fn`` has no ``prange`` but calls parallel kernels (a ``ThreadedKernel``
    whose serial twin calls their serial twins); with ``inline=True`` too, the twins are inlined."""
    error_model = "numpy" if ieee else "python"
    if config.DISABLE_JIT:  # the Python function itself, as ``njit`` gives it
        decorate = _no_jit
    elif inline and calls_parallel:  # inlined code calls the kernels of its caller's twin
        flags = dict(inline="always", nogil=True, error_model=error_model)
        decorate = functools.partial(ThreadedKernel, flags=flags, parallel=False)
    elif inline:
        decorate = functools.partial(Kernel, flags=dict(inline="always", nogil=True, error_model=error_model))
    elif parallel or calls_parallel:
        flags = dict(nogil=True, fastmath=fastmath, error_model=error_model)
        decorate = functools.partial(ThreadedKernel, flags=flags, parallel=parallel)
    else:
        decorate = functools.partial(Kernel, flags=dict(nogil=True, fastmath=fastmath, error_model=error_model))
    if fn is None:
        return decorate
    return decorate(fn)


def _no_jit(fn):
    """``fn`` itself: under NUMBA_DISABLE_JIT kernels run as Python, called without a wrapper."""
    return fn


def call_signature(kernel, args):
    """(the dispatcher a call of ``kernel`` with ``args`` runs from this thread, the argument types
    Numba compiles it for)."""
    if config.DISABLE_JIT:
        return kernel, None
    dispatcher = (kernel.current if isinstance(kernel, ThreadedKernel) else kernel).dispatcher
    return dispatcher, tuple(dispatcher.typeof_pyval(a) for a in args)


def compiled_for(dispatcher, signature):
    """Whether calling ``dispatcher`` (from ``call_signature``) with arguments of ``signature``
    needs no compilation: its machine code for them is in this process, or in Numba's on-disk
    cache, from which it is then loaded (the first half of Numba's ``Dispatcher.compile``;
    compiles nothing)."""
    if signature is None:  # NUMBA_DISABLE_JIT: nothing is ever compiled
        return True
    with global_compiler_lock:
        if signature in dispatcher.overloads:
            return True
        with _collector_paused():
            cres = dispatcher._cache.load_overload(signature, dispatcher.targetctx)
        if cres is None:
            return False
        dispatcher.targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
        dispatcher.add_overload(cres)
        return True
