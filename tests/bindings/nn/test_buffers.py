"""bindings.nn.buffers: a spare buffer is given out again only once no array refers to it."""
import gc

import numpy as np

from bindings.nn.buffers import MIN_SPARE_BYTES, SpareBuffer

SHAPE = (MIN_SPARE_BYTES // 8 // 64 + 1, 64)  # float64: just over MIN_SPARE_BYTES


def address(array):
    return array.__array_interface__["data"][0]


def test_held_arrays_and_views_are_never_given_out_again():
    pool = SpareBuffer()
    first = pool.take(SHAPE, np.float64)
    first[:] = 1.0
    view = first.reshape(-1)[10:]
    del first
    gc.collect()
    second = pool.take(SHAPE, np.float64)  # the view still refers to the first buffer
    second[:] = 2.0
    assert not np.shares_memory(second, view)
    assert (view == 1.0).all()
    third = pool.take(SHAPE, np.float64)  # both held: a third buffer
    assert not np.shares_memory(third, view) and not np.shares_memory(third, second)
    assert third.flags.c_contiguous and third.flags.writeable


def test_dropped_array_is_reused_for_the_same_shape_and_dtype_only():
    pool = SpareBuffer()
    a = pool.take(SHAPE, np.float64)
    at = address(a)
    del a
    gc.collect()
    b = pool.take(SHAPE, np.float64)
    assert address(b) == at  # reused: the point of the pool
    del b
    gc.collect()
    c = pool.take((SHAPE[0] + 1, SHAPE[1]), np.float64)
    assert c.shape == (SHAPE[0] + 1, SHAPE[1])
    d = pool.take(SHAPE, np.float32)
    assert d.shape == SHAPE and d.dtype == np.float32


def test_small_arrays_are_plain_arrays():
    small = SpareBuffer().take((4, 3), np.float32)
    assert small.base is None and small.shape == (4, 3) and small.dtype == np.float32
