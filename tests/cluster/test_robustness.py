"""On three workers: the same model as one worker, fits submitted concurrently, a paused worker,
and distributed early stopping equal to the local one."""
from concurrent.futures import ThreadPoolExecutor

import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster

import cluster
from cluster.local import worker_info
from bindings import Dataset, train

rng = np.random.default_rng(2)
X = rng.standard_normal((5000, 5))
X[rng.random(X.shape) < 0.05] = np.nan
signal = np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 2])
y = (signal + 0.5 * rng.standard_normal(5000) > 0).astype(float)
X_valid = rng.standard_normal((1500, 5))
y_valid = (X_valid[:, 0] + X_valid[:, 1] * X_valid[:, 2] + 0.5 * rng.standard_normal(1500) > 0).astype(float)


@pytest.fixture(scope="module")
def client3():
    with LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        with Client(lc) as c:
            yield c


def dask_xy(chunks):
    return da.from_array(X, chunks=(chunks, 5)), da.from_array(y, chunks=(chunks,))


def test_three_workers_give_the_one_worker_model(client3):
    params = {"objective": "binary:logistic", "max_depth": 4}
    three = cluster.train(client3, params, *dask_xy((1000, 1700, 2300)), num_boost_round=5, min_rows_per_worker=1)
    one = cluster.train(client3, params, *dask_xy((5000,)), num_boost_round=5, min_rows_per_worker=1)
    assert len(three.rows_per_worker) == 3 and len(one.rows_per_worker) == 1
    assert [t.n_nodes for t in three.trees] == [t.n_nodes for t in one.trees]
    np.testing.assert_allclose(three.predict(X), one.predict(X), rtol=1e-6, atol=1e-6)


def test_concurrent_fits_all_finish_with_their_own_model(client3):
    """Three fits from threads on one client (as a hyper-parameter search does); none waits on
    another in a cycle, and each equals its single-machine twin."""
    depths = [2, 3, 4]

    def fit(depth):
        return cluster.train(client3, {"objective": "binary:logistic", "max_depth": depth},
                             *dask_xy(1250), num_boost_round=6, stall_timeout=60, min_rows_per_worker=1)

    with ThreadPoolExecutor(len(depths)) as pool:
        boosters = list(pool.map(fit, depths))
    for depth, bst in zip(depths, boosters):
        local = train({"objective": "binary:logistic", "max_depth": depth}, Dataset(X, y), 6)
        np.testing.assert_allclose(bst.predict(X), local.predict(X), rtol=1e-6, atol=1e-6)


def test_a_paused_worker_gets_no_rows(client3):
    paused = sorted(worker_info(client3))[1]

    def set_paused(dask_worker, on):
        from distributed.core import Status

        dask_worker.memory_manager.memory_pause_fraction = False  # keep the memory monitor from resuming it
        dask_worker.status = Status.paused if on else Status.running

    client3.run(set_paused, on=True, workers=[paused])
    try:
        bst = cluster.train(client3, {"objective": "binary:logistic"}, *dask_xy(1000), num_boost_round=3,
                            min_rows_per_worker=1)
    finally:
        client3.run(set_paused, on=False, workers=[paused])
    assert paused not in bst.rows_per_worker and sum(bst.rows_per_worker.values()) == 5000
    local = train({"objective": "binary:logistic"}, Dataset(X, y), 3)
    np.testing.assert_allclose(bst.predict(X), local.predict(X), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["data", "feature"])
def test_early_stopping_matches_the_local_best_iteration(client3, mode):
    """The eval set is chunked unlike the training data and spread over the workers; its metrics
    are reduced from the workers' partial sums (auc from their scores)."""
    params = {"objective": "binary:logistic", "learning_rate": 0.6, "max_depth": 5,
              "eval_metric": ["auc", "logloss"]}
    bst = cluster.train(client3, params, *dask_xy(2500), num_boost_round=200, early_stopping_rounds=4,
                        evals=[(da.from_array(X_valid, chunks=(400, 5)), da.from_array(y_valid, chunks=400), "valid")],
                        distributed_mode=mode, min_rows_per_worker=1)
    history = {}
    local = train(params, Dataset(X, y), 200, evals=[(Dataset(X_valid, y_valid), "valid")], early_stopping_rounds=4,
                  evals_result=history)
    assert bst.best_iteration == local.best_iteration < 150
    for metric in ("auc", "logloss"):
        np.testing.assert_allclose(bst.evals_result["valid"][metric], history["valid"][metric], rtol=1e-9)
