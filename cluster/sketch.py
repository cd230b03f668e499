"""Global bin edges from per-worker row samples (a mergeable, weighted sketch).

Whether a row is in the sample depends only on its global row index and the seed (a 64-bit hash
compared with the sampling rate), never on which worker holds it or how the rows are chunked, so
every placement of the same data yields the same sample and the same edges. Each worker sends
the global indices (and weights) of its sampled rows; the leader then asks for the sampled values
a few columns at a time (``SKETCH_REQUEST_BYTES`` over all workers) and computes those columns'
edges from the union, ordered by index, with the same weighted quantile computation as
single-machine training. So the leader holds a few columns of the sample at once instead of all
of it (a 2-worker fit of 300k x 28 rows peaked at +103 MiB per worker when every shard sent its
whole sample; bounded columns also keep a wide data set's sketch from growing with its width).
When the data has at most ``sketch_rows`` rows every row is sampled and the edges equal the
single-machine edges. Otherwise the sample is a Bernoulli sample of about ``sketch_rows`` rows
and the rank error of each edge is that of a uniform sample: about ``sqrt(q (1 - q) /
sketch_rows)`` (< 0.0012 for 200k rows), independent of the data size.

Blocks of scipy.sparse CSR rows send their sampled rows' stored entries of the requested columns
(a CSR matrix, never densified), and the leader computes those columns' edges with
``bindings.sparse_input.sparse_bin_edges``, where the implicit zeros count as values: the same
edges as the dense twin's, hence as a local fit on the same CSR matrix.

``tree_method='approx'`` sketches before every tree, weighted by that tree's hessians
(``HessianSketch``): the sampled rows are the same for every tree, so their values are gathered
once and only the hessians travel per tree.
"""
import numpy as np

from bindings.row_sampling import hashed_row_mask
from bindings.sparse_input import canonical_csr, is_sparse, sparse_bin_edges
from gbdt.binning import DEFAULT_SKETCH_ROWS, compute_bin_edges, presorted_bin_edges
from gbdt.exact import ColumnBlocks

SKETCH_REQUEST_BYTES = 8 << 20  # sampled values the leader asks for at once, over all workers


def sampling_rate(total_rows, sketch_rows=DEFAULT_SKETCH_ROWS):
    """Fraction of rows each worker samples: 1 when every row fits in the sketch."""
    return min(1.0, sketch_rows / max(total_rows, 1))


class RowSample:
    """The sampled rows of one worker's blocks.

    blocks : list of (n_i, F) arrays (or unread blocks with ``shape`` and ``features(columns)``) whose first rows have global indices ``offsets``; weight :
    (sum n_i,) or None. ``ids`` (k,) int64 global indices, ``positions`` (k,) int64 row numbers in
    the concatenated blocks and ``weight`` (k,) or None of the sampled rows, in block order.
    """

    def __init__(self, blocks, offsets, weight, rate, seed):
        self.keep = [np.flatnonzero(hashed_row_mask(np.arange(offset, offset + block.shape[0]), rate, seed))
                     for block, offset in zip(blocks, offsets)]
        firsts = np.cumsum([0] + [block.shape[0] for block in blocks])
        self.ids = np.concatenate([keep + offset for keep, offset in zip(self.keep, offsets)] +
                                  [np.empty(0, dtype=np.int64)])
        self.positions = np.concatenate([keep + first for keep, first in zip(self.keep, firsts)] +
                                        [np.empty(0, dtype=np.int64)])
        self.weight = None if weight is None else weight[self.positions]

    def columns(self, blocks, features=None):
        """(len(features), k) float64: the sampled values of ``features`` (None: every column of the
        blocks), one row per feature. Blocks not
        in memory (Parquet row groups) read just these columns now (columnar files read them alone), so
        the sample is never held whole: over all requests that is one pass over the data. Blocks of
        CSR rows give the (k, len(features)) CSR matrix of the sampled rows instead."""
        if features is None:
            features = np.arange(blocks[0].shape[1] if blocks else 0)
        if blocks and is_sparse(blocks[0]):
            import scipy.sparse

            return scipy.sparse.vstack([block[keep][:, features] for block, keep in zip(blocks, self.keep)],
                                       format="csr")
        out = np.empty((len(features), self.ids.shape[0]))
        at = 0
        for block, keep in zip(blocks, self.keep):
            if hasattr(block, "features"):
                out[:, at:at + keep.shape[0]] = block.features(features)[keep].T
            else:
                for j, f in enumerate(features):
                    out[j, at:at + keep.shape[0]] = block[keep, f]
            at += keep.shape[0]
        return out


