"""Evaluation of a :class:`bindings.multimodal.model.MultimodalNet`: accuracy with both modalities or
with one missing, text <-> image retrieval recall@k of its contrastive embeddings, zero-shot
classification from caption prompts (CLIP), and image-text matching accuracy (ALBEF)."""
import numpy as np

from bindings.multimodal.matching import sample_hard_negatives
from bindings.multimodal.retrieval import recall_at_k

__all__ = ["accuracy", "missing_modality_accuracy", "retrieval_recall", "zero_shot_predict", "zero_shot_accuracy",
           "itm_accuracy", "CONDITIONS"]

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
    """Recall@k both ways (see :func:`bindings.multimodal.retrieval.recall_at_k`) over all pairs of ``data``."""
    return recall_at_k(model.encode_text(data.tokens, data.mask), model.encode_image(data.images), ks)


def zero_shot_predict(model, images, vocab, class_names, templates=("a photo of a {}",)):
    """Classes (n,) int64 of ``images`` (n, C, H, W) by the nearest caption prompt, as CLIP does.

    Each class gets one prompt per template (``template.format(class_name)``); its text embeddings are
    averaged and renormalized (CLIP's prompt ensembling), and each image takes the class whose embedding
    is most similar to its own. vocab : the :class:`Vocabulary` the model was trained with; every prompt
    word must be in it (an unknown word would be encoded as <unk> and carry no meaning).
    """
    if isinstance(templates, str):
        templates = (templates,)
    if not templates or any("{}" not in t for t in templates):
        raise ValueError(f"templates must be a non-empty sequence of strings with a '{{}}' for the class name, "
                         f"got {templates!r}")
    prompts = [t.format(name) for name in class_names for t in templates]
    unknown = sorted({w for p in prompts for w in p.split() if w not in vocab.index})
    if unknown:
        raise ValueError(f"prompt words {unknown} are not in the vocabulary; build the templates and class_names "
                         "from words the captions use")
    tokens, mask = vocab.encode(prompts)
    text = model.encode_text(tokens, mask).reshape(len(class_names), len(templates), -1).mean(axis=1)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    return (model.encode_image(images) @ text.T).argmax(axis=1)


def zero_shot_accuracy(model, data, templates=("a photo of a {}",)):
    """Fraction of ``data`` (PairedData) whose image :func:`zero_shot_predict` puts in its labelled class,
    with prompts from ``data.class_names`` and ``data.vocab``; the captions are not used."""
    predicted = zero_shot_predict(model, data.images, data.vocab, data.class_names, templates)
    return float(np.mean(predicted == data.labels))


def itm_accuracy(model, data, *, negatives="hard", seed=0, batch_size=512):
    """Image-text matching accuracy (fusion="albef") over the N pairs of ``data`` and 2N negatives.

    Each image is paired with one other caption and each caption with one other image, drawn with
    ``seed`` either from the contrastive similarities over all of ``data`` (``negatives="hard"``, see
    :mod:`bindings.multimodal.matching`) or uniformly (``"random"``), outside the sample's group when
    ``data.groups`` is set. Returns the fraction of the 3N pairs the matching head labels right
    (positive: matched; negatives: not matched). Without groups a negative caption may still describe its
    image (generated captions repeat), so the attainable accuracy can be below 1.
    """
    if negatives not in ("hard", "random"):
        raise ValueError(f'negatives must be "hard" or "random", got {negatives!r}')
    n = len(data)
    rng = np.random.default_rng(seed)
    if negatives == "hard":
        logits = (model.encode_text(data.tokens, data.mask) @ model.encode_image(data.images).T).astype(np.float64)
        logits *= np.exp(float(model.children["contrastive"].log_scale[0]))
    else:  # equal logits: uniform over the allowed rows
        logits = np.zeros((n, n))
    negative_text, negative_image = sample_hard_negatives(logits, rng, data.groups)
    text_rows = np.concatenate([np.arange(n), negative_text, np.arange(n)])
    image_rows = np.concatenate([np.arange(n), np.arange(n), negative_image])
    matched = np.arange(3 * n) < n
    correct = 0
    for start in range(0, 3 * n, batch_size):
        t, v = text_rows[start: start + batch_size], image_rows[start: start + batch_size]
        predicted = model.itm_logits(data.tokens[t], data.mask[t], data.images[v]).argmax(axis=1) == 1
        correct += int((predicted == matched[start: start + batch_size]).sum())
    return correct / (3 * n)
