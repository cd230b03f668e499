"""Quantile binning of sparse (CSC/CSR) features without densifying them.

Implicit zeros are the value 0.0 (not missing, as XGBoost would read them); stored NaN are missing. The edges
follow ``gbdt.binning``'s definition exactly: a column's edges are ``feature_edges`` of its values,
where the zeros enter as one group of weight "number (or total weight) of zero rows", so a sparse
matrix and its dense twin get bit-identical edges and hence identical bins.

Two binned forms: ``bin_csr_matrix``, the dense (n, F) uint8 matrix of the twin, and
``SparseBins`` (``bin_csr_sparse``), O(nnz): only the entries whose bin is not their column's
zero bin (the bin of 0.0), once by column for the histograms (``gbdt.sparse_histogram``) and
once by row for routing rows through splits and trees (``gbdt.sparse_partition``). A stored
value that falls in the zero bin is dropped: it is indistinguishable from an implicit zero.

Arrays are the scipy layouts, passed as plain arrays (``gbdt`` imports numpy and numba only)::

    CSC: column f holds values[indptr[f]:indptr[f+1]] at rows indices[indptr[f]:indptr[f+1]]
    CSR: row i    holds values[indptr[i]:indptr[i+1]] at features indices[indptr[i]:indptr[i+1]]

Indices must be unique within a column/row (scipy's canonical format).
"""
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.binning import DEFAULT_SKETCH_ROWS, feature_edges
from gbdt.dtypes import IDX_DTYPE, MAX_BINS, X_BINNED_DTYPE

# column ids of the by-row copy; F < 2**31 (a histogram of more features would not fit in memory anyway)
FEATURE_DTYPE = np.int32


def sample_csr_rows(indptr, indices, values, rows):
    """CSR arrays (indptr int64, indices, values) of the sub-matrix made of ``rows`` (sorted, unique)."""
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    new_indptr = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=new_indptr[1:])
    take = np.repeat(starts - new_indptr[:-1], counts) + np.arange(new_indptr[-1])
    return new_indptr, indices[take], values[take]


def compute_sparse_bin_edges(indptr, indices, values, n_features, max_bin=MAX_BINS, sample_weight=None,
                             sketch_rows=DEFAULT_SKETCH_ROWS, seed=0):
    """``gbdt.binning.compute_bin_edges`` of a CSR matrix (n, F), equal to that of its dense twin.

    Parameters
    ----------
    indptr : (n + 1,) int64; indices : (nnz,) int32 features, sorted within rows; values : (nnz,)
    float64 (NaN = missing). n_features : int; max_bin, sample_weight (n,) or None, sketch_rows,
    seed : as in compute_bin_edges (the same row sample is drawn from the same seed).

    Returns
    -------
    edges : (F, max_bin - 1) float64 padded with +inf; n_edges : (F,) int32.
    """
    n_rows = indptr.shape[0] - 1
    if n_rows > sketch_rows:
        rows = np.sort(np.random.default_rng(seed).choice(n_rows, sketch_rows, replace=False))
        indptr, indices, values = sample_csr_rows(indptr, indices, values, rows)
        sample_weight = None if sample_weight is None else sample_weight[rows]
        n_rows = sketch_rows
    max_edges = max_bin - 2
    edges = np.full((n_features, max_bin - 1), np.inf)
    n_edges = np.zeros(n_features, dtype=np.int32)
    # columns of one non-zero value (one-hot, binary flags: most columns of such tables) have at
    # most the distinct values 0 and v, hence the midpoint edge, whatever the weights: no sketch
    n_finite, n_other, low, high = _column_values(indices, values, n_features)
    single = (n_finite == 0) | (low == high)
    if max_edges >= 1:
        two = single & (n_finite > 0) & (n_rows - n_finite - n_other > 0)  # a value and zeros
        edges[two, 0] = 0.5 * (np.minimum(low[two], 0.0) + np.maximum(high[two], 0.0))
        n_edges[two] = 1
    else:
        single[:] = False
    if single.all():
        return edges, n_edges
    # the other columns' entries by column, rows ascending: equal values keep row order for the
    # weighted sketch
    if single.any():
        keep = ~single[indices]
        indptr = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))[indptr]
        indices, values = indices[keep], values[keep]
    col_ptr, col_rows, col_values = csr_to_csc(indptr, indices, values, n_features)
    if sample_weight is None:
        _count_quantile_edges(col_ptr, col_values, np.flatnonzero(~single), n_rows, max_edges, edges, n_edges)
        return edges, n_edges

    def some_columns(features):
        for f in features:
            e = column_edges(col_rows[col_ptr[f]:col_ptr[f + 1]], col_values[col_ptr[f]:col_ptr[f + 1]], n_rows,
                             max_edges, sample_weight)
            edges[f, : e.size] = e
            n_edges[f] = e.size

    # as compute_bin_edges: numpy's sort releases the GIL; columns go by stretches, as a task
    # per column of a few entries costs more to schedule than to do
    threads = max(1, min(numba.get_num_threads(), n_features))
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(some_columns, np.array_split(np.flatnonzero(~single), 4 * threads)))
    return edges, n_edges


