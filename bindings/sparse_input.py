"""scipy.sparse features: validation, binning and row-chunked prediction without a dense copy.

Implicit zeros are zeros (not missing, as in XGBoost); stored NaN are missing. A Dataset built
from a sparse matrix keeps it as canonical CSR (float64 values, sorted and summed duplicates), so memory is O(nnz) plus the (n, F) uint8 binned matrix; edges and bins equal those
of the dense twin (see ``gbdt.sparse_binning``).
"""
import numpy as np

from gbdt.binning import DEFAULT_SKETCH_ROWS
from gbdt.sparse_binning import bin_csr_matrix, compute_sparse_bin_edges

__all__ = ["is_sparse", "as_csr_matrix", "sparse_bin_edges", "sparse_bin_matrix", "dense_row_chunks",
           "PREDICT_CHUNK_BYTES"]

# rows densified at a time for prediction: a bounded float64 block, whatever n is
PREDICT_CHUNK_BYTES = 32 << 20


def is_sparse(data):
    """True for scipy.sparse matrices and arrays (scipy is imported only when data comes from it)."""
    if not type(data).__module__.startswith("scipy.sparse"):
        return False
    import scipy.sparse

    return scipy.sparse.issparse(data)


def as_csr_matrix(data, name="data"):
    """Canonical CSR (float64 values, sorted unique indices) of a scipy.sparse input; the input
    itself when it already is one.

    Raises TypeError for non-numeric values and ValueError for empty shapes.
    """
    if data.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {data.shape}")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {data.shape}; need at least one row and one feature")
    if data.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got a sparse matrix of dtype {data.dtype}")
    X = data.tocsr().astype(np.float64, copy=False)
    if not X.has_canonical_format:
        X = X.copy()  # sum_duplicates works in place: never on the caller's matrix
        X.sum_duplicates()
    return X


def sparse_bin_edges(X, max_bin, sample_weight=None, seed=0, sketch_rows=DEFAULT_SKETCH_ROWS):
    """Bin edges (F, max_bin - 1) and counts (F,) of a CSR matrix, as ``compute_bin_edges`` of its dense twin."""
    csc = X.tocsc()
    csc.sort_indices()  # equal values must keep row order for the weighted sketch
    return compute_sparse_bin_edges(csc.indptr.astype(np.int64), csc.indices.astype(np.int64), csc.data,
                                    X.shape[0], max_bin, sample_weight, sketch_rows=sketch_rows, seed=seed)


def sparse_bin_matrix(X, edges, n_edges, max_bin):
    """(n, F) uint8 C-ordered bins of a canonical CSR matrix (``as_csr_matrix``)."""
    # one index dtype for the kernel (one compiled variant); the copy is O(nnz)
    return bin_csr_matrix(X.indptr.astype(np.int64), X.indices.astype(np.int64), X.data, X.shape[1], edges,
                          n_edges, max_bin)


def dense_row_chunks(X):
    """Yield (first_row, (m, F) float64 block) covering X; dense X is one block, CSR X is densified
    ``PREDICT_CHUNK_BYTES`` at a time (implicit zeros become 0.0, stored NaN stay missing)."""
    if not is_sparse(X):
        yield 0, X
        return
    rows = max(1, PREDICT_CHUNK_BYTES // (8 * X.shape[1]))
    for lo in range(0, X.shape[0], rows):
        yield lo, X[lo:lo + rows].toarray()
