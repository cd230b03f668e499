"""Normalization layers with explicit forward/backward, with ``torch.nn``'s shapes and defaults:
``LayerNorm``, ``RMSNorm``, ``GroupNorm``, ``BatchNorm1d``, ``BatchNorm2d``.

Each layer follows the same small protocol, shared with :mod:`bindings.nn.transformer`:
``forward(x)`` returns the output and keeps what the backward needs; ``backward(grad_out)``
returns the gradient w.r.t. ``x`` and stores the parameter gradients in ``grads`` (overwritten
by every call, not accumulated); ``params`` and ``grads`` are dicts of arrays under PyTorch's
names (``weight``, ``bias``); BatchNorm keeps ``running_mean``, ``running_var`` and
``num_batches_tracked`` as attributes (torch's buffers).
"""
import numbers

import numpy as np

from bindings.nn.buffers import SpareBuffer
from bindings.nn.layer import Layer
from bindings.validation import check_number, check_positive_int, check_probability
from gbdt.kernels.nn.norm import (
    N_ROW_CHUNKS,
    column_mean_var,
    column_norm_apply,
    column_norm_backward,
    row_norm_backward,
    row_norm_forward,
    sum_chunks,
)

__all__ = ["LayerNorm", "RMSNorm", "GroupNorm", "BatchNorm1d", "BatchNorm2d"]

_FLOAT_DTYPES = (np.float32, np.float64)


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def _check_array(x, name):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if x.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {x.dtype}; cast it with .astype")
    return x


def _check_eps(eps):
    return check_number(eps, "eps", low=0.0, low_open=True)  # keeps 1/sqrt(var + eps) finite


def _check_grad(grad_out, shape, dtype):
    if not isinstance(grad_out, np.ndarray) or grad_out.shape != shape:
        got = getattr(grad_out, "shape", type(grad_out).__name__)
        raise ValueError(f"grad_out must be an array of the forward output's shape {shape}, got {got}")
    return np.ascontiguousarray(grad_out, dtype=dtype)


def _raise_non_finite(name):
    raise ValueError(f"{name} contains NaN or inf; normalization statistics would be undefined")


def _row_stats_forward(rows, gamma, beta, eps, center, out):
    """(out, mean, rstd) of :func:`row_norm_forward` on C-contiguous ``rows`` (n, d), into ``out`` (n, d)."""
    mean = np.empty(rows.shape[0])
    rstd = np.empty(rows.shape[0])
    if row_norm_forward(rows, gamma, beta, eps, center, out, mean, rstd):
        _raise_non_finite("x")
    return out, mean, rstd


def _row_stats_backward(dy, rows, gamma, mean, rstd, center, dx):
    """(dx, dgamma, dbeta) of :func:`row_norm_backward`, into ``dx`` (n, d); dgamma/dbeta float64 (d,)."""
    partial_dgamma = np.empty((min(rows.shape[0], N_ROW_CHUNKS), rows.shape[1]))
    partial_dbeta = np.empty_like(partial_dgamma)
    row_norm_backward(dy, rows, gamma, mean, rstd, center, dx, partial_dgamma, partial_dbeta)
    dgamma, dbeta = np.empty(rows.shape[1]), np.empty(rows.shape[1])
    sum_chunks(partial_dgamma, dgamma)
    sum_chunks(partial_dbeta, dbeta)
    return dx, dgamma, dbeta


