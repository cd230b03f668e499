"""bindings.nn.transformer: blocks against torch.nn.TransformerEncoderLayer (padding, causal, boolean and additive
masks), state_dict exchange with torch.nn.TransformerEncoder in both directions, finite-difference gradient checks
(with dropout on fixed masks), and a toy task the classifier must learn."""
import numpy as np
import pytest
import torch

from bindings.nn import (Adam, Dropout, EncoderBlock, Gelu, MultiHeadAttention, TokenClassifier, TransformerEncoder,
                         lr_schedule, named_gradients, named_parameters)

DIM, HEADS, FF = 8, 2, 12
pytestmark = pytest.mark.usefixtures("one_thread")


TORCH_ACTIVATIONS = {"gelu_tanh": lambda t: torch.nn.functional.gelu(t, approximate="tanh"), "gelu": "gelu"}


def copy_block_to_torch(block, activation):
    """A torch.nn.TransformerEncoderLayer (float64, no dropout) with the weights of ``block``."""
    layer = torch.nn.TransformerEncoderLayer(
        DIM, HEADS, FF, dropout=0.0, batch_first=True, norm_first=block.norm_position == "pre",
        activation=TORCH_ACTIVATIONS[activation], dtype=torch.float64)
    p = named_parameters(block)
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    with torch.no_grad():
        sa = layer.self_attn
        sa.in_proj_weight.copy_(t(np.concatenate([p[f"attn.{n}.weight"].T for n in ("query", "key", "value")])))
        sa.in_proj_bias.copy_(t(np.concatenate([p[f"attn.{n}.bias"] for n in ("query", "key", "value")])))
        sa.out_proj.weight.copy_(t(p["attn.out.weight"].T))
        sa.out_proj.bias.copy_(t(p["attn.out.bias"]))
        for ours, theirs in (("ff.fc1", layer.linear1), ("ff.fc2", layer.linear2)):
            theirs.weight.copy_(t(p[f"{ours}.weight"].T))
            theirs.bias.copy_(t(p[f"{ours}.bias"]))
        for name in ("norm1", "norm2"):
            getattr(layer, name).weight.copy_(t(p[f"{name}.weight"]))
            getattr(layer, name).bias.copy_(t(p[f"{name}.bias"]))
    return layer


def randomize(layer, rng, scale=0.3):
    for value in named_parameters(layer).values():
        value += scale * rng.standard_normal(value.shape)


def block_masks(kind, rng, t):
    """(our keyword arguments, torch's) for one kind of mask; ours: True = may attend, torch's bool: True = masked."""
    if kind == "causal":
        causal = torch.nn.Transformer.generate_square_subsequent_mask(t, dtype=torch.float64)
        return {"is_causal": True}, {"src_mask": causal, "is_causal": True}
    if kind == "bool":
        allowed = rng.random((t, t)) < 0.6
        allowed[:, 0] = True
        return {"attn_mask": allowed}, {"src_mask": torch.from_numpy(~allowed)}
    if kind == "float":
        bias = rng.standard_normal((t, t))
        return {"attn_mask": bias}, {"src_mask": torch.from_numpy(bias)}
    return {}, {}


