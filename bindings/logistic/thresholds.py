"""Decision thresholds for binary scores: ROC and precision-recall curves, and the threshold that
maximises F1 or Youden's J, or minimises the expected misclassification cost.

Convention (scikit-learn's): a row is predicted positive when ``score >= threshold``.
"""
from typing import NamedTuple

import numpy as np

from bindings.logistic.input import as_binary_labels, as_sample_weight, as_scores
from bindings.validation import check_choice, check_number
from gbdt.kernels.logistic.thresholds import threshold_counts

__all__ = ["ThresholdChoice", "confusion_at_thresholds", "roc_curve", "precision_recall_curve", "tune_threshold"]

OBJECTIVES = ("f1", "youden", "cost")


class ThresholdChoice(NamedTuple):
    """Result of ``tune_threshold``: the threshold and the objective's value there."""

    threshold: float
    value: float


def confusion_at_thresholds(y, scores, sample_weight=None):
    """Weighted (fps, tps, thresholds) at each distinct score, thresholds descending (m,)."""
    labels = as_binary_labels(y)
    scores = as_scores(scores, labels.shape[0])
    sw = as_sample_weight(sample_weight, labels.shape[0])
    order = np.argsort(-scores, kind="stable")
    fps, tps, thresholds = (np.empty(labels.shape[0]) for _ in range(3))
    m = threshold_counts(labels[order], sw[order], scores[order], fps, tps, thresholds)
    return fps[:m], tps[:m], thresholds[:m]


def roc_curve(y, scores, sample_weight=None):
    """(fpr, tpr, thresholds), starting at (0, 0) with threshold +inf; every distinct score kept."""
    fps, tps, thresholds = confusion_at_thresholds(y, scores, sample_weight)
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    return fps / fps[-1], tps / tps[-1], np.r_[np.inf, thresholds]


def precision_recall_curve(y, scores, sample_weight=None):
    """(precision, recall, thresholds) with thresholds ascending; precision ends at 1 and recall at 0."""
    fps, tps, thresholds = confusion_at_thresholds(y, scores, sample_weight)
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def tune_threshold(y, scores, objective="f1", *, cost_fp=1.0, cost_fn=1.0, sample_weight=None):
    """Threshold on ``scores`` that is best for ``objective`` on (y, scores).

    objective : "f1" (maximise F1), "youden" (maximise TPR - FPR) or "cost" (minimise
    ``cost_fp * FP + cost_fn * FN``, weighted counts; predicting no positive at all is a candidate,
    threshold +inf). Ties go to the highest threshold. Returns ``ThresholdChoice(threshold, value)``.
    """
    check_choice(objective, "objective", OBJECTIVES)
    cost_fp, cost_fn = check_number(cost_fp, "cost_fp", low=0.0), check_number(cost_fn, "cost_fn", low=0.0)
    fps, tps, thresholds = confusion_at_thresholds(y, scores, sample_weight)
    positives, negatives = tps[-1], fps[-1]
    if objective == "f1":
        value = 2 * tps / (2 * tps + fps + (positives - tps))
        best = int(np.argmax(value))
    elif objective == "youden":
        value = tps / positives - fps / negatives
        best = int(np.argmax(value))
    else:
        thresholds = np.r_[np.inf, thresholds]
        value = cost_fp * np.r_[0.0, fps] + cost_fn * (positives - np.r_[0.0, tps])
        best = int(np.argmin(value))
    return ThresholdChoice(float(thresholds[best]), float(value[best]))
