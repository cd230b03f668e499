"""Data placement: align X, y and weight into row blocks, persist them, and assign blocks to workers.

Feature-parallel training (``place_columns``) instead gives every worker all rows of a contiguous
range of columns.

A fit uses only as many workers as keep ``min_rows`` rows each (``kept_workers``): every tree level
costs one round trip between shards (~2.5 ms here), which a worker repays only when its share of the
per-level work (histograms, row partition) is large enough; the model does not depend on placement.
Every kept worker holds one shard of whole row blocks. Blocks stay where Dask computed them while
that worker is below an equal share of the rows; the others (those of left-out workers included)
move to the least loaded kept workers (``balance_blocks``), so a skewed placement or an idle worker
is evened out before binning. Rows per worker are reported by the fit.
"""
import dask.array as da
from dask import delayed
import numpy as np
from distributed import wait
from distributed.client import FuturesCancelledError

from bindings.sparse_input import canonical_csr, is_sparse
from cluster.local import worker_info

# Rows x features a worker should hold before one more worker pays for its per-level round trip
# (~2.5 ms here, against the histogram and partition work it takes over). Measured on 2 workers x 1
# thread (2 cores), n x 28, depth 6, 50 trees: 2 workers lose to 1 below ~200k rows (150k: 2.38 vs
# 2.17 s), tie there and win above (250k: 3.03 vs 3.54 s); the crossover is ~100k x 28 = 2.8M cells
# a worker. The default ``min_rows`` is this over the number of features. (n x 8 ties at ~400k rows,
# 1.6M cells a worker: rows cost some work of their own, so narrow data stays on fewer workers a
# little longer than it must.)
MIN_CELLS_PER_WORKER = 3_000_000


