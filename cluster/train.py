"""``cluster.train``: fit one model across the workers of a Dask cluster (data- or feature-parallel).

Rows stay on the workers: each worker gets one ``Shard`` actor holding its row blocks for the
whole fit; per tree level the shards' histograms are summed up a binary tree of shards and every
shard applies the same split to its own rows (see ``cluster.shard``). The client sends the blocks'
futures and the parameters, releases the blocks once the shards have binned them, and watches the
leader's progress until it returns the finished model.

Small data trains on fewer workers: a fit uses only as many as keep ``min_rows_per_worker`` rows each
(see ``cluster.placement``); the others get no shard, so a one-worker fit has no per-level network trip.

Never waiting forever: the client long-polls the leader (an answer as soon as the fit ends, else
every half second with its phase and the rounds finished). A worker that leaves the
cluster (or restarts, under a new address) is noticed from the scheduler at once; a fit that makes
no progress (no new phase or round) for ``max(stall_timeout, 10 x its slowest round so far)``
seconds is cancelled with an error naming the worker the leader is waiting for. Paused workers
get no data (they would not run the placement tasks); the rows go to the running ones. Only the
workers that hold a shard matter: losing another one does not disturb the fit.
"""
import logging
import time
import uuid

from distributed.client import FutureCancelledError
from distributed.comm import CommClosedError

from bindings.callbacks import EarlyStopping
from bindings.params import resolve_params
from cluster.categories import coded_categories, coded_input
from cluster.checkpoint import Checkpoint, forget, read_checkpoint
from cluster.local import resolve_client, worker_info
from cluster.io import ParquetColumn, ParquetSource
from cluster.placement import default_min_rows, place_blocks, place_columns, place_pieces
from cluster.queries import whole_queries
from cluster.shard import Shard

__all__ = ["train"]
logger = logging.getLogger(__name__)
MODES = ("data", "feature")
SPLIT_SEARCHES = ("shards", "leader")


class WorkerLost(RuntimeError):
    """A worker holding part of the fit left the cluster after ``rounds`` finished rounds."""

    def __init__(self, worker, rounds):
        super().__init__(f"worker {worker} left the cluster")
        self.worker, self.rounds = worker, rounds


