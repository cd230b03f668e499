"""bindings.nn.attention against torch.nn.functional.scaled_dot_product_attention: boolean, additive, causal and
broadcast masks, forward and backward, float32 and float64; dropout against torch on the mask it drew and in
expectation."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bindings.nn import Dropout, ScaledDotProductAttention, scaled_dot_product_attention

pytestmark = pytest.mark.usefixtures("one_thread")
B, H, L, S, E, EV = 2, 3, 4, 6, 5, 7


def qkv(rng, dtype):
    return (rng.standard_normal((B, H, L, E)).astype(dtype), rng.standard_normal((B, H, S, E)).astype(dtype),
            rng.standard_normal((B, H, S, EV)).astype(dtype))


def torch_sdpa(q, k, v, dy, **kwargs):
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    mask = kwargs.pop("attn_mask", None)
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=None if mask is None else torch.from_numpy(mask),
                                         **kwargs)
    out.backward(torch.from_numpy(dy))
    return out.detach().numpy(), tq.grad.numpy(), tk.grad.numpy(), tv.grad.numpy()


def random_bool_mask(rng, shape):
    mask = rng.random(shape) < 0.6
    mask[..., 0] = True  # every query keeps a key (a fully masked row is tested on its own)
    return mask


MASKS = {
    "none": lambda rng: {},
    "bool": lambda rng: {"attn_mask": random_bool_mask(rng, (B, H, L, S))},
    "bool_broadcast": lambda rng: {"attn_mask": random_bool_mask(rng, (L, S))},
    "float": lambda rng: {"attn_mask": rng.standard_normal((B, 1, L, S))},
    "causal": lambda rng: {"is_causal": True},
    "scale": lambda rng: {"scale": 0.3},
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask", sorted(MASKS))
def test_matches_torch_forward_and_backward(mask, dtype):
    rng = np.random.default_rng(0)
    q, k, v = qkv(rng, dtype)
    kwargs = MASKS[mask](rng)
    if "attn_mask" in kwargs and kwargs["attn_mask"].dtype != bool:
        kwargs["attn_mask"] = kwargs["attn_mask"].astype(dtype)
    dy = rng.standard_normal((B, H, L, EV)).astype(dtype)
    layer = ScaledDotProductAttention()
    out = layer.forward(q, k, v, **kwargs)
    grads = layer.backward(dy)
    ref = torch_sdpa(q, k, v, dy, **kwargs)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref[0], rtol=tol, atol=tol)
    for ours, theirs in zip(grads, ref[1:]):
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)
    np.testing.assert_allclose(scaled_dot_product_attention(q, k, v, **kwargs), out, rtol=0, atol=0)


def test_causal_mask_on_a_rectangular_score_matrix_matches_torch():
    rng = np.random.default_rng(1)
    q, k, v = qkv(rng, np.float64)
    np.testing.assert_allclose(scaled_dot_product_attention(q, k, v, is_causal=True),
                               F.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)), is_causal=True),
                               rtol=1e-12, atol=1e-12)


def test_key_mask_equals_a_broadcast_boolean_mask_without_a_head_axis():
    rng = np.random.default_rng(6)
    q, k, v = (a[:, 0] for a in qkv(rng, np.float64))  # (B, L, E) etc.
    key_mask = random_bool_mask(rng, (B, S))
    expected = F.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)),
                                              attn_mask=torch.from_numpy(key_mask[:, None, :]))
    np.testing.assert_allclose(ScaledDotProductAttention().forward(q, k, v, key_mask=key_mask), expected,
                               rtol=1e-12, atol=1e-12)


def test_fully_masked_query_gets_zero_output_and_gradient():
    rng = np.random.default_rng(2)
    q, k, v = qkv(rng, np.float64)
    mask = random_bool_mask(rng, (B, H, L, S))
    mask[0, 1, 2] = False
    layer = ScaledDotProductAttention()
    out = layer.forward(q, k, v, attn_mask=mask)
    dq, _, _ = layer.backward(np.ones_like(out))
    assert np.all(out[0, 1, 2] == 0) and np.all(dq[0, 1, 2] == 0) and np.isfinite(out).all()
    np.testing.assert_allclose(out, F.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)),
                                                                   attn_mask=torch.from_numpy(mask)), atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_matches_torch_on_the_drawn_mask(dtype):
    # torch's RNG cannot be replayed here, so the reference applies the mask ours drew to torch's math
    p = 0.4
    rng = np.random.default_rng(3)
    q, k, v = qkv(rng, dtype)
    dy = rng.standard_normal((B, H, L, EV)).astype(dtype)
    layer = ScaledDotProductAttention(p, rng=7)
    out = layer.forward(q, k, v, is_causal=True)
    grads = layer.backward(dy)
    keep = layer.children["dropout"].mask
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    causal = torch.ones(L, S, dtype=torch.bool).tril()
    scores = (tq @ tk.transpose(-1, -2) / np.sqrt(E)).masked_fill(~causal, float("-inf"))
    ref = (torch.softmax(scores, -1) * torch.from_numpy(keep) / (1 - p)) @ tv
    ref.backward(torch.from_numpy(dy))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=tol, atol=tol)
    for ours, theirs in zip(grads, (tq.grad, tk.grad, tv.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=tol, atol=tol)
    assert abs(keep.mean() - (1 - p)) < 0.1
    layer.eval()
    np.testing.assert_allclose(layer.forward(q, k, v, is_causal=True),
                               scaled_dot_product_attention(q, k, v, is_causal=True), atol=0)


def test_dropout_keeps_the_expected_output():
    rng = np.random.default_rng(4)
    q, k, v = qkv(rng, np.float64)
    plain = scaled_dot_product_attention(q, k, v)
    mean = np.mean([scaled_dot_product_attention(q, k, v, dropout_p=0.3, rng=seed) for seed in range(3000)], axis=0)
    np.testing.assert_allclose(mean, plain, atol=0.05)
    x = np.ones((200, 200))
    kept = Dropout(0.25, rng=0).forward(x)
    assert set(np.unique(kept)) == {0.0, 1 / 0.75} and abs((kept > 0).mean() - 0.75) < 0.01


def test_bad_input_names_the_argument():
    rng = np.random.default_rng(5)
    q, k, v = qkv(rng, np.float32)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 6\) does not broadcast"):
        scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 6), bool))
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        scaled_dot_product_attention(q, k, v, attn_mask=np.ones((L, S), bool), is_causal=True)
    with pytest.raises(TypeError, match="attn_mask must be a bool or float"):
        scaled_dot_product_attention(q, k, v, attn_mask=np.ones((L, S), int))
    with pytest.raises(ValueError, match="must agree"):
        scaled_dot_product_attention(q, k[..., :4], v)
    with pytest.raises(TypeError, match="share one dtype"):
        scaled_dot_product_attention(q, k.astype(np.float64), v)
    with pytest.raises(ValueError, match="dropout_p"):
        scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    with pytest.raises(TypeError, match="q must be a numpy array"):
        scaled_dot_product_attention(q.tolist(), k, v)
