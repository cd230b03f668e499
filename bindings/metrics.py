"""Evaluation metrics on transformed predictions, with optional row weights.

``evaluate(name, label, pred, weight)`` takes ``label`` (n,), ``pred`` ((n,) probability/value,
or (n, K) class probabilities) and ``weight`` (n,) or None, and returns a float;
``partial_metric``/``combine_partials`` give the same value for rows split across workers.
``higher_is_better`` drives early stopping. Ranking metrics (``ndcg@k``, ``map@k``, ``pre@k``,
``bindings.ranking_metrics``) take the queries ``group_ptr`` and the NDCG ``gain``.
``tweedie-nloglik@rho`` names its variance power,
``quantile@alpha`` its quantile and ``mphe@slope`` its pseudo-Huber slope (``named_metric``
names a bare ``quantile`` and ``mphe``, and the objectives' defaults, after the loss parameters).
"""
import numpy as np

from bindings.ranking_metrics import (combine_ranking_partials, is_ranking_metric, parse_ranking_metric,
                                      ranking_partial)
from gbdt.objectives import log_factorials

__all__ = ["evaluate", "partial_metric", "combine_partials", "check_metric", "named_metric", "HIGHER_IS_BETTER",
           "METRICS", "roc_auc", "higher_is_better"]

EPS = 1e-15


def _w(label, weight):
    return np.ones(label.shape[0]) if weight is None else weight


# per-row losses of the metrics that are weighted averages over rows
def _squared_error(label, pred):
    return (pred - label) ** 2


def _logloss(label, pred):
    p = np.clip(pred, EPS, 1 - EPS)
    return -(label * np.log(p) + (1 - label) * np.log(1 - p))


def _error(label, pred):
    return (pred > 0.5) != (label > 0.5)


def _mlogloss(label, pred):
    return -np.log(np.clip(pred[np.arange(label.shape[0]), label.astype(np.int64)], EPS, 1.0))


def _merror(label, pred):
    return pred.argmax(axis=1) != label


def _poisson_nloglik(label, pred):
    p = np.maximum(pred, 1e-16)
    return p - label * np.log(p) + log_factorials(np.asarray(label, dtype=np.float64))


def _squared_log_error(label, pred):
    return (np.log1p(pred) - np.log1p(label)) ** 2


def _absolute_error(label, pred):
    return np.abs(pred - label)


def _gamma_deviance(label, pred):
    """Twice the unit gamma deviance, both shifted by 1e-6 as XGBoost's (labels > 0)."""
    ratio = (label + 1e-6) / (pred + 1e-6)
    return 2.0 * (ratio - np.log(ratio) - 1.0)


def _gamma_nloglik(label, pred):
    """Gamma negative log-likelihood with dispersion 1 as XGBoost's: y / p + log p."""
    p = np.maximum(pred, 1e-6)
    return label / p + np.log(p)


def _tweedie_nloglik(rho):
    """Row losses of the Tweedie negative log-likelihood with variance power ``rho`` in [1, 2),
    up to label-only terms: -y p^(1 - rho) / (1 - rho) + p^(2 - rho) / (2 - rho)."""
    def losses(label, pred):
        with np.errstate(divide="ignore", invalid="ignore"):  # rho = 1: infinite, as XGBoost's
            return -label * pred ** (1.0 - rho) / (1.0 - rho) + pred ** (2.0 - rho) / (2.0 - rho)
    return losses


def _pinball(alphas):
    """Row losses of the pinball (quantile) loss of quantiles ``alphas`` (K,) in (0, 1), averaged
    over them (pred (n,) for one, (n, K) for several): alpha (y - p) above the prediction,
    (1 - alpha) (p - y) below."""
    def losses(label, pred):
        d = (label[:, None] - pred.reshape(label.shape[0], -1))
        return np.where(d >= 0, alphas * d, (alphas - 1.0) * d).mean(axis=1)
    return losses


def _pseudo_huber(slope):
    """Row losses of the pseudo-Huber error with slope delta > 0: delta^2 (sqrt(1 + (z / delta)^2) - 1)."""
    def losses(label, pred):
        return slope ** 2 * (np.sqrt(1.0 + ((pred - label) / slope) ** 2) - 1.0)
    return losses


ROW_LOSSES = {"rmse": _squared_error, "rmsle": _squared_log_error, "mae": _absolute_error, "logloss": _logloss,
              "error": _error, "mlogloss": _mlogloss, "merror": _merror, "poisson-nloglik": _poisson_nloglik,
              "gamma-deviance": _gamma_deviance, "gamma-nloglik": _gamma_nloglik}
# metrics named "<family>@<value>": family -> (row losses of a value, what the value is, its check)
PARAMETRISED_LOSSES = {"tweedie-nloglik": (_tweedie_nloglik, "a variance power in [1, 2)", lambda v: 1.0 <= v < 2.0),
                       "quantile": (_pinball, "quantiles in (0, 1), comma-separated,",
                                    lambda v: bool(np.all((0.0 < v) & (v < 1.0)))),
                       "mphe": (_pseudo_huber, "a slope > 0", lambda v: 0.0 < v < float("inf"))}
LIST_VALUED = {"quantile"}  # families whose value may be several numbers, as quantile@0.1,0.9


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


