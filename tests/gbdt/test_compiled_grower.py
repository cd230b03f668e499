"""The compiled grower grows the trees the Python driver grows, bit for bit, and its compiled
helpers equal their numpy twins; bad arrays raise a ValueError naming them.

Each compiled-grower configuration below costs a compilation (~10-20 s on the 2-core machine)
the first time, so one fit covers many options."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gbdt.grower as grower
import gbdt.threads as threads
from bindings import Dataset, train
from gbdt import histogram
from gbdt.grower import GrowthParams, TreeGrower
from gbdt.histogram import HistogramBuilder, SPLIT_MODES, compiled_chunk_nodes, compiled_mode
from gbdt.partition import RowPartition, fill_routing_table, routing_table
from gbdt.split import _pick_best_splits, compiled_node_outputs, compiled_pick_best_splits, node_outputs
from gbdt.tree import Tree

FIELDS = ("feature", "threshold", "bin_threshold", "default_left", "left", "right", "value", "gain", "cover",
          "cat_begin", "cat_end", "cat_bits")


def fit_both(monkeypatch, params, X, y, rounds=6):
    """(compiled driver's booster, Python driver's booster) of the same fit."""
    boosters = []
    for compiled in (True, False):
        monkeypatch.setattr(TreeGrower, "compiled", compiled)
        boosters.append(train(params, Dataset(X, y), rounds))
    return boosters


def assert_same_trees(a, b):
    assert len(a.trees) == len(b.trees)
    for s, t in zip(a.trees, b.trees):
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(s, name), getattr(t, name), err_msg=name)
            assert getattr(s, name).dtype == getattr(t, name).dtype


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1500, 6))
    X[:, 5] = rng.integers(0, 12, 1500)  # category codes
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 2]) + (X[:, 5] % 3 == 1)
         + rng.standard_normal(1500) > 0.5).astype(float)
    return X, y


@pytest.mark.parametrize("extra", [
    {},
    {"max_leaves": 9, "gamma": 0.5, "min_child_weight": 3.0, "reg_alpha": 0.5, "subsample": 0.7,
     "colsample_bytree": 0.7},
    {"objective": "reg:absoluteerror"},  # leaf values refitted from the leaves' rows
])
def test_depthwise_trees_equal_the_python_driver(monkeypatch, data, extra):
    X, y = data
    params = {"objective": "binary:logistic", "max_depth": 5, "n_jobs": 1, **extra}
    assert_same_trees(*fit_both(monkeypatch, params, X, y))


def test_lossguide_with_every_constraint_equals_the_python_driver(monkeypatch, data):
    """One compilation for the options that change the compiled code: categorical splits,
    monotone and interaction constraints, weight bounds, quantised gradients."""
    X, y = data
    params = {"objective": "binary:logistic", "grow_policy": "lossguide", "max_leaves": 14, "max_depth": 0,
              "n_jobs": 1, "monotone_constraints": (1, 0, 0, -1, 0, 0), "max_delta_step": 0.8,
              "interaction_constraints": [[0, 1, 5], [1, 2, 3, 4]], "use_quantized_grad": True}
    dtrain = Dataset(X, y, categorical_features=[5])
    boosters = []
    for compiled in (True, False):
        monkeypatch.setattr(TreeGrower, "compiled", compiled)
        boosters.append(train(params, dtrain, 6))
    assert any(t.is_categorical.any() for t in boosters[0].trees)
    assert_same_trees(*boosters)


def test_threaded_levels_equal_the_python_driver(monkeypatch, data):
    """Two threads, chunked nodes and both histogram strategies (``split_mode="auto"`` prices each
    level), with the margins updated by the compiled grower."""
    monkeypatch.setattr(threads, "SERIAL_FIT_CELLS", 0)
    monkeypatch.setattr(histogram, "ROWS_PER_CHUNK", 256)  # several chunks per node
    monkeypatch.setattr(histogram, "TINY_LEVEL_UPDATES", 0)  # price every level
    X, y = data
    params = {"objective": "reg:squarederror", "max_depth": 6, "n_jobs": 2}
    assert_same_trees(*fit_both(monkeypatch, params, X, y))


def test_auto_policy_compiles_after_enough_python_batches(monkeypatch, data):
    """``compiled="auto"`` runs the Python driver while compiling would be needed, and the
    compiled grower once the Python driver has grown RENT_BATCHES batches of the same
    configuration (or once it is compiled); other configurations rent on their own."""
    X, y = data
    calls = []
    monkeypatch.setattr(TreeGrower, "_grow_compiled", lambda self, *args: calls.append(1) or Tree(
        *[np.zeros(1, dtype=t) for t in Tree.DTYPES.values()]))
    monkeypatch.setattr(grower, "compiled_for", lambda dispatcher, signature: False)
    monkeypatch.setattr(grower, "_python_batches", {})
    monkeypatch.setattr(grower, "RENT_BATCHES", 10 ** 9)
    params = {"objective": "binary:logistic", "max_depth": 3, "n_jobs": 1}
    train(params, Dataset(X, y), 2)
    (configuration, batches), = grower._python_batches.items()
    assert not calls and batches > 0
    monkeypatch.setattr(grower, "RENT_BATCHES", batches)
    train({**params, "monotone_constraints": (1, 0, 0, 0, 0, 0)}, Dataset(X, y), 2)  # another configuration
    assert not calls and len(grower._python_batches) == 2
    train(params, Dataset(X, y), 2)
    assert len(calls) == 2


def test_sparse_and_bundled_bins_keep_the_python_driver(monkeypatch):
    """Sparse and bundled bins (compact histograms) grow with the Python driver even when the
    compiled grower is forced; their trees still split."""
    from benchmarks.sparse import onehot_task, text_task

    def refuse(*args):
        raise AssertionError("the compiled grower grew a tree over sparse or bundled bins")

    monkeypatch.setattr(TreeGrower, "compiled", True)
    monkeypatch.setattr(TreeGrower, "_grow_compiled", refuse)
    for (X, y), path in ((text_task(1500, n_words=400, positives=0.2), "SparseBins"),
                         (onehot_task(1500, n_columns=6, categories=20), "BundledBins")):
        dtrain = Dataset(X, y)
        assert type(dtrain.binned(*dtrain.bin_edges(64), 64)).__name__ == path
        booster = train({"objective": "binary:logistic", "max_depth": 3, "max_bin": 64, "n_jobs": 1}, dtrain, 2)
        assert all((tree.feature >= 0).any() for tree in booster.trees)


CACHED_CALL = """
import json, sys
import numpy as np
sys.path.insert(0, {folder!r})
from doubling import double
from gbdt._jit import call_signature, compiled_for
found = compiled_for(*call_signature(double, (np.ones(3),)))
loaded = len(double.signatures)  # what compiled_for put in place, before any call
out = double(np.ones(3))
print(json.dumps([found, loaded, compiled_for(*call_signature(double, (np.ones(3, dtype=np.int32),))),
                  out.tolist()]))
