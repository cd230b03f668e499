"""Gradient checks of every multimodal layer: pooling, the image encoder, the ALBEF block and fusion
encoder (with matching pairs) against torch autograd; text encoder, the four fusions and the whole model
(missing modalities, contrastive and matching terms) against finite differences."""
import numpy as np
import pytest
import torch
from tests.bindings.multimodal.finite_differences import assert_gradients_match_finite_differences

from bindings.multimodal import (CrossAttentionBlock, FusionEncoder, ImageEncoder, MultimodalNet, Pooling, TextEncoder,
                                 make_shapes, sample_hard_negatives)
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
                          text_layers=1, image_layers=1 if fusion in ("cross", "albef") else 0, pooling="attention",
                          fusion_layers=1,
                          seed=4, dtype=np.float64)
    text_present = np.array([True, False, True, True, True, True, False, True])
    image_present = np.array([True, True, False, True, True, True, True, True])

    # the matching term (albef only) draws its negatives from a fresh, equally seeded generator every call
    itm = {"itm_weight": 0.9, "rng": None} if fusion == "albef" else {}

    def loss():
        if itm:
            itm["rng"] = np.random.default_rng(0)
        return model.loss_and_backward(data.tokens, data.mask, data.images, data.labels, text_present=text_present,
                                       image_present=image_present, contrastive_weight=0.7, **itm)["loss"]

    loss()
    grads = copies(named_gradients(model))
    assert np.abs(grads["missing_text"]).sum() > 0 and np.abs(grads["missing_image"]).sum() > 0
    assert_gradients_match_finite_differences(loss, named_parameters(model), grads, rng, per_tensor=2)


def torch_layer_norm(x, t, prefix):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], t[f"{prefix}.weight"], t[f"{prefix}.bias"], eps=1e-5)


def torch_attention(query, context, t, prefix, n_heads, key_padding_mask=None):
    """torch.nn.functional.multi_head_attention_forward with our query/key/value/out Linear weights
    (stored (in, out), torch stores (out, in))."""
    w = {name: t[f"{prefix}.{name}.weight"].T for name in ("query", "key", "value", "out")}
    b = {name: t[f"{prefix}.{name}.bias"] for name in ("query", "key", "value", "out")}
    out, _ = torch.nn.functional.multi_head_attention_forward(
        query.transpose(0, 1), context.transpose(0, 1), context.transpose(0, 1), query.shape[-1], n_heads,
        None, torch.cat([b["query"], b["key"], b["value"]]), None, None, False, 0.0, w["out"], b["out"],
        training=False, key_padding_mask=key_padding_mask, need_weights=False, use_separate_proj_weight=True,
        q_proj_weight=w["query"], k_proj_weight=w["key"], v_proj_weight=w["value"])
    return out.transpose(0, 1)


def torch_block(x, mask, image, t, prefix, n_heads):
    """The ALBEF block of CrossAttentionBlock's docstring in torch (pre-norm, tanh GELU)."""
    h = x + torch_attention(torch_layer_norm(x, t, f"{prefix}norm1"), torch_layer_norm(x, t, f"{prefix}norm1"), t,
                            f"{prefix}self_attn", n_heads, key_padding_mask=~mask)
    g = h + torch_attention(torch_layer_norm(h, t, f"{prefix}norm2"), image, t, f"{prefix}cross_attn", n_heads)
    hidden = torch.nn.functional.gelu(torch_layer_norm(g, t, f"{prefix}norm3") @ t[f"{prefix}ff.fc1.weight"]
                                      + t[f"{prefix}ff.fc1.bias"], approximate="tanh")
    return g + hidden @ t[f"{prefix}ff.fc2.weight"] + t[f"{prefix}ff.fc2.bias"]


def perturbed_parameters(layer, rng):
    """Parameters moved off their initial values (LayerNorm gains 1 and biases 0 would hide mistakes)."""
    for v in named_parameters(layer).values():
        v += 0.3 * rng.standard_normal(v.shape)
    return named_parameters(layer)


