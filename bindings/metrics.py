"""Evaluation metrics on transformed predictions, with optional row weights.

Each takes ``label`` (n,), ``pred`` ((n,) probability/value, or (n, K) class probabilities)
and ``weight`` (n,) or None, and returns a float. ``HIGHER_IS_BETTER`` drives early stopping.
"""
import numpy as np

__all__ = ["evaluate", "HIGHER_IS_BETTER", "roc_auc"]

EPS = 1e-15


def _w(label, weight):
    return np.ones(label.shape[0]) if weight is None else weight


def rmse(label, pred, weight=None):
    return float(np.sqrt(np.average((pred - label) ** 2, weights=_w(label, weight))))


def logloss(label, pred, weight=None):
    p = np.clip(pred, EPS, 1 - EPS)
    return float(np.average(-(label * np.log(p) + (1 - label) * np.log(1 - p)), weights=_w(label, weight)))


def error(label, pred, weight=None):
    return float(np.average((pred > 0.5) != (label > 0.5), weights=_w(label, weight)))


def mlogloss(label, pred, weight=None):
    p = np.clip(pred[np.arange(label.shape[0]), label.astype(np.int64)], EPS, 1.0)
    return float(np.average(-np.log(p), weights=_w(label, weight)))


def merror(label, pred, weight=None):
    return float(np.average(pred.argmax(axis=1) != label, weights=_w(label, weight)))


def roc_auc(label, score, weight=None):
    """Weighted area under the ROC curve; tied scores count one half (trapezoid)."""
    w = _w(label, weight)
    order = np.argsort(-score, kind="mergesort")
    score, pos, w = score[order], (label[order] > 0.5), w[order]
    tp = np.cumsum(w * pos)
    fp = np.cumsum(w * ~pos)
    # keep the last index of every run of tied scores
    last = np.r_[np.nonzero(np.diff(score))[0], score.shape[0] - 1]
    tp = np.r_[0.0, tp[last]]
    fp = np.r_[0.0, fp[last]]
    if tp[-1] == 0 or fp[-1] == 0:
        raise ValueError("auc needs both classes in the evaluation labels")
    return float(np.trapezoid(tp, fp) / (tp[-1] * fp[-1]))


METRIC_FUNCTIONS = {
    "rmse": rmse, "logloss": logloss, "auc": roc_auc, "error": error, "mlogloss": mlogloss, "merror": merror,
}
HIGHER_IS_BETTER = {"auc"}


def evaluate(name, label, pred, weight=None):
    """Value of metric ``name`` for transformed predictions ``pred``."""
    return METRIC_FUNCTIONS[name](label, pred, weight)
