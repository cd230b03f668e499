"""Row sampling by a hash of each row's global index: the same rows wherever they are stored.

A row is kept when a 64-bit hash (splitmix64) of its global index and the seeds, scaled to
[0, 1), is below the sampling rate: a Bernoulli sample (as XGBoost's ``subsample``) whose
decision for a row does not depend on which worker holds it, how the rows are chunked, or how
many there are. The Dask sketch samples rows for the bin edges this way, and every boosting round
samples its rows this way, locally and on Dask workers alike, so a distributed fit with
``subsample < 1`` equals the single-machine fit on the same rows.
"""
import numpy as np

from gbdt.hashing import hashed_uniforms

__all__ = ["hashed_row_mask", "round_sample"]


def hashed_row_mask(row_ids, rate, *seeds):
    """(n,) bool: whether a sample at ``rate`` keeps the rows with global indices ``row_ids`` (n,) int.

    Each seed (an int >= 0) is mixed in turn into the row index (``gbdt.hashing.unit_uniform``).
    """
    if rate >= 1.0:
        return np.ones(row_ids.shape[0], dtype=bool)
    uniforms = np.empty(row_ids.shape[0])
    hashed_uniforms(np.asarray(row_ids, dtype=np.int64), tuple(int(s) for s in seeds), uniforms)
    return uniforms < rate


def round_sample(n_rows, row_ids, fraction, seed, round_index):
    """Sorted int32 positions (into the ``n_rows`` rows) of the rows boosting round ``round_index`` trains on.

    row_ids : a function returning the rows' (n_rows,) int global indices, called only when
    ``fraction`` < 1 (every row is kept otherwise, so the ids need not exist: 8 bytes a row saved).
    """
    if fraction >= 1.0:
        return np.arange(n_rows, dtype=np.int32)
    return np.flatnonzero(hashed_row_mask(row_ids(), fraction, seed, round_index)).astype(np.int32)
