"""A Transformer encoder in numpy with hand-written backward, pre- or post-norm blocks, and a token classifier.

Layers share the protocol of :mod:`bindings.nn.norm`: ``forward`` keeps what ``backward`` needs,
``backward(grad_out)`` returns the input gradient and overwrites ``grads``; ``params``/``grads``
hold a layer's own arrays and ``children`` its sub-layers, so :func:`named_parameters` walks a
model like ``torch.nn.Module.named_parameters``. Matmuls go through numpy (BLAS); the attention
softmax and the norms are the compiled kernels of ``gbdt.kernels``.

Blocks (x: (B, T, D) activations; key_mask: (B, T), True for real tokens; attn_mask / is_causal as
:func:`bindings.nn.scaled_dot_product_attention`, True = may attend; Drop = dropout in training mode)::

    pre-norm :  h = x + Drop(Attn(Norm1(x)));   y = h + Drop(FF(Norm2(h)))    (+ a final Norm after the stack)
    post-norm:  h = Norm1(x + Drop(Attn(x)));   y = Norm2(h + Drop(FF(h)))
    FF(x) = fc2(Drop(act(fc1(x))))

These are ``torch.nn.TransformerEncoderLayer(batch_first=True, norm_first=pre)``'s equations, and
:class:`TransformerEncoder` exchanges weights with ``torch.nn.TransformerEncoder`` through
``state_dict`` / ``load_state_dict`` (torch's key names and (out, in) weight layout; ours is (in, out)).
"""
import functools
import math

import numpy as np

from bindings.nn.attention import ScaledDotProductAttention
from bindings.nn.dropout import Dropout
from bindings.nn.layer import Layer
from bindings.nn.norm import BatchNorm1d, LayerNorm, RMSNorm
from bindings.validation import as_class_indices, check_choice, check_positive_int
from gbdt.kernels.nn.cross_entropy import softmax_cross_entropy
from gbdt.kernels.nn.gelu import gelu_backward, gelu_forward

__all__ = [
    "Linear", "Gelu", "Relu", "MultiHeadAttention", "FeedForward", "EncoderBlock", "TransformerEncoder",
    "TokenClassifier", "named_parameters", "named_gradients",
]

_NORMS = {"layer": LayerNorm, "rms": RMSNorm, "batch": BatchNorm1d}


class _Sequential(Layer):
    """A layer whose ``children`` run one after another, in insertion order: ``forward`` passes each
    child's output to the next (layers whose children take extra arguments override it), and
    ``backward`` sends the output gradient back through them in reverse."""

    def forward(self, x):
        for layer in self.children.values():
            x = layer.forward(x)
        return x

    def backward(self, grad_out):
        for layer in reversed(self.children.values()):
            grad_out = layer.backward(grad_out)
        return grad_out


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


class Linear(Layer):
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


class Gelu(Layer):
    """GELU as ``torch.nn.GELU(approximate=...)``: "none" (default, exact: x Phi(x), Phi the standard normal
    CDF; the kernels of :mod:`gbdt.kernels.nn.gelu`) or "tanh" (x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2,
    in numpy).

    forward(x (...) float32/float64) returns gelu(x) of x's shape and dtype; backward(grad_out) the input
    gradient. The tanh form writes ``x * x * x``, not ``x ** 3``: numpy evaluates the power on float32 through
    its generic routine, 30x slower than the whole GELU otherwise; the tanh is kept for backward.
    """

    APPROXIMATIONS = ("none", "tanh")
    _C = math.sqrt(2.0 / math.pi)

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = check_choice(approximate, "approximate", self.APPROXIMATIONS)
        self._x = self._t = None

    def forward(self, x):
        if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64):
            raise TypeError(f"x must be a float32 or float64 array, got {getattr(x, 'dtype', type(x).__name__)}")
        if self.approximate == "tanh":
            self._x = x
            self._t = np.tanh(self._C * (x + 0.044715 * (x * x * x)))
            return 0.5 * x * (1.0 + self._t)
        self._x = np.ascontiguousarray(x)
        out = np.empty_like(self._x)
        gelu_forward(self._x.reshape(-1), out.reshape(-1))
        return out

    def backward(self, grad_out):
        x = self._x
        if self.approximate == "tanh":
            t = self._t
            return grad_out * (0.5 * (1.0 + t) + 0.5 * x * ((1.0 - t * t) * self._C * (1.0 + 3 * 0.044715 * (x * x))))
        grad_out = np.ascontiguousarray(grad_out, dtype=x.dtype)
        grad_x = np.empty_like(x)
        gelu_backward(x.reshape(-1), grad_out.reshape(-1), grad_x.reshape(-1))
        return grad_x


