"""One parameter table: canonical names, aliases (XGBoost and LightGBM spellings), defaults, checks.

Parameters are validated once, here, at the edge of the API, and resolved into typed, frozen
objects (``Params``: the loss, tree growth, constraints, sampling, evaluation, quantisation) that
the boosting loop, local or on Dask, reads; nothing below this module sees the raw dict.
Messages say what was expected and, for an unknown name, suggest the closest known one.
"""
import json
import numbers
import os
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

from bindings.metrics import check_metric, named_metric
from bindings.objectives import OBJECTIVES, Loss, LossParams, custom_objective
from bindings.validation import check_choice, close_match_hint
from gbdt.grower import GrowthParams
from gbdt.quantize import MAX_QUANTIZED_CELLS
from gbdt.ranking import RankingParams

SPLIT_MODES = ("auto", "data", "feature")
# XGBoost's split-finding methods: bins fixed once (hist), candidates re-proposed from the
# hessians each round (approx), every distinct value (exact, local only)
TREE_METHODS = ("hist", "approx", "exact")
GROW_POLICIES = ("depthwise", "lossguide")
PAIR_METHODS = ("topk", "mean")
# the ranking objectives' default number of pairs: XGBoost's top 32 (topk) or 1 partner per
# document (mean), LightGBM's lambdarank_truncation_level 30
DEFAULT_NUM_PAIR = {"topk": 32, "mean": 1, "lightgbm": 30}

DEFAULTS = {
    "objective": "reg:squarederror",
    "num_class": 1,
    "learning_rate": 0.3,
    "max_depth": 6,
    "max_leaves": 0,
    "grow_policy": "depthwise",
    "max_bin": 256,
    "reg_lambda": 1.0,
    "reg_alpha": 0.0,
    "gamma": 0.0,
    "min_child_weight": 1.0,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "colsample_bylevel": 1.0,
    "colsample_bynode": 1.0,
    "scale_pos_weight": 1.0,
    "max_delta_step": None,
    "tweedie_variance_power": 1.5,
    "quantile_alpha": None,
    "huber_slope": 1.0,
    "split_mode": "auto",
    "tree_method": "hist",
    "n_jobs": None,
    "random_state": 0,
    "eval_metric": None,
    "base_score": None,
    "verbosity": 0,
    "monotone_constraints": None,
    "interaction_constraints": None,
    "max_cat_to_onehot": 4,
    "max_cat_threshold": 32,
    "cat_smooth": 10.0,
    "use_quantized_grad": False,
    "num_grad_quant_bins": 4,
    "stochastic_rounding": True,
    "lambdarank_pair_method": "topk",
    "lambdarank_num_pair_per_sample": None,
    "lambdarank_unbiased": False,
    "lambdarank_bias_norm": 1.0,
    "lambdarank_normalization": True,
    "lambdarank_score_normalization": True,
    "ndcg_exp_gain": True,
    "label_gain": None,
    "objective_seed": 5,
}

ALIASES = {
    "eta": "learning_rate",
    "shrinkage_rate": "learning_rate",
    "lambda": "reg_lambda",
    "lambda_l2": "reg_lambda",
    "alpha": "reg_alpha",
    "lambda_l1": "reg_alpha",
    "min_split_loss": "gamma",
    "min_split_gain": "gamma",
    "min_sum_hessian_in_leaf": "min_child_weight",
    "num_leaves": "max_leaves",
    "bagging_fraction": "subsample",
    "feature_fraction": "colsample_bytree",
    "feature_fraction_bynode": "colsample_bynode",
    "nthread": "n_jobs",
    "num_threads": "n_jobs",
    "seed": "random_state",
    "metric": "eval_metric",
    "num_classes": "num_class",
    "lambdarank_truncation_level": "lambdarank_num_pair_per_sample",
    "lambdarank_norm": "lambdarank_normalization",
}


