"""Per-node histograms of (sum gradient, sum hessian, count) for every (feature, bin).

Layout: ``hist[f, b, c]`` float64 of shape (F, max_bin, 3), c = 0 gradient, 1 hessian, 2 count.
A node's rows are the slice ``rows[start:stop]`` of the tree's row partition.

Two parallel strategies (``split_mode``) that give bit-identical histograms:

- ``"data"``: the node's rows are cut into ``n_chunks`` contiguous chunks, one thread per chunk
  fills its own buffer, the buffers are summed chunk by chunk.
- ``"feature"``: one thread per feature scans all of the node's rows; it sums the same chunks in
  the same order into a small local buffer, so the floating-point sums match ``"data"`` exactly.
- ``"auto"``: per node, ``"data"`` when the node has enough rows to give every thread a chunk of
  at least MIN_ROWS_PER_CHUNK rows, otherwise ``"feature"`` (small nodes would leave threads idle).
  Since both give the same histogram, the choice changes speed only, never the model.

Sibling histograms come from the subtraction trick: larger child = parent - smaller child.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit

MIN_ROWS_PER_CHUNK = 4096


def n_row_chunks(n_rows, n_threads):
    """Chunks a node of ``n_rows`` is cut into: one per thread, none smaller than MIN_ROWS_PER_CHUNK."""
    return max(1, min(n_threads, n_rows // MIN_ROWS_PER_CHUNK))


@jit
def _accumulate_rows(X_binned, gh, rows, lo, hi, feature, out_f):
    """Add rows[lo:hi] of one feature into out_f (max_bin, 3)."""
    for k in range(lo, hi):
        i = rows[k]
        b = X_binned[i, feature]
        out_f[b, 0] += gh[i, 0]
        out_f[b, 1] += gh[i, 1]
        out_f[b, 2] += 1.0


@jit(parallel=True)
def build_histogram_data_parallel(X_binned, gh, rows, start, stop, features, n_chunks, buffers, hist_out):
    """Fill ``hist_out[features]`` with the node rows[start:stop]; row chunks in parallel.

    X_binned : (n, F) uint8; gh : (n, 2) float32 gradient/hessian pairs of this tree's class;
    rows : (m,) int32 partition; features : (k,) int32 features to build;
    buffers : (n_chunks, F, max_bin, 3) float64 scratch; hist_out : (F, max_bin, 3) float64.
    """
    n_rows = stop - start
    n_bins = hist_out.shape[1]
    for c in prange(n_chunks):
        lo = start + n_rows * c // n_chunks
        hi = start + n_rows * (c + 1) // n_chunks
        buf = buffers[c]
        for j in range(features.shape[0]):
            buf[features[j]] = 0.0
        for k in range(lo, hi):
            i = rows[k]
            g = gh[i, 0]
            h = gh[i, 1]
            for j in range(features.shape[0]):
                f = features[j]
                b = X_binned[i, f]
                buf[f, b, 0] += g
                buf[f, b, 1] += h
                buf[f, b, 2] += 1.0
    for j in prange(features.shape[0]):
        f = features[j]
        for b in range(n_bins):
            for s in range(3):
                total = buffers[0, f, b, s]
                for c in range(1, n_chunks):
                    total += buffers[c, f, b, s]
                hist_out[f, b, s] = total


@jit(parallel=True)
def build_histogram_feature_parallel(X_binned, gh, rows, start, stop, features, n_chunks, hist_out):
    """Same result as ``build_histogram_data_parallel``, one thread per feature, no per-thread buffers."""
    n_rows = stop - start
    n_bins = hist_out.shape[1]
    for j in prange(features.shape[0]):
        f = features[j]
        hist_out[f] = 0.0
        _accumulate_rows(X_binned, gh, rows, start, start + n_rows // n_chunks, f, hist_out[f])
        if n_chunks > 1:
            local = np.empty((n_bins, 3))
            for c in range(1, n_chunks):
                local[:] = 0.0
                lo = start + n_rows * c // n_chunks
                hi = start + n_rows * (c + 1) // n_chunks
                _accumulate_rows(X_binned, gh, rows, lo, hi, f, local)
                for b in range(n_bins):
                    for s in range(3):
                        hist_out[f, b, s] += local[b, s]


class HistogramBuilder:
    """Builds node histograms with one ``split_mode`` and owns the scratch buffers.

    Parameters
    ----------
    X_binned : (n, F) uint8; gh : (n, 2) float32; n_bins : histogram bins per feature;
    split_mode : "data", "feature" or "auto"; n_threads : Numba threads (fixes the row chunking).
    """

    def __init__(self, X_binned, n_bins, split_mode, n_threads):
        self.X_binned = X_binned
        self.n_bins = n_bins
        self.split_mode = split_mode
        self.n_threads = n_threads
        n_features = X_binned.shape[1]
        n_buffers = n_threads if split_mode in ("data", "auto") else 0
        self._buffers = np.empty((n_buffers, n_features, n_bins, 3))

    def empty(self):
        """A new uninitialised (F, n_bins, 3) histogram."""
        return np.empty((self.X_binned.shape[1], self.n_bins, 3))

    def build(self, gh, rows, start, stop, features):
        """Histogram of rows[start:stop] for ``features`` (other features are left unset)."""
        hist = self.empty()
        n_chunks = n_row_chunks(stop - start, self.n_threads)
        mode = self.split_mode
        if mode == "auto":
            mode = "data" if n_chunks == self.n_threads else "feature"
        if mode == "data":
            build_histogram_data_parallel(
                self.X_binned, gh, rows, start, stop, features, n_chunks, self._buffers, hist
            )
        else:
            build_histogram_feature_parallel(self.X_binned, gh, rows, start, stop, features, n_chunks, hist)
        return hist


def subtract_histogram(parent, child, features):
    """Sibling histogram: ``parent - child`` on ``features``; other features are left unset."""
    sibling = np.empty_like(parent)
    sibling[features] = parent[features] - child[features]
    return sibling
