"""gbdt.kernels.nn.cross_entropy / l2_normalize against torch (values and autograd gradients),
and the kernel bodies run as plain Python (NUMBA_DISABLE_JIT=1) against the compiled ones."""
import numpy as np
import pytest
import torch

from gbdt.kernels.nn.cross_entropy import softmax_cross_entropy
from gbdt.kernels.nn.l2_normalize import l2_normalize_rows, l2_normalize_rows_backward


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_cross_entropy_matches_torch(dtype):
    rng = np.random.default_rng(0)
    logits = (3 * rng.standard_normal((7, 5))).astype(dtype)
    logits[2] *= 1e4  # far beyond exp's range: log-sum-exp must stay finite
    targets = rng.integers(0, 5, 7)
    losses, grad = np.empty(7), np.empty_like(logits)
    softmax_cross_entropy(logits, targets, 1.0 / 7, losses, grad)

    t = torch.tensor(logits.astype(np.float64), requires_grad=True)
    ref = torch.nn.functional.cross_entropy(t, torch.from_numpy(targets), reduction="none")
    ref.mean().backward()
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(losses, ref.detach().numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=rtol, atol=rtol)
    assert grad.dtype == dtype


def test_l2_normalize_matches_torch_including_a_zero_row():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4))
    x[3] = 0.0  # clamped by eps: torch returns zeros and gradient dy / eps
    x[4] *= 1e-13
    out, norms = np.empty_like(x), np.empty(6)
    l2_normalize_rows(x, 1e-12, out, norms)
    dy = rng.standard_normal(x.shape)
    dx = np.empty_like(x)
    l2_normalize_rows_backward(out, norms, dy, 1e-12, dx)

    t = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.normalize(t, dim=1, eps=1e-12)
    ref.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dx, t.grad.numpy(), rtol=1e-10, atol=1e-10)


KERNEL_SCRIPT = """
import json
import numpy as np
from gbdt.kernels.nn.cross_entropy import softmax_cross_entropy
from gbdt.kernels.nn.l2_normalize import l2_normalize_rows, l2_normalize_rows_backward
rng = np.random.default_rng(2)
logits = rng.standard_normal((5, 4)).astype(np.float32)
losses, grad = np.empty(5), np.empty_like(logits)
softmax_cross_entropy(logits, rng.integers(0, 4, 5), 0.2, losses, grad)
x = rng.standard_normal((5, 3)).astype(np.float32)
out, norms, dx = np.empty_like(x), np.empty(5), np.empty_like(x)
l2_normalize_rows(x, 1e-12, out, norms)
l2_normalize_rows_backward(out, norms, rng.standard_normal((5, 3)).astype(np.float32), 1e-12, dx)
result = [a.tolist() for a in (losses, grad, out, dx)]
"""


def test_kernels_interpreted_match_compiled(interpreted_matches_compiled):
    interpreted_matches_compiled(KERNEL_SCRIPT, rtol=1e-6, atol=1e-7)
