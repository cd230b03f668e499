"""``train``: the boosting loop. Gradients -> one tree per class -> margins -> evaluation -> callbacks."""
import math
import time

import numpy as np

from bindings.booster import Booster
from bindings.callbacks import EarlyStopping, EvaluationMonitor
from bindings.dataset import Dataset
from bindings.metrics import evaluate
from bindings.params import resolve_params
from gbdt.dtypes import G_H_DTYPE, IDX_DTYPE
from gbdt.grower import GrowthParams, TreeGrower
from gbdt.histogram import HistogramBuilder
from gbdt.objectives import base_margin, gradients, transform
from gbdt.partition import RowPartition
from gbdt.threads import effective_threads, using_threads
from gbdt.tree import Forest

__all__ = ["train"]

DEFAULT_METRIC = {"reg:squarederror": "rmse", "binary:logistic": "logloss", "multi:softprob": "mlogloss"}


def _check_labels(objective, label, num_class, name):
    if label is None:
        raise ValueError(f"{name} has no label; pass label= to Dataset")
    if objective == "binary:logistic" and ((label < 0) | (label > 1)).any():
        raise ValueError(f"{name} labels must be in [0, 1] for binary:logistic")
    if objective == "multi:softprob":
        if (label != np.round(label)).any() or (label < 0).any() or (label >= num_class).any():
            raise ValueError(f"{name} labels must be integers in [0, {num_class}) for multi:softprob "
                             f"(num_class={num_class})")


def _initial_margin(p, label, weight):
    objective = p["objective"]
    if p["base_score"] is not None:
        base = p["base_score"]
        if objective == "binary:logistic":
            if not 0.0 < base < 1.0:
                raise ValueError(f"base_score must be a probability in (0, 1) for binary:logistic, got {base}")
            base = math.log(base / (1.0 - base))
        return np.full(p["num_class"], float(base))
    if callable(objective):
        return np.zeros(p["num_class"])
    return base_margin(objective, label, weight, p["num_class"])


def _custom_gradients(obj, margin, label, gh):
    """Call ``obj(preds, labels) -> (grad, hess)`` and copy the result into gh (K, n, 2)."""
    n, k = margin.shape
    grad, hess = obj(margin[:, 0].copy() if k == 1 else margin.copy(), label)
    grad = np.asarray(grad, dtype=np.float64)
    hess = np.asarray(hess, dtype=np.float64)
    if grad.size != n * k or hess.size != n * k:
        raise ValueError(f"custom objective must return grad and hess of shape ({n},) or ({n}, {k}), "
                         f"got {grad.shape} and {hess.shape}")
    grad, hess = grad.reshape(n, k), hess.reshape(n, k)
    if not (np.isfinite(grad).all() and np.isfinite(hess).all()):
        raise ValueError("custom objective returned NaN or infinite gradients/hessians")
    gh[:, :, 0] = grad.T
    gh[:, :, 1] = hess.T


class _EvalSet:
    """An evaluation Dataset binned with the training edges, with its running margin."""

    def __init__(self, dataset, name, edges, n_edges, max_bin, initial):
        self.dataset, self.name, self.missing_bin = dataset, name, max_bin - 1
        self.X_binned = dataset.binned(edges, n_edges, max_bin)
        self.margin = np.empty((dataset.num_row, initial.shape[0]))
        self.margin[:] = initial


def train(params, dtrain, num_boost_round=100, *, evals=(), obj=None, early_stopping_rounds=None,
          evals_result=None, callbacks=None, verbose_eval=False):
    """Train a gradient-boosted forest, like ``xgboost.train``.

    Parameters
    ----------
    params : dict of parameters (see the README table; XGBoost/LightGBM aliases accepted).
    dtrain : Dataset with labels.
    num_boost_round : boosting rounds (one tree per class per round).
    evals : list of (Dataset, name) pairs evaluated after every round.
    obj : custom objective ``obj(margin, label) -> (grad, hess)``; same as a callable ``objective``.
    early_stopping_rounds : stop when the last metric on the last eval set stalls this long.
    evals_result : dict filled with ``{name: {metric: [values]}}``.
    callbacks : list of TrainingCallback; verbose_eval : bool or print period.
    """
    params = dict(params or {})
    if obj is not None:
        params["objective"] = obj
    p = resolve_params(params)
    if not isinstance(dtrain, Dataset):
        raise TypeError(f"dtrain must be a Dataset, got {type(dtrain).__name__}")
    if int(num_boost_round) < 0:
        raise ValueError(f"num_boost_round must be >= 0, got {num_boost_round}")
    custom = callable(p["objective"])
    objective = "custom" if custom else p["objective"]
    n_classes = p["num_class"]
    _check_labels(objective, dtrain.label, n_classes, "dtrain")
    evals = list(evals or ())
    for pair in evals:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and isinstance(pair[0], Dataset)):
            raise TypeError("evals must be a list of (Dataset, name) pairs")
        if pair[0].num_col != dtrain.num_col:
            raise ValueError(f"eval set {pair[1]!r} has {pair[0].num_col} features, dtrain has {dtrain.num_col}")
        _check_labels(objective, pair[0].label, n_classes, f"eval set {pair[1]!r}")
    metrics = p["eval_metric"] or ([] if custom else [DEFAULT_METRIC[objective]])

    callbacks = list(callbacks or [])
    if verbose_eval:
        callbacks.append(EvaluationMonitor(period=1 if verbose_eval is True else verbose_eval))
    if early_stopping_rounds is not None:
        callbacks.append(EarlyStopping(early_stopping_rounds))

    n_threads = effective_threads(p["n_jobs"])
    with using_threads(n_threads):
        booster, history = _boost(p, dtrain, int(num_boost_round), evals, metrics, callbacks, n_threads, custom)
    if evals_result is not None:
        evals_result.clear()
        evals_result.update(history)
    return booster


