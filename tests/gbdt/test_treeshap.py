"""TreeSHAP kernel against Shapley values computed by enumerating every feature subset.

The reference defines the game directly: v(S) = the tree's output when the features in S follow
the row and every other split averages its children weighted by cover. Shapley values are then
the weighted sums of v(S + i) - v(S) over all subsets S, with no shared code with the kernel.
The random trees mix numeric splits with categorical ones (feature ``CAT``, sets of codes).
"""
from itertools import combinations
from math import factorial

import numpy as np

from gbdt.traversal import leaf_ids
from gbdt.tree import Forest, Tree, category_bitset
from gbdt.treeshap import tree_expectations, tree_shap
from tests.gbdt.tree_testing import leaf_of, routes_left

N_FEATURES = 4
CAT, N_CODES = 3, 40  # feature 3 holds category codes 0..39; sets use codes below 35 (two words)


def random_tree(rng, max_depth):
    """An unbalanced tree in depth-first node order that re-splits features along its paths;
    covers are consistent (parent = sum of children) and random."""
    cols = {name: [] for name in {**Tree.DTYPES, **Tree.CATEGORICAL_DTYPES}}
    cols["cat_bits"] = []

    def add(depth):
        j = len(cols["feature"])
        for name in cols:
            if name != "cat_bits":
                cols[name].append(0)
        cols["cat_begin"][j] = cols["cat_end"][j] = len(cols["cat_bits"])
        if depth == max_depth or (depth > 0 and rng.random() < 0.25):
            cols["feature"][j], cols["left"][j], cols["right"][j] = -1, -1, -1
            cols["value"][j], cols["cover"][j] = rng.standard_normal(), rng.uniform(0.5, 5.0)
            return j
        cols["feature"][j] = int(rng.integers(N_FEATURES))
        if cols["feature"][j] == CAT:
            cols["cat_bits"].extend(category_bitset(rng.choice(35, size=int(rng.integers(1, 12)), replace=False)))
            cols["cat_end"][j] = len(cols["cat_bits"])
        else:
            cols["threshold"][j] = rng.standard_normal() * 0.7
        cols["default_left"][j] = bool(rng.integers(2))
        cols["left"][j] = add(depth + 1)
        cols["right"][j] = add(depth + 1)
        cols["cover"][j] = cols["cover"][cols["left"][j]] + cols["cover"][cols["right"][j]]
        return j

    add(0)
    return Tree.from_lists(**cols)


def random_rows(rng, n, missing):
    X = rng.standard_normal((n, N_FEATURES))
    X[:, CAT] = rng.integers(0, N_CODES, n)
    X[rng.random(X.shape) < missing] = np.nan
    return X


def game_value(tree, x, subset, node=0):
    """v(subset): expected output with the features of ``subset`` known, others averaged by cover."""
    f = tree.feature[node]
    if f < 0:
        return tree.value[node]
    left, right = tree.left[node], tree.right[node]
    if f in subset:
        return game_value(tree, x, subset, left if routes_left(tree, node, x[f]) else right)
    return (tree.cover[left] * game_value(tree, x, subset, left)
            + tree.cover[right] * game_value(tree, x, subset, right)) / tree.cover[node]


def brute_force_shapley(tree, x):
    """(F + 1,) Shapley values of the features and v(empty set) as the bias."""
    n = x.shape[0]
    value = {s: game_value(tree, x, set(s)) for size in range(n + 1) for s in combinations(range(n), size)}
    phi = np.zeros(n + 1)
    for i in range(n):
        for s, v in value.items():
            if i not in s:
                with_i = tuple(sorted(s + (i,)))
                phi[i] += factorial(len(s)) * factorial(n - len(s) - 1) / factorial(n) * (value[with_i] - v)
    phi[n] = value[()]
    return phi


def depth(tree, node=0):
    if tree.feature[node] < 0:
        return 0
    return 1 + max(depth(tree, tree.left[node]), depth(tree, tree.right[node]))


