"""SGD epochs: biased MF, SVD++ and the SGD baseline replay Surprise update for update; BPR against
a numpy twin on the same sampled triples. All on one thread (the kernels' serial compilation):
on several they update Hogwild-style and are not reproducible."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from surprise import SVD, BaselineOnly, Dataset, Reader, SVDpp

from gbdt.kernels.recommend.sgd import (UPDATE_ALL, UPDATE_NEGATIVES, UPDATE_POSITIVES,
                                         UPDATE_USERS, biased_mf_sgd_epoch, bpr_sgd_epoch,
                                         hybrid_bpr_epoch, svdpp_sgd_epoch)
from gbdt.threads import using_threads


@pytest.fixture(autouse=True)
def one_thread():
    with using_threads(1):
        yield


def surprise_trainset():
    rng = np.random.default_rng(3)
    users, items = np.nonzero(rng.random((40, 30)) < 0.3)
    frame = pd.DataFrame({"u": users, "i": items, "r": rng.integers(1, 6, users.size) * 1.0})
    return Dataset.load_from_df(frame, Reader(rating_scale=(1, 5))).build_full_trainset()


def test_biased_mf_epochs_replay_surprise_svd():
    ts = surprise_trainset()
    svd = SVD(n_factors=6, n_epochs=4, lr_bu=0.01, lr_qi=0.007, reg_bi=0.05, reg_pu=0.03,
              random_state=11).fit(ts)
    u, i, r = np.array(list(ts.all_ratings())).T
    init = np.random.RandomState(11)  # Surprise's get_rng(int) and draw order
    pu = init.normal(0, 0.1, (ts.n_users, 6))
    qi = init.normal(0, 0.1, (ts.n_items, 6))
    bu, bi = np.zeros(ts.n_users), np.zeros(ts.n_items)
    lr = np.array([0.01, 0.005, 0.005, 0.007])
    reg = np.array([0.02, 0.05, 0.03, 0.02])
    order = np.arange(r.size)
    for _ in range(4):
        biased_mf_sgd_epoch(u.astype(np.int64), i.astype(np.int32), r, order, ts.global_mean,
                            bu, bi, pu, qi, lr, reg)
    for ours, theirs in [(bu, svd.bu), (bi, svd.bi), (pu, svd.pu), (qi, svd.qi)]:
        np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-13)


def test_svdpp_epochs_replay_surprise_svdpp():
    ts = surprise_trainset()
    lr = np.array([0.01, 0.005, 0.007, 0.006, 0.004])
    reg = np.array([0.02, 0.05, 0.03, 0.02, 0.04])
    names = ("bu", "bi", "pu", "qi", "yj")
    algo = SVDpp(n_factors=5, n_epochs=3, random_state=11,
                 **{f"lr_{n}": v for n, v in zip(names, lr)},
                 **{f"reg_{n}": v for n, v in zip(names, reg)}).fit(ts)
    u, i, r = np.array(list(ts.all_ratings())).T
    # N(u) in Surprise's order (ts.ur), the order its implicit sum runs in
    indptr = np.r_[0, np.cumsum([len(ts.ur[k]) for k in range(ts.n_users)])].astype(np.int64)
    indices = np.array([j for k in range(ts.n_users) for j, _ in ts.ur[k]], dtype=np.int32)
    init = np.random.RandomState(11)
    pu, qi, yj = (init.normal(0, 0.1, (n, 5)) for n in (ts.n_users, ts.n_items, ts.n_items))
    bu, bi = np.zeros(ts.n_users), np.zeros(ts.n_items)
    for _ in range(3):
        svdpp_sgd_epoch(indptr, indices, u.astype(np.int64), i.astype(np.int32), r,
                        np.arange(r.size), ts.global_mean, bu, bi, pu, qi, yj, lr, reg)
    for ours, theirs in [(bu, algo.bu), (bi, algo.bi), (pu, algo.pu), (qi, algo.qi),
                         (yj, algo.yj)]:
        np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-13)


def test_zero_factor_epochs_replay_surprise_sgd_baseline():
    ts = surprise_trainset()
    algo = BaselineOnly(bsl_options={"method": "sgd", "n_epochs": 7, "reg": 0.05,
                                     "learning_rate": 0.01}, verbose=False).fit(ts)
    u, i, r = np.array(list(ts.all_ratings())).T
    bu, bi = np.zeros(ts.n_users), np.zeros(ts.n_items)
    lr = np.array([0.01, 0.01, 0.0, 0.0])
    reg = np.array([0.05, 0.05, 0.0, 0.0])
    for _ in range(7):
        biased_mf_sgd_epoch(u.astype(np.int64), i.astype(np.int32), r, np.arange(r.size),
                            ts.global_mean, bu, bi, np.zeros((ts.n_users, 0)),
                            np.zeros((ts.n_items, 0)), lr, reg)
    np.testing.assert_allclose(bu, algo.bu, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(bi, algo.bi, rtol=1e-12, atol=1e-14)


def bpr_twin(triples, positives, lr, reg, p, q, b, update=UPDATE_ALL):
    losses, skipped = [], 0
    for u, i, j in triples:
        if j in positives[u]:
            skipped += 1
            continue
        x = b[i] - b[j] + p[u] @ (q[i] - q[j])
        losses.append(np.log1p(np.exp(-x)))
        z = 1.0 / (1.0 + np.exp(x))
        pu, qi, qj = p[u].copy(), q[i].copy(), q[j].copy()
        if update & UPDATE_USERS:
            p[u] += lr * (z * (qi - qj) - reg * pu)
        if update & UPDATE_POSITIVES:
            b[i] += lr * (z - reg * b[i])
            q[i] += lr * (z * pu - reg * qi)
        if update & UPDATE_NEGATIVES:
            b[j] += lr * (-z - reg * b[j])
            q[j] += lr * (-z * pu - reg * qj)
    return np.mean(losses), skipped


@pytest.mark.parametrize("update", [UPDATE_ALL, UPDATE_USERS, UPDATE_POSITIVES])
def test_bpr_epoch_matches_numpy_twin(update):
    rng = np.random.default_rng(5)
    csr = sp.csr_matrix(rng.random((20, 12)) < 0.3)
    positives = [set(csr.indices[csr.indptr[u]:csr.indptr[u + 1]]) for u in range(20)]
    coo = csr.tocoo()
    pick = rng.integers(0, csr.nnz, 300)
    triples = np.stack([coo.row[pick], coo.col[pick], rng.integers(0, 12, 300)], axis=1)
    p, q, b = rng.normal(0, 0.1, (20, 4)), rng.normal(0, 0.1, (12, 4)), rng.normal(0, 0.1, 12)
    p2, q2, b2 = p.copy(), q.copy(), b.copy()
    loss, skipped = bpr_sgd_epoch(triples[:, 0].astype(np.int64), triples[:, 1].astype(np.int32),
                                  triples[:, 2].astype(np.int32), csr.indptr.astype(np.int64),
                                  csr.indices.astype(np.int32), 0.1,
                                  0.01, p, q, b, update)
    loss2, skipped2 = bpr_twin(triples, positives, 0.1, 0.01, p2, q2, b2, update)
    assert skipped == skipped2 > 0
    np.testing.assert_allclose(loss, loss2, rtol=1e-12)
    for ours, theirs in [(p, p2), (q, q2), (b, b2)]:
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def feature_csr(dense):
    m = sp.csr_matrix(dense)
    return m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data.astype(np.float64)


def test_hybrid_epoch_with_identity_features_is_the_bpr_epoch():
    rng = np.random.default_rng(6)
    csr = sp.csr_matrix(rng.random((15, 10)) < 0.3)
    coo = csr.tocoo()
    pick = rng.integers(0, csr.nnz, 200)
    triples = [coo.row[pick].astype(np.int64), coo.col[pick].astype(np.int32),
               rng.integers(0, 10, 200).astype(np.int32)]
    ptr, idx = csr.indptr.astype(np.int64), csr.indices.astype(np.int32)
    p, q, b = rng.normal(0, 0.1, (15, 3)), rng.normal(0, 0.1, (10, 3)), rng.normal(0, 0.1, 10)
    p2, q2, b2 = p.copy(), q.copy(), b.copy()
    expected = bpr_sgd_epoch(*triples, ptr, idx, 0.1, 0.02, p, q, b, UPDATE_ALL)
    got = hybrid_bpr_epoch(*triples, ptr, idx, feature_csr(np.eye(15)), feature_csr(np.eye(10)),
                           0.1, 0.02, p2, q2, b2)
    assert got == expected
    for ours, theirs in [(p2, p), (q2, q), (b2, b)]:
        np.testing.assert_array_equal(ours, theirs)


def hybrid_twin(triples, positives, users_f, items_f, lr, reg, e, h, c):
    """The hybrid pass with dense feature matrices: p = F_u E, q = G_i H, b = G_i c."""
    losses = []
    for u, i, j in triples:
        if j in positives[u]:
            continue
        p, qi, qj = users_f[u] @ e, items_f[i] @ h, items_f[j] @ h
        x = items_f[i] @ c - items_f[j] @ c + p @ (qi - qj)
        losses.append(np.log1p(np.exp(-x)))
        z = 1.0 / (1.0 + np.exp(x))
        for k in np.flatnonzero(users_f[u]):
            e[k] += lr * (z * users_f[u, k] * (qi - qj) - reg * e[k])
        for row, sign in ((i, 1.0), (j, -1.0)):  # i's rows first, then j's, each as read
            for k in np.flatnonzero(items_f[row]):
                c[k] += lr * (sign * z * items_f[row, k] - reg * c[k])
                h[k] += lr * (sign * z * items_f[row, k] * p - reg * h[k])
    return np.mean(losses)


def test_hybrid_epoch_matches_numpy_twin_with_shared_features():
    rng = np.random.default_rng(8)
    csr = sp.csr_matrix(rng.random((12, 9)) < 0.35)
    positives = [set(csr.indices[csr.indptr[u]:csr.indptr[u + 1]]) for u in range(12)]
    coo = csr.tocoo()
    pick = rng.integers(0, csr.nnz, 150)
    triples = np.stack([coo.row[pick], coo.col[pick], rng.integers(0, 9, 150)], axis=1)
    # items share features (genres), weights not all 1, some rows empty
    users_f = np.where(rng.random((12, 4)) < 0.5, rng.uniform(0.5, 2, (12, 4)), 0.0)
    items_f = np.where(rng.random((9, 5)) < 0.5, rng.uniform(0.5, 2, (9, 5)), 0.0)
    e, h, c = rng.normal(0, 0.1, (4, 3)), rng.normal(0, 0.1, (5, 3)), rng.normal(0, 0.1, 5)
    e2, h2, c2 = e.copy(), h.copy(), c.copy()
    loss, _ = hybrid_bpr_epoch(triples[:, 0].astype(np.int64), triples[:, 1].astype(np.int32),
                               triples[:, 2].astype(np.int32), csr.indptr.astype(np.int64),
                               csr.indices.astype(np.int32), feature_csr(users_f),
                               feature_csr(items_f), 0.1, 0.01, e, h, c)
    expected = hybrid_twin(triples, positives, users_f, items_f, 0.1, 0.01, e2, h2, c2)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    for ours, theirs in [(e, e2), (h, h2), (c, c2)]:
        np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-14)
