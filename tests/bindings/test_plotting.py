"""Plots draw what the model holds: bar lengths = importance, lines = evaluation history, one box
per tree node and one edge per parent-child link; the text dump lists every node."""
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from bindings import Dataset, GBDTRegressor, train  # noqa: E402
from bindings.plotting import plot_importance, plot_metric, plot_tree, tree_to_text  # noqa: E402

rng = np.random.default_rng(0)
X = rng.standard_normal((600, 4))
X[rng.random(X.shape) < 0.05] = np.nan
y = (3 * np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) ** 2 + rng.standard_normal(600) > 1).astype(float)
NAMES = ["alpha", "beta", "gamma", "delta"]


@pytest.fixture(scope="module")
def trained():
    history = {}
    dtrain = Dataset(X[:400], y[:400], feature_names=NAMES)
    evals = [(dtrain, "train"), (Dataset(X[400:], y[400:], feature_names=NAMES), "valid")]
    bst = train({"objective": "binary:logistic", "max_depth": 3, "eval_metric": ["logloss", "error"]}, dtrain, 6, evals=evals, evals_result=history)
    return bst, history


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_importance_bars_are_the_scores_sorted_and_truncated(trained):
    bst, _ = trained
    scores = bst.get_score("total_gain")
    ax = plot_importance(bst, importance_type="total_gain")
    widths = [bar.get_width() for bar in ax.patches]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert widths == sorted(scores.values())
    assert dict(zip(labels, widths)) == scores
    top2 = plot_importance(bst, importance_type="weight", max_num_features=2)
    weights = sorted(bst.get_score("weight").values())
    assert [bar.get_width() for bar in top2.patches] == weights[-2:]
    with pytest.raises(ValueError, match="max_num_features"):
        plot_importance(bst, max_num_features=0)


def test_metric_lines_are_the_recorded_history(trained):
    bst, history = trained
    ax = plot_metric(history, metric="error")
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"train", "valid"}
    for name, line in lines.items():
        np.testing.assert_array_equal(line.get_ydata(), history[name]["error"])
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 7))
    first = plot_metric(bst)  # a Booster's own history; the first metric by default
    np.testing.assert_array_equal(first.get_lines()[1].get_ydata(), history["valid"]["logloss"])
    assert first.get_ylabel() == "logloss"
    with pytest.raises(ValueError, match="metric 'auc' was not recorded; available: \\['logloss', 'error'\\]"):
        plot_metric(history, metric="auc")


def test_metric_plot_takes_a_fitted_estimator():
    est = GBDTRegressor(n_estimators=3, max_depth=2).fit(X[:400], y[:400], eval_set=[(X[400:], y[400:])])
    ax = plot_metric(est)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), est.evals_result_["validation_0"]["rmse"])


def node_depths(tree):
    depth, stack = {0: 0}, [0]
    while stack:
        node = stack.pop()
        if tree.feature[node] >= 0:
            for child in (tree.left[node], tree.right[node]):
                depth[child] = depth[node] + 1
                stack.append(child)
    return depth


def test_text_dump_lists_every_node_at_its_depth(trained):
    bst, _ = trained
    tree = bst.trees[2]
    lines = tree_to_text(bst, 2).splitlines()
    assert len(lines) == tree.n_nodes
    depths = node_depths(tree)
    for line in lines:
        node = int(re.match(r"\t*(\d+):", line).group(1))
        assert len(line) - len(line.lstrip("\t")) == depths[node]
        if tree.feature[node] >= 0:
            missing = tree.left[node] if tree.default_left[node] else tree.right[node]
            assert f"[{NAMES[tree.feature[node]]}<={tree.threshold[node]:.6g}]" in line
            assert f"yes={tree.left[node]},no={tree.right[node]},missing={missing}" in line
        else:
            assert f"leaf={tree.value[node]:.6g}" in line


def test_tree_graph_has_a_box_per_node_and_an_edge_per_link(trained):
    bst, _ = trained
    tree = bst.trees[0]
    ax = plot_tree(bst, 0)
    boxes = [t.get_text() for t in ax.texts if t.get_gid() == "node"]
    edges = [t.get_text() for t in ax.texts if t.get_gid() == "edge-label"]
    splits = np.nonzero(tree.feature >= 0)[0]
    assert len(boxes) == tree.n_nodes and len(ax.get_lines()) == len(edges) == tree.n_nodes - 1
    for node in splits:
        assert f"{NAMES[tree.feature[node]]}<={tree.threshold[node]:.4g}" in boxes
    assert sum(b.startswith("leaf=") for b in boxes) == tree.n_leaves
    assert sum(e.endswith("missing") for e in edges) == len(splits)  # one default side per split
    # every edge goes one level down
    for line in ax.get_lines():
        assert np.diff(line.get_ydata()) == [-1]
    with pytest.raises(ValueError, match="tree_index"):
        plot_tree(bst, bst.num_trees())


def test_missing_matplotlib_gives_a_clear_import_error(trained, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_importance(trained[0])


def test_categorical_splits_are_shown_as_the_categories_that_go_left():
    r = np.random.default_rng(1)
    colour = r.choice(["red", "green", "blue", "cyan", "pink"], 400)
    frame = pd.DataFrame({"colour": pd.Categorical(colour), "x": r.standard_normal(400)})
    label = np.isin(colour, ["green", "pink"]).astype(float)
    bst = train({"objective": "binary:logistic", "max_depth": 2, "max_cat_to_onehot": 1}, Dataset(frame, label), 2)
    tree = bst.trees[0]
    assert tree.is_categorical[0]
    left = [bst.categories[0][c] for c in tree.left_categories(0)]
    assert sorted(left) in (["green", "pink"], ["blue", "cyan", "red"])
    assert tree_to_text(bst, 0).splitlines()[0].startswith(f"0:[colour in {{{', '.join(left)}}}]")
    boxes = [t.get_text() for t in plot_tree(bst, 0).texts if t.get_gid() == "node"]
    assert f"colour in {{{', '.join(left)}}}" in boxes