def _number(name, value, low, high, low_open=False, integer=False, high_open=False):
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high or value != value:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be in {lo}{low}, {high}{hi}, got {value!r}")
    return int(value) if integer else float(value)


def _flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _n_jobs(value):
    if value is None or value == -1:
        return os.cpu_count() or 1
    return _number("n_jobs", value, 1, 4096, integer=True)


def _metrics(value):
    if value is None:
        return []
    names = [value] if isinstance(value, str) or not hasattr(value, "__iter__") else list(value)
    for m in names:
        check_metric(m)
    return names


def _objective(value):
    """The ``bindings.objectives.Objective`` of a name or of a custom callable."""
    if callable(value):
        return custom_objective(value)
    return OBJECTIVES[check_choice(value, "objective", tuple(OBJECTIVES))]


def _label_gain(value):
    """None, or LightGBM's label_gain (a list of gains >= 0 by integer label, or its string "0,1,3") as a tuple."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    try:
        gains = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"label_gain must be a list of gains by label, such as [0, 1, 3, 7], got {value!r}") from None
    if not gains or not all(np.isfinite(g) and g >= 0 for g in gains):
        raise ValueError(f"label_gain must be a non-empty list of finite gains >= 0, got {value!r}")
    return gains


def _monotone(value):
    """None, a sequence of -1/0/+1 per feature (or its string form "(1,0,-1)"), or {feature name: -1/0/+1}."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().strip("()[]")
        value = [int(v) for v in text.split(",")] if text else []
    items = value.values() if isinstance(value, dict) else value
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"monotone_constraints must be a list/tuple of -1/0/+1 per feature or a dict "
                        f"{{feature name: -1/0/+1}}, got {value!r}") from None
    for v in items:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v not in (-1, 0, 1):
            raise ValueError(f"monotone_constraints values must be -1, 0 or +1, got {v!r}")
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, dict) else tuple(int(v) for v in items)


def _quantile_alphas(value):
    """None, or the quantiles in (0, 1) to fit (one number or a non-empty list) as a tuple of floats."""
    if value is None:
        return None
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if not values:
        raise ValueError("quantile_alpha must be a quantile in (0, 1) or a non-empty list of them, got []")
    return tuple(_number("quantile_alpha", v, 0.0, 1.0, low_open=True, high_open=True) for v in values)