@pytest.mark.filterwarnings("ignore:Support for mismatched src_key_padding_mask")  # float src_mask, bool padding
@pytest.mark.parametrize("mask", ["padding_only", "causal", "bool", "float"])
@pytest.mark.parametrize("norm_position", ["pre", "post"])
@pytest.mark.parametrize("activation", ["gelu_tanh", "gelu"])
def test_encoder_block_matches_torch_forward_and_backward(activation, norm_position, mask):
    rng = np.random.default_rng(0)
    block = EncoderBlock(DIM, HEADS, FF, rng, norm_position=norm_position, activation=activation, dtype=np.float64)
    randomize(block, rng)
    x = rng.standard_normal((3, 5, DIM))
    key_mask = np.ones((3, 5), bool)
    key_mask[1, 3:] = False  # a shorter sequence padded to length 5
    ours_mask, torch_mask = block_masks(mask, rng, 5)
    dy = rng.standard_normal(x.shape)
    y = block.forward(x, key_mask, **ours_mask)
    dx = block.backward(dy)

    layer = copy_block_to_torch(block, activation)
    tx = torch.tensor(x, requires_grad=True)
    ty = layer(tx, src_key_padding_mask=torch.from_numpy(~key_mask), **torch_mask)
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    g = named_gradients(block)
    np.testing.assert_allclose(g["ff.fc1.weight"], layer.linear1.weight.grad.numpy().T, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(g["attn.out.weight"], layer.self_attn.out_proj.weight.grad.numpy().T,
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(g["norm1.weight"], layer.norm1.weight.grad.numpy(), rtol=1e-10, atol=1e-10)
    d_in_proj = np.concatenate([g[f"attn.{n}.weight"].T for n in ("query", "key", "value")])
    np.testing.assert_allclose(d_in_proj, layer.self_attn.in_proj_weight.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_cross_attention_matches_torch_multihead_attention():
    rng = np.random.default_rng(1)
    attn = MultiHeadAttention(DIM, HEADS, rng, dtype=np.float64)
    x, context = rng.standard_normal((2, 3, DIM)), rng.standard_normal((2, 6, DIM))
    key_mask = np.array([[True] * 6, [True, True, False, True, False, False]])
    dy = rng.standard_normal(x.shape)
    y = attn.forward(x, context, key_mask)
    dx, d_context = attn.backward(dy)

    p = named_parameters(attn)
    mha = torch.nn.MultiheadAttention(DIM, HEADS, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([p[f"{n}.weight"].T for n in ("query", "key", "value")])))
        mha.in_proj_bias.zero_()
        mha.out_proj.weight.copy_(torch.from_numpy(np.ascontiguousarray(p["out.weight"].T)))
        mha.out_proj.bias.zero_()
    tx = torch.tensor(x, requires_grad=True)
    tc = torch.tensor(context, requires_grad=True)
    ty = mha(tx, tc, tc, key_padding_mask=torch.from_numpy(~key_mask), need_weights=False)[0]
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(d_context, tc.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_fully_masked_keys_give_zero_attention_not_nan():
    rng = np.random.default_rng(2)
    attn = MultiHeadAttention(DIM, HEADS, rng, dtype=np.float64)
    x = rng.standard_normal((2, 4, DIM))
    key_mask = np.array([[True] * 4, [False] * 4])
    y = attn.forward(x, key_mask=key_mask)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y[1], np.broadcast_to(attn.children["out"].params["bias"], (4, DIM)))


@pytest.mark.parametrize("norm", ["layer", "rms", "batch"])
@pytest.mark.parametrize("norm_position", ["pre", "post"])
def test_encoder_gradients_match_finite_differences(norm_position, norm):
    rng = np.random.default_rng(3)
    model = TokenClassifier(7, 5, dim=DIM, n_heads=HEADS, ff_dim=FF, n_layers=2, norm_position=norm_position,
                               norm=norm, seed=3, dtype=np.float64)
    randomize(model, rng, scale=0.1)
    tokens = rng.integers(0, 7, (2, 4))
    targets = rng.integers(0, 5, (2, 4))
    key_mask = np.array([[True] * 4, [True, True, True, False]])
    model.loss_and_backward(tokens, targets, key_mask)
    grads = named_gradients(model)
    params = named_parameters(model)
    assert set(grads) == set(params)
    h = 1e-6
    for name, p in params.items():
        # three entries per tensor keep the check fast while touching every parameter tensor
        for flat in rng.choice(p.size, size=min(3, p.size), replace=False):
            idx = np.unravel_index(flat, p.shape)
            keep = p[idx]
            p[idx] = keep + h
            up = model.loss_and_backward(tokens, targets, key_mask)
            p[idx] = keep - h
            down = model.loss_and_backward(tokens, targets, key_mask)
            p[idx] = keep
            numeric = (up - down) / (2 * h)
            assert abs(grads[name][idx] - numeric) <= 1e-6 * max(1.0, abs(numeric)), (name, idx)


def test_encoder_learns_to_reverse_sequences():
    # Reversal needs attention to the mirrored position: a bag-of-tokens model cannot do it.
    rng = np.random.default_rng(4)
    model = TokenClassifier(6, 6, dim=32, n_heads=4, ff_dim=64, n_layers=2, seed=4)
    opt = Adam(named_parameters(model), lr=3e-3, schedule=lr_schedule(warmup_steps=20))
    for step in range(250):
        tokens = rng.integers(0, 6, (32, 6))
        model.loss_and_backward(tokens, tokens[:, ::-1].copy())
        opt.step(named_gradients(model))
    tokens = rng.integers(0, 6, (256, 6))
    accuracy = (model.forward(tokens).argmax(-1) == tokens[:, ::-1]).mean()
    assert accuracy > 0.95


def test_bad_configuration_raises():
    rng = np.random.default_rng(5)
    with pytest.raises(ValueError, match="norm_position"):
        EncoderBlock(DIM, HEADS, FF, rng, norm_position="middle")
    with pytest.raises(ValueError, match="norm must be one of"):
        EncoderBlock(DIM, HEADS, FF, rng, norm="group")
    with pytest.raises(ValueError, match="multiple of n_heads"):
        MultiHeadAttention(10, 4, rng)
    with pytest.raises(ValueError, match="max_len"):
        TokenClassifier(5, 5, max_len=4).forward(np.zeros((1, 6), int))
    model, tokens = TokenClassifier(5, 3, dim=8, n_heads=2, ff_dim=8, n_layers=1), np.zeros((2, 4), int)
    with pytest.raises(ValueError, match=r"targets must be in \[0, 3\)"):
        model.loss_and_backward(tokens, np.full((2, 4), 3))  # the kernel indexes logits with them unchecked
    with pytest.raises(ValueError, match=r"targets must be an int array of shape \(2, 4\)"):
        model.loss_and_backward(tokens, np.zeros((2, 3), int))
    with pytest.raises(TypeError, match="targets must be integer classes"):
        model.loss_and_backward(tokens, np.zeros((2, 4)))


def test_masked_loss_and_logit_gradient_match_torch_cross_entropy():
    """The mean cross-entropy over the real tokens and the gradient it sends back, against torch."""
    rng = np.random.default_rng(8)
    model = TokenClassifier(6, 4, dim=8, n_heads=2, ff_dim=8, n_layers=1, seed=8, dtype=np.float64)
    tokens, targets = rng.integers(0, 6, (3, 5)), rng.integers(0, 4, (3, 5))
    key_mask = np.arange(5)[None, :] < np.array([[5], [3], [4]])
    seen = {}
    model.backward = lambda grad: seen.setdefault("grad", grad)  # capture the logits' gradient only
    loss = model.loss_and_backward(tokens, targets, key_mask)
    logits = torch.tensor(model.forward(tokens, key_mask), requires_grad=True)
    ref = torch.nn.functional.cross_entropy(logits[torch.from_numpy(key_mask)],
                                            torch.from_numpy(targets[key_mask]))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(seen["grad"], logits.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_eval_mode_makes_outputs_independent_of_batch_companions(norm):
    # LayerNorm never mixes sequences; BatchNorm does in training mode and stops in eval mode.
    rng = np.random.default_rng(6)
    model = TokenClassifier(5, 5, dim=DIM, n_heads=HEADS, ff_dim=FF, norm=norm, seed=6, dtype=np.float64)
    tokens = rng.integers(0, 5, (3, 4))
    companions = tokens.copy()
    companions[1:] = rng.integers(0, 5, (2, 4))

    def change():
        return np.abs(model.forward(tokens)[0] - model.forward(companions)[0]).max()

    assert (change() > 1e-3) == (norm == "batch")
    model.eval()
    assert change() < 1e-12
    model.train()
    assert (change() > 1e-3) == (norm == "batch")


def _layers(layer):
    """Every layer at and below ``layer`` (the norms inside the token-norm wrappers too)."""
    yield layer
    for child in list(layer.children.values()) + ([layer.norm] if hasattr(layer, "norm") else []):
        yield from _layers(child)


@pytest.mark.parametrize("norm", ["layer", "rms", "batch"])
def test_train_and_eval_reach_every_layer_as_torch_modules_do(norm):
    # torch.nn.Module.train/eval set ``training`` on the module and all below it and return the module
    model = TokenClassifier(5, 5, dim=DIM, n_heads=HEADS, ff_dim=FF, norm=norm, seed=1)
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(DIM, HEADS, FF, batch_first=True), 2,
                                         enable_nested_tensor=False)
    for mode in (False, True, False):
        assert model.train(mode) is model and theirs.train(mode) is theirs
        assert {layer.training for layer in _layers(model)} == {m.training for m in theirs.modules()} == {mode}
    assert model.train() is model and all(layer.training for layer in _layers(model))


def torch_encoder(norm_first, n_layers=2, activation="relu"):
    layer = torch.nn.TransformerEncoderLayer(DIM, HEADS, FF, dropout=0.1, activation=activation, batch_first=True,
                                             norm_first=norm_first)
    return torch.nn.TransformerEncoder(layer, n_layers, norm=torch.nn.LayerNorm(DIM) if norm_first else None,
                                       enable_nested_tensor=False).eval()


def ours_like(norm_first, seed=0, activation="relu"):
    return TransformerEncoder(DIM, HEADS, FF, 2, norm_position="pre" if norm_first else "post",
                              final_norm=norm_first, activation=activation, seed=seed).eval()


def compare_outputs(ours, theirs, rng):
    """Outputs of both in eval mode on the same float32 input, with padding and with a causal mask."""
    x = rng.standard_normal((3, 5, DIM)).astype(np.float32)
    key_mask = np.arange(5)[None, :] < np.array([[5], [3], [4]])
    with torch.no_grad():
        padded = theirs(torch.from_numpy(x), src_key_padding_mask=torch.from_numpy(~key_mask)).numpy()
        causal = theirs(torch.from_numpy(x), mask=torch.nn.Transformer.generate_square_subsequent_mask(5),
                        is_causal=True).numpy()
    # padded positions' outputs are not defined by torch's fast path; compare the real tokens
    np.testing.assert_allclose(ours.forward(x, key_mask=key_mask)[key_mask], padded[key_mask], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.forward(x, is_causal=True), causal, rtol=1e-5, atol=1e-5)
    return x, padded


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_state_dict_from_torch_gives_torchs_outputs(norm_first, activation):
    torch.manual_seed(0)
    theirs = torch_encoder(norm_first, activation=activation)
    ours = ours_like(norm_first, activation=activation)
    missing, unexpected = ours.load_state_dict(theirs.state_dict())
    assert missing == unexpected == []
    x, padded = compare_outputs(ours, theirs, np.random.default_rng(9))
    if activation == "gelu":  # torch's "gelu" is the exact one: the tanh approximation misses at this tolerance
        tanh = ours_like(norm_first, activation="gelu_tanh")
        tanh.load_state_dict(theirs.state_dict())
        key_mask = np.arange(5)[None, :] < np.array([[5], [3], [4]])
        assert np.abs(tanh.forward(x, key_mask=key_mask)[key_mask] - padded[key_mask]).max() > 1e-4


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_state_dict_to_torch_gives_our_outputs(norm_first, activation):
    rng = np.random.default_rng(10)
    ours = ours_like(norm_first, seed=10, activation=activation)
    randomize(ours, rng, scale=0.2)
    theirs = torch_encoder(norm_first, activation=activation)
    state = ours.state_dict()
    assert list(state) == list(theirs.state_dict())  # same keys, same order
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    compare_outputs(ours, theirs, rng)


def test_load_state_dict_checks_keys_and_shapes_like_torch_strict():
    theirs = torch_encoder(True)
    ours = ours_like(False)  # post-norm without a final norm: torch's "norm.*" keys are unexpected
    with pytest.raises(ValueError, match=r"unexpected keys \['norm.bias', 'norm.weight'\]"):
        ours.load_state_dict(theirs.state_dict())
    assert ours.load_state_dict(theirs.state_dict(), strict=False) == ([], ["norm.bias", "norm.weight"])
    state = ours_like(True).state_dict()
    del state["layers.1.linear2.bias"]
    with pytest.raises(ValueError, match=r"missing keys \['layers.1.linear2.bias'\]"):
        ours_like(True).load_state_dict(state)
    state = ours_like(True).state_dict()
    state["layers.0.linear1.weight"] = state["layers.0.linear1.weight"].T
    with pytest.raises(ValueError, match=r"state_dict\['layers.0.linear1.weight'\] has shape \(8, 12\)"):
        ours_like(True).load_state_dict(state)
    with pytest.raises(TypeError, match="state_dict must be a mapping"):
        ours_like(True).load_state_dict([1, 2])


def test_encoder_forward_names_bad_inputs():
    encoder, x = ours_like(True), np.zeros((2, 5, DIM), np.float32)
    with pytest.raises(ValueError, match=r"x must be an array of shape \(batch, length, 8\)"):
        encoder.forward(np.zeros((2, 5, DIM + 1), np.float32))
    with pytest.raises(ValueError, match=r"key_mask must be a bool array of shape \(batch, keys\) = \(2, 5\)"):
        encoder.forward(x, key_mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 4\) does not broadcast"):
        encoder.forward(x, attn_mask=np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="activation must be one of"):
        TransformerEncoder(DIM, HEADS, FF, 1, activation="swish")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_layer_is_torchs_gelu(approximate, dtype):
    # default "none" as torch.nn.GELU(); any shape and memory layout; dtype kept; 0 and both tails included
    rng = np.random.default_rng(12)
    layer = Gelu() if approximate == "none" else Gelu(approximate=approximate)
    x = (3 * rng.standard_normal((2, 6, 4))).astype(dtype)
    x[0, 0] = 0.0, -40.0, 30.0, -1e4
    x[1, 0] = 1e4, -9.0, 9.0, 1e-30
    dy = rng.standard_normal(x.shape).astype(dtype)
    y, dx = layer.forward(x[:, ::2]), layer.backward(dy[:, ::2])  # a non-contiguous view
    t = torch.tensor(x[:, ::2], requires_grad=True)
    ref = torch.nn.GELU(approximate=approximate)(t) if approximate == "tanh" else torch.nn.GELU()(t)
    ref.backward(torch.from_numpy(dy[:, ::2].copy()))
    assert y.shape == dx.shape == x[:, ::2].shape and y.dtype == dx.dtype == dtype
    assert y[0, 0, 0] == 0.0 and dx[0, 0, 0] == 0.5 * dy[0, 0, 0]
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(y, ref.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, t.grad.numpy(), rtol=tol, atol=tol)


def test_gelu_and_activation_name_bad_values():
    with pytest.raises(ValueError, match=r"approximate must be one of \('none', 'tanh'\), got 'tahn'; "
                                         r"did you mean 'tanh'\?"):
        Gelu(approximate="tahn")
    with pytest.raises(ValueError, match=r"activation must be one of \('relu', 'gelu', 'gelu_tanh'\), got 'gleu'; "
                                         r"did you mean 'gelu'\?"):
        TransformerEncoder(DIM, HEADS, FF, 1, activation="gleu")
    with pytest.raises(ValueError, match=r"activation must be one of .*got 'GELU'"):
        EncoderBlock(DIM, HEADS, FF, np.random.default_rng(0), activation="GELU")
    with pytest.raises(TypeError, match="x must be a float32 or float64 array, got int64"):
        Gelu().forward(np.arange(3))


def freeze_dropout(layer, seed):
    """Give every Dropout below ``layer`` a fresh generator, so the next forward draws the same masks again."""
    for child in layer.children.values():
        if isinstance(child, Dropout):
            child.rng = np.random.default_rng(seed)
        freeze_dropout(child, seed)


@pytest.mark.parametrize("norm_position", ["pre", "post"])
def test_block_gradients_with_dropout_match_finite_differences(norm_position):
    rng = np.random.default_rng(11)
    block = EncoderBlock(DIM, HEADS, FF, rng, norm_position=norm_position, dropout=0.3, dtype=np.float64)
    randomize(block, rng, scale=0.2)
    x, dy = rng.standard_normal((2, 4, DIM)), rng.standard_normal((2, 4, DIM))

    def loss(x):
        freeze_dropout(block, 5)
        return float(np.sum(block.forward(x, is_causal=True) * dy))

    loss(x)
    dx = block.backward(dy)
    assert block.children["ff"].children["drop"].mask.mean() < 0.9  # dropout was active
    h = 1e-6
    for idx in [(0, 0, 0), (1, 3, 5), (0, 2, 7)]:
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        assert dx[idx] == pytest.approx((loss(up) - loss(down)) / (2 * h), rel=1e-6, abs=1e-8)
    block.eval()
    plain = EncoderBlock(DIM, HEADS, FF, np.random.default_rng(0), norm_position=norm_position, dtype=np.float64)
    for name, value in named_parameters(plain).items():
        value[:] = named_parameters(block)[name]
    np.testing.assert_allclose(block.forward(x), plain.forward(x), atol=0)