@jit
def _column_values(indices, values, n_features):
    """Per column of a CSR matrix: its stored finite non-zero values (count), its other stored
    non-zero values (NaN, +-inf: neither zero rows nor finite values), the min and max of the finite."""
    n_finite = np.zeros(n_features, dtype=np.int64)
    n_other = np.zeros(n_features, dtype=np.int64)
    low = np.full(n_features, np.inf)
    high = np.full(n_features, -np.inf)
    for k in range(indices.shape[0]):
        f = indices[k]
        x = values[k]
        if np.isfinite(x):
            if x != 0.0:
                n_finite[f] += 1
                low[f] = min(low[f], x)
                high[f] = max(high[f], x)
        else:
            n_other[f] += 1
    return n_finite, n_other, low, high


@jit(parallel=True)
def _count_quantile_edges(col_ptr, col_values, columns, n_rows, max_edges, out_edges, out_n_edges):
    """``column_edges`` without weights of every column of ``columns``, compiled: the zeros are
    one group of their count among the sorted distinct values, cumulative counts are exact
    integers, and midpoints, targets and picks take ``gbdt.binning.feature_edges``'s float
    operations in its order, so the edges are the same bits (tested). Columns run in parallel:
    ~100 us of numpy calls a column was most of the binning time of wide sparse data."""
    for t in prange(columns.shape[0]):
        f = columns[t]
        lo = col_ptr[f]
        hi = col_ptr[f + 1]
        kept = np.empty(hi - lo)
        m = 0
        other = 0  # NaN and +-inf: neither zero rows nor values
        for k in range(lo, hi):
            x = col_values[k]
            if not np.isfinite(x):
                other += 1
            elif x != 0.0:
                kept[m] = x
                m += 1
        kept = np.sort(kept[:m])
        n_zero = n_rows - m - other
        distinct = np.empty(m + 1)
        cum = np.empty(m + 1)  # rows at or below each distinct value
        n_distinct = 0
        count = 0.0
        zeros_placed = n_zero == 0
        for i in range(m + 1):
            if i < m:
                v = kept[i]
            if not zeros_placed and (i == m or v > 0.0):  # the zero group before the first positive value
                count += n_zero
                distinct[n_distinct] = 0.0
                cum[n_distinct] = count
                n_distinct += 1
                zeros_placed = True
            if i == m:
                break
            count += 1.0
            if n_distinct > 0 and distinct[n_distinct - 1] == v:
                cum[n_distinct - 1] = count
            else:
                distinct[n_distinct] = v
                cum[n_distinct] = count
                n_distinct += 1
        n = 0
        if n_distinct <= max_edges + 1:
            for i in range(n_distinct - 1):
                out_edges[f, n] = 0.5 * (distinct[i] + distinct[i + 1])
                n += 1
        else:
            last = -1
            for i in range(1, max_edges + 1):
                target = cum[n_distinct - 1] * i / (max_edges + 1)
                picked = np.searchsorted(cum[:n_distinct], target)  # side="left"
                if picked != last and picked < n_distinct - 1:  # unique, below the largest value
                    out_edges[f, n] = distinct[picked]
                    n += 1
                    last = picked
        out_n_edges[f] = n


