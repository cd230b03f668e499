"""A small Transformer encoder in numpy with hand-written backward, pre- or post-norm blocks.

Layers share the protocol of :mod:`bindings.nn.norm`: ``forward`` keeps what ``backward`` needs,
``backward(grad_out)`` returns the input gradient and overwrites ``grads``; ``params``/``grads``
hold a layer's own arrays and ``children`` its sub-layers, so :func:`named_parameters` walks a
model like ``torch.nn.Module.named_parameters``. Matmuls go through numpy (BLAS); the attention
softmax and the norms are the compiled kernels of ``gbdt.kernels``.

Blocks (x: (B, T, D) activations, key_mask: (B, T), True for real tokens)::

    pre-norm :  h = x + Attn(Norm1(x));   y = h + FF(Norm2(h))       (+ a final Norm after the stack)
    post-norm:  h = Norm1(x + Attn(x));   y = Norm2(h + FF(h))
"""
import math

import numpy as np

from bindings.nn.norm import BatchNorm1d, LayerNorm, RMSNorm
from bindings.validation import as_class_indices, check_positive_int
from gbdt.kernels.nn.attention import masked_softmax_rows, masked_softmax_rows_backward
from gbdt.kernels.nn.cross_entropy import softmax_cross_entropy

__all__ = [
    "Linear", "Gelu", "MultiHeadAttention", "FeedForward", "EncoderBlock", "TransformerEncoder",
    "named_parameters", "named_gradients",
]

_NORMS = {"layer": LayerNorm, "rms": RMSNorm, "batch": BatchNorm1d}


