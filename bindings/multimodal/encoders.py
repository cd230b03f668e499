"""Text and image encoders with hand-written backward, and the pooling that turns tokens into one vector.

Both encoders map their input to a sequence of D-dimensional token features, on the layer protocol of
:mod:`bindings.nn.transformer` (``forward`` keeps what ``backward`` needs; ``backward(grad_out)`` fills
``grads``; :func:`bindings.nn.transformer.named_parameters` walks ``params``/``children``)::

    TextEncoder : tokens (B, T) int -> embedding[tokens] + sinusoidal positions -> [Transformer blocks] -> (B, T, D)
    ImageEncoder: images (B, C, H, W) -> non-overlapping p x p patches (B, P, C*p*p) -> Linear + learned
                  positions -> x + MLP(x) -> [Transformer blocks] -> (B, P, D)

The optional blocks are the pre-norm :class:`bindings.nn.transformer.EncoderBlock` (LayerNorm and attention
softmax kernels of ``gbdt.kernels``) followed by a final LayerNorm. :class:`Pooling` reduces (B, T, D)
to (B, D) by a masked mean or by attention pooling with a learned query.
"""
import math

import numpy as np

from bindings.nn.layer import Layer
from bindings.nn.transformer import (EncoderBlock, FeedForward, Gelu, Linear, _Sequential, _TokenNorm,
                                     sinusoidal_positions)
from bindings.validation import check_positive_int
from gbdt.kernels.nn.attention import masked_softmax_rows, masked_softmax_rows_backward

__all__ = ["TextEncoder", "ImageEncoder", "Pooling", "Mlp", "image_patches"]


class Mlp(FeedForward):
    """Linear(in_dim, hidden) -> GELU (tanh approximation) -> Linear(hidden, out_dim) on the last axis
    (FeedForward's loop)."""

    def __init__(self, in_dim, hidden, out_dim, rng, dtype=np.float32):
        Layer.__init__(self)
        self.children = {"fc1": Linear(in_dim, hidden, rng, dtype), "act": Gelu(approximate="tanh"),
                         "fc2": Linear(hidden, out_dim, rng, dtype)}