def column_edges(rows, values, n_rows, max_edges, sample_weight=None):
    """Edges of one sparse column: ``feature_edges`` of its stored non-zero values plus one zero
    entry that weighs as much as all its zero rows (implicit or stored zeros).

    Without weights every value weighs 1 and the zero entry weighs the zero count, which gives
    the dense cumulative counts exactly. With weights, the zero group's weight is summed by the
    same ``np.add.reduceat`` over the zero rows in row order as the dense path does, and equal
    non-zero values keep row order (``rows`` ascending), so the cumulative weights are
    bit-identical too.
    """
    nonzero = values != 0.0  # NaN and +-inf count as non-zero: they are not zero rows
    n_zero = n_rows - int(nonzero.sum())
    finite = nonzero & np.isfinite(values)
    kept_rows, kept = rows[finite], values[finite]
    if n_zero == 0:
        weight = None if sample_weight is None else sample_weight[kept_rows]
        return feature_edges(kept, max_edges, weight)
    if sample_weight is None:
        weight = np.ones(kept.size + 1)
        weight[-1] = n_zero
    else:
        is_zero = np.ones(n_rows, dtype=np.bool_)
        is_zero[rows[nonzero]] = False
        weight = np.append(sample_weight[kept_rows], np.add.reduceat(sample_weight[is_zero], [0])[0])
    return feature_edges(np.append(kept, 0.0), max_edges, weight)


def zero_bins(edges):
    """(F,) uint8: the bin of the value 0.0 in every feature: its edges below 0 (the +inf padding
    after ``n_edges`` never is)."""
    return (edges < 0.0).sum(axis=1).astype(X_BINNED_DTYPE)


@jit(inline=True)
def _value_bin(edges, n_edges, f, x, missing_bin):
    """Bin of value x of feature f: the first edge >= x (as ``gbdt.binning.bin_data``), NaN -> missing_bin."""
    if np.isnan(x):
        return missing_bin
    return np.searchsorted(edges[f, : n_edges[f]], x)


@jit(parallel=True)
def bin_csr(indptr, indices, values, edges, n_edges, zero_bin, missing_bin, out):
    """Fill ``out`` (n, F) uint8 with the bins of a CSR matrix (n, F).

    indptr : (n + 1,) int64; indices : (nnz,) int64 features; values : (nnz,) float64;
    edges : (F, max_bin - 1); n_edges : (F,) int32; zero_bin : (F,) uint8 bin of 0.0;
    missing_bin : int (= max_bin - 1), the bin of stored NaN.
    """
    n, n_features = out.shape
    for i in prange(n):
        for f in range(n_features):
            out[i, f] = zero_bin[f]
        for k in range(indptr[i], indptr[i + 1]):
            out[i, indices[k]] = _value_bin(edges, n_edges, indices[k], values[k], missing_bin)


def bin_csr_matrix(indptr, indices, values, n_features, edges, n_edges, max_bin):
    """C-ordered (n, F) uint8 bins of a CSR matrix, the same as ``bin_matrix`` of its dense twin."""
    out = np.empty((indptr.shape[0] - 1, n_features), dtype=X_BINNED_DTYPE)
    bin_csr(indptr, indices, values, edges, n_edges, zero_bins(edges), max_bin - 1, out)
    return out


