"""Fusion of text and image features into class logits: early, late and cross-attention fusion.

Every fusion layer has the same interface, so the model swaps them by name::

    forward(text (B, T, D), text_mask (B, T), image (B, P, D)) -> logits (B, K)
    backward(grad_logits (B, K)) -> (grad_text (B, T, D), grad_image (B, P, D))

    early : concat(pool(text), pool(image)) -> Linear -> GELU -> Linear
    late  : w_text * head_text(pool(text)) + w_image * head_image(pool(image)),
            (w_text, w_image) = softmax(learned mixing logits), each head Linear -> GELU -> Linear
    cross : text' = text + Attn(text -> image patches), image' = image + Attn(image -> text tokens),
            then the early head on concat(pool(text'), pool(image'))
    albef : ALBEF's fusion encoder (Li et al. 2021): n_layers pre-norm blocks on the text tokens
            (self-attention, cross-attention to the image patches, feed-forward), a final LayerNorm,
            pool(text) -> classification head, and an image-text matching head Linear(D, 2)

The ALBEF fusion also scores extra (caption, image) pairs built from the batch rows in the same pass
(``forward(..., itm_pairs=(text_rows, image_rows))``), which is how the matching head sees negatives.

Late fusion adds one function of each modality, so it cannot represent labels that depend on an
interaction of the two (the shapes task of :mod:`bindings.multimodal.data` is such a label).
"""
import numpy as np

from bindings.multimodal.encoders import Mlp, Pooling
from bindings.nn.layer import Layer
from bindings.nn.transformer import FeedForward, Linear, MultiHeadAttention, _TokenNorm
from bindings.validation import check_positive_int

__all__ = ["EarlyFusion", "LateFusion", "CrossFusion", "CrossAttentionBlock", "FusionEncoder", "FUSIONS"]


def _pools(pooling, dim, rng, dtype):
    return {"text_pool": Pooling(pooling, dim, rng, dtype), "image_pool": Pooling(pooling, dim, rng, dtype)}


class _PooledPair(Layer):
    """Shared front of early and cross fusion: pool each modality with ``pooling``, concatenate, head."""

    def __init__(self, dim, n_classes, rng, pooling="mean", dtype=np.float32):
        super().__init__()
        self.children = {**_pools(pooling, dim, rng, dtype), "head": Mlp(2 * dim, 2 * dim, n_classes, rng, dtype)}

    def _pool_and_classify(self, text, text_mask, image):
        text_pool, image_pool, head = (self.children[k] for k in ("text_pool", "image_pool", "head"))
        pooled = [text_pool.forward(text, text_mask), image_pool.forward(image, np.ones(image.shape[:2], bool))]
        self._dim = pooled[0].shape[1]
        return head.forward(np.concatenate(pooled, axis=1))

    def _pool_and_classify_backward(self, grad_logits):
        text_pool, image_pool, head = (self.children[k] for k in ("text_pool", "image_pool", "head"))
        g = head.backward(grad_logits)
        return text_pool.backward(g[:, : self._dim]), image_pool.backward(g[:, self._dim:])


class EarlyFusion(_PooledPair):
    """Concatenate the pooled text and image vectors before one joint MLP head."""

    def forward(self, text, text_mask, image):
        return self._pool_and_classify(text, text_mask, image)

    def backward(self, grad_logits):
        return self._pool_and_classify_backward(grad_logits)


class LateFusion(Layer):
    """One MLP head per modality; logits are their softmax(mix)-weighted sum (equal weights at start)."""

    def __init__(self, dim, n_classes, rng, pooling="mean", dtype=np.float32):
        super().__init__()
        self.params = {"mix": np.zeros(2, dtype)}
        self.children = {**_pools(pooling, dim, rng, dtype),
                         "text_head": Mlp(dim, 2 * dim, n_classes, rng, dtype),
                         "image_head": Mlp(dim, 2 * dim, n_classes, rng, dtype)}

    def _weights(self):
        e = np.exp(self.params["mix"] - self.params["mix"].max())
        return e / e.sum()

    def forward(self, text, text_mask, image):
        c = self.children
        self._logits = (c["text_head"].forward(c["text_pool"].forward(text, text_mask)),
                        c["image_head"].forward(c["image_pool"].forward(image, np.ones(image.shape[:2], bool))))
        w = self._weights()
        return w[0] * self._logits[0] + w[1] * self._logits[1]

    def backward(self, grad_logits):
        c = self.children
        w = self._weights()
        d_w = np.array([(grad_logits * logits).sum() for logits in self._logits])
        self.grads = {"mix": (w * (d_w - (w * d_w).sum())).astype(w.dtype)}
        d_text = c["text_pool"].backward(c["text_head"].backward(w[0] * grad_logits))
        d_image = c["image_pool"].backward(c["image_head"].backward(w[1] * grad_logits))
        return d_text, d_image


class CrossFusion(_PooledPair):
    """Text tokens attend to image patches and image patches to text tokens (residual), then the early head."""

    def __init__(self, dim, n_classes, rng, pooling="mean", n_heads=2, dtype=np.float32):
        super().__init__(dim, n_classes, rng, pooling, dtype)
        self.children["text_to_image"] = MultiHeadAttention(dim, n_heads, rng, dtype)
        self.children["image_to_text"] = MultiHeadAttention(dim, n_heads, rng, dtype)

    def forward(self, text, text_mask, image):
        text_attended = text + self.children["text_to_image"].forward(text, image)
        image_attended = image + self.children["image_to_text"].forward(image, text, key_mask=text_mask)
        return self._pool_and_classify(text_attended, text_mask, image_attended)

    def backward(self, grad_logits):
        d_text, d_image = self._pool_and_classify_backward(grad_logits)
        dt_query, di_context = self.children["text_to_image"].backward(d_text)
        di_query, dt_context = self.children["image_to_text"].backward(d_image)
        return d_text + dt_query + dt_context, d_image + di_query + di_context


