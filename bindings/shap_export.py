"""``to_shap``: a ``Booster`` as the dict of trees ``shap.TreeExplainer`` accepts for custom ensembles.

shap reads each tree as node arrays (``children_left``/``children_right``/``children_default``,
``features``, ``thresholds``, ``values``, ``node_sample_weight``) and sends ``x <= threshold``
left and NaN to ``children_default``, as our trees do, so thresholds are written as they are
(float64). ``node_sample_weight`` is our cover (hessian sums), the weights our ``pred_contribs``
uses, so path-dependent SHAP values equal ``predict(pred_contribs=True)``. With several outputs
(classes, quantiles) each tree's ``values`` has one column per output, zero but in its own.
``base_offset`` is the base margin. Category sets have no place in this format: a model with
categorical splits is refused.
"""
import numpy as np

from bindings.export_common import exported_rounds

__all__ = ["to_shap"]

# what shap calls the leaves' units and the loss (for model_output="probability" / "log_loss")
# the margins of the logistic-loss objectives are log odds
LOG_ODDS = ("binary:logistic", "binary:logitraw", "reg:logistic")
SHAP_OBJECTIVE = {"binary:logistic": "binary_crossentropy", "reg:logistic": "binary_crossentropy",
                  "reg:squarederror": "squared_error"}


def _tree(tree, k, n_outputs):
    leaf = tree.feature < 0
    values = np.zeros((tree.n_nodes, n_outputs))
    values[:, k] = tree.value
    return {
        "children_left": np.where(leaf, -1, tree.left).astype(np.int32),
        "children_right": np.where(leaf, -1, tree.right).astype(np.int32),
        "children_default": np.where(leaf, -1, np.where(tree.default_left, tree.left, tree.right)).astype(np.int32),
        "features": np.where(leaf, -1, tree.feature).astype(np.int32),
        "thresholds": np.where(leaf, 0.0, tree.threshold),
        "values": values,
        "node_sample_weight": tree.cover.astype(np.float64),
    }


def to_shap(booster):
    """The dict ``shap.TreeExplainer(model)`` takes: ``trees`` (the rounds ``predict`` uses by
    default), ``base_offset`` (the base margin, a float or (K,)), ``tree_output`` ("log_odds"
    for the logistic objectives, else "raw_value"), ``objective`` where shap knows it, and
    float64 input and internal dtypes. SHAP values are contributions to the margin.

    Raises ValueError for an untrained booster or one with categorical splits."""
    trees, tree_class = exported_rounds(booster, "SHAP")
    if any(tree.is_categorical.any() for tree in trees):
        raise ValueError("SHAP's tree format has no categorical splits and this model has some; its values would "
                         "differ from ours. Use predict(pred_contribs=True), or train with the categories one-hot "
                         "encoded")
    k = booster.num_class
    model = {
        "trees": [_tree(tree, c, k) for tree, c in zip(trees, tree_class)],
        "base_offset": float(booster.base_margin[0]) if k == 1 else booster.base_margin.copy(),
        "tree_output": "log_odds" if booster.objective in LOG_ODDS else "raw_value",
        "input_dtype": np.float64,
        "internal_dtype": np.float64,
    }
    if booster.objective in SHAP_OBJECTIVE:
        model["objective"] = SHAP_OBJECTIVE[booster.objective]
    return model