def _interactions(value):
    """None, or a list of feature groups (each a list of indices or names; or its JSON string form
    "[[0, 1], [2, 3]]"), as a tuple of tuples."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"interaction_constraints must be a list of feature lists such as [[0, 1], [2, 3]], "
                             f"got {value!r}") from None
    groups = list(value) if isinstance(value, (list, tuple)) else None
    if groups is None or not all(isinstance(g, (list, tuple)) and g for g in groups):
        raise ValueError(f"interaction_constraints must be a list of non-empty feature lists such as [[0, 1], [2, 3]], "
                         f"got {value!r}")
    for group in groups:
        for f in group:
            if isinstance(f, bool) or not isinstance(f, (numbers.Integral, str)):
                raise TypeError(f"interaction_constraints lists features by index or name, got {f!r}")
    return tuple(tuple(g) for g in groups)


INF = float("inf")
CHECKS = {
    "objective": _objective,
    "num_class": lambda v: _number("num_class", v, 1, 1 << 20, integer=True),
    "learning_rate": lambda v: _number("learning_rate", v, 0.0, INF, low_open=True),
    "max_depth": lambda v: _number("max_depth", v, 0, 64, integer=True),
    "max_leaves": lambda v: _number("max_leaves", v, 0, 1 << 30, integer=True),
    "grow_policy": lambda v: check_choice(v, "grow_policy", GROW_POLICIES),
    "max_bin": lambda v: _number("max_bin", v, 2, 256, integer=True),
    "reg_lambda": lambda v: _number("reg_lambda", v, 0.0, INF),
    "reg_alpha": lambda v: _number("reg_alpha", v, 0.0, INF),
    "gamma": lambda v: _number("gamma", v, 0.0, INF),
    "min_child_weight": lambda v: _number("min_child_weight", v, 0.0, INF),
    "subsample": lambda v: _number("subsample", v, 0.0, 1.0, low_open=True),
    "colsample_bytree": lambda v: _number("colsample_bytree", v, 0.0, 1.0, low_open=True),
    "colsample_bylevel": lambda v: _number("colsample_bylevel", v, 0.0, 1.0, low_open=True),
    "colsample_bynode": lambda v: _number("colsample_bynode", v, 0.0, 1.0, low_open=True),
    "scale_pos_weight": lambda v: _number("scale_pos_weight", v, 0.0, 1e12, low_open=True),
    "max_delta_step": lambda v: None if v is None else _number("max_delta_step", v, 0.0, INF),
    "tweedie_variance_power": lambda v: _number("tweedie_variance_power", v, 1.0, 2.0, high_open=True),
    "quantile_alpha": lambda v: _quantile_alphas(v),
    "huber_slope": lambda v: _number("huber_slope", v, 0.0, INF, low_open=True),
    "split_mode": lambda v: check_choice(v, "split_mode", SPLIT_MODES),
    "tree_method": lambda v: check_choice(v, "tree_method", TREE_METHODS),
    "n_jobs": _n_jobs,
    "random_state": lambda v: _number("random_state", 0 if v is None else v, 0, 2**32 - 1, integer=True),
    "eval_metric": _metrics,
    "base_score": lambda v: None if v is None else _number("base_score", v, -INF, INF),
    "verbosity": lambda v: _number("verbosity", v, 0, 3, integer=True),
    "monotone_constraints": _monotone,
    "interaction_constraints": _interactions,
    "max_cat_to_onehot": lambda v: _number("max_cat_to_onehot", v, 0, 1 << 30, integer=True),
    "max_cat_threshold": lambda v: _number("max_cat_threshold", v, 1, 1 << 30, integer=True),
    "cat_smooth": lambda v: _number("cat_smooth", v, 0.0, INF),
    "use_quantized_grad": lambda v: _flag("use_quantized_grad", v),
    "num_grad_quant_bins": lambda v: _number("num_grad_quant_bins", v, 2, 64, integer=True),
    "stochastic_rounding": lambda v: _flag("stochastic_rounding", v),
    "lambdarank_pair_method": lambda v: check_choice(v, "lambdarank_pair_method", PAIR_METHODS),
    "lambdarank_num_pair_per_sample": lambda v: None if v is None else _number("lambdarank_num_pair_per_sample", v, 1,
                                                                               1 << 31, integer=True),
    "lambdarank_unbiased": lambda v: _flag("lambdarank_unbiased", v),
    "lambdarank_bias_norm": lambda v: _number("lambdarank_bias_norm", v, 0.0, INF),
    "lambdarank_normalization": lambda v: _flag("lambdarank_normalization", v),
    "lambdarank_score_normalization": lambda v: _flag("lambdarank_score_normalization", v),
    "ndcg_exp_gain": lambda v: _flag("ndcg_exp_gain", v),
    "label_gain": _label_gain,
    "objective_seed": lambda v: _number("objective_seed", v, 0, 2**31 - 1, integer=True),
}


def _names(feature_names, n_features):
    """Feature names that constraints may use: ``feature_names``, else f0, f1, ..."""
    return list(feature_names) if feature_names is not None else [f"f{i}" for i in range(n_features)]


@dataclass(frozen=True)
class Constraints:
    """Resolved ``monotone_constraints`` (None, a tuple of -1/0/+1 or {feature name: -1/0/+1}) and
    ``interaction_constraints`` (None or a tuple of tuples of feature indices or names); the
    per-feature arrays need the data's features."""
    monotone: Optional[object] = None
    interactions: Optional[tuple] = None

    def monotone_vector(self, n_features, feature_names=None):
        """(F,) int8 constraint per feature (all 0 without constraints)."""
        value = self.monotone
        out = np.zeros(n_features, dtype=np.int8)
        if value is None:
            return out
        if isinstance(value, dict):
            names = _names(feature_names, n_features)
            unknown = sorted(set(value) - set(names))
            if unknown:
                raise ValueError(f"monotone_constraints names unknown features {unknown}; features are {names}")
            for name, v in value.items():
                out[names.index(name)] = v
            return out
        if len(value) != n_features:
            raise ValueError(f"monotone_constraints has {len(value)} entries but the data has {n_features} features")
        out[:] = value
        return out

    def interaction_matrix(self, n_features, feature_names=None):
        """(C, F) bool: the features of each of the C groups, or None without constraints."""
        if self.interactions is None:
            return None
        names = _names(feature_names, n_features)
        out = np.zeros((len(self.interactions), n_features), dtype=np.bool_)
        for c, group in enumerate(self.interactions):
            for f in group:
                if isinstance(f, str):
                    if f not in names:
                        raise ValueError(f"interaction_constraints names unknown feature {f!r}; features are {names}")
                    f = names.index(f)
                if not 0 <= f < n_features:
                    raise ValueError(f"interaction_constraints feature index {f} is out of range for {n_features} "
                                     "features")
                out[c, f] = True
        return out


