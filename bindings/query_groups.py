"""Query groups for learning to rank: LightGBM's group sizes or XGBoost's per-row query ids, as
row boundaries ``group_ptr`` (G + 1,) int64 (query g: rows ``group_ptr[g]:group_ptr[g + 1]``).

A query's rows must be contiguous: ``qid`` must be sorted (non-decreasing), as XGBoost requires;
unsorted ids are refused (sort the rows by qid first) rather than reordered, so predictions stay in
the caller's row order. Queries of one document are allowed (they have no pairs). Cross-validation
folds keep whole queries (``query_folds``); a subset of rows must hold whole queries
(``subset_pointer``).
"""
import numpy as np

__all__ = ["group_pointer", "expand_query_weights", "subset_pointer", "query_folds", "row_queries",
           "query_boundaries"]


def _one_dimensional(values, name):
    arr = np.asarray(values._values if hasattr(values, "_values") else values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    return arr


def query_boundaries(qid):
    """(G + 1,) int64 boundaries of the runs of equal values in sorted ``qid`` (n,) (n > 0)."""
    changes = np.flatnonzero(qid[1:] != qid[:-1]) + 1
    return np.concatenate(([0], changes, [qid.shape[0]])).astype(np.int64)


def group_pointer(group, qid, n_rows):
    """(G + 1,) int64 query boundaries from ``group`` (G,) sizes or ``qid`` (n_rows,) sorted ids
    (one of them, or neither: None). Raises ValueError for sizes that are not positive integers
    summing to ``n_rows``, or ids that are not finite, sorted and one per row."""
    if group is not None and qid is not None:
        raise ValueError("give the queries as group (sizes) or as qid (one id per row), not both")
    if group is not None:
        sizes = _one_dimensional(group, "group")
        if sizes.size == 0 or not np.all(np.isfinite(sizes)) or np.any(sizes != np.round(sizes)) or sizes.min() < 1:
            raise ValueError("group must list positive integer query sizes (LightGBM's group), one per query")
        if int(sizes.sum()) != n_rows:
            raise ValueError(f"group sizes sum to {int(sizes.sum())} but the data has {n_rows} rows; "
                             "they must add up to the number of rows")
        return np.concatenate(([0], np.cumsum(sizes.astype(np.int64))))
    if qid is not None:
        ids = _one_dimensional(qid, "qid")
        if ids.shape[0] != n_rows:
            raise ValueError(f"qid has {ids.shape[0]} entries but the data has {n_rows} rows; give one query id "
                             "per row")
        if ids.dtype.kind == "f" and not np.all(np.isfinite(ids)):
            raise ValueError("qid contains NaN or infinite values; give every row a query id")
        unsorted = np.flatnonzero(ids[1:] < ids[:-1])
        if unsorted.size:
            i = int(unsorted[0]) + 1
            raise ValueError(f"qid must be sorted (non-decreasing) so each query's rows are contiguous, as XGBoost "
                             f"requires; row {i} has qid {ids[i]} after {ids[i - 1]}. Sort the rows first: "
                             "order = np.argsort(qid, kind='stable') and index X, y and qid with it")
        return query_boundaries(ids)
    return None


def expand_query_weights(weight, group_ptr, n_rows):
    """``weight`` as one value per row: XGBoost's one weight per query (G,) is repeated over the
    query's rows; (n_rows,) or None is returned as is."""
    if weight is None or group_ptr is None:
        return weight
    values = np.asarray(weight._values if hasattr(weight, "_values") else weight)
    n_groups = group_ptr.shape[0] - 1
    if values.ndim == 1 and values.shape[0] == n_groups != n_rows:
        return np.repeat(values, np.diff(group_ptr))
    return weight


def row_queries(group_ptr):
    """(n,) int64 query number of every row."""
    return np.repeat(np.arange(group_ptr.shape[0] - 1, dtype=np.int64), np.diff(group_ptr))


def subset_pointer(group_ptr, rows, name="rows"):
    """(G' + 1,) int64 boundaries of the queries of ``rows`` (sorted int indices), which must hold
    whole queries (ValueError otherwise)."""
    queries = np.searchsorted(group_ptr, rows, side="right") - 1
    kept, counts = np.unique(queries, return_counts=True)
    sizes = np.diff(group_ptr)[kept]
    if not np.array_equal(counts, sizes) or (rows.size and np.any(np.diff(rows) <= 0)):
        raise ValueError(f"{name} must hold whole queries: every row of a query or none, in order (use a group-aware "
                         "splitter such as sklearn.model_selection.GroupKFold with groups = the query ids)")
    return np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)


def query_folds(group_ptr, nfold, shuffle=True, seed=0):
    """``nfold`` (train_rows, test_rows) pairs of sorted int64 row indices whose test parts
    partition the rows by whole queries; each fold gets G / nfold queries (within one), shuffled
    first when ``shuffle``."""
    n_groups = group_ptr.shape[0] - 1
    nfold = int(nfold)
    if nfold < 2 or nfold > n_groups:
        raise ValueError(f"nfold must be in [2, {n_groups}] (the number of queries), got {nfold}")
    order = np.random.default_rng(seed).permutation(n_groups) if shuffle else np.arange(n_groups)
    fold_of_query = np.empty(n_groups, dtype=np.int64)
    fold_of_query[order] = np.arange(n_groups) * nfold // n_groups
    fold_of_row = np.repeat(fold_of_query, np.diff(group_ptr))
    return [(np.flatnonzero(fold_of_row != k), np.flatnonzero(fold_of_row == k)) for k in range(nfold)]
