"""One parameter table: canonical names, aliases (XGBoost and LightGBM spellings), defaults, checks.

Parameters are validated once, here, at the edge of the API; messages say what was expected and,
for an unknown name, suggest the closest known one.
"""
import difflib
import json
import numbers
import os

import numpy as np

from bindings.metrics import check_metric, named_metric
from gbdt.objectives import LIGHTGBM_RANKING, LOSSES, OBJECTIVES, POISSON_MAX_DELTA_STEP, RANKING_KINDS, LossParams
from gbdt.ranking import RankingParams

SPLIT_MODES = ("auto", "data", "feature")
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


def _choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


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
    if callable(value):
        return value
    return _choice("objective", value, OBJECTIVES)


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
    "[[0, 1], [2, 3]]"), as tuples."""
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
    return [tuple(g) for g in groups]


def _names(feature_names, n_features):
    """Feature names that constraints may use: ``feature_names``, else f0, f1, ..."""
    return list(feature_names) if feature_names is not None else [f"f{i}" for i in range(n_features)]


def interaction_matrix(value, n_features, feature_names=None):
    """(C, F) bool: the features of each of the C groups of a resolved ``interaction_constraints``,
    or None without constraints."""
    if value is None:
        return None
    names = _names(feature_names, n_features)
    out = np.zeros((len(value), n_features), dtype=np.bool_)
    for c, group in enumerate(value):
        for f in group:
            if isinstance(f, str):
                if f not in names:
                    raise ValueError(f"interaction_constraints names unknown feature {f!r}; features are {names}")
                f = names.index(f)
            if not 0 <= f < n_features:
                raise ValueError(f"interaction_constraints feature index {f} is out of range for {n_features} features")
            out[c, f] = True
    return out


def monotone_vector(value, n_features, feature_names=None):
    """(F,) int8 constraint per feature from a resolved ``monotone_constraints`` (None: all 0)."""
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


INF = float("inf")
CHECKS = {
    "objective": _objective,
    "num_class": lambda v: _number("num_class", v, 1, 1 << 20, integer=True),
    "learning_rate": lambda v: _number("learning_rate", v, 0.0, INF, low_open=True),
    "max_depth": lambda v: _number("max_depth", v, 0, 64, integer=True),
    "max_leaves": lambda v: _number("max_leaves", v, 0, 1 << 30, integer=True),
    "grow_policy": lambda v: _choice("grow_policy", v, GROW_POLICIES),
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
    "split_mode": lambda v: _choice("split_mode", v, SPLIT_MODES),
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
    "lambdarank_pair_method": lambda v: _choice("lambdarank_pair_method", v, PAIR_METHODS),
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


def canonical_name(name):
    """Canonical spelling of a parameter name; unknown names raise with a suggestion."""
    name = ALIASES.get(name, name)
    if name not in DEFAULTS:
        close = difflib.get_close_matches(name, list(DEFAULTS) + list(ALIASES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown parameter {name!r}{hint} Known parameters: {sorted(DEFAULTS)}")
    return name


def resolve_params(params):
    """Validated dict of every parameter: defaults overridden by ``params`` (aliases allowed)."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict, got {type(params).__name__}")
    out = dict(DEFAULTS)
    seen = {}
    for name, value in params.items():
        canon = canonical_name(name)
        if canon in seen and seen[canon] != name:
            raise ValueError(f"parameter {canon!r} given twice, as {seen[canon]!r} and {name!r}")
        seen[canon] = name
        out[canon] = value
    for name, check in CHECKS.items():
        out[name] = check(out[name])
    loss = LOSSES.get(out["objective"])  # None: a custom objective
    if loss == "softmax" and out["num_class"] < 2:
        raise ValueError(f"num_class must be >= 2 for objective {out['objective']!r}, got {out['num_class']}")
    if loss == "quantile" and out["quantile_alpha"] is not None:
        out["num_class"] = len(out["quantile_alpha"])  # one output per quantile
    elif loss is not None and loss != "softmax":
        out["num_class"] = 1
    if out["max_delta_step"] is None:  # XGBoost's default: 0.7 for count:poisson, else no clip
        out["max_delta_step"] = POISSON_MAX_DELTA_STEP if loss == "poisson" else 0.0
    if loss == "quantile" and out["quantile_alpha"] is None:
        raise ValueError("quantile_alpha (the quantile to fit, in (0, 1)) is required for reg:quantileerror")
    _check_ranking(out)
    out["eval_metric"] = [named_metric(m, out) for m in out["eval_metric"]]
    if out["scale_pos_weight"] != 1.0 and loss != "logistic":
        raise ValueError(f"scale_pos_weight weights the positive rows of a logistic objective; got "
                         f"{out['scale_pos_weight']} with objective {out['objective']!r}")
    return out


def _check_ranking(p):
    """Refuse ranking parameters the objective does not take: LightGBM's label_gain outside
    lambdarank, XGBoost's pair sampling and position debiasing with LightGBM's objectives."""
    objective = p["objective"]
    if p["label_gain"] is not None and objective != "lambdarank":
        raise ValueError(f"label_gain is LightGBM's lambdarank parameter, got objective {objective!r}; for "
                         "rank:ndcg choose the gain with ndcg_exp_gain (2^y - 1 or y)")
    if objective in LIGHTGBM_RANKING and p["lambdarank_pair_method"] != "topk":
        raise ValueError(f"{objective} is LightGBM's objective: its pairs are the top lambdarank_truncation_level "
                         "positions; use rank:ndcg for lambdarank_pair_method='mean'")
    if objective in LIGHTGBM_RANKING and p["lambdarank_unbiased"]:
        raise ValueError(f"lambdarank_unbiased (XGBoost's position debiasing) applies to rank:pairwise, rank:ndcg "
                         f"and rank:map, got objective {objective!r}")


def ranking_gain(p):
    """The NDCG gain of resolved parameters ``p`` (``gbdt.ranking.label_gains``): LightGBM's
    label_gain (lambdarank, 2^i - 1 for i < 31 by default), else exponential unless ndcg_exp_gain
    is off."""
    if p["objective"] == "lambdarank":
        return p["label_gain"] or tuple(float(2**i - 1) for i in range(31))
    return "exponential" if p["ndcg_exp_gain"] else "linear"


def ranking_params(p):
    """``gbdt.ranking.RankingParams`` of resolved parameters ``p`` (None for other objectives)."""
    objective = p["objective"]
    if objective not in RANKING_KINDS:
        return None
    lightgbm = objective in LIGHTGBM_RANKING
    method = p["lambdarank_pair_method"]
    num_pair = p["lambdarank_num_pair_per_sample"] or DEFAULT_NUM_PAIR["lightgbm" if lightgbm else method]
    # LightGBM's lambdarank_norm turns off both of its normalisations
    score_normalization = p["lambdarank_score_normalization"] and (p["lambdarank_normalization"] or not lightgbm)
    return RankingParams(RANKING_KINDS[objective], lightgbm, method == "topk", num_pair, p["lambdarank_normalization"],
                         score_normalization, p["lambdarank_unbiased"], p["lambdarank_bias_norm"], ranking_gain(p),
                         p["objective_seed"])


def loss_params(p):
    """``gbdt.objectives.LossParams`` of resolved parameters ``p``."""
    alphas = p["quantile_alpha"]
    return LossParams(p["max_delta_step"], p["tweedie_variance_power"], (0.5,) if alphas is None else alphas,
                      p["huber_slope"])
