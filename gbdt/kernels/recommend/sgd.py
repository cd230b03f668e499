"""Stochastic gradient epochs for biased matrix factorization and SVD++ (explicit), BPR and the
LightFM-style hybrid BPR over side features (implicit).

Hogwild (Recht et al. 2011): the samples of an epoch are cut into N_CHUNKS contiguous blocks
handed to threads, which update the shared parameters without locks. Two threads may then read
a row another is writing, so a run on several threads is not reproducible (and the result
depends on the thread count); on one thread (``gbdt.threads.using_threads(1)``, the kernels'
serial compilation) the blocks run in order, which is exactly the sequential pass: reproducible,
and update for update Surprise's SVD / SVDpp / BaselineOnly(sgd).
"""
import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.kernels.math import log1pexp, sigmoid
from gbdt.kernels.recommend.als import N_CHUNKS

# which parameters a BPR pass updates (a bit mask): all three to fit, one side to re-solve rows
UPDATE_USERS = 1
UPDATE_POSITIVES = 2
UPDATE_NEGATIVES = 4
UPDATE_ALL = UPDATE_USERS | UPDATE_POSITIVES | UPDATE_NEGATIVES


@jit(parallel=True)
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
    n = order.shape[0]
    n_chunks = min(n, N_CHUNKS)
    sse = 0.0
    for chunk in prange(n_chunks):
        chunk_sse = 0.0
        for t in range(chunk * n // n_chunks, (chunk + 1) * n // n_chunks):
            idx = order[t]
            u = users[idx]
            i = items[idx]
            dot = 0.0
            for f in range(n_factors):
                dot += item_factors[i, f] * user_factors[u, f]
            err = ratings[idx] - (global_mean + user_bias[u] + item_bias[i] + dot)
            chunk_sse += err * err
            user_bias[u] += learning_rate[0] * (err - reg[0] * user_bias[u])
            item_bias[i] += learning_rate[1] * (err - reg[1] * item_bias[i])
            for f in range(n_factors):
                puf = user_factors[u, f]
                qif = item_factors[i, f]
                user_factors[u, f] += learning_rate[2] * (err * qif - reg[2] * puf)
                item_factors[i, f] += learning_rate[3] * (err * puf - reg[3] * qif)
        sse += chunk_sse
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
def _bpr_block(start, stop, sample_users, sample_pos, sample_neg, indptr, indices,
               learning_rate, reg, user_factors, item_factors, item_bias, update):
    """Triples start..stop-1 of ``bpr_sgd_epoch``; returns (sum of -log sigmoid, n skipped)."""
    n_factors = user_factors.shape[1]
    move_user = (update & UPDATE_USERS) != 0
    move_pos = (update & UPDATE_POSITIVES) != 0
    move_neg = (update & UPDATE_NEGATIVES) != 0
    loss = 0.0
    skipped = 0
    for t in range(start, stop):
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
        if move_pos:
            item_bias[i] += learning_rate * (z - reg * item_bias[i])
        if move_neg:
            item_bias[j] += learning_rate * (-z - reg * item_bias[j])
        for f in range(n_factors):
            puf = user_factors[u, f]
            qif = item_factors[i, f]
            qjf = item_factors[j, f]
            if move_user:
                user_factors[u, f] += learning_rate * (z * (qif - qjf) - reg * puf)
            if move_pos:
                item_factors[i, f] += learning_rate * (z * puf - reg * qif)
            if move_neg:
                item_factors[j, f] += learning_rate * (-z * puf - reg * qjf)
    return loss, skipped


@jit(parallel=True)
def bpr_sgd_epoch(sample_users, sample_pos, sample_neg, indptr, indices, learning_rate, reg,
                  user_factors, item_factors, item_bias, update):
    """One BPR pass over pre-drawn triples (u, i, j); returns (mean -log sigmoid(x_uij), n skipped).

    x_uij = p_u . (q_i - q_j) + b_i - b_j. A triple whose negative ``j`` is a positive of ``u`` in
    the sorted CSR (indptr, indices) is skipped. Factors (n, f) and item_bias (n_items,) float64
    are updated in place by gradient ascent on log sigmoid(x_uij) with L2 penalty ``reg``;
    ``update`` (UPDATE_* bits) says which of p_u, (q_i, b_i), (q_j, b_j) move.
    """
    n = sample_users.shape[0]
    n_chunks = min(n, N_CHUNKS)
    loss = 0.0
    skipped = 0
    for chunk in prange(n_chunks):
        # the block is its own function: inlined here, the loop's conditional counters trip
        # parfor's reduction analysis ("unexpected cycle in lookup()", numba issue #10132)
        block_loss, block_skipped = _bpr_block(
            chunk * n // n_chunks, (chunk + 1) * n // n_chunks, sample_users, sample_pos,
            sample_neg, indptr, indices, learning_rate, reg, user_factors, item_factors,
            item_bias, update)
        loss += block_loss
        skipped += block_skipped
    return loss / max(n - skipped, 1), skipped


@jit(parallel=True)
def svdpp_sgd_epoch(indptr, indices, users, items, ratings, order, global_mean, user_bias,
                    item_bias, user_factors, item_factors, implicit_factors, learning_rate, reg):
    """One SGD pass of SVD++ over ``order`` in Surprise's SVDpp order of operations; the SSE.

    r ~ mu + b_u + b_i + q_i . (p_u + |N(u)|^-1/2 sum_{j in N(u)} y_j), N(u) = row u of the
    CSR (indptr, indices). users, items (n,) int, ratings (n,) float64, order (m,) int.
    Biases, factors (n_users, f), (n_items, f) and implicit_factors y (n_items, f) float64 are
    updated in place; learning_rate, reg : (5,) float64 for (b_u, b_i, p_u, q_i, y_j).
    Every rating moves the y_j of all the user's items, so a pass costs sum_u |N(u)|^2 f.
    """
    n_factors = user_factors.shape[1]
    n = order.shape[0]
    n_chunks = min(n, N_CHUNKS)
    sse = 0.0
    for chunk in prange(n_chunks):
        u_impl = np.empty(n_factors)
        scaled_err = np.empty(n_factors)
        chunk_sse = 0.0
        for t in range(chunk * n // n_chunks, (chunk + 1) * n // n_chunks):
            idx = order[t]
            u = users[idx]
            i = items[idx]
            start = indptr[u]
            stop = indptr[u + 1]
            sqrt_iu = np.sqrt(np.float64(stop - start))
            u_impl[:] = 0.0
            for p in range(start, stop):
                j = indices[p]
                for f in range(n_factors):
                    u_impl[f] += implicit_factors[j, f] / sqrt_iu
            dot = 0.0
            for f in range(n_factors):
                dot += item_factors[i, f] * (user_factors[u, f] + u_impl[f])
            err = ratings[idx] - (global_mean + user_bias[u] + item_bias[i] + dot)
            chunk_sse += err * err
            user_bias[u] += learning_rate[0] * (err - reg[0] * user_bias[u])
            item_bias[i] += learning_rate[1] * (err - reg[1] * item_bias[i])
            for f in range(n_factors):
                puf = user_factors[u, f]
                qif = item_factors[i, f]
                user_factors[u, f] += learning_rate[2] * (err * qif - reg[2] * puf)
                item_factors[i, f] += learning_rate[3] * (err * (puf + u_impl[f]) - reg[3] * qif)
                scaled_err[f] = err * qif / sqrt_iu
            # Surprise loops over f, then j; each y_jf update reads only y_jf and the old q_if,
            # so visiting rows j outermost gives the same numbers with contiguous access
            for p in range(start, stop):
                j = indices[p]
                for f in range(n_factors):
                    implicit_factors[j, f] += learning_rate[4] * (
                        scaled_err[f] - reg[4] * implicit_factors[j, f])
        sse += chunk_sse
    return sse


@jit
def _feature_sum(indptr, indices, values, row, embeddings, out):
    """out = sum_k values_k embeddings[k] over the features of CSR row ``row``."""
    out[:] = 0.0
    for p in range(indptr[row], indptr[row + 1]):
        k = indices[p]
        w = values[p]
        for f in range(out.shape[0]):
            out[f] += w * embeddings[k, f]


@jit
def _hybrid_block(start, stop, sample_users, sample_pos, sample_neg, indptr, indices,
                  user_features, item_features, learning_rate, reg, user_emb, item_emb,
                  item_feature_bias):
    """Triples start..stop-1 of ``hybrid_bpr_epoch``; returns (sum of -log sigmoid, skipped)."""
    uf_ptr, uf_idx, uf_val = user_features
    if_ptr, if_idx, if_val = item_features
    n_factors = user_emb.shape[1]
    p = np.empty(n_factors)
    qi = np.empty(n_factors)
    qj = np.empty(n_factors)
    loss = 0.0
    skipped = 0
    for t in range(start, stop):
        u = sample_users[t]
        i = sample_pos[t]
        j = sample_neg[t]
        if _row_contains(indptr, indices, u, j):
            skipped += 1
            continue
        _feature_sum(uf_ptr, uf_idx, uf_val, u, user_emb, p)
        _feature_sum(if_ptr, if_idx, if_val, i, item_emb, qi)
        _feature_sum(if_ptr, if_idx, if_val, j, item_emb, qj)
        x = 0.0
        for q in range(if_ptr[i], if_ptr[i + 1]):
            x += if_val[q] * item_feature_bias[if_idx[q]]
        for q in range(if_ptr[j], if_ptr[j + 1]):
            x -= if_val[q] * item_feature_bias[if_idx[q]]
        for f in range(n_factors):
            x += p[f] * (qi[f] - qj[f])
        loss += log1pexp(-x)
        z = sigmoid(-x)  # d log sigmoid(x) / dx
        # every feature embedding moves along d x / d embedding, from the values read above
        for q in range(uf_ptr[u], uf_ptr[u + 1]):
            k = uf_idx[q]
            zw = z * uf_val[q]
            for f in range(n_factors):
                user_emb[k, f] += learning_rate * (zw * (qi[f] - qj[f]) - reg * user_emb[k, f])
        for q in range(if_ptr[i], if_ptr[i + 1]):
            k = if_idx[q]
            zw = z * if_val[q]
            item_feature_bias[k] += learning_rate * (zw - reg * item_feature_bias[k])
            for f in range(n_factors):
                item_emb[k, f] += learning_rate * (zw * p[f] - reg * item_emb[k, f])
        for q in range(if_ptr[j], if_ptr[j + 1]):
            k = if_idx[q]
            zw = z * if_val[q]
            item_feature_bias[k] += learning_rate * (-zw - reg * item_feature_bias[k])
            for f in range(n_factors):
                item_emb[k, f] += learning_rate * (-zw * p[f] - reg * item_emb[k, f])
    return loss, skipped


@jit(parallel=True)
def hybrid_bpr_epoch(sample_users, sample_pos, sample_neg, indptr, indices, user_features,
                     item_features, learning_rate, reg, user_emb, item_emb, item_feature_bias):
    """One BPR pass of the LightFM-style hybrid over pre-drawn triples; (mean loss, skipped).

    A user is p_u = sum_k F_uk E_k, an item q_i = sum_k G_ik H_k with bias b_i = sum_k G_ik c_k,
    F and G given as CSR triples (indptr, indices, values) of (n_users, n_user_features) and
    (n_items, n_item_features). x_uij = p_u . (q_i - q_j) + b_i - b_j; triples whose negative is
    a positive of u in (indptr, indices) are skipped. The embeddings E (n_user_features, f),
    H (n_item_features, f) and c (n_item_features,) float64 move by gradient ascent on
    log sigmoid(x_uij) with L2 penalty ``reg`` on each touched row. With one identity feature
    per user and item this is ``bpr_sgd_epoch``.
    """
    n = sample_users.shape[0]
    n_chunks = min(n, N_CHUNKS)
    loss = 0.0
    skipped = 0
    for chunk in prange(n_chunks):
        block_loss, block_skipped = _hybrid_block(
            chunk * n // n_chunks, (chunk + 1) * n // n_chunks, sample_users, sample_pos,
            sample_neg, indptr, indices, user_features, item_features, learning_rate, reg,
            user_emb, item_emb, item_feature_bias)
        loss += block_loss
        skipped += block_skipped
    return loss / max(n - skipped, 1), skipped