def train(client, params, X, y, *, sample_weight=None, qid=None, num_boost_round=100, evals=(), obj=None,
          early_stopping_rounds=None, callbacks=None, distributed_mode="data", feature_names=None,
          checkpoint_dir=None, checkpoint_every=10, max_restarts=2, stall_timeout=120.0, min_rows_per_worker=None,
          split_search="shards"):
    """Train on a Dask cluster; returns a plain ``bindings.Booster``.

    Parameters
    ----------
    client : distributed.Client or None (current client, else an embedded LocalCluster).
    params : same parameters as ``bindings.train``; ``tree_method`` "hist" or "approx" (dense X: each
        shard bins its raw rows anew before each tree at edges from every shard's sampled hessians,
        ``cluster.sketch.HessianSketch``); "exact" raises ValueError, as in XGBoost.
    X : (n, F) dask array or dask DataFrame (numpy/pandas are split into blocks); a dask array of
        scipy.sparse blocks (or a scipy.sparse matrix, split into CSR row blocks) trains on the sparse
        path of ``bindings.sparse_input``, never densified, to the local fit's model;
    y, sample_weight : (n,) dask arrays/Series aligned with X's rows.
    qid : (n,) sorted query ids of learning to rank (dask or in-memory; ranking objectives need
        them): the row blocks are moved to query boundaries, so every query is whole on one worker
        (``cluster.queries``); weights are per row (the same on a query's rows for rank:*).
    evals : list of (X, y, name), (X, y, name, weight) or (X, y, name, weight, qid) evaluation sets
        (dask or in-memory collections, chunked independently of X; weight may be None): their rows
        are spread over the fit's workers, which add every tree to their margins; each round's metric
        is reduced from the workers' partial sums, and the leader takes one early-stopping decision
        for all.
    distributed_mode : "data" (each worker holds some rows; histograms are summed across workers)
        or "feature" (each worker holds every row of some features; the owner of a split's feature
        sends the rows' left/right masks to the others).
    checkpoint_dir, checkpoint_every : the model is checkpointed every ``checkpoint_every`` rounds
        (through the scheduler, and as JSON files in ``checkpoint_dir`` when given).
    max_restarts : when a worker is lost, a data-parallel fit restarts on the remaining workers from
        the last checkpoint (Dask recomputes the lost blocks) up to this many times; otherwise, or
        in feature-parallel mode, it raises RuntimeError naming the worker and the last finished round.
    stall_timeout : seconds without progress before the fit is cancelled (or 10 x the slowest round
        so far, when longer); RuntimeError names the worker the fit was waiting for.
    min_rows_per_worker : the fit uses only as many workers as keep at least this many rows each
        (at least one; those already holding the most rows); in feature mode the same number of
        workers. None: ``cluster.placement.MIN_CELLS_PER_WORKER // n_features``. The model is the
        same for any number of workers; ``rows_per_worker`` of the result lists those used.
    split_search : "shards" (default; LightGBM's reduce-scatter): each worker receives the other
        workers' histograms of its own slice of the features only, sums and scans them, and sends
        the leader its best split per node; feature-parallel workers scan their own features without
        any exchange. "leader": every histogram is summed up a tree of workers to the leader, which
        scans them all (what ``cluster`` did before; the same model bit for bit, see
        ``cluster.scatter``). The result's ``fit_profile`` has the leader's timings and the bytes
        each worker received.
    """
    if split_search not in SPLIT_SEARCHES:
        raise ValueError(f"split_search must be one of {SPLIT_SEARCHES}, got {split_search!r}")
    if distributed_mode not in MODES:
        raise ValueError(f"distributed_mode must be one of {MODES}, got {distributed_mode!r}")
    for entry in evals:
        if not (isinstance(entry, (tuple, list)) and len(entry) in (3, 4, 5)):
            raise TypeError("evals must be a list of (X, y, name), (X, y, name, weight) or (X, y, name, weight, qid) "
                            "tuples")
    p = resolve_params(params, objective=obj)
    if p.tree_method == "exact":
        raise ValueError("tree_method='exact' is not supported on Dask (as in XGBoost: its column blocks need every "
                         "row in one process); use tree_method='hist', or train locally")
    objective = p.loss.objective
    if objective.queries and qid is None:
        raise ValueError(f"objective {objective.name!r} needs the queries: pass qid= (sorted query ids, one per row)")
    if objective.queries and p.loss.ranking.unbiased:
        raise ValueError("lambdarank_unbiased is not supported by cluster.train (its position biases are sums over "
                         "every query, each round); train it locally")
    if distributed_mode == "data" and objective.whole_data:
        raise ValueError(f"objective {objective.name!r} needs every row on each worker (its gradients couple "
                         "the rows): use distributed_mode='feature'")
    if distributed_mode == "feature" and p.sampling.subsample < 1.0:
        raise ValueError("subsample < 1 is not supported with distributed_mode='feature' (a worker cannot "
                         "predict the rows left out without the other workers' features); use 'data'")
    if feature_names is None and hasattr(X, "columns"):  # a DataFrame's or read_parquet's columns
        feature_names = [str(c) for c in X.columns]
    X, y, sample_weight = _parquet_input(X, y, sample_weight, distributed_mode)
    evals = [_parquet_eval(e) if isinstance(e[0], ParquetSource) else e for e in evals]
    # category columns as codes over one list per column (unknown categories are computed: after the checks)
    X, categories = coded_categories(X)
    evals = [(coded_input(e[0], categories), *e[1:]) for e in evals]
    queries = None
    if qid is not None:
        if isinstance(X, ParquetSource):
            raise TypeError("qid with read_parquet's streamed X is not supported: pass X as a dask array")
        X, queries = whole_queries(X, qid)
    eval_queries = [None] * len(evals)
    for i, e in enumerate(evals):
        if len(e) > 4 and e[4] is not None:
            X_eval, eval_queries[i] = whole_queries(e[0], e[4])
            evals[i] = (X_eval, *e[1:])
    min_rows = default_min_rows(int(X.shape[1]) if len(X.shape) == 2 else 1, min_rows_per_worker)
    client = resolve_client(client)
    fit_id = f"gbdt-fit-{uuid.uuid4().hex}"
    checkpoint = Checkpoint(fit_id, checkpoint_every, checkpoint_dir)
    resume, restarts = None, 0
    with client.as_current():
        try:
            while True:
                try:
                    booster, history, traffic, profile, rows = _fit(
                        client, p, X, y, sample_weight, num_boost_round, evals, callbacks, early_stopping_rounds,
                        feature_names, distributed_mode, checkpoint, resume, stall_timeout, min_rows, categories,
                        (queries, eval_queries), split_search)
                    break
                except WorkerLost as lost:
                    done = lost.rounds
                    saved, edges = read_checkpoint(client, fit_id)
                    survivors = len(worker_info(client))
                    where = f"; last checkpoint at round {saved['rounds']}" if saved else "; no checkpoint yet"
                    if distributed_mode == "feature" or restarts >= max_restarts or survivors == 0:
                        raise RuntimeError(f"{lost} during round {done + 1}: training stopped after {done} "
                                           f"finished rounds{where}") from lost
                    restarts += 1
                    resume = None if saved is None else {"model": saved["model"], **(edges or {})}  # approx: none
                    logger.warning("%s during round %d; restarting on the %d remaining workers from round %d", lost,
                                   done + 1, survivors, saved["rounds"] if saved else 0)
        finally:
            forget(client, fit_id)
    booster.traffic_bytes = traffic
    booster.fit_profile = profile
    booster.evals_result = history
    booster.rows_per_worker = rows
    return booster


