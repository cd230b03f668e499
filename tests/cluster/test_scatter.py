"""Reduce-scatter split search (cluster.scatter): the slices' scans, combined, pick the split one scan
over every feature picks; partial histograms add in the reduction tree's order; on Dask, the shards'
search gives the leader's search's model bit for bit, on 2 and 3 workers, with a feature count that
no worker count divides, missing values and categorical splits, and no worker receives every histogram."""
import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster

import cluster
from bindings import Dataset, train
from cluster.scatter import SearchRules, SliceSearch, best_splits, bin_indices, feature_slices, tree_sum
from gbdt.histogram import compact_bin_offsets, flat_layout
from gbdt.split import find_best_splits


def test_tree_sum_adds_in_the_reduction_trees_order():
    """Rank r adds its first child's subtree total, then its second's (0 <- 1, 2; 1 <- 3, 4): values
    whose float sum depends on the order tell a different order apart."""
    values = [0.5, 1e16, -1e16, 1.0, 1.0]
    parts = [np.array([v]) for v in values]
    expected = (0.5 + ((1e16 + 1.0) + 1.0)) + -1e16
    assert tree_sum(parts)[0] == expected == 0.0
    assert sum(values) == 2.0  # the plain left-to-right sum differs: the order is tested


def test_feature_slices_cover_every_feature_once():
    for n_features, n_shards in ((7, 2), (7, 3), (28, 4), (3, 5)):
        slices = feature_slices(n_features, n_shards)
        assert len(slices) == n_shards
        np.testing.assert_array_equal(np.concatenate(slices), np.arange(n_features))
        assert max(map(len, slices)) - min(map(len, slices)) <= 1


def _random_batch(rng, n_nodes, n_features, n_bins, categorical):
    """Histograms (n, F, B, 2) of random rows (some missing), their sums, and the split-search rules."""
    rows = 400
    bins = rng.integers(0, n_bins - 1, (rows, n_features))
    bins[rng.random(bins.shape) < 0.1] = n_bins - 1  # the missing bin
    n_value_bins = np.full(n_features, n_bins - 1, dtype=np.int32)
    n_value_bins[categorical] = 6
    bins[:, categorical] = np.where(bins[:, categorical] == n_bins - 1, n_bins - 1, bins[:, categorical] % 6)
    gh = np.stack([rng.standard_normal(rows), rng.uniform(0.5, 1.5, rows)], axis=1)
    node = rng.integers(0, n_nodes, rows)
    hists = np.zeros((n_nodes, n_features, n_bins, 2))
    for f in range(n_features):
        np.add.at(hists[:, f], (node, bins[:, f]), gh)
    sums = np.stack([gh[node == j].sum(axis=0) for j in range(n_nodes)])
    is_categorical = np.zeros(n_features, dtype=np.bool_)
    is_categorical[categorical] = True
    monotone = np.zeros(n_features, dtype=np.int8)
    return hists, sums, SearchRules(n_value_bins, monotone, is_categorical, 1.0, 0.0, 1.0, (4.0, 32.0, 10.0))


@pytest.mark.parametrize("n_shards", [2, 3, 4])
@pytest.mark.parametrize("monotone,compact", [(False, False), (True, False), (False, True)])
def test_slices_scanned_apart_pick_the_whole_scans_split(n_shards, monotone, compact):
    """Every shard scans its slice of the same histograms (with node feature masks); ``best_splits``
    of their records equals ``find_best_splits`` over every feature, bit for bit; also in the compact
    layout sparse shards exchange (each feature's value bins and missing bin only)."""
    rng = np.random.default_rng(n_shards)
    n_nodes, n_features, n_bins = 6, 7, 16
    hists, sums, rules = _random_batch(rng, n_nodes, n_features, n_bins, categorical=[2, 5])
    if monotone:  # a constraint on a feature of one slice changes the gain formula of every slice
        rules.monotone[0] = 1
    hists[1, 3] = hists[1, 4]  # feature 3 and 4 tie at node 1: the lower feature wins
    bounds = np.tile([-np.inf, np.inf], (n_nodes, 1))
    bounds[2] = (-0.05, 0.05)
    features = np.arange(n_features, dtype=np.int32)[[0, 1, 2, 3, 4, 6]]  # feature 5 not sampled at this level
    allowed = rng.random((n_nodes, features.shape[0])) < 0.8
    allowed[:, 0] = True
    flat, offsets = flat_layout(hists, rules.n_value_bins)
    want = [np.zeros(n_nodes), np.zeros(n_nodes, dtype=np.int64), np.zeros(n_nodes, dtype=np.int64),
            np.zeros(n_nodes, dtype=np.bool_), np.zeros((n_nodes, 2)), np.zeros((n_nodes, n_bins), dtype=np.bool_)]
    find_best_splits(flat, offsets, sums, features, rules.n_value_bins, rules.reg_lambda, rules.reg_alpha,
                     rules.min_child_weight, rules.monotone, bounds, rules.categorical, rules.cat_rules, *want, allowed)
    if compact:  # the same sums without the empty bins: the uniform scan is the reference
        flat = np.concatenate([part for f in range(n_features)
                               for part in (hists[:, f, :rules.n_value_bins[f]], hists[:, f, -1:])], axis=1)
        offsets = compact_bin_offsets(rules.n_value_bins)
    records = []
    for columns in feature_slices(n_features, n_shards):
        search = SliceSearch(columns, n_features, n_bins, np.diff(offsets) if compact else None)
        search.rules = rules
        mine, _ = search.held(features)
        total = flat[:, bin_indices(offsets, mine)].copy() if compact else hists[:, mine].copy()
        search.store(total, mine, list(range(n_nodes)), [], [], None)
        records.append(search.scan(list(range(n_nodes)), features, sums, bounds, allowed))
    got = best_splits(records, n_bins)
    assert (want[1] >= 0).sum() >= 4 and any(rules.categorical[f] for f in want[1] if f >= 0)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_larger_siblings_are_parents_minus_the_smaller_in_each_slice():
    """The slice keeps its nodes' histograms and subtracts the smaller children from their parents:
    the larger children's histograms equal those built from their rows."""
    rng = np.random.default_rng(5)
    parent, _, rules = _random_batch(rng, 2, 5, 8, categorical=[])
    small = parent * rng.uniform(0.1, 0.5, parent.shape)
    search = SliceSearch(np.array([1, 3, 4], dtype=np.int32), 5, 8)
    search.rules = rules
    mine = np.array([1, 3, 4], dtype=np.int32)
    search.store(parent[:, mine].copy(), mine, [0, 7], [], [], 0)
    batch = search.store(small[:, mine].copy(), mine, [11, 12], [21, 22], [7, 0], 1)
    np.testing.assert_array_equal(batch[2:], (parent[[1, 0]] - small)[:, mine].reshape(2, -1, 2))  # flat layout
    assert set(search.nodes) == {11, 12, 21, 22}


