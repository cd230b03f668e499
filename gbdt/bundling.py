"""Exclusive feature bundling (LightGBM's EFB): sparse features that are never outside their zero
bin in the same row share one dense uint8 column, which the dense kernels then train on.

A bundle's column holds 0 where every member is in its zero bin, else the slot of the one member
that is not. Member f owns ``n_slots[f]`` slots from ``slot_start[f]``, one per bin other than
its zero bin: its value bins in order, then its missing bin when it has stored NaN::

    bundle column:  0          | slot_start[f] ...      | slot_start[g] ...    | ...  (<= 255)
                    all zero   | f's bins but zero_bin  | g's bins but zero_bin

Bundles here have no conflict at all (no row outside the zero bins of two members), so a
member's bins are exactly its slots of the bundle's histogram and its zero bin holds every
other row of the bundle (``unbundle_histograms``, summed directly, so an empty zero bin is an
exact zero): the histograms, hence the model, are those of the features themselves. One-hot
columns of a categorical variable share one bundle: a table of 30 categorical variables one-hot
encoded into 3,000 columns trains as 30 dense columns, 30 bytes a row, as LightGBM does.

``bundle_sparse_bins`` is greedy as LightGBM's: features by decreasing entry count, each into the
first of the last MAX_TRIES bundles where its slots fit and no row clashes, else into a new
bundle. It gives up (None: the features stay ``SparseBins``) as soon as the bundled matrix would
hold more than BUNDLE_CELLS_PER_ENTRY cells per kept entry: rows of co-occurring features (words
of a text) do not bundle, and their sparse passes cost the entries only.
"""
from dataclasses import dataclass

import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.dtypes import X_BINNED_DTYPE
from gbdt.histogram import CompactHistogramBuilder, HistogramBuilder
from gbdt.partition import RowPartition, routing_table
from gbdt.sparse_binning import add_forest_by_rows

MAX_SLOTS = 255  # slots 1..255 of a uint8 column; 0 = every member in its zero bin
BUNDLE_SLOTS = MAX_SLOTS + 1
MAX_TRIES = 64  # bundles a feature tries (the newest), as LightGBM bounds its search
BUNDLE_CELLS_PER_ENTRY = 2.0  # bundle while the bundled matrix has at most this many cells per kept entry


@dataclass(frozen=True)
class BundledBins:
    """Bins of a sparse (n, F) matrix as bundles (see the module docstring), with the by-row
    entries of ``SparseBins`` for predicting rows.

    X (n, B) uint8 C-ordered bundle columns; bundle_of (F,) int64 each feature's bundle (-1: no
    entry outside its zero bin); slot_start (F,) int64; slot_feature (B, 256) int64, the member
    owning each slot (-1: none); slot_bin (B, 256) uint8, that member's bin; n_slots (F,) int64
    (``member_slots``); zero_bin (F,) uint8; n_value_bins (F,) int32; missing_bin int; row_ptr,
    row_features, row_bins as ``SparseBins``.
    """

    X: np.ndarray
    bundle_of: np.ndarray
    slot_start: np.ndarray
    n_slots: np.ndarray
    slot_feature: np.ndarray
    slot_bin: np.ndarray
    zero_bin: np.ndarray
    n_value_bins: np.ndarray
    missing_bin: int
    row_ptr: np.ndarray
    row_features: np.ndarray
    row_bins: np.ndarray

    @property
    def shape(self):
        return self.X.shape[0], self.zero_bin.shape[0]

    def add_forest(self, forest, out, first_tree=0, stop_tree=None):
        """``forest.predict`` of these rows (``gbdt.sparse_binning.add_forest_by_rows``)."""
        add_forest_by_rows(self, forest, out, first_tree, stop_tree)


def member_slots(bins):
    """(F,) int64 slots of each feature of ``SparseBins``: its bins but the zero bin, plus its
    missing bin when a stored NaN is kept."""
    has_missing = np.zeros(bins.zero_bin.shape[0], dtype=np.int64)
    has_missing[np.unique(bins.row_features[bins.row_bins == bins.missing_bin])] = 1
    return bins.n_value_bins.astype(np.int64) - 1 + has_missing