"""


def test_compiled_for_loads_from_the_disk_cache_without_compiling(tmp_path):
    """A fresh process finds nothing compiled, compiles on the call and caches it; the next process
    finds it in the disk cache and loads it without a call, and the loaded code allocates its result;
    other argument types are not found."""
    (tmp_path / "doubling.py").write_text("from gbdt._jit import jit\n\n\n@jit\ndef double(x):\n    return 2 * x\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), NUMBA_DISABLE_JIT="0")
    root = Path(__file__).resolve().parents[2]
    runs = [json.loads(subprocess.run([sys.executable, "-c", CACHED_CALL.format(folder=str(tmp_path))], env=env,
                                      cwd=root, capture_output=True, text=True, timeout=300, check=True).stdout)
            for _ in range(2)]
    assert runs == [[False, 0, False, [2.0] * 3], [True, 1, False, [2.0] * 3]]


def local_tree_call(n=400, n_features=3, seed=0):
    """(grow_depthwise, args) of a grower over a small RowPartition, as ``TreeGrower`` makes them
    (256 bins, 9 of them used: the types of the depthwise fits above, so nothing more to compile)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 10, size=(n, n_features)).astype(np.uint8)
    gh = np.stack([rng.standard_normal(n), np.ones(n)], axis=1).astype(np.float32)
    builder = HistogramBuilder(X, 256, "auto", 1)
    partition = RowPartition(X, gh, np.arange(n, dtype=np.int32), 255, builder, np.zeros((n, 1)), 0)
    tree_grower = TreeGrower(np.tile(np.arange(255) + 0.5, (n_features, 1)), np.full(n_features, 9, np.int32), 255,
                             GrowthParams(max_depth=3))
    return tree_grower._compiled_call(partition, np.arange(n_features, dtype=np.int32))


