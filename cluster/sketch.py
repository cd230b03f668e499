"""Global bin edges from per-worker row samples (a mergeable, weighted sketch).

Whether a row is in the sample depends only on its global row index and the seed (a 64-bit hash
compared with the sampling rate), never on which worker holds it or how the rows are chunked, so
every placement of the same data yields the same sample and the same edges. Each worker sends
its sampled rows with their global indices; the union, ordered by index, goes through the same
weighted quantile computation as single-machine training. When the data has at most
``sketch_rows`` rows every row is sent and the edges equal the single-machine edges. Otherwise
the sample is a Bernoulli sample of about ``sketch_rows`` rows and the rank error of each edge
is that of a uniform sample: about ``sqrt(q (1 - q) / sketch_rows)`` (< 0.0012 for 200k rows),
independent of the data size.
"""
import numpy as np

from bindings.row_sampling import hashed_row_mask
from gbdt.binning import DEFAULT_SKETCH_ROWS, compute_bin_edges

def sampling_rate(total_rows, sketch_rows=DEFAULT_SKETCH_ROWS):
    """Fraction of rows each worker samples: 1 when every row fits in the sketch."""
    return min(1.0, sketch_rows / max(total_rows, 1))


def local_sample(blocks, offsets, weight, rate, seed):
    """(global row indices, X rows, weights or None) of the sampled rows of ``blocks``, a list of
    (n_i, F) arrays whose first rows have global indices ``offsets``; ``weight`` covers all rows."""
    ids, rows, positions = [], [], []
    start = 0
    for block, offset in zip(blocks, offsets):
        keep = np.flatnonzero(hashed_row_mask(np.arange(offset, offset + block.shape[0]), rate, seed))
        ids.append(keep + offset)
        rows.append(block[keep])
        positions.append(keep + start)
        start += block.shape[0]
    kept = np.concatenate(positions)
    return np.concatenate(ids), np.concatenate(rows), None if weight is None else weight[kept]


def merge_samples(samples, max_bin, seed):
    """Edges (F, max_bin - 1) and counts (F,) from a list of (row indices, X sample, weights or None).

    Weighted rows are put in global row order first: the weights of equal values are summed in
    that order, the same for every placement. Unweighted edges depend only on the values, so the
    rows stay as they came (ordering 200k x 28 rows cost ~50 ms of a ~0.2 s merge)."""
    X = np.concatenate([s[1] for s in samples])
    weights = [s[2] for s in samples]
    if all(w is None for w in weights):
        return compute_bin_edges(X, max_bin, None, sketch_rows=max(X.shape[0], 1), seed=seed)
    order = np.argsort(np.concatenate([s[0] for s in samples]), kind="stable")
    weight = np.concatenate([np.ones(s[1].shape[0]) if w is None else w for s, w in zip(samples, weights)])
    return compute_bin_edges(X[order], max_bin, weight[order], sketch_rows=max(X.shape[0], 1), seed=seed)
