"""ALS half-steps: the explicit ridge step against per-row numpy solves and Surprise's ALS
baseline; the implicit CG step against ``implicit``'s own CG step and the exact solution."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from implicit.cpu._als import least_squares_cg
from surprise import BaselineOnly, Dataset, Reader

from gbdt.kernels.recommend.als import _cholesky_solve_inplace, implicit_cg_half_step, ridge_half_step


def kernel_csr(m):
    """(indptr int64, indices int32, data float64): the dtypes the bindings pass, so the tests
    reuse the kernels' compiled signatures instead of compiling new ones."""
    return m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data.astype(np.float64)


def random_csr(seed, n_rows=30, n_cols=20, density=0.3):
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random((n_rows, n_cols)) < density, rng.integers(1, 6, (n_rows, n_cols)),
                     0.0)
    dense[3] = 0.0  # a row with no entries
    return sp.csr_matrix(dense)


def test_cholesky_solve_matches_numpy():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(7, 7))
    a = m @ m.T + 0.1 * np.eye(7)
    b = rng.normal(size=7)
    x, l_factor = b.copy(), a.copy()
    _cholesky_solve_inplace(l_factor, x)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-10)


@pytest.mark.parametrize("reg_const, reg_per_rating", [(0.5, 0.0), (0.0, 0.3)])
def test_ridge_half_step_solves_each_row_exactly(reg_const, reg_per_rating):
    csr = random_csr(1)
    rng = np.random.default_rng(1)
    mu, other_bias, other = 3.1, rng.normal(size=20), rng.normal(size=(20, 4))
    bias, factors = np.full(30, np.nan), np.full((30, 4), np.nan)
    ridge_half_step(*kernel_csr(csr), mu, other_bias, other, reg_const,
                    reg_per_rating, bias, factors)
    for u in range(30):
        cols = csr.indices[csr.indptr[u]:csr.indptr[u + 1]]
        design = np.hstack([other[cols], np.ones((cols.size, 1))])
        target = csr.data[csr.indptr[u]:csr.indptr[u + 1]] - mu - other_bias[cols]
        lam = reg_const + reg_per_rating * cols.size
        expected = (np.linalg.solve(design.T @ design + lam * np.eye(5), design.T @ target)
                    if cols.size else np.zeros(5))
        np.testing.assert_allclose(np.r_[factors[u], bias[u]], expected, rtol=1e-9, atol=1e-12)


def test_zero_factor_steps_replay_surprise_als_baseline():
    rng = np.random.default_rng(2)
    users, items = np.nonzero(rng.random((40, 30)) < 0.3)
    frame = pd.DataFrame({"u": users, "i": items, "r": rng.integers(1, 6, users.size) * 1.0})
    ts = Dataset.load_from_df(frame, Reader(rating_scale=(1, 5))).build_full_trainset()
    algo = BaselineOnly(bsl_options={"method": "als", "n_epochs": 6, "reg_u": 4, "reg_i": 7},
                        verbose=False).fit(ts)
    u, i, r = np.array(list(ts.all_ratings())).T
    ui = sp.csr_matrix((r, (u.astype(int), i.astype(int))), shape=(ts.n_users, ts.n_items))
    iu = ui.T.tocsr()
    bu, bi = np.zeros(ts.n_users), np.zeros(ts.n_items)
    no_u, no_i = np.zeros((ts.n_users, 0)), np.zeros((ts.n_items, 0))
    for _ in range(6):  # Surprise updates items first, then users
        ridge_half_step(*kernel_csr(iu), ts.global_mean, bu, no_u, 7.0, 0.0, bi,
                        no_i)
        ridge_half_step(*kernel_csr(ui), ts.global_mean, bi, no_i, 4.0, 0.0, bu,
                        no_u)
    np.testing.assert_allclose(bu, algo.bu, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(bi, algo.bi, rtol=1e-12, atol=1e-14)


def test_cg_step_matches_implicit_package():
    csr = random_csr(3)
    csr.data = 1.0 + 2.0 * csr.data  # confidence 1 + alpha r, as implicit is given it
    rng = np.random.default_rng(3)
    x0 = rng.random((30, 8)) * 0.1
    y = rng.random((20, 8)) * 0.1
    theirs = x0.astype(np.float32)
    least_squares_cg(csr.astype(np.float32), theirs, y.astype(np.float32), 0.05, num_threads=1,
                     cg_steps=3)
    ours = x0.copy()
    implicit_cg_half_step(*kernel_csr(csr), y, y.T @ y + 0.05 * np.eye(8), 3,
                          ours)
    np.testing.assert_allclose(ours, theirs, rtol=2e-3, atol=1e-5)


def test_cg_step_converges_to_the_exact_weighted_least_squares_solution():
    csr = random_csr(4)
    csr.data = 1.0 + 3.0 * csr.data
    rng = np.random.default_rng(4)
    y = rng.normal(size=(20, 5))
    reg = 0.2
    ours = rng.normal(size=(30, 5))
    implicit_cg_half_step(*kernel_csr(csr), y, y.T @ y + reg * np.eye(5), 30,
                          ours)
    for u in range(30):
        conf = np.ones(20)
        pref = np.zeros(20)
        cols = csr.indices[csr.indptr[u]:csr.indptr[u + 1]]
        conf[cols] = csr.data[csr.indptr[u]:csr.indptr[u + 1]]
        pref[cols] = 1.0
        a = y.T @ (conf[:, None] * y) + reg * np.eye(5)
        np.testing.assert_allclose(ours[u], np.linalg.solve(a, y.T @ (conf * pref)), rtol=1e-8,
                                   atol=1e-10)