class _RowNorm(Layer):
    """Shared body of LayerNorm (centered) and RMSNorm (not centered) over the trailing ``normalized_shape``."""

    _center = True

    def __init__(self, normalized_shape, eps, elementwise_affine, bias, dtype):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)) or not normalized_shape:
            raise TypeError(f"normalized_shape must be a positive integer or a non-empty tuple of them, "
                            f"got {normalized_shape!r}")
        self.normalized_shape = tuple(check_positive_int(n, "normalized_shape") for n in normalized_shape)
        self.eps = None if eps is None else _check_eps(eps)
        self.dtype = _check_dtype(dtype)
        if elementwise_affine:
            self.params["weight"] = np.ones(self.normalized_shape, self.dtype)
            if bias:
                self.params["bias"] = np.zeros(self.normalized_shape, self.dtype)
        self._saved = None
        # outputs and input gradients are new arrays, over memory that no array the caller holds refers to
        self._outputs, self._input_grads = SpareBuffer(), SpareBuffer()

    @property
    def dim(self):
        """Number of values normalized together (the product of ``normalized_shape``)."""
        return int(np.prod(self.normalized_shape))

    def _affine(self, dtype):
        d = self.dim
        gamma = self.params["weight"].reshape(d) if "weight" in self.params else np.ones(d)
        beta = self.params["bias"].reshape(d) if "bias" in self.params else np.zeros(d)
        return gamma.astype(dtype, copy=False), beta.astype(dtype, copy=False)

    def forward(self, x):
        """Normalize ``x`` (*, *normalized_shape) float32/float64 over its trailing ``normalized_shape`` axes;
        returns the same shape and dtype."""
        _check_array(x, "x")
        k = len(self.normalized_shape)
        if x.ndim < k or x.shape[x.ndim - k:] != self.normalized_shape:
            raise ValueError(f"x must have shape (..., {', '.join(map(str, self.normalized_shape))}) to match "
                             f"normalized_shape={self.normalized_shape}, got {x.shape}")
        rows = np.ascontiguousarray(x.reshape(-1, self.dim))
        eps = float(np.finfo(x.dtype).eps) if self.eps is None else self.eps  # torch's eps=None
        gamma, beta = self._affine(rows.dtype)
        out, mean, rstd = _row_stats_forward(rows, gamma, beta, eps, self._center,
                                             self._outputs.take(rows.shape, rows.dtype))
        self._saved = (x.shape, rows, mean, rstd)
        return out.reshape(x.shape)

    def backward(self, grad_out):
        """Gradient w.r.t. the last forward's ``x``; fills ``grads`` with the parameter gradients."""
        if self._saved is None:
            raise RuntimeError("backward called before forward")
        shape, rows, mean, rstd = self._saved
        dy = _check_grad(grad_out, shape, rows.dtype).reshape(rows.shape)
        gamma, _ = self._affine(rows.dtype)
        dx, dgamma, dbeta = _row_stats_backward(dy, rows, gamma, mean, rstd, self._center,
                                                self._input_grads.take(rows.shape, rows.dtype))
        self.grads = {name: grad.reshape(self.normalized_shape).astype(self.dtype)
                      for name, grad in (("weight", dgamma), ("bias", dbeta)) if name in self.params}
        return dx.reshape(shape)

    __call__ = forward


