"""Reproducible evaluation splits over a (user, item, value) table, as row-index arrays.

The same index arrays can be given to every model (ours, Surprise, implicit), so comparisons are
on identical data.
"""
import numpy as np

from bindings.recommend.interactions import as_1d

__all__ = ["kfold_indices", "leave_last_out"]


def kfold_indices(n_rows, n_splits=5, *, random_state=None):
    """Shuffle rows 0..n_rows-1 once and cut them into ``n_splits`` test folds.

    Returns a list of ``n_splits`` (train_idx, test_idx) int64 arrays; every row is in exactly
    one test fold.
    """
    if not isinstance(n_splits, (int, np.integer)) or not 2 <= n_splits <= n_rows:
        raise ValueError(f"n_splits must be an int in [2, n_rows={n_rows}]; got {n_splits!r}")
    perm = np.random.default_rng(random_state).permutation(n_rows)
    folds = np.array_split(perm, n_splits)
    return [(np.sort(np.concatenate(folds[:f] + folds[f + 1:])), np.sort(folds[f]))
            for f in range(n_splits)]


def leave_last_out(users, timestamps=None, *, n_last=1, random_state=None):
    """Hold out each user's ``n_last`` latest rows (random rows if ``timestamps`` is None).

    Users with ``n_last`` rows or fewer stay wholly in train. Ties in time: the later row of the
    table counts as later. Returns (train_idx, test_idx), sorted int64 row indices.
    """
    users = as_1d(users, "users")
    n = users.shape[0]
    if not isinstance(n_last, (int, np.integer)) or n_last < 1:
        raise ValueError(f"n_last must be a positive int; got {n_last!r}")
    if timestamps is None:
        key = np.random.default_rng(random_state).random(n)
    else:
        key = as_1d(timestamps, "timestamps")
        if key.shape[0] != n:
            raise ValueError(f"timestamps must have one entry per row ({n}); got {key.shape[0]}")
    _, user_codes = np.unique(users, return_inverse=True)
    order = np.lexsort((np.arange(n), key, user_codes))  # by user, then time, then row
    sorted_users = user_codes[order]
    counts = np.bincount(sorted_users)
    ends = np.cumsum(counts)
    rank_from_end = ends[sorted_users] - np.arange(n)  # 1 for each user's latest row
    held = (rank_from_end <= n_last) & (counts[sorted_users] > n_last)
    return np.sort(order[~held]), np.sort(order[held])
