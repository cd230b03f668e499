"""Histograms from the non-zeros of a sparse matrix (``gbdt.sparse_binning.SparseBins``), LightGBM's way.

A batch of nodes (one tree level, or one node) gets its histograms by one of two walks over the
kept entries, which add the same values in the same order (rows ascending within a node):

- by columns (``build_sparse_histograms``): ``mark_nodes`` gives every row of node j (its range
  of the tree's row partition) ``node_of[row] = stamp + j`` and sums the node's total (G, H) over
  its rows in partition order (``stamp`` grows by the batch size at every batch, so older marks
  read as negative node numbers and no pass clears them); then one task per stretch of features
  walks each feature's entries and adds those of marked rows to their node's bin. Costs every
  entry of the features, spread over all threads: the first levels.
- by rows (``build_sparse_histograms_by_rows``): one task per node walks its rows and their
  entries. Costs the batch's entries only, spread over its nodes: deep levels and lossguide's
  single small nodes (``SparseHistogramBuilder.by_rows``).

Either way the bin of the zeros, which holds every row without a kept entry, is the node's total
minus the sum of its entries; a node whose rows all have an entry gets an exact zero there
instead of a rounding residue, as a dense histogram would (an empty bin is never tried as a
threshold). Histograms are in the compact layout of ``gbdt.histogram`` (feature f's value bins,
then its missing bin), so their size is the number of bins the features really have, not F x 256.

The sums do not depend on the thread count or the walk. They differ in rounding from those of
the dense bin matrix (the zero bin by subtraction), so a model equals its dense twin's in
structure, with leaf values equal to rounding; with quantised gradients (exact integer sums) it
is the same bit for bit.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.bundling import BundledBins, BundledHistogramBuilder
from gbdt.histogram import CompactHistogramBuilder, HistogramBuilder, UniformHistograms
from gbdt.schedule import contiguous_schedule
from gbdt.sparse_binning import SparseBins



@jit
def mark_nodes(rows, starts, stops, gh, stamp, node_of, totals):
    """``node_of[rows[k]] = stamp + j`` for k in [starts[j], stops[j]); ``totals[j]`` = sum of
    ``gh`` over those rows in that order. gh : (n,) complex64 pairs or int64 packed; totals :
    (N,) complex128 or int64; node_of : (n,) int64. Serial: a few ns a row, less than a parallel
    launch on the small batches of deep levels."""
    for j in range(starts.shape[0]):
        totals[j] = 0
        total = totals[j]
        for k in range(starts[j], stops[j]):
            row = rows[k]
            node_of[row] = stamp + j
            total += gh[row]
        totals[j] = total


@jit(parallel=True)
def build_sparse_histograms(col_ptr, col_rows, col_bins, zero_bin, bin_offsets, node_of, stamp, node_size, totals, gh,
                            features, group_first, out):
    """Fill ``out[:, bin_offsets[f]:bin_offsets[f + 1]]`` for every f in ``features``.

    col_ptr, col_rows, col_bins, zero_bin : the by-column arrays of ``SparseBins``; bin_offsets :
    (F + 1,) int64 compact layout; node_of : (n,) int64 ``stamp`` + node of each row in the
    batch, less than ``stamp`` for the others; node_size : (N,) int64 rows per node; totals :
    (N,) the nodes' sums; gh : (n,) complex64 (gradient + 1j hessian) or int64 packed quantised
    pairs; features : (k,) int32 ascending, cut into runs per thread ``group_first``
    (``gbdt.schedule.contiguous_schedule``); out : (N, T) complex128, or int64 with packed gh. A stored NaN (bin ``missing_bin``, above every value bin) lands in the
    feature's last bin.
    """
    n_nodes = out.shape[0]
    width = np.uint64(out.shape[1])
    flat = out.reshape(out.size)  # flat unsigned indexing: 2-D indexing of out cost 4x per entry
    for group in prange(group_first.shape[0] - 1):
        count = np.empty(n_nodes, dtype=np.int64)
        stored = np.empty(n_nodes, dtype=out.dtype)
        if group_first[group] == group_first[group + 1]:
            continue
        # the group's bins (unselected features between its features included) are one stretch of
        # each node's histogram: zero them in one streaming pass per node
        first_bin = np.uint64(bin_offsets[features[group_first[group]]])
        end_bin = np.uint64(bin_offsets[features[group_first[group + 1] - 1] + 1])
        for j in range(n_nodes):
            flat[np.uint64(j) * width + first_bin:np.uint64(j) * width + end_bin] = 0
        for q in range(group_first[group], group_first[group + 1]):
            f = features[q]
            lo = np.uint64(bin_offsets[f])
            hi = np.uint64(bin_offsets[f + 1])
            last = hi - lo - np.uint64(1)
            count[:] = 0
            stored[:] = 0
            for e in range(np.uint64(col_ptr[f]), np.uint64(col_ptr[f + 1])):
                row = np.uint64(col_rows[e])
                j = node_of[row] - stamp
                if j >= 0:
                    v = gh[row]
                    flat[np.uint64(j) * width + lo + min(np.uint64(col_bins[e]), last)] += v
                    stored[j] += v
                    count[j] += 1
            zero = lo + np.uint64(zero_bin[f])
            for j in range(n_nodes):
                if count[j] < node_size[j]:  # else no row is in the zero bin: leave it exactly empty
                    flat[np.uint64(j) * width + zero] = totals[j] - stored[j]


@jit(parallel=True)
def build_sparse_histograms_by_rows(row_ptr, row_features, row_bins, zero_bin, bin_offsets, rows, starts, stops, gh,
                                    features, out):
    """``build_sparse_histograms`` from the rows' entries instead of the columns': one task per
    node walks its rows (partition order, ascending) and their entries, so every sum adds the
    same values in the same order, and the histograms are the same bit for bit. Costs the
    batch's entries only (random bins of a node's histogram each), not every entry of the
    features: cheaper for batches of few rows (``SparseHistogramBuilder.accumulate``). rows, starts, stops as
    ``mark_nodes``; the other arguments as ``build_sparse_histograms``'s."""
    n_features = zero_bin.shape[0]
    for j in prange(starts.shape[0]):
        hist = out[j]
        hist[:] = 0
        stored = np.zeros(n_features, dtype=out.dtype)
        count = np.zeros(n_features, dtype=np.int64)
        total = stored[0]
        for k in range(starts[j], stops[j]):
            row = rows[k]
            v = gh[row]
            total += v
            for e in range(row_ptr[row], row_ptr[row + 1]):
                f = row_features[e]
                lo = bin_offsets[f]
                hist[lo + min(np.int64(row_bins[e]), bin_offsets[f + 1] - lo - 1)] += v
                stored[f] += v
                count[f] += 1
        for f in features:
            if count[f] < stops[j] - starts[j]:  # as build_sparse_histograms
                hist[bin_offsets[f] + zero_bin[f]] = total - stored[f]


