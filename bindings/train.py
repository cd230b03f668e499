"""``train``: the boosting loop. Gradients -> one tree per class -> margins -> evaluation -> callbacks."""
import functools

import numpy as np

from bindings.booster import Booster
from bindings.callbacks import EarlyStopping, EvaluationMonitor
from bindings.categorical import aligned_dataset, categorical_mask
from bindings.dataset import Dataset
from bindings.metrics import evaluate, named_metric
from bindings.params import interaction_matrix, loss_params, monotone_vector, resolve_params
from bindings.row_sampling import round_sample
from gbdt.dtypes import G_H_DTYPE, IDX_DTYPE
from gbdt.grower import GrowthParams, TreeGrower, sampled_count
from gbdt.leaf_quantile import leaf_residual_quantiles, weighted_quantile
from gbdt.objectives import LOSSES, base_margin, gradients, label_sums, leaf_quantile_alpha, metric_input, to_margin
from gbdt.quantize import MAX_QUANTIZED_CELLS, gradient_extremes, gradient_scales, quantize_gradients
from gbdt.sparse_histogram import histogram_builder
from gbdt.sparse_partition import row_partition
from gbdt.threads import fit_threads, using_threads
from gbdt.tree import Forest

__all__ = ["train"]

DEFAULT_METRIC = {"reg:squarederror": "rmse", "binary:logistic": "logloss", "binary:logitraw": "logloss",
                  "reg:logistic": "rmse", "multi:softprob": "mlogloss", "multi:softmax": "mlogloss",
                  "count:poisson": "poisson-nloglik", "reg:gamma": "gamma-deviance", "reg:absoluteerror": "mae",
                  "reg:squaredlogerror": "rmsle", "binary:hinge": "error", "survival:cox": "cox-nloglik",
                  "reg:quantileerror": "quantile", "reg:pseudohubererror": "mphe"}


def evaluation_metrics(p):
    """Metric names a fit with resolved parameters ``p`` evaluates: ``eval_metric``, else the
    objective's default as XGBoost's, named after its parameter where it takes one
    (``bindings.metrics.named_metric``; reg:tweedie's ``tweedie-nloglik@<power>``); none for a
    custom objective."""
    if p["eval_metric"]:
        return p["eval_metric"]
    if callable(p["objective"]):
        return []
    if p["objective"] == "reg:tweedie":
        return [f"tweedie-nloglik@{p['tweedie_variance_power']:g}"]
    return [named_metric(DEFAULT_METRIC[p["objective"]], p)]


def check_label_domain(objective, num_class, low, high, integral, name):
    """Raise if labels with range [low, high] (``integral``: all whole numbers) do not fit the objective."""
    loss = LOSSES.get(objective)
    if loss == "logistic" and (low < 0 or high > 1):
        raise ValueError(f"{name} labels must be in [0, 1] for {objective}")
    if loss == "hinge" and (low < 0 or high > 1 or not integral):
        raise ValueError(f"{name} labels must be 0 or 1 for binary:hinge")
    if loss == "squaredlog" and low <= -1:
        raise ValueError(f"{name} labels must be > -1 for reg:squaredlogerror (log1p of them), got {low}")
    if loss == "poisson" and low < 0:
        raise ValueError(f"{name} labels must be counts >= 0 for count:poisson, got {low}")
    if loss == "tweedie" and low < 0:
        raise ValueError(f"{name} labels must be >= 0 for reg:tweedie, got {low}")
    if loss == "gamma" and low <= 0:
        raise ValueError(f"{name} labels must be > 0 for reg:gamma, got {low}")
    if loss == "softmax" and (not integral or low < 0 or high >= num_class):
        raise ValueError(f"{name} labels must be integers in [0, {num_class}) for {objective} "
                         f"(num_class={num_class})")


def _check_labels(objective, label, num_class, name):
    if label is None:
        raise ValueError(f"{name} has no label; pass label= to Dataset")
    check_label_domain(objective, num_class, label.min(), label.max(), bool((label == np.round(label)).all()), name)


