"""Normalization kernels against a naive float64 numpy twin and finite-difference gradients."""
import numpy as np
import pytest

from gbdt.kernels.nn.norm import (
    N_ROW_CHUNKS,
    column_mean_var,
    column_norm_apply,
    column_norm_backward,
    row_norm_backward,
    row_norm_forward,
    sum_chunks,
)


def naive_row_norm(x, gamma, beta, eps, center):
    """Twin of row_norm_forward written with numpy reductions (returns y, mean, rstd)."""
    mean = x.mean(axis=1) if center else np.zeros(x.shape[0])
    rstd = 1.0 / np.sqrt(((x - mean[:, None]) ** 2).mean(axis=1) + eps)
    return (x - mean[:, None]) * rstd[:, None] * gamma + beta, mean, rstd


def kernel_row_norm(x, gamma, beta, eps, center):
    y = np.empty_like(x)
    mean = np.empty(x.shape[0])
    rstd = np.empty(x.shape[0])
    n_bad = row_norm_forward(x, gamma, beta, eps, center, y, mean, rstd)
    return y, mean, rstd, n_bad


def kernel_row_norm_grads(dy, x, gamma, eps, center):
    """(dx, dgamma, dbeta) from the kernels, for the row statistics of ``x``."""
    _, mean, rstd, _ = kernel_row_norm(x, gamma, np.zeros_like(gamma), eps, center)
    dx = np.empty_like(x)
    partial_g = np.empty((min(x.shape[0], N_ROW_CHUNKS), x.shape[1]))
    partial_b = np.empty_like(partial_g)
    row_norm_backward(dy, x, gamma, mean, rstd, center, dx, partial_g, partial_b)
    dgamma = np.empty(x.shape[1])
    dbeta = np.empty(x.shape[1])
    sum_chunks(partial_g, dgamma)
    sum_chunks(partial_b, dbeta)
    return dx, dgamma, dbeta


def kernel_batch_norm(x, gamma, beta, eps):
    mean = np.empty(x.shape[1])
    var = np.empty(x.shape[1])
    column_mean_var(x, mean, var)
    rstd = 1.0 / np.sqrt(var + eps)
    y = np.empty_like(x)
    column_norm_apply(x, mean, rstd, gamma, beta, y)
    return y, mean, rstd


def numeric_grad(f, a, h=1e-6):
    """Central finite differences of the scalar f() w.r.t. every entry of ``a`` (modified in place)."""
    g = np.empty_like(a)
    for idx in np.ndindex(a.shape):
        keep = a[idx]
        a[idx] = keep + h
        up = f()
        a[idx] = keep - h
        down = f()
        a[idx] = keep
        g[idx] = (up - down) / (2 * h)
    return g


def assert_matches_finite_differences(analytic, loss, arrays):
    """Each analytic gradient equals the central difference of ``loss`` w.r.t. the matching array."""
    for grad, a in zip(analytic, arrays):
        np.testing.assert_allclose(grad, numeric_grad(loss, a), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("shape", [(1, 3), (7, 5), (200, 33)])
def test_row_norm_forward_matches_naive_twin(center, shape):
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, shape)
    gamma, beta = rng.normal(size=shape[1]), rng.normal(size=shape[1])
    y, mean, rstd, n_bad = kernel_row_norm(x, gamma, beta, 1e-5, center)
    y_ref, mean_ref, rstd_ref = naive_row_norm(x, gamma, beta, 1e-5, center)
    assert n_bad == 0
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mean, mean_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rstd, rstd_ref, rtol=1e-12)


def test_row_norm_forward_counts_non_finite_rows():
    x = np.ones((4, 6))
    x[1, 2] = np.nan
    x[3, 0] = np.inf
    assert kernel_row_norm(x, np.ones(6), np.zeros(6), 1e-5, True)[3] == 2
    assert kernel_row_norm(x, np.ones(6), np.zeros(6), 1e-5, False)[3] == 2


@pytest.mark.parametrize("center", [True, False])
def test_row_norm_backward_matches_finite_differences(center):
    # n = 70 > N_ROW_CHUNKS rows, so chunks of unequal size are summed into dgamma/dbeta.
    rng = np.random.default_rng(1)
    x = rng.normal(1.0, 1.5, (70, 6))
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    weights = rng.normal(size=x.shape)

    def loss():
        return float((kernel_row_norm(x, gamma, beta, 1e-3, center)[0] * weights).sum())

    assert_matches_finite_differences(kernel_row_norm_grads(weights, x, gamma, 1e-3, center), loss, (x, gamma, beta))


def test_row_norm_float32_accumulates_in_float64():
    # A row 1e4 + small noise: float32 statistics lose the noise, float64 accumulators keep it.
    rng = np.random.default_rng(2)
    x32 = (1e4 + 0.01 * rng.standard_normal((8, 512))).astype(np.float32)
    ones, zeros = np.ones(512, np.float32), np.zeros(512, np.float32)
    y32 = kernel_row_norm(x32, ones, zeros, 1e-12, True)[0]
    y_ref = naive_row_norm(x32.astype(np.float64), 1.0, 0.0, 1e-12, True)[0]
    np.testing.assert_allclose(y32, y_ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [2, 5, 130])
def test_column_mean_var_matches_numpy(n):
    x = np.random.default_rng(3).normal(-2.0, 3.0, (n, 9))
    mean, var = np.empty(9), np.empty(9)
    column_mean_var(x, mean, var)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var, x.var(axis=0), rtol=1e-12)


@pytest.mark.parametrize("batch_stats", [True, False])
def test_column_norm_backward_matches_finite_differences(batch_stats):
    rng = np.random.default_rng(4)
    x = rng.normal(0.5, 2.0, (67, 4))
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    weights = rng.normal(size=x.shape)
    # Evaluation mode: fixed (running) statistics that do not move with x.
    fixed_mean, fixed_rstd = rng.normal(size=4), rng.uniform(0.5, 2.0, 4)

    def forward():
        if batch_stats:
            return kernel_batch_norm(x, gamma, beta, 1e-3)
        y = np.empty_like(x)
        column_norm_apply(x, fixed_mean, fixed_rstd, gamma, beta, y)
        return y, fixed_mean, fixed_rstd

    def loss():
        return float((forward()[0] * weights).sum())

    _, mean, rstd = forward()
    dx, dgamma, dbeta = np.empty_like(x), np.empty(4), np.empty(4)
    column_norm_backward(weights, x, mean, rstd, gamma, batch_stats, dx, dgamma, dbeta)
    assert_matches_finite_differences((dx, dgamma, dbeta), loss, (x, gamma, beta))
