"""``cluster.train``: fit one model across the workers of a Dask cluster (data- or feature-parallel).

Rows stay on the workers: each worker gets one ``Shard`` actor holding its row blocks for the
whole fit; per tree level the shards' histograms are summed up a binary tree of shards and every
shard applies the same split to its own rows (see ``cluster.shard``). The client sends the blocks'
futures and the parameters, and receives the finished model.
"""
import logging
import time
import uuid

import numpy as np
from distributed.client import FutureCancelledError
from distributed.comm import CommClosedError

from bindings.booster import Booster
from bindings.callbacks import EarlyStopping
from bindings.dataset import as_feature_matrix
from bindings.params import resolve_params
from bindings.train import DEFAULT_METRIC, check_label_domain
from cluster.checkpoint import Checkpoint, forget, read_progress
from cluster.local import resolve_client
from cluster.placement import place_blocks, place_columns
from cluster.shard import Shard

__all__ = ["train"]
logger = logging.getLogger(__name__)
MODES = ("data", "feature")


def _check_summaries(summaries, p):
    if not all(s["finite"] for s in summaries):
        raise ValueError("y or sample_weight contains NaN or infinite values; remove those rows")
    check_label_domain(p["objective"], p["num_class"], min(s["min"] for s in summaries),
                       max(s["max"] for s in summaries), all(s["integral"] for s in summaries), "y")


class WorkerLost(RuntimeError):
    """A worker holding part of the fit left the cluster."""

    def __init__(self, worker):
        super().__init__(f"worker {worker} left the cluster")
        self.worker = worker


def train(client, params, X, y, *, sample_weight=None, num_boost_round=100, evals=(), obj=None,
          early_stopping_rounds=None, callbacks=None, distributed_mode="data", feature_names=None,
          checkpoint_dir=None, checkpoint_every=10, max_restarts=2):
    """Train on a Dask cluster; returns a plain ``bindings.Booster``.

    Parameters
    ----------
    client : distributed.Client or None (current client, else an embedded LocalCluster).
    params : same parameters as ``bindings.train``.
    X : (n, F) dask array or dask DataFrame (numpy/pandas are split into blocks);
    y, sample_weight : (n,) dask arrays/Series aligned with X's rows.
    evals : list of (X, y, name) evaluation sets, small enough to gather (computed on the leader).
    distributed_mode : "data" (each worker holds some rows; histograms are summed across workers)
        or "feature" (each worker holds every row of some features; the owner of a split's feature
        sends the rows' left/right masks to the others).
    checkpoint_dir, checkpoint_every : the model is checkpointed every ``checkpoint_every`` rounds
        (through the scheduler, and as JSON files in ``checkpoint_dir`` when given).
    max_restarts : when a worker is lost, a data-parallel fit restarts on the remaining workers from
        the last checkpoint (Dask recomputes the lost blocks) up to this many times; otherwise, or
        in feature-parallel mode, it raises RuntimeError naming the worker and the last finished round.
    """
    if distributed_mode not in MODES:
        raise ValueError(f"distributed_mode must be one of {MODES}, got {distributed_mode!r}")
    p = resolve_params(dict(params or {}, **({"objective": obj} if obj is not None else {})))
    if distributed_mode == "feature" and p["subsample"] < 1.0:
        raise ValueError("subsample < 1 is not supported with distributed_mode='feature' (a worker cannot "
                         "predict the rows left out without the other workers' features); use 'data'")
    client = resolve_client(client)
    if feature_names is None and hasattr(X, "columns"):
        feature_names = [str(c) for c in X.columns]
    fit_id = f"gbdt-fit-{uuid.uuid4().hex}"
    checkpoint = Checkpoint(fit_id, checkpoint_every, checkpoint_dir)
    resume, restarts = None, 0
    with client.as_current():
        try:
            while True:
                try:
                    model, history, traffic, rows = _fit(
                        client, p, X, y, sample_weight, num_boost_round, evals, callbacks, early_stopping_rounds,
                        feature_names, distributed_mode, checkpoint, resume)
                    break
                except WorkerLost as lost:
                    done, saved, edges = read_progress(client, fit_id)
                    survivors = len(client.scheduler_info()["workers"])
                    where = f"; last checkpoint at round {saved['rounds']}" if saved else "; no checkpoint yet"
                    if distributed_mode == "feature" or restarts >= max_restarts or survivors == 0:
                        raise RuntimeError(f"{lost} during round {done + 1}: training stopped after {done} "
                                           f"finished rounds{where}") from lost
                    restarts += 1
                    resume = None if saved is None else {"model": saved["model"], **edges}
                    logger.warning("%s during round %d; restarting on %d workers from round %d", lost, done + 1,
                                   survivors, saved["rounds"] if saved else 0)
        finally:
            forget(client, fit_id)
    booster = Booster.from_dict(model)
    booster.traffic_bytes = traffic
    booster.evals_result = history
    booster.rows_per_worker = rows
    return booster