def cox_nloglik(label, hazard, weight=None):
    """Cox negative partial log-likelihood per event, Breslow's ties, as XGBoost's (which ignores
    weights): |label| times (negative: censored), ``hazard`` (n,) = exp(margin)."""
    order = np.argsort(np.abs(label), kind="stable")
    label, hazard = label[order], hazard[order]
    events = label > 0
    if not events.any():
        raise ValueError("cox-nloglik needs at least one event (a positive label)")
    time = np.abs(label)
    # risk set of the rows tied at a time: every row from the first of them on
    first = np.searchsorted(time, time, side="left")
    at_risk = np.cumsum(hazard[::-1])[::-1][first]
    return float(-(np.log(hazard[events]) - np.log(at_risk[events])).sum() / events.sum())


# metrics of all rows at once: partials are the rows' (labels, predictions, weights) themselves
WHOLE_ROW_METRICS = {"auc": roc_auc, "cox-nloglik": cox_nloglik}

METRICS = tuple(ROW_LOSSES) + ("auc", "cox-nloglik", "tweedie-nloglik@<rho>", "quantile", "quantile@<alpha>", "mphe",
                                "mphe@<slope>", "ndcg", "ndcg@<k>", "map", "map@<k>", "pre", "pre@<k>")
HIGHER_IS_BETTER = {"auc"}
# metric families named after the value of a loss parameter (a ``LossParams`` field), as quantile@0.1,0.9
NAMED_AFTER = {"quantile": "quantile_alpha", "mphe": "huber_slope", "tweedie-nloglik": "tweedie_variance_power"}
BARE_METRICS = {"quantile", "mphe"}  # families eval_metric may name bare: the parameter's value is taken


def higher_is_better(name):
    """Whether a larger value of metric ``name`` is better (auc and the ranking metrics)."""
    return name in HIGHER_IS_BETTER or is_ranking_metric(name)


def named_metric(name, losses):
    """``name``, or for a family of ``NAMED_AFTER`` the metric named after its parameter's value in
    ``losses`` (``bindings.objectives.LossParams``), as quantile@0.1,0.9 or mphe@1."""
    if name not in NAMED_AFTER:
        return name
    parameter = NAMED_AFTER[name]
    value = getattr(losses, parameter)
    if value is None:
        raise ValueError(f"eval_metric {name!r} takes {parameter}; set it or name the metric {name}@<value>")
    return f"{name}@" + ",".join(f"{v:g}" for v in (value if isinstance(value, tuple) else (value,)))


def row_losses(name):
    """Per-row loss function of the averaged metric ``name``; ValueError for an unknown name."""
    if name in ROW_LOSSES:
        return ROW_LOSSES[name]
    family, _, text = name.partition("@")
    if family in PARAMETRISED_LOSSES:
        losses, what, valid = PARAMETRISED_LOSSES[family]
        try:
            value = np.array([float(t) for t in text.split(",")]) if family in LIST_VALUED else float(text)
        except ValueError:
            value = np.array([np.nan]) if family in LIST_VALUED else float("nan")
        if valid(value):
            return losses(value)
        raise ValueError(f"eval_metric {name!r} must name {what} after '@', as {family}@0.5"
                         + (f"; a bare {family!r} takes the parameter's value" if family in BARE_METRICS else ""))
    raise ValueError(f"eval_metric must be one of {METRICS}, got {name!r}")


def check_metric(name):
    """Raise ValueError unless ``name`` is a known metric (TypeError unless a string)."""
    if not isinstance(name, str):
        raise TypeError(f"eval_metric must be a metric name or a list of them, got {name!r}")
    if name not in WHOLE_ROW_METRICS and name not in BARE_METRICS and parse_ranking_metric(name) is None:
        row_losses(name)


def partial_metric(name, label, pred, weight=None, group_ptr=None, gain="exponential"):
    """Statistics of metric ``name`` over some rows that ``combine_partials`` merges across row
    subsets (e.g. Dask workers) into the metric over all of them: (sum of weighted losses, sum of
    weights) for averaged losses and (over whole queries ``group_ptr``) ranking metrics; the
    (labels, predictions, weights) themselves for ``WHOLE_ROW_METRICS``."""
    if is_ranking_metric(name):
        return ranking_partial(name, label, pred, weight, group_ptr, gain)
    w = _w(label, weight)
    if name in WHOLE_ROW_METRICS:
        return label, pred, w
    losses = row_losses(name)(label, pred)
    return float(np.multiply(losses, w).sum()), float(w.sum())


def combine_partials(name, partials):
    """The value of metric ``name`` from ``partial_metric`` results of disjoint row subsets."""
    if name in WHOLE_ROW_METRICS:
        return WHOLE_ROW_METRICS[name](*(np.concatenate(parts) for parts in zip(*partials)))
    if is_ranking_metric(name):
        return combine_ranking_partials(partials)
    value = sum(p[0] for p in partials) / sum(p[1] for p in partials)
    return float(np.sqrt(value)) if name in ("rmse", "rmsle") else float(value)


def evaluate(name, label, pred, weight=None, group_ptr=None, gain="exponential"):
    """Value of metric ``name`` for transformed predictions ``pred`` (ranking metrics: over the
    queries ``group_ptr`` (G + 1,), NDCG with ``gain``)."""
    return combine_partials(name, [partial_metric(name, label, pred, weight, group_ptr, gain)])
