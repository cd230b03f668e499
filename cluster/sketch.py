"""Global bin edges from per-worker row samples (a mergeable, weighted sketch).

Each worker contributes a uniform sample of its rows, sized in proportion to its row count, so
the union is a uniform sample of at most ``sketch_rows`` rows of the whole data set; weighted
quantile edges are then computed from the union exactly as single-machine training does.
When the data has at most ``sketch_rows`` rows every row is sent and the edges equal the
single-machine edges. Otherwise the rank error of each edge is that of a uniform sample:
about ``sqrt(q (1 - q) / sketch_rows)`` (< 0.0012 for 200k rows), independent of the data size.
"""
import numpy as np

from gbdt.binning import DEFAULT_SKETCH_ROWS, compute_bin_edges


def sample_sizes(rows_per_shard, sketch_rows=DEFAULT_SKETCH_ROWS):
    """Rows each shard sends: all of them when the total fits, else a share proportional to its size."""
    rows = np.asarray(rows_per_shard, dtype=np.int64)
    total = rows.sum()
    if total <= sketch_rows:
        return rows
    return np.minimum(rows, np.round(rows * sketch_rows / total).astype(np.int64))


def local_sample(blocks, weight, n_sample, seed):
    """``n_sample`` rows (and their weights) drawn uniformly without replacement from the rows of
    ``blocks``, a list of (n_i, F) arrays taken in order; all rows when ``n_sample`` covers them."""
    n_rows = sum(b.shape[0] for b in blocks)
    if n_sample >= n_rows:
        return np.concatenate(blocks), weight
    rows = np.sort(np.random.default_rng(seed).choice(n_rows, n_sample, replace=False))
    starts = np.cumsum([0] + [b.shape[0] for b in blocks])
    owner = np.searchsorted(starts, rows, side="right") - 1
    sample = np.concatenate([blocks[i][rows[owner == i] - starts[i]] for i in range(len(blocks))])
    return sample, None if weight is None else weight[rows]


def merge_samples(samples, max_bin, seed):
    """Edges (F, max_bin - 1) and counts (F,) from a list of (X sample, weight sample or None)."""
    X = np.concatenate([s[0] for s in samples])
    weights = [s[1] for s in samples]
    weight = None if all(w is None for w in weights) else np.concatenate(
        [np.ones(s[0].shape[0]) if w is None else w for s, w in zip(samples, weights)])
    return compute_bin_edges(X, max_bin, weight, sketch_rows=max(X.shape[0], 1), seed=seed)
