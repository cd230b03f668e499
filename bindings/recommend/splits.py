"""Per-user leave-last-out splits of a (user, item, value) table, as row-index arrays.

K-fold splits of the rows are ``bindings.cv.make_folds``, the splitter of every topic. The same index
arrays can be given to every model (ours, Surprise, implicit), so comparisons are on identical data.
"""
import numpy as np

from bindings.validation import as_vector, check_positive_int

__all__ = ["leave_last_out"]


def leave_last_out(users, timestamps=None, *, n_last=1, random_state=None):
    """Hold out each user's ``n_last`` latest rows (random rows if ``timestamps`` is None).

    Users with ``n_last`` rows or fewer stay wholly in train. Ties in time: the later row of the
    table counts as later. Returns (train_idx, test_idx), sorted int64 row indices.
    """
    users = as_vector(users, "users")
    n = users.shape[0]
    n_last = check_positive_int(n_last, "n_last")
    if timestamps is None:
        key = np.random.default_rng(random_state).random(n)
    else:
        key = as_vector(timestamps, "timestamps", n_rows=n)
    _, user_codes = np.unique(users, return_inverse=True)
    order = np.lexsort((np.arange(n), key, user_codes))  # by user, then time, then row
    sorted_users = user_codes[order]
    counts = np.bincount(sorted_users)
    ends = np.cumsum(counts)
    rank_from_end = ends[sorted_users] - np.arange(n)  # 1 for each user's latest row
    held = (rank_from_end <= n_last) & (counts[sorted_users] > n_last)
    return np.sort(order[~held]), np.sort(order[held])