class LayerNorm(_RowNorm):
    """LayerNorm over the trailing ``normalized_shape`` axes, as ``torch.nn.LayerNorm``:
    y = (x - mean) / sqrt(var + eps) * weight + bias (biased variance).

    Parameters
    ----------
    normalized_shape : int or tuple of int, the trailing shape normalized together.  eps : float > 0.
    elementwise_affine : bool, learn ``weight`` (ones) of shape ``normalized_shape``.
    bias : bool, also learn ``bias`` (zeros) when ``elementwise_affine``.
    dtype : float32 (default, as PyTorch) or float64, dtype of the parameters.

    Example: ``ln = LayerNorm(8); y = ln.forward(x); dx = ln.backward(dy); ln.grads["weight"]``.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, *, dtype=np.float32):
        super().__init__(normalized_shape, eps, elementwise_affine, bias, dtype)


class RMSNorm(_RowNorm):
    """RMSNorm over the trailing ``normalized_shape`` axes: y = x / sqrt(mean(x^2) + eps) * weight,
    as ``torch.nn.RMSNorm`` (no bias).

    eps : float > 0, or None (default, as torch) for the machine epsilon of the input's dtype
    (``np.finfo(x.dtype).eps``). Other parameters as :class:`LayerNorm`.
    """

    _center = False

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, *, dtype=np.float32):
        super().__init__(normalized_shape, eps, elementwise_affine, False, dtype)


class GroupNorm(Layer):
    """GroupNorm of (N, C, *) inputs, as ``torch.nn.GroupNorm``: the C channels are cut into
    ``num_groups`` groups and each (sample, group) is normalized over its channels and positions,
    then each channel gets its own ``weight``/``bias`` (C,).

    Parameters
    ----------
    num_groups : int dividing num_channels.  num_channels : int, C.  eps : float > 0.
    affine : bool, learn ``weight`` (ones) and ``bias`` (zeros).  dtype : float32 (default) or float64.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, *, dtype=np.float32):
        super().__init__()
        self.num_groups = check_positive_int(num_groups, "num_groups")
        self.num_channels = check_positive_int(num_channels, "num_channels")
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.eps = _check_eps(eps)
        self.dtype = _check_dtype(dtype)
        if affine:
            self.params = {"weight": np.ones(num_channels, self.dtype), "bias": np.zeros(num_channels, self.dtype)}
        self._saved = None

    def _channel_view(self, shape):
        """Shape that broadcasts a (C,) vector over (N, C, *)."""
        return (1, self.num_channels) + (1,) * (len(shape) - 2)

    def forward(self, x):
        """Normalize ``x`` (N, C, *) float32/float64; returns the same shape and dtype."""
        _check_array(x, "x")
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"x must have shape (N, {self.num_channels}, *), got {x.shape}")
        rows = np.ascontiguousarray(x.reshape(x.shape[0] * self.num_groups, -1))
        ones, zeros = np.ones(rows.shape[1], rows.dtype), np.zeros(rows.shape[1], rows.dtype)
        xhat, mean, rstd = _row_stats_forward(rows, ones, zeros, self.eps, True, np.empty_like(rows))
        xhat = xhat.reshape(x.shape)
        self._saved = (x.shape, rows, mean, rstd, xhat)
        if not self.params:
            return xhat
        view = self._channel_view(x.shape)
        return (xhat * self.params["weight"].reshape(view) + self.params["bias"].reshape(view)).astype(x.dtype)

    def backward(self, grad_out):
        """Gradient w.r.t. the last forward's ``x``; fills ``grads`` with the parameter gradients."""
        if self._saved is None:
            raise RuntimeError("backward called before forward")
        shape, rows, mean, rstd, xhat = self._saved
        dy = _check_grad(grad_out, shape, rows.dtype)
        self.grads = {}
        if self.params:
            axes = (0,) + tuple(range(2, len(shape)))
            self.grads = {"weight": (dy.astype(np.float64) * xhat).sum(axis=axes).astype(self.dtype),
                          "bias": dy.sum(axis=axes, dtype=np.float64).astype(self.dtype)}
            dy = dy * self.params["weight"].reshape(self._channel_view(shape)).astype(rows.dtype)
        ones = np.ones(rows.shape[1], rows.dtype)
        dx, _, _ = _row_stats_backward(np.ascontiguousarray(dy).reshape(rows.shape), rows, ones, mean, rstd, True,
                                       np.empty_like(rows))
        return dx.reshape(shape)

    __call__ = forward


