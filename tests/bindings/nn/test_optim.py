"""bindings.nn.optim against torch: Adam/AdamW step by step (weight decay, AMSGrad, a schedule), gradient
clipping against torch.nn.utils.clip_grad_norm_, learning-rate schedules against torch.optim.lr_scheduler
(and Vaswani et al.'s formula), and the state round trip."""
import math

import numpy as np
import pytest
import torch

from bindings.nn import Adam, AdamW, clip_grad_norm_, decay_matrices, lr_schedule


def run_both(cls, torch_cls, decay, *, steps=7, lr=0.05, weight_decay=0.3, amsgrad=False, schedule=None):
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4), "positions": rng.standard_normal((2, 4))}
    grads = [{k: rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(steps)]
    torch_params = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    decayed = [k for k, v in params.items() if decay(k, v)]
    groups = [{"params": [torch_params[k] for k in params if k in decayed], "weight_decay": weight_decay},
              {"params": [torch_params[k] for k in params if k not in decayed], "weight_decay": 0.0}]
    reference = torch_cls(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8, amsgrad=amsgrad)
    torch_schedule = torch.optim.lr_scheduler.LambdaLR(reference, schedule or (lambda step: 1.0))
    ours = cls(params, lr=lr, weight_decay=weight_decay, amsgrad=amsgrad, schedule=schedule, decay=decay)
    for g in grads:
        assert ours.current_lr() == pytest.approx(reference.param_groups[0]["lr"], rel=1e-15)
        ours.step(g)
        for k, t in torch_params.items():
            t.grad = torch.from_numpy(g[k])
        reference.step()
        torch_schedule.step()
    for k, v in params.items():
        np.testing.assert_allclose(v, torch_params[k].detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=k)
    return ours


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("decay, decayed",
                         [(lambda name, value: True, ["w", "b", "positions"]), (decay_matrices, ["w"])],
                         ids=["all", "matrices"])
def test_adamw_matches_torch_step_by_step(decay, decayed, amsgrad):
    ours = run_both(AdamW, torch.optim.AdamW, decay, amsgrad=amsgrad,
                    schedule=lr_schedule("cosine", warmup_steps=3, total_steps=7))
    assert ours.decayed == decayed


@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_torch_step_by_step(weight_decay, amsgrad):
    # Adam's weight decay is an L2 term added to the gradient, unlike AdamW's
    run_both(Adam, torch.optim.Adam, lambda name, value: True, weight_decay=weight_decay, amsgrad=amsgrad,
             schedule=lr_schedule("linear", warmup_steps=2, total_steps=6))


def torch_rates(make_schedulers, steps, lr=2.0):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_schedulers(opt)
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"] / lr)
        opt.step()
        scheduler.step()
    return np.array(rates)


W, T = 5, 20
LR = torch.optim.lr_scheduler


def warmup(opt):
    return LR.LinearLR(opt, start_factor=1 / W, end_factor=1.0, total_iters=W - 1)


@pytest.mark.parametrize("kind, min_ratio, make", [
    ("constant", 0.0, warmup),
    ("linear", 0.0, lambda o: LR.SequentialLR(o, [warmup(o), LR.LinearLR(o, 1.0, 0.0, total_iters=T - W)], [W])),
    ("linear", 0.1, lambda o: LR.SequentialLR(o, [warmup(o), LR.LinearLR(o, 1.0, 0.1, total_iters=T - W)], [W])),
    ("cosine", 0.0, lambda o: LR.SequentialLR(o, [warmup(o), LR.CosineAnnealingLR(o, T - W)], [W])),
    ("cosine", 0.1, lambda o: LR.SequentialLR(o, [warmup(o), LR.CosineAnnealingLR(o, T - W, eta_min=0.2)], [W])),
])
def test_schedules_match_torch_schedulers(kind, min_ratio, make):
    steps = T + 5 if kind != "cosine" else T + 1  # torch's cosine rises again after T_max; ours stays at the floor
    schedule = lr_schedule(kind, warmup_steps=W, total_steps=T, min_ratio=min_ratio)
    np.testing.assert_allclose([schedule(t) for t in range(steps)], torch_rates(make, steps), rtol=1e-12, atol=1e-15)
    if kind != "constant":
        assert schedule(T + 100) == pytest.approx(min_ratio)


def test_inverse_sqrt_schedule_is_vaswani_rate_over_its_peak():
    d_model = 64
    noam = [d_model ** -0.5 * min((t + 1) ** -0.5, (t + 1) * W ** -1.5) for t in range(40)]
    schedule = lr_schedule("inverse_sqrt", warmup_steps=W)
    np.testing.assert_allclose([schedule(t) for t in range(40)], np.array(noam) / max(noam), rtol=1e-12)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(2)
    grads = {"a": rng.standard_normal((4, 3)), "b": rng.standard_normal(5)}
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = torch.from_numpy(g.copy())
    expected = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type=norm_type)
    total = clip_grad_norm_(grads, max_norm, norm_type=norm_type)
    assert total == pytest.approx(float(expected), rel=1e-12)
    for t, g in zip(tensors, grads.values()):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)


def test_state_round_trip_continues_identically():
    rng = np.random.default_rng(1)
    a = {"w": rng.standard_normal((3, 3))}
    opt_a = AdamW(a, lr=0.1, weight_decay=0.1, amsgrad=True, warmup_steps=2)
    for _ in range(3):
        opt_a.step({"w": rng.standard_normal((3, 3))})
    b = {"w": a["w"].copy()}
    opt_b = AdamW(b, lr=0.1, weight_decay=0.1, amsgrad=True, warmup_steps=2)
    opt_b.load_state_arrays(opt_a.state_arrays())
    g = {"w": rng.standard_normal((3, 3))}
    opt_a.step(g)
    opt_b.step(g)
    np.testing.assert_array_equal(a["w"], b["w"])


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="weight_decay"):
        AdamW({"w": np.zeros(2)}, weight_decay=-1)
    with pytest.raises(TypeError, match="warmup_steps"):
        AdamW({"w": np.zeros(2)}, warmup_steps=1.5)
    with pytest.raises(ValueError, match="warmup_steps"):
        Adam({"w": np.zeros(2)}, warmup_steps=-1)
    with pytest.raises(ValueError, match="either schedule or warmup_steps"):
        Adam({"w": np.zeros(2)}, warmup_steps=2, schedule=lr_schedule())
    with pytest.raises(ValueError, match="grads lacks"):
        AdamW({"w": np.zeros(2)}).step({})
    with pytest.raises(ValueError, match="betas"):
        Adam({"w": np.zeros(2)}, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="kind"):
        lr_schedule("exponential")
    with pytest.raises(ValueError, match="total_steps must be an integer > warmup_steps"):
        lr_schedule("cosine", warmup_steps=10, total_steps=10)
    with pytest.raises(ValueError, match="warmup_steps must be >= 1"):
        lr_schedule("inverse_sqrt")
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm_({"w": np.ones(2)}, -1.0)
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm_({"w": np.ones(2)}, 1.0, norm_type=0.5)