def _parquet_input(X, y, sample_weight, mode):
    """(X, y, sample_weight): a ``ParquetSource`` X with its own label and weight columns stays lazy for a
    data-parallel fit (streamed, see ``cluster.io``); feature-parallel fits read it as dask arrays."""
    if not isinstance(X, ParquetSource):
        if isinstance(y, ParquetColumn) or isinstance(sample_weight, ParquetColumn):
            raise TypeError("y or sample_weight is a column of read_parquet's files: pass read_parquet's X with it")
        return X, y, sample_weight
    if not (isinstance(y, ParquetColumn) and y.source is X and y.name == X.label):
        raise TypeError("with read_parquet's X, y must be its y (the label column of the same files)")
    if sample_weight is not None and not (isinstance(sample_weight, ParquetColumn) and sample_weight.source is X
                                          and sample_weight.name == X.weight):
        raise TypeError("with read_parquet's X, sample_weight must be its weight (or None)")
    if (sample_weight is None) != (X.weight is None):
        raise TypeError("read_parquet was given a weight column: pass its weight as sample_weight")
    if mode == "feature":
        return X.to_dask()
    return X, y, sample_weight


def _parquet_eval(entry):
    """An evaluation set (X, y, name[, weight]) of read_parquet's columns as dask arrays."""
    X, y, weight = entry[0].to_dask()
    return (X, y, entry[2]) + (() if weight is None else (weight,))