@jit
def _greedy_bundles(order, col_ptr, col_rows, n_slots, n_rows, max_bundles, out_bundle, out_start):
    """Assign the features of ``order`` to bundles (``out_bundle``, ``out_start``); returns the
    bundle count, or -1 once more than ``max_bundles`` would be needed. Rows taken by a bundle
    are bits of a (max_bundles, n / 64) uint64 map."""
    taken = np.zeros((max_bundles, (n_rows + 63) // 64), dtype=np.uint64)
    used = np.zeros(max_bundles, dtype=np.int64)
    one = np.uint64(1)
    n_bundles = 0
    for f in order:
        chosen = -1
        for b in range(max(0, n_bundles - MAX_TRIES), n_bundles):
            if used[b] + n_slots[f] > MAX_SLOTS:
                continue
            clash = False
            for e in range(col_ptr[f], col_ptr[f + 1]):
                row = col_rows[e]
                if taken[b, row >> 6] & (one << np.uint64(row & 63)):
                    clash = True
                    break
            if not clash:
                chosen = b
                break
        if chosen < 0:
            if n_bundles == max_bundles:
                return -1
            chosen = n_bundles
            n_bundles += 1
        out_bundle[f] = chosen
        out_start[f] = used[chosen] + 1
        used[chosen] += n_slots[f]
        for e in range(col_ptr[f], col_ptr[f + 1]):
            row = col_rows[e]
            taken[chosen, row >> 6] |= one << np.uint64(row & 63)
    return n_bundles


@jit(inline=True)
def _slot_offset(b, zero_bin, n_value_bins, missing_bin):
    """Place of bin ``b`` (not the zero bin) among its feature's slots."""
    if b == missing_bin:
        return n_value_bins - 1
    return b - (b > zero_bin)


@jit(parallel=True)
def _fill_bundles(row_ptr, row_features, row_bins, bundle_of, slot_start, zero_bin, n_value_bins, missing_bin, out):
    """Fill ``out`` (n, B) uint8 with every row's bundle slots (0 where no member has an entry)."""
    for i in prange(out.shape[0]):
        out[i, :] = 0
        for k in range(row_ptr[i], row_ptr[i + 1]):
            f = row_features[k]
            out[i, bundle_of[f]] = slot_start[f] + _slot_offset(row_bins[k], zero_bin[f], n_value_bins[f],
                                                                 missing_bin)


@jit
def _slot_tables(features, bundle_of, slot_start, n_slots, zero_bin, n_value_bins, missing_bin, out_feature, out_bin):
    """Fill ``out_feature`` and ``out_bin`` (B, 256): the member and bin of every slot of ``features``."""
    for f in features:
        b = bundle_of[f]
        for v in range(n_value_bins[f]):
            if v != zero_bin[f]:
                out_feature[b, slot_start[f] + v - (v > zero_bin[f])] = f
                out_bin[b, slot_start[f] + v - (v > zero_bin[f])] = v
        if n_slots[f] == n_value_bins[f]:
            out_feature[b, slot_start[f] + n_slots[f] - 1] = f
            out_bin[b, slot_start[f] + n_slots[f] - 1] = missing_bin


def bundle_sparse_bins(bins):
    """``BundledBins`` of ``SparseBins``, or None when bundling does not pay (see the module docstring)."""
    n_rows, n_features = bins.shape
    n_slots = member_slots(bins)
    nnz_per_feature = np.diff(bins.col_ptr)
    order = np.argsort(-nnz_per_feature, kind="stable")
    order = order[nnz_per_feature[order] > 0]
    max_bundles = int(BUNDLE_CELLS_PER_ENTRY * bins.nnz / max(1, n_rows))
    bundle_of = np.full(n_features, -1, dtype=np.int64)
    slot_start = np.zeros(n_features, dtype=np.int64)
    if order.size == 0 or max_bundles == 0:
        return None
    n_bundles = _greedy_bundles(order, bins.col_ptr, bins.col_rows, n_slots, n_rows, max_bundles, bundle_of, slot_start)
    if n_bundles < 0:
        return None
    X = np.empty((n_rows, n_bundles), dtype=X_BINNED_DTYPE)
    _fill_bundles(bins.row_ptr, bins.row_features, bins.row_bins, bundle_of, slot_start, bins.zero_bin,
                  bins.n_value_bins, bins.missing_bin, X)
    slot_feature = np.full((n_bundles, BUNDLE_SLOTS), -1, dtype=np.int64)
    slot_bin = np.zeros((n_bundles, BUNDLE_SLOTS), dtype=X_BINNED_DTYPE)
    _slot_tables(order, bundle_of, slot_start, n_slots, bins.zero_bin, bins.n_value_bins, bins.missing_bin,
                 slot_feature, slot_bin)
    return BundledBins(X, bundle_of, slot_start, n_slots, slot_feature, slot_bin, bins.zero_bin, bins.n_value_bins,
                       bins.missing_bin, bins.row_ptr, bins.row_features, bins.row_bins)


@jit
def _node_sums(rows, starts, stops, gh, out):
    """``out[j]`` = sum of ``gh`` over rows[starts[j]:stops[j]], in that order."""
    for j in range(starts.shape[0]):
        out[j] = 0
        total = out[j]
        for k in range(starts[j], stops[j]):
            total += gh[rows[k]]
        out[j] = total


@jit(parallel=True)
def unbundle_histograms(bundle_hists, totals, members_ptr, members, bundle_of, slot_start, n_slots, zero_bin,
                        n_value_bins, bin_offsets, features, out):
    """Compact histograms ``out`` (N, T) of the features from their bundles' ``bundle_hists``
    (N, B, 256) (complex128 pairs or packed int64): a member's bins are its slots; its zero bin
    is the sum of the bundle's other slots, those before and those after its own, each added in
    slot order (all empty: exactly zero). Every member of a bundle holding one of ``features``
    (k,) int32 is written; those of ``features`` without a bundle get their node's total
    (``totals`` (N,)) in the zero bin. members_ptr (B + 1,), members: the features of each bundle."""
    n_nodes, n_bundles = bundle_hists.shape[0], bundle_hists.shape[1]
    wanted = np.zeros(n_bundles, dtype=np.bool_)
    for f in features:
        if bundle_of[f] >= 0:
            wanted[bundle_of[f]] = True
    for q in prange(n_nodes * n_bundles):
        j = q // n_bundles
        b = q % n_bundles
        if not wanted[b]:
            continue
        hist = bundle_hists[j, b]
        before = np.empty(BUNDLE_SLOTS + 1, dtype=hist.dtype)  # before[s]: slots < s
        after = np.empty(BUNDLE_SLOTS + 1, dtype=hist.dtype)  # after[s]: slots >= s
        before[0] = 0
        for s in range(BUNDLE_SLOTS):
            before[s + 1] = before[s] + hist[s]
        after[BUNDLE_SLOTS] = 0
        for s in range(BUNDLE_SLOTS - 1, -1, -1):
            after[s] = after[s + 1] + hist[s]
        for m in range(members_ptr[b], members_ptr[b + 1]):
            f = members[m]
            lo = bin_offsets[f]
            missing = bin_offsets[f + 1] - 1
            start = slot_start[f]
            zero = zero_bin[f]
            for v in range(n_value_bins[f]):
                if v != zero:
                    out[j, lo + v] = hist[start + v - (v > zero)]
            # a missing slot follows the value slots when f has stored NaN
            out[j, missing] = hist[start + n_value_bins[f] - 1] if n_slots[f] == n_value_bins[f] else 0
            out[j, lo + zero] = before[start] + after[start + n_slots[f]]
    k = features.shape[0]
    for q in prange(n_nodes * k):
        j = q // k
        f = features[q % k]
        if bundle_of[f] < 0:
            for v in range(bin_offsets[f], bin_offsets[f + 1]):
                out[j, v] = 0
            out[j, bin_offsets[f] + zero_bin[f]] = totals[j]


class BundledHistogramBuilder(CompactHistogramBuilder):
    """``HistogramBuilder``'s interface over ``BundledBins``: the dense builder sums the bundle
    columns, ``unbundle_histograms`` turns them into the features' compact histograms.

    Parameters
    ----------
    bins : BundledBins; split_mode, n_threads : as ``HistogramBuilder``'s.
    """

    def __init__(self, bins, split_mode, n_threads):
        super().__init__(bins.n_value_bins, n_threads)
        self.bins = bins
        self.dense = HistogramBuilder(bins.X, BUNDLE_SLOTS, split_mode, n_threads)
        self.X_cols = self.dense.X_cols  # the partition routes by the bundle columns
        members = np.argsort(bins.bundle_of, kind="stable")
        self.members = members[bins.bundle_of[members] >= 0]
        self.members_ptr = np.searchsorted(bins.bundle_of[self.members], np.arange(bins.X.shape[1] + 1))
        self._bundled = {}

    def accumulate(self, pairs, rows, starts, stops, features, out):
        """Sum ``pairs`` (n,) (complex64 or packed int64) into ``out`` (N, T) of the same kind."""
        bins = self.bins
        bundles = bins.bundle_of[features]
        bundles = np.unique(bundles[bundles >= 0]).astype(np.int32)
        key = np.dtype(out.dtype)
        if key not in self._bundled or self._bundled[key].shape[0] < len(starts):
            self._bundled[key] = np.empty((len(starts), bins.X.shape[1], BUNDLE_SLOTS), dtype=out.dtype)
        bundled = self._bundled[key][:len(starts)]
        self.dense.accumulate(pairs, rows, starts, stops, bundles, bundled)
        totals = np.zeros(len(starts), dtype=out.dtype)
        if (bins.bundle_of[features] < 0).any():
            _node_sums(rows, starts, stops, pairs, totals)
        unbundle_histograms(bundled, totals, self.members_ptr, self.members, bins.bundle_of, bins.slot_start,
                            bins.n_slots, bins.zero_bin, bins.n_value_bins, self.bin_offsets, features, out)


class BundledRowPartition(RowPartition):
    """``RowPartition`` over ``BundledBins``: a split on feature f routes rows by f's bundle
    column through a table over its 256 slots (f's slots by f's bins, the others as f's zero
    bin), so the dense partition kernel moves them."""

    def _routing(self, feature, bin_threshold, default_left, cat_left):
        bins = self.X_binned
        feature = np.asarray(feature, dtype=np.int64)
        table = routing_table(bin_threshold, np.asarray(default_left, dtype=np.bool_), self.missing_bin,
                              self.missing_bin + 1, cat_left)
        bundle = bins.bundle_of[feature]
        nodes = np.arange(feature.shape[0])[:, None]
        owned = bins.slot_feature[bundle] == feature[:, None]
        slots = np.where(owned, table[nodes, bins.slot_bin[bundle]], table[nodes, bins.zero_bin[feature][:, None]])
        X = self.hist_builder.X_cols if self.hist_builder.X_cols is not None else bins.X
        return X, bundle, slots
