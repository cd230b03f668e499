"""bindings.nn.optim.AdamW against torch.optim.AdamW under a LambdaLR warm-up, and its state
round trip."""
import numpy as np
import pytest
import torch

from bindings.nn import AdamW, decay_matrices, warmup_lr


def run_both(decay, steps=7, warmup=3, lr=0.05, weight_decay=0.3):
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4), "positions": rng.standard_normal((2, 4))}
    grads = [{k: rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(steps)]
    torch_params = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    decayed = [k for k, v in params.items() if decay(k, v)]
    groups = [{"params": [torch_params[k] for k in params if k in decayed], "weight_decay": weight_decay},
              {"params": [torch_params[k] for k in params if k not in decayed], "weight_decay": 0.0}]
    reference = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    schedule = torch.optim.lr_scheduler.LambdaLR(reference, lambda step: warmup_lr(step, 1.0, warmup))
    ours = AdamW(params, lr=lr, weight_decay=weight_decay, warmup_steps=warmup, decay=decay)
    for g in grads:
        ours.step(g)
        for k, t in torch_params.items():
            t.grad = torch.from_numpy(g[k])
        reference.step()
        schedule.step()
    return params, torch_params, ours


@pytest.mark.parametrize("decay, decayed",
                         [(lambda name, value: True, ["w", "b", "positions"]), (decay_matrices, ["w"])],
                         ids=["all", "matrices"])
def test_adamw_with_warmup_matches_torch(decay, decayed):
    params, torch_params, ours = run_both(decay)
    for k, v in params.items():
        np.testing.assert_allclose(v, torch_params[k].detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=k)
    assert ours.decayed == decayed


def test_warmup_scales_the_first_steps_linearly():
    opt = AdamW({"w": np.zeros((2, 2))}, lr=0.4, warmup_steps=4)
    rates = []
    for _ in range(6):
        rates.append(opt.current_lr())
        opt.step({"w": np.ones((2, 2))})
    np.testing.assert_allclose(rates, [0.1, 0.2, 0.3, 0.4, 0.4, 0.4])


def test_state_round_trip_continues_identically():
    rng = np.random.default_rng(1)
    a = {"w": rng.standard_normal((3, 3))}
    opt_a = AdamW(a, lr=0.1, weight_decay=0.1, warmup_steps=2)
    for _ in range(3):
        opt_a.step({"w": rng.standard_normal((3, 3))})
    b = {"w": a["w"].copy()}
    opt_b = AdamW(b, lr=0.1, weight_decay=0.1, warmup_steps=2)
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
        AdamW({"w": np.zeros(2)}, warmup_steps=-1)
    with pytest.raises(ValueError, match="grads lacks"):
        AdamW({"w": np.zeros(2)}).step({})