def initial_margin(p, sums, label=None, weight=None):
    """Base margin (K,): ``base_score`` when given (a prediction, ``to_margin``; a margin for a
    custom objective), else from the label sums (``label_sums``), or for the objectives whose
    leaves are residual quantiles the same quantile of ``label`` (n,) with ``weight`` (n,) (empty:
    unweighted)."""
    objective = p["objective"]
    if p["base_score"] is not None:
        base = p["base_score"] if callable(objective) else to_margin(objective, p["base_score"], "base_score")
        return np.full(p["num_class"], float(base))
    if callable(objective):
        return np.zeros(p["num_class"])
    alphas = leaf_quantile_alpha(objective, loss_params(p))
    if alphas is not None:
        return np.array([weighted_quantile(label, alpha, weight) for alpha in alphas])
    return base_margin(objective, sums, p["num_class"])


def custom_gradients(obj, margin, label, gh):
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


def training_weight(label, weight, p):
    """(n,) weights the gradients and the initial margin use: ``weight`` (empty: all ones) times
    ``scale_pos_weight`` on the positive rows, as XGBoost (logistic objectives only; metrics keep
    ``weight``). Empty when both leave every row at one."""
    if p["scale_pos_weight"] == 1.0:
        return weight
    base = np.ones_like(label) if weight.shape[0] == 0 else weight
    return base * np.where(label == 1.0, p["scale_pos_weight"], 1.0)


def sample_indices(rng, n, fraction):
    """Sorted int32 indices of a ``fraction`` of range(n) (all of them when fraction == 1)."""
    if fraction >= 1.0:
        return np.arange(n, dtype=IDX_DTYPE)
    return np.sort(rng.choice(n, sampled_count(fraction, n), replace=False)).astype(IDX_DTYPE)


class LocalRows:
    """Training rows held in this process: bins, labels, running margins and gradients.

    The boosting loop talks to its rows only through ``compute_gradients``, ``start_round``,
    ``partition`` and ``add_round``; ``cluster`` provides the same methods over Dask workers.
    ``leaf_alpha``: None, or per output the quantile of their rows' residuals that leaves take
    (``gbdt.objectives.leaf_quantile_alpha``).
    """

    def __init__(self, X_binned, label, weight, initial, max_bin, split_mode, n_threads, seed, row_ids=None,
                 grad_quant=None, leaf_alpha=None):
        self.X_binned, self.label, self.weight = X_binned, label, weight
        self.leaf_alpha = leaf_alpha
        # global indices of these rows (Dask shards hold a part): row sampling is keyed by them
        self.row_ids = np.arange(X_binned.shape[0]) if row_ids is None else row_ids
        self.seed = seed
        self.grad_quant = grad_quant  # None, or (bins, stochastic) of quantised gradients
        self.packed = None
        self.iteration = 0
        self.missing_bin = max_bin - 1
        self.margin = np.empty((X_binned.shape[0], initial.shape[0]))
        self.margin[:] = initial
        self.gh = np.empty((initial.shape[0], X_binned.shape[0], 2), dtype=G_H_DTYPE)
        self.builder = histogram_builder(X_binned, max_bin, split_mode, n_threads)
        self.sampled = None

    def compute_gradients(self, objective, losses):
        """Gradients of every row at the current margin (built-in name or custom callable;
        ``losses``: the ``gbdt.objectives.LossParams`` that ``gradients`` takes)."""
        if callable(objective):
            custom_gradients(objective, self.margin, self.label, self.gh)
        else:
            gradients(objective, self.margin, self.label, self.weight, self.gh.transpose(1, 0, 2), losses)

    def start_round(self, subsample, iteration):
        """Draw round ``iteration``'s rows: each row with probability ``subsample``, by its global index."""
        self.sampled = round_sample(self.row_ids, subsample, self.seed, iteration)
        self.iteration = iteration

    @property
    def subsampled(self):
        return self.sampled.shape[0] < self.X_binned.shape[0]

    def partition(self, k, scale=None):
        """The round's rows as node 0 of a new tree for output k. Without row sampling the
        partition adds leaf values to the margins itself when the tree is finished. With
        quantised gradients, ``scale`` (s_g, s_h) is given when other shards' rows count too
        (the global extremes, see ``gradient_extremes``); None takes these rows' own."""
        margin = None if self.subsampled else self.margin
        gh = self.gh[k]
        if self.grad_quant is not None:
            gh, scale = self._quantized(k, scale or gradient_scales(gh, self.sampled, self.grad_quant[0]))
        refit = None if self.leaf_alpha is None else functools.partial(self._residual_quantiles, k)
        return row_partition(self.X_binned, gh, self.sampled.copy(), self.missing_bin, self.builder, margin, k,
                            gh_scale=scale, leaf_refit=refit)

    def residuals(self, k, rows):
        """(label - margin of output k (m,), training weights (m,) or None) of ``rows`` (m,)."""
        return self.label[rows] - self.margin[rows, k], self.weight[rows] if self.weight.shape[0] else None

    def _residual_quantiles(self, k, rows, starts, stops):
        """(L,) ``leaf_alpha[k]``-quantiles of the (weighted) residuals of output k over the L leaves
        ``rows[starts[j]:stops[j]]``."""
        out = np.empty(starts.shape[0])
        leaf_residual_quantiles(rows, starts, stops, self.label, self.margin, k, self.weight, self.leaf_alpha[k], out)
        return out

    def gradient_extremes(self, k):
        """(max |g|, max h) of output k over the round's rows."""
        return gradient_extremes(self.gh[k], self.sampled)

    def _quantized(self, k, scale):
        """Output k's gradients of the round's rows as packed integers at ``scale`` (``gbdt.quantize``),
        and the scale; the stochastic rounding is keyed by the row and one 32-bit key drawn from
        (seed, round, output): one hash round per row instead of three (8.1 -> 3.2 ms per 1M rows)."""
        bins, stochastic = self.grad_quant
        if self.packed is None:
            self.packed = np.empty(self.X_binned.shape[0], dtype=np.int64)
        key = int(np.random.SeedSequence([self.seed, self.iteration, k]).generate_state(1)[0])
        quantize_gradients(self.gh[k], self.sampled, self.row_ids, *scale, stochastic, (key,), self.packed)
        return self.packed, scale

    def add_round(self, trees):
        """Add the round's trees (one per output) to the training margins, unless the
        partitions already did (no row sampling)."""
        if self.subsampled:
            self.replay_round(trees)

    def replay_round(self, trees):
        """Add trees (one per output) to the margins by predicting them on the binned rows."""
        Forest(trees, range(len(trees)), len(trees)).predict(self.X_binned, self.margin, missing_bin=self.missing_bin)


