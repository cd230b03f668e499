"""Fusion of text and image features into class logits: early, late and cross-attention fusion.

Every fusion layer has the same interface, so the model swaps them by name::

    forward(text (B, T, D), text_mask (B, T), image (B, P, D)) -> logits (B, K)
    backward(grad_logits (B, K)) -> (grad_text (B, T, D), grad_image (B, P, D))

    early : concat(pool(text), pool(image)) -> Linear -> GELU -> Linear
    late  : w_text * head_text(pool(text)) + w_image * head_image(pool(image)),
            (w_text, w_image) = softmax(learned mixing logits), each head Linear -> GELU -> Linear
    cross : text' = text + Attn(text -> image patches), image' = image + Attn(image -> text tokens),
            then the early head on concat(pool(text'), pool(image'))

Late fusion adds one function of each modality, so it cannot represent labels that depend on an
interaction of the two (the shapes task of :mod:`bindings.multimodal.data` is such a label).
"""
import numpy as np

from bindings.multimodal.encoders import Mlp, Pooling
from bindings.nn.transformer import MultiHeadAttention, _Layer

__all__ = ["EarlyFusion", "LateFusion", "CrossFusion", "FUSIONS"]


def _pools(pooling, dim, rng, dtype):
    return {"text_pool": Pooling(pooling, dim, rng, dtype), "image_pool": Pooling(pooling, dim, rng, dtype)}


class _PooledPair(_Layer):
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


class LateFusion(_Layer):
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


FUSIONS = {"early": EarlyFusion, "late": LateFusion, "cross": CrossFusion}
