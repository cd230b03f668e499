"""Data placement: align X, y and weight into row blocks, persist them, and assign blocks to workers.

Feature-parallel training (``place_columns``) instead gives every worker all rows of a contiguous
range of columns.

Every worker that gets data holds one shard of whole row blocks. Blocks stay where Dask computed
them while that worker is below an equal share of the rows; the others move to the least loaded
workers (``balance_blocks``), so a skewed placement or an idle worker is evened out before binning.
Rows per worker are reported by the fit.
"""
import dask.array as da
import numpy as np
from distributed import wait

from cluster.local import worker_info


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


def running_workers(client):
    """Sorted addresses of the workers that accept work (paused or closing workers are left out)."""
    workers = sorted(w for w, info in worker_info(client).items()
                     if info.get("status", "running") == "running")
    if not workers:
        raise RuntimeError("the Dask cluster has no running workers (none, or all paused)")
    return workers


def place_blocks(client, X, y, weight=None, workers=None):
    """Persist aligned blocks and group them by worker (``workers``: sorted addresses, by
    default every running worker).

    Returns (assignment, rows_per_worker): assignment maps worker address -> list of
    (X block, y block, weight block or None, global index of the block's first row) with futures
    for the blocks, in sorted address order.
    """
    row_chunks, blocks = aligned_blocks(X, y, weight)
    futures = [client.compute(col) for col in blocks]
    wait([f for col in futures for f in col])
    holders = client.who_has(futures[0])
    workers = running_workers(client) if workers is None else workers
    held_by = [(holders.get(f.key) or [None])[0] for f in futures[0]]
    assignment = balance_blocks(row_chunks, held_by, workers)
    offsets = np.cumsum((0,) + tuple(row_chunks[:-1]))
    grouped = {w: [(futures[0][i], futures[1][i], futures[2][i] if len(futures) > 2 else None, int(offsets[i]))
                   for i in idx] for w, idx in assignment.items() if idx}
    rows = {w: int(sum(row_chunks[i] for i in idx)) for w, idx in assignment.items() if idx}
    return grouped, rows


def place_columns(client, X, y, weight=None):
    """Feature-parallel placement: every worker gets every row block, sliced to its own columns.

    Returns (assignment, owners): assignment maps worker -> list of (X column slice, y, weight,
    first row's global index) in row order; owners lists each worker's sorted global feature indices.
    """
    row_chunks, blocks = aligned_blocks(X, y, weight)
    offsets = np.cumsum((0,) + tuple(row_chunks[:-1]))
    futures = [client.compute(col) for col in blocks]
    wait([f for col in futures for f in col])
    workers = running_workers(client)
    n_features = int(X.shape[1])
    owners = [cols for cols in np.array_split(np.arange(n_features), min(len(workers), n_features))]
    assignment = {}
    for w, cols in zip(workers, owners):
        slices = [client.submit(np.take, xb, cols, axis=1, workers=[w], pure=False) for xb in futures[0]]
        assignment[w] = [(xs, futures[1][i], futures[2][i] if len(futures) > 2 else None, int(offsets[i]))
                         for i, xs in enumerate(slices)]
    return assignment, owners


def balance_blocks(block_rows, held_by, workers):
    """Assign blocks to workers so each gets about total / len(workers) rows, moving as few as possible.

    Blocks stay on their holder while it is below that target; the rest go, largest first, to the
    worker with the fewest rows. Returns {worker: [block indices]}.
    """
    target = sum(block_rows) / len(workers)
    load = {w: 0 for w in workers}
    assignment = {w: [] for w in workers}
    movers = []
    for i in sorted(range(len(block_rows)), key=lambda i: -block_rows[i]):
        holder = held_by[i]
        if holder in load and (load[holder] == 0 or load[holder] + block_rows[i] <= target * 1.05 + 1):
            assignment[holder].append(i)
            load[holder] += block_rows[i]
        else:
            movers.append(i)
    for i in movers:
        w = min(workers, key=lambda w: load[w])
        assignment[w].append(i)
        load[w] += block_rows[i]
    return {w: sorted(idx) for w, idx in assignment.items()}
