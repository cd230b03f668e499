"""A worker killed mid-fit (by a signal, or by its nanny when it outgrows its ``memory_limit``): the
data-parallel fit resumes on the survivors from the last checkpoint; the feature-parallel fit stops
with an error naming the worker and the round. A worker that
freezes stops the fit with an error naming it. A worker the fit left out (small data) may leave
unnoticed. Nothing hangs. Checkpoints hold the model's JSON, each tree encoded once, and the
scheduler's copy restores the model, each round pickled once."""
import json
import os
import signal
import threading
import time

import functools
import logging

import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster, get_worker

import cluster
from bindings import Booster, Dataset, train
from cluster.checkpoint import Checkpoint, booster_from_state

rng = np.random.default_rng(1)
X = rng.standard_normal((20000, 5))
y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(float)


@pytest.fixture
def fresh_client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        with Client(lc) as c:
            yield c


def kill_a_worker_when(client, condition, sig=signal.SIGKILL):
    """Send ``sig`` to the highest-addressed worker's process once ``condition()`` holds (in a thread)."""
    pids = client.run(os.getpid)
    victim = sorted(pids)[-1]

    def run():
        deadline = time.monotonic() + 60
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(pids[victim], sig)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return victim, pids[victim], thread


def rounds_written(directory, at_least):
    return lambda: any(int(f.split("-")[1].split(".")[0]) >= at_least for f in os.listdir(directory)
                       if f.endswith(".json")) if os.path.isdir(directory) else False


def test_data_parallel_fit_resumes_after_a_worker_dies(fresh_client, tmp_path):
    directory = str(tmp_path / "ckpt")
    victim, _, thread = kill_a_worker_when(fresh_client, rounds_written(directory, 4))
    bst = cluster.train(fresh_client, {"objective": "binary:logistic", "max_depth": 4}, da.from_array(X, chunks=5000),
                        da.from_array(y, chunks=5000), num_boost_round=60, checkpoint_dir=directory,
                        checkpoint_every=2, min_rows_per_worker=1)
    thread.join()
    assert bst.num_boosted_rounds() == 60
    assert victim not in bst.rows_per_worker  # the rows were re-placed on the workers that remain
    assert sum(bst.rows_per_worker.values()) == 20000
    # the checkpoints on disk are valid models
    first = Booster.load_model(os.path.join(directory, "model-2.json"))
    np.testing.assert_allclose(first.predict(X[:50]), bst.predict(X[:50], iteration_range=(0, 2)), atol=1e-12)
    p = bst.predict(X)
    assert ((p > 0.5) == y).mean() > 0.85


def test_approx_fit_resumes_to_the_local_approx_model(fresh_client, tmp_path):
    """tree_method='approx' keeps no edges for the fit: the restarted fit sketches anew (the same rows, by
    global index), replays the checkpoint's trees on its raw rows and ends with the local approx model."""
    directory = str(tmp_path / "ckpt")
    params = {"objective": "binary:logistic", "max_depth": 3, "max_bin": 32, "tree_method": "approx"}
    victim, _, thread = kill_a_worker_when(fresh_client, rounds_written(directory, 4))
    bst = cluster.train(fresh_client, params, da.from_array(X, chunks=5000), da.from_array(y, chunks=5000),
                        num_boost_round=40, checkpoint_dir=directory, checkpoint_every=2, min_rows_per_worker=1)
    thread.join()
    assert victim not in bst.rows_per_worker
    np.testing.assert_allclose(bst.predict(X), train(params, Dataset(X, y), 40).predict(X), rtol=1e-9, atol=1e-12)


_objective_calls, _hoard = [], []


