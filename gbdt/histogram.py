"""Histograms of (sum gradient, sum hessian) for a batch of nodes (one tree level).

Layout: ``hists[j, f, b, c]`` float64 of shape (nodes, F, max_bin, 2); c = 0 gradient, 1 hessian.
No row counts are kept (as in XGBoost): constraints use hessian sums, and a third accumulator
costs ~17% of the histogram time. The kernels see each (gradient, hessian) pair as one complex
number (``as_pairs``). Node j owns the rows ``rows[start_j:stop_j]`` of the tree's row partition,
cut into chunks of ROWS_PER_CHUNK rows (the last one shorter)::

    rows:   | node 0: chunk 0 | chunk 1 | c2 | node 1: chunk 3 | node 2: chunk 4 | c5 | ...
    chunk_node = [0, 0, 0, 1, 2, 2, ...]   node_first_chunk = [0, 3, 4, 6, ...]

Every chunk is summed row by row, then a node's chunks are added in chunk order. The chunking
depends only on node sizes, so the floating-point sums, hence the model, are the same for every
thread count and for both parallel strategies (``split_mode``):

- ``"data"``: one task per chunk; a node with several chunks sums each into its own buffer of the
  whole (F, max_bin, 2) histogram, then the buffers are added. Reads the row-major bin matrix.
- ``"feature"``: one task per (node, feature); the task walks the node's chunks in the same order
  with a (max_bin, 2) local buffer that stays in L1. Reads a column-major copy of the bin matrix.
- ``"auto"``: per level, the mode with the smaller estimated time of the busiest thread, the
  tasks grouped by thread as the kernels group them (``gbdt.schedule``): ``"data"`` costs the
  busiest group's rows x features updates (x WIDE_HISTOGRAM_COST when one node's histogram exceeds
  HIST_CACHE_BYTES), ``"feature"`` the busiest group's rows of (node, feature) tasks at
  FEATURE_UPDATE_COST each (it gathers a row's gradient once per feature). So tall levels with a
  few chunks per thread stay ``"data"``, and levels whose few large chunks would leave threads
  idle, or wide histograms, go ``"feature"``. Tiny levels (TINY_LEVEL_UPDATES) stay ``"data"``
  without pricing.

Sibling histograms come from the subtraction trick: larger child = parent - smaller child.

Two layouts reach the grower and the split search, which see both as a flat (N, T, 2) array
and the (F + 1,) ``bin_offsets`` of ``flat_layout``: feature f owns the bins
``[bin_offsets[f], bin_offsets[f + 1])``, its value bins first and its missing bin last.

- uniform, (N, F, max_bin, 2) from ``HistogramBuilder`` (dense bins): every feature has max_bin
  bins, the missing bin at max_bin - 1; the flat view is a reshape (no copy).
- compact, (N, T, 2) from a ``CompactHistogramBuilder`` (``gbdt.sparse_histogram``,
  ``gbdt.bundling``): feature f has ``n_value_bins[f] + 1`` bins, so T is the number of bins the
  features really have (5.9x fewer than F x 256 on a 50k x 5,000 text-like matrix, ~85x fewer on
  one-hot columns), as XGBoost's and LightGBM's histograms.

With quantised gradients (``gbdt.quantize``) the same kernels sum packed int64 pairs into int64
histograms (8 bytes a bin), which ``HistogramBuilder.build`` dequantises into the float64 layout.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.dtypes import HIST_DTYPE, MAX_BINS
from gbdt.prefetch import prefetch
from gbdt.quantize import dequantize_histograms
from gbdt.schedule import busiest_load, compiled_busiest_load, compiled_thread_schedule, thread_schedule

ROWS_PER_CHUNK = 32768
PREFETCH_ROWS = 8  # how far ahead a histogram pass prefetches rows (8 and 16 measured alike)
HIST_CACHE_BYTES = 1 << 20
# cost of one histogram update relative to a data-parallel one into a cache-resident histogram
# (examples/split_mode_crossover.py, 2 threads: feature-parallel ~2x slower per update on 1M x 8;
# data-parallel into a 4 MB histogram that misses L2, ~3x, on 20k x 1000)
FEATURE_UPDATE_COST = 2.0
WIDE_HISTOGRAM_COST = 3.0
# a level with fewer (row, feature) updates than this takes ~50 us either way: "auto" picks "data" unpriced
TINY_LEVEL_UPDATES = 1 << 16
SPLIT_MODES = ("data", "feature", "auto")  # split_mode by its code in compiled code
DATA, FEATURE, AUTO = range(3)


def as_pairs(array, dtype=np.complex128):
    """The (..., 2) C-contiguous float ``array`` viewed as (...) complex: one (gradient, hessian)
    pair per element, so a histogram update is one 16-byte add instead of two 8-byte ones
    (microbenchmark, 1M x 28 bins, 1 thread: 2.0 -> 1.0 ns per update). Same sums, same order."""
    return array.view(dtype)[..., 0]


def chunk_nodes(starts, stops):
    """Cut each node's row range into chunks.

    starts, stops : (N,) int64 row-partition slices of the nodes.
    Returns chunk_lo, chunk_hi, chunk_node (C,) int64 and node_first_chunk (N + 1,) int64.
    """
    sizes = np.maximum(stops - starts, 0)
    if sizes.max(initial=0) <= ROWS_PER_CHUNK:  # one chunk per node (every level of a small fit)
        nodes = np.arange(len(starts), dtype=np.int64)
        return starts, stops, nodes, np.arange(len(starts) + 1, dtype=np.int64)
    per_node = np.maximum(1, -(-sizes // ROWS_PER_CHUNK))
    node_first_chunk = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(per_node, out=node_first_chunk[1:])
    chunk_node = np.repeat(np.arange(len(starts), dtype=np.int64), per_node)
    within = np.arange(node_first_chunk[-1]) - node_first_chunk[chunk_node]
    chunk_lo = starts[chunk_node] + within * ROWS_PER_CHUNK
    chunk_hi = np.minimum(chunk_lo + ROWS_PER_CHUNK, stops[chunk_node])
    return chunk_lo, chunk_hi, chunk_node, node_first_chunk


@jit
def _accumulate(X, gh, rows, lo, hi, f, out_f):
    """Add rows[lo:hi] of feature f into out_f (max_bin,) (complex128, or int64 packed pairs).
    Unsigned indices: the feature-parallel levels of two 1M x 28 depth-8 trees build in 0.88-0.94x
    the time (2 threads). The row-major pass did not gain from them (1.02-1.03x), so it keeps its own."""
    for k in range(lo, hi):
        i = np.uint64(rows[k])  # unsigned: no negative-index wraparound per access
        out_f[np.uint64(X[i, f])] += gh[i]


@jit(inline=True)
def _accumulate_rows(X_rows, gh, rows, lo, hi, features, n_bins, flat):
    """Add rows[lo:hi] on ``features`` into the flat (F * n_bins,) view of a histogram.

    Inlined into ``_accumulate_chunk``, a plain function rather than the body of the parallel
    loop: LLVM optimises it better there, and flat indexing is ~25% faster than hist[f, b] with
    runtime strides. Reading f from ``features`` only when sampling columns lets LLVM unswitch the
    common all-features loop. Inlined rather than compiled on its own: a cold first fit then
    compiles the loop once (~0.15 s less), not once alone and again linked into its caller.
    """
    k = features.shape[0]
    all_features = k == X_rows.shape[1]  # features are sorted and unique
    X_flat = X_rows.reshape(X_rows.size)
    for r in range(lo, hi):
        if r + PREFETCH_ROWS < hi:  # scattered rows of deep nodes: start loading them early
            ahead = np.int64(rows[r + PREFETCH_ROWS])
            prefetch(X_flat, ahead * X_rows.shape[1])
            prefetch(gh, ahead)
        i = rows[r]
        v = gh[i]
        for j in range(k):
            f = j if all_features else features[j]
            flat[f * n_bins + X_rows[i, f]] += v


@jit
def _accumulate_chunk(X_rows, gh, rows, lo, hi, features, other_width, flat):
    """``_accumulate_rows`` into histograms of ``other_width`` bins, or, when it is None, of the
    default MAX_BINS as a compile-time constant, which specialises the loop (1.28 -> 0.95 ns per
    update). Numba prunes the branch the argument's type rules out before it inlines the call, so
    a process compiles only the width it uses (the other would add ~0.3 s to a cold first fit)."""
    if other_width is None:
        _accumulate_rows(X_rows, gh, rows, lo, hi, features, MAX_BINS, flat)
    else:
        _accumulate_rows(X_rows, gh, rows, lo, hi, features, other_width, flat)


@jit(parallel=True)
def build_histograms_data_parallel(X_rows, gh, rows, chunk_lo, chunk_hi, chunk_node, node_first_chunk,
                                   schedule_order, schedule_first, features, other_width, buffers, out):
    """Fill ``out[:, features]`` (N, F, B) complex128, one task per row chunk.

    X_rows : (n, F) uint8 C-ordered; gh : (n,) complex64 (gradient + 1j hessian); rows : (m,) int32
    partition; chunks grouped by thread as ``gbdt.schedule.thread_schedule`` returns; features :
    (k,) int32; other_width : None when B is MAX_BINS, else B (see ``_accumulate_chunk``);
    buffers : (C, F, B) complex128 scratch (only multi-chunk nodes use it).
    With gh (n,) int64 packed quantised pairs, out and buffers are int64 (``gbdt.quantize``).
    """
    n_nodes = out.shape[0]
    k = features.shape[0]
    n_bins = out.shape[2]
    for group in prange(schedule_first.shape[0] - 1):
        for c in schedule_order[schedule_first[group]:schedule_first[group + 1]]:
            node = chunk_node[c]
            single = node_first_chunk[node + 1] - node_first_chunk[node] == 1
            dst = out[node] if single else buffers[c]
            for j in range(k):
                dst[features[j]] = 0
            _accumulate_chunk(X_rows, gh, rows, chunk_lo[c], chunk_hi[c], features, other_width, dst.reshape(dst.size))
    for q in prange(n_nodes * k):
        node = q // k
        f = features[q % k]
        first = node_first_chunk[node]
        last = node_first_chunk[node + 1]
        if last - first > 1:
            for b in range(n_bins):  # scalar loops: slice arithmetic here costs temporaries
                total = buffers[first, f, b]
                for c in range(first + 1, last):
                    total += buffers[c, f, b]
                out[node, f, b] = total


@jit(parallel=True)
def build_histograms_feature_parallel(X_cols, gh, rows, chunk_lo, chunk_hi, node_first_chunk, schedule_order,
                                      schedule_first, features, out):
    """Same result as ``build_histograms_data_parallel``, one task q = node * k + j per (node,
    feature), the tasks grouped by thread as ``gbdt.schedule.thread_schedule`` returns.

    X_cols : (n, F) uint8 Fortran-ordered (each feature's column contiguous).
    """
    k = features.shape[0]
    n_bins = out.shape[2]
    for group in prange(schedule_first.shape[0] - 1):
        for q in schedule_order[schedule_first[group]:schedule_first[group + 1]]:
            node = q // k
            f = features[q % k]
            first = node_first_chunk[node]
            last = node_first_chunk[node + 1]
            out[node, f] = 0
            _accumulate(X_cols, gh, rows, chunk_lo[first], chunk_hi[first], f, out[node, f])
            if last - first > 1:
                local = np.empty(n_bins, dtype=out.dtype)
                for c in range(first + 1, last):
                    local[:] = 0
                    _accumulate(X_cols, gh, rows, chunk_lo[c], chunk_hi[c], f, local)
                    out[node, f] += local


def compact_bin_offsets(n_value_bins):
    """(F + 1,) int64 offsets of the compact layout: feature f has n_value_bins[f] + 1 bins."""
    offsets = np.zeros(n_value_bins.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.asarray(n_value_bins, dtype=np.int64) + 1, out=offsets[1:])
    return offsets


def flat_view(hists):
    """(N, T, 2) view of histograms of either layout (uniform ones reshaped, no copy)."""
    return hists.reshape(hists.shape[0], -1, 2)


def flat_layout(hists, n_value_bins):
    """(flat (N, T, 2) view of ``hists``, bin_offsets (F + 1,) int64): uniform (N, F, B, 2)
    histograms are reshaped, compact (N, T, 2) ones taken as they are (see the module docstring).
    n_value_bins : (F,) non-missing bins per feature (what the compact layout is made of)."""
    if hists.ndim == 4:
        return flat_view(hists), np.arange(hists.shape[1] + 1, dtype=np.int64) * hists.shape[2]
    return hists, compact_bin_offsets(n_value_bins)


@jit(parallel=True)
def subtract_histograms(parents, parent_index, small, features, bin_offsets, out):
    """``out[j] = parents[parent_index[j]] - small[j]`` on ``features``: the larger siblings.
    Flat (N, T, 2) histograms with ``bin_offsets`` (F + 1,) (``flat_layout``)."""
    k = features.shape[0]
    for q in prange(small.shape[0] * k):
        j = q // k
        f = features[q % k]
        parent = parents[parent_index[j]]
        for b in range(bin_offsets[f], bin_offsets[f + 1]):  # element loops: slices would allocate per task
            out[j, b, 0] = parent[b, 0] - small[j, b, 0]
            out[j, b, 1] = parent[b, 1] - small[j, b, 1]


@jit
def compiled_chunk_nodes(starts, stops, rows_per_chunk):
    """``chunk_nodes`` compiled, with ROWS_PER_CHUNK passed in (the compiled grower reads the value
    at each tree): the same chunk_lo, chunk_hi, chunk_node (C,) and node_first_chunk (N + 1,) int64."""
    n_nodes = starts.shape[0]
    node_first_chunk = np.empty(n_nodes + 1, dtype=np.int64)
    node_first_chunk[0] = 0
    for j in range(n_nodes):
        size = max(stops[j] - starts[j], 0)
        node_first_chunk[j + 1] = node_first_chunk[j] + max(1, (size + rows_per_chunk - 1) // rows_per_chunk)
    n_chunks = node_first_chunk[n_nodes]
    chunk_lo = np.empty(n_chunks, dtype=np.int64)
    chunk_hi = np.empty(n_chunks, dtype=np.int64)
    chunk_node = np.empty(n_chunks, dtype=np.int64)
    for j in range(n_nodes):
        for c in range(node_first_chunk[j], node_first_chunk[j + 1]):
            chunk_lo[c] = starts[j] + (c - node_first_chunk[j]) * rows_per_chunk
            chunk_hi[c] = min(chunk_lo[c] + rows_per_chunk, stops[j])
            chunk_node[c] = j
    return chunk_lo, chunk_hi, chunk_node, node_first_chunk


@jit
def compiled_mode(split_mode, chunk_sizes, node_sizes, n_used, n_features, n_bins, n_threads):
    """``HistogramBuilder.mode_for`` compiled: (FEATURE or DATA, schedule order, first) for a level
    with these chunk and node row counts on ``n_used`` of ``n_features`` features; split_mode is
    a code of SPLIT_MODES."""
    task_sizes = np.empty(node_sizes.shape[0] * n_used, dtype=np.int64)  # one (node, feature) task each
    for j in range(node_sizes.shape[0]):
        task_sizes[j * n_used:(j + 1) * n_used] = node_sizes[j]
    if split_mode == FEATURE:
        order, first = compiled_thread_schedule(task_sizes, n_threads)
        return FEATURE, order, first
    data_order, data_first = compiled_thread_schedule(chunk_sizes, n_threads)
    wide = n_features * n_bins * 16 > HIST_CACHE_BYTES
    if split_mode == AUTO and (wide or node_sizes.sum() * n_used >= TINY_LEVEL_UPDATES):
        feature_order, feature_first = compiled_thread_schedule(task_sizes, n_threads)
        data = compiled_busiest_load(chunk_sizes, data_order, data_first) * n_used * (WIDE_HISTOGRAM_COST if wide
                                                                                       else 1.0)
        if data > compiled_busiest_load(task_sizes, feature_order, feature_first) * FEATURE_UPDATE_COST:
            return FEATURE, feature_order, feature_first
    return DATA, data_order, data_first


@jit(calls_parallel=True)
def build_histograms(X_rows, X_cols, pairs, rows, starts, stops, features, split_mode, n_threads, rows_per_chunk,
                     other_width, buffers, out):
    """``HistogramBuilder.build`` compiled, for the compiled grower: fill ``out[:, features]``
    (N, F, B) with the histograms of the nodes rows[starts[j]:stops[j]] (starts, stops (N,) int64).

    X_rows : (n, F) uint8 C-ordered; X_cols : its Fortran-ordered copy, or None where no level
    goes feature-parallel (``HistogramBuilder.hist_cols``: the feature-parallel kernel is then not
    compiled); pairs : (n,) complex64 (gradient + 1j hessian) with out complex128, or packed
    int64 pairs with out int64; split_mode : a code of SPLIT_MODES; buffers : (>= C, F, B)
    scratch of out's dtype. Returns the buffers, reallocated when the level has more chunks
    than they hold.
    """
    chunk_lo, chunk_hi, chunk_node, node_first = compiled_chunk_nodes(starts, stops, rows_per_chunk)
    mode, order, first = compiled_mode(split_mode if X_cols is not None else DATA, chunk_hi - chunk_lo, stops - starts,
                                       features.shape[0], X_rows.shape[1], out.shape[2], n_threads)
    if mode == FEATURE:
        _build_feature_parallel(X_cols, pairs, rows, chunk_lo, chunk_hi, node_first, order, first, features, out)
        return buffers
    if buffers.shape[0] < chunk_lo.shape[0]:
        buffers = np.empty((chunk_lo.shape[0], out.shape[1], out.shape[2]), dtype=out.dtype)
    build_histograms_data_parallel(X_rows, pairs, rows, chunk_lo, chunk_hi, chunk_node, node_first, order, first,
                                   features, other_width, buffers, out)
    return buffers


@jit(calls_parallel=True)
def _build_feature_parallel(X_cols, pairs, rows, chunk_lo, chunk_hi, node_first, order, first, features, out):
    """``build_histograms_feature_parallel`` where there is a column copy (a function of its own so
    that Numba drops the call where ``X_cols`` is None)."""
    if X_cols is None:
        return
    build_histograms_feature_parallel(X_cols, pairs, rows, chunk_lo, chunk_hi, node_first, order, first, features,
                                      out)


class HistogramBuilder:
    """Builds the histograms of a batch of nodes with one ``split_mode``.

    Parameters
    ----------
    X_binned : (n, F) uint8 C-ordered bins; n_bins : histogram bins per feature (max_bin);
    split_mode : "data", "feature" or "auto"; n_threads : the Numba threads the builds run on
    (the fit's count): the kernels group their tasks into that many, and "auto" prices by them.
    route_by_columns : with "auto", keep the column copy (``X_cols``, n x F bytes) for the
    partitions to route by even where no histogram reads it: a split's column is read as one
    contiguous (n,) array, where the row-major bins cost ~4x the time at deep levels (scattered
    rows, a cache line per row). False leaves ``X_cols`` to the histograms (Dask workers of one
    thread: 28 bytes a row less memory at 28 features, for ~1.4x the CPU per tree at 1M rows, docs/benchmarks.md "Dask").
    """

    def __init__(self, X_binned, n_bins, split_mode, n_threads, route_by_columns=True):
        self.X_rows = X_binned
        self.n_bins = n_bins
        self.split_mode = split_mode
        self.n_threads = n_threads
        self.n_features = X_binned.shape[1]
        self.other_width = None if n_bins == MAX_BINS else n_bins  # see _accumulate_chunk
        # the column copy where a level may go feature-parallel, else None: with one thread "auto"
        # always prices "data" cheaper (the same rows, half the cost) unless histograms are wide
        wide = self.n_features * n_bins * 16 > HIST_CACHE_BYTES
        histograms = split_mode == "feature" or (split_mode == "auto" and (n_threads > 1 or wide))
        self.X_cols = np.asfortranarray(X_binned) if histograms or (route_by_columns and split_mode == "auto") \
            else None
        self.hist_cols = self.X_cols if histograms else None
        empty = np.empty((0, self.n_features, n_bins, 2), dtype=HIST_DTYPE)
        self._slots = [empty, empty]
        self._scratch = {}  # reused per-chunk buffers and packed histograms, by name

    def empty(self, n_nodes, slot=None):
        """Uninitialised (n_nodes, F, n_bins, 2) histograms.

        With ``slot`` (0 or 1) the memory is reused from that slot's buffer, which avoids the
        page faults of fresh memory on every tree level: depthwise growth alternates slots by
        depth, so a level's histograms live until the next level is built from them.
        """
        if slot is None:
            return np.empty((n_nodes, self.n_features, self.n_bins, 2), dtype=HIST_DTYPE)
        if self._slots[slot].shape[0] < n_nodes:
            self._slots[slot] = np.empty((n_nodes, self.n_features, self.n_bins, 2), dtype=HIST_DTYPE)
        return self._slots[slot][:n_nodes]

    def mode_for(self, chunk_sizes, node_sizes, n_features):
        """(strategy, its thread schedule (order, first)) for a level whose chunks and nodes have
        these row counts: ``split_mode``, or the one ``auto`` picks (see the module docstring)."""
        mode = self.split_mode
        if mode == "auto":
            wide = self.n_features * self.n_bins * 16 > HIST_CACHE_BYTES
            if wide or int(np.sum(node_sizes)) * n_features >= TINY_LEVEL_UPDATES:  # else pricing costs what it saves
                data_schedule = thread_schedule(chunk_sizes, self.n_threads)
                task_sizes = np.repeat(node_sizes, n_features)
                feature_schedule = thread_schedule(task_sizes, self.n_threads)
                data = busiest_load(chunk_sizes, data_schedule) * n_features * (WIDE_HISTOGRAM_COST if wide else 1)
                feature = busiest_load(task_sizes, feature_schedule) * FEATURE_UPDATE_COST
                return ("data", data_schedule) if data <= feature else ("feature", feature_schedule)
            mode = "data"
        if mode == "data":
            return mode, thread_schedule(chunk_sizes, self.n_threads)
        return mode, thread_schedule(np.repeat(node_sizes, n_features), self.n_threads)

    def build(self, gh, rows, starts, stops, features, out=None, scale=None):
        """Histograms (N, F, B, 2) of the nodes rows[starts[j]:stops[j]] on ``features``
        (other features are left unset), written into ``out`` when given.

        gh : (n, 2) float32 gradients and hessians, or (n,) int64 packed quantised pairs with
        ``scale`` = (s_g, s_h) (``gbdt.quantize``): summed as integers, then dequantised.
        """
        out = self.empty(len(starts)) if out is None else out
        if scale is None:
            self.accumulate(as_pairs(gh, np.complex64), rows, starts, stops, features, as_pairs(out))
        else:
            dequantize_histograms(self.build_packed(gh, rows, starts, stops, features), features, scale[0], scale[1],
                                  out)
        return out

    def build_packed(self, gh, rows, starts, stops, features):
        """Integer histograms (N, F, B) int64 of packed quantised pairs ``gh`` (n,) int64, set on
        ``features``; the memory is reused by the next call. Exact sums: Dask shards add these
        (8 bytes a bin) and the leader dequantises once."""
        packed = self._reused("packed", len(starts), np.int64)
        self.accumulate(gh, rows, starts, stops, features, packed)
        return packed

    def accumulate(self, pairs, rows, starts, stops, features, out):
        """Sum ``pairs`` (n,) (complex64 or packed int64) into ``out`` (N, F, B) of the same kind."""
        starts = np.asarray(starts, dtype=np.int64)
        stops = np.asarray(stops, dtype=np.int64)
        chunk_lo, chunk_hi, chunk_node, node_first = chunk_nodes(starts, stops)
        mode, (order, first) = self.mode_for(chunk_hi - chunk_lo, stops - starts, len(features))
        if mode == "data":
            buffers = self._reused("chunks", len(chunk_lo), out.dtype)
            other_width = None if self.n_bins == MAX_BINS else self.n_bins
            build_histograms_data_parallel(self.X_rows, pairs, rows, chunk_lo, chunk_hi, chunk_node, node_first,
                                           order, first, features, other_width, buffers, out)
        else:
            build_histograms_feature_parallel(self.X_cols, pairs, rows, chunk_lo, chunk_hi, node_first, order, first,
                                              features, out)

    def workspace(self, quantized):
        """(slots (2,), per-chunk buffers, packed histograms): the memory the compiled grower reuses
        across trees (``gbdt.compiled_grower``), for float pairs or ``quantized`` gradients."""
        dtype = np.dtype(np.int64 if quantized else np.complex128)
        empty = np.empty((0, self.n_features, self.n_bins))
        return (tuple(self._slots), self._scratch.get(("chunks", dtype), empty.astype(dtype)),
                self._scratch.get(("packed", np.dtype(np.int64)), empty.astype(np.int64)))

    def keep_workspace(self, slots, chunks, packed):
        """Keep the arrays the compiled grower returns (grown where they were too small)."""
        self._slots = list(slots)
        self._scratch[("chunks", chunks.dtype)] = chunks
        self._scratch[("packed", packed.dtype)] = packed

    def _reused(self, name, n, dtype):
        """An uninitialised (>= n, F, B) array of ``dtype`` kept between calls, sliced to n."""
        key = (name, np.dtype(dtype))
        if key not in self._scratch or self._scratch[key].shape[0] < n:
            self._scratch[key] = np.empty((n, self.n_features, self.n_bins), dtype=dtype)
        return self._scratch[key][:n]


class CompactHistogramBuilder:
    """``HistogramBuilder``'s interface for histograms in the compact layout (N, T, 2), for bins
    of other layouts (``gbdt.sparse_histogram``, ``gbdt.bundling``): memory slots and quantised
    gradients are handled here, the sums by the subclass's ``accumulate(pairs, rows, starts,
    stops, features, out)`` into (N, T) complex128 pairs or packed int64.

    Parameters
    ----------
    n_value_bins : (F,) non-missing bins per feature; n_threads : the Numba threads the builds run on.
    """

    def __init__(self, n_value_bins, n_threads):
        self.n_features = n_value_bins.shape[0]
        self.bin_offsets = compact_bin_offsets(n_value_bins)
        self.n_threads = n_threads
        self._slots = [self.empty(0), self.empty(0)]
        self._packed = np.empty((0, self.bin_offsets[-1]), dtype=np.int64)

    def empty(self, n_nodes, slot=None):
        """Uninitialised (n_nodes, T, 2) float64 compact histograms (``slot``: see
        ``HistogramBuilder.empty``)."""
        if slot is None:
            return np.empty((n_nodes, self.bin_offsets[-1], 2), dtype=HIST_DTYPE)
        if self._slots[slot].shape[0] < n_nodes:
            self._slots[slot] = self.empty(n_nodes)
        return self._slots[slot][:n_nodes]

    def build(self, gh, rows, starts, stops, features, out=None, scale=None):
        """Histograms (N, T, 2) of the nodes rows[starts[j]:stops[j]] on ``features`` (other
        features' bins are left unset), as ``HistogramBuilder.build``."""
        out = self.empty(len(starts)) if out is None else out
        if scale is None:
            self.accumulate(as_pairs(gh, np.complex64), rows, np.asarray(starts, dtype=np.int64),
                            np.asarray(stops, dtype=np.int64), features, as_pairs(out))
        else:
            # one feature spanning the whole layout: every bin is dequantised, built or not (never read)
            packed = self.build_packed(gh, rows, starts, stops, features)
            dequantize_histograms(packed[:, None, :], np.zeros(1, dtype=np.int32), scale[0], scale[1],
                                  out[:, None, :, :])
        return out

    def build_packed(self, gh, rows, starts, stops, features):
        """Integer histograms (N, T) int64 of packed quantised pairs ``gh`` (n,) int64 on
        ``features``; the memory is reused by the next call."""
        if self._packed.shape[0] < len(starts):
            self._packed = np.empty((len(starts), self.bin_offsets[-1]), dtype=np.int64)
        packed = self._packed[:len(starts)]
        self.accumulate(gh, rows, np.asarray(starts, dtype=np.int64), np.asarray(stops, dtype=np.int64), features,
                        packed)
        return packed


class UniformHistograms:
    """A ``CompactHistogramBuilder`` seen in the uniform layout (N, F, max_bin, 2), as
    ``HistogramBuilder``'s: for Dask shards on the sparse path, whose histograms are summed with,
    sliced and scanned like the dense shards' (``cluster.shard``). Each build fills the compact
    layout, then copies it in: feature f's value bins first, its missing bin at max_bin - 1, zeros
    between (an empty bin, never tried as a threshold; adding 0.0 leaves every sum's bits as they
    are, so the model is the compact one's). Other attributes are the wrapped builder's.

    Parameters
    ----------
    builder : CompactHistogramBuilder; max_bin : bins per feature of the uniform layout.
    """

    def __init__(self, builder, max_bin):
        self.builder, self.n_bins = builder, max_bin
        offsets = builder.bin_offsets
        widths = np.diff(offsets)
        feature = np.repeat(np.arange(widths.shape[0], dtype=np.int64), widths)
        place = np.arange(offsets[-1], dtype=np.int64) - offsets[feature]
        place[offsets[1:] - 1] = max_bin - 1  # each feature's last compact bin is its missing bin
        self.position = feature * max_bin + place  # (T,) uniform flat bin of each compact bin
        self._slots = [None, None]
        self._packed = None

    def __getattr__(self, name):  # X_cols, n_threads, bin_offsets: the wrapped builder's
        if name == "builder":
            raise AttributeError(name)
        return getattr(self.builder, name)

    def empty(self, n_nodes, slot=None):
        """Uninitialised (n_nodes, F, max_bin, 2) float64 histograms; ``slot`` 0/1: memory reused
        (see ``HistogramBuilder.empty``)."""
        shape = (n_nodes, self.builder.n_features, self.n_bins, 2)
        if slot is None:
            return np.empty(shape, dtype=HIST_DTYPE)
        if self._slots[slot] is None or self._slots[slot].shape[0] < n_nodes:
            self._slots[slot] = np.empty(shape, dtype=HIST_DTYPE)
        return self._slots[slot][:n_nodes]

    def build(self, gh, rows, starts, stops, features, out=None, scale=None):
        """``CompactHistogramBuilder.build`` into ``out`` (N, F, max_bin, 2) (fresh when None)."""
        out = self.empty(len(starts)) if out is None else out
        compact = self.builder.build(gh, rows, starts, stops, features, self.builder.empty(len(starts), 0), scale)
        flat = out.reshape(out.shape[0], -1, 2)
        flat[:] = 0.0
        flat[:, self.position] = compact
        return out

    def build_packed(self, gh, rows, starts, stops, features):
        """``CompactHistogramBuilder.build_packed`` as (N, F, max_bin) int64; the memory is reused."""
        packed = self.builder.build_packed(gh, rows, starts, stops, features)
        if self._packed is None or self._packed.shape[0] < packed.shape[0]:
            self._packed = np.empty((packed.shape[0], self.builder.n_features, self.n_bins), dtype=np.int64)
        out = self._packed[:packed.shape[0]]
        flat = out.reshape(out.shape[0], -1)
        flat[:] = 0
        flat[:, self.position] = packed
        return out
