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


def sample_csc_rows(indptr, indices, values, rows, n_rows):
    """CSC arrays of the sub-matrix made of ``rows`` (sorted, unique), renumbered 0..len(rows)-1.

    Returns (indptr, indices, values) of the (len(rows), F) sub-matrix.
    """
    new_id = np.full(n_rows, -1, dtype=np.int64)
    new_id[rows] = np.arange(rows.shape[0])
    keep = new_id[indices] >= 0
    column = np.repeat(np.arange(indptr.shape[0] - 1), np.diff(indptr))
    counts = np.bincount(column[keep], minlength=indptr.shape[0] - 1)
    new_indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    return new_indptr, new_id[indices[keep]], values[keep]


def compute_sparse_bin_edges(indptr, indices, values, n_rows, max_bin=MAX_BINS, sample_weight=None,
                             sketch_rows=DEFAULT_SKETCH_ROWS, seed=0):
    """``gbdt.binning.compute_bin_edges`` of a CSC matrix (n_rows, F), equal to that of its dense twin.

    Parameters
    ----------
    indptr : (F + 1,) int64; indices : (nnz,) int32 rows; values : (nnz,) float64 (NaN = missing).
    n_rows : int; max_bin, sample_weight (n_rows,) or None, sketch_rows, seed : as in compute_bin_edges
        (the same row sample is drawn from the same seed).

    Returns
    -------
    edges : (F, max_bin - 1) float64 padded with +inf; n_edges : (F,) int32.
    """
    n_features = indptr.shape[0] - 1
    if n_rows > sketch_rows:
        rows = np.sort(np.random.default_rng(seed).choice(n_rows, sketch_rows, replace=False))
        indptr, indices, values = sample_csc_rows(indptr, indices, values, rows, n_rows)
        sample_weight = None if sample_weight is None else sample_weight[rows]
        n_rows = sketch_rows
    max_edges = max_bin - 2
    edges = np.full((n_features, max_bin - 1), np.inf)
    n_edges = np.zeros(n_features, dtype=np.int32)

    def some_columns(features):
        for f in features:
            e = column_edges(indices[indptr[f]:indptr[f + 1]], values[indptr[f]:indptr[f + 1]], n_rows, max_edges,
                             sample_weight)
            edges[f, : e.size] = e
            n_edges[f] = e.size

    # as compute_bin_edges: numpy's sort releases the GIL; columns go by stretches, as a task
    # per column of a few entries costs more to schedule than to do
    threads = max(1, min(numba.get_num_threads(), n_features))
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(some_columns, np.array_split(np.arange(n_features), 4 * threads)))
    return edges, n_edges


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
    col_ptr = np.empty(n_features + 1, dtype=np.int64)
    col_rows = np.empty(row_ptr[-1], dtype=IDX_DTYPE)
    col_bins = np.empty(row_ptr[-1], dtype=X_BINNED_DTYPE)
    # stretches of rows for the threads, at most one column cursor per 64 entries
    n_blocks = max(1, min(numba.get_num_threads(), row_ptr[-1] // (64 * max(1, n_features))))
    _rows_to_columns(row_ptr, row_features, row_bins, n_blocks, col_ptr, col_rows, col_bins)
    return SparseBins(n_rows, max_bin - 1, zero_bin, (n_edges + 1).astype(np.int32), col_ptr, col_rows, col_bins,
                      row_ptr, row_features, row_bins)


@jit(inline=True)
def row_entry(row_ptr, row_features, row_data, row, f, absent):
    """``row_data`` of row ``row``'s entry for feature ``f``, or ``absent`` when it has none.
    row_ptr (n + 1,) int64, row_features (nnz,) sorted within each row, row_data (nnz,) (bins of
    ``SparseBins`` or the values of a CSR matrix). A binary search whose halving steps depend on
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