class SparseHistogramBuilder(CompactHistogramBuilder):
    """``HistogramBuilder``'s interface over ``SparseBins``, histograms in the compact layout:
    from the columns' entries (``build_sparse_histograms``), or from the rows' when the batch
    holds few of the rows (``build_sparse_histograms_by_rows``; see ``accumulate``).

    Parameters
    ----------
    bins : SparseBins (n, F); n_threads : the Numba threads the builds run on.
    """

    def __init__(self, bins, n_threads):
        super().__init__(bins.n_value_bins, n_threads)
        self.bins = bins
        self.node_of = np.full(bins.n_rows, -1, dtype=np.int64)
        self._stamp = 0
        self._column_nnz = np.diff(bins.col_ptr)
        self._widths = np.diff(self.bin_offsets)

    def by_rows(self, starts, stops):
        """Whether the nodes rows[starts[j]:stops[j]] cost less walked by rows than by columns.
        An entry costs about the same either way (1 thread, text-like 200k x 5,000, 3 trees:
        0.37-0.64 s by rows, 0.61-0.75 s by columns), but the columns spread over every thread
        and the rows over the batch's nodes: rows when their share of the entries is below
        the share of the threads they keep busy."""
        share = np.sum(stops - starts) / max(1, self.bins.n_rows)
        return share * self.n_threads < min(self.n_threads, len(starts))

    def accumulate(self, pairs, rows, starts, stops, features, out):
        """Sum ``pairs`` (n,) (complex64 or packed int64) into ``out`` (N, T) of the same kind."""
        bins = self.bins
        if self.by_rows(starts, stops):
            build_sparse_histograms_by_rows(bins.row_ptr, bins.row_features, bins.row_bins, bins.zero_bin,
                                            self.bin_offsets, rows, starts, stops, pairs, features, out)
            return
        totals = np.empty(len(starts), dtype=out.dtype)
        mark_nodes(rows, starts, stops, pairs, self._stamp, self.node_of, totals)
        sizes = self._column_nnz[features] + len(starts) * self._widths[features]  # entries + bins touched
        group_first = contiguous_schedule(sizes, self.n_threads)
        build_sparse_histograms(bins.col_ptr, bins.col_rows, bins.col_bins, bins.zero_bin, self.bin_offsets,
                                self.node_of, self._stamp, stops - starts, totals, pairs, features, group_first, out)
        self._stamp += len(starts)


def histogram_builder(X_binned, max_bin, split_mode, n_threads, uniform=False, route_by_columns=True):
    """The builder for these bins: ``SparseHistogramBuilder`` over ``SparseBins``,
    ``gbdt.bundling.BundledHistogramBuilder`` over ``BundledBins``, else the dense
    ``HistogramBuilder`` over (n, F) uint8 bins; ``split_mode`` (and ``route_by_columns``, the
    (n, F) one's) are the dense builders'. ``uniform``: the first two seen in the dense one's
    layout (``gbdt.histogram.UniformHistograms``)."""
    if isinstance(X_binned, SparseBins):
        builder = SparseHistogramBuilder(X_binned, n_threads)
    elif isinstance(X_binned, BundledBins):
        builder = BundledHistogramBuilder(X_binned, split_mode, n_threads)
    else:
        return HistogramBuilder(X_binned, max_bin, split_mode, n_threads, route_by_columns)
    return UniformHistograms(builder, max_bin) if uniform else builder