class CrossAttentionBlock(Layer):
    """One pre-norm block of the ALBEF fusion encoder on text tokens x (B, T, D) with image context (B, P, D)::

        h = x + SelfAttn(LN1(x), key_mask=text_mask)
        g = h + CrossAttn(LN2(h) -> image)
        y = g + FF(LN3(g))                      FF: Linear(D, ff_dim) -> GELU -> Linear(ff_dim, D)

    forward(x, text_mask (B, T) bool, image) -> (B, T, D); backward(grad (B, T, D)) -> (dx, d_image).
    """

    def __init__(self, dim, n_heads, ff_dim, rng, dtype=np.float32):
        super().__init__()
        self.children = {"norm1": _TokenNorm("layer", dim, dtype),
                         "self_attn": MultiHeadAttention(dim, n_heads, rng, dtype),
                         "norm2": _TokenNorm("layer", dim, dtype),
                         "cross_attn": MultiHeadAttention(dim, n_heads, rng, dtype),
                         "norm3": _TokenNorm("layer", dim, dtype), "ff": FeedForward(dim, ff_dim, rng, dtype)}

    def forward(self, x, text_mask, image):
        c = self.children
        h = x + c["self_attn"].forward(c["norm1"].forward(x), key_mask=text_mask)
        g = h + c["cross_attn"].forward(c["norm2"].forward(h), image)
        return g + c["ff"].forward(c["norm3"].forward(g))

    def backward(self, grad_out):
        c = self.children
        dg = grad_out + c["norm3"].backward(c["ff"].backward(grad_out))
        d_query, d_image = c["cross_attn"].backward(dg)
        dh = dg + c["norm2"].backward(d_query)
        return dh + c["norm1"].backward(c["self_attn"].backward(dh)), d_image


class FusionEncoder(Layer):
    """ALBEF-style fusion: ``n_layers`` :class:`CrossAttentionBlock` s, a final LayerNorm, pooling of the
    text tokens, a classification head Mlp(D, 2D, K) and an image-text matching head Linear(D, 2).

    forward(text (B, T, D), text_mask (B, T), image (B, P, D), itm_pairs=None) -> logits (B, K); with
    ``itm_pairs = (text_rows (M,), image_rows (M,))`` the encoder also runs on the M pairs
    (text[text_rows[m]], image[image_rows[m]]) and returns (logits (B, K), itm_logits (B + M, 2)): rows
    0..B-1 score the batch's own pairs, rows B.. the extra ones (ITM class 1 = "matched").
    backward(grad_logits (B, K), grad_itm=None (B + M, 2)) -> (grad_text (B, T, D), grad_image (B, P, D)).
    """

    def __init__(self, dim, n_classes, rng, pooling="mean", n_heads=2, n_layers=2, dtype=np.float32):
        super().__init__()
        n_layers = check_positive_int(n_layers, "fusion_layers")
        self.children = {f"blocks.{i}": CrossAttentionBlock(dim, n_heads, 2 * dim, rng, dtype) for i in range(n_layers)}
        self.children.update({"final_norm": _TokenNorm("layer", dim, dtype), "pool": Pooling(pooling, dim, rng, dtype),
                              "head": Mlp(dim, 2 * dim, n_classes, rng, dtype), "itm_head": Linear(dim, 2, rng, dtype)})

    def _blocks(self):
        return [layer for name, layer in self.children.items() if name.startswith("blocks.")]

    def forward(self, text, text_mask, image, itm_pairs=None):
        n = text.shape[0]
        self._n, self._pairs = n, itm_pairs
        if itm_pairs is not None:
            text_rows, image_rows = itm_pairs
            text = np.concatenate([text, text[text_rows]])
            text_mask = np.concatenate([text_mask, text_mask[text_rows]])
            image = np.concatenate([image, image[image_rows]])
        x = text
        for block in self._blocks():
            x = block.forward(x, text_mask, image)
        c = self.children
        pooled = c["pool"].forward(c["final_norm"].forward(x), text_mask)
        self._pooled_shape = pooled.shape
        logits = c["head"].forward(pooled[:n])
        return logits if itm_pairs is None else (logits, c["itm_head"].forward(pooled))

    def backward(self, grad_logits, grad_itm=None):
        c, n = self.children, self._n
        d_pooled = np.zeros(self._pooled_shape, grad_logits.dtype)
        d_pooled[:n] = c["head"].backward(grad_logits)
        if grad_itm is not None:
            d_pooled += c["itm_head"].backward(grad_itm)
        else:  # an unused matching head has zero gradients, like any layer a backward skipped
            c["itm_head"].grads = {name: np.zeros_like(p) for name, p in c["itm_head"].params.items()}
        g = c["final_norm"].backward(c["pool"].backward(d_pooled))
        d_image = 0
        for block in reversed(self._blocks()):
            g, d_image_block = block.backward(g)
            d_image = d_image + d_image_block
        if self._pairs is None:
            return g, d_image
        # the extra pairs reuse batch rows: their gradients flow back to those rows
        text_rows, image_rows = self._pairs
        d_text, d_image_own = g[:n].copy(), d_image[:n].copy()
        np.add.at(d_text, text_rows, g[n:])
        np.add.at(d_image_own, image_rows, d_image[n:])
        return d_text, d_image_own


FUSIONS = {"early": EarlyFusion, "late": LateFusion, "cross": CrossFusion, "albef": FusionEncoder}
