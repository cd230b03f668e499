"""Plots of a trained model: feature importance, evaluation history and single trees (matplotlib).

matplotlib is optional: it is imported inside the functions, so the rest of the package works
without it. Every function draws on ``ax`` (a new figure's axes when None) and returns the axes.
``plot_tree`` lays the tree out itself (no graphviz); ``tree_to_text`` gives the same tree as text.
"""
from bindings.booster import Booster
from bindings.validation import check_int, check_positive_int

__all__ = ["plot_importance", "plot_metric", "plot_tree", "tree_to_text"]


def _axes(ax, figsize=None):
    """``ax`` itself, or the axes of a new figure; raises ImportError without matplotlib."""
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib, which is not installed: pip install matplotlib") from exc
    return plt.subplots(figsize=figsize)[1]


def _as_booster(model):
    """A Booster from a Booster or a fitted scikit-learn estimator of this package."""
    booster = getattr(model, "booster_", model)
    if not isinstance(booster, Booster):
        raise TypeError(f"expected a Booster or a fitted GBDTClassifier/GBDTRegressor, got {type(model).__name__}")
    return booster


def plot_importance(booster, *, importance_type="weight", max_num_features=None, ax=None, title="Feature importance",
                    xlabel=None):
    """Horizontal bars of ``booster.get_score(importance_type)``, largest at the top.

    booster : Booster or fitted estimator; importance_type : weight, gain, cover, total_gain or
    total_cover; max_num_features : keep only the largest ones (None = all used features).
    """
    scores = _as_booster(booster).get_score(importance_type)
    if not scores:
        raise ValueError("the model has no splits, so there is no feature importance to plot")
    if max_num_features is not None:
        check_positive_int(max_num_features, "max_num_features")
    ranked = sorted(scores.items(), key=lambda item: item[1])[-(max_num_features or len(scores)):]
    ax = _axes(ax)
    names, values = zip(*ranked)
    ax.barh(range(len(values)), values, align="center", height=0.6)
    ax.set_yticks(range(len(values)), labels=names)
    for i, value in enumerate(values):
        ax.text(value, i, f" {value:.4g}", va="center")
    ax.set_title(title)
    ax.set_xlabel(xlabel or importance_type)
    ax.set_ylabel("feature")
    return ax


def plot_metric(evals_result, *, metric=None, ax=None, title="Metric during training"):
    """One line per evaluation set: the metric after each boosting round.

    evals_result : ``{eval name: {metric: [value per round]}}`` as filled by ``train(...,
    evals_result=)``, or a Booster / fitted estimator (its recorded history). metric : which
    one to plot; None = the first metric recorded.
    """
    history = evals_result if isinstance(evals_result, dict) else _as_booster(evals_result).evals_result
    if not history or not any(history.values()):
        raise ValueError("no evaluation history to plot; train with evals=[(Dataset, name)] (or eval_set=)")
    available = list(dict.fromkeys(m for per_set in history.values() for m in per_set))
    metric = available[0] if metric is None else metric
    if metric not in available:
        raise ValueError(f"metric {metric!r} was not recorded; available: {available}")
    ax = _axes(ax)
    for name, per_set in history.items():
        if metric in per_set:
            ax.plot(range(1, len(per_set[metric]) + 1), per_set[metric], label=name)
    ax.legend()
    ax.set_title(title)
    ax.set_xlabel("boosting round")
    ax.set_ylabel(metric)
    return ax