@dataclass(frozen=True)
class SparseBins:
    """The bins of a sparse (n, F) matrix that differ from their column's zero bin, by column and by row::

        column f: rows  col_rows[col_ptr[f]:col_ptr[f + 1]]          (ascending)
                  bins  col_bins[col_ptr[f]:col_ptr[f + 1]]
        row i:    features row_features[row_ptr[i]:row_ptr[i + 1]]  (ascending)
                  bins     row_bins[row_ptr[i]:row_ptr[i + 1]]
        any other (row, feature): zero_bin[feature]

    col_ptr (F + 1,), row_ptr (n + 1,) int64 (so more than 2**31 entries index fine); col_rows
    (nnz,) int32; row_features (nnz,) int32; col_bins, row_bins (nnz,) uint8, stored NaN in
    ``missing_bin``; zero_bin (F,) uint8; n_value_bins (F,) int32 non-missing bins per feature
    (edges + 1). Memory: 10 bytes per kept entry plus the pointers.
    """

    n_rows: int
    missing_bin: int
    zero_bin: np.ndarray
    n_value_bins: np.ndarray
    col_ptr: np.ndarray
    col_rows: np.ndarray
    col_bins: np.ndarray
    row_ptr: np.ndarray
    row_features: np.ndarray
    row_bins: np.ndarray

    @property
    def shape(self):
        return self.n_rows, self.zero_bin.shape[0]

    @property
    def nnz(self):
        """Entries kept (stored entries outside their column's zero bin)."""
        return self.row_features.shape[0]

    def add_forest(self, forest, out, first_tree=0, stop_tree=None):
        """``forest.predict`` of these rows (``add_forest_by_rows``)."""
        add_forest_by_rows(self, forest, out, first_tree, stop_tree)


def add_forest_by_rows(bins, forest, out, first_tree=0, stop_tree=None):
    """Add trees [first_tree, stop_tree) of ``forest`` (``gbdt.tree.Forest``) to ``out`` (n, K)
    for binned rows held as the by-row arrays ``row_ptr``, ``row_features``, ``row_bins`` of
    ``bins`` (zero_bin where a row has no entry)."""
    forest.predict_csr(bins.row_ptr, bins.row_features, bins.row_bins, bins.zero_bin, out, first_tree, stop_tree,
                       bins.missing_bin)


@jit(parallel=True)
def _bin_entries(indptr, indices, values, edges, n_edges, zero_bin, missing_bin, out_bins, out_kept):
    """``out_bins[k]`` = bin of stored entry k of a CSR matrix (n, F); ``out_kept[i]`` = how many
    of row i's entries are outside their column's zero bin."""
    for i in prange(indptr.shape[0] - 1):
        kept = 0
        for k in range(indptr[i], indptr[i + 1]):
            f = indices[k]
            b = _value_bin(edges, n_edges, f, values[k], missing_bin)
            out_bins[k] = b
            kept += b != zero_bin[f]
        out_kept[i] = kept


@jit(parallel=True)
def _keep_entries(indptr, indices, bins, zero_bin, row_ptr, out_features, out_bins):
    """Copy row i's entries outside the zero bin to ``out_*[row_ptr[i]:row_ptr[i + 1]]`` in order."""
    for i in prange(indptr.shape[0] - 1):
        at = row_ptr[i]
        for k in range(indptr[i], indptr[i + 1]):
            if bins[k] != zero_bin[indices[k]]:
                out_features[at] = indices[k]
                out_bins[at] = bins[k]
                at += 1


