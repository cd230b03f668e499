"""Parallel kernels run their serial compilation inside ``using_threads(1)``, with the same results,
and stay callable from compiled code; small fits run on one thread and give the model the threaded kernels give.
Each lighter topic's tests check that its ``n_jobs=1`` fits run the serial compilations too."""
import gc

import numba
import numpy as np
from numba import prange

import bindings as gb
import gbdt.threads as threads
from gbdt._jit import jit
from gbdt.threads import fit_threads, predict_threads, serial_kernels, using_threads


@jit(parallel=True)
def _row_sums(x, out):
    for i in prange(x.shape[0]):
        out[i] = x[i].sum()


@jit(parallel=True)
def _row_maxima(x, out):
    for i in prange(x.shape[0]):
        out[i] = x[i].max()


@jit
def _total_of_row_maxima(x):
    out = np.empty(x.shape[0])
    _row_maxima(x, out)
    return out.sum()


def test_compiled_callers_can_call_a_threaded_kernel():
    x = np.random.default_rng(2).standard_normal((50, 3))
    np.testing.assert_allclose(_total_of_row_maxima(x), x.max(axis=1).sum(), rtol=1e-12)


def test_one_thread_runs_the_serial_compilation_with_the_same_result():
    x = np.random.default_rng(0).standard_normal((1000, 7))
    serial_out, threaded_out = np.empty(1000), np.empty(1000)
    with using_threads(1):
        assert serial_kernels()
        _row_sums(x, serial_out)
    assert _row_sums.serial.signatures and not _row_sums.parallel.signatures
    if numba.config.NUMBA_NUM_THREADS > 1:
        with using_threads(2):
            assert not serial_kernels()
            _row_sums(x, threaded_out)
        assert _row_sums.parallel.signatures
        np.testing.assert_array_equal(serial_out, threaded_out)
    np.testing.assert_allclose(serial_out, x.sum(axis=1), rtol=1e-12)
    # the twin has its own name, hence its own Numba cache entry
    assert _row_sums.serial.py_func.__qualname__ == "_row_sums__serial"


def test_nested_thread_counts_restore_the_outer_one():
    with using_threads(1):
        with using_threads(2):
            assert serial_kernels() == (numba.config.NUMBA_NUM_THREADS == 1)
        assert serial_kernels()
    assert not serial_kernels()


def test_fits_below_the_cell_threshold_run_on_one_thread():
    assert fit_threads(4, 100, 10) == 1
    assert fit_threads(4, threads.SERIAL_FIT_CELLS, 1) == min(4, numba.config.NUMBA_NUM_THREADS)


def test_small_fit_equals_the_threaded_kernels_model(monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((600, 6))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) + rng.standard_normal(600) > 0).astype(float)
    params = {"objective": "binary:logistic", "max_depth": 4, "n_jobs": 2}
    serial = gb.train(params, gb.Dataset(X, label=y), 20)
    monkeypatch.setattr(threads, "SERIAL_FIT_CELLS", 0)
    threaded = gb.train(params, gb.Dataset(X, label=y), 20)
    np.testing.assert_array_equal(serial.predict(X, output_margin=True), threaded.predict(X, output_margin=True))


def test_small_predictions_run_on_one_thread_with_the_threaded_result(monkeypatch):
    assert predict_threads(4, threads.SERIAL_PREDICT_ROWS - 1) == 1
    assert predict_threads(4, threads.SERIAL_PREDICT_ROWS) == min(4, numba.config.NUMBA_NUM_THREADS)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((500, 4))
    booster = gb.train({"objective": "reg:squarederror", "max_depth": 4, "n_jobs": 2}, gb.Dataset(X, X[:, 0]), 10)
    serial = booster.predict(X)
    monkeypatch.setattr(threads, "SERIAL_PREDICT_ROWS", 0)
    np.testing.assert_array_equal(booster.predict(X), serial)


class _RecordingDispatcher:
    """Stands in for a kernel's serial compilation: records whether objects were frozen out of the
    garbage collector at each call; compiled (``signatures`` non-empty) after its first call."""

    def __init__(self):
        self.signatures, self.frozen = [], []

    def __call__(self, *args):
        self.frozen.append(gc.get_freeze_count() > 0)
        self.signatures.append(args)


def test_a_first_call_freezes_the_live_objects_and_unfreezes_them(monkeypatch):
    kernel = jit(parallel=True)(_row_sums.py_func)
    monkeypatch.setattr(kernel.serial, "dispatcher", _RecordingDispatcher())
    assert gc.get_freeze_count() == 0
    with using_threads(1):
        kernel(1)  # first call: compiles or loads from Numba's cache
        kernel(2)
    assert kernel.serial.dispatcher.frozen == [True, False] and gc.get_freeze_count() == 0
    gc.freeze()  # a program that froze objects itself keeps them frozen
    try:
        monkeypatch.setattr(kernel.serial, "dispatcher", _RecordingDispatcher())
        with using_threads(1):
            kernel(1)
        # not an equality with the count before: frozen objects that die leave the count
        assert kernel.serial.dispatcher.frozen == [True] and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