class EvalSet:
    """An evaluation Dataset binned with the training edges, with its running margin."""

    def __init__(self, dataset, name, edges, n_edges, max_bin, initial):
        self.dataset, self.name, self.missing_bin = dataset, name, max_bin - 1
        self.X_binned = dataset.binned(edges, n_edges, max_bin)
        self.margin = np.empty((dataset.num_row, initial.shape[0]))
        self.margin[:] = initial

    def add_round(self, forest):
        """Add a round's trees (a ``Forest``) to the running margin."""
        forest.predict(self.X_binned, self.margin, missing_bin=self.missing_bin)

    def scores(self, objective, metrics):
        """{metric: value} at the current margin."""
        pred = metric_input(objective, self.margin)
        return {m: evaluate(m, self.dataset.label, pred, self.dataset.weight) for m in metrics}


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
    metrics = evaluation_metrics(p)

    callbacks = list(callbacks or [])
    if verbose_eval:
        callbacks.append(EvaluationMonitor(period=1 if verbose_eval is True else verbose_eval))
    if early_stopping_rounds is not None:
        callbacks.append(EarlyStopping(early_stopping_rounds))

    n_threads = fit_threads(p["n_jobs"], dtrain.num_row, dtrain.num_col)
    with using_threads(n_threads):
        booster, history = _boost(p, dtrain, int(num_boost_round), evals, metrics, callbacks, n_threads, custom)
    if evals_result is not None:
        evals_result.clear()
        evals_result.update(history)
    return booster


def gradient_quantization(p, n_rows):
    """(bins, stochastic) of ``use_quantized_grad`` for ``n_rows`` training rows, or None when off."""
    if not p["use_quantized_grad"]:
        return None
    bins = p["num_grad_quant_bins"]
    if n_rows * bins > MAX_QUANTIZED_CELLS:
        raise ValueError(f"use_quantized_grad supports at most {MAX_QUANTIZED_CELLS // bins} rows with "
                         f"num_grad_quant_bins={bins} (integer sums must fit 32 bits), got {n_rows} rows")
    return bins, p["stochastic_rounding"]


