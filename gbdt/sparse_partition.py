"""Routing the rows of a sparse matrix (``gbdt.sparse_binning.SparseBins``) through splits.

A row's bin in feature f is found in the row's kept entries, whose features are sorted: a binary
search over a dozen entries of one cache line for text-like rows; a row without an entry for f
has f's zero bin. ``SparseRowPartition`` is ``gbdt.partition.RowPartition`` with that lookup:
the rows of a batch of nodes get their left/right mask from ``sparse_goes_left`` (one task per
row chunk, as the dense routing), then move as any masked partition does, stably. The cost is
the rows of the nodes times a short search, like the dense partition's, independent of the
column's length.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.bundling import BundledBins, BundledRowPartition
from gbdt.partition import RowPartition, routing_table
from gbdt.schedule import thread_schedule
from gbdt.sparse_binning import SparseBins, row_entry


@jit(parallel=True)
def sparse_goes_left(row_ptr, row_features, row_bins, zero_bin, rows, chunk_lo, chunk_hi, chunk_node, schedule_order,
                     schedule_first, split_feature, table, out_mask):
    """``out_mask[k]`` = whether row ``rows[k]`` goes left, for every k in the chunks.

    row_ptr, row_features, row_bins, zero_bin : the by-row arrays of ``SparseBins``; rows (m,)
    int32; chunks as in ``gbdt.histogram.chunk_nodes``, grouped by thread as
    ``gbdt.schedule.thread_schedule`` returns; split_feature (N,) int64 per node; table (N,
    n_bins) bool from ``gbdt.partition.routing_table``; out_mask (m,) bool.
    """
    for group in prange(schedule_first.shape[0] - 1):
        for c in schedule_order[schedule_first[group]:schedule_first[group + 1]]:
            node = chunk_node[c]
            f = split_feature[node]
            absent = zero_bin[f]
            for k in range(chunk_lo[c], chunk_hi[c]):
                out_mask[k] = table[node, row_entry(row_ptr, row_features, row_bins, rows[k], f, absent)]


class SparseRowPartition(RowPartition):
    """``RowPartition`` over ``SparseBins``: the same interface and row layout, the split column
    looked up in each row's entries. Categorical splits never reach it (sparse input has none)."""

    def _left_mask(self, node_ids, feature, bin_threshold, default_left, cat_left):
        _, _, (chunk_lo, chunk_hi, chunk_node, _) = self._chunks(node_ids)
        table = routing_table(bin_threshold, np.asarray(default_left, dtype=np.bool_), self.missing_bin,
                              self.missing_bin + 1, cat_left)
        order, first = thread_schedule(chunk_hi - chunk_lo, self.hist_builder.n_threads)
        mask = np.empty(self.scratch.shape[0], dtype=np.bool_)
        bins = self.X_binned
        sparse_goes_left(bins.row_ptr, bins.row_features, bins.row_bins, bins.zero_bin, self.rows, chunk_lo, chunk_hi,
                         chunk_node, order, first, np.asarray(feature, dtype=np.int64), table, mask)
        return mask

    def split(self, node_ids, feature, bin_threshold, default_left, left_ids, right_ids, cat_left=None):
        """As ``RowPartition.split``: a mask from the rows' entries, then a masked move."""
        self._move_by_mask(node_ids, left_ids, right_ids,
                           self._left_mask(node_ids, feature, bin_threshold, default_left, cat_left))


def row_partition(X_binned, gh, rows, missing_bin, hist_builder, margin=None, column=0, gh_scale=None,
                  leaf_refit=None):
    """The partition for these bins: ``SparseRowPartition`` over ``SparseBins``,
    ``gbdt.bundling.BundledRowPartition`` over ``BundledBins``, else ``RowPartition`` (arguments
    as ``RowPartition``'s)."""
    kinds = {SparseBins: SparseRowPartition, BundledBins: BundledRowPartition}
    kind = kinds.get(type(X_binned), RowPartition)
    return kind(X_binned, gh, rows, missing_bin, hist_builder, margin, column, gh_scale, leaf_refit)
