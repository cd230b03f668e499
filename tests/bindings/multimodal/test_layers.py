"""Gradient checks of every multimodal layer: pooling and the image encoder against torch autograd;
text encoder, the three fusions and the whole model (missing modalities, contrastive term) against
finite differences."""
import numpy as np
import pytest
import torch
from tests.bindings.multimodal.finite_differences import assert_gradients_match_finite_differences

from bindings.multimodal import ImageEncoder, MultimodalNet, Pooling, TextEncoder, make_shapes
from bindings.multimodal.fusion import FUSIONS
from bindings.nn import named_gradients, named_parameters

pytestmark = pytest.mark.usefixtures("one_thread")
DIM = 8


def copies(d):
    return {k: np.array(v, copy=True) for k, v in d.items()}


@pytest.mark.parametrize("kind", ["mean", "attention"])
def test_pooling_matches_torch(kind):
    rng = np.random.default_rng(0)
    pool = Pooling(kind, DIM, rng, np.float64)
    x = rng.standard_normal((3, 5, DIM))
    mask = np.array([[True] * 5, [True, True, False, False, False], [False, True, True, False, True]])
    dy = rng.standard_normal((3, DIM))
    y = pool.forward(x, mask)
    dx = pool.backward(dy)

    tx = torch.tensor(x, requires_grad=True)
    tm = torch.from_numpy(mask)
    if kind == "mean":
        ty = (tx * tm[..., None]).sum(1) / tm.sum(1, keepdim=True)
    else:
        tq = torch.tensor(pool.params["query"], requires_grad=True)
        scores = (tx @ tq / np.sqrt(DIM)).masked_fill(~tm, float("-inf"))
        ty = (torch.softmax(scores, dim=1)[..., None] * tx).sum(1)
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    if kind == "attention":
        np.testing.assert_allclose(pool.grads["query"], tq.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_image_encoder_matches_torch_conv_patch_embedding():
    # A patch Linear is a Conv2d with kernel = stride = patch; the MLP is fc2(gelu_tanh(fc1(x))) + x.
    rng = np.random.default_rng(1)
    enc = ImageEncoder((3, 8, 12), 4, DIM, rng, dtype=np.float64)
    for v in named_parameters(enc).values():
        v += 0.2 * rng.standard_normal(v.shape)
    images = rng.standard_normal((2, 3, 8, 12))
    dy = rng.standard_normal((2, 6, DIM))
    y = enc.forward(images)
    enc.backward(dy)
    p, g = named_parameters(enc), named_gradients(enc)

    t = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    conv_weight = t["embed.weight"].T.reshape(DIM, 3, 4, 4)
    patches = torch.nn.functional.conv2d(torch.from_numpy(images), conv_weight, t["embed.bias"], stride=4)
    x = patches.flatten(2).transpose(1, 2) + t["positions"]
    hidden = torch.nn.functional.gelu(x @ t["mlp.fc1.weight"] + t["mlp.fc1.bias"], approximate="tanh")
    ty = x + hidden @ t["mlp.fc2.weight"] + t["mlp.fc2.bias"]
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    for name in p:
        np.testing.assert_allclose(g[name], t[name].grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("n_layers", [0, 1])
def test_text_encoder_gradients_match_finite_differences(n_layers):
    rng = np.random.default_rng(2)
    enc = TextEncoder(9, DIM, rng, n_layers=n_layers, max_len=6, dtype=np.float64)
    tokens = rng.integers(0, 9, (3, 5))
    mask = np.ones((3, 5), bool)
    mask[1, 3:] = False
    weights = rng.standard_normal((3, 5, DIM))

    def loss():
        out = float((enc.forward(tokens, mask) * weights).sum())
        enc.backward(weights)
        return out

    loss()
    assert_gradients_match_finite_differences(loss, named_parameters(enc), copies(named_gradients(enc)), rng)


@pytest.mark.parametrize("fusion", sorted(FUSIONS))
def test_fusion_gradients_match_finite_differences(fusion):
    # The inputs join the parameters so that the returned input gradients are checked too.
    rng = np.random.default_rng(3)
    layer = FUSIONS[fusion](DIM, 4, rng, pooling="attention", dtype=np.float64)
    for v in named_parameters(layer).values():
        v += 0.2 * rng.standard_normal(v.shape)
    inputs = {"text": rng.standard_normal((3, 5, DIM)), "image": rng.standard_normal((3, 4, DIM))}
    mask = np.ones((3, 5), bool)
    mask[2, 2:] = False
    weights = rng.standard_normal((3, 4))
    d_inputs = {}

    def loss():
        out = float((layer.forward(inputs["text"], mask, inputs["image"]) * weights).sum())
        d_inputs["text"], d_inputs["image"] = layer.backward(weights)
        return out

    loss()
    grads = copies(named_gradients(layer)) | copies(d_inputs)
    assert_gradients_match_finite_differences(loss, named_parameters(layer) | inputs, grads, rng)


@pytest.mark.parametrize("fusion", sorted(FUSIONS))
def test_model_gradients_with_missing_modalities_and_contrastive_term(fusion):
    rng = np.random.default_rng(4)
    data = make_shapes(8, seed=4)
    model = MultimodalNet(len(data.vocab), 3, data.images.shape[1:], fusion=fusion, dim=DIM, embed_dim=6,
                          text_layers=1, image_layers=1 if fusion == "cross" else 0, pooling="attention",
                          seed=4, dtype=np.float64)
    text_present = np.array([True, False, True, True, True, True, False, True])
    image_present = np.array([True, True, False, True, True, True, True, True])

    def loss():
        return model.loss_and_backward(data.tokens, data.mask, data.images, data.labels, text_present=text_present,
                                       image_present=image_present, contrastive_weight=0.7)["loss"]

    loss()
    grads = copies(named_gradients(model))
    assert np.abs(grads["missing_text"]).sum() > 0 and np.abs(grads["missing_image"]).sum() > 0
    assert_gradients_match_finite_differences(loss, named_parameters(model), grads, rng, per_tensor=2)