def _fit(client, p, X, y, sample_weight, num_boost_round, evals, callbacks, early_stopping_rounds, feature_names,
         mode, checkpoint, resume, stall_timeout, min_rows, categories, queries, split_search):
    """Place the data, start one shard per kept worker, run the fit on rank 0; the shards are released after.
    queries : (boundaries of the training queries or None, those of each evaluation set or None)."""
    if mode == "data" and isinstance(X, ParquetSource):
        placed, rows = place_pieces(client, X, min_rows=min_rows)
        owners = None
    elif mode == "data":
        placed, rows = place_blocks(client, X, y, sample_weight, min_rows=min_rows)
        owners = None
    else:
        placed, owners, rows = place_columns(client, X, y, sample_weight, min_rows=min_rows)
    if logger.isEnabledFor(logging.INFO):  # worker_info asks the scheduler
        logger.info("%s-parallel fit on %d of %d workers (min_rows_per_worker %d): rows per worker %s", mode,
                    len(placed), len(worker_info(client)), min_rows, rows)
    workers = list(placed)
    eval_placed = [place_blocks(client, e[0], e[1], e[3] if len(e) > 3 else None, workers=workers)[0] for e in evals]
    n_features = int(X.shape[1])
    for e in evals:
        if int(e[0].shape[1]) != n_features:
            raise ValueError(f"eval set {e[2]!r} has {e[0].shape[1]} features, X has {n_features}")
    callbacks = list(callbacks or [])
    if early_stopping_rounds is not None:
        callbacks.append(EarlyStopping(early_stopping_rounds))

    def start_shard(rank, fit=None):
        w = workers[rank]
        return client.submit(Shard, rank, placed[w], p.n_jobs, None if owners is None else owners[rank],
                             [ep.get(w, []) for ep in eval_placed], fit, *queries, workers=[w], actor=True,
                             allow_other_workers=False)

    # the actor futures keep the shards alive until this function returns; the leader's starts the
    # fit once the others exist (it gets them as actor handles)
    followers = [start_shard(rank) for rank in range(1, len(workers))]
    leader = start_shard(0, (followers, workers, p, int(num_boost_round), n_features, feature_names,
                             [e[2] for e in evals], callbacks, owners, checkpoint, resume, categories, split_search))
    inputs = [placed, eval_placed]  # the raw blocks, released once the shards have binned them
    del placed, eval_placed
    booster, history, traffic, profile = _watch(client, leader.result(), workers, int(num_boost_round),
                                                stall_timeout, inputs.clear, checkpoint.name)
    profile["workers"] = workers  # received_bytes are in this order
    return booster, history, traffic, profile, rows


def _missing(client, workers):
    present = worker_info(client)
    return [w for w in workers if w not in present]


def _mark_round(rounds):
    """No-op task whose key shows the fit's current round on the Dask dashboard."""
    return rounds


def _watch(client, leader, workers, num_rounds, stall_timeout, release, fit_name, poll_s=0.5, grace_s=10.0):
    """Poll the leader until the fit is done; raise WorkerLost when a shard's worker leaves the
    cluster and RuntimeError when the fit stalls (see the module docstring). ``release()`` is
    called once the shards have binned their blocks. When a poll finds at least a tenth of the
    rounds more finished than last logged, logs them and shows them on the dashboard as a task
    (so a fit shorter than a poll logs none)."""
    last_key, last_change, logged = None, time.monotonic(), 0
    markers = []  # released when the fit ends
    state = {"phase": "starting", "rounds": 0, "slowest_round_s": 0.0, "waiting_on": workers[0], "result": None}
    while True:
        try:
            state = leader.progress(poll_s).result(timeout=poll_s + 2.0)
        except TimeoutError:  # the leader's worker does not answer: it is the one to name if this lasts
            state = dict(state, waiting_on=workers[0])
        except Exception as exc:
            deadline = time.monotonic() + grace_s
            while isinstance(exc, (FutureCancelledError, CommClosedError, OSError, RuntimeError)) \
                    and time.monotonic() < deadline:
                missing = _missing(client, workers)
                if missing:
                    raise WorkerLost(missing[0], state["rounds"]) from exc
                time.sleep(poll_s)
            raise
        if state["result"] is not None:
            return state["result"]
        now = time.monotonic()
        key = (state["phase"], state["rounds"])
        if key == last_key:  # no progress: a worker may be gone (progress means every shard answered)
            missing = _missing(client, workers)
            if missing:
                leader.cancel()
                raise WorkerLost(missing[0], state["rounds"])
            if now - last_change > max(stall_timeout, 10 * state["slowest_round_s"]):
                leader.cancel()
                raise RuntimeError(f"no progress for {now - last_change:.0f} s during round {key[1] + 1} ({key[0]}): "
                                   f"waiting for worker {state['waiting_on'] or workers[0]}; training stopped after "
                                   f"{key[1]} finished rounds")
            continue
        if state["phase"] in ("boosting", "done"):
            release()
        if key[1] >= logged + max(1, num_rounds // 10):  # a task per round cost ~8% of a small fit
            logged = key[1]
            logger.info("round %d/%d", key[1], num_rounds)
            markers.append(client.submit(_mark_round, key[1], key=f"gbdt-round-{key[1]}-of-{num_rounds}-{fit_name}",
                                         pure=False))
        last_key, last_change = key, now