def image_patches(images, patch):
    """(B, C, H, W) -> (B, (H/p) * (W/p), C * p * p): non-overlapping patches in row-major patch order."""
    b, c, h, w = images.shape
    x = images.reshape(b, c, h // patch, patch, w // patch, patch).transpose(0, 2, 4, 1, 3, 5)
    return x.reshape(b, (h // patch) * (w // patch), c * patch * patch)


class Pooling(Layer):
    """(B, T, D) tokens and (B, T) bool mask -> (B, D): ``"mean"`` over real tokens, or ``"attention"``.

    Attention pooling: weights = softmax over real tokens of (x_t . query) / sqrt(D), output = sum_t w_t x_t.
    A mean is the same weighted sum with fixed weights, so both share the backward.
    """

    def __init__(self, kind, dim, rng, dtype=np.float32):
        super().__init__()
        if kind not in ("mean", "attention"):
            raise ValueError(f'pooling must be "mean" or "attention", got {kind!r}')
        self.kind = kind
        if kind == "attention":
            self.params = {"query": (rng.standard_normal(dim) / math.sqrt(dim)).astype(dtype)}

    def forward(self, x, mask):
        b, t, d = x.shape
        if self.kind == "mean":
            weights = (mask / mask.sum(axis=1, keepdims=True)).astype(x.dtype)
        else:
            self._scale = 1.0 / math.sqrt(d)
            scores = np.ascontiguousarray((x @ self.params["query"]) * self._scale, x.dtype)
            weights = np.empty_like(scores)
            masked_softmax_rows(scores, np.ascontiguousarray(mask, np.bool_), 1, weights)
        self._x, self._weights = x, weights
        return np.einsum("bt,btd->bd", weights, x)

    def backward(self, grad_out):
        x, weights = self._x, self._weights
        dx = weights[:, :, None] * grad_out[:, None, :]
        if self.kind == "attention":
            d_weights = np.ascontiguousarray(np.einsum("btd,bd->bt", x, grad_out))
            d_scores = np.empty_like(d_weights)
            masked_softmax_rows_backward(weights, d_weights, d_scores)
            d_scores *= self._scale
            dx += d_scores[:, :, None] * self.params["query"]
            self.grads = {"query": np.einsum("bt,btd->d", d_scores, x)}
        return dx


class _BlockStack(_Sequential):
    """``n_layers`` pre-norm EncoderBlocks and a final LayerNorm; the identity when n_layers is 0."""

    def __init__(self, n_layers, dim, n_heads, rng, dtype):
        super().__init__()
        for i in range(n_layers):
            self.children[f"blocks.{i}"] = EncoderBlock(dim, n_heads, 2 * dim, rng, norm_position="pre", dtype=dtype)
        if n_layers:
            self.children["final_norm"] = _TokenNorm("layer", dim, dtype)

    def forward(self, x, mask=None):
        for name, layer in self.children.items():
            x = layer.forward(x, key_mask=mask) if name.startswith("blocks.") else layer.forward(x)
        return x


class TextEncoder(Layer):
    """Token embedding + fixed sinusoidal positions + ``n_layers`` Transformer blocks -> (B, T, dim).

    forward(tokens (B, T) int in [0, vocab_size), mask (B, T) bool) -> (B, T, dim) features.
    backward(grad (B, T, dim)) fills the gradients of the embedding and the blocks.
    """

    def __init__(self, vocab_size, dim, rng, *, n_layers=0, n_heads=2, max_len=64, dtype=np.float32):
        super().__init__()
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        self.params = {"embedding": rng.standard_normal((vocab_size, dim)).astype(dtype)}
        self._positions = sinusoidal_positions(check_positive_int(max_len, "max_len"), dim).astype(dtype)
        self.children = {"stack": _BlockStack(n_layers, dim, n_heads, rng, dtype)}

    def forward(self, tokens, mask):
        if tokens.shape[1] > self._positions.shape[0]:
            raise ValueError(f"tokens has {tokens.shape[1]} positions, more than max_len={self._positions.shape[0]}")
        if tokens.size and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise ValueError(f"tokens must be ids in [0, {self.vocab_size}), got values in "
                             f"[{tokens.min()}, {tokens.max()}]")
        self._tokens = tokens
        x = self.params["embedding"][tokens] + self._positions[: tokens.shape[1]]
        return self.children["stack"].forward(x, mask)

    def backward(self, grad_out):
        g = self.children["stack"].backward(grad_out)
        d_embedding = np.zeros_like(self.params["embedding"])
        np.add.at(d_embedding, self._tokens, g)
        self.grads = {"embedding": d_embedding}


class ImageEncoder(Layer):
    """Patch embedding + learned positions + residual MLP + ``n_layers`` Transformer blocks -> (B, P, dim).

    image_shape : (C, H, W) with H and W multiples of ``patch``.  forward(images (B, C, H, W)) -> (B, P, dim)
    with P = (H / patch) * (W / patch); backward(grad (B, P, dim)) fills the parameter gradients.
    """

    def __init__(self, image_shape, patch, dim, rng, *, n_layers=0, n_heads=2, dtype=np.float32):
        super().__init__()
        if len(image_shape) != 3:
            raise ValueError(f"image_shape must be (channels, height, width), got {image_shape!r}")
        c, h, w = (check_positive_int(v, "image_shape") for v in image_shape)
        patch = check_positive_int(patch, "patch")
        if h % patch or w % patch:
            raise ValueError(f"patch ({patch}) must divide the image height and width ({h}, {w})")
        self.image_shape, self.patch = (c, h, w), patch
        n_patches = (h // patch) * (w // patch)
        self.params = {"positions": (0.1 * rng.standard_normal((n_patches, dim))).astype(dtype)}
        self.children = {"embed": Linear(c * patch * patch, dim, rng, dtype), "mlp": Mlp(dim, 2 * dim, dim, rng, dtype),
                         "stack": _BlockStack(n_layers, dim, n_heads, rng, dtype)}

    def forward(self, images):
        embed, mlp, stack = self.children.values()
        x = embed.forward(image_patches(images, self.patch)) + self.params["positions"]
        return stack.forward(x + mlp.forward(x))

    def backward(self, grad_out):
        embed, mlp, stack = self.children.values()
        g = stack.backward(grad_out)
        g = g + mlp.backward(g)
        self.grads = {"positions": g.sum(axis=0)}
        embed.backward(g)