@dataclass(frozen=True)
class Sampling:
    """Row and per-tree feature sampling (per-level and per-node sampling are the grower's: ``GrowthParams``)."""
    subsample: float = 1.0  # each row's probability of taking part in a round
    colsample_bytree: float = 1.0  # share of the features each round may split on


@dataclass(frozen=True)
class Quantization:
    """``use_quantized_grad``: gradients as integers of ``bins`` levels, rounded stochastically or not."""
    bins: int
    stochastic: bool

    def check_rows(self, n_rows):
        """Raise ValueError when ``n_rows`` training rows could overflow the 32-bit integer sums."""
        if n_rows * self.bins > MAX_QUANTIZED_CELLS:
            raise ValueError(f"use_quantized_grad supports at most {MAX_QUANTIZED_CELLS // self.bins} rows with "
                             f"num_grad_quant_bins={self.bins} (integer sums must fit 32 bits), got {n_rows} rows")


@dataclass(frozen=True)
class Params:
    """Every training parameter, resolved (``resolve_params``).

    loss : ``bindings.objectives.Loss``; growth : ``gbdt.grower.GrowthParams``; constraints,
    sampling; metrics : the metric names evaluated every round (``eval_metric``, else the
    objective's default); quantization : ``Quantization`` or None; max_bin : bins per feature
    including the missing bin; split_mode, n_jobs (threads), seed (``random_state``), verbosity;
    tree_method : "hist", "approx" or "exact" (``TREE_METHODS``);
    ndcg_gain : the gain of NDCG metrics ("exponential" 2^y - 1, "linear" y, or a tuple of gains by
    integer label: ``gbdt.ranking.label_gains``), the ranking objective's own.
    """
    loss: Loss
    growth: GrowthParams
    constraints: Constraints
    sampling: Sampling
    metrics: tuple
    quantization: Optional[Quantization]
    max_bin: int
    split_mode: str
    n_jobs: int
    seed: int
    verbosity: int
    ndcg_gain: object = "exponential"
    tree_method: str = "hist"


def canonical_name(name):
    """Canonical spelling of a parameter name; unknown names raise with a suggestion."""
    name = ALIASES.get(name, name)
    if name not in DEFAULTS:
        hint = close_match_hint(name, list(DEFAULTS) + list(ALIASES))
        raise ValueError(f"unknown parameter {name!r}{hint} Known parameters: {sorted(DEFAULTS)}")
    return name


