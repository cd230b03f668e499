"""Export a ``Booster`` to LightGBM's text model format (``lightgbm.Booster(model_file=...)``).

How our trees map onto LightGBM's:

- numeric splits: both send ``x <= t`` left on float64 values, NaN to the default side
  (LightGBM's missing type NaN): thresholds are written exactly.
- nodes: LightGBM numbers the split nodes 0..L-2 (root first) and its leaves 0..L-1, a child
  being a split id or ``~leaf``. The base margin is added to every leaf of each output's first
  tree, as LightGBM stores its own ``boost_from_average`` intercept; the learning rate is already
  in our leaf values (shrinkage 1).
- categorical splits: LightGBM sends the categories of its set left and NaN, negative codes and
  codes beyond the set right. Where our split sends NaN right, our left set is written as is.
  Where it sends NaN left, LightGBM's set is the complement of ours among the feature's C
  categories with the children swapped: the same for codes 0..C-1 and NaN, which is what the
  model's categorical input holds (a category the model never saw is NaN, as in LightGBM's own
  pandas input); a negative code or one >= C would go the other way than in our model.
  The category lists are written as ``pandas_categorical``, so LightGBM re-codes pandas
  category columns by value as our model does.
- LightGBM's ``pred_contrib`` weighs its TreeSHAP by integer row counts, which the file holds as
  our covers (hessian sums) rounded; predictions do not use them.

Objectives: those LightGBM has (``LIGHTGBM_OBJECTIVES``); the others are refused, since
LightGBM would transform the margin otherwise (binary:logitraw, multi:softmax) or has no such
loss (pseudo-Huber, squared log error, hinge, Cox, several quantiles in one model, XGBoost's
pairwise and MAP ranking). Ranking models predict the margin: ``lambdarank`` and ``rank_xendcg``
keep their names and XGBoost's ``rank:ndcg`` (LambdaMART on NDCG) is written as ``lambdarank``. A custom
objective is written without an objective, so LightGBM predicts the margin, as for its own
models trained with a custom objective.
"""
import json

import numpy as np

from bindings.export_common import exported_rounds
from gbdt.tree import category_bitset

__all__ = ["to_lightgbm_text", "LIGHTGBM_OBJECTIVES"]

# our objective -> LightGBM's objective line (None: no line, the prediction is the margin)
LIGHTGBM_OBJECTIVES = {
    "reg:squarederror": "regression", "binary:logistic": "binary sigmoid:1", "reg:logistic": "cross_entropy",
    "multi:softprob": "multiclass num_class:{k}", "count:poisson": "poisson", "reg:gamma": "gamma",
    "reg:tweedie": "tweedie", "reg:absoluteerror": "regression_l1", "reg:quantileerror": "quantile", "custom": None,
    "lambdarank": "lambdarank", "rank_xendcg": "rank_xendcg", "rank:ndcg": "lambdarank",
}
NUMERIC_NAN, CATEGORICAL, DEFAULT_LEFT = 8, 1, 2  # decision_type bits: missing type NaN (2 << 2), categorical, NaN left


def _number(v):
    """A float as LightGBM reads it back exactly (shortest round trip)."""
    return repr(float(v))


def _tree_block(index, tree, offset, categories):
    """LightGBM's text of one tree (``Tree=index`` ... blank line); ``offset`` is added to every
    leaf; ``categories`` {feature: category list}."""
    splits = [j for j in _preorder(tree) if tree.feature[j] >= 0]
    leaves = [j for j in _preorder(tree) if tree.feature[j] < 0]
    split_id = {j: i for i, j in enumerate(splits)}
    leaf_id = {j: i for i, j in enumerate(leaves)}
    child = lambda j: split_id[j] if tree.feature[j] >= 0 else ~leaf_id[j]
    lines = {name: [] for name in ("split_feature", "split_gain", "threshold", "decision_type", "left_child",
                                   "right_child", "internal_value", "internal_weight", "internal_count")}
    cat_boundaries, cat_threshold = [0], []
    for j in splits:
        left, right, decision = tree.left[j], tree.right[j], NUMERIC_NAN | (DEFAULT_LEFT * tree.default_left[j])
        threshold = _number(tree.threshold[j])
        if tree.is_categorical[j]:
            codes = tree.left_categories(j)
            if tree.default_left[j]:  # LightGBM sends NaN right: write the complement, children swapped
                codes = np.setdiff1d(np.arange(len(categories[int(tree.feature[j])])), codes)
                left, right = right, left
            cat_threshold += category_bitset(codes).tolist()
            threshold = str(len(cat_boundaries) - 1)
            cat_boundaries.append(len(cat_threshold))
            decision = NUMERIC_NAN | CATEGORICAL
        for name, value in (("split_feature", tree.feature[j]), ("split_gain", _number(tree.gain[j])),
                            ("threshold", threshold), ("decision_type", decision),
                            ("left_child", child(left)), ("right_child", child(right)),
                            ("internal_value", _number(tree.value[j] + offset)),
                            ("internal_weight", _number(tree.cover[j])), ("internal_count", round(tree.cover[j]))):
            lines[name].append(str(value))
    fields = [f"Tree={index}", f"num_leaves={len(leaves)}", f"num_cat={len(cat_boundaries) - 1}"]
    fields += [f"{name}={' '.join(values)}" for name, values in list(lines.items())[:6]]
    if cat_threshold:
        fields += [f"cat_boundaries={' '.join(map(str, cat_boundaries))}",
                   f"cat_threshold={' '.join(map(str, cat_threshold))}"]
    fields += [f"leaf_value={' '.join(_number(tree.value[j] + offset) for j in leaves)}",
               f"leaf_weight={' '.join(_number(tree.cover[j]) for j in leaves)}",
               f"leaf_count={' '.join(str(round(tree.cover[j])) for j in leaves)}"]
    fields += [f"{name}={' '.join(values)}" for name, values in list(lines.items())[6:]]
    fields += ["is_linear=0", "shrinkage=1"]
    return "\n".join(fields) + "\n\n\n"


