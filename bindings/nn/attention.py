"""Scaled dot-product attention with boolean / additive masks, causal masking and dropout, forward and backward,
as ``torch.nn.functional.scaled_dot_product_attention``.

Shapes: q (..., L, E), k (..., S, E), v (..., S, Ev) with the same leading dims (e.g. (B, H)); the output is
(..., L, Ev)::

    scores  = q @ k^T * scale + bias          (..., L, S); bias = 0 / -inf from a boolean mask, or the float mask
    weights = dropout(softmax(scores))        softmax over the S keys; keys at -inf get exactly 0
    out     = weights @ v

Masks follow torch's SDPA convention: a boolean ``attn_mask`` is True where a query MAY attend (the opposite of
``torch.nn.MultiheadAttention``'s ``attn_mask``/``key_padding_mask``); a float mask is added to the scores; either
broadcasts to (..., L, S). ``is_causal`` lets query i see keys j <= i (``tril(ones(L, S))``). A query whose keys
are all masked gets zero weights and a zero output (torch returns the same), not NaN. The softmax is the
compiled kernel of ``gbdt.kernels.nn.attention``; the matmuls are numpy's (BLAS).
"""
import math

import numpy as np

from bindings.nn.dropout import Dropout
from bindings.nn.layer import Layer
from bindings.validation import check_number
from gbdt.kernels.nn.attention import masked_softmax_rows, masked_softmax_rows_backward

__all__ = ["scaled_dot_product_attention", "ScaledDotProductAttention"]

_NO_KEY_MASK = np.ones((0, 0), np.bool_)


def _check_qkv(q, k, v):
    for name, a in (("q", q), ("k", k), ("v", v)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be a numpy array, got {type(a).__name__}")
        if a.dtype not in (np.float32, np.float64):
            raise TypeError(f"{name} must have dtype float32 or float64, got {a.dtype}")
        if a.ndim < 2:
            raise ValueError(f"{name} must have shape (..., length, features), got {a.shape}")
    if not (q.dtype == k.dtype == v.dtype):
        raise TypeError(f"q, k and v must share one dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    if q.shape[:-2] != k.shape[:-2] or k.shape[:-1] != v.shape[:-1] or q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q (..., L, E), k (..., S, E) and v (..., S, Ev) must agree, got q {q.shape}, "
                         f"k {k.shape}, v {v.shape}")


def _attention_bias(scores_shape, dtype, attn_mask=None, is_causal=False, key_mask=None):
    """The additive bias of the scores, broadcastable to ``scores_shape`` (..., L, S), or None for no mask.

    attn_mask : bool (True = may attend) or float (added) array broadcastable to (..., L, S), or None.
    is_causal : bool, query i sees keys j <= i.  key_mask : (B, S) bool, True for real keys (padding False),
    shared by every head and query of batch element b (the layers' padding mask).
    """
    length, n_keys = scores_shape[-2:]
    bias = None
    if attn_mask is not None:
        if is_causal:
            raise ValueError("pass either attn_mask or is_causal=True, not both (as torch)")
        attn_mask = np.asarray(attn_mask)
        try:
            fits = np.broadcast_shapes(attn_mask.shape, tuple(scores_shape)) == tuple(scores_shape)
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"attn_mask of shape {attn_mask.shape} does not broadcast to the scores' shape "
                             f"{tuple(scores_shape)} (..., L, S)")
        if attn_mask.dtype == np.bool_:
            bias = np.where(attn_mask, dtype.type(0), dtype.type(-np.inf))
        elif np.issubdtype(attn_mask.dtype, np.floating):
            bias = attn_mask.astype(dtype, copy=False)
        else:
            raise TypeError(f"attn_mask must be a bool or float array, got dtype {attn_mask.dtype}")
    elif is_causal:
        bias = np.where(np.tri(length, n_keys, dtype=np.bool_), dtype.type(0), dtype.type(-np.inf))
    if key_mask is not None:
        key_mask = np.asarray(key_mask)
        if key_mask.dtype != np.bool_ or key_mask.shape != (scores_shape[0], n_keys):
            raise ValueError(f"key_mask must be a bool array of shape (batch, keys) = {(scores_shape[0], n_keys)}, "
                             f"got {key_mask.dtype} {key_mask.shape}")
        padding = np.where(key_mask, dtype.type(0), dtype.type(-np.inf))
        padding = padding.reshape((padding.shape[0],) + (1,) * (len(scores_shape) - 2) + (n_keys,))
        bias = padding if bias is None else bias + padding
    return bias


