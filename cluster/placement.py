"""Data placement: align X, y and weight into row blocks, persist them, and assign blocks to workers.

Every worker that has data gets one shard of whole row blocks. Blocks stay where Dask computed
them unless a worker would get none while another holds several; then blocks move so that each
worker has at least one (``rows per worker`` is reported by the fit).
"""
import dask.array as da
import numpy as np
from distributed import wait


def _as_dask_array(data, name, row_chunks=None):
    """Dask array from a dask array/DataFrame/Series or an in-memory array."""
    if hasattr(data, "to_dask_array"):  # dask DataFrame / Series
        data = data.to_dask_array(lengths=True)
    elif not isinstance(data, da.Array):
        arr = np.asarray(data)
        data = da.from_array(arr, chunks=row_chunks or max(1, -(-arr.shape[0] // 4)))
    if any(np.isnan(c) for dim in data.chunks for c in dim):
        raise ValueError(f"{name} has unknown chunk sizes; call compute_chunk_sizes() or pass lengths")
    return data


def aligned_blocks(X, y, weight=None):
    """Row blocks of X (n, F) with matching y (n,) and weight (n,) as lists of delayed objects."""
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got {X.ndim}-D")
    if X.shape[0] == 0:
        raise ValueError("X is empty: it has no rows")
    X = X.rechunk({1: -1})
    y = _as_dask_array(y, "y", X.chunks[0]).reshape(-1) if y is not None else None
    if y is not None and y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    columns = [X.astype(np.float64)]
    for name, v in (("y", y), ("sample_weight", weight)):
        if v is None:
            continue
        v = _as_dask_array(v, name, X.chunks[0]).reshape(-1)
        if v.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but {name} has {v.shape[0]}")
        columns.append(v.astype(np.float64).rechunk((X.chunks[0],)))
    blocks = [c.to_delayed().ravel().tolist() for c in columns]
    return X.chunks[0], blocks


def place_blocks(client, X, y, weight=None):
    """Persist aligned blocks and group them by worker.

    Returns (assignment, rows_per_worker): assignment maps worker address -> list of
    (X block, y block, weight block or None) futures.
    """
    row_chunks, blocks = aligned_blocks(X, y, weight)
    futures = [client.compute(col) for col in blocks]
    wait([f for col in futures for f in col])
    holders = client.who_has(futures[0])
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise RuntimeError("the Dask cluster has no workers")
    assignment = {w: [] for w in workers}
    for i, fut in enumerate(futures[0]):
        held = holders.get(fut.key) or [workers[i % len(workers)]]
        assignment[held[0] if held[0] in assignment else workers[0]].append(i)
    _fill_empty_workers(assignment, row_chunks)
    grouped = {w: [(futures[0][i], futures[1][i], futures[2][i] if len(futures) > 2 else None) for i in idx]
               for w, idx in assignment.items() if idx}
    rows = {w: int(sum(row_chunks[i] for i in idx)) for w, idx in assignment.items() if idx}
    return grouped, rows


def _fill_empty_workers(assignment, row_chunks):
    """Move blocks from the most loaded workers to workers that have none (in place)."""
    for worker in [w for w, idx in assignment.items() if not idx]:
        donor = max(assignment, key=lambda w: (len(assignment[w]) > 1, sum(row_chunks[i] for i in assignment[w])))
        if len(assignment[donor]) > 1:
            assignment[worker].append(assignment[donor].pop())
