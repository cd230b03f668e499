"""Multimodal text + image network: the public API of the topic in one import.

Each concept lives in its own module: data (:mod:`.data`), encoders (:mod:`.encoders`), fusion
(:mod:`.fusion`), alignment (:mod:`.alignment`), hard negatives for image-text matching (:mod:`.matching`),
the model (:mod:`.model`), training (:mod:`.train`; its schedule and clipping are :mod:`bindings.nn.optim`'s), retrieval
(:mod:`.retrieval`) and evaluation (:mod:`.evaluate`). The layers, their protocol and the AdamW optimizer the
trainer steps are those of :mod:`bindings.nn`::

    from bindings.multimodal import MultimodalNet, Trainer, make_shapes, missing_modality_accuracy
"""
from bindings.multimodal.alignment import ContrastiveHead, info_nce_loss
from bindings.multimodal.data import PairedData, Vocabulary, make_digits, make_shapes
from bindings.multimodal.encoders import ImageEncoder, Pooling, TextEncoder
from bindings.multimodal.evaluate import (CONDITIONS, accuracy, itm_accuracy, missing_modality_accuracy,
                                          retrieval_recall, zero_shot_accuracy, zero_shot_predict)
from bindings.multimodal.fusion import CrossAttentionBlock, CrossFusion, EarlyFusion, FusionEncoder, LateFusion
from bindings.multimodal.matching import sample_hard_negatives
from bindings.multimodal.model import MultimodalNet
from bindings.multimodal.retrieval import recall_at_k, retrieve
from bindings.multimodal.train import Trainer, modality_dropout_masks

__all__ = [
    "MultimodalNet", "Trainer", "make_shapes", "make_digits", "PairedData", "Vocabulary",
    "TextEncoder", "ImageEncoder", "Pooling", "EarlyFusion", "LateFusion", "CrossFusion", "CrossAttentionBlock",
    "FusionEncoder", "ContrastiveHead", "info_nce_loss", "sample_hard_negatives", "recall_at_k", "retrieve",
    "accuracy", "missing_modality_accuracy", "retrieval_recall", "zero_shot_predict", "zero_shot_accuracy",
    "itm_accuracy", "CONDITIONS", "modality_dropout_masks",
]
