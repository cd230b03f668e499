"""Stable in-place partition of a node's rows into its left and right children.

::

    rows:  ... | start ............................ stop | ...
    after: ... | left rows (ascending) | right rows (asc.) | ...
                 start          start + n_left         stop

Rows stay in ascending order inside each child so later histogram passes read memory forwards.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit


@jit
def goes_left(bin_value, bin_threshold, default_left, missing_bin):
    """Routing rule shared by partitioning and binned prediction."""
    if bin_value == missing_bin:
        return default_left
    return bin_value <= bin_threshold


@jit(parallel=True)
def partition_rows(X_binned, rows, start, stop, feature, bin_threshold, default_left, missing_bin, n_chunks, scratch):
    """Partition rows[start:stop] in place; returns the number of rows that go left.

    X_binned : (n, F) uint8; rows : (m,) int32; scratch : (m,) int32 work space.
    """
    n_rows = stop - start
    left_counts = np.zeros(n_chunks + 1, dtype=np.int64)
    right_counts = np.zeros(n_chunks + 1, dtype=np.int64)
    for c in prange(n_chunks):
        lo = start + n_rows * c // n_chunks
        hi = start + n_rows * (c + 1) // n_chunks
        n_left = 0
        for k in range(lo, hi):
            if goes_left(X_binned[rows[k], feature], bin_threshold, default_left, missing_bin):
                n_left += 1
        left_counts[c + 1] = n_left
        right_counts[c + 1] = hi - lo - n_left
    for c in range(n_chunks):
        left_counts[c + 1] += left_counts[c]
        right_counts[c + 1] += right_counts[c]
    total_left = left_counts[n_chunks]
    for c in prange(n_chunks):
        lo = start + n_rows * c // n_chunks
        hi = start + n_rows * (c + 1) // n_chunks
        at_left = start + left_counts[c]
        at_right = start + total_left + right_counts[c]
        for k in range(lo, hi):
            i = rows[k]
            if goes_left(X_binned[i, feature], bin_threshold, default_left, missing_bin):
                scratch[at_left] = i
                at_left += 1
            else:
                scratch[at_right] = i
                at_right += 1
    for k in prange(start, stop):
        rows[k] = scratch[k]
    return total_left


@jit(parallel=True)
def add_leaf_values(rows, leaf_starts, leaf_stops, leaf_values, margin, column):
    """``margin[rows[s:e], column] += v`` for every leaf (s, e, v) of a grown tree."""
    for j in prange(leaf_starts.shape[0]):
        v = leaf_values[j]
        for k in range(leaf_starts[j], leaf_stops[j]):
            margin[rows[k], column] += v