@jit(parallel=True)
def _rows_to_columns(row_ptr, row_features, row_bins, n_blocks, out_col_ptr, out_rows, out_bins):
    """Transpose the by-row entries into the by-column arrays, rows ascending within each column:
    a counting sort of ``n_blocks`` stretches of rows in parallel, each with its own cursor per
    column (where the stretches before it end), so the columns fill in row order."""
    n_rows = row_ptr.shape[0] - 1
    n_features = out_col_ptr.shape[0] - 1
    cursor = np.zeros((n_blocks, n_features), dtype=np.int64)
    for block in prange(n_blocks):
        for k in range(row_ptr[block * n_rows // n_blocks], row_ptr[(block + 1) * n_rows // n_blocks]):
            cursor[block, row_features[k]] += 1
    out_col_ptr[0] = 0
    for f in range(n_features):  # exclusive prefix sums over columns, then blocks within a column
        at = out_col_ptr[f]
        for block in range(n_blocks):
            count = cursor[block, f]
            cursor[block, f] = at
            at += count
        out_col_ptr[f + 1] = at
    for block in prange(n_blocks):
        for i in range(block * n_rows // n_blocks, (block + 1) * n_rows // n_blocks):
            for k in range(row_ptr[i], row_ptr[i + 1]):
                f = row_features[k]
                out_rows[cursor[block, f]] = i
                out_bins[cursor[block, f]] = row_bins[k]
                cursor[block, f] += 1


def csr_to_csc(indptr, indices, data, n_features):
    """(indptr (F + 1,) int64, rows (nnz,) int32, data (nnz,)) of the CSC twin of a CSR matrix
    (n, F) (indptr (n + 1,) int64, indices (nnz,) int32), rows ascending within each column."""
    col_ptr = np.empty(n_features + 1, dtype=np.int64)
    col_rows = np.empty(indptr[-1], dtype=IDX_DTYPE)
    col_data = np.empty(indptr[-1], dtype=data.dtype)
    # stretches of rows for the threads, at most one column cursor per 64 entries
    n_blocks = max(1, min(numba.get_num_threads(), indptr[-1] // (64 * max(1, n_features))))
    _rows_to_columns(indptr, indices, data, n_blocks, col_ptr, col_rows, col_data)
    return col_ptr, col_rows, col_data


def bin_csr_sparse(indptr, indices, values, n_features, edges, n_edges, max_bin):
    """``SparseBins`` of a CSR matrix (n, F) with sorted, unique indices per row; the same bins
    as ``bin_csr_matrix`` wherever an entry is kept (tested).

    indptr : (n + 1,) int64; indices : (nnz,) int32 features; values : (nnz,) float64;
    edges : (F, max_bin - 1) float64; n_edges : (F,) int32.
    """
    n_rows = indptr.shape[0] - 1
    if n_rows > np.iinfo(IDX_DTYPE).max:
        raise ValueError(f"a sparse matrix may have at most {np.iinfo(IDX_DTYPE).max} rows, got {n_rows}")
    zero_bin = zero_bins(edges)
    bins = np.empty(indices.shape[0], dtype=X_BINNED_DTYPE)
    kept = np.empty(n_rows, dtype=np.int64)
    _bin_entries(indptr, indices, values, edges, n_edges, zero_bin, max_bin - 1, bins, kept)
    row_ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(kept, out=row_ptr[1:])
    row_features = np.empty(row_ptr[-1], dtype=FEATURE_DTYPE)
    row_bins = np.empty(row_ptr[-1], dtype=X_BINNED_DTYPE)
    _keep_entries(indptr, indices, bins, zero_bin, row_ptr, row_features, row_bins)
    del bins
    col_ptr, col_rows, col_bins = csr_to_csc(row_ptr, row_features, row_bins, n_features)
    return SparseBins(n_rows, max_bin - 1, zero_bin, (n_edges + 1).astype(np.int32), col_ptr, col_rows, col_bins,
                      row_ptr, row_features, row_bins)


@jit(inline=True)
def row_entry(row_ptr, row_features, row_data, row, f, absent):
    """``row_data`` of row ``row``'s entry for feature ``f``, or ``absent`` when it has none.
    row_ptr (n + 1,) int64, row_features (nnz,) sorted within each row, row_data (nnz,) (bins of
    ``SparseBins``). A binary search whose halving steps depend on
    the row's length only (the compare picks the half by a select, not a branch): 36 -> 13 ns a
    lookup on one-hot rows of 30 entries, whose branches mispredicted half the time."""
    lo = row_ptr[row]
    end = row_ptr[row + 1]
    n = end - lo
    if n == 0:
        return absent
    while n > 1:  # the first entry with feature >= f is in [lo, lo + n]
        half = n >> 1
        lo = lo + half if row_features[lo + half] < f else lo
        n -= half
    lo += row_features[lo] < f
    if lo < end and row_features[lo] == f:
        return row_data[lo]
    return absent
