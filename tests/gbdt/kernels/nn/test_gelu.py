"""gbdt.kernels.nn.gelu: exact GELU against torch (values and autograd gradients, float32 and float64, x = 0 and
large |x|), the float32 kernels' polynomial erfc/exp on a dense grid against torch float64 (scipy's normal CDF in
the left tail), the float64 left tail against scipy, the gradient against finite differences, and the kernel
bodies run as plain Python (NUMBA_DISABLE_JIT=1) against the compiled ones."""
import numpy as np
import pytest
import scipy.special
import torch

from gbdt.kernels.nn.gelu import gelu_backward, gelu_forward

# 0, both tails (exp and erfc underflow), the bend near +-1.7, and random values
POINTS = np.array([0.0, -0.0, 1e-30, -1e-30, 1e-4, -1e-4, 0.5, -0.5, 1.7, -1.7, 3.0, -3.0, 6.0, -6.0, 9.0, -9.0,
                   30.0, -30.0, 1e4, -1e4])


def kernel(x, dy):
    """(gelu(x), dy * gelu'(x)) from the kernels, arrays of x's dtype."""
    y, dx = np.empty_like(x), np.empty_like(x)
    gelu_forward(x, y)
    gelu_backward(x, dy, dx)
    return y, dx


def torch_gelu(x, dy, dtype):
    t = torch.tensor(x, dtype=dtype, requires_grad=True)
    y = torch.nn.functional.gelu(t)  # approximate="none", torch's default
    y.backward(torch.tensor(dy, dtype=dtype))
    return y.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gelu_matches_torch(dtype):
    rng = np.random.default_rng(0)
    x = np.concatenate([POINTS, 3 * rng.standard_normal(200)]).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    y, dx = kernel(x, dy)
    assert y.dtype == dx.dtype == dtype
    assert y[0] == 0.0 and dx[0] == 0.5 * dy[0]  # gelu(0) = 0, gelu'(0) = 1/2

    # torch in float64 on the same (rounded) inputs: ours is that value rounded once to dtype; where torch's
    # 1 + erf cancels (x < -8) its values are off by ~1e-16, hence the atol
    y64, dx64 = torch_gelu(x.astype(np.float64), dy.astype(np.float64), torch.float64)
    rtol = 1e-14 if dtype == np.float64 else 2.5e-7
    np.testing.assert_allclose(y, y64, rtol=rtol, atol=1e-14)
    np.testing.assert_allclose(dx, dx64, rtol=rtol, atol=1e-14)
    # torch in the same dtype (its float32 path computes in float32)
    y_same, dx_same = torch_gelu(x, dy, torch.float32 if dtype == np.float32 else torch.float64)
    tol = 1e-14 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(y, y_same, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, dx_same, rtol=tol, atol=tol)


def test_float32_gelu_is_float64_rounded_once():
    # the float32 kernels' polynomial erfc (relative error < 6.3e-10) and exp (< 3e-12) run in float64 and round
    # once: within half a float32 ulp of the true value plus 2e-9 of each term (the polynomials, and the truth's
    # own error: torch's 1 + erf near x = -5 is off by ~1e-16 / Phi(-5) = 4e-10)
    special = np.array([np.inf, -np.inf, np.nan])
    extremes = np.array([1e-30, -1e-30, 1e-40, -1e-40, 1e4, -1e4, 3e38, -3e38, -14.0, -14.5, -16.0, -1e11])
    x = np.concatenate([np.linspace(-10, 10, 200_001), extremes, special]).astype(np.float32)
    dy = np.ones_like(x)
    y, dx = kernel(x, dy)
    finite = np.isfinite(x)
    v = x[finite].astype(np.float64)
    y64, dx64 = torch_gelu(v, np.ones_like(v), torch.float64)
    # torch's 1 + erf loses Phi's relative accuracy below x = -5: there the truth comes from scipy's ndtr
    cdf, pdf = scipy.special.ndtr(v), np.exp(-0.5 * v * v) / np.sqrt(2 * np.pi)
    tail = v < -5
    y64[tail], dx64[tail] = (v * cdf)[tail], (cdf + v * pdf)[tail]
    half_ulp = lambda a: 0.5 * np.spacing(np.abs(a).astype(np.float32)).astype(np.float64)  # noqa: E731
    assert (np.abs(y[finite] - y64) <= half_ulp(y64) + 2e-9 * np.abs(y64)).all()
    assert (np.abs(dx[finite] - dx64) <= half_ulp(dx64) + 2e-9 * (cdf + np.abs(v) * pdf)).all()
    assert (y[finite][v < -14.5] == 0).all() and (y[finite][v == -14.0] < 0).all()  # float32's subnormals reached
    # inf, -inf, NaN as torch's float64 (NaN for -inf: -inf * Phi(-inf) = -inf * 0; torch's float32 gives NaN for
    # gelu(inf) too, where inf is the limit)
    y_nf, dx_nf = torch_gelu(x[~finite].astype(np.float64), dy[~finite].astype(np.float64), torch.float64)
    np.testing.assert_array_equal(y[~finite], y_nf)
    np.testing.assert_array_equal(dx[~finite], dx_nf)


def test_exact_gelu_left_tail_keeps_its_relative_accuracy():
    # x Phi(x) with Phi from erfc: torch's (1 + erf) / 2 rounds to 0 below x = -8.3, scipy's ndtr does not
    x = -np.linspace(5.0, 37.0, 65)
    y, _ = kernel(x, np.ones_like(x))
    # Phi's condition number there is ~x^2: rounding x / sqrt 2 alone costs 37^2 * 1.1e-16 = 1.5e-13
    np.testing.assert_allclose(y, x * scipy.special.ndtr(x), rtol=5e-13)
    assert (y < 0).all()


def test_gelu_gradient_matches_finite_differences():
    x = np.array([0.0, 1e-3, -1e-3, 0.3, -0.3, 0.75, -0.75, 1.7, -1.7, 2.5, -2.5, 4.0, -4.0, 7.0, -7.0])
    _, slope = kernel(x, np.ones_like(x))
    h = 1e-6
    up, _ = kernel(x + h, np.ones_like(x))
    down, _ = kernel(x - h, np.ones_like(x))
    np.testing.assert_allclose(slope, (up - down) / (2 * h), rtol=1e-8, atol=1e-9)
    assert slope[0] == 0.5


def test_gelu_backward_may_overwrite_the_output_gradient():
    rng = np.random.default_rng(1)
    x, dy = rng.standard_normal(50), rng.standard_normal(50)
    _, expected = kernel(x, dy)
    gelu_backward(x, dy, dy)
    np.testing.assert_array_equal(dy, expected)


KERNEL_SCRIPT = """
import json
import numpy as np
from gbdt.kernels.nn.gelu import gelu_backward, gelu_forward
rng = np.random.default_rng(2)
result = []
for dtype in (np.float32, np.float64):
    x = np.concatenate([[0.0, -9.0, 30.0], 3 * rng.standard_normal(20)]).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    y, dx = np.empty_like(x), np.empty_like(x)
    gelu_forward(x, y)
    gelu_backward(x, dy, dx)
    result += [y.tolist(), dx.tolist()]
"""


def test_kernels_interpreted_match_compiled(interpreted_matches_compiled):
    interpreted_matches_compiled(KERNEL_SCRIPT, rtol=1e-6, atol=1e-30)