def as_dask_array(data, name, row_chunks=None):
    """Dask array from a dask array/DataFrame/Series or an in-memory array (a scipy.sparse matrix:
    blocks of CSR rows)."""
    if hasattr(data, "to_dask_array"):  # dask DataFrame / Series
        data = data.to_dask_array(lengths=True)
    elif is_sparse(data):
        data = data.tocsr()
        rows = row_chunks or max(1, -(-data.shape[0] // 4))
        data = da.from_array(data, chunks=(rows, data.shape[1]) if data.ndim == 2 else rows, asarray=False)
    elif not isinstance(data, da.Array):
        arr = np.asarray(data)
        data = da.from_array(arr, chunks=row_chunks or max(1, -(-arr.shape[0] // 4)))
    if any(np.isnan(c) for dim in data.chunks for c in dim):
        raise ValueError(f"{name} has unknown chunk sizes; call compute_chunk_sizes() or pass lengths")
    return data


def aligned_blocks(X, y, weight=None):
    """Row blocks of X (n, F) with matching y (n,) and weight (n,) as lists of delayed objects."""
    X = as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got {X.ndim}-D")
    if X.shape[0] == 0:
        raise ValueError("X is empty: it has no rows")
    X = X.rechunk({1: -1})
    y = as_dask_array(y, "y", X.chunks[0]).reshape(-1) if y is not None else None
    if y is not None and y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    columns = [X.astype(np.float64)]
    for name, v in (("y", y), ("sample_weight", weight)):
        if v is None:
            continue
        v = as_dask_array(v, name, X.chunks[0]).reshape(-1)
        if v.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but {name} has {v.shape[0]}")
        columns.append(v.astype(np.float64).rechunk((X.chunks[0],)))
    blocks = [c.to_delayed().ravel().tolist() for c in columns]
    return X.chunks[0], blocks


def materialized(block):
    """A computed block as the shards take it: a numpy array, or canonical CSR for a scipy.sparse block
    (``bindings.sparse_input``: float64, sorted unique indices), never densified."""
    return canonical_csr(block) if is_sparse(block) else np.asarray(block)


def columns_of(block, columns):
    """The ``columns`` (sorted) of a numpy or CSR block, of the same kind."""
    return block[:, columns]


def running_workers(client):
    """Sorted addresses of the workers that accept work (paused or closing workers are left out)."""
    workers = sorted(w for w, info in worker_info(client).items()
                     if info.get("status", "running") == "running")
    if not workers:
        raise RuntimeError("the Dask cluster has no running workers (none, or all paused)")
    return workers


def default_min_rows(n_features, min_rows_per_worker=None):
    """``min_rows_per_worker``, or when None the default for ``n_features`` columns (at least 1)."""
    if min_rows_per_worker is None:
        return max(1, MIN_CELLS_PER_WORKER // max(1, n_features))
    if not isinstance(min_rows_per_worker, (int, np.integer)) or min_rows_per_worker < 1:
        raise ValueError(f"min_rows_per_worker must be a positive integer or None, got {min_rows_per_worker!r}")
    return int(min_rows_per_worker)


def kept_workers(block_rows, held_by, workers, min_rows):
    """The workers a fit uses: as many as keep at least ``min_rows`` rows each (at least one),
    those already holding the most rows first, ties by address; returned sorted by address.

    block_rows : rows of each block; held_by : each block's holder (or None); workers : candidates.
    """
    count = max(1, min(len(workers), sum(block_rows) // min_rows))
    held = dict.fromkeys(workers, 0)
    for rows, holder in zip(block_rows, held_by):
        if holder in held:
            held[holder] += rows
    return sorted(sorted(workers, key=lambda w: (-held[w], w))[:count])


def _persisted(client, X, y, weight):
    """(row chunks, [X, y(, weight)] block futures computed on the cluster, each block's holder)."""
    row_chunks, blocks = aligned_blocks(X, y, weight)
    # one graph for every column; each fit's blocks get keys of their own (pure=False): the previous fit
    # releases its futures as it ends, and computing the same tokenized keys again raced with that release
    # in the scheduler ("lost dependencies" on the second fit of the same data)
    computed = client.compute([delayed(materialized, pure=False)(b) for col in blocks for b in col])
    try:
        wait(computed)
    except FuturesCancelledError as exc:
        raise RuntimeError(
            "blocks of the training or evaluation data were cancelled or forgotten by the scheduler before the fit "
            f"could read them ({' '.join(str(exc).split())}). The fit only drops its own references; a known cause is Dask's "
            "client.scatter with hash=True (the default): scattering data identical to a block released just "
            "before can race with that release and lose the new block (it happens without any fit too). "
            "Scatter with hash=False, or keep the scattered futures while they may be scattered again") from exc
    futures = [computed[i:i + len(row_chunks)] for i in range(0, len(computed), len(row_chunks))]
    holders = client.who_has(futures[0])
    return row_chunks, futures, [(holders.get(f.key) or [None])[0] for f in futures[0]]


def place_blocks(client, X, y, weight=None, workers=None, min_rows=1):
    """Persist aligned blocks and group them by worker (``workers``: sorted addresses, by
    default every running worker; of those, only ``kept_workers(..., min_rows)`` get blocks).

    Returns (assignment, rows_per_worker): assignment maps worker address -> list of
    (X block, y block, weight block or None, global index of the block's first row) with futures
    for the blocks, in sorted address order.
    """
    row_chunks, futures, held_by = _persisted(client, X, y, weight)
    workers = kept_workers(row_chunks, held_by, running_workers(client) if workers is None else workers, min_rows)
    assignment = balance_blocks(row_chunks, held_by, workers)
    offsets = np.cumsum((0,) + tuple(row_chunks[:-1]))
    grouped = {w: [(futures[0][i], futures[1][i], futures[2][i] if len(futures) > 2 else None, int(offsets[i]))
                   for i in idx] for w, idx in assignment.items() if idx}
    rows = {w: int(sum(row_chunks[i] for i in idx)) for w, idx in assignment.items() if idx}
    return grouped, rows


def place_pieces(client, source, min_rows=1):
    """Streamed placement of a ``cluster.io.ParquetSource``: whole row groups to the kept workers, about
    equal rows each (largest first, to the least loaded; nothing is read here, the shards read them).

    Returns (assignment, rows_per_worker) as ``place_blocks``, with (piece, None, None, global index of
    the piece's first row) entries: the shards read labels and weights from the pieces themselves.
    """
    block_rows = [piece.shape[0] for piece in source.pieces]
    workers = kept_workers(block_rows, [None] * len(block_rows), running_workers(client), min_rows)
    assignment = balance_blocks(block_rows, [None] * len(block_rows), workers)
    offsets = np.cumsum([0] + block_rows[:-1])
    grouped = {w: [(source.pieces[i], None, None, int(offsets[i])) for i in idx] for w, idx in assignment.items() if idx}
    rows = {w: int(sum(block_rows[i] for i in idx)) for w, idx in assignment.items() if idx}
    return grouped, rows


def place_columns(client, X, y, weight=None, min_rows=1):
    """Feature-parallel placement: every kept worker gets every row block, sliced to its own columns.

    Workers are kept as in ``place_blocks`` (the same count: each still builds rows x features / W
    histogram cells per level), and at most one per column.

    Returns (assignment, owners, rows_per_worker): assignment maps worker -> list of (X column slice,
    y, weight, first row's global index) in row order; owners lists each worker's sorted global
    feature indices; every worker holds every row.
    """
    row_chunks, futures, held_by = _persisted(client, X, y, weight)
    offsets = np.cumsum((0,) + tuple(row_chunks[:-1]))
    workers = kept_workers(row_chunks, held_by, running_workers(client), min_rows)
    n_features = int(X.shape[1])
    owners = [cols for cols in np.array_split(np.arange(n_features), min(len(workers), n_features))]
    assignment = {}
    for w, cols in zip(workers, owners):
        slices = [client.submit(columns_of, xb, cols, workers=[w], pure=False) for xb in futures[0]]
        assignment[w] = [(xs, futures[1][i], futures[2][i] if len(futures) > 2 else None, int(offsets[i]))
                         for i, xs in enumerate(slices)]
    return assignment, owners, {w: int(sum(row_chunks)) for w in assignment}


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