def merge_samples(samples, columns, n_features, max_bin, seed, request_bytes=SKETCH_REQUEST_BYTES, stored=None):
    """Edges (F, max_bin - 1) and counts (F,) of every worker's samples.

    samples : per worker (ids, weight or None) of its ``RowSample``; columns(features) : per
    worker, in the same order, its ``RowSample.columns`` of the (sorted) ``features``.
    stored : None for dense blocks; for CSR blocks, about how many entries the samples store
    (their columns come as CSR matrices; requests are sized by it).
    Weighted rows are put in global row order first: the weights of equal values are summed in
    that order, the same for every placement. Unweighted edges depend only on the values, so the
    rows stay as they came (ordering 200k x 28 rows cost ~50 ms of a ~0.2 s merge).
    """
    total = sum(ids.shape[0] for ids, _ in samples)
    weighted = any(w is not None for _, w in samples)
    if weighted:
        order = np.argsort(np.concatenate([ids for ids, _ in samples]), kind="stable")
        weight = np.concatenate([np.ones(ids.shape[0]) if w is None else w for ids, w in samples])[order]
    bytes_per_feature = 8 * total if stored is None else 12 * stored / max(n_features, 1)  # float64 + int32 index
    per_request = max(1, int(request_bytes // max(bytes_per_feature, 1)))
    edges = np.full((n_features, max_bin - 1), np.inf)
    n_edges = np.zeros(n_features, dtype=np.int32)
    for first in range(0, n_features, per_request):
        features = np.arange(first, min(first + per_request, n_features))
        if stored is not None:
            edges[features], n_edges[features] = _sparse_edges(columns(features), order if weighted else None,
                                                               max_bin, weight if weighted else None, seed)
            continue
        values = np.concatenate(columns(features), axis=1)
        if weighted:
            values = values[:, order]
        # values.T: one contiguous column per feature, as compute_bin_edges reads them
        edges[features], n_edges[features] = compute_bin_edges(values.T, max_bin, weight if weighted else None,
                                                               sketch_rows=max(total, 1), seed=seed)
    return edges, n_edges


def _sparse_edges(parts, order, max_bin, weight, seed):
    """Edges and counts of the columns of the workers' sampled CSR rows ``parts`` (k_i, m), rows
    put in ``order`` first when given (weighted), every row sampled already."""
    import scipy.sparse

    values = scipy.sparse.vstack(parts, format="csr")
    values = canonical_csr(values if order is None else values[order])
    return sparse_bin_edges(values, max_bin, weight, seed=seed, sketch_rows=max(values.shape[0], 1))


class HessianSketch:
    """The leader's per-tree sketch of ``tree_method='approx'`` (XGBoost's approx, distributed).

    The sampled rows (``RowSample``: the same rows for every tree) are gathered once, as the (k, F)
    float64 matrix ``values`` in global row order, and sorted once per column
    (``gbdt.exact.ColumnBlocks``, as local ``ApproxRows`` sorts its rows). Before each tree the
    shards send only their sampled rows' hessians of that tree's output (4 bytes a sampled row,
    float32 as computed), and ``edges`` cuts every column at its hessian-weighted quantiles with
    the local kernel (``presorted_bin_edges``): with every row sampled (at most ``sketch_rows``)
    the edges are bit for bit the local fit's. The leader keeps 16 bytes per sampled value (the
    values and the sorted column blocks; 90 MB for 200k x 28), so the per-tree traffic does not
    grow with the number of features.

    ids : (k,) int64 global indices of the rows of ``values``, in the order the shards' hessians
    come in (by rank, each shard's in block order); values : (k, F) float64 sampled values in that
    same order.
    """

    def __init__(self, ids, values):
        self.order = np.argsort(ids, kind="stable")
        self.values = np.ascontiguousarray(values[self.order])
        self.blocks = ColumnBlocks.from_dense(self.values)

    def edges(self, hessians, max_bin):
        """Edges (F, max_bin - 1) and counts (F,) at the quantiles weighted by ``hessians``, the
        shards' sampled hessians by rank (concatenated, they follow ``ids``)."""
        weight = np.concatenate(hessians)[self.order].astype(np.float64)
        return presorted_bin_edges(self.values, self.blocks.col_ptr, self.blocks.col_row, max_bin, weight)


def sampled_values(samples, columns, n_features, request_bytes=SKETCH_REQUEST_BYTES):
    """(k, F) float64 sampled values of every feature, the workers' rows stacked by rank (the order of
    their ``samples``' ids); ``columns(features)`` as ``merge_samples``', asked ``request_bytes``
    at a time over all workers."""
    total = sum(ids.shape[0] for ids, _ in samples)
    out = np.empty((total, n_features))
    per_request = max(1, int(request_bytes // max(8 * total, 1)))
    for first in range(0, n_features, per_request):
        features = np.arange(first, min(first + per_request, n_features))
        out[:, features] = np.concatenate(columns(features), axis=1).T
    return out
