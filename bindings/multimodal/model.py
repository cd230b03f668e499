"""The multimodal network: text and image encoders, a fusion classifier, a contrastive alignment head,
and learned "missing" embeddings that stand in for an absent modality.

One sample may lack its caption or its image (``text_present`` / ``image_present`` False). The encoder
is not run for it; its token features are replaced by a learned vector (text: one token of
``missing_text``; image: every patch set to ``missing_image``), so the fusion layer sees a well-defined
input and the missing vectors learn what "absent" should mean. The contrastive loss uses the pairs
where both modalities are present, and so does the image-text matching (ITM) loss of the ALBEF fusion,
whose negatives are mined from the contrastive similarities (:mod:`bindings.multimodal.matching`)::

    tokens, mask --TextEncoder--> text (B, T, D) --+-- missing_text where absent --+--> Fusion --> logits (B, K)
    images ------ImageEncoder---> image (B, P, D) -+-- missing_image where absent -+--> ContrastiveHead (pairs)
                                                                                     (ALBEF: + ITM logits)

:meth:`MultimodalNet.encode_text` and :meth:`MultimodalNet.encode_image` give each modality's unit-norm
contrastive embedding on its own, for retrieval over a fixed gallery and zero-shot classification.
"""

import numpy as np

from bindings.multimodal.alignment import ContrastiveHead
from bindings.multimodal.encoders import ImageEncoder, TextEncoder
from bindings.multimodal.fusion import FUSIONS
from bindings.multimodal.matching import sample_hard_negatives
from bindings.nn.layer import Layer
from bindings.nn.norm import _check_dtype
from bindings.validation import as_class_indices, check_number, check_positive_int
from gbdt.kernels.nn.cross_entropy import softmax_cross_entropy

__all__ = ["MultimodalNet", "zero_gradients"]


def zero_gradients(layer):
    """Set every layer's ``grads`` to zeros, so parts skipped by a backward contribute nothing."""
    layer.grads = {name: np.zeros_like(p) for name, p in layer.params.items()}
    for child in getattr(layer, "children", {}).values():
        zero_gradients(child)


def _present(value, n, name):
    if value is None:
        return np.ones(n, bool)
    value = np.asarray(value)
    if value.dtype != bool or value.shape != (n,):
        raise ValueError(f"{name} must be a bool array of shape ({n},) (one flag per sample), got "
                         f"{value.dtype} {value.shape}")
    return value