class ScaledDotProductAttention(Layer):
    """Attention as a layer of the :mod:`bindings.nn` protocol (no parameters): ``forward(q, k, v, ...)`` keeps
    what ``backward(grad_out) -> (dq, dk, dv)`` needs.

    dropout_p : probability of zeroing an attention weight in training mode (the kept ones are scaled by
    1 / (1 - p)); ``eval()`` turns it off.  rng : numpy Generator (or seed) of the dropout masks.
    After a forward with dropout, ``children["dropout"].mask`` (..., L, S) bool holds the kept weights.
    """

    def __init__(self, dropout_p=0.0, rng=None):
        super().__init__()
        self.children = {"dropout": Dropout(dropout_p, rng, name="dropout_p")}
        self._saved = None

    def forward(self, q, k, v, attn_mask=None, is_causal=False, scale=None, key_mask=None):
        """Attention output (..., L, Ev); masks as :func:`_attention_bias`; scale defaults to 1 / sqrt(E)."""
        _check_qkv(q, k, v)
        scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else check_number(scale, "scale", low=0.0, low_open=True)
        scores = (q @ np.swapaxes(k, -1, -2)) * q.dtype.type(scale)
        bias = _attention_bias(scores.shape, q.dtype, attn_mask, is_causal, key_mask)
        if bias is not None:
            scores += bias
        n_keys = scores.shape[-1]
        rows = np.ascontiguousarray(scores).reshape(-1, n_keys)
        probs = np.empty_like(rows)
        masked_softmax_rows(rows, _NO_KEY_MASK.reshape(0, n_keys), 1, probs)
        probs = probs.reshape(scores.shape)
        weights = self.children["dropout"].forward(probs)
        self._saved = (q, k, v, probs, weights, scale)
        return weights @ v

    def backward(self, grad_out):
        """(dq, dk, dv) of the last forward for ``grad_out`` (..., L, Ev)."""
        if self._saved is None:
            raise RuntimeError("backward called before forward")
        q, k, v, probs, weights, scale = self._saved
        dv = np.swapaxes(weights, -1, -2) @ grad_out
        d_probs = self.children["dropout"].backward(grad_out @ np.swapaxes(v, -1, -2))
        n_keys = probs.shape[-1]
        d_scores = np.empty_like(probs)
        masked_softmax_rows_backward(probs.reshape(-1, n_keys), np.ascontiguousarray(d_probs).reshape(-1, n_keys),
                                     d_scores.reshape(-1, n_keys))
        d_scores *= q.dtype.type(scale)
        return d_scores @ k, np.swapaxes(d_scores, -1, -2) @ q, dv


def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, *, rng=None):
    """``torch.nn.functional.scaled_dot_product_attention`` on numpy arrays: returns (..., L, Ev).

    q (..., L, E), k (..., S, E), v (..., S, Ev) float32/float64.  attn_mask : bool (True = may attend) or float
    (added to the scores), broadcastable to (..., L, S).  dropout_p : applied to the attention weights (always,
    as torch's functional form).  is_causal : mask keys after the query.  scale : default 1 / sqrt(E).
    rng : numpy Generator or seed of the dropout mask. For gradients use :class:`ScaledDotProductAttention`.
    """
    layer = ScaledDotProductAttention(dropout_p, rng)
    return layer.forward(q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale)
