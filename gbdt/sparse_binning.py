"""Quantile binning of sparse (CSC/CSR) features without densifying them.

Implicit zeros are the value 0.0 (not missing, as in XGBoost); stored NaN are missing. The edges
follow ``gbdt.binning``'s definition exactly: a column's edges are ``feature_edges`` of its values,
where the zeros enter as one group of weight "number (or total weight) of zero rows", so a sparse
matrix and its dense twin get bit-identical edges and hence identical bins and models.

Arrays are the scipy layouts, passed as plain arrays (``gbdt`` imports numpy and numba only)::

    CSC: column f holds values[indptr[f]:indptr[f+1]] at rows indices[indptr[f]:indptr[f+1]]
    CSR: row i    holds values[indptr[i]:indptr[i+1]] at features indices[indptr[i]:indptr[i+1]]

Indices must be unique within a column/row (scipy's canonical format).
"""
import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.binning import DEFAULT_SKETCH_ROWS, feature_edges
from gbdt.dtypes import MAX_BINS, X_BINNED_DTYPE


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
    indptr : (F + 1,) int64; indices : (nnz,) int64 rows; values : (nnz,) float64 (NaN = missing).
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
    for f in range(n_features):
        e = column_edges(indices[indptr[f]:indptr[f + 1]], values[indptr[f]:indptr[f + 1]], n_rows,
                         max_edges, sample_weight)
        edges[f, : e.size] = e
        n_edges[f] = e.size
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
        weight = np.r_[np.ones(kept.size), float(n_zero)]
    else:
        is_zero = np.ones(n_rows, dtype=np.bool_)
        is_zero[rows[nonzero]] = False
        zero_weight = np.add.reduceat(sample_weight[is_zero], [0])[0]
        weight = np.r_[sample_weight[kept_rows], zero_weight]
    return feature_edges(np.r_[kept, 0.0], max_edges, weight)


def zero_bins(edges, n_edges):
    """(F,) uint8: the bin of the value 0.0 in every feature (number of edges below 0)."""
    return np.array([np.searchsorted(edges[f, : n_edges[f]], 0.0, side="left") for f in range(edges.shape[0])],
                    dtype=X_BINNED_DTYPE)


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
            f = indices[k]
            x = values[k]
            if np.isnan(x):
                out[i, f] = missing_bin
                continue
            out[i, f] = np.searchsorted(edges[f, : n_edges[f]], x)  # first edge >= x, as bin_data


def bin_csr_matrix(indptr, indices, values, n_features, edges, n_edges, max_bin):
    """C-ordered (n, F) uint8 bins of a CSR matrix, the same as ``bin_matrix`` of its dense twin."""
    out = np.empty((indptr.shape[0] - 1, n_features), dtype=X_BINNED_DTYPE)
    bin_csr(indptr, indices, values, edges, n_edges, zero_bins(edges, n_edges), max_bin - 1, out)
    return out