class _Layer:
    """Base of every layer: own ``params``/``grads`` and named ``children``."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.children = {}

    def train(self, mode=True):
        """Training mode (BatchNorm uses batch statistics) or evaluation mode for every layer below."""
        for child in self.children.values():
            child.train(mode)
        return self

    def eval(self):
        """Evaluation mode: BatchNorm layers use their running statistics; returns self."""
        return self.train(False)


def named_parameters(layer, prefix=""):
    """Dict ``"child.sub.name" -> array`` of every parameter below ``layer`` (arrays, not copies)."""
    return _walk(layer, prefix, "params")


def named_gradients(layer, prefix=""):
    """Same keys as :func:`named_parameters`, with the gradients of the last backward."""
    return _walk(layer, prefix, "grads")


def _walk(layer, prefix, attribute):
    out = {prefix + name: value for name, value in getattr(layer, attribute).items()}
    for child_name, child in getattr(layer, "children", {}).items():
        out.update(_walk(child, f"{prefix}{child_name}.", attribute))
    return out


class Linear(_Layer):
    """y = x @ weight + bias, weight (in_dim, out_dim) Xavier-uniform, bias zeros; x (..., in_dim)."""

    def __init__(self, in_dim, out_dim, rng, dtype=np.float32):
        super().__init__()
        limit = math.sqrt(6.0 / (in_dim + out_dim))
        self.params = {"weight": rng.uniform(-limit, limit, (in_dim, out_dim)).astype(dtype),
                       "bias": np.zeros(out_dim, dtype)}
        self._x = None

    def forward(self, x):
        self._x = x
        return x @ self.params["weight"] + self.params["bias"]

    def backward(self, grad_out):
        x2 = self._x.reshape(-1, self._x.shape[-1])
        g2 = grad_out.reshape(-1, grad_out.shape[-1])
        self.grads = {"weight": x2.T @ g2, "bias": g2.sum(axis=0)}
        return grad_out @ self.params["weight"].T


class Gelu(_Layer):
    """GELU, tanh approximation (``torch.nn.functional.gelu(x, approximate="tanh")``).

    ``x * x * x``, not ``x ** 3``: numpy evaluates the power on float32 through its generic routine,
    30x slower than the whole GELU otherwise; the tanh is kept for backward."""

    _C = math.sqrt(2.0 / math.pi)

    def forward(self, x):
        self._x = x
        self._t = np.tanh(self._C * (x + 0.044715 * (x * x * x)))
        return 0.5 * x * (1.0 + self._t)

    def backward(self, grad_out):
        x, t = self._x, self._t
        return grad_out * (0.5 * (1.0 + t) + 0.5 * x * ((1.0 - t * t) * self._C * (1.0 + 3 * 0.044715 * (x * x))))


class MultiHeadAttention(_Layer):
    """Multi-head scaled dot-product attention of queries from ``x`` over keys/values from ``context``.

    forward(x (B, Tq, D), context (B, Tk, D) or None for self-attention, key_mask (B, Tk) bool or None)
    returns (B, Tq, D). backward returns dx for self-attention, (dx, dcontext) for cross-attention.
    """

    def __init__(self, dim, n_heads, rng, dtype=np.float32):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"dim ({dim}) must be a multiple of n_heads ({n_heads})")
        self.n_heads = n_heads
        self.children = {name: Linear(dim, dim, rng, dtype) for name in ("query", "key", "value", "out")}

    def _split(self, x):
        b, t, d = x.shape
        return np.ascontiguousarray(x.reshape(b, t, self.n_heads, d // self.n_heads).transpose(0, 2, 1, 3))

    @staticmethod
    def _merge(x):
        b, h, t, dh = x.shape
        return x.transpose(0, 2, 1, 3).reshape(b, t, h * dh)

    def forward(self, x, context=None, key_mask=None):
        self._cross = context is not None
        context = x if context is None else context
        lin = self.children
        q = self._split(lin["query"].forward(x))
        k = self._split(lin["key"].forward(context))
        v = self._split(lin["value"].forward(context))
        b, h, tq, dh = q.shape
        self._scale = 1.0 / math.sqrt(dh)
        scores = (q @ k.transpose(0, 1, 3, 2)) * np.asarray(self._scale, q.dtype)
        mask = np.ones((0, k.shape[2]), np.bool_) if key_mask is None else np.ascontiguousarray(key_mask, np.bool_)
        probs = np.empty_like(scores)
        masked_softmax_rows(scores.reshape(-1, k.shape[2]), mask, h * tq, probs.reshape(-1, k.shape[2]))
        self._q, self._k, self._v, self._probs = q, k, v, probs
        return lin["out"].forward(self._merge(probs @ v))

    def backward(self, grad_out):
        lin = self.children
        q, k, v, probs = self._q, self._k, self._v, self._probs
        d_heads = self._split(lin["out"].backward(grad_out))
        d_v = probs.transpose(0, 1, 3, 2) @ d_heads
        d_scores = np.empty_like(probs)
        n_keys = k.shape[2]
        masked_softmax_rows_backward(probs.reshape(-1, n_keys), np.ascontiguousarray(d_heads @ v.transpose(0, 1, 3, 2)).reshape(-1, n_keys),
                              d_scores.reshape(-1, n_keys))
        d_scores *= np.asarray(self._scale, d_scores.dtype)
        dx = lin["query"].backward(self._merge(d_scores @ k))
        d_context = (lin["key"].backward(self._merge(d_scores.transpose(0, 1, 3, 2) @ q))
                     + lin["value"].backward(self._merge(d_v)))
        return (dx, d_context) if self._cross else dx + d_context


class FeedForward(_Layer):
    """Position-wise Linear(dim, hidden) -> GELU -> Linear(hidden, dim)."""

    def __init__(self, dim, hidden, rng, dtype=np.float32):
        super().__init__()
        self.children = {"fc1": Linear(dim, hidden, rng, dtype), "act": Gelu(), "fc2": Linear(hidden, dim, rng, dtype)}

    def forward(self, x):
        for layer in self.children.values():
            x = layer.forward(x)
        return x

    def backward(self, grad_out):
        for layer in reversed(self.children.values()):
            grad_out = layer.backward(grad_out)
        return grad_out


class _TokenNorm(_Layer):
    """A norm applied to every token of (B, T, D): LayerNorm/RMSNorm per token, BatchNorm per feature
    over all B * T tokens (padding included, as a plain BatchNorm1d on flattened tokens would)."""

    def __init__(self, kind, dim, dtype):
        super().__init__()
        if kind not in _NORMS:
            raise ValueError(f"norm must be one of {sorted(_NORMS)}, got {kind!r}")
        self.norm = _NORMS[kind](dim, dtype=dtype)
        self.params, self.grads = self.norm.params, self.norm.grads

    def train(self, mode=True):
        if isinstance(self.norm, BatchNorm1d):
            self.norm.train(mode)
        return self

    def forward(self, x):
        return self.norm.forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)

    def backward(self, grad_out):
        dx = self.norm.backward(grad_out.reshape(-1, grad_out.shape[-1])).reshape(grad_out.shape)
        self.grads = self.norm.grads
        return dx


class EncoderBlock(_Layer):
    """Self-attention + feed-forward with residuals; ``norm_position`` "pre" or "post" (see module doc)."""

    def __init__(self, dim, n_heads, ff_dim, rng, *, norm_position="pre", norm="layer", dtype=np.float32):
        super().__init__()
        if norm_position not in ("pre", "post"):
            raise ValueError(f'norm_position must be "pre" or "post", got {norm_position!r}')
        self.norm_position = norm_position
        self.children = {"attn": MultiHeadAttention(dim, n_heads, rng, dtype), "norm1": _TokenNorm(norm, dim, dtype),
                         "ff": FeedForward(dim, ff_dim, rng, dtype), "norm2": _TokenNorm(norm, dim, dtype)}

    def forward(self, x, key_mask=None):
        attn, norm1, ff, norm2 = self.children.values()
        if self.norm_position == "pre":
            h = x + attn.forward(norm1.forward(x), key_mask=key_mask)
            return h + ff.forward(norm2.forward(h))
        h = norm1.forward(x + attn.forward(x, key_mask=key_mask))
        return norm2.forward(h + ff.forward(h))

    def backward(self, grad_out):
        attn, norm1, ff, norm2 = self.children.values()
        if self.norm_position == "pre":
            dh = grad_out + norm2.backward(ff.backward(grad_out))
            return dh + norm1.backward(attn.backward(dh))
        ds = norm2.backward(grad_out)
        dh = ds + ff.backward(ds)
        dr = norm1.backward(dh)
        return dr + attn.backward(dr)


def sinusoidal_positions(length, dim):
    """(length, dim) fixed sine/cosine position encodings of Vaswani et al. (2017)."""
    pos = np.arange(length)[:, None]
    freq = np.exp(-math.log(10000.0) * (np.arange(0, dim, 2) / dim))
    out = np.zeros((length, dim))
    out[:, 0::2] = np.sin(pos * freq)
    out[:, 1::2] = np.cos(pos * freq[: dim // 2])
    return out


class TransformerEncoder(_Layer):
    """Token classifier: embedding + positions -> ``n_layers`` EncoderBlocks -> (final norm if pre) -> Linear.

    forward(tokens (B, T) int, key_mask (B, T) bool or None) returns logits (B, T, n_classes);
    backward(grad_logits) fills the gradients of every parameter (see :func:`named_gradients`).
    """

    def __init__(self, vocab_size, n_classes, *, dim=32, n_heads=4, ff_dim=64, n_layers=2, max_len=64,
                 norm_position="pre", norm="layer", seed=0, dtype=np.float32):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("n_classes", n_classes), ("dim", dim),
                            ("n_heads", n_heads), ("ff_dim", ff_dim), ("n_layers", n_layers), ("max_len", max_len)):
            check_positive_int(value, name)
        rng = np.random.default_rng(seed)
        self.params = {"embedding": rng.standard_normal((vocab_size, dim)).astype(dtype)}
        self._positions = sinusoidal_positions(max_len, dim).astype(dtype)
        blocks = [EncoderBlock(dim, n_heads, ff_dim, rng, norm_position=norm_position, norm=norm, dtype=dtype)
                  for _ in range(n_layers)]
        self.children = {f"blocks.{i}": block for i, block in enumerate(blocks)}
        if norm_position == "pre":
            self.children["final_norm"] = _TokenNorm(norm, dim, dtype)
        self.children["head"] = Linear(dim, n_classes, rng, dtype)

    def forward(self, tokens, key_mask=None):
        tokens = np.asarray(tokens)
        if tokens.ndim != 2 or tokens.shape[1] > self._positions.shape[0]:
            raise ValueError(f"tokens must have shape (B, T) with T <= max_len={self._positions.shape[0]}, got {tokens.shape}")
        self._tokens = tokens
        x = self.params["embedding"][tokens] + self._positions[: tokens.shape[1]]
        for name, layer in self.children.items():
            x = layer.forward(x, key_mask=key_mask) if name.startswith("blocks.") else layer.forward(x)
        return x

    def backward(self, grad_logits):
        g = grad_logits
        for layer in reversed(self.children.values()):
            g = layer.backward(g)
        d_embedding = np.zeros_like(self.params["embedding"])
        np.add.at(d_embedding, self._tokens, g)
        self.grads = {"embedding": d_embedding}
        return g

    def loss_and_backward(self, tokens, targets, key_mask=None):
        """Mean cross-entropy over the real tokens (the softmax cross-entropy kernel the multimodal head uses);
        runs backward and returns the loss (float). targets : (B, T) int class of every position."""
        logits = self.forward(tokens, key_mask)
        weight = np.ones(targets.size) if key_mask is None else key_mask.reshape(-1).astype(np.float64)
        weight /= weight.sum()
        rows = np.ascontiguousarray(logits.reshape(-1, logits.shape[-1]))
        losses, grad = np.empty(rows.shape[0]), np.empty_like(rows)
        targets = as_class_indices(targets, "targets", logits.shape[:-1], logits.shape[-1])
        softmax_cross_entropy(rows, targets.reshape(-1), 1.0, losses, grad)
        self.backward((grad * weight[:, None]).astype(logits.dtype).reshape(logits.shape))
        return float(losses @ weight)
