"""Forest prediction against a naive per-row Python traversal, on raw and binned inputs."""
import numpy as np

from gbdt.binning import bin_matrix, compute_bin_edges
from gbdt.tree import Forest, Tree


def random_tree(rng, edges, n_edges, depth=4):
    """A full random tree splitting on real bin edges (so raw and binned routing agree)."""
    cols = {name: [] for name in Tree.DTYPES}

    def add(d):
        j = len(cols["feature"])
        for name in cols:
            cols[name].append(0)
        if d == depth:
            cols["feature"][j], cols["left"][j], cols["right"][j] = -1, -1, -1
            cols["value"][j] = rng.standard_normal()
            return j
        f = int(rng.integers(edges.shape[0]))
        b = int(rng.integers(n_edges[f] + 1))
        cols["feature"][j], cols["bin_threshold"][j] = f, b
        cols["threshold"][j] = edges[f, b]
        cols["default_left"][j] = bool(rng.integers(2))
        cols["left"][j] = add(d + 1)
        cols["right"][j] = add(d + 1)
        return j

    add(0)
    return Tree.from_lists(**cols)


def naive_predict(trees, classes, X, n_out):
    out = np.zeros((X.shape[0], n_out))
    for tree, k in zip(trees, classes):
        for i, x in enumerate(X):
            node = 0
            while tree.feature[node] >= 0:
                v = x[tree.feature[node]]
                left = tree.default_left[node] if np.isnan(v) else v <= tree.threshold[node]
                node = tree.left[node] if left else tree.right[node]
            out[i, k] += tree.value[node]
    return out


def test_forest_matches_naive_traversal_raw_and_binned():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((700, 5))
    X[rng.random(X.shape) < 0.15] = np.nan
    X[0, :] = np.inf
    edges, n_edges = compute_bin_edges(X, 32)
    trees = [random_tree(rng, edges, n_edges) for _ in range(6)]
    classes = [0, 1, 2, 0, 1, 2]
    forest = Forest(trees, classes, 3)
    expected = naive_predict(trees, classes, X, 3)
    raw = forest.predict(X, np.zeros((700, 3)))
    binned = forest.predict(bin_matrix(X, edges, n_edges, 32), np.zeros((700, 3)), missing_bin=31)
    np.testing.assert_allclose(raw, expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(raw, binned)
    partial = forest.predict(X, np.zeros((700, 3)), first_tree=3, stop_tree=6)
    np.testing.assert_allclose(partial, naive_predict(trees[3:], classes[3:], X, 3), atol=1e-12)
