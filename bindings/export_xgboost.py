"""Export a ``Booster`` to XGBoost's JSON model format (XGBoost >= 3.1, which reads a vector base score).

The inverse of ``bindings.xgboost_model.from_xgboost``; xgboost itself is needed only by
``to_xgboost``. How our trees map onto XGBoost's:

- numeric splits: ours send ``x <= t`` left (float64), XGBoost's ``x < c`` on float32 values;
  ``c`` is the smallest float32 above ``t`` (``float32_above``), so every float32 input (XGBoost
  reads features as float32) goes the same way. Leaf values become float32, as XGBoost keeps them.
- categorical splits: XGBoost sends the categories of its set to the *right* child, anything
  else (codes outside the set, negative or beyond it) left. Writing our left set as XGBoost's
  set with the children swapped (and the NaN direction flipped) routes every input as ours
  does. The categorical columns hold category codes (the index into the model's category
  list), as XGBoost's own categorical input does.
- base score: XGBoost stores it in prediction space for one output (a probability, an expected
  value; ``Objective.from_margin`` of our margin) and as margins for several (classes or quantiles), in
  float32; what that loses of our margin is added to the leaves of the first round (``_intercept``).
- a custom objective is written as ``reg:squarederror``, whose prediction is the margin, as
  XGBoost saves models it trained with a custom objective.
- ranking objectives predict the margin (a score): ``rank:*`` keep their names (XGBoost fills in
  its own ``lambdarank_param``, which only further training reads), LightGBM's ``lambdarank``
  (LambdaMART on NDCG) is written as ``rank:ndcg``; ``rank_xendcg`` has no XGBoost counterpart
  and is refused.

Every other objective we train exists in XGBoost, so nothing else is refused but untrained models.
"""
import json

import numpy as np

from bindings.export_common import exported_rounds, float32_above
from bindings.objectives import POISSON_MAX_DELTA_STEP, LossParams, objective_named

__all__ = ["to_xgboost_json", "to_xgboost"]

XGBOOST_VERSION = [3, 1, 0]  # the first release whose base score is a vector (several outputs)
ROOT_PARENT = 2147483647  # XGBoost's parent id of a root
LOGISTIC_BASE_MARGIN = 2.0  # the largest |margin| a logistic base score holds (see _intercept)
# our objective -> the XGBoost objective written for it, where the names differ (both predict the margin)
XGBOOST_NAMES = {"custom": "reg:squarederror", "lambdarank": "rank:ndcg"}
# XGBoost's defaults, for a model that does not record its loss parameters (loaded from XGBoost)
DEFAULT_LOSSES = LossParams(POISSON_MAX_DELTA_STEP, 1.5, (0.5,), 1.0)


def _objective(booster, losses):
    """XGBoost's ``objective`` object: the name and the parameter block its loader requires."""
    name = XGBOOST_NAMES.get(booster.objective, booster.objective)
    if name in ("multi:softprob", "multi:softmax"):
        return {"name": name, "softmax_multiclass_param": {"num_class": str(booster.num_class)}}
    if name in ("reg:squarederror", "binary:logistic", "binary:logitraw", "reg:logistic", "reg:gamma"):
        return {"name": name, "reg_loss_param": {"scale_pos_weight": "1"}}
    if name == "count:poisson":
        return {"name": name, "poisson_regression_param": {"max_delta_step": repr(losses.max_delta_step)}}
    if name == "reg:tweedie":
        return {"name": name,
                "tweedie_regression_param": {"tweedie_variance_power": repr(losses.tweedie_variance_power)}}
    if name == "reg:quantileerror":
        return {"name": name, "quantile_loss_param": {"quantile_alpha": json.dumps(list(losses.quantile_alpha))}}
    if name == "reg:pseudohubererror":
        return {"name": name, "pseudo_huber_param": {"huber_slope": repr(losses.huber_slope)}}
    return {"name": name}


def _intercept(booster):
    """(XGBoost's base score text, (K,) residual): the base score, float32, and what our base
    margin exceeds the margin a reader gets back from it by, which goes into the leaves of the
    first round. For one output the base score is a prediction (``from_margin``); a float32
    probability near 1 loses its margin (0.05 of it at a margin of 13.8, and XGBoost's float32
    read-back and treelite's float64 one differ), so a logistic base score keeps the margin
    within +-2, where both read it back to 1e-6, and the rest goes to the leaves too."""
    margin = booster.base_margin
    if booster.num_class == 1 and booster.objective != "custom":
        kept = float(margin[0])
        objective = objective_named(booster.objective)
        if objective.link == "logit":
            kept = min(max(kept, -LOGISTIC_BASE_MARGIN), LOGISTIC_BASE_MARGIN)
        stored = np.float32([objective.from_margin(kept)])
        read_back = _xgboost_margin(booster.objective, stored)
    else:
        stored = margin.astype(np.float32)
        read_back = stored
    return json.dumps(stored.tolist()), margin - read_back.astype(np.float64)