def _fit(client, p, X, y, sample_weight, num_boost_round, evals, callbacks, early_stopping_rounds, feature_names,
         mode, checkpoint, resume):
    """Place the data, start one shard per worker, run the fit on rank 0; the shards are released after."""
    if mode == "data":
        placed, rows = place_blocks(client, X, y, sample_weight)
        owners = None
    else:
        placed, owners = place_columns(client, X, y, sample_weight)
        rows = {w: int(X.shape[0]) for w in placed}
    logger.info("rows per worker: %s", rows)
    n_features = int(X.shape[1])
    threads = client.nthreads()
    # the actor futures keep the shards alive until this function returns
    shard_futures = [client.submit(Shard, rank, blocks, min(threads[w], p["n_jobs"]),
                                   None if owners is None else owners[rank], workers=[w], actor=True,
                                   allow_other_workers=False) for rank, (w, blocks) in enumerate(placed.items())]
    shards = [f.result() for f in shard_futures]
    for shard in shards:
        shard.set_peers(shards, list(placed)).result()
    _check_summaries([s.summary().result() for s in shards], p)
    eval_data = [(as_feature_matrix(np.asarray(Xe), "evals X")[0], np.asarray(ye, dtype=np.float64).reshape(-1),
                  name) for Xe, ye, name in evals]
    metrics = p["eval_metric"] or ([] if callable(p["objective"]) else [DEFAULT_METRIC[p["objective"]]])
    callbacks = list(callbacks or [])
    if early_stopping_rounds is not None:
        callbacks.append(EarlyStopping(early_stopping_rounds))
    fit = shards[0].fit(p, int(num_boost_round), n_features, feature_names, eval_data, metrics, callbacks, owners,
                        checkpoint, resume)
    model, history, traffic = _watch(client, fit, list(placed))
    return model, history, traffic, rows


def _watch(client, fit, workers, poll_s=0.5, grace_s=10.0):
    """Wait for the leader's ``fit`` while checking that every shard's worker is still there.

    A worker that leaves raises WorkerLost at once; a communication error is re-raised only if no
    worker is missing after a grace period (the scheduler needs a moment to notice a crash).
    """
    while True:
        try:
            return fit.result(timeout=poll_s)
        except TimeoutError:
            pass
        except (FutureCancelledError, CommClosedError, OSError) as exc:
            deadline = time.monotonic() + grace_s
            while time.monotonic() < deadline:
                missing = [w for w in workers if w not in client.scheduler_info()["workers"]]
                if missing:
                    raise WorkerLost(missing[0]) from exc
                time.sleep(poll_s)
            raise
        missing = [w for w in workers if w not in client.scheduler_info()["workers"]]
        if missing:
            # the leader notices within a poll and returns; its worker's actor thread must be free
            # before a restart places new shards there
            try:
                fit.result(timeout=grace_s)
            except Exception:
                pass
            raise WorkerLost(missing[0])