def _preorder(tree):
    """Node ids of ``tree`` in depth-first order from the root (so the root split gets id 0)."""
    order, stack = [], [0]
    while stack:
        j = stack.pop()
        order.append(j)
        if tree.feature[j] >= 0:
            stack += [tree.right[j], tree.left[j]]
    return order


def _objective_line(booster):
    objective = booster.objective
    if objective not in LIGHTGBM_OBJECTIVES:
        raise ValueError(f"LightGBM has no objective that predicts as {objective!r} does; cannot export it to "
                         f"format='lightgbm' (LightGBM takes {tuple(LIGHTGBM_OBJECTIVES)}); use format='xgboost'")
    if objective == "reg:quantileerror" and booster.num_class > 1:
        raise ValueError(f"this model fits {booster.num_class} quantiles; a LightGBM model fits one, so it cannot "
                         "be exported to format='lightgbm' (use format='xgboost', or train one model per quantile)")
    line = LIGHTGBM_OBJECTIVES[objective]
    return None if line is None else "objective=" + line.format(k=booster.num_class)


def _parameters(booster):
    """LightGBM's ``parameters:`` entries for the loss parameters the model records."""
    losses, objective = booster.loss_params, booster.objective
    params = {}
    if losses is not None and objective == "reg:quantileerror":
        params["alpha"] = losses.quantile_alpha[0]
    elif losses is not None and objective == "reg:tweedie":
        params["tweedie_variance_power"] = losses.tweedie_variance_power
    elif losses is not None and objective == "count:poisson":
        params["poisson_max_delta_step"] = losses.max_delta_step
    if booster.num_class > 1:
        params["num_class"] = booster.num_class
    return [f"[{name}: {value}]" for name, value in params.items()]


def to_lightgbm_text(booster):
    """LightGBM's text model (a str) of ``booster``: the rounds ``predict`` uses by default,
    feature names, category lists. Raises ValueError for an untrained booster or an objective
    LightGBM does not have (see the module docstring)."""
    objective = _objective_line(booster)
    trees, tree_class = exported_rounds(booster, "LightGBM")
    k, n_feature = booster.num_class, booster.num_feature
    names = booster.feature_names or [f"Column_{f}" for f in range(n_feature)]
    if any(not str(n) or any(c.isspace() for c in str(n)) for n in names):
        raise ValueError("LightGBM's text format separates feature names by spaces; rename the features "
                         f"without whitespace (got {list(names)})")
    infos = [":".join(map(str, range(len(booster.categories[f])))) if f in booster.categories else "none"
             for f in range(n_feature)]
    blocks = [_tree_block(i, tree, booster.base_margin[c] if i < k else 0.0, booster.categories)
              for i, (tree, c) in enumerate(zip(trees, tree_class))]
    header = ["tree", "version=v4", f"num_class={k}", f"num_tree_per_iteration={k}", "label_index=0",
              f"max_feature_idx={n_feature - 1}", *([objective] if objective else []),
              f"feature_names={' '.join(map(str, names))}", f"feature_infos={' '.join(infos)}",
              f"tree_sizes={' '.join(str(len(b)) for b in blocks)}"]
    pandas_categorical = [booster.categories[f] for f in sorted(booster.categories)] or None
    return ("\n".join(header) + "\n\n" + "".join(blocks) + "end of trees\n\n"
            + "parameters:\n" + "".join(p + "\n" for p in _parameters(booster)) + "end of parameters\n\n"
            + f"pandas_categorical:{json.dumps(pandas_categorical)}\n")