def _xgboost_margin(objective, base_score):
    """The margin XGBoost reads from a one-output float32 ``base_score`` (1,), in float32
    arithmetic as it computes it."""
    one = np.float32(1.0)
    link = objective_named(objective).link
    if link == "logit":
        return -np.log(one / base_score - one)
    if link == "log":
        return np.log(base_score)
    return base_score


def _tree(tree, tree_id, num_feature, offset):
    """One tree as XGBoost's JSON object (node ids kept; children swapped at categorical splits),
    ``offset`` added to its values."""
    leaf = tree.feature < 0
    value = (tree.value + offset).astype(np.float32)
    categorical = tree.is_categorical
    left = np.where(categorical, tree.right, tree.left)
    right = np.where(categorical, tree.left, tree.right)
    parents = np.full(tree.n_nodes, ROOT_PARENT, dtype=np.int64)
    split = np.flatnonzero(~leaf)
    parents[tree.left[split]] = split
    parents[tree.right[split]] = split
    threshold = np.where(categorical, 0.0, float32_above(tree.threshold))
    cat_nodes = np.flatnonzero(categorical)
    cat_sets = [tree.left_categories(node) for node in cat_nodes]
    sizes = [len(s) for s in cat_sets]
    return {
        "base_weights": value.tolist(),
        "categories": [int(c) for s in cat_sets for c in s],
        "categories_nodes": cat_nodes.tolist(),
        "categories_segments": np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist() if sizes else [],
        "categories_sizes": sizes,
        "default_left": (tree.default_left ^ categorical).astype(int).tolist(),
        "id": tree_id,
        "left_children": left.tolist(),
        "loss_changes": np.where(leaf, 0.0, tree.gain).astype(np.float32).tolist(),
        "parents": parents.tolist(),
        "right_children": right.tolist(),
        "split_conditions": np.where(leaf, value, threshold).astype(np.float32).tolist(),
        "split_indices": np.maximum(tree.feature, 0).tolist(),
        "split_type": categorical.astype(int).tolist(),
        "sum_hessian": tree.cover.astype(np.float32).tolist(),
        "tree_param": {"num_deleted": "0", "num_feature": str(num_feature), "num_nodes": str(tree.n_nodes),
                       "size_leaf_vector": "1"},
    }


def to_xgboost_json(booster):
    """XGBoost's JSON model (a dict) of ``booster``: the rounds ``predict`` uses by default,
    feature names, feature types (``"c"`` for categorical features), base score and objective.
    Raises ValueError for an untrained booster or a rank_xendcg model."""
    if booster.objective == "rank_xendcg":
        raise ValueError("XGBoost has no objective like rank_xendcg (LightGBM's cross-entropy NDCG loss), so this model "
                         "cannot be exported to format='xgboost'; use format='lightgbm'")
    trees, tree_class = exported_rounds(booster, "XGBoost")
    k, n_feature = booster.num_class, booster.num_feature
    multi_class = booster.objective in ("multi:softprob", "multi:softmax")
    names = [] if booster.feature_names is None else [str(n) for n in booster.feature_names]
    types = ["c" if f in booster.categories else "float" for f in range(n_feature)] if booster.categories else []
    if booster.loss_params is None and booster.objective == "reg:quantileerror":
        raise ValueError("this reg:quantileerror model does not record its quantile_alpha (it was not trained "
                         "here); XGBoost's model needs them")
    base_score, residual = _intercept(booster)
    return {
        "learner": {
            "attributes": {},
            "feature_names": names,
            "feature_types": types,
            "gradient_booster": {
                "model": {
                    "gbtree_model_param": {"num_parallel_tree": "1", "num_trees": str(len(trees))},
                    "iteration_indptr": list(range(0, len(trees) + 1, k)),
                    "tree_info": [int(c) for c in tree_class],
                    "trees": [_tree(tree, i, n_feature, residual[c] if i < k else 0.0)
                              for i, (tree, c) in enumerate(zip(trees, tree_class))],
                },
                "name": "gbtree",
            },
            "learner_model_param": {
                "base_score": base_score, "boost_from_average": "1",
                "num_class": str(k if multi_class else 0), "num_feature": str(n_feature),
                "num_target": str(1 if multi_class else k),
            },
            "objective": _objective(booster, booster.loss_params or DEFAULT_LOSSES),
        },
        "version": XGBOOST_VERSION,
    }


def to_xgboost(booster):
    """An ``xgboost.Booster`` holding ``to_xgboost_json(booster)`` (needs xgboost installed)."""
    try:
        import xgboost
    except ImportError:
        raise ImportError("to_xgboost needs xgboost installed (pip install xgboost); "
                          "save_model(path, format='xgboost') writes the file without it") from None
    return xgboost.Booster(model_file=bytearray(json.dumps(to_xgboost_json(booster)).encode()))