class _BatchNorm(Layer):
    """BatchNorm over every axis but the channel axis 1, as ``torch.nn.BatchNorm1d``/``2d``.

    In training mode (``training=True``, the default) each channel is normalized with the batch mean
    and biased variance, and the running statistics are updated with the unbiased variance:
    ``running = (1 - factor) * running + factor * batch``, ``factor = momentum``, or
    ``1 / num_batches_tracked`` (a cumulative average) when ``momentum`` is None.
    In evaluation mode (``eval()``) the running statistics are used and the batch has no influence.

    Parameters
    ----------
    num_features : int, C.  eps : float > 0.  momentum : float in [0, 1] or None.
    affine : bool, learn ``weight``/``bias`` (C,).  track_running_stats : bool; without it there are no
    running statistics and evaluation mode also uses batch statistics.  dtype : float32 (default) or float64.
    """

    _ndims, _shapes = (), ""  # set by the subclasses

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 *, dtype=np.float32):
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = _check_eps(eps)
        self.momentum = None if momentum is None else check_probability(momentum, "momentum")
        self.dtype = _check_dtype(dtype)
        if affine:
            self.params = {"weight": np.ones(self.num_features, self.dtype),
                           "bias": np.zeros(self.num_features, self.dtype)}
        self.track_running_stats = bool(track_running_stats)
        self.running_mean = np.zeros(self.num_features, self.dtype) if track_running_stats else None
        self.running_var = np.ones(self.num_features, self.dtype) if track_running_stats else None
        self.num_batches_tracked = 0 if track_running_stats else None
        self._saved = None

    def _to_rows(self, x, name):
        """(N, C, *) -> C-contiguous (N * prod(*), C) matrix of samples by channel."""
        _check_array(x, name)
        c = self.num_features
        if x.ndim not in self._ndims or x.shape[1] != c:
            raise ValueError(f"{name} must have shape {self._shapes.replace('C', str(c))}, got {x.shape}")
        return np.ascontiguousarray(np.moveaxis(x, 1, -1).reshape(-1, c))

    @staticmethod
    def _from_rows(rows, shape):
        channels_last = (shape[0],) + shape[2:] + (shape[1],)
        return np.ascontiguousarray(np.moveaxis(rows.reshape(channels_last), -1, 1))

    def forward(self, x):
        """Normalize ``x`` per channel; returns the same shape and dtype."""
        rows = self._to_rows(x, "x")
        if not np.isfinite(rows).all():
            _raise_non_finite("x")
        batch_stats = self.training or not self.track_running_stats
        if batch_stats:
            n = rows.shape[0]
            if n < 2 and self.training:
                raise ValueError(f"{type(self).__name__} in training mode needs more than 1 value per channel, "
                                 f"got x of shape {x.shape}")
            mean = np.empty(self.num_features)
            var = np.empty(self.num_features)
            column_mean_var(rows, mean, var)
            if self.training and self.track_running_stats:
                self.num_batches_tracked += 1
                m = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
                self.running_mean[:] = (1.0 - m) * self.running_mean + m * mean
                self.running_var[:] = (1.0 - m) * self.running_var + m * var * n / max(n - 1, 1)
        else:
            mean = self.running_mean.astype(np.float64)
            var = self.running_var.astype(np.float64)
        rstd = 1.0 / np.sqrt(var + self.eps)
        gamma = self.params["weight"] if self.params else np.ones(self.num_features)
        beta = self.params["bias"] if self.params else np.zeros(self.num_features)
        out = np.empty_like(rows)
        column_norm_apply(rows, mean, rstd, gamma.astype(rows.dtype), beta.astype(rows.dtype), out)
        self._saved = (x.shape, rows, mean, rstd, batch_stats)
        return self._from_rows(out, x.shape)

    def backward(self, grad_out):
        """Gradient w.r.t. the last forward's ``x``; fills ``grads`` with the parameter gradients."""
        if self._saved is None:
            raise RuntimeError("backward called before forward")
        shape, rows, mean, rstd, batch_stats = self._saved
        dy = self._to_rows(_check_grad(grad_out, shape, rows.dtype), "grad_out")
        gamma = self.params["weight"] if self.params else np.ones(self.num_features)
        dx = np.empty_like(rows)
        dgamma = np.empty(self.num_features)
        dbeta = np.empty(self.num_features)
        column_norm_backward(dy, rows, mean, rstd, gamma.astype(rows.dtype), batch_stats, dx, dgamma, dbeta)
        self.grads = {}
        if self.params:
            self.grads = {"weight": dgamma.astype(self.dtype), "bias": dbeta.astype(self.dtype)}
        return self._from_rows(dx, shape)

    __call__ = forward


class BatchNorm1d(_BatchNorm):
    __doc__ = _BatchNorm.__doc__.replace("as ``torch.nn.BatchNorm1d``/``2d``", "on (N, C) or (N, C, L), as "
                                         "``torch.nn.BatchNorm1d``")
    _ndims, _shapes = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    __doc__ = _BatchNorm.__doc__.replace("as ``torch.nn.BatchNorm1d``/``2d``", "on (N, C, H, W), as "
                                         "``torch.nn.BatchNorm2d``")
    _ndims, _shapes = (4,), "(N, C, H, W)"
