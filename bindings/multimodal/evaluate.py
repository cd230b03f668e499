"""Evaluation of a :class:`bindings.multimodal.model.MultimodalNet`: accuracy with both modalities or
with one missing, and text <-> image retrieval recall@k of its contrastive embeddings."""
import numpy as np

from bindings.multimodal.alignment import recall_at_k

__all__ = ["accuracy", "missing_modality_accuracy", "retrieval_recall", "CONDITIONS"]

CONDITIONS = ("both", "text only", "image only")


def _present_flags(condition, n):
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {CONDITIONS}, got {condition!r}")
    return np.full(n, condition != "image only"), np.full(n, condition != "text only")


def accuracy(model, data, condition="both", batch_size=512):
    """Fraction of ``data`` (PairedData) classified right when given ``condition`` (see CONDITIONS)."""
    text_present, image_present = _present_flags(condition, len(data))
    correct = 0
    for start in range(0, len(data), batch_size):
        part = slice(start, start + batch_size)
        predicted = model.predict(data.tokens[part], data.mask[part], data.images[part],
                                  text_present=text_present[part], image_present=image_present[part])
        correct += int((predicted == data.labels[part]).sum())
    return correct / len(data)


def missing_modality_accuracy(model, data):
    """{condition: accuracy} for every condition in CONDITIONS."""
    return {condition: accuracy(model, data, condition) for condition in CONDITIONS}


def retrieval_recall(model, data, ks=(1, 5, 10)):
    """Recall@k both ways (see :func:`bindings.multimodal.alignment.recall_at_k`) over all pairs of ``data``."""
    text_emb, image_emb = model.embed(data.tokens, data.mask, data.images)
    return recall_at_k(text_emb, image_emb, ks)
