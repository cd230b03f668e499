"""bindings.multimodal.schedule: the warm-up + cosine schedule against torch's SequentialLR(LinearLR,
CosineAnnealingLR), and gradient clipping against torch.nn.utils.clip_grad_norm_."""
import numpy as np
import pytest
import torch

from bindings.multimodal import clip_grad_norm, cosine_lr


@pytest.mark.parametrize("min_lr", [0.0, 1e-4])
def test_cosine_schedule_matches_torch(min_lr):
    peak, warmup, total = 3e-3, 5, 40
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=peak)
    scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, [
        torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1),
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - warmup, eta_min=min_lr)],
        milestones=[warmup])
    expected = []
    for _ in range(total + 1):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    got = [cosine_lr(step, peak, warmup, total, min_lr) for step in range(total + 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-15)
    assert got[warmup - 1] == pytest.approx(peak) and got[total] == pytest.approx(min_lr, abs=1e-15)


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(max_norm):
    rng = np.random.default_rng(0)
    grads = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5).astype(np.float32)}
    kept = {k: v.copy() for k, v in grads.items()}
    clipped, norm = clip_grad_norm(grads, max_norm)
    tensors = [torch.zeros(v.shape, dtype=torch.float64, requires_grad=True) for v in grads.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = torch.tensor(g, dtype=torch.float64)
    expected_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm).item()
    assert norm == pytest.approx(expected_norm, rel=1e-12)
    for (name, value), t in zip(clipped.items(), tensors):
        np.testing.assert_allclose(value, t.grad.numpy(), rtol=1e-6 if value.dtype == np.float32 else 1e-12)
        assert value.dtype == grads[name].dtype
        np.testing.assert_array_equal(grads[name], kept[name])  # the inputs are left alone