def _tree_and_labels(booster, tree_index, precision):
    """The tree and a label per node: ``name<=threshold`` for a numeric split, ``name in {a, b}``
    for a categorical one (the categories that go left), ``leaf=value`` for a leaf."""
    booster = _as_booster(booster)
    tree_index = check_int(tree_index, "tree_index", low=0, high=booster.num_trees() - 1)
    names = booster.feature_names or [f"f{i}" for i in range(booster.num_feature)]
    tree = booster.trees[tree_index]
    labels = []
    for node in range(tree.n_nodes):
        f = tree.feature[node]
        if f < 0:
            labels.append(f"leaf={tree.value[node]:.{precision}g}")
        elif tree.is_categorical[node]:
            categories = booster.categories.get(int(f))
            left = [categories[c] if categories is not None and c < len(categories) else c
                    for c in tree.left_categories(node)]
            labels.append(f"{names[f]} in {{{', '.join(map(str, left))}}}")
        else:
            labels.append(f"{names[f]}<={tree.threshold[node]:.{precision}g}")
    return tree, labels


def _preorder(tree):
    """(node, depth) pairs in depth-first order, left child first."""
    stack, order = [(0, 0)], []
    while stack:
        node, depth = stack.pop()
        order.append((node, depth))
        if tree.feature[node] >= 0:
            stack.extend(((tree.right[node], depth + 1), (tree.left[node], depth + 1)))
    return order


def tree_to_text(booster, tree_index=0, *, precision=6):
    """The tree as indented text, one node per line (a tab per depth level), like XGBoost's dump::

        0:[f0<=0.5] yes=1,no=2,missing=1 gain=12.5 cover=100
        \\t1:leaf=-0.2 cover=60
    """
    tree, labels = _tree_and_labels(booster, tree_index, precision)
    lines = []
    for node, depth in _preorder(tree):
        indent, cover = "\t" * depth, f"cover={tree.cover[node]:.{precision}g}"
        if tree.feature[node] < 0:
            lines.append(f"{indent}{node}:{labels[node]} {cover}")
        else:
            left, right = tree.left[node], tree.right[node]
            missing = left if tree.default_left[node] else right
            lines.append(f"{indent}{node}:[{labels[node]}] yes={left},no={right},missing={missing} "
                         f"gain={tree.gain[node]:.{precision}g} {cover}")
    return "\n".join(lines)


def plot_tree(booster, tree_index=0, *, ax=None, precision=4):
    """Draw one tree: split boxes ``feature<=threshold`` (or ``feature in {categories}``), leaf
    boxes ``leaf=value``, edges labelled yes/no with ``missing`` on the default side. Leaves are
    spread evenly left to right in depth-first order; a split sits above the middle of its children."""
    tree, labels = _tree_and_labels(booster, tree_index, precision)
    order = _preorder(tree)
    x, y, n_leaves = {}, {}, 0
    for node, depth in order:
        y[node] = -depth
        if tree.feature[node] < 0:
            x[node], n_leaves = n_leaves, n_leaves + 1
    for node, _ in reversed(order):  # children before parents
        if tree.feature[node] >= 0:
            x[node] = (x[tree.left[node]] + x[tree.right[node]]) / 2
    depth = max(d for _, d in order)
    ax = _axes(ax, figsize=(max(6.0, 1.3 * n_leaves), 1.2 * (depth + 1)))  # room for every leaf's box
    for node, _ in order:
        if tree.feature[node] >= 0:
            for child, answer in ((tree.left[node], "yes"), (tree.right[node], "no")):
                is_default = tree.default_left[node] == (child == tree.left[node])
                ax.plot([x[node], x[child]], [y[node], y[child]], color="0.5", zorder=1)
                ax.text((x[node] + x[child]) / 2, (y[node] + y[child]) / 2,
                        answer + (", missing" if is_default else ""), ha="center", va="center", fontsize=7,
                        color="0.3", gid="edge-label")
        leaf = tree.feature[node] < 0
        ax.text(x[node], y[node], labels[node], ha="center", va="center", fontsize=8,
                gid="node", bbox={"boxstyle": "round", "facecolor": "#e8f4e8" if leaf else "#e8eef8"}, zorder=2)
    ax.set_xlim(-1, max(n_leaves, 1))
    ax.set_ylim(min(y.values()) - 0.5, 0.5)
    ax.set_axis_off()
    return ax
