"""SGD epochs: biased MF and the SGD baseline replay Surprise update for update; BPR against a
numpy twin on the same sampled triples."""
import numpy as np
import pandas as pd
import scipy.sparse as sp
from surprise import SVD, BaselineOnly, Dataset, Reader

from gbdt.kernels.recommend.sgd import biased_mf_sgd_epoch, bpr_sgd_epoch


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


def bpr_twin(triples, positives, lr, reg, p, q, b):
    losses, skipped = [], 0
    for u, i, j in triples:
        if j in positives[u]:
            skipped += 1
            continue
        x = b[i] - b[j] + p[u] @ (q[i] - q[j])
        losses.append(np.log1p(np.exp(-x)))
        z = 1.0 / (1.0 + np.exp(x))
        b[i] += lr * (z - reg * b[i])
        b[j] += lr * (-z - reg * b[j])
        pu = p[u].copy()
        p[u] += lr * (z * (q[i] - q[j]) - reg * pu)
        qi = q[i].copy()
        q[i] += lr * (z * pu - reg * qi)
        q[j] += lr * (-z * pu - reg * q[j])
    return np.mean(losses), skipped


def test_bpr_epoch_matches_numpy_twin():
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
                                  0.01, p, q, b)
    loss2, skipped2 = bpr_twin(triples, positives, 0.1, 0.01, p2, q2, b2)
    assert skipped == skipped2 > 0
    np.testing.assert_allclose(loss, loss2, rtol=1e-12)
    for ours, theirs in [(p, p2), (q, q2), (b, b2)]:
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