def run_kernel(trees, classes, X, n_out):
    forest = Forest(trees, classes, n_out)
    cover = np.concatenate([t.cover for t in trees])
    out = np.zeros((X.shape[0], n_out, X.shape[1] + 1))
    tree_shap(X, forest.feature, forest.threshold, forest.default_left, forest.left, forest.right, forest.value,
              cover, forest.cat_begin, forest.cat_end, forest.cat_bits, forest.roots, forest.tree_class, 0, len(trees),
              max(depth(t) for t in trees), out)
    expected = np.empty(len(trees))
    tree_expectations(forest.feature, forest.left, forest.right, forest.value, cover, forest.roots, expected)
    return forest, out, expected


def test_kernel_equals_brute_force_shapley_values_on_random_trees():
    rng = np.random.default_rng(1)
    trees = [random_tree(rng, d) for d in (1, 2, 3, 4, 5, 6)]
    assert sum(int(t.is_categorical.sum()) for t in trees) >= 3
    classes = [0, 1, 0, 1, 0, 1]
    X = random_rows(rng, 25, 0.2)
    _, out, expected = run_kernel(trees, classes, X, 2)
    reference = np.zeros_like(out)
    for tree, k in zip(trees, classes):
        for i, x in enumerate(X):
            reference[i, k] += brute_force_shapley(tree, x)
    np.testing.assert_allclose(out[:, :, :-1], reference[:, :, :-1], rtol=1e-10, atol=1e-12)
    # the bias column is the caller's; the per-tree expectation is v(empty set)
    np.testing.assert_allclose(np.bincount(classes, weights=expected), reference[0, :, -1], rtol=1e-12)


def test_contributions_plus_expectations_sum_to_the_prediction():
    rng = np.random.default_rng(2)
    trees = [random_tree(rng, 8) for _ in range(5)]
    X = random_rows(rng, 300, 0.1)
    forest, out, expected = run_kernel(trees, [0] * 5, X, 1)
    prediction = forest.predict(X, np.zeros((300, 1)))[:, 0]
    np.testing.assert_allclose(out[:, 0].sum(1) + expected.sum(), prediction, atol=1e-10)
    # a feature no tree splits on gets exactly zero
    unused = np.setdiff1d(np.arange(N_FEATURES), np.concatenate([t.feature for t in trees]))
    assert (out[:, 0, unused] == 0).all()


def test_leaf_ids_kernel_follows_the_routing_of_predict():
    rng = np.random.default_rng(4)
    trees = [random_tree(rng, 5) for _ in range(4)]
    forest = Forest(trees, [0] * 4, 1)
    X = random_rows(rng, 200, 0.2)
    out = np.empty((200, 3), dtype=np.int32)
    leaf_ids(X, forest.feature, forest.threshold, forest.default_left, forest.left, forest.right, forest.cat_begin,
             forest.cat_end, forest.cat_bits, forest.roots, 1, out)
    for j, tree in enumerate(trees[1:]):
        for i, x in enumerate(X):
            assert out[i, j] == leaf_of(tree, x)
    values = np.array([[trees[1 + j].value[out[i, j]] for j in range(3)] for i in range(200)])
    np.testing.assert_allclose(values.sum(1), forest.predict(X, np.zeros((200, 1)), 1, 4)[:, 0], atol=1e-12)


INTERPRETED = """
import json
import numpy as np
from tests.gbdt.test_treeshap import random_rows, random_tree, run_kernel
from gbdt.traversal import leaf_ids
rng = np.random.default_rng(5)
trees = [random_tree(rng, 4) for _ in range(3)]
X = random_rows(rng, 70, 0.2)
forest, out, expected = run_kernel(trees, [0, 1, 0], X, 2)
leaves = np.empty((70, 3), dtype=np.int32)
f = forest
leaf_ids(X, f.feature, f.threshold, f.default_left, f.left, f.right, f.cat_begin, f.cat_end, f.cat_bits, f.roots, 0,
         leaves)
print(json.dumps([out.tolist(), expected.tolist(), leaves.tolist()]))
"""


def test_interpreted_kernels_match_compiled(run_script):
    """NUMBA_DISABLE_JIT=1 runs the kernel bodies as Python (coverage, debugging): same numbers."""
    interpreted, compiled = run_script(INTERPRETED, True), run_script(INTERPRETED, False)
    for a, b in zip(interpreted, compiled):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