class Relu(Layer):
    """max(x, 0) (torch's default activation of ``TransformerEncoderLayer``)."""

    def forward(self, x):
        self._positive = x > 0
        return x * self._positive

    def backward(self, grad_out):
        return grad_out * self._positive


# torch's names of TransformerEncoderLayer(activation=...) ("gelu" is the exact GELU there too), and "gelu_tanh"
_ACTIVATIONS = {"relu": Relu, "gelu": functools.partial(Gelu, approximate="none"),
                "gelu_tanh": functools.partial(Gelu, approximate="tanh")}


class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention of queries from ``x`` over keys/values from ``context``.

    forward(x (B, Tq, D), context (B, Tk, D) or None for self-attention, key_mask (B, Tk) bool or None,
    attn_mask bool/float broadcastable to (B, H, Tq, Tk) or None, is_causal) returns (B, Tq, D);
    backward returns dx for self-attention, (dx, dcontext) for cross-attention. ``dropout`` is applied to
    the attention weights in training mode (torch's ``MultiheadAttention(dropout=...)``).
    """

    def __init__(self, dim, n_heads, rng, dtype=np.float32, *, dropout=0.0):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"dim ({dim}) must be a multiple of n_heads ({n_heads})")
        self.n_heads = n_heads
        self.children = {name: Linear(dim, dim, rng, dtype) for name in ("query", "key", "value", "out")}
        self.children["attention"] = ScaledDotProductAttention(dropout, rng)

    def _split(self, x):
        b, t, d = x.shape
        return x.reshape(b, t, self.n_heads, d // self.n_heads).transpose(0, 2, 1, 3)

    @staticmethod
    def _merge(x):
        b, h, t, dh = x.shape
        return x.transpose(0, 2, 1, 3).reshape(b, t, h * dh)

    def forward(self, x, context=None, key_mask=None, attn_mask=None, is_causal=False):
        self._cross = context is not None
        context = x if context is None else context
        lin = self.children
        q = self._split(lin["query"].forward(x))
        k = self._split(lin["key"].forward(context))
        v = self._split(lin["value"].forward(context))
        heads = lin["attention"].forward(q, k, v, attn_mask=attn_mask, is_causal=is_causal, key_mask=key_mask)
        return lin["out"].forward(self._merge(heads))

    def backward(self, grad_out):
        lin = self.children
        dq, dk, dv = lin["attention"].backward(self._split(lin["out"].backward(grad_out)))
        dx = lin["query"].backward(self._merge(dq))
        d_context = lin["key"].backward(self._merge(dk)) + lin["value"].backward(self._merge(dv))
        return (dx, d_context) if self._cross else dx + d_context

    def state_dict(self):
        """torch ``MultiheadAttention`` keys: packed (3D, D) ``in_proj_weight`` of the (out, in) q/k/v weights."""
        p = {name: self.children[name].params for name in ("query", "key", "value", "out")}
        return {"in_proj_weight": np.concatenate([p[n]["weight"].T for n in ("query", "key", "value")]),
                "in_proj_bias": np.concatenate([p[n]["bias"] for n in ("query", "key", "value")]),
                "out_proj.weight": p["out"]["weight"].T.copy(), "out_proj.bias": p["out"]["bias"].copy()}

    def load_state_dict(self, state):
        """Copy torch-keyed arrays (as :meth:`state_dict`, shapes checked by the caller) into the parameters."""
        dim = self.children["out"].params["bias"].shape[0]
        for i, name in enumerate(("query", "key", "value")):
            self.children[name].params["weight"][:] = state["in_proj_weight"][i * dim:(i + 1) * dim].T
            self.children[name].params["bias"][:] = state["in_proj_bias"][i * dim:(i + 1) * dim]
        self.children["out"].params["weight"][:] = state["out_proj.weight"].T
        self.children["out"].params["bias"][:] = state["out_proj.bias"]


class FeedForward(_Sequential):
    """Position-wise Linear(dim, hidden) -> activation -> dropout -> Linear(hidden, dim).

    activation : "gelu_tanh" (GELU, tanh approximation), "gelu" (exact GELU) or "relu".  dropout : probability in
    training mode.
    """

    def __init__(self, dim, hidden, rng, dtype=np.float32, *, activation="gelu_tanh", dropout=0.0):
        super().__init__()
        check_choice(activation, "activation", tuple(_ACTIVATIONS))
        self.children = {"fc1": Linear(dim, hidden, rng, dtype), "act": _ACTIVATIONS[activation](),
                         "drop": Dropout(dropout, rng, name="dropout"), "fc2": Linear(hidden, dim, rng, dtype)}

    def state_dict(self):
        """torch ``TransformerEncoderLayer`` keys ``linear1.*`` / ``linear2.*``, weights (out, in)."""
        return {f"{torch_name}.{key}": (value.T.copy() if key == "weight" else value.copy())
                for torch_name, ours in (("linear1", "fc1"), ("linear2", "fc2"))
                for key, value in self.children[ours].params.items()}

    def load_state_dict(self, state):
        for torch_name, ours in (("linear1", "fc1"), ("linear2", "fc2")):
            for key, value in self.children[ours].params.items():
                value[:] = state[f"{torch_name}.{key}"].T if key == "weight" else state[f"{torch_name}.{key}"]


class _TokenNorm(Layer):
    """A norm applied to every token of (B, T, D): LayerNorm/RMSNorm per token, BatchNorm per feature
    over all B * T tokens (padding included, as a plain BatchNorm1d on flattened tokens would)."""

    def __init__(self, kind, dim, dtype):
        super().__init__()
        if kind not in _NORMS:
            raise ValueError(f"norm must be one of {sorted(_NORMS)}, got {kind!r}")
        self.norm = _NORMS[kind](dim, dtype=dtype)
        self.params, self.grads = self.norm.params, self.norm.grads

    def train(self, mode=True):
        self.norm.train(mode)
        return super().train(mode)

    def forward(self, x):
        return self.norm.forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)

    def backward(self, grad_out):
        dx = self.norm.backward(grad_out.reshape(-1, grad_out.shape[-1])).reshape(grad_out.shape)
        self.grads = self.norm.grads
        return dx

    _BUFFERS = ("running_mean", "running_var", "num_batches_tracked")

    def state_dict(self):
        """Parameters (and a BatchNorm's running statistics, as torch's buffers) under torch's names."""
        state = {name: value.copy() for name, value in self.params.items()}
        if isinstance(self.norm, BatchNorm1d) and self.norm.track_running_stats:
            state.update({name: np.array(getattr(self.norm, name)) for name in self._BUFFERS})
        return state

    def load_state_dict(self, state):
        for name, value in self.params.items():
            value[:] = state[name]
        if isinstance(self.norm, BatchNorm1d) and self.norm.track_running_stats:
            self.norm.running_mean[:] = state["running_mean"]
            self.norm.running_var[:] = state["running_var"]
            self.norm.num_batches_tracked = int(state["num_batches_tracked"])


class EncoderBlock(Layer):
    """Self-attention + feed-forward with residuals; ``norm_position`` "pre" or "post" (see module doc).

    norm : "layer", "rms" or "batch".  activation : "gelu_tanh", "gelu" (exact) or "relu".  dropout : probability
    of the attention weights, the two residual branches and the feed-forward's hidden units in training mode.
    """

    def __init__(self, dim, n_heads, ff_dim, rng, *, norm_position="pre", norm="layer", activation="gelu_tanh",
                 dropout=0.0, dtype=np.float32):
        super().__init__()
        if norm_position not in ("pre", "post"):
            raise ValueError(f'norm_position must be "pre" or "post", got {norm_position!r}')
        self.norm_position = norm_position
        self.children = {"attn": MultiHeadAttention(dim, n_heads, rng, dtype, dropout=dropout),
                         "norm1": _TokenNorm(norm, dim, dtype),
                         "ff": FeedForward(dim, ff_dim, rng, dtype, activation=activation, dropout=dropout),
                         "norm2": _TokenNorm(norm, dim, dtype),
                         "drop1": Dropout(dropout, rng, name="dropout"), "drop2": Dropout(dropout, rng, name="dropout")}

    def forward(self, x, key_mask=None, attn_mask=None, is_causal=False):
        """x (B, T, D) -> (B, T, D); key_mask (B, T) True for real tokens; attn_mask/is_causal as SDPA's."""
        c = self.children

        def attend(h):
            return c["drop1"].forward(c["attn"].forward(h, key_mask=key_mask, attn_mask=attn_mask,
                                                        is_causal=is_causal))

        if self.norm_position == "pre":
            h = x + attend(c["norm1"].forward(x))
            return h + c["drop2"].forward(c["ff"].forward(c["norm2"].forward(h)))
        h = c["norm1"].forward(x + attend(x))
        return c["norm2"].forward(h + c["drop2"].forward(c["ff"].forward(h)))

    def backward(self, grad_out):
        c = self.children
        if self.norm_position == "pre":
            dh = grad_out + c["norm2"].backward(c["ff"].backward(c["drop2"].backward(grad_out)))
            return dh + c["norm1"].backward(c["attn"].backward(c["drop1"].backward(dh)))
        ds = c["norm2"].backward(grad_out)
        dh = ds + c["ff"].backward(c["drop2"].backward(ds))
        dr = c["norm1"].backward(dh)
        return dr + c["attn"].backward(c["drop1"].backward(dr))

    def state_dict(self):
        """torch ``TransformerEncoderLayer`` keys: ``self_attn.*``, ``linear1.*``, ``linear2.*``, ``norm1.*``,
        ``norm2.*``."""
        c = self.children
        state = {f"self_attn.{k}": v for k, v in c["attn"].state_dict().items()}
        state.update(c["ff"].state_dict())
        for name in ("norm1", "norm2"):
            state.update({f"{name}.{k}": v for k, v in c[name].state_dict().items()})
        return state

    def load_state_dict(self, state):
        """Copy an already checked torch-keyed state (as :meth:`state_dict`) into the parameters."""
        c = self.children
        c["attn"].load_state_dict({k[len("self_attn."):]: v for k, v in state.items() if k.startswith("self_attn.")})
        c["ff"].load_state_dict(state)
        for name in ("norm1", "norm2"):
            c[name].load_state_dict({k[len(name) + 1:]: v for k, v in state.items() if k.startswith(name + ".")})


def sinusoidal_positions(length, dim):
    """(length, dim) fixed sine/cosine position encodings of Vaswani et al. (2017)."""
    pos = np.arange(length)[:, None]
    freq = np.exp(-math.log(10000.0) * (np.arange(0, dim, 2) / dim))
    out = np.zeros((length, dim))
    out[:, 0::2] = np.sin(pos * freq)
    out[:, 1::2] = np.cos(pos * freq[: dim // 2])
    return out


def _as_array(value, key):
    """A state value (numpy array, torch tensor, scalar) as a numpy array."""
    if hasattr(value, "detach"):  # a torch tensor, possibly requiring grad
        value = value.detach().cpu().numpy()
    if not isinstance(value, (np.ndarray, np.generic, int, float)):
        raise TypeError(f"state_dict[{key!r}] must be an array, got {type(value).__name__}")
    return np.asarray(value)


class TransformerEncoder(_Sequential):
    """A stack of ``n_layers`` :class:`EncoderBlock` on (B, T, D) activations, optionally followed by a norm,
    as ``torch.nn.TransformerEncoder(TransformerEncoderLayer(dim, n_heads, ff_dim, dropout, activation,
    batch_first=True, norm_first=norm_position == "pre"), n_layers, norm=LayerNorm(dim) if final_norm)``,
    with torch's defaults (post-norm, ReLU, dropout 0.1).

    forward(x (B, T, D), key_mask (B, T) True for real tokens, attn_mask, is_causal) returns (B, T, D); note
    that ``attn_mask`` follows SDPA's convention (True = may attend), torch's ``mask`` the opposite one (a
    float mask, e.g. ``nn.Transformer.generate_square_subsequent_mask``, means the same in both).
    ``state_dict()`` / ``load_state_dict(state, strict=True)`` use torch's keys and weight layout, so a torch
    model's ``state_dict()`` loads here and ours loads into torch.

    Parameters: dim (torch's d_model), n_heads (nhead), ff_dim (dim_feedforward), n_layers (num_layers);
    norm_position "post" / "pre" (norm_first); norm "layer", "rms" or "batch" (the last two have no torch twin
    in this layer); activation "relu", "gelu" (exact GELU, as torch's "gelu") or "gelu_tanh"; dropout;
    final_norm; seed : int or numpy Generator of the initialization and the dropout masks; dtype : float32 or
    float64.
    """

    def __init__(self, dim, n_heads, ff_dim, n_layers, *, norm_position="post", norm="layer", activation="relu",
                 dropout=0.1, final_norm=False, seed=0, dtype=np.float32):
        super().__init__()
        for name, value in (("dim", dim), ("n_heads", n_heads), ("ff_dim", ff_dim), ("n_layers", n_layers)):
            check_positive_int(value, name)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.children = {f"layers.{i}": EncoderBlock(dim, n_heads, ff_dim, rng, norm_position=norm_position,
                                                     norm=norm, activation=activation, dropout=dropout, dtype=dtype)
                         for i in range(n_layers)}
        if final_norm:
            self.children["norm"] = _TokenNorm(norm, dim, dtype)

    def forward(self, x, key_mask=None, attn_mask=None, is_causal=False):
        dim = self.children["layers.0"].children["attn"].children["out"].params["bias"].shape[0]
        if not isinstance(x, np.ndarray) or x.ndim != 3 or x.shape[2] != dim:
            raise ValueError(f"x must be an array of shape (batch, length, {dim}), got "
                             f"{getattr(x, 'shape', type(x).__name__)}")
        for name, layer in self.children.items():
            x = (layer.forward(x, key_mask=key_mask, attn_mask=attn_mask, is_causal=is_causal)
                 if name.startswith("layers.") else layer.forward(x))
        return x

    def state_dict(self):
        """Dict torch key -> array (a copy), as ``torch.nn.TransformerEncoder.state_dict()``."""
        return {f"{name}.{key}": value for name, layer in self.children.items()
                for key, value in layer.state_dict().items()}

    def load_state_dict(self, state, strict=True):
        """Load ``state`` (torch key -> array or tensor, as :meth:`state_dict`) into the parameters in place.

        strict : as torch, missing and unexpected keys raise ValueError; with ``strict=False`` they are
        skipped. Shapes must match. Returns (missing_keys, unexpected_keys).
        """
        if not hasattr(state, "items"):
            raise TypeError(f"state_dict must be a mapping of key -> array, got {type(state).__name__}")
        expected = self.state_dict()
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        if strict and (missing or unexpected):
            raise ValueError(f"state_dict does not match this encoder: missing keys {missing}, unexpected keys "
                             f"{unexpected} (check n_layers, final_norm and norm; strict=False skips them)")
        arrays = {}
        for key in expected:
            if key in state:
                arrays[key] = _as_array(state[key], key)
                if arrays[key].shape != expected[key].shape:
                    raise ValueError(f"state_dict[{key!r}] has shape {arrays[key].shape}, this encoder expects "
                                     f"{expected[key].shape}")
            else:
                arrays[key] = expected[key]  # strict=False: keep the current value
        for name, layer in self.children.items():
            layer.load_state_dict({k[len(name) + 1:]: v for k, v in arrays.items() if k.startswith(name + ".")})
        return missing, unexpected


class TokenClassifier(Layer):
    """Token classifier: embedding + positions -> :class:`TransformerEncoder` (final norm if pre-norm) -> Linear.

    forward(tokens (B, T) int, key_mask (B, T) bool or None) returns logits (B, T, n_classes);
    backward(grad_logits) fills the gradients of every parameter (see :func:`named_gradients`).
    """

    def __init__(self, vocab_size, n_classes, *, dim=32, n_heads=4, ff_dim=64, n_layers=2, max_len=64,
                 norm_position="pre", norm="layer", activation="gelu_tanh", dropout=0.0, seed=0, dtype=np.float32):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("n_classes", n_classes), ("max_len", max_len)):
            check_positive_int(value, name)
        rng = np.random.default_rng(seed)
        self.params = {"embedding": rng.standard_normal((vocab_size, dim)).astype(dtype)}
        self._positions = sinusoidal_positions(max_len, dim).astype(dtype)
        self.children = {
            "encoder": TransformerEncoder(dim, n_heads, ff_dim, n_layers, norm_position=norm_position, norm=norm,
                                          activation=activation, dropout=dropout, final_norm=norm_position == "pre",
                                          seed=rng, dtype=dtype),
            "head": Linear(dim, n_classes, rng, dtype)}

    def forward(self, tokens, key_mask=None):
        tokens = np.asarray(tokens)
        if tokens.ndim != 2 or tokens.shape[1] > self._positions.shape[0]:
            raise ValueError(f"tokens must have shape (B, T) with T <= max_len={self._positions.shape[0]}, "
                             f"got {tokens.shape}")
        self._tokens = tokens
        x = self.params["embedding"][tokens] + self._positions[: tokens.shape[1]]
        return self.children["head"].forward(self.children["encoder"].forward(x, key_mask=key_mask))

    def backward(self, grad_logits):
        g = self.children["encoder"].backward(self.children["head"].backward(grad_logits))
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
