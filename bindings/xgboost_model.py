"""Load an XGBoost model's trees into a ``Booster``: the same forest, predicted and explained here.

Reads XGBoost's JSON model (``xgboost.Booster.save_raw("json")``); xgboost itself is not
imported. Supported: ``gbtree`` with numerical splits and the objectives in ``OBJECTIVES`` (one
quantile for ``reg:quantileerror``); anything else raises ValueError. XGBoost sends a row
left when ``x < c`` on float32 values; the loaded split keeps ``x <= t`` with ``t`` the float64
just below ``c``, which routes every float32 value the same way.
"""
import json

import numpy as np

from bindings.booster import Booster
from bindings.objectives import objective_named
from gbdt.tree import Tree

__all__ = ["from_xgboost"]

OBJECTIVES = ("reg:squarederror", "binary:logistic", "multi:softprob", "reg:logistic", "count:poisson", "reg:gamma",
              "reg:tweedie", "reg:absoluteerror", "reg:quantileerror", "reg:pseudohubererror", "reg:squaredlogerror",
              "binary:hinge", "survival:cox", "rank:pairwise", "rank:ndcg", "rank:map")


def from_xgboost(model):
    """A Booster with the trees, covers, gains and base score of an XGBoost model.

    model : ``xgboost.Booster``, an ``XGBModel`` (scikit-learn wrapper), or its JSON model as
    str, bytes or dict.
    """
    if hasattr(model, "get_booster"):
        model = model.get_booster()
    if hasattr(model, "save_raw"):
        model = model.save_raw("json")
    doc = json.loads(model) if isinstance(model, (str, bytes, bytearray)) else model
    try:
        learner = doc["learner"]
        objective = learner["objective"]["name"]
        booster_doc = learner["gradient_booster"]
        params = learner["learner_model_param"]
    except (KeyError, TypeError):
        raise ValueError("model is not an XGBoost JSON model (no learner/objective/gradient_booster)") from None
    if objective not in OBJECTIVES:
        raise ValueError(f"XGBoost objective {objective!r} is not supported; expected one of {OBJECTIVES}")
    if booster_doc.get("name") != "gbtree":
        raise ValueError(f"only gbtree XGBoost models can be loaded, got {booster_doc.get('name')!r}")
    num_class = max(1, int(params["num_class"]))
    if int(params.get("num_target", 1)) > 1:
        raise ValueError("XGBoost models with several targets (e.g. several quantiles) are not supported")
    base = np.array(json.loads(params["base_score"]), dtype=np.float64).reshape(-1)
    if num_class == 1:  # stored as a prediction (a probability, an expected value); we keep margins
        base = np.array([objective_named(objective).to_margin(float(base[0]), "base_score")])
    names = learner.get("feature_names") or None
    booster = Booster(objective, num_class, int(params["num_feature"]), np.broadcast_to(base, num_class).copy(),
                      names)
    trees = booster_doc["model"]["trees"]
    if list(booster_doc["model"]["tree_info"]) != [i % num_class for i in range(len(trees))]:
        raise ValueError("XGBoost trees are not stored one per class per round; cannot load this model")
    for start in range(0, len(trees), num_class):
        booster.append_round([_tree(t) for t in trees[start:start + num_class]])
    return booster


def _tree(t):
    if any(t.get("split_type", [])):
        raise ValueError("XGBoost categorical splits are not supported")
    leaf = np.array(t["left_children"]) < 0
    cond = np.array(t["split_conditions"], dtype=np.float32).astype(np.float64)
    return Tree.from_lists(
        feature=np.where(leaf, -1, t["split_indices"]),
        threshold=np.where(leaf, 0.0, np.nextafter(cond, -np.inf)),
        bin_threshold=np.full(leaf.shape, -1),  # not binned with our edges: raw prediction only
        default_left=np.array(t["default_left"], dtype=bool), left=t["left_children"], right=t["right_children"],
        value=np.where(leaf, cond, 0.0), gain=np.where(leaf, 0.0, t["loss_changes"]), cover=t["sum_hessian"])
