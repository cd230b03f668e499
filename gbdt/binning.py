"""Quantile binning: raw float features -> uint8 bin indices.

Layout of one feature's bins for ``max_bin`` = B::

    bin:    0        1        ...  n_edges       ...   B-1
            x<=e[0]  x<=e[1]       x>e[n_edges-1]      NaN (missing)

``edges[f, :n_edges[f]]`` are strictly increasing finite values and a value ``x`` goes to the
number of edges strictly below it (``searchsorted(edges, x, side="left")``), so
``x <= edges[f, b]`` <=> ``bin(x) <= b``: a split on bin ``b`` has the raw threshold
``edges[f, b]``. +inf lands in the last non-missing bin and -inf in bin 0 (they are treated as
extreme values, not as missing). NaN always lands in bin ``B - 1``.
"""
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.dtypes import MAX_BINS, X_BINNED_DTYPE

DEFAULT_SKETCH_ROWS = 200_000


def compute_bin_edges(X, max_bin=MAX_BINS, sample_weight=None, sketch_rows=DEFAULT_SKETCH_ROWS, seed=0):
    """Per-feature weighted quantile edges from a row sample of at most ``sketch_rows``, the
    features spread over ``numba.get_num_threads()`` threads.

    Parameters
    ----------
    X : (n, F) float64, NaN for missing.
    max_bin : int in [2, 256], total bins per feature including the missing bin.
    sample_weight : (n,) float64 or None.

    Returns
    -------
    edges : (F, max_bin - 1) float64, padded with +inf after ``n_edges[f]``.
    n_edges : (F,) int32, number of real edges; feature f uses bins 0..n_edges[f] for values.
    """
    n, n_features = X.shape
    if n > sketch_rows:
        rows = np.sort(np.random.default_rng(seed).choice(n, sketch_rows, replace=False))
        X = X[rows]
        sample_weight = None if sample_weight is None else sample_weight[rows]
    max_edges = max_bin - 2  # max_bin - 1 value bins need max_bin - 2 edges
    edges = np.full((n_features, max_bin - 1), np.inf)
    n_edges = np.zeros(n_features, dtype=np.int32)
    threads = min(numba.get_num_threads(), n_features)  # numpy's sort releases the GIL
    with ThreadPoolExecutor(max(threads, 1)) as pool:
        per_feature = pool.map(lambda f: feature_edges(X[:, f], max_edges, sample_weight), range(n_features))
        for f, e in enumerate(per_feature):
            edges[f, : e.size] = e
            n_edges[f] = e.size
    return edges, n_edges


def feature_edges(values, max_edges, sample_weight=None):
    """Edges for one column: midpoints between distinct values when there are few of them,
    otherwise weighted quantiles at ``k / (max_edges + 1)``; NaN and +-inf are ignored."""
    finite = np.isfinite(values)
    values = values[finite]
    if values.size == 0:
        return np.empty(0)
    if sample_weight is None:
        return sorted_feature_edges(np.sort(values), max_edges)
    order = np.argsort(values, kind="stable")
    return sorted_feature_edges(values[order], max_edges, sample_weight[finite][order])


def sorted_feature_edges(values, max_edges, weight=None):
    """``feature_edges`` of finite ``values`` already sorted ascending (``weight`` in their order,
    or None), so that a caller holding sorted columns skips the sort."""
    if values.size == 0:
        return np.empty(0)
    starts = np.empty(values.size, dtype=np.bool_)  # np.r_ costs ~20 us a call, a lot per sparse column
    starts[0] = True
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    first = np.flatnonzero(starts)
    distinct = values[first]
    if distinct.size <= max_edges + 1:
        return 0.5 * (distinct[:-1] + distinct[1:])
    if weight is None:
        cum_weight = np.append(first[1:], values.size).astype(np.float64)
    else:
        cum_weight = np.add.reduceat(weight, first).cumsum()
    targets = cum_weight[-1] * np.arange(1, max_edges + 1) / (max_edges + 1)
    picked = np.unique(np.searchsorted(cum_weight, targets, side="left"))
    # the largest distinct value cannot be an upper edge: nothing would be above it
    picked = picked[picked < distinct.size - 1]
    return distinct[picked]


