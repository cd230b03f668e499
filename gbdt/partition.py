"""Stable partition of a node's rows into its left and right children.

::

    rows before:  ... | start ........... node's rows ........... stop | ...
    rows after:   ... | left rows (ascending) | right rows (asc.)      | ...
                        start          start + n_left               stop

A node's children take its place in the one row array: ``partition_rows`` packs each chunk of
its rows into a scratch array first, then places them back (a second row array to move them
into would cost 4 bytes a row more).

Rows stay in ascending order inside each child so later histogram passes read memory forwards.
All nodes of a tree level are partitioned in one call, in parallel over row chunks:
``partition_rows`` routes every row of the nodes (reads the bins) through a per-node table of
which bins go left (``routing_table``: numeric thresholds, categorical sets and the missing bin's
default direction alike) and moves it. Feature-parallel training routes with ``goes_left_mask``
on the worker that owns the split feature and ships the mask to the others, whose
``partition_rows`` then follows the mask.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.dtypes import X_BINNED_DTYPE
from gbdt.histogram import PREFETCH_ROWS, chunk_nodes, compiled_chunk_nodes
from gbdt.prefetch import prefetch
from gbdt.schedule import compiled_thread_schedule, thread_schedule

SCATTERED_GAP = 16  # mean distance in bytes between a chunk's rows' bins above which routing prefetches them
NO_BINS = np.zeros((1, 1), dtype=X_BINNED_DTYPE)  # the bins partition_rows is given when a mask routes the rows


def routing_table(bin_threshold, default_left, missing_bin, n_bins, cat_left=None):
    """(N, n_bins) bool: does bin b of node j's split feature go left? Numeric splits send bins
    <= ``bin_threshold[j]`` left (the raw-value twin is ``gbdt.tree.predict_forest``); a
    categorical split (``cat_left[j]`` an (n_bins,) bool mask, None for numeric nodes) sends its
    set; the missing bin follows ``default_left[j]``."""
    table = np.arange(n_bins)[None, :] <= np.asarray(bin_threshold, dtype=np.int64)[:, None]
    for j, mask in enumerate(cat_left if cat_left is not None else ()):
        if mask is not None:
            table[j] = mask
    table[:, missing_bin] = default_left
    return table


@jit
def fill_routing_table(bin_threshold, default_left, missing_bin, cat_left, is_categorical, out):
    """``routing_table`` compiled, into ``out`` (N, n_bins) bool, with the categorical nodes' masks
    given as the rows ``cat_left[j]`` (n_bins,) bool where ``is_categorical[j]``."""
    for j in range(out.shape[0]):
        for b in range(out.shape[1]):  # element loops: an array assignment compiles shape checks (~2 s)
            out[j, b] = cat_left[j, b] if is_categorical[j] else b <= bin_threshold[j]
        out[j, missing_bin] = default_left[j]


@jit(parallel=True)
def goes_left_mask(X_binned, rows, chunk_lo, chunk_hi, chunk_node, split_feature, table, out_mask):
    """``out_mask[k]`` = whether row ``rows[k]`` goes left, for every k in the chunks.

    X_binned : (n, F) uint8; rows : (m,) int32; chunks as in ``gbdt.histogram.chunk_nodes``;
    split_feature : (N,) per node; table : (N, n_bins) bool from ``routing_table``; out_mask : (m,) bool.
    """
    for c in prange(chunk_lo.shape[0]):
        node = chunk_node[c]
        f = split_feature[node]
        for k in range(chunk_lo[c], chunk_hi[c]):
            out_mask[k] = table[node, X_binned[rows[k], f]]


@jit
def _pack_chunk(X_binned, f, node_table, mask, rows, lo, hi, scratch):
    """Pack rows[lo:hi] into scratch[lo:hi], left rows from the front and right rows from the back
    (reversed); returns the left count. A row goes left by ``node_table[X_binned[row, f]]``, or
    by ``mask[k]`` when a mask is given. Every row is written to both free ends and one is kept:
    no data-dependent branch or address. Prefetching the split column a few rows ahead on
    scattered chunks: 5.8-6.0 -> 4.8 ns per row on a level of 128 nodes over 1M rows (1 thread);
    dense chunks skip it (2.6-2.8 ns per row either way). Cursors and row ids are unsigned, so
    Numba adds no negative-index wraparound to each access: with the same in ``_place_chunk``,
    the levels of three 1M x 28 depth-8 trees partition in 0.64-0.69x the time (2 threads)."""
    given = mask.shape[0] > 0
    column = X_binned[:, f]
    # rows of a deep node lie far apart: load them a few rows early (on dense rows it only costs).
    # Measured in bytes: in row-major bins (F bytes a row) rows a few apart are already a cache line
    # apart (1M x 28, rows of 8 random nodes, 1 thread: 26.7 -> 12.3 ms a level; column copy: 2.2 ms)
    scattered = not given and hi > lo and (rows[hi - 1] - rows[lo]) * column.strides[0] > SCATTERED_GAP * (hi - lo)
    front = np.uint64(lo)  # unsigned cursors and row ids: no negative-index wraparound per access
    back = np.uint64(hi - 1)
    for k in range(lo, hi):
        if scattered and k + PREFETCH_ROWS < hi:
            prefetch(column, rows[k + PREFETCH_ROWS])
        row = rows[k]
        goes = np.uint64(mask[k] if given else node_table[column[np.uint64(row)]])
        scratch[front] = row
        scratch[back] = row
        front += goes
        back = back + goes - np.uint64(1)
    return np.int64(front) - lo


@jit(inline=True)
def _place_chunk(scratch, lo, hi, n_left, left_at, right_at, rows):
    """Copy a packed chunk scratch[lo:hi] to its children's runs of ``rows``. Inlined: compiled
    on its own it cost a cold first fit ~0.08 s more (compiled alone, then linked into its caller)."""
    for j in range(np.uint64(n_left)):  # unsigned, as in _pack_chunk
        rows[np.uint64(left_at) + j] = scratch[np.uint64(lo) + j]
    last = np.uint64(hi - 1)  # right rows were packed backwards
    for j in range(np.uint64(hi - lo - n_left)):
        rows[np.uint64(right_at) + j] = scratch[last - j]


@jit(parallel=True)
def partition_rows(X_binned, rows, chunk_lo, chunk_hi, chunk_node, node_first_chunk, schedule_order, schedule_first,
                   node_start, split_feature, table, mask, scratch, out_n_left):
    """Reorder every node's rows in place in ``rows`` (m,) int32, those that go left first
    (stably): the node's children take its positions. ``out_n_left[j]`` receives node j's left count.

    A row goes left by ``table[node, X_binned[row, split_feature[node]]]`` (as ``goes_left_mask``),
    or by ``mask[k]`` (m,) bool when a mask is given (``mask.shape[0] > 0``: routed elsewhere).
    Chunks are grouped by thread as ``gbdt.schedule.thread_schedule`` returns. Each chunk first
    packs its rows in its range of ``scratch`` (m,) int32 (``_pack_chunk``: about 20% faster than
    routing to a mask, then moving); after the per-node prefix sums the packed runs are copied
    back into ``rows``.
    """
    n_chunks = chunk_lo.shape[0]
    n_nodes = node_start.shape[0]
    chunk_left = np.empty(n_chunks, dtype=np.int64)
    for group in prange(schedule_first.shape[0] - 1):
        for c in schedule_order[schedule_first[group]:schedule_first[group + 1]]:
            node = chunk_node[c]
            chunk_left[c] = _pack_chunk(X_binned, split_feature[node], table[node], mask, rows, chunk_lo[c],
                                        chunk_hi[c], scratch)
    # exclusive prefix sums inside each node give every chunk its write positions
    left_at = np.empty(n_chunks, dtype=np.int64)
    right_at = np.empty(n_chunks, dtype=np.int64)
    for node in range(n_nodes):
        total_left = 0
        for c in range(node_first_chunk[node], node_first_chunk[node + 1]):
            total_left += chunk_left[c]
        out_n_left[node] = total_left
        at_left = node_start[node]
        at_right = node_start[node] + total_left
        for c in range(node_first_chunk[node], node_first_chunk[node + 1]):
            left_at[c] = at_left
            right_at[c] = at_right
            at_left += chunk_left[c]
            at_right += chunk_hi[c] - chunk_lo[c] - chunk_left[c]
    for group in prange(schedule_first.shape[0] - 1):
        for c in schedule_order[schedule_first[group]:schedule_first[group + 1]]:
            _place_chunk(scratch, chunk_lo[c], chunk_hi[c], chunk_left[c], left_at[c], right_at[c], rows)


@jit(calls_parallel=True)
def partition_level(X_binned, rows, starts, stops, split_feature, table, n_threads, rows_per_chunk, scratch,
                    out_n_left):
    """``RowPartition.split``'s kernel call compiled, for the compiled grower: ``partition_rows`` of
    the nodes rows[starts[j]:stops[j]] (starts, stops (N,) int64) routed by ``table``."""
    chunk_lo, chunk_hi, chunk_node, node_first = compiled_chunk_nodes(starts, stops, rows_per_chunk)
    order, first = compiled_thread_schedule(chunk_hi - chunk_lo, n_threads)
    partition_rows(X_binned, rows, chunk_lo, chunk_hi, chunk_node, node_first, order, first, starts, split_feature,
                   table, np.empty(0, dtype=np.bool_), scratch, out_n_left)


@jit(parallel=True)
def add_leaf_values(rows, leaf_starts, leaf_stops, leaf_values, schedule_order, schedule_first, margin, column):
    """``margin[rows[s:e], column] += v`` for every leaf (s, e, v) of a finished tree; leaves
    grouped by thread as ``gbdt.schedule.thread_schedule`` returns."""
    for group in prange(schedule_first.shape[0] - 1):
        for j in schedule_order[schedule_first[group]:schedule_first[group + 1]]:
            v = leaf_values[j]
            for k in range(leaf_starts[j], leaf_stops[j]):
                margin[np.uint64(rows[k]), column] += v


class RowPartition:
    """The rows of one tree grouped by node id: node j owns ``rows[start_j:stop_j]``.

    The grower talks to it in node ids only (``histograms``, ``split``, ``finish``), so a
    distributed implementation with the same methods can hold the rows on other machines.
    Ranges of split nodes are kept, so a node's rows can be found after its children exist.

    Parameters
    ----------
    X_binned : (n, F) uint8; gh : (n, 2) float32 gradient/hessian of this tree's class, or (n,)
    int64 packed quantised pairs with ``gh_scale`` = (s_g, s_h) (``gbdt.quantize``);
    rows : (m,) int32 rows of this tree, ascending (reordered in place: children take their parent's
    positions); missing_bin : int;
    hist_builder : ``gbdt.histogram.HistogramBuilder`` over the same X_binned;
    margin : (n, K) float64 or None. With a margin, every split is partitioned (leaves too) and
    ``finish`` adds each leaf's value to column ``column`` of its rows' margins, which is much
    cheaper than predicting the tree; without one (and without ``leaf_refit``), the last level is
    never partitioned. leaf_refit : None, or ``leaf_refit(rows, starts, stops)`` -> (L,) values
    (before the learning rate) of L leaves holding ``rows[starts[j]:stops[j]]``, NaN for none: the
    leaves' values then come from their rows (``refit_leaves``) instead of their gradient sums.
    """

    def __init__(self, X_binned, gh, rows, missing_bin, hist_builder, margin=None, column=0, gh_scale=None,
                 leaf_refit=None):
        self.X_binned = X_binned
        self.gh, self.gh_scale = gh, gh_scale
        self.rows = rows
        self.missing_bin = missing_bin
        self.hist_builder = hist_builder
        self.ranges = {0: (0, rows.shape[0])}
        self.margin, self.column = margin, column
        self.leaf_refit = leaf_refit
        self.partition_leaves = margin is not None or leaf_refit is not None
        self.scratch = np.empty(rows.shape[0], dtype=np.int32)

    @property
    def X_route(self):
        """The (n, F) bins dense routing reads: the column-major copy where there is one, which reads
        each split feature as one contiguous column (other partitions route their own way)."""
        return self.hist_builder.X_cols if self.hist_builder.X_cols is not None else self.X_binned

    def empty_histograms(self, n_nodes, slot=None):
        """Uninitialised (n_nodes, F, B, 2) float64 histograms (``slot``: see HistogramBuilder.empty)."""
        return self.hist_builder.empty(n_nodes, slot)

    def _node_ranges(self, node_ids):
        """(starts, stops (N,) int64) of the rows of ``node_ids``."""
        return (np.array([self.ranges[j][0] for j in node_ids], dtype=np.int64),
                np.array([self.ranges[j][1] for j in node_ids], dtype=np.int64))

    def histograms(self, node_ids, features, out):
        """Fill ``out`` (len(node_ids), F, B, 2) with the nodes' histograms on ``features``."""
        starts, stops = self._node_ranges(node_ids)
        self.hist_builder.build(self.gh, self.rows, starts, stops, features, out=out, scale=self.gh_scale)

    def packed_histograms(self, node_ids, features):
        """Quantised gradients only: the nodes' integer histograms (len(node_ids), F, B) int64 on
        ``features``, before dequantisation (``HistogramBuilder.build_packed``; reused memory)."""
        return self.hist_builder.build_packed(self.gh, self.rows, *self._node_ranges(node_ids), features)

    def _chunks(self, node_ids):
        starts, stops = self._node_ranges(node_ids)
        return starts, stops, chunk_nodes(starts, stops)

    def _routing(self, feature, bin_threshold, default_left, cat_left):
        """(bins, split features, routing table) for ``partition_rows``/``goes_left_mask``."""
        table = routing_table(bin_threshold, np.asarray(default_left, dtype=np.bool_), self.missing_bin,
                              self.missing_bin + 1, cat_left)
        return self.X_route, np.asarray(feature, dtype=np.int64), table

    def _left_mask(self, node_ids, feature, bin_threshold, default_left, cat_left):
        """(m,) bool over the partition's positions: whether each row of ``node_ids`` goes left
        (positions of other nodes unset)."""
        _, _, (chunk_lo, chunk_hi, chunk_node, _) = self._chunks(node_ids)
        X, features, table = self._routing(feature, bin_threshold, default_left, cat_left)
        mask = np.empty(self.scratch.shape[0], dtype=np.bool_)
        goes_left_mask(X, self.rows, chunk_lo, chunk_hi, chunk_node, features, table, mask)
        return mask

    def masks(self, node_ids, feature, bin_threshold, default_left, cat_left=None):
        """Per node, a bool array: does each of its rows (in partition order) go left?"""
        mask = self._left_mask(node_ids, feature, bin_threshold, default_left, cat_left)
        return [mask[slice(*self.ranges[j])].copy() for j in node_ids]

    def split(self, node_ids, feature, bin_threshold, default_left, left_ids, right_ids, cat_left=None):
        """Partition the rows of ``node_ids`` (split parameters given per node) into children;
        ``cat_left`` (per node, an (max_bin,) bool mask of the categories that go left, or None
        for a numeric split) is passed only when some split is categorical."""
        self._move(node_ids, left_ids, right_ids, *self._routing(feature, bin_threshold, default_left, cat_left),
                   np.empty(0, dtype=np.bool_))

    def split_with_masks(self, node_ids, masks, left_ids, right_ids):
        """Partition with routing decided elsewhere: ``masks[j]`` as returned by ``masks``."""
        mask = np.empty(self.scratch.shape[0], dtype=np.bool_)
        for j, node_mask in zip(node_ids, masks):
            start, stop = self.ranges[j]
            mask[start:stop] = node_mask
        self._move_by_mask(node_ids, left_ids, right_ids, mask)

    def _move_by_mask(self, node_ids, left_ids, right_ids, mask):
        """Partition the rows of ``node_ids`` by ``mask`` (m,) bool over the partition's positions."""
        self._move(node_ids, left_ids, right_ids, NO_BINS, np.zeros(len(node_ids), dtype=np.int64),
                   np.zeros((len(node_ids), 1), dtype=np.bool_), mask)

    def _move(self, node_ids, left_ids, right_ids, X, features, table, mask):
        starts, stops, (chunk_lo, chunk_hi, chunk_node, node_first) = self._chunks(node_ids)
        n_left = np.empty(len(node_ids), dtype=np.int64)
        order, first = thread_schedule(chunk_hi - chunk_lo, self.hist_builder.n_threads)
        partition_rows(X, self.rows, chunk_lo, chunk_hi, chunk_node, node_first, order, first, starts, features, table,
                       mask, self.scratch, n_left)
        for start, stop, nl, left, right in zip(starts.tolist(), stops.tolist(), n_left.tolist(), left_ids, right_ids):
            self.ranges[left] = (start, start + nl)
            self.ranges[right] = (start + nl, stop)

    def node_rows(self, node_id):
        """(m,) rows of node ``node_id`` (a view; partitioned nodes only)."""
        return self.rows[slice(*self.ranges[node_id])]

    def refit_leaves(self, leaf_ids):
        """{leaf id: ``leaf_refit`` of its rows} for the final leaves ``leaf_ids``, or None without a
        ``leaf_refit``."""
        if self.leaf_refit is None:
            return None
        return dict(zip(leaf_ids, self.leaf_refit(self.rows, *self._node_ranges(leaf_ids)).tolist()))

    def finish(self, leaf_values):
        """End of the tree: add {node id: value} of its final leaves to their rows' margins
        (when this partition has a margin)."""
        if self.margin is None:
            return
        starts, stops = self._node_ranges(leaf_values)
        order, first = thread_schedule(stops - starts, self.hist_builder.n_threads)
        add_leaf_values(self.rows, starts, stops, np.array(list(leaf_values.values()), dtype=np.float64), order, first,
                        self.margin, self.column)
