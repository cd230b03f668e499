"""bindings.multimodal.alignment: InfoNCE against a torch CLIP loss (values and autograd), the ln N
invariant, the contrastive head against finite differences, the CLIP clamp."""
import math

import numpy as np
import pytest
import torch
from tests.bindings.multimodal.finite_differences import assert_gradients_match_finite_differences

from bindings.multimodal import ContrastiveHead, info_nce_loss
from bindings.nn import named_gradients, named_parameters

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_uniform_logits_give_log_n(n):
    text = np.tile([0.6, 0.8], (n, 1))
    loss, _, _, d_log_scale = info_nce_loss(text, text.copy(), math.log(1 / 0.07))
    assert loss == pytest.approx(math.log(n), rel=1e-12, abs=1e-12)
    assert d_log_scale == pytest.approx(0.0, abs=1e-12)


def test_info_nce_matches_torch_clip_loss():
    rng = np.random.default_rng(0)
    text, image = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    log_scale = 1.3
    loss, d_text, d_image, d_log_scale = info_nce_loss(text, image, log_scale)

    t, v = torch.tensor(text, requires_grad=True), torch.tensor(image, requires_grad=True)
    s = torch.tensor(log_scale, dtype=torch.float64, requires_grad=True)
    logits = s.exp() * t @ v.T  # the pseudo-code of Radford et al. (2021), Figure 3
    labels = torch.arange(6)
    ref = (torch.nn.functional.cross_entropy(logits, labels) + torch.nn.functional.cross_entropy(logits.T, labels)) / 2
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(d_text, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(d_image, v.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert d_log_scale == pytest.approx(s.grad.item(), rel=1e-10)


def test_contrastive_head_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    head = ContrastiveHead(5, 3, rng, np.float64)
    inputs = {"text": rng.standard_normal((4, 6, 5)), "image": rng.standard_normal((4, 3, 5))}
    mask = np.ones((4, 6), bool)
    mask[1, 2:] = False
    d_inputs = {}

    def loss():
        out = head.forward(inputs["text"], mask, inputs["image"])
        d_inputs["text"], d_inputs["image"] = head.backward()
        return out

    loss()
    grads = {k: v.copy() for k, v in (named_gradients(head) | d_inputs).items()}
    assert_gradients_match_finite_differences(loss, named_parameters(head) | inputs, grads, rng)


def test_clamp_keeps_the_temperature_in_clips_range():
    head = ContrastiveHead(4, 4, np.random.default_rng(2), np.float64)
    assert head.params["log_scale"][0] == pytest.approx(math.log(1 / 0.07))
    head.params["log_scale"][0] = 9.0
    head.clamp()
    assert np.exp(head.params["log_scale"][0]) == pytest.approx(100.0, rel=1e-6)  # CLIP's largest logit scale
    head.params["log_scale"][0] = -2.0
    head.clamp()
    assert head.params["log_scale"][0] == 0.0
    fixed = ContrastiveHead(4, 4, np.random.default_rng(2), np.float64, temperature=200.0, learn_temperature=False)
    assert "log_scale" not in named_parameters(fixed)
    fixed.clamp()  # a fixed temperature is the caller's choice, not clamped
    assert fixed.log_scale[0] == pytest.approx(math.log(1 / 200))

