"""bindings.nn.norm layers against torch.nn.LayerNorm / RMSNorm / GroupNorm / BatchNorm1d / BatchNorm2d (forward
and autograd backward, running statistics)."""
import numpy as np
import pytest
import torch

from bindings.nn import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm
from bindings.nn.buffers import MIN_SPARE_BYTES

RTOL = 1e-5


def assert_rel_close(ours, ref, rtol=RTOL):
    """Elementwise |ours - ref| <= rtol * (|ref| + max|ref|): relative to the entry or the array's scale."""
    ref = np.asarray(ref, dtype=np.float64)
    scale = max(np.abs(ref).max(), 1e-30)
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=rtol * scale)


def make_input(kind, shape, rng):
    """Random and adversarial float32 inputs of ``shape`` (last axis = features)."""
    if kind == "random":
        x = rng.normal(0.5, 2.0, shape)
    elif kind == "offset_1e4":  # large offset, small noise: catastrophic cancellation in E[x^2]-E[x]^2
        x = 1e4 + 1e-2 * rng.standard_normal(shape)
    elif kind == "constant_rows":  # zero variance: output is exactly the bias
        x = np.repeat(rng.normal(size=shape[:-1] + (1,)), shape[-1], axis=-1)
        x[..., 0, :] = rng.normal(size=shape[-1])  # keep one ordinary row/sample for BatchNorm
    elif kind == "variance_near_eps":  # var ~ eps: eps changes the output by a large factor
        x = 3.0 + 3e-3 * rng.standard_normal(shape)
    return x.astype(np.float32)


def torch_reference(ours, x, dy, dtype):
    """torch layer with the same configuration and parameters; returns (y, dx, {name: grad})."""
    if isinstance(ours, (BatchNorm1d, BatchNorm2d)):
        cls = torch.nn.BatchNorm1d if isinstance(ours, BatchNorm1d) else torch.nn.BatchNorm2d
        layer = cls(ours.num_features, eps=ours.eps, momentum=ours.momentum, affine=bool(ours.params),
                    track_running_stats=ours.track_running_stats)
    elif isinstance(ours, GroupNorm):
        layer = torch.nn.GroupNorm(ours.num_groups, ours.num_channels, eps=ours.eps, affine=bool(ours.params))
    elif isinstance(ours, RMSNorm):
        layer = torch.nn.RMSNorm(ours.normalized_shape, eps=ours.eps, elementwise_affine=bool(ours.params))
    else:
        layer = torch.nn.LayerNorm(ours.normalized_shape, eps=ours.eps, elementwise_affine=bool(ours.params),
                                   bias="bias" in ours.params or not ours.params)
    layer = layer.to(dtype)
    with torch.no_grad():
        for name, value in ours.params.items():
            getattr(layer, name).copy_(torch.from_numpy(value))
    tx = torch.tensor(x, dtype=dtype, requires_grad=True)
    ty = layer(tx)
    ty.backward(torch.tensor(dy, dtype=dtype))
    grads = {name: p.grad.numpy() for name, p in layer.named_parameters()}
    return ty.detach().numpy(), tx.grad.numpy(), grads, layer


def random_params(layer, rng):
    for value in layer.params.values():
        value[:] = rng.normal(1.0, 0.5, value.shape)


def check_against_torch(layer, x, rng, dtype):
    random_params(layer, rng)
    dy = rng.standard_normal(x.shape).astype(x.dtype)
    y, dx = layer.forward(x), layer.backward(dy)
    y_ref, dx_ref, grads_ref, _ = torch_reference(layer, x, dy, dtype)
    assert y.dtype == x.dtype and dx.dtype == x.dtype
    assert_rel_close(y, y_ref)
    assert_rel_close(dx, dx_ref)
    assert set(layer.grads) == set(grads_ref)
    for name, grad in layer.grads.items():
        assert_rel_close(grad, grads_ref[name])


ROW_NORMS = [LayerNorm, RMSNorm]


@pytest.mark.parametrize("cls", ROW_NORMS)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(64, 96), (3, 5, 17)])
def test_row_norms_match_torch_float32_on_random_input(cls, affine, shape):
    rng = np.random.default_rng(0)
    x = make_input("random", shape, rng)
    check_against_torch(cls(shape[-1], elementwise_affine=affine), x, rng, torch.float32)


@pytest.mark.parametrize("cls", ROW_NORMS)
@pytest.mark.parametrize("kind", ["offset_1e4", "constant_rows", "variance_near_eps"])
def test_row_norms_match_exact_result_on_adversarial_input(cls, kind):
    # The reference is torch in float64 on the same float32 values (the exact answer to ~1e-15):
    # torch's own float32 kernels are off by ~1e-2 relative on the 1e4-offset rows, ours are not.
    rng = np.random.default_rng(1)
    x = make_input(kind, (32, 256), rng)
    check_against_torch(cls(256, eps=1e-5), x, rng, torch.float64)


