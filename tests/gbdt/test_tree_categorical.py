"""Categorical splits in trees: forest prediction (raw codes, bins and CSR rows) and row routing against a
naive Python traversal over ``Tree.left_categories``; bitsets and JSON-ready dicts round-trip."""
import numpy as np
import scipy.sparse as sp

from gbdt import histogram
from gbdt.binning import bin_matrix, compute_bin_edges, set_category_edges
from gbdt.partition import goes_left_mask, routing_table
from gbdt.tree import Forest, Tree, category_bitset
from tests.gbdt.tree_testing import leaf_of

N_CATS, MAX_BIN = 40, 64


def random_mixed_tree(rng, edges, n_edges, depth=4):
    """A full random tree: feature 0 categorical (random category sets), features 1-2 numeric."""
    cols = {name: [] for name in {**Tree.DTYPES, **Tree.CATEGORICAL_DTYPES}}
    cols["cat_bits"] = []

    def add(d):
        j = len(cols["feature"])
        for name in Tree.DTYPES:
            cols[name].append(0)
        cols["cat_begin"].append(len(cols["cat_bits"]))
        if d == depth:
            cols["feature"][j], cols["left"][j], cols["right"][j] = -1, -1, -1
            cols["value"][j] = rng.standard_normal()
        else:
            f = int(rng.integers(3))
            cols["feature"][j], cols["default_left"][j] = f, bool(rng.integers(2))
            if f == 0:
                cols["bin_threshold"][j] = -1
                cols["cat_bits"].extend(category_bitset(np.flatnonzero(rng.random(N_CATS) < 0.4)))
            else:
                b = int(rng.integers(n_edges[f] + 1))
                cols["bin_threshold"][j], cols["threshold"][j] = b, edges[f, b]
        cols["cat_end"].append(len(cols["cat_bits"]))
        if d < depth:
            cols["left"][j] = add(d + 1)
            cols["right"][j] = add(d + 1)
        return j

    add(0)
    return Tree.from_lists(**cols)


def naive_predict(trees, X):
    out = np.zeros(X.shape[0])
    for tree in trees:
        for i, x in enumerate(X):
            out[i] += tree.value[leaf_of(tree, x)]
    return out


def mixed_data(rng, n=600):
    X = rng.standard_normal((n, 3))
    X[:, 0] = rng.integers(0, N_CATS, n)
    X[rng.random(X.shape) < 0.1] = np.nan
    edges, n_edges = compute_bin_edges(X, MAX_BIN)
    set_category_edges(edges, n_edges, 0, N_CATS)
    return X, edges, n_edges


def test_forest_with_categorical_nodes_matches_naive_traversal_raw_and_binned():
    rng = np.random.default_rng(0)
    X, edges, n_edges = mixed_data(rng)
    trees = [random_mixed_tree(rng, edges, n_edges) for _ in range(5)]
    assert all(t.is_categorical.any() for t in trees)
    forest = Forest(trees, [0] * 5, 1)
    raw = forest.predict(X, np.zeros((X.shape[0], 1)))[:, 0]
    X_binned = bin_matrix(X, edges, n_edges, MAX_BIN)
    np.testing.assert_array_equal(X_binned[:, 0], np.where(np.isnan(X[:, 0]), MAX_BIN - 1, X[:, 0]))
    binned = forest.predict(X_binned, np.zeros((X.shape[0], 1)), missing_bin=MAX_BIN - 1)[:, 0]
    np.testing.assert_allclose(raw, naive_predict(trees, X), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(raw, binned)
    rebuilt = [Tree.from_lists(**t.to_dict()) for t in trees]
    np.testing.assert_array_equal(Forest(rebuilt, [0] * 5, 1).predict(X, np.zeros((X.shape[0], 1)))[:, 0], raw)
    csr = sp.csr_matrix(X)  # category 0 and zero values absent, NaN stored
    assert (X[:, 0] == 0).any() and csr.nnz < X.size
    from_csr = forest.predict_csr(csr.indptr.astype(np.int64), csr.indices, csr.data, np.zeros(3),
                                  np.zeros((X.shape[0], 1)))
    np.testing.assert_array_equal(from_csr[:, 0], raw)


def test_numeric_trees_keep_the_old_dict_layout():
    rng = np.random.default_rng(1)
    X, edges, n_edges = mixed_data(rng)
    tree = random_mixed_tree(rng, edges, n_edges)
    numeric = Tree.from_lists(**{k: v for k, v in tree.to_dict().items() if k in Tree.DTYPES})
    assert set(numeric.to_dict()) == set(Tree.DTYPES) and not numeric.is_categorical.any()


def test_routing_table_sends_category_sets_left(monkeypatch):
    monkeypatch.setattr(histogram, "ROWS_PER_CHUNK", 128)
    rng = np.random.default_rng(2)
    X = rng.integers(0, MAX_BIN, size=(1000, 2)).astype(np.uint8)
    rows = np.arange(1000, dtype=np.int32)
    starts, stops = np.array([0, 400]), np.array([400, 1000])
    cat_left = [rng.random(MAX_BIN) < 0.5, None]
    thr, default_left = np.array([-1, 30]), np.array([False, True])
    table = routing_table(thr, default_left, MAX_BIN - 1, MAX_BIN, cat_left)
    lo, hi, node, _ = histogram.chunk_nodes(starts, stops)
    mask = np.empty(1000, np.bool_)
    goes_left_mask(X, rows, lo, hi, node, np.array([0, 1]), table, mask)
    b0, b1 = X[:400, 0], X[400:, 1]
    np.testing.assert_array_equal(mask[:400], np.where(b0 == MAX_BIN - 1, False, cat_left[0][b0]))
    np.testing.assert_array_equal(mask[400:], np.where(b1 == MAX_BIN - 1, True, b1 <= 30))


def test_category_bitset_words():
    words = category_bitset([0, 31, 32, 70])
    assert words.dtype == np.uint32 and words.tolist() == [1 | (1 << 31), 1, 1 << 6]
