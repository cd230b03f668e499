"""Normalization layers with explicit forward/backward: ``LayerNorm``, ``RMSNorm``, ``BatchNorm1d``.

Each layer follows the same small protocol, shared with :mod:`bindings.nn.transformer`:
``forward(x)`` returns the output and keeps what the backward needs; ``backward(grad_out)``
returns the gradient w.r.t. ``x`` and stores the parameter gradients in ``grads`` (overwritten
by every call, not accumulated); ``params`` and ``grads`` are dicts of arrays under PyTorch's
names (``weight``, ``bias``). Semantics follow ``torch.nn.LayerNorm``/``RMSNorm``/``BatchNorm1d``.
"""
import numpy as np

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

__all__ = ["LayerNorm", "RMSNorm", "BatchNorm1d"]

_FLOAT_DTYPES = (np.float32, np.float64)


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def _as_features(x, dim, name, min_ndim=1):
    """Validate ``x`` (..., dim) of float32/float64 and return it as a C-contiguous (n, dim) matrix."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if x.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {x.dtype}; cast it with .astype")
    if x.ndim < min_ndim or x.shape[-1] != dim:
        raise ValueError(f"{name} must have shape (..., {dim}) with at least {min_ndim} axes, got {x.shape}")
    return np.ascontiguousarray(x.reshape(-1, dim))


def _check_grad(grad_out, shape, dtype):
    if not isinstance(grad_out, np.ndarray) or grad_out.shape != shape:
        got = getattr(grad_out, "shape", type(grad_out).__name__)
        raise ValueError(f"grad_out must be an array of the forward output's shape {shape}, got {got}")
    return np.ascontiguousarray(grad_out, dtype=dtype)


def _affine(params, dim, dtype):
    """(weight, bias) cast to ``dtype``; ones/zeros stand in for absent parameters."""
    gamma = params.get("weight", np.ones(dim))
    beta = params.get("bias", np.zeros(dim))
    return gamma.astype(dtype, copy=False), beta.astype(dtype, copy=False)


def _raise_non_finite(name):
    raise ValueError(f"{name} contains NaN or inf; normalization statistics would be undefined")


class _RowNorm:
    """Shared body of LayerNorm (centered) and RMSNorm (not centered) over the last axis."""

    _center = True

    def __init__(self, dim, eps, elementwise_affine, bias, dtype):
        self.dim = check_positive_int(dim, "dim")
        self.eps = check_number(eps, "eps", low=0.0, low_open=True)  # keeps 1/sqrt(var + eps) finite
        self.dtype = _check_dtype(dtype)
        self.params = {}
        if elementwise_affine:
            self.params["weight"] = np.ones(self.dim, self.dtype)
            if bias:
                self.params["bias"] = np.zeros(self.dim, self.dtype)
        self.grads = {}
        self._saved = None

    def forward(self, x):
        """Normalize ``x`` (..., dim) float32/float64 over its last axis; returns the same shape and dtype."""
        x2 = _as_features(x, self.dim, "x")
        gamma, beta = _affine(self.params, self.dim, x2.dtype)
        out = np.empty_like(x2)
        mean = np.empty(x2.shape[0])
        rstd = np.empty(x2.shape[0])
        if row_norm_forward(x2, gamma, beta, self.eps, self._center, out, mean, rstd):
            _raise_non_finite("x")
        self._saved = (x.shape, x2, mean, rstd)
        return out.reshape(x.shape)

    def backward(self, grad_out):
        """Gradient w.r.t. the last forward's ``x``; fills ``grads`` with the parameter gradients."""
        if self._saved is None:
            raise RuntimeError("backward called before forward")
        shape, x2, mean, rstd = self._saved
        dy = _check_grad(grad_out, shape, x2.dtype).reshape(x2.shape)
        gamma, _ = _affine(self.params, self.dim, x2.dtype)
        dx = np.empty_like(x2)
        partial_dgamma = np.empty((min(x2.shape[0], N_ROW_CHUNKS), self.dim))
        partial_dbeta = np.empty_like(partial_dgamma)
        row_norm_backward(dy, x2, gamma, mean, rstd, self._center, dx, partial_dgamma, partial_dbeta)
        self.grads = {}
        for name, partial in (("weight", partial_dgamma), ("bias", partial_dbeta)):
            if name in self.params:
                self.grads[name] = np.empty(self.dim, self.dtype)
                sum_chunks(partial, self.grads[name])
        return dx.reshape(shape)

    __call__ = forward


class LayerNorm(_RowNorm):
    """LayerNorm over the last axis: y = (x - mean) / sqrt(var + eps) * weight + bias (biased var).

    Parameters
    ----------
    dim : int, size of the last axis.  eps : float > 0.
    elementwise_affine : bool, learn ``weight`` (ones) and ``bias`` (zeros) of shape (dim,).
    dtype : float32 (default, as PyTorch) or float64, dtype of the parameters.

    Example: ``y = LayerNorm(8).forward(x); dx = ln.backward(dy); ln.grads["weight"]``.
    """

    def __init__(self, dim, eps=1e-5, elementwise_affine=True, *, dtype=np.float32):
        super().__init__(dim, eps, elementwise_affine, True, dtype)