def presorted_bin_edges(X, col_ptr, col_row, max_bin, sample_weight):
    """``compute_bin_edges`` of X (n, F) float64 with ``sample_weight`` (n,), every row, from
    columns sorted beforehand: feature f's present rows in ascending order are
    ``col_row[col_ptr[f]:col_ptr[f + 1]]`` (``gbdt.exact.ColumnBlocks``). No sort per call: the
    per-tree sketch of ``tree_method='approx'`` (hessian weights) costs a gather and a cumulative sum."""
    n_features = X.shape[1]
    edges = np.full((n_features, max_bin - 1), np.inf)
    n_edges = np.zeros(n_features, dtype=np.int32)
    for f in range(n_features):
        rows = col_row[col_ptr[f]:col_ptr[f + 1]]
        values = X[rows, f]
        finite = np.isfinite(values)
        e = sorted_feature_edges(values[finite], max_bin - 2, sample_weight[rows][finite])
        edges[f, :e.size] = e
        n_edges[f] = e.size
    return edges, n_edges


ROWS_PER_BIN_BLOCK = 512


@jit(parallel=True)
def bin_data(X, padded_edges, missing_bin, out):
    """Fill ``out`` (n, F) uint8 with the bin of every cell of ``X`` (n, F) float64.

    padded_edges : (F, MAX_BINS - 1) float64 edges padded with +inf (``pad_edges``), so every
    search takes the same 8 halving steps with no bounds and no branch: 5x faster than a
    searchsorted loop, whose compares mispredict. missing_bin : int (= max_bin - 1).
    Blocks of rows are binned one feature at a time, so a feature's edges stay in L1.
    """
    n, n_features = X.shape
    for block in prange((n + ROWS_PER_BIN_BLOCK - 1) // ROWS_PER_BIN_BLOCK):
        lo = block * ROWS_PER_BIN_BLOCK
        hi = np.minimum(n, lo + ROWS_PER_BIN_BLOCK)
        for f in range(n_features):
            e = padded_edges[f]
            for i in range(lo, hi):
                x = X[i, f]
                below = 0  # edges < x, i.e. the first edge >= x; NaN compares false everywhere
                for step in (128, 64, 32, 16, 8, 4, 2, 1):
                    below += step if e[below + step - 1] < x else 0
                out[i, f] = missing_bin if x != x else below


def pad_edges(edges):
    """(F, MAX_BINS - 1) copy of ``edges`` (F, max_bin - 1) padded with +inf (see ``bin_data``)."""
    padded = np.full((edges.shape[0], MAX_BINS - 1), np.inf)
    padded[:, :edges.shape[1]] = edges
    return padded


def bin_matrix(X, edges, n_edges, max_bin):
    """Binned copy of ``X`` (n, F) float64 as a C-ordered (n, F) uint8 matrix.

    ``edges`` (F, max_bin - 1) are padded with +inf after ``n_edges[f]`` (``compute_bin_edges``), so
    the search needs no ``n_edges``; it is taken for the signature shared with the sparse twin
    (``bindings.sparse_input.sparse_bin_matrix``)."""
    out = np.empty(X.shape, dtype=X_BINNED_DTYPE)
    bin_data(X, pad_edges(edges), max_bin - 1, out)
    return out


def set_category_edges(edges, n_edges, feature, n_categories):
    """Make ``feature`` categorical in place: edges c + 0.5 put category code c in bin c
    (c < n_categories <= max_bin - 1); NaN still lands in the missing bin."""
    k = max(n_categories - 1, 0)
    edges[feature] = np.inf
    edges[feature, :k] = np.arange(k) + 0.5
    n_edges[feature] = k
