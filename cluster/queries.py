"""Query groups on a Dask cluster: whole queries on every worker.

A ranking gradient of a row depends on the other rows of its query, so no query may be split
across shards. The client computes the query ids (one number per row: small next to the
features), checks that they are sorted, and moves each row-block boundary forward to the next
query start (``query_aligned``); blocks then hold whole queries, and placing whole blocks
(``cluster.placement``) places whole queries. Every shard gets the global boundaries and takes its
own queries from its blocks' row ranges (``local_queries``), with their global numbers: pair
sampling is seeded by them, so the model equals the single-machine one.
"""
import numpy as np

from bindings.query_groups import group_pointer
from cluster.placement import as_dask_array

__all__ = ["whole_queries", "query_pointer", "query_aligned", "local_queries"]


def whole_queries(X, qid):
    """(X as a dask array of row blocks holding whole queries, the queries' boundaries (G + 1,)) of
    X (n, F) (dask or in-memory array or DataFrame) with sorted query ids ``qid`` (n,)."""
    X = as_dask_array(X, "X")
    group_ptr = query_pointer(qid, int(X.shape[0]))
    return query_aligned(X, group_ptr), group_ptr


def query_pointer(qid, n_rows):
    """(G + 1,) int64 boundaries of the queries given by ``qid`` (n_rows,), a dask or in-memory
    array of sorted query ids (computed here; ValueError as ``Dataset`` for bad ids)."""
    values = qid.compute() if hasattr(qid, "compute") else qid
    return group_pointer(None, np.asarray(values), n_rows)


def query_aligned(X, group_ptr):
    """X as a dask array whose row blocks end at query boundaries: each boundary of its blocks
    moves forward to the next query start (blocks holding no query start merge into the previous)."""
    X = as_dask_array(X, "X")
    ends = np.cumsum(X.chunks[0])[:-1]
    starts = group_ptr[np.searchsorted(group_ptr, ends, side="left")]
    bounds = np.unique(np.concatenate(([0], starts, [group_ptr[-1]])))
    return X.rechunk({0: tuple(int(c) for c in np.diff(bounds))})


def local_queries(group_ptr, offsets, lengths):
    """(local boundaries (g + 1,) int64, global query numbers (g,) int64) of the queries in the row
    ranges [offset, offset + length) of a shard's blocks, in block order (each range whole queries)."""
    parts, numbers, base = [], [], 0
    for offset, length in zip(offsets, lengths):
        first, last = np.searchsorted(group_ptr, [offset, offset + length])
        parts.append(group_ptr[first:last] - offset + base)
        numbers.append(np.arange(first, last, dtype=np.int64))
        base += length
    return np.concatenate(parts + [[base]]).astype(np.int64), np.concatenate(numbers + [np.empty(0, np.int64)])
