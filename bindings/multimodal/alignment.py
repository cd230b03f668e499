"""CLIP-style alignment of text and image embeddings: the symmetric InfoNCE loss and the contrastive head.

For N pairs with unit-norm embeddings t_i, v_i and logit scale s = exp(log_scale)::

    logits[i, j] = s * t_i . v_j
    loss = (CE(logits rows, targets i) + CE(logits columns, targets j)) / 2     (mean over the N pairs)

The learned ``log_scale`` starts at ln(1 / 0.07) and is clamped to [0, ln 100] after every optimizer
step, as CLIP does (Radford et al. 2021), so the temperature never drops below 0.01. With all logits
equal the loss is ln N. The cross-entropies are the compiled kernel of ``gbdt.kernels.nn.cross_entropy``
and the normalization that of ``gbdt.kernels.nn.l2_normalize``.
"""
import math

import numpy as np

from bindings.multimodal.encoders import Pooling
from bindings.nn.layer import Layer
from bindings.nn.transformer import Linear
from bindings.validation import check_number
from gbdt.kernels.nn.cross_entropy import softmax_cross_entropy
from gbdt.kernels.nn.l2_normalize import l2_normalize_rows, l2_normalize_rows_backward

__all__ = ["info_nce_loss", "ContrastiveHead", "normalize_rows", "MAX_LOG_SCALE"]

MAX_LOG_SCALE = math.log(100.0)
_NORM_EPS = 1e-12


def normalize_rows(x):
    """(x / ||x|| row by row, norms (n,) float64) for a C-contiguous float (n, d) matrix."""
    x = np.ascontiguousarray(x)
    out, norms = np.empty_like(x), np.empty(x.shape[0])
    l2_normalize_rows(x, _NORM_EPS, out, norms)
    return out, norms


def info_nce_loss(text_emb, image_emb, log_scale):
    """Symmetric InfoNCE of N matched pairs (row i of each is one pair) and its gradients.

    text_emb, image_emb : (N, E) float, unit rows (the loss is defined for any rows, the gradients too).
    log_scale : float, the logit scale is exp(log_scale).
    Returns (loss, grad_text (N, E), grad_image (N, E), grad_log_scale) with a float loss and float grad.
    """
    n = text_emb.shape[0]
    scale = math.exp(log_scale)
    logits = np.ascontiguousarray(scale * (text_emb @ image_emb.T))
    targets = np.arange(n)
    losses = np.empty(n)
    grad = np.empty_like(logits)
    softmax_cross_entropy(logits, targets, 0.5 / n, losses, grad)
    loss = 0.5 * losses.mean()
    grad_columns = np.empty_like(logits)
    softmax_cross_entropy(np.ascontiguousarray(logits.T), targets, 0.5 / n, losses, grad_columns)
    loss += 0.5 * losses.mean()
    grad += grad_columns.T
    return float(loss), scale * (grad @ image_emb), scale * (grad.T @ text_emb), float((grad * logits).sum())


class ContrastiveHead(Layer):
    """Mean-pool each modality's tokens, project to ``embed_dim``, normalize, InfoNCE with a learned scale.

    temperature : initial (or, with learn_temperature False, fixed) temperature 1 / exp(log_scale).

    forward(text (B, T, D), text_mask (B, T), image (B, P, D)) -> loss (float);
    backward() -> (grad_text (B, T, D), grad_image (B, P, D)) for a loss weight of 1.
    """

    def __init__(self, dim, embed_dim, rng, dtype=np.float32, temperature=0.07, learn_temperature=True):
        super().__init__()
        temperature = check_number(temperature, "temperature", low=0.0, low_open=True)
        self.log_scale = np.array([math.log(1.0 / temperature)], dtype)
        if learn_temperature:  # a fixed temperature stays out of params, so no optimizer touches it
            self.params = {"log_scale": self.log_scale}
        self.children = {"text_pool": Pooling("mean", dim, rng, dtype), "image_pool": Pooling("mean", dim, rng, dtype),
                         "text_proj": Linear(dim, embed_dim, rng, dtype),
                         "image_proj": Linear(dim, embed_dim, rng, dtype)}

    def embed_text(self, text, text_mask):
        """(unit-norm (B, E) text embeddings, their norms before normalizing (B,)) of text tokens (B, T, D)."""
        c = self.children
        return normalize_rows(c["text_proj"].forward(c["text_pool"].forward(text, text_mask)))

    def embed_image(self, image):
        """(unit-norm (B, E) image embeddings, norms (B,)) of image tokens (B, P, D)."""
        c = self.children
        return normalize_rows(c["image_proj"].forward(c["image_pool"].forward(image, np.ones(image.shape[:2], bool))))

    def forward(self, text, text_mask, image):
        (t_unit, t_norm), (v_unit, v_norm) = self.embed_text(text, text_mask), self.embed_image(image)
        self._saved = (t_unit, t_norm, v_unit, v_norm)
        loss, self._d_t, self._d_v, self._d_log_scale = info_nce_loss(t_unit, v_unit, float(self.log_scale[0]))
        return loss

    def logits(self):
        """(B, B) scaled similarities exp(log_scale) * t_i . v_j of the last forward (rows: texts)."""
        t_unit, _, v_unit, _ = self._saved
        return math.exp(float(self.log_scale[0])) * (t_unit.astype(np.float64) @ v_unit.astype(np.float64).T)

    def backward(self, weight=1.0):
        c = self.children
        t_unit, t_norm, v_unit, v_norm = self._saved
        d_t, d_v = np.empty_like(t_unit), np.empty_like(v_unit)
        for unit, norm, grad, out in ((t_unit, t_norm, self._d_t, d_t), (v_unit, v_norm, self._d_v, d_v)):
            l2_normalize_rows_backward(unit, norm, np.ascontiguousarray(weight * grad, unit.dtype), _NORM_EPS, out)
        if self.params:
            self.grads = {"log_scale": np.array([weight * self._d_log_scale], self.log_scale.dtype)}
        d_text = c["text_pool"].backward(c["text_proj"].backward(d_t))
        d_image = c["image_pool"].backward(c["image_proj"].backward(d_v))
        return d_text, d_image

    def clamp(self):
        """Clamp a learned log_scale to [0, ln 100] in place (call after each optimizer step, as CLIP does)."""
        if self.params:
            np.clip(self.log_scale, 0.0, MAX_LOG_SCALE, out=self.log_scale)