@pytest.mark.parametrize("cls", ROW_NORMS)
@pytest.mark.parametrize("eps", [1e-12, 1e-5, 10.0])
def test_row_norms_match_torch_for_eps_extremes(cls, eps):
    rng = np.random.default_rng(2)
    x = make_input("variance_near_eps", (16, 40), rng)
    check_against_torch(cls(40, eps=eps), x, rng, torch.float64)


@pytest.mark.parametrize("cls", ROW_NORMS)
def test_row_norms_float64_parameters_and_input(cls):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20, 12))
    check_against_torch(cls(12, dtype=np.float64), x, rng, torch.float64)


@pytest.mark.parametrize("cls", ROW_NORMS)
def test_row_norm_outputs_held_by_the_caller_survive_later_calls(cls):
    """Outputs and input gradients big enough for the layer's spare buffers (``bindings.nn.buffers``) match
    torch also when written into a dropped earlier result's memory, and a result the caller still holds
    (here through a view) keeps its values through later calls."""
    rng = np.random.default_rng(4)
    layer = cls(512)
    x1, x2, x3 = (make_input("random", (600, 512), rng) for _ in range(3))
    assert x1.nbytes > MIN_SPARE_BYTES
    check_against_torch(layer, x1, rng, torch.float32)  # its results are dropped: their memory is the spare
    dy = rng.standard_normal(x2.shape).astype(np.float32)
    y, dx = layer.forward(x2), layer.backward(dy)
    y_ref, dx_ref, _, _ = torch_reference(layer, x2, dy, torch.float32)
    assert_rel_close(y, y_ref)
    assert_rel_close(dx, dx_ref)
    kept_y, kept_dx, view = y.copy(), dx.copy(), y[100:]
    del y
    check_against_torch(layer, x3, rng, torch.float32)
    np.testing.assert_array_equal(view, kept_y[100:])
    np.testing.assert_array_equal(dx, kept_dx)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(64, 24), (2, 24), (4, 24, 7)])
def test_batchnorm_training_matches_torch(affine, shape):
    rng = np.random.default_rng(4)
    x = make_input("random", shape, rng)
    # With 2 samples dx is nearly 0 by cancellation and torch's float32 result is off by ~1e-3
    # relative; the float64 reference is the exact answer there.
    dtype = torch.float64 if shape[0] == 2 else torch.float32
    check_against_torch(BatchNorm1d(24, affine=affine), x, rng, dtype)


@pytest.mark.parametrize("kind", ["offset_1e4", "constant_rows"])
def test_batchnorm_matches_exact_result_on_adversarial_input(kind):
    rng = np.random.default_rng(5)
    x = np.ascontiguousarray(make_input(kind, (48, 16), rng).T)  # channels of constant / offset values
    check_against_torch(BatchNorm1d(48), x, rng, torch.float64)


def test_batchnorm_running_statistics_and_eval_mode_match_torch():
    rng = np.random.default_rng(6)
    ours = BatchNorm1d(10, momentum=0.3)
    random_params(ours, rng)
    batches = [make_input("random", (8, 10, 3), rng) for _ in range(3)]
    dy = rng.standard_normal((8, 10, 3)).astype(np.float32)
    *_, theirs = torch_reference(ours, batches[0], dy, torch.float32)
    ours.forward(batches[0])
    for x in batches[1:]:
        ours.forward(x)
        theirs(torch.from_numpy(x))
    assert_rel_close(ours.running_mean, theirs.running_mean.numpy())
    assert_rel_close(ours.running_var, theirs.running_var.numpy())
    ours.eval()
    theirs.eval()
    theirs.zero_grad()
    x = make_input("random", (5, 10, 3), rng)
    tx = torch.tensor(x, requires_grad=True)
    ty = theirs(tx)
    ty.backward(torch.from_numpy(dy[:5]))
    assert_rel_close(ours.forward(x), ty.detach().numpy())
    assert_rel_close(ours.backward(dy[:5]), tx.grad.numpy())
    assert_rel_close(ours.grads["weight"], theirs.weight.grad.numpy())


@pytest.mark.parametrize("cls", [LayerNorm, RMSNorm, BatchNorm1d])
def test_bad_arguments_raise_clear_errors(cls):
    with pytest.raises(ValueError, match="eps"):
        cls(4, eps=0.0)
    with pytest.raises(ValueError, match="eps"):
        cls(4, eps=-1e-5)
    with pytest.raises(ValueError, match="must be a positive integer"):
        cls(0)
    layer = cls(4)
    with pytest.raises(ValueError, match=r"x must have shape"):
        layer.forward(np.zeros((8, 5), np.float32))
    with pytest.raises(TypeError, match="float32 or float64"):
        layer.forward(np.zeros((8, 4), np.int64))
    with pytest.raises(TypeError, match="numpy array"):
        layer.forward([[0.0] * 4] * 8)
    bad = np.random.default_rng(7).normal(size=(8, 4)).astype(np.float32)
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        layer.forward(bad)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        layer.forward(bad)
    with pytest.raises(RuntimeError, match="before forward"):
        cls(4).backward(np.zeros((8, 4), np.float32))
    layer.forward(np.ones((8, 4), np.float32) + np.arange(4, dtype=np.float32))
    with pytest.raises(ValueError, match="grad_out"):
        layer.backward(np.zeros((8, 3), np.float32))


