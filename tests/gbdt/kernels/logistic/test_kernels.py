"""Logistic-regression kernels against numpy twins and finite differences, on dense and CSR packings."""
import numpy as np
import pytest
import scipy.sparse as sp

from gbdt.kernels.logistic.cd import cd_quadratic_sweeps
from gbdt.kernels.logistic.objective import loss_grad_hess, multinomial_loss_sum
from gbdt.kernels.logistic.packed import pack_csr, pack_dense, packed_matvec, transpose_packed
from gbdt.kernels.logistic.solvers import LogisticProblem, evaluate, smooth_objective

RNG = np.random.default_rng(0)
N, P = 300, 6


def _sparse_matrix():
    X = RNG.normal(size=(N, P)) * (RNG.random((N, P)) < 0.4)
    return X, sp.csr_matrix(X)


X_DENSE, X_CSR = _sparse_matrix()
PACKINGS = {"dense": pack_dense(X_DENSE), "csr": pack_csr(X_CSR.data, X_CSR.indices, X_CSR.indptr, P)}
SW = RNG.uniform(0.5, 2.0, N)


def _numpy_loss_grad(X, y, sw, coef, intercept):
    """Twin of loss_grad_hess (loss and gradient) with dense numpy algebra."""
    Z = X @ coef.T + intercept
    if coef.shape[0] == 1:
        z = Z[:, 0]
        loss = np.sum(sw * (np.logaddexp(0, z) - y * z))
        r = (sw * (1 / (1 + np.exp(-z)) - y))[:, None]
    else:
        lse = np.logaddexp.reduce(Z, axis=1)
        onehot = np.eye(coef.shape[0])[y.astype(int)]
        loss = np.sum(sw * (lse - np.sum(Z * onehot, axis=1)))
        r = sw[:, None] * (np.exp(Z - lse[:, None]) - onehot)
    return loss, np.hstack([r.T @ X, r.sum(axis=0)[:, None]])


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("n_classes", [1, 3])
def test_loss_grad_matches_numpy_twin(fmt, n_classes):
    y = RNG.random(N) if n_classes == 1 else RNG.integers(0, n_classes, N).astype(float)  # soft binary labels
    coef, intercept = RNG.normal(size=(n_classes, P)), RNG.normal(size=n_classes)
    grad = np.empty((n_classes, P + 1))
    loss = loss_grad_hess(*PACKINGS[fmt], y, SW, coef, intercept, grad, np.empty((0, 0)))
    ref_loss, ref_grad = _numpy_loss_grad(X_DENSE, y, SW, coef, intercept)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-10)
    loss_only = loss_grad_hess(*PACKINGS[fmt], y, SW, coef, intercept, np.empty((0, 0)), np.empty((0, 0)))
    assert loss_only == loss


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("n_classes", [1, 3])
def test_gradient_matches_finite_differences(fmt, n_classes):
    y = (RNG.random(N) < 0.5).astype(float) if n_classes == 1 else RNG.integers(0, 3, N).astype(float)
    problem = LogisticProblem(PACKINGS[fmt], y, SW, n_classes, 0.0, 0.7, True)
    params = RNG.normal(size=(n_classes, P + 1)) * 0.3
    _, grad = smooth_objective(problem, params)
    eps = 1e-6
    numeric = np.empty_like(params)
    for idx in np.ndindex(params.shape):
        step = np.zeros_like(params)
        step[idx] = eps
        up, down = smooth_objective(problem, params + step)[0], smooth_objective(problem, params - step)[0]
        numeric[idx] = (up - down) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_hessian_matches_finite_differences_of_gradient(fmt):
    y = (RNG.random(N) < 0.3).astype(float)
    problem = LogisticProblem(PACKINGS[fmt], y, SW, 1, 0.0, 0.5, True)
    params = RNG.normal(size=(1, P + 1)) * 0.3
    H = evaluate(problem, params, grad=False, hess=True)[2]
    eps = 1e-6
    numeric = np.empty_like(H)
    for j in range(P + 1):
        step = np.zeros_like(params)
        step[0, j] = eps
        up, down = smooth_objective(problem, params + step)[1], smooth_objective(problem, params - step)[1]
        numeric[:, j] = (up - down)[0] / (2 * eps)
    np.testing.assert_allclose(H, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(H, H.T)


@pytest.mark.parametrize("n_rows", [N, 4097])
def test_hessian_matches_numpy_gram(n_rows):
    """Odd and multi-block row counts: dense rows go in pairs, blocks are summed in order."""
    X = RNG.normal(size=(n_rows, P)) * (RNG.random((n_rows, P)) < 0.5)
    Xs = sp.csr_matrix(X)
    y = (RNG.random(n_rows) < 0.5).astype(float)
    sw = RNG.uniform(0.5, 2.0, n_rows)
    coef, intercept = RNG.normal(size=(1, P)) * 0.3, np.array([0.2])
    p = 1 / (1 + np.exp(-(X @ coef[0] + intercept[0])))
    Xa = np.hstack([X, np.ones((n_rows, 1))])
    expected = Xa.T @ ((sw * p * (1 - p))[:, None] * Xa)
    for packed in (pack_dense(X), pack_csr(Xs.data, Xs.indices, Xs.indptr, P)):
        H = np.empty((P + 1, P + 1))
        loss_grad_hess(*packed, y, sw, coef, intercept, np.empty((0, 0)), H)
        np.testing.assert_allclose(H, expected, rtol=1e-11, atol=1e-11)


def test_transpose_and_matvec_match_numpy():
    vectors = RNG.normal(size=(2, N))
    for packed in PACKINGS.values():
        columns = transpose_packed(packed)
        out = np.empty((P, 2))
        packed_matvec(*columns, vectors, out)
        np.testing.assert_allclose(out, X_DENSE.T @ vectors.T, rtol=1e-12, atol=1e-12)


def test_multinomial_loss_sum_matches_numpy():
    Z = RNG.normal(size=(N, 4)) * 5
    y = RNG.integers(0, 4, N).astype(float)
    ref = np.sum(SW * (np.logaddexp.reduce(Z, axis=1) - Z[np.arange(N), y.astype(int)]))
    assert multinomial_loss_sum(Z, y, SW) == pytest.approx(ref, rel=1e-12)


def _run_cd(packed, g, h, coef, l1, l2):
    delta, q = np.empty(P + 1), np.empty(N)
    cd_quadratic_sweeps(*transpose_packed(packed), g, h, coef, l1, l2, True, 10_000, 1e-13, delta, q)
    return delta, q


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_cd_without_l1_solves_the_newton_system(fmt):
    g, h, coef = RNG.normal(size=N), RNG.uniform(0.1, 1, N), RNG.normal(size=P)
    l2 = 0.8
    delta, q = _run_cd(PACKINGS[fmt], g, h, coef, 0.0, l2)
    Xa = np.hstack([X_DENSE, np.ones((N, 1))])
    A = Xa.T @ (h[:, None] * Xa) + np.diag([l2] * P + [0.0])
    b = -(Xa.T @ g + np.append(l2 * coef, 0.0))
    np.testing.assert_allclose(delta, np.linalg.solve(A, b), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(q, Xa @ delta, atol=1e-10)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_cd_with_l1_meets_the_optimality_conditions(fmt):
    g, h, coef = RNG.normal(size=N) * 3, RNG.uniform(0.1, 1, N), RNG.normal(size=P) * 0.1
    l1, l2 = 20.0, 0.3
    delta, _ = _run_cd(PACKINGS[fmt], g, h, coef, l1, l2)
    Xa = np.hstack([X_DENSE, np.ones((N, 1))])
    new = coef + delta[:-1]
    smooth_grad = Xa.T @ (g + h * (Xa @ delta))
    smooth_grad[:-1] += l2 * new
    assert abs(smooth_grad[-1]) < 1e-8
    nonzero = new != 0
    assert nonzero.any() and (~nonzero).any(), "the test needs both active and zero coordinates"
    np.testing.assert_allclose(smooth_grad[:-1][nonzero], -l1 * np.sign(new[nonzero]), atol=1e-8)
    assert np.all(np.abs(smooth_grad[:-1][~nonzero]) <= l1 + 1e-8)


def test_isotonic_increasing_matches_sklearn():
    from sklearn.isotonic import isotonic_regression

    from gbdt.kernels.logistic.isotonic import isotonic_increasing
    y = np.cumsum(RNG.normal(size=200)) * 0.1 + RNG.normal(size=200)
    w = RNG.uniform(0.1, 3.0, 200)
    out = np.empty(200)
    isotonic_increasing(y, w, out)
    np.testing.assert_allclose(out, isotonic_regression(y, sample_weight=w), rtol=1e-12, atol=1e-12)
    assert np.all(np.diff(out) >= 0)


def test_threshold_counts_match_numpy_cumsum():
    from gbdt.kernels.logistic.thresholds import threshold_counts
    s = np.sort(RNG.integers(0, 20, N).astype(float))[::-1].copy()
    y = (RNG.random(N) < 0.4).astype(float)
    fps, tps, thr = (np.empty(N) for _ in range(3))
    m = threshold_counts(y, SW, s, fps, tps, thr)
    last = np.r_[np.flatnonzero(np.diff(s)), N - 1]
    np.testing.assert_array_equal(thr[:m], s[last])
    np.testing.assert_allclose(tps[:m], np.cumsum(SW * y)[last], rtol=1e-12)
    np.testing.assert_allclose(fps[:m], np.cumsum(SW * (1 - y))[last], rtol=1e-12)


@pytest.mark.parametrize("first_step", [1e-4, 1.0, 300.0])
def test_wolfe_search_returns_a_strong_wolfe_step(first_step):
    """Too short a first step must be extended, too long a one shrunk: both conditions hold at the result."""
    from gbdt.kernels.logistic.solvers import ARMIJO, WOLFE_CURVATURE, _wolfe_search
    y = (RNG.random(N) < 0.5).astype(float)
    problem = LogisticProblem(PACKINGS["dense"], y, SW, 1, 0.0, 0.1, True)

    def fun(x):
        f, g = smooth_objective(problem, x.reshape(1, -1))
        return f, g.ravel()

    x0 = np.zeros(P + 1)
    f0, g0 = fun(x0)
    x_new, f_new, g_new = _wolfe_search(fun, x0, f0, g0, -g0, first_step)
    step = (x_new - x0) @ -g0 / (g0 @ g0)
    assert f_new <= f0 + ARMIJO * step * -(g0 @ g0)
    assert abs(g_new @ -g0) <= WOLFE_CURVATURE * (g0 @ g0)
    if first_step != 1.0:  # 1e-4 fails the curvature condition, 300 the sufficient decrease
        assert not np.isclose(step, first_step)
