"""CSR co-rated similarity kernel against Surprise's similarity functions on the same ratings."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from surprise import BaselineOnly, Dataset, Reader, similarities

from gbdt.kernels.recommend.similarity import KIND_BY_NAME, similarity_matrix


def surprise_trainset(seed, integer_ratings):
    rng = np.random.default_rng(seed)
    users, items = np.nonzero(rng.random((30, 22)) < 0.4)
    ratings = (rng.integers(1, 6, users.size).astype(float) if integer_ratings
               else rng.uniform(1.0, 5.0, users.size))
    frame = pd.DataFrame({"u": users, "i": items, "r": ratings})
    return Dataset.load_from_df(frame, Reader(rating_scale=(1, 5))).build_full_trainset()


def inner_csr(trainset, values):
    """users x items CSR in Surprise's inner ids, with ``values`` in all_ratings() order."""
    u, i = np.array([(u, i) for u, i, _ in trainset.all_ratings()]).T
    return sp.csr_matrix((values, (u, i)), shape=(trainset.n_users, trainset.n_items))


def ours(x_csr, kind, min_support=1, shrinkage=100.0):
    y_csr = x_csr.T.tocsr()
    out = np.empty((x_csr.shape[0],) * 2)
    similarity_matrix(x_csr.indptr.astype(np.int64), x_csr.indices, x_csr.data,
                      y_csr.indptr.astype(np.int64), y_csr.indices, y_csr.data,
                      KIND_BY_NAME[kind], min_support, shrinkage, out)
    return out


@pytest.mark.parametrize("user_based", [True, False])
@pytest.mark.parametrize("kind", ["cosine", "msd", "pearson"])
@pytest.mark.parametrize("min_support", [1, 3])
def test_similarity_matches_surprise(kind, user_based, min_support):
    ts = surprise_trainset(seed=1, integer_ratings=True)
    ratings = np.array([r for _, _, r in ts.all_ratings()])
    csr = inner_csr(ts, ratings)
    x_csr = csr if user_based else csr.T.tocsr()
    n_x, yr = (ts.n_users, ts.ir) if user_based else (ts.n_items, ts.ur)
    expected = getattr(similarities, kind)(n_x, yr, min_support)
    np.testing.assert_allclose(ours(x_csr, kind, min_support), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("user_based", [True, False])
def test_shrunk_pearson_baseline_matches_surprise(user_based):
    ts = surprise_trainset(seed=2, integer_ratings=False)
    bu, bi = BaselineOnly(verbose=False).fit(ts).compute_baselines()
    u, i, r = np.array(list(ts.all_ratings())).T
    u, i = u.astype(int), i.astype(int)
    csr = inner_csr(ts, r - ts.global_mean - bu[u] - bi[i])
    x_csr = csr if user_based else csr.T.tocsr()
    if user_based:
        expected = similarities.pearson_baseline(ts.n_users, ts.ir, 1, ts.global_mean, bu, bi, 50.0)
    else:
        expected = similarities.pearson_baseline(ts.n_items, ts.ur, 1, ts.global_mean, bi, bu, 50.0)
    np.testing.assert_allclose(ours(x_csr, "pearson_baseline", 1, 50.0), expected,
                               rtol=1e-10, atol=1e-12)


def test_rows_without_common_columns_have_zero_similarity():
    # two users with disjoint items, one with nothing: every off-diagonal pair is 0, diagonal 1
    csr = sp.csr_matrix(np.array([[5.0, 0, 0], [0, 3.0, 4.0], [0, 0, 0]]))
    for kind in KIND_BY_NAME:
        np.testing.assert_array_equal(ours(csr, kind), np.eye(3))
