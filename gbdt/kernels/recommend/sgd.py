"""Stochastic gradient epochs for biased matrix factorization (explicit) and BPR (implicit).

Both run sequentially in the given order, so a run is reproducible and matches Surprise's SVD /
BaselineOnly(sgd) update for update; ALS (als.py) is the parallel solver.
"""

from gbdt._jit import jit
from gbdt.kernels.math import log1pexp, sigmoid


@jit
def biased_mf_sgd_epoch(users, items, ratings, order, global_mean, user_bias, item_bias,
                        user_factors, item_factors, learning_rate, reg):
    """One SGD pass of  r ~ mu + b_u + b_i + p_u . q_i  over ``order``; returns the SSE.

    users, items : (n,) int, ratings : (n,) float64, order : (m,) int indices into them.
    user_bias (n_users,), item_bias (n_items,), user_factors (n_users, f),
    item_factors (n_items, f): float64, updated in place; f may be 0 (the SGD baseline).
    learning_rate, reg : (4,) float64 for (user bias, item bias, user factors, item factors).
    The squared errors are taken before each update (Surprise's order of operations).
    """
    n_factors = user_factors.shape[1]
    sse = 0.0
    for t in range(order.shape[0]):
        idx = order[t]
        u = users[idx]
        i = items[idx]
        dot = 0.0
        for f in range(n_factors):
            dot += item_factors[i, f] * user_factors[u, f]
        err = ratings[idx] - (global_mean + user_bias[u] + item_bias[i] + dot)
        sse += err * err
        user_bias[u] += learning_rate[0] * (err - reg[0] * user_bias[u])
        item_bias[i] += learning_rate[1] * (err - reg[1] * item_bias[i])
        for f in range(n_factors):
            puf = user_factors[u, f]
            qif = item_factors[i, f]
            user_factors[u, f] += learning_rate[2] * (err * qif - reg[2] * puf)
            item_factors[i, f] += learning_rate[3] * (err * puf - reg[3] * qif)
    return sse


@jit
def _row_contains(indptr, indices, row, col):
    """Whether sorted CSR row ``row`` stores column ``col`` (binary search)."""
    lo = indptr[row]
    hi = indptr[row + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if indices[mid] < col:
            lo = mid + 1
        else:
            hi = mid
    return lo < indptr[row + 1] and indices[lo] == col


@jit
def bpr_sgd_epoch(sample_users, sample_pos, sample_neg, indptr, indices, learning_rate, reg,
                  user_factors, item_factors, item_bias):
    """One BPR pass over pre-drawn triples (u, i, j); returns (mean -log sigmoid(x_uij), n skipped).

    x_uij = p_u . (q_i - q_j) + b_i - b_j. A triple whose negative ``j`` is a positive of ``u`` in
    the sorted CSR (indptr, indices) is skipped. Factors (n, f) and item_bias (n_items,) float64
    are updated in place by gradient ascent on log sigmoid(x_uij) with L2 penalty ``reg``.
    """
    n_factors = user_factors.shape[1]
    loss = 0.0
    skipped = 0
    for t in range(sample_users.shape[0]):
        u = sample_users[t]
        i = sample_pos[t]
        j = sample_neg[t]
        if _row_contains(indptr, indices, u, j):
            skipped += 1
            continue
        x = item_bias[i] - item_bias[j]
        for f in range(n_factors):
            x += user_factors[u, f] * (item_factors[i, f] - item_factors[j, f])
        loss += log1pexp(-x)
        z = sigmoid(-x)  # d log sigmoid(x) / dx
        item_bias[i] += learning_rate * (z - reg * item_bias[i])
        item_bias[j] += learning_rate * (-z - reg * item_bias[j])
        for f in range(n_factors):
            puf = user_factors[u, f]
            qif = item_factors[i, f]
            qjf = item_factors[j, f]
            user_factors[u, f] += learning_rate * (z * (qif - qjf) - reg * puf)
            item_factors[i, f] += learning_rate * (z * puf - reg * qif)
            item_factors[j, f] += learning_rate * (-z * puf - reg * qjf)
    n_used = sample_users.shape[0] - skipped
    return loss / max(n_used, 1), skipped