def test_bad_arrays_raise_value_errors_naming_them():
    grow_tree, args = local_tree_call()
    settings, rows, rules, margin = args[:4]
    grow_tree(*args)  # a good call
    bad_calls = {
        "gradients": (settings, rows._replace(gh_pairs=rows.gh_pairs[:-1]), rules, margin),
        "rows": (settings, rows._replace(rows=rows.rows + np.int32(10_000)), rules, margin),
        "scratch": (settings, rows._replace(scratch=rows.scratch[:-1]), rules, margin),
        "features": (settings, rows, rules._replace(features=rules.features[::-1].copy()), margin),
        "margin": (settings, rows, rules, margin[:-1]),
        "n_value_bins": (settings, rows, rules._replace(n_value_bins=rules.n_value_bins + 250), margin),
        "bin_offsets": (settings, rows, rules._replace(bin_offsets=rules.bin_offsets // 2), margin),
    }
    for name, bad in bad_calls.items():
        with pytest.raises(ValueError, match=name):
            grow_tree(*bad, *args[4:])


def test_compiled_helpers_equal_their_numpy_twins(monkeypatch):
    rng = np.random.default_rng(3)
    # chunking (ROWS_PER_CHUNK as passed) and the histogram strategy with its schedule
    sizes = rng.integers(0, 3000, 40)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    stops = starts + sizes
    monkeypatch.setattr(histogram, "ROWS_PER_CHUNK", 700)
    expected = histogram.chunk_nodes(starts, stops)
    for got, want in zip(compiled_chunk_nodes(starts, stops, 700), expected):
        np.testing.assert_array_equal(got, want)
    chunk_sizes = expected[1] - expected[0]
    for mode in SPLIT_MODES:
        for n_threads, n_features in ((1, 8), (2, 8), (3, 400)):
            builder = HistogramBuilder(np.zeros((1, n_features), np.uint8), 256, mode, n_threads)
            want_mode, (want_order, want_first) = builder.mode_for(chunk_sizes, stops - starts, 5)
            got_mode, got_order, got_first = compiled_mode(SPLIT_MODES.index(mode), chunk_sizes, stops - starts, 5,
                                                           n_features, 256, n_threads)
            assert SPLIT_MODES[got_mode] == want_mode
            np.testing.assert_array_equal(got_order, want_order)
            np.testing.assert_array_equal(got_first, want_first)
    # routing tables, numeric and categorical
    thr, default_left = rng.integers(-1, 9, 6), rng.random(6) < 0.5
    masks = [rng.random(10) < 0.5 if j % 3 == 0 else None for j in range(6)]
    table = np.empty((6, 10), dtype=np.bool_)
    fill_routing_table(thr, default_left, 9, np.array([m if m is not None else np.zeros(10, bool) for m in masks]),
                       np.array([m is not None for m in masks]), table)
    np.testing.assert_array_equal(table, routing_table(thr, default_left, 9, 10, masks))
    # leaf outputs, bit for bit
    g, h = rng.standard_normal(300) * 4, rng.uniform(0.0, 2.0, 300)
    lower, upper = np.where(rng.random(300) < 0.3, -0.2, -np.inf), np.where(rng.random(300) < 0.3, 0.1, np.inf)
    want, got = np.empty(300), np.empty(300)
    node_outputs(g, h, lower, upper, 0.0, 0.5, 0.1, want)
    compiled_node_outputs(g, h, lower, upper, 0.0, 0.5, 0.1, got)
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))
    # the best split per node
    n_nodes, k = 30, 5
    gains = rng.choice([-np.inf, np.nan, -1.0, 0.0, 0.5, 1.0, 2.0], size=n_nodes * k)
    bins, lefts, stats = rng.integers(0, 9, n_nodes * k), rng.random(n_nodes * k) < 0.5, rng.random((n_nodes * k, 2))
    features = np.array([0, 2, 3, 5, 6], dtype=np.int32)
    outs = [[np.zeros(n_nodes), np.zeros(n_nodes, np.int64), np.zeros(n_nodes, np.int64), np.zeros(n_nodes, bool),
             np.full((n_nodes, 2), -7.0)] for _ in range(2)]
    winners = [pick(gains, bins, lefts, stats, features, *out)
               for pick, out in zip((_pick_best_splits, compiled_pick_best_splits), outs)]
    np.testing.assert_array_equal(*winners)
    for want, got in zip(*outs):
        np.testing.assert_array_equal(got, want)