def _boost(p, dtrain, num_boost_round, evals, metrics, callbacks, n_threads, custom):
    t0 = time.perf_counter()
    max_bin, seed = p["max_bin"], p["random_state"]
    n_classes = p["num_class"]
    label = dtrain.label
    weight = dtrain.weight if dtrain.weight is not None else np.empty(0)
    edges, n_edges = dtrain.bin_edges(max_bin, seed=seed)
    X_binned = dtrain.binned(edges, n_edges, max_bin)
    t_bin = time.perf_counter() - t0

    initial = _initial_margin(p, label, weight)
    booster = Booster("custom" if custom else p["objective"], n_classes, dtrain.num_col, initial,
                      dtrain.feature_names, n_jobs=p["n_jobs"])
    margin = np.empty((dtrain.num_row, n_classes))
    margin[:] = initial
    eval_sets = [_EvalSet(d, name, edges, n_edges, max_bin, initial) for d, name in evals]

    builder = HistogramBuilder(X_binned, max_bin, p["split_mode"], n_threads)
    growth = GrowthParams(
        max_depth=p["max_depth"], max_leaves=p["max_leaves"], grow_policy=p["grow_policy"],
        learning_rate=p["learning_rate"], reg_lambda=p["reg_lambda"], reg_alpha=p["reg_alpha"],
        gamma=p["gamma"], min_child_weight=p["min_child_weight"],
    )
    grower = TreeGrower(edges, n_edges + 1, max_bin - 1, growth)
    rng = np.random.default_rng(seed)
    n_rows, n_features = X_binned.shape
    gh = np.empty((n_classes, n_rows, 2), dtype=G_H_DTYPE)
    history = {name: {m: [] for m in metrics} for _, name in evals}

    for cb in callbacks:
        cb.before_training(booster)
    for iteration in range(num_boost_round):
        if custom:
            _custom_gradients(p["objective"], margin, label, gh)
        else:
            gradients(p["objective"], margin, label, weight, gh.transpose(1, 0, 2))
        sampled = _sample(rng, n_rows, p["subsample"])
        features = _sample(rng, n_features, p["colsample_bytree"])
        trees = []
        for k in range(n_classes):
            partition = RowPartition(X_binned, sampled.copy(), max_bin - 1, builder)
            trees.append(grower.grow(gh[k], partition, features))
        booster.append_round(trees)
        new_round = Forest(trees, range(n_classes), n_classes)
        new_round.predict(X_binned, margin, missing_bin=max_bin - 1)
        for es in eval_sets:
            new_round.predict(es.X_binned, es.margin, missing_bin=es.missing_bin)
            pred = es.margin[:, 0] if custom and n_classes == 1 else (
                es.margin if custom else transform(p["objective"], es.margin))
            for m in metrics:
                history[es.name][m].append(evaluate(m, es.dataset.label, pred, es.dataset.weight))
        if any([cb.after_iteration(booster, iteration, history) for cb in callbacks]):
            break
    for cb in callbacks:
        cb.after_training(booster)
    booster.evals_result = history
    booster.timings = {"binning_s": t_bin, "total_s": time.perf_counter() - t0}
    return booster, history


def _sample(rng, n, fraction):
    """Sorted int32 indices of a ``fraction`` of range(n) (all of them when fraction == 1)."""
    if fraction >= 1.0:
        return np.arange(n, dtype=IDX_DTYPE)
    size = max(1, int(round(fraction * n)))
    return np.sort(rng.choice(n, size, replace=False)).astype(IDX_DTYPE)