class RMSNorm(_RowNorm):
    """RMSNorm over the last axis: y = x / sqrt(mean(x^2) + eps) * weight (no bias, as ``torch.nn.RMSNorm``).

    Parameters as :class:`LayerNorm`; PyTorch's ``eps=None`` (machine epsilon) is not supported:
    pass the number.
    """

    _center = False

    def __init__(self, dim, eps=1e-5, elementwise_affine=True, *, dtype=np.float32):
        super().__init__(dim, eps, elementwise_affine, False, dtype)


class BatchNorm1d:
    """BatchNorm over the batch axis of (N, C) or (N, C, L) inputs, as ``torch.nn.BatchNorm1d``.

    In training mode (``training=True``, the default) each channel is normalized with the batch mean
    and biased variance over N (and L), and the running statistics are updated:
    ``running = (1 - momentum) * running + momentum * batch`` with the unbiased variance.
    In evaluation mode (``eval()``) the running statistics are used and the batch has no influence.

    Parameters
    ----------
    num_features : int, C.  eps : float > 0.  momentum : float in [0, 1].
    affine : bool, learn ``weight``/``bias`` (C,).  track_running_stats : bool; without it,
    evaluation mode also uses batch statistics.  dtype : float32 (default) or float64.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 *, dtype=np.float32):
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = check_number(eps, "eps", low=0.0, low_open=True)  # keeps 1/sqrt(var + eps) finite
        self.momentum = check_probability(momentum, "momentum")
        self.dtype = _check_dtype(dtype)
        self.params = {}
        if affine:
            self.params = {"weight": np.ones(self.num_features, self.dtype),
                           "bias": np.zeros(self.num_features, self.dtype)}
        self.track_running_stats = bool(track_running_stats)
        self.running_mean = np.zeros(self.num_features, self.dtype) if track_running_stats else None
        self.running_var = np.ones(self.num_features, self.dtype) if track_running_stats else None
        self.training = True
        self.grads = {}
        self._saved = None

    def train(self, mode=True):
        """Switch to training mode (batch statistics); returns self."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Switch to evaluation mode (running statistics); returns self."""
        return self.train(False)

    def _to_rows(self, x, name):
        """(N, C) or (N, C, L) -> C-contiguous (N * L, C) matrix of samples by channel."""
        c = self.num_features
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
        if x.ndim not in (2, 3) or x.shape[1] != c:
            raise ValueError(f"{name} must have shape (N, {c}) or (N, {c}, L), got {x.shape}")
        if x.ndim == 3:
            x = np.moveaxis(x, 1, 2)
        return _as_features(x, c, name)

    @staticmethod
    def _from_rows(rows, shape):
        if len(shape) == 2:
            return rows
        return np.ascontiguousarray(np.moveaxis(rows.reshape(shape[0], shape[2], shape[1]), 2, 1))

    def forward(self, x):
        """Normalize ``x`` (N, C) or (N, C, L) per channel; returns the same shape and dtype."""
        rows = self._to_rows(x, "x")
        if not np.isfinite(rows).all():
            _raise_non_finite("x")
        batch_stats = self.training or not self.track_running_stats
        if batch_stats:
            n = rows.shape[0]
            if n < 2 and self.training:
                raise ValueError(f"BatchNorm1d in training mode needs more than 1 value per channel, got x of shape {x.shape}")
            mean = np.empty(self.num_features)
            var = np.empty(self.num_features)
            column_mean_var(rows, mean, var)
            if self.training and self.track_running_stats:
                m = self.momentum
                self.running_mean[:] = (1.0 - m) * self.running_mean + m * mean
                self.running_var[:] = (1.0 - m) * self.running_var + m * var * n / max(n - 1, 1)
        else:
            mean = self.running_mean.astype(np.float64)
            var = self.running_var.astype(np.float64)
        rstd = 1.0 / np.sqrt(var + self.eps)
        gamma, beta = _affine(self.params, self.num_features, rows.dtype)
        out = np.empty_like(rows)
        column_norm_apply(rows, mean, rstd, gamma, beta, out)
        self._saved = (x.shape, rows, mean, rstd, batch_stats)
        return self._from_rows(out, x.shape)

    def backward(self, grad_out):
        """Gradient w.r.t. the last forward's ``x``; fills ``grads`` with the parameter gradients."""
        if self._saved is None:
            raise RuntimeError("backward called before forward")
        shape, rows, mean, rstd, batch_stats = self._saved
        dy = self._to_rows(_check_grad(grad_out, shape, rows.dtype), "grad_out")
        gamma, _ = _affine(self.params, self.num_features, rows.dtype)
        dx = np.empty_like(rows)
        dgamma = np.empty(self.num_features)
        dbeta = np.empty(self.num_features)
        column_norm_backward(dy, rows, mean, rstd, gamma, batch_stats, dx, dgamma, dbeta)
        self.grads = {}
        if self.params:
            self.grads = {"weight": dgamma.astype(self.dtype), "bias": dbeta.astype(self.dtype)}
        return self._from_rows(dx, shape)

    __call__ = forward