rng = np.random.default_rng(0)
X = rng.standard_normal((3000, 7))  # 7 features: neither 2 nor 3 workers divide them
X[rng.random(X.shape) < 0.1] = np.nan
signal = np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 5])
y = (signal + rng.standard_normal(3000) > 0).astype(float)


@pytest.fixture(scope="module")
def client3():
    with LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        with Client(lc) as c:
            yield c


def _fit(client, params, n_blocks, mode, search, frame=None):
    chunk = X.shape[0] // n_blocks
    data = da.from_array(X, chunks=(chunk, 7)) if frame is None else frame
    return cluster.train(client, {**params, "n_jobs": 1}, data, da.from_array(y, chunks=chunk), num_boost_round=4,
                         distributed_mode=mode, min_rows_per_worker=1, split_search=search)


def _same_trees(a, b):
    for s, t in zip(a.trees, b.trees, strict=True):
        for name in ("feature", "bin_threshold", "threshold", "default_left", "value", "gain", "cover", "cat_bits"):
            np.testing.assert_array_equal(getattr(s, name), getattr(t, name), err_msg=name)


@pytest.mark.parametrize("n_blocks", [2, 3])
@pytest.mark.parametrize("mode", ["data", "feature"])
@pytest.mark.parametrize("params", [{"objective": "binary:logistic", "max_depth": 4},
                                    {"objective": "reg:squarederror", "grow_policy": "lossguide", "max_leaves": 9,
                                     "max_depth": 0, "colsample_bynode": 0.6}])
def test_shards_search_gives_the_leaders_model_bit_for_bit(client3, n_blocks, mode, params):
    shards = _fit(client3, params, n_blocks, mode, "shards")
    leader = _fit(client3, params, n_blocks, mode, "leader")
    assert len(shards.rows_per_worker) == (n_blocks if mode == "data" else 3)
    _same_trees(shards, leader)
    np.testing.assert_allclose(shards.predict(X), train({**params, "n_jobs": 1}, Dataset(X, y), 4).predict(X),
                               rtol=1e-6, atol=1e-6)
    moved, gathered = shards.fit_profile["received_bytes"], leader.fit_profile["received_bytes"]
    if mode == "data":  # as many bytes in all, but the leader no longer receives most of them
        assert sum(moved) == sum(gathered) > 0
        assert max(moved) < max(gathered) == gathered[0]
    else:  # feature-parallel shards scan their own features: no histogram travels
        assert shards.traffic_bytes["histograms"] == 0 < leader.traffic_bytes["histograms"]


@pytest.mark.parametrize("mode", ["data", "feature"])
def test_categorical_splits_and_quantised_gradients_on_three_workers(client3, mode):
    """A categorical column of a dask DataFrame splits the same way either search; with quantised
    gradients (exact integer sums) the model equals the local one bit for bit."""
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(7)])
    codes = rng.integers(0, 8, X.shape[0])
    frame["c6"] = pd.Categorical(np.where(codes == 7, None, codes.astype(str)))
    label = (np.isin(codes, [1, 4, 5]) + 0.5 * np.nan_to_num(X[:, 0]) > 0.6).astype(float)
    global y
    saved, y = y, label
    try:
        params = {"objective": "binary:logistic", "max_depth": 4}
        dframe = dd.from_pandas(frame, npartitions=3)
        shards, leader = (_fit(client3, params, 3, mode, s, dframe) for s in ("shards", "leader"))
        _same_trees(shards, leader)
        assert any(t.cat_bits.size for t in shards.trees)
        quantized = {**params, "use_quantized_grad": True}
        local = train({**quantized, "n_jobs": 1}, Dataset(frame, label), 4)
        _same_trees(_fit(client3, quantized, 3, mode, "shards", dframe), local)
    finally:
        y = saved


def test_bad_split_search(client3):
    with pytest.raises(ValueError, match="split_search must be one of"):
        cluster.train(client3, {}, X, y, split_search="ring")