def _boost(p, dtrain, num_boost_round, evals, metrics, callbacks, n_threads, custom):
    max_bin, seed = p["max_bin"], p["random_state"]
    weight = dtrain.weight if dtrain.weight is not None else np.empty(0)
    edges, n_edges = dtrain.bin_edges(max_bin, seed=seed)
    X_binned = dtrain.binned(edges, n_edges, max_bin)
    weight = training_weight(dtrain.label, weight, p)
    initial = initial_margin(p, label_sums(p["objective"], dtrain.label, weight, p["num_class"], loss_params(p)),
                             dtrain.label, weight)
    rows = LocalRows(X_binned, dtrain.label, weight, initial, max_bin, p["split_mode"], n_threads, seed,
                     grad_quant=gradient_quantization(p, X_binned.shape[0]),
                     leaf_alpha=leaf_quantile_alpha(p["objective"], loss_params(p)))
    booster = Booster("custom" if custom else p["objective"], p["num_class"], dtrain.num_col, initial,
                      dtrain.feature_names, n_jobs=p["n_jobs"])
    booster.categories = dtrain.categories
    eval_sets = [EvalSet(aligned_dataset(d, dtrain.categories), name, edges, n_edges, max_bin, initial)
                 for d, name in evals]
    history = boost(p, rows, booster, edges, n_edges, num_boost_round, eval_sets, metrics, callbacks)
    return booster, history


def boost(p, rows, booster, edges, n_edges, num_boost_round, eval_sets, metrics, callbacks):
    """The boosting loop over ``rows`` (LocalRows or a distributed equivalent); fills ``booster``
    up to ``num_boost_round`` rounds. Rounds already in ``booster`` (a resumed fit) are replayed
    into the margins first, then training continues from there.

    Returns the evaluation history ``{eval name: {metric: [value per round]}}`` of the new rounds.
    """
    n_classes = p["num_class"]
    growth = GrowthParams(
        max_depth=p["max_depth"], max_leaves=p["max_leaves"], grow_policy=p["grow_policy"],
        learning_rate=p["learning_rate"], reg_lambda=p["reg_lambda"], reg_alpha=p["reg_alpha"],
        gamma=p["gamma"], min_child_weight=p["min_child_weight"], max_cat_to_onehot=p["max_cat_to_onehot"],
        max_cat_threshold=p["max_cat_threshold"], cat_smooth=p["cat_smooth"],
        colsample_bylevel=p["colsample_bylevel"], colsample_bynode=p["colsample_bynode"],
        max_delta_step=p["max_delta_step"],
    )
    monotone = monotone_vector(p["monotone_constraints"], booster.num_feature, booster.feature_names)
    categorical = categorical_mask(booster.categories, booster.num_feature)
    if (monotone[categorical] != 0).any():
        raise ValueError(f"monotone_constraints on categorical features {np.flatnonzero(categorical & (monotone != 0))}"
                         "; categories have no order, so constrain numeric features only")
    interactions = interaction_matrix(p["interaction_constraints"], booster.num_feature, booster.feature_names)
    grower = TreeGrower(edges, n_edges + 1, p["max_bin"] - 1, growth, monotone, categorical, interactions)
    per_level = p["colsample_bylevel"] < 1.0 or p["colsample_bynode"] < 1.0
    feature_rng = np.random.default_rng([p["random_state"], 2])
    history = {es.name: {m: [] for m in metrics} for es in eval_sets}
    done = booster.num_boosted_rounds()
    for r in range(done):
        sample_indices(feature_rng, edges.shape[0], p["colsample_bytree"])  # a resumed fit draws as an unbroken one
        trees = booster.trees[r * n_classes:(r + 1) * n_classes]
        rows.replay_round(trees)
        replayed = Forest(trees, range(n_classes), n_classes)
        for es in eval_sets:
            es.add_round(replayed)
    for cb in callbacks:
        cb.before_training(booster)
    for iteration in range(done, num_boost_round):
        rows.compute_gradients(p["objective"], loss_params(p))
        rows.start_round(p["subsample"], iteration)
        features = sample_indices(feature_rng, edges.shape[0], p["colsample_bytree"])
        # each tree samples levels and nodes with its own generator, so a resumed fit needs no replay
        trees = [grower.grow(rows.partition(k), features,
                             np.random.default_rng([p["random_state"], 3, iteration, k]) if per_level else None)
                 for k in range(n_classes)]
        booster.append_round(trees)
        rows.add_round(trees)
        new_round = Forest(trees, range(n_classes), n_classes) if eval_sets else None
        for es in eval_sets:
            es.add_round(new_round)
            for m, value in es.scores(booster.objective, metrics).items():
                history[es.name][m].append(value)
        if any([cb.after_iteration(booster, iteration, history) for cb in callbacks]):
            break
    for cb in callbacks:
        cb.after_training(booster)
    booster.evals_result = history
    return history
