"""Row sampling by a hash of each row's global index: the same rows wherever they are stored.

A row is kept when a 64-bit hash (splitmix64) of its global index and the seeds, scaled to
[0, 1), is below the sampling rate: a Bernoulli sample (as XGBoost's ``subsample``) whose
decision for a row does not depend on which worker holds it, how the rows are chunked, or how
many there are. The Dask sketch samples rows for the bin edges this way, and every boosting round
samples its rows this way, locally and on Dask workers alike, so a distributed fit with
``subsample < 1`` equals the single-machine fit on the same rows.
"""
import numpy as np

__all__ = ["hashed_row_mask", "round_sample"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def hashed_row_mask(row_ids, rate, *seeds):
    """(n,) bool: whether a sample at ``rate`` keeps the rows with global indices ``row_ids`` (n,) int.

    Each seed (an int >= 0) is mixed in turn into the row index with splitmix64.
    """
    if rate >= 1.0:
        return np.ones(row_ids.shape[0], dtype=bool)
    z = row_ids.astype(np.uint64)
    with np.errstate(over="ignore"):
        for seed in seeds:
            z = z + _GOLDEN * np.uint64(seed + 1)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) < rate * 2.0 ** 53


def round_sample(row_ids, fraction, seed, round_index):
    """Sorted int32 positions (into ``row_ids``) of the rows boosting round ``round_index`` trains on."""
    if fraction >= 1.0:
        return np.arange(row_ids.shape[0], dtype=np.int32)
    return np.flatnonzero(hashed_row_mask(row_ids, fraction, seed, round_index)).astype(np.int32)
