"""Multimodal text + image network: the public API of the topic in one import.

Each concept lives in its own module: data (:mod:`.data`), encoders (:mod:`.encoders`), fusion
(:mod:`.fusion`), alignment (:mod:`.alignment`), the model (:mod:`.model`), training (:mod:`.train`)
and evaluation (:mod:`.evaluate`). The layers, their protocol and the AdamW optimizer the trainer steps
are those of :mod:`bindings.nn`::

    from bindings.multimodal import MultimodalNet, Trainer, make_shapes, missing_modality_accuracy
"""
from bindings.multimodal.alignment import ContrastiveHead, info_nce_loss, recall_at_k
from bindings.multimodal.data import PairedData, Vocabulary, make_digits, make_shapes
from bindings.multimodal.encoders import ImageEncoder, Pooling, TextEncoder
from bindings.multimodal.evaluate import CONDITIONS, accuracy, missing_modality_accuracy, retrieval_recall
from bindings.multimodal.fusion import CrossFusion, EarlyFusion, LateFusion
from bindings.multimodal.model import MultimodalNet
from bindings.multimodal.train import Trainer, modality_dropout_masks

__all__ = [
    "MultimodalNet", "Trainer", "make_shapes", "make_digits", "PairedData", "Vocabulary",
    "TextEncoder", "ImageEncoder", "Pooling", "EarlyFusion", "LateFusion", "CrossFusion", "ContrastiveHead",
    "info_nce_loss", "recall_at_k", "accuracy", "missing_modality_accuracy", "retrieval_recall", "CONDITIONS",
    "modality_dropout_masks",
]