def resolve_params(params, objective=None):
    """``Params`` of a dict of parameters (aliases allowed; None: every default); ``objective``
    (a custom callable, as ``train``'s ``obj``) replaces the dict's. ``Params`` pass through."""
    if isinstance(params, Params):
        if objective is not None:
            raise TypeError("obj cannot replace the objective of resolved Params; resolve the dict with it")
        return params
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict, got {type(params).__name__}")
    if objective is not None:
        params = {**params, "objective": objective}
    p = dict(DEFAULTS)
    seen = {}
    for name, value in params.items():
        canon = canonical_name(name)
        if canon in seen and seen[canon] != name:
            raise ValueError(f"parameter {canon!r} given twice, as {seen[canon]!r} and {name!r}")
        seen[canon] = name
        p[canon] = value
    for name, check in CHECKS.items():
        p[name] = check(p[name])
    if p["tree_method"] == "exact" and "max_bin" in seen and p["max_bin"] != DEFAULTS["max_bin"]:
        # the default passes silently: the estimators always send their max_bin
        warnings.warn(f"max_bin={p['max_bin']} is ignored by tree_method='exact' (every distinct value is a split "
                      "candidate)", UserWarning, stacklevel=3)
    return _typed(p)


def _outputs(objective, p):
    """K, the margins per row, of ``objective`` under checked parameters ``p``."""
    if objective.outputs == "classes":
        if p["num_class"] < 2:
            raise ValueError(f"num_class must be >= 2 for objective {objective.name!r}, got {p['num_class']}")
        return p["num_class"]
    if objective.outputs == "quantiles":
        if p["quantile_alpha"] is None:
            raise ValueError(f"quantile_alpha (the quantile to fit, in (0, 1)) is required for {objective.name}")
        return len(p["quantile_alpha"])  # one output per quantile
    return p["num_class"] if objective.outputs == "given" else 1


def _typed(p):
    """``Params`` of the checked dict ``p`` (every canonical name)."""
    objective = p["objective"]
    # XGBoost's default: 0.7 for count:poisson, else no clip
    max_delta_step = objective.max_delta_step if p["max_delta_step"] is None else p["max_delta_step"]
    losses = LossParams(max_delta_step, p["tweedie_variance_power"], p["quantile_alpha"], p["huber_slope"])
    outputs = _outputs(objective, p)
    ranking = _ranking(p)
    metrics = [named_metric(m, losses) for m in p["eval_metric"]]
    if not metrics and objective.default_metric is not None:
        metrics = [named_metric(objective.default_metric, losses)]
    if not metrics and ranking is not None:
        metrics = _ranking_metrics(ranking)
    if p["scale_pos_weight"] != 1.0 and not objective.weights_positive:
        raise ValueError(f"scale_pos_weight weights the positive rows of a logistic objective; got "
                         f"{p['scale_pos_weight']} with objective {objective.name!r}")
    loss = Loss(objective, outputs, losses, p["base_score"], p["scale_pos_weight"], ranking)
    growth = GrowthParams(
        max_depth=p["max_depth"], max_leaves=p["max_leaves"], grow_policy=p["grow_policy"],
        learning_rate=p["learning_rate"], reg_lambda=p["reg_lambda"], reg_alpha=p["reg_alpha"], gamma=p["gamma"],
        min_child_weight=p["min_child_weight"], max_cat_to_onehot=p["max_cat_to_onehot"],
        max_cat_threshold=p["max_cat_threshold"], cat_smooth=p["cat_smooth"],
        colsample_bylevel=p["colsample_bylevel"], colsample_bynode=p["colsample_bynode"],
        max_delta_step=max_delta_step)
    quantization = Quantization(p["num_grad_quant_bins"], p["stochastic_rounding"]) if p["use_quantized_grad"] \
        else None
    if p["tree_method"] == "exact":
        _check_exact(p, loss)
    return Params(loss=loss, growth=growth,
                  constraints=Constraints(p["monotone_constraints"], p["interaction_constraints"]),
                  sampling=Sampling(p["subsample"], p["colsample_bytree"]), metrics=tuple(metrics),
                  quantization=quantization, max_bin=p["max_bin"], split_mode=p["split_mode"], n_jobs=p["n_jobs"],
                  seed=p["random_state"], verbosity=p["verbosity"], ndcg_gain=_ndcg_gain(p),
                  tree_method=p["tree_method"])


