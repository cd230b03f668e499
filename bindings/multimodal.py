"""Multimodal text + image network: the public API in one namespace.

Each concept lives in its own module: data (:mod:`bindings.multimodal_data`), encoders
(:mod:`bindings.multimodal_encoders`), fusion (:mod:`bindings.multimodal_fusion`), alignment
(:mod:`bindings.multimodal_alignment`), the model (:mod:`bindings.multimodal_model`), the optimizer
(:mod:`bindings.multimodal_optim`), training (:mod:`bindings.multimodal_train`) and evaluation
(:mod:`bindings.multimodal_evaluate`).
"""
from bindings.multimodal_alignment import ContrastiveHead, info_nce_loss, recall_at_k
from bindings.multimodal_data import PairedData, Vocabulary, make_digits, make_shapes
from bindings.multimodal_encoders import ImageEncoder, Pooling, TextEncoder
from bindings.multimodal_evaluate import CONDITIONS, accuracy, missing_modality_accuracy, retrieval_recall
from bindings.multimodal_fusion import CrossFusion, EarlyFusion, LateFusion
from bindings.multimodal_model import MultimodalNet
from bindings.multimodal_optim import AdamW
from bindings.multimodal_train import Trainer, modality_dropout_masks

__all__ = [
    "MultimodalNet", "Trainer", "AdamW", "make_shapes", "make_digits", "PairedData", "Vocabulary",
    "TextEncoder", "ImageEncoder", "Pooling", "EarlyFusion", "LateFusion", "CrossFusion", "ContrastiveHead",
    "info_nce_loss", "recall_at_k", "accuracy", "missing_modality_accuracy", "retrieval_recall", "CONDITIONS",
    "modality_dropout_masks",
]