def test_cross_attention_block_matches_torch():
    rng = np.random.default_rng(5)
    block = CrossAttentionBlock(DIM, 2, 16, rng, dtype=np.float64)
    p = perturbed_parameters(block, rng)
    x, image = rng.standard_normal((3, 5, DIM)), rng.standard_normal((3, 4, DIM))
    mask = np.ones((3, 5), bool)
    mask[1, 3:] = False
    dy = rng.standard_normal((3, 5, DIM))
    y = block.forward(x, mask, image)
    dx, d_image = block.backward(dy)
    g = named_gradients(block)

    t = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    tx, ti = torch.tensor(x, requires_grad=True), torch.tensor(image, requires_grad=True)
    ty = torch_block(tx, torch.from_numpy(mask), ti, t, "", 2)
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(d_image, ti.grad.numpy(), rtol=1e-10, atol=1e-10)
    for name in p:
        np.testing.assert_allclose(g[name], t[name].grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("pooling", ["mean", "attention"])
def test_fusion_encoder_with_matching_pairs_matches_torch(pooling):
    # Two stacked blocks, the final LayerNorm, pooling, both heads, and extra (caption, image) pairs that
    # reuse batch rows: the gradients of the reused rows must add up as torch's indexing does.
    rng = np.random.default_rng(6)
    layer = FusionEncoder(DIM, 3, rng, pooling=pooling, n_heads=2, n_layers=2, dtype=np.float64)
    p = perturbed_parameters(layer, rng)
    text, image = rng.standard_normal((4, 5, DIM)), rng.standard_normal((4, 3, DIM))
    mask = np.ones((4, 5), bool)
    mask[2, 2:] = False
    text_rows, image_rows = np.array([1, 2, 2, 0]), np.array([3, 3, 0, 1])
    d_logits, d_itm = rng.standard_normal((4, 3)), rng.standard_normal((8, 2))
    logits, itm = layer.forward(text, mask, image, itm_pairs=(text_rows, image_rows))
    d_text, d_image = layer.backward(d_logits, d_itm)
    g = named_gradients(layer)

    t = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    tt, ti = torch.tensor(text, requires_grad=True), torch.tensor(image, requires_grad=True)
    tm = torch.from_numpy(np.concatenate([mask, mask[text_rows]]))
    x = torch.cat([tt, tt[torch.from_numpy(text_rows)]])
    context = torch.cat([ti, ti[torch.from_numpy(image_rows)]])
    for i in range(2):
        x = torch_block(x, tm, context, t, f"blocks.{i}.", 2)
    x = torch_layer_norm(x, t, "final_norm")
    if pooling == "mean":
        weights = tm.double() / tm.sum(1, keepdim=True)
    else:
        weights = torch.softmax((x @ t["pool.query"] / np.sqrt(DIM)).masked_fill(~tm, float("-inf")), dim=1)
    pooled = (weights[..., None] * x).sum(1)
    hidden = torch.nn.functional.gelu(pooled[:4] @ t["head.fc1.weight"] + t["head.fc1.bias"], approximate="tanh")
    t_logits = hidden @ t["head.fc2.weight"] + t["head.fc2.bias"]
    t_itm = pooled @ t["itm_head.weight"] + t["itm_head.bias"]
    ((t_logits * torch.from_numpy(d_logits)).sum() + (t_itm * torch.from_numpy(d_itm)).sum()).backward()
    np.testing.assert_allclose(logits, t_logits.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(itm, t_itm.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(d_text, tt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(d_image, ti.grad.numpy(), rtol=1e-10, atol=1e-10)
    for name in p:
        np.testing.assert_allclose(g[name], t[name].grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=name)


def test_model_itm_loss_matches_torch_with_the_same_negatives():
    # The whole ITM term: hard negatives drawn with a seeded generator (the draw is checked in
    # test_matching), then the mean 2-class cross-entropy over positives and negatives in torch.
    data = make_shapes(6, seed=7)
    model = MultimodalNet(len(data.vocab), 3, data.images.shape[1:], fusion="albef", dim=DIM, embed_dim=6,
                          fusion_layers=1, seed=7, dtype=np.float64)
    out = model.loss_and_backward(data.tokens, data.mask, data.images, data.labels, itm_weight=1.0,
                                  rng=np.random.default_rng(0))
    head = model.children["contrastive"]
    negative_text, negative_image = sample_hard_negatives(head.logits(), np.random.default_rng(0))
    n = 6
    text_rows = np.concatenate([np.arange(n), negative_text, np.arange(n)])
    image_rows = np.concatenate([np.arange(n), np.arange(n), negative_image])
    itm = model.itm_logits(data.tokens[text_rows], data.mask[text_rows], data.images[image_rows])
    targets = torch.from_numpy((np.arange(3 * n) < n).astype(np.int64))
    expected = torch.nn.functional.cross_entropy(torch.from_numpy(itm), targets).item()
    assert out["itm"] == pytest.approx(expected, rel=1e-10)
    assert out["loss"] == pytest.approx(out["classification"] + expected, rel=1e-10)