def _check_exact(p, loss):
    """Refuse what tree_method='exact' (XGBoost's depthwise column-block grower) does not do."""
    refused = {  # XGBoost's exact ignores the first two (grows depthwise) and refuses colsample_bynode
        "grow_policy='lossguide'": p["grow_policy"] == "lossguide",
        "max_leaves > 0": p["max_leaves"] > 0,
        "colsample_bynode < 1 (sample per level with colsample_bylevel)": p["colsample_bynode"] < 1.0,
        "use_quantized_grad": p["use_quantized_grad"],
        f"objective {p['objective'].name!r} (its leaves are refit to residual quantiles)": loss.leaf_alpha is not None,
    }
    given = [name for name, bad in refused.items() if bad]
    if given:
        raise ValueError(f"tree_method='exact' grows depthwise trees from every distinct value and does not support "
                         f"{', '.join(given)}; use tree_method='hist' or 'approx'")


def _ndcg_gain(p):
    """The NDCG gain of checked parameters ``p``: LightGBM's label_gain for lambdarank (2^i - 1 for
    i < 31 by default), else exponential unless ndcg_exp_gain is off."""
    if p["objective"].name == "lambdarank":
        return p["label_gain"] or tuple(float(2**i - 1) for i in range(31))
    return "exponential" if p["ndcg_exp_gain"] else "linear"


def _ranking(p):
    """``gbdt.ranking.RankingParams`` of checked parameters ``p`` for a ranking objective (None for
    others). Refuses the parameters an objective does not take: LightGBM's label_gain outside
    lambdarank, XGBoost's pair sampling and position debiasing with LightGBM's objectives."""
    objective = p["objective"]
    if p["label_gain"] is not None and objective.name != "lambdarank":
        raise ValueError(f"label_gain is LightGBM's lambdarank parameter, got objective {objective.name!r}; for "
                         "rank:ndcg choose the gain with ndcg_exp_gain (2^y - 1 or y)")
    if not objective.queries:
        return None
    kernel = objective.gradients
    if kernel.lightgbm and p["lambdarank_pair_method"] != "topk":
        raise ValueError(f"{objective.name} is LightGBM's objective: its pairs are the top lambdarank_truncation_level "
                         "positions; use rank:ndcg for lambdarank_pair_method='mean'")
    if kernel.lightgbm and p["lambdarank_unbiased"]:
        raise ValueError(f"lambdarank_unbiased (XGBoost's position debiasing) applies to rank:pairwise, rank:ndcg "
                         f"and rank:map, got objective {objective.name!r}")
    method = p["lambdarank_pair_method"]
    num_pair = p["lambdarank_num_pair_per_sample"] or DEFAULT_NUM_PAIR["lightgbm" if kernel.lightgbm else method]
    # LightGBM's lambdarank_norm turns off both of its normalisations
    score_normalization = p["lambdarank_score_normalization"] and (p["lambdarank_normalization"] or not kernel.lightgbm)
    return RankingParams(kernel.kind, kernel.lightgbm, method == "topk", num_pair, p["lambdarank_normalization"],
                         score_normalization, p["lambdarank_unbiased"], p["lambdarank_bias_norm"], _ndcg_gain(p),
                         p["objective_seed"])


def _ranking_metrics(ranking):
    """The metrics a ranking fit evaluates by default: XGBoost's ``ndcg@k`` (``map@k`` for rank:map;
    k the topk pairs' positions, every position for "mean"), LightGBM's ``ndcg@1`` .. ``ndcg@5``."""
    if ranking.lightgbm:
        return [f"ndcg@{k}" for k in range(1, 6)]
    family = "map" if ranking.kind == "map" else "ndcg"
    return [f"{family}@{ranking.num_pair}" if ranking.truncated else family]
