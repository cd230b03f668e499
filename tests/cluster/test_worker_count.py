"""Small data trains on fewer workers: a fit uses only as many as keep ``min_rows_per_worker`` rows
each, chosen deterministically, and the model is the local one whatever the count."""
import dask.array as da
import numpy as np
import pytest

import cluster
from bindings import Dataset, train
from cluster.placement import MIN_CELLS_PER_WORKER, default_min_rows, kept_workers

rng = np.random.default_rng(3)
X = rng.standard_normal((6000, 6))
y = (X[:, 0] - X[:, 1] * X[:, 2] + rng.standard_normal(6000) > 0).astype(float)
PARAMS = {"objective": "binary:logistic", "max_depth": 4}


def dask_xy(chunks=2000):
    return da.from_array(X, chunks=(chunks, 6)), da.from_array(y, chunks=chunks)


def test_kept_workers_hold_the_most_rows_ties_by_address():
    held_by = ["c", "b", "a", None]
    assert kept_workers([10, 30, 30, 5], held_by, ["a", "b", "c"], 30) == ["a", "b"]  # 75 // 30 = 2
    assert kept_workers([10, 30, 30, 5], held_by, ["a", "b", "c"], 40) == ["a"]  # a and b tie: a by address
    assert kept_workers([10, 30, 30, 5], held_by, ["b", "c"], 40) == ["b"]  # a is not a candidate
    assert kept_workers([10, 30, 30, 5], held_by, ["a", "b", "c"], 1) == ["a", "b", "c"]
    assert kept_workers([10, 30, 30, 5], held_by, ["a", "b", "c"], 1000) == ["a"]  # never fewer than one
    assert kept_workers([50], [None], ["b", "a"], 1) == ["a", "b"]  # a worker per block is not required


def test_default_min_rows_follows_the_width_and_bad_values_are_refused():
    assert default_min_rows(28) == MIN_CELLS_PER_WORKER // 28
    assert default_min_rows(10 * MIN_CELLS_PER_WORKER) == 1
    assert default_min_rows(28, 500) == 500
    for bad in (0, -3, 2.5, "many"):
        with pytest.raises(ValueError, match="min_rows_per_worker must be a positive integer or None"):
            default_min_rows(28, bad)
    with pytest.raises(ValueError, match="min_rows_per_worker"):
        cluster.train(None, PARAMS, X, y, min_rows_per_worker=0)


@pytest.mark.parametrize("mode", ["data", "feature"])
def test_small_data_uses_one_worker_and_equals_the_local_model(client, mode):
    bst = cluster.train(client, PARAMS, *dask_xy(), num_boost_round=5, distributed_mode=mode)
    assert list(bst.rows_per_worker.values()) == [6000]
    assert sum(bst.traffic_bytes.values()) == 0  # no shard to talk to
    np.testing.assert_allclose(bst.predict(X), train(PARAMS, Dataset(X, y), 5).predict(X), rtol=1e-6, atol=1e-6)


def test_an_explicit_minimum_gives_the_expected_worker_count(client):
    for min_rows, count in ((3000, 2), (3001, 1)):
        bst = cluster.train(client, PARAMS, *dask_xy(1500), num_boost_round=3, min_rows_per_worker=min_rows)
        assert len(bst.rows_per_worker) == count and sum(bst.rows_per_worker.values()) == 6000


def test_estimators_take_min_rows_per_worker(client):
    reg = cluster.DaskGBDTRegressor(client=client, n_estimators=3, min_rows_per_worker=1)
    assert reg.get_params()["min_rows_per_worker"] == 1
    reg.fit(*dask_xy())
    assert len(reg.rows_per_worker_) == 2
    clf = cluster.DaskGBDTClassifier(client=client, n_estimators=3).fit(*dask_xy())
    assert clf.get_params()["min_rows_per_worker"] is None and len(clf.rows_per_worker_) == 1