class MultimodalNet(Layer):
    """Text + image classifier with early, late, cross-attention or ALBEF fusion and CLIP-style alignment.

    Parameters
    ----------
    vocab_size, n_classes : int.  image_shape : (C, H, W) of the images.
    fusion : "early", "late", "cross" or "albef" (see :mod:`bindings.multimodal.fusion`).
    dim : token feature width of both encoders.  embed_dim : width of the contrastive embeddings.
    patch : side of the square image patches.  text_layers, image_layers : Transformer blocks per encoder.
    fusion_layers : blocks of the "albef" fusion encoder (ignored by the other fusions).
    n_heads : attention heads (blocks and cross/ALBEF fusion).  pooling : "mean" or "attention" in the fusion.
    max_len : longest caption in tokens.  temperature : None to learn the contrastive temperature (from
    0.07, CLIP's start), or a fixed value.  seed : initialization seed.  dtype : float32 or float64.
    """

    def __init__(self, vocab_size, n_classes, image_shape, *, fusion="early", dim=32, embed_dim=32, patch=4,
                 text_layers=0, image_layers=0, fusion_layers=2, n_heads=2, pooling="mean", max_len=32,
                 temperature=None, seed=0, dtype=np.float32):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {sorted(FUSIONS)}, got {fusion!r}")
        dim = check_positive_int(dim, "dim")
        dtype = _check_dtype(dtype)
        self.n_classes = check_positive_int(n_classes, "n_classes")
        fusion_layers = check_positive_int(fusion_layers, "fusion_layers")
        self.config = dict(vocab_size=vocab_size, n_classes=n_classes, image_shape=tuple(image_shape), fusion=fusion,
                           dim=dim, embed_dim=embed_dim, patch=patch, text_layers=text_layers,
                           image_layers=image_layers, fusion_layers=fusion_layers, n_heads=n_heads, pooling=pooling,
                           max_len=max_len, temperature=temperature, seed=seed, dtype=dtype.name)
        rng = np.random.default_rng(seed)
        self.dtype = dtype
        self.params = {"missing_text": (0.1 * rng.standard_normal(dim)).astype(dtype),
                       "missing_image": (0.1 * rng.standard_normal(dim)).astype(dtype)}
        fusion_kwargs = {"cross": {"n_heads": n_heads}, "albef": {"n_heads": n_heads, "n_layers": fusion_layers}}
        self.children = {
            "text": TextEncoder(vocab_size, dim, rng, n_layers=text_layers, n_heads=n_heads, max_len=max_len,
                                dtype=dtype),
            "image": ImageEncoder(image_shape, patch, dim, rng, n_layers=image_layers, n_heads=n_heads, dtype=dtype),
            "fusion": FUSIONS[fusion](dim, n_classes, rng, pooling=pooling, dtype=dtype,
                                      **fusion_kwargs.get(fusion, {})),
            "contrastive": ContrastiveHead(dim, check_positive_int(embed_dim, "embed_dim"), rng, dtype,
                                           temperature=0.07 if temperature is None else temperature,
                                           learn_temperature=temperature is None),
        }

    def _check_text(self, tokens, mask):
        for name, value in (("tokens", tokens), ("mask", mask)):
            if not isinstance(value, np.ndarray):
                raise TypeError(f"{name} must be a numpy array, got {type(value).__name__}")
        if tokens.ndim != 2 or not np.issubdtype(tokens.dtype, np.integer):
            raise TypeError(f"tokens must be a 2-D integer array (batch, length), got {tokens.dtype} {tokens.shape}")
        if mask.shape != tokens.shape or mask.dtype != bool:
            raise ValueError(f"mask must be a bool array of the shape of tokens {tokens.shape}, "
                             f"got {mask.dtype} {mask.shape}")

    def _check_images(self, images):
        if not isinstance(images, np.ndarray):
            raise TypeError(f"images must be a numpy array, got {type(images).__name__}")
        expected = self.config["image_shape"]
        if images.ndim != 4 or images.shape[1:] != expected:
            raise ValueError(f"images must have shape (batch, {', '.join(map(str, expected))}), got {images.shape}")
        if not np.issubdtype(images.dtype, np.floating):
            raise TypeError(f"images must be a float array, got {images.dtype}")
        return images.astype(self.dtype, copy=False)

    @staticmethod
    def _check_captions_present(mask, text_present):
        empty = np.flatnonzero(text_present & ~mask.any(axis=1))
        if empty.size:
            raise ValueError(f"mask marks the caption of sample {empty[0]} empty (no True); pass a non-empty "
                             "caption or set text_present False for it")

    def check_inputs(self, tokens, mask, images, text_present=None, image_present=None):
        """Validate one batch; returns (tokens, mask, images, text_present, image_present) as arrays.

        tokens : (B, T) int.  mask : (B, T) bool, True for real tokens.  images : (B, C, H, W) float.
        text_present, image_present : (B,) bool or None (all present). Raises TypeError/ValueError naming
        the argument at fault.
        """
        self._check_text(tokens, mask)
        images = self._check_images(images)
        if images.shape[0] != tokens.shape[0]:
            raise ValueError(f"batch sizes differ: tokens has {tokens.shape[0]} rows, images has {images.shape[0]}")
        n = tokens.shape[0]
        text_present = _present(text_present, n, "text_present")
        image_present = _present(image_present, n, "image_present")
        if not (text_present | image_present).all():
            raise ValueError("a sample has neither text nor image (text_present and image_present both False)")
        self._check_captions_present(mask, text_present)
        return tokens, mask, images, text_present, image_present

    def _features(self, tokens, mask, images, text_present, image_present):
        """Token features of both modalities with the missing embeddings substituted."""
        n = tokens.shape[0]
        dim = self.params["missing_text"].shape[0]
        text = np.empty((n, tokens.shape[1], dim), self.dtype)
        text_mask = mask.copy()
        if text_present.any():
            text[text_present] = self.children["text"].forward(tokens[text_present], mask[text_present])
        text[~text_present] = self.params["missing_text"]
        text_mask[~text_present] = False
        text_mask[~text_present, 0] = True
        image = np.empty((n, self.children["image"].params["positions"].shape[0], dim), self.dtype)
        if image_present.any():
            image[image_present] = self.children["image"].forward(images[image_present])
        image[~image_present] = self.params["missing_image"]
        return text, text_mask, image

    def forward(self, tokens, mask, images, *, text_present=None, image_present=None):
        """Class logits (B, n_classes) of a batch (see :meth:`check_inputs` for the arguments)."""
        tokens, mask, images, tp, ip = self.check_inputs(tokens, mask, images, text_present, image_present)
        return self.children["fusion"].forward(*self._features(tokens, mask, images, tp, ip))

    def predict(self, tokens, mask, images, *, text_present=None, image_present=None):
        """Predicted class (B,) int."""
        return self.forward(tokens, mask, images, text_present=text_present, image_present=image_present).argmax(axis=1)

    def encode_text(self, tokens, mask):
        """Unit-norm contrastive embeddings (B, embed_dim) of captions: tokens (B, T) int, mask (B, T) bool."""
        self._check_text(tokens, mask)
        self._check_captions_present(mask, np.ones(tokens.shape[0], bool))
        return self.children["contrastive"].embed_text(self.children["text"].forward(tokens, mask), mask)[0]

    def encode_image(self, images):
        """Unit-norm contrastive embeddings (B, embed_dim) of images (B, C, H, W) float."""
        return self.children["contrastive"].embed_image(self.children["image"].forward(self._check_images(images)))[0]

    def itm_logits(self, tokens, mask, images):
        """Image-text matching logits (B, 2) of the pairs (caption i, image i); column 1 = "matched".
        Needs fusion="albef"."""
        self._require_itm_head()
        tokens, mask, images, tp, ip = self.check_inputs(tokens, mask, images)
        text, text_mask, image = self._features(tokens, mask, images, tp, ip)
        no_extra_pairs = (np.empty(0, np.int64), np.empty(0, np.int64))
        return self.children["fusion"].forward(text, text_mask, image, itm_pairs=no_extra_pairs)[1]

    def _require_itm_head(self):
        if self.config["fusion"] != "albef":
            raise ValueError(f'image-text matching needs fusion="albef" (the fusion with a matching head), got '
                             f'fusion={self.config["fusion"]!r}')

    def loss(self, tokens, mask, images, labels, *, text_present=None, image_present=None, contrastive_weight=0.0,
             itm_weight=0.0, rng=None, itm_groups=None):
        """Cross-entropy of the fusion classifier + ``contrastive_weight`` * InfoNCE + ``itm_weight`` * ITM loss;
        keeps what :meth:`backward` needs.

        labels : (B,) int in [0, n_classes). The InfoNCE and ITM terms use the samples with both modalities
        (skipped when fewer than two). ITM (fusion="albef" only): each such image is also paired with a hard
        negative caption and each caption with a hard negative image, drawn with ``rng`` (a numpy Generator)
        from the contrastive similarities; the loss is the mean 2-class cross-entropy over the positive and
        the 2 * n negative pairs. itm_groups : (B,) int or None, samples never drawn as each other's
        negatives (:attr:`PairedData.groups`). Returns {"loss", "classification", "contrastive", "itm"} as floats.
        """
        tokens, mask, images, tp, ip = self.check_inputs(tokens, mask, images, text_present, image_present)
        labels = as_class_indices(labels, "labels", tokens.shape[:1], self.n_classes)
        contrastive_weight = check_number(contrastive_weight, "contrastive_weight", low=0.0)
        itm_weight = check_number(itm_weight, "itm_weight", low=0.0)
        if itm_weight > 0:
            self._require_itm_head()
            if not isinstance(rng, np.random.Generator):
                raise TypeError(f"rng must be a numpy Generator when itm_weight > 0 (it draws the hard negatives), "
                                f"got {type(rng).__name__}")
            if itm_groups is not None:
                itm_groups = np.asarray(itm_groups)
                if itm_groups.shape != tokens.shape[:1]:
                    raise ValueError(f"itm_groups must have shape ({tokens.shape[0]},) (one group per sample), "
                                     f"got {itm_groups.shape}")
        text, text_mask, image = self._features(tokens, mask, images, tp, ip)
        both = np.flatnonzero(tp & ip)
        # the ITM negatives are mined from the contrastive similarities, so ITM needs the head's forward too
        paired = both.size >= 2 and (contrastive_weight > 0 or itm_weight > 0)
        head, fusion = self.children["contrastive"], self.children["fusion"]
        contrastive = head.forward(text[both], text_mask[both], image[both]) if paired else 0.0
        state = {"tp": tp, "ip": ip, "both": both, "contrastive_weight": contrastive_weight if paired else 0.0}
        itm = 0.0
        if itm_weight > 0 and paired:
            groups = None if itm_groups is None else itm_groups[both]
            negative_text, negative_image = sample_hard_negatives(head.logits(), rng, groups)
            # extra rows: (caption both[negative_text[i]], image both[i]),
            # then (caption both[i], image both[negative_image[i]])
            pairs = (np.concatenate([both[negative_text], both]), np.concatenate([both, both[negative_image]]))
            logits, itm_logits = fusion.forward(text, text_mask, image, itm_pairs=pairs)
            rows = np.concatenate([both, tokens.shape[0] + np.arange(2 * both.size)])
            targets = (rows < tokens.shape[0]).astype(np.int64)
            itm_losses, grad_rows = np.empty(rows.size), np.empty((rows.size, 2), itm_logits.dtype)
            softmax_cross_entropy(np.ascontiguousarray(itm_logits[rows]), targets, itm_weight / rows.size,
                                  itm_losses, grad_rows)
            state["grad_itm"] = np.zeros_like(itm_logits)
            state["grad_itm"][rows] = grad_rows
            itm = float(itm_losses.mean())
        else:
            logits = fusion.forward(text, text_mask, image)
        losses, state["grad_logits"] = np.empty(logits.shape[0]), np.empty_like(logits)
        softmax_cross_entropy(np.ascontiguousarray(logits), labels, 1.0 / logits.shape[0], losses, state["grad_logits"])
        self._loss_state = state
        classification = float(losses.mean())
        return {"loss": classification + contrastive_weight * contrastive + itm_weight * itm,
                "classification": classification, "contrastive": contrastive, "itm": itm}

    def backward(self):
        """Fill every parameter gradient of the total loss of the last :meth:`loss`."""
        s = self._loss_state
        zero_gradients(self)
        fusion_grads = (s["grad_logits"],) + ((s["grad_itm"],) if "grad_itm" in s else ())
        d_text, d_image = self.children["fusion"].backward(*fusion_grads)
        if s["contrastive_weight"] > 0:
            dt, di = self.children["contrastive"].backward(s["contrastive_weight"])
            d_text[s["both"]] += dt
            d_image[s["both"]] += di
        self._backward_features(d_text, d_image, s["tp"], s["ip"])

    def loss_and_backward(self, tokens, mask, images, labels, **kwargs):
        """:meth:`loss` (same arguments) then :meth:`backward`; returns the loss dict."""
        out = self.loss(tokens, mask, images, labels, **kwargs)
        self.backward()
        return out

    def _backward_features(self, d_text, d_image, text_present, image_present):
        """Route feature gradients to the missing embeddings or to the encoders that produced them."""
        self.grads = {"missing_text": d_text[~text_present].sum(axis=(0, 1)),
                      "missing_image": d_image[~image_present].sum(axis=(0, 1))}
        if text_present.any():
            self.children["text"].backward(d_text[text_present])
        if image_present.any():
            self.children["image"].backward(d_image[image_present])