def test_batchnorm_training_rejects_a_single_sample():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        BatchNorm1d(3).forward(np.ones((1, 3), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
def test_layernorm_tuple_shape_and_no_bias_match_torch(dtype, bias):
    rng = np.random.default_rng(10)
    x = rng.normal(0.5, 2.0, (4, 3, 5, 6)).astype(dtype)
    layer = LayerNorm((5, 6), bias=bias, dtype=dtype)
    assert layer.params["weight"].shape == (5, 6) and ("bias" in layer.params) == bias
    check_against_torch(layer, x, rng, torch.float32 if dtype == np.float32 else torch.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rmsnorm_default_eps_is_the_machine_epsilon_of_the_input(dtype):
    # rows of tiny values: mean(x^2) ~ 1e-14, so eps = 1e-5 and eps = finfo.eps give different outputs
    rng = np.random.default_rng(11)
    x = (1e-7 * rng.standard_normal((6, 2, 8))).astype(dtype)
    layer = RMSNorm((2, 8), dtype=dtype)
    assert layer.eps is None
    check_against_torch(layer, x, rng, torch.float32 if dtype == np.float32 else torch.float64)
    assert not np.allclose(layer.forward(x), RMSNorm((2, 8), eps=1e-5, dtype=dtype).forward(x), rtol=1e-2)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape, groups", [((4, 6, 5), 3), ((3, 8, 4, 5), 2), ((5, 12), 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_groupnorm_matches_torch(affine, shape, groups, dtype):
    rng = np.random.default_rng(12)
    x = make_input("random", shape, rng).astype(dtype)
    layer = GroupNorm(groups, shape[1], affine=affine, dtype=dtype)
    check_against_torch(layer, x, rng, torch.float32 if dtype == np.float32 else torch.float64)


@pytest.mark.parametrize("momentum", [None, 0.25])
@pytest.mark.parametrize("cls, shape", [(BatchNorm1d, (8, 5, 3)), (BatchNorm2d, (4, 5, 3, 2))])
def test_batchnorm_momentum_and_batch_count_match_torch(cls, shape, momentum):
    # momentum=None: the running statistics are the cumulative average of the batch statistics
    rng = np.random.default_rng(13)
    ours = cls(5, momentum=momentum, dtype=np.float64)
    theirs = (torch.nn.BatchNorm1d if cls is BatchNorm1d else torch.nn.BatchNorm2d)(5, momentum=momentum).double()
    for _ in range(4):
        x = rng.normal(2.0, 3.0, shape)
        assert_rel_close(ours.forward(x), theirs(torch.from_numpy(x)).detach().numpy())
    assert ours.num_batches_tracked == int(theirs.num_batches_tracked) == 4
    assert_rel_close(ours.running_mean, theirs.running_mean.numpy())
    assert_rel_close(ours.running_var, theirs.running_var.numpy())
    ours.eval()
    theirs.eval()
    x = rng.normal(size=shape)
    assert_rel_close(ours.forward(x), theirs(torch.from_numpy(x)).detach().numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm2d_training_and_untracked_eval_match_torch(dtype):
    rng = np.random.default_rng(14)
    x = make_input("random", (3, 4, 5, 2), rng).astype(dtype)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    check_against_torch(BatchNorm2d(4, dtype=dtype), x, rng, tdtype)
    untracked = BatchNorm2d(4, track_running_stats=False, dtype=dtype).eval()  # batch statistics in eval too
    assert untracked.running_mean is None and untracked.num_batches_tracked is None
    check_against_torch(untracked, x, rng, tdtype)


def test_bad_shapes_name_the_argument():
    with pytest.raises(ValueError, match=r"normalized_shape=\(5, 6\)"):
        LayerNorm((5, 6)).forward(np.zeros((2, 6, 5), np.float32))
    with pytest.raises(TypeError, match="normalized_shape"):
        LayerNorm(4.0)
    with pytest.raises(ValueError, match="normalized_shape must be a positive integer"):
        RMSNorm((3, 0))
    with pytest.raises(ValueError, match="divisible by num_groups"):
        GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 6, \*\)"):
        GroupNorm(3, 6).forward(np.zeros((2, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3, H, W\)"):
        BatchNorm2d(3).forward(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm1d(3, momentum=1.5)