def _squared_error_then_out_of_memory(victim, margin, label):
    """Squared error's gradients; on worker ``victim``, the 4th call in the process first fills 1.5 GB
    (a memory leak of the user's objective, say) and keeps it."""
    _objective_calls.append(1)
    if len(_objective_calls) == 4 and get_worker().address == victim:
        _hoard.append(np.ones(1_500_000_000 // 8))
    return margin - label, np.ones_like(margin)


def test_a_worker_killed_for_its_memory_limit(tmp_path, caplog):
    """The nanny terminates a worker whose memory passes 95% of its ``memory_limit``: the data-parallel
    fit resumes on the other workers (the nanny's fresh worker among them) and gives the local model.
    (A feature-parallel fit stops with an error naming the worker, as for any lost worker: below.)"""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      memory_limit="1.2GB") as lc, Client(lc) as client:
        victim = sorted(client.scheduler_info()["workers"])[-1]
        params = {"objective": functools.partial(_squared_error_then_out_of_memory, victim), "max_depth": 3,
                  "base_score": 0.5, "n_jobs": 1}
        with caplog.at_level(logging.WARNING, logger="cluster.train"):
            bst = cluster.train(client, params, da.from_array(X, chunks=5000), da.from_array(y, chunks=5000),
                                num_boost_round=8, checkpoint_dir=str(tmp_path), checkpoint_every=1,
                                min_rows_per_worker=1)
    assert f"worker {victim} left the cluster during round" in caplog.text and "restarting" in caplog.text
    assert victim not in bst.rows_per_worker and bst.num_boosted_rounds() == 8
    local = train({**params, "objective": lambda m, t: (m - t, np.ones_like(m))}, Dataset(X, y), 8)
    np.testing.assert_allclose(bst.predict(X), local.predict(X), rtol=1e-6, atol=1e-6)


def test_feature_parallel_fit_names_the_lost_worker(fresh_client, tmp_path):
    directory = str(tmp_path / "ckpt")
    victim, _, thread = kill_a_worker_when(fresh_client, rounds_written(directory, 2))
    with pytest.raises(RuntimeError, match=rf"worker {victim} left the cluster during round \d+: training stopped"):
        cluster.train(fresh_client, {"objective": "binary:logistic"}, da.from_array(X, chunks=5000),
                      da.from_array(y, chunks=5000), num_boost_round=400, checkpoint_dir=directory,
                      checkpoint_every=1, distributed_mode="feature", min_rows_per_worker=1)
    thread.join()


def test_a_frozen_worker_stops_the_fit_naming_it(fresh_client, tmp_path):
    """SIGSTOP keeps the worker's connections open, so the scheduler does not notice for minutes;
    the fit's own progress deadline does."""
    directory = str(tmp_path / "ckpt")
    victim, pid, thread = kill_a_worker_when(fresh_client, rounds_written(directory, 2), sig=signal.SIGSTOP)
    start = time.monotonic()
    try:
        with pytest.raises(RuntimeError, match=rf"no progress for \d+ s during round \d+ \(boosting\): waiting for "
                                               rf"worker {victim}"):
            cluster.train(fresh_client, {"objective": "binary:logistic"}, da.from_array(X, chunks=5000),
                          da.from_array(y, chunks=5000), num_boost_round=10000, checkpoint_dir=directory,
                          checkpoint_every=1, stall_timeout=3, min_rows_per_worker=1)
    finally:
        thread.join()
        os.kill(pid, signal.SIGCONT)
    assert time.monotonic() - start < 60


def test_losing_a_worker_without_a_shard_does_not_disturb_the_fit(fresh_client, tmp_path, caplog):
    """Small data trains on the worker holding its blocks; the other one may leave."""
    directory = str(tmp_path / "ckpt")
    holder = sorted(fresh_client.run(os.getpid))[0]  # kill_a_worker_when kills the other one
    dX, dy = fresh_client.persist([da.from_array(X, chunks=5000), da.from_array(y, chunks=5000)], workers=[holder])
    killed_at = []

    def two_rounds_written():
        if rounds_written(directory, 2)():
            killed_at.append(time.time())
        return bool(killed_at)

    _, _, thread = kill_a_worker_when(fresh_client, two_rounds_written)
    bst = cluster.train(fresh_client, {"objective": "binary:logistic", "max_depth": 4}, dX, dy, num_boost_round=100,
                        checkpoint_dir=directory, checkpoint_every=1)
    thread.join()
    assert killed_at[0] < os.path.getmtime(os.path.join(directory, "model-100.json"))  # while the fit ran
    assert bst.rows_per_worker == {holder: 20000} and bst.num_boosted_rounds() == 100
    assert "restarting" not in caplog.text


def test_checkpoint_json_encodes_each_tree_once_and_equals_the_model():
    """The incremental checkpoint text is the model's JSON (as ``to_dict``), also after more rounds."""
    small = X[:500, :3]
    checkpoint = Checkpoint("unit", every=1)
    for rounds in (3, 7):
        booster = train({"objective": "binary:logistic", "max_depth": 3}, Dataset(small, y[:500]), rounds)
        assert json.loads(checkpoint.model_json(booster)) == booster.to_dict()
    assert len(checkpoint._tree_texts) == 7


def test_checkpoint_state_pickles_each_round_once_and_restores_the_model():
    """The scheduler's copy of a multi-class model restores it exactly, also after more rounds."""
    small = X[:500, :3]
    label = np.digitize(small[:, 0], [-0.5, 0.5]).astype(float)
    checkpoint = Checkpoint("unit", every=1)
    for rounds in (3, 7):
        booster = train({"objective": "multi:softprob", "num_class": 3, "max_depth": 3}, Dataset(small, label), rounds)
        restored = booster_from_state(checkpoint.model_state(booster))
        assert restored.to_dict() == booster.to_dict()
        np.testing.assert_array_equal(restored.predict(small), booster.predict(small))
    assert len(checkpoint._round_pickles) == 7
