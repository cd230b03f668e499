"""scipy.sparse features: validation, binning and prediction without a dense copy.

Implicit zeros are zeros (not missing, as XGBoost would read them); stored NaN are missing. A
Dataset built from a sparse matrix keeps it as canonical CSR (float64 values, sorted indices,
duplicates summed on a copy, as scipy's ``sum_duplicates``); edges and bins equal those of the
dense twin (see ``gbdt.sparse_binning``).

Which training path a matrix takes (``sparse_bin_matrix``), per matrix, from its density
(stored entries / (n F)):

- density <= ``SPARSE_MAX_DENSITY``: the sparse path. The entries outside their column's zero
  bin are kept as ``gbdt.sparse_binning.SparseBins`` (O(nnz) memory, no (n, F) matrix
  anywhere); histograms come from those entries (``gbdt.sparse_histogram``) in the compact
  layout, the zero bin as the node's total minus the rest, and rows are routed by a search in
  their entries (``gbdt.sparse_partition``): passes cost the entries and the bins, not n x F.
  When the columns bundle (``gbdt.bundling``: no two in one bundle share a row, at most
  BUNDLE_CELLS_PER_ENTRY cells per entry, as one-hot encoded variables), the bundles train as a
  dense uint8 matrix of a few columns instead (``BundledBins``), still O(nnz).
- above: the dense (n, F) uint8 bin matrix and the dense kernels, whose per-cell passes are
  cheaper than the sparse ones per entry once a good share of the cells is stored; the matrix
  is then at most 1 / SPARSE_MAX_DENSITY bytes per stored entry, still O(nnz).

The model is the same on every path up to the rounding of the histogram sums (bit for bit with
quantised gradients), so the rule only moves time and memory.
"""
import numpy as np

from gbdt.binning import DEFAULT_SKETCH_ROWS
from gbdt.bundling import bundle_sparse_bins
from gbdt.sparse_binning import bin_csr_matrix, bin_csr_sparse, compute_sparse_bin_edges

__all__ = ["is_sparse", "as_csr_matrix", "canonical_csr", "sparse_enough", "sparse_bin_edges", "sparse_bin_matrix",
           "add_csr_predictions", "split_feature_columns", "dense_row_chunks", "PREDICT_CHUNK_BYTES", "SPARSE_MAX_DENSITY"]

# the sparse training path up to this share of stored cells (see the module docstring). 50k x 200
# normal values, 5 trees of depth 6, sparse / dense time at density 0.02, 0.05, 0.1, 0.2, 0.4:
# 0.12, 0.19, 0.34, 0.57, 1.02 (1 thread, CPU) and 0.07, 0.11, 0.20, 0.48, 0.89 (2 threads, wall);
# below the crossover, as the sparse path takes 10 bytes a kept entry against 1-2 a dense cell
SPARSE_MAX_DENSITY = 0.25

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
    return canonical_csr(data)


def canonical_csr(data):
    """Canonical CSR of any scipy.sparse matrix, unchecked (row blocks of a Dask array may have no rows)."""
    X = data.tocsr().astype(np.float64, copy=False)
    if not X.has_canonical_format:
        X = X.copy()  # sum_duplicates works in place: never on the caller's matrix
        X.sum_duplicates()
    return X


def sparse_bin_edges(X, max_bin, sample_weight=None, seed=0, sketch_rows=DEFAULT_SKETCH_ROWS):
    """Bin edges (F, max_bin - 1) and counts (F,) of a canonical CSR matrix, as ``compute_bin_edges``
    of its dense twin."""
    return compute_sparse_bin_edges(X.indptr.astype(np.int64), X.indices.astype(np.int32, copy=False), X.data,
                                    X.shape[1], max_bin, sample_weight, sketch_rows=sketch_rows, seed=seed)


def sparse_enough(X, stored=None):
    """Whether a sparse matrix (n, F) takes the sparse training path: density at most
    ``SPARSE_MAX_DENSITY``. ``X`` may be its shape alone with ``stored`` its stored entries (the
    rows of a Dask fit, over every shard)."""
    shape = X if stored is not None else X.shape
    return (X.nnz if stored is None else stored) <= SPARSE_MAX_DENSITY * shape[0] * shape[1]


def sparse_bin_matrix(X, edges, n_edges, max_bin, sparse=None):
    """Bins of a canonical CSR matrix (``as_csr_matrix``) by the rule of the module docstring:
    ``BundledBins`` or ``SparseBins``, or the (n, F) uint8 C-ordered bin matrix of its dense twin.
    ``sparse`` : the path, when decided for more rows than X's (a Dask shard's); None: X's density."""
    # one index dtype for the kernels (one compiled variant): int64 pointers (nnz may pass 2**31),
    # int32 indices (scipy's own below 2**31 entries, so no copy; a column id always fits)
    csr = X.indptr.astype(np.int64), X.indices.astype(np.int32, copy=False), X.data, X.shape[1], edges, n_edges
    csr = csr + (max_bin,)
    if not (sparse_enough(X) if sparse is None else sparse):
        return bin_csr_matrix(*csr)
    bins = bin_csr_sparse(*csr)
    return bundle_sparse_bins(bins) or bins


def add_csr_predictions(forest, X, out, first_tree=0, stop_tree=None):
    """Add trees [first_tree, stop_tree) of ``forest`` (``gbdt.tree.Forest``) to ``out`` (n, K)
    for the rows of a canonical CSR matrix X (``as_csr_matrix``: no duplicate entries), absent
    entries read as 0.0: bit for bit the sums of its dense twin, without densifying it (each
    block of rows is scattered into a scratch of the split features only, ``Forest.predict_csr``;
    faster than dense blocks at any density: 50k x 500 at 60%, 3.6x)."""
    forest.predict_csr(X.indptr.astype(np.int64), X.indices.astype(np.int32, copy=False), X.data,
                       np.zeros(X.shape[1]), out, first_tree, stop_tree)


def split_feature_columns(X, feature):
    """What leaf ids and SHAP contributions walk for rows of X (n, F) through trees whose nodes split
    on ``feature`` (nodes,) int (-1 at leaves): for CSR X, (X[:, columns] (n, U) CSR, ``feature``
    renumbered into those U columns (leaves stay -1), columns (U,) int64: the sorted features some
    node splits on), so its dense blocks hold U columns instead of F (a text model's few hundred of
    100k); for dense X, (X, feature, None)."""
    if not is_sparse(X):
        return X, feature, None
    columns = np.unique(feature[feature >= 0]).astype(np.int64)
    position = np.zeros(X.shape[1], dtype=feature.dtype)
    position[columns] = np.arange(columns.shape[0])
    return X[:, columns], np.where(feature >= 0, position[np.maximum(feature, 0)], feature), columns


def dense_row_chunks(X):
    """Yield (first_row, (m, F) float64 block) covering X; dense X is one block, CSR X is densified
    ``PREDICT_CHUNK_BYTES`` at a time (implicit zeros become 0.0, stored NaN stay missing): for
    leaf ids and SHAP contributions, which walk dense rows (of ``split_feature_columns``)."""
    if not is_sparse(X):
        yield 0, X
        return
    rows = max(1, PREDICT_CHUNK_BYTES // (8 * max(1, X.shape[1])))
    for lo in range(0, X.shape[0], rows):
        yield lo, X[lo:lo + rows].toarray()
