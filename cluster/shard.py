"""Shard: the Dask actor that holds one worker's part of the data for a whole fit.

- data-parallel: a shard holds some rows with every feature; its histograms are partial sums;
- feature-parallel: a shard holds every row with some features (``owned``); its histograms are
  complete for those features, and it routes rows for splits on them.

A shard receives its blocks once, bins them block by block with the global edges (dropping each
raw block once binned), and from then on answers the leader: gradients, per-level histograms, row
partitions, margin updates, and partial metrics of its share of the evaluation rows. With
``tree_method='approx'`` it keeps the raw rows instead and bins them before each tree at the edges
the leader cuts from every shard's sampled hessians (``cluster.sketch.HessianSketch``, one more
round trip per tree).
Rank 0 is also the leader: ``start_fit`` runs the boosting loop of ``bindings.boosting`` in a thread
of its own, with ``ShardedRows`` standing in for in-memory rows, so only the finished model goes
to the client, which long-polls ``progress``. A worker runs all its actors' calls on one thread;
keeping the long-running leader loop off that thread lets several fits share the workers.
Calls only go from a shard to shards of higher rank, and ranks follow the sorted worker
addresses in every fit, so concurrent fits wait on each other without ever waiting in a cycle.

Transport: the leader's first call to each shard (``join``) is a Dask actor call: each shard of
rank > 0 opens a ``cluster.channel.Server`` on its worker's host, and the leader links to every
shard (with the leader's search, every other shard also to its tree children); with the shards'
search in data-parallel mode every shard, the leader included, also opens an exchange server and
links to every other shard's. Every later call (set-up: summaries, sketches,
binning; then boosting) goes over these TCP sockets (TLS with the cluster's certificates on a TLS
cluster, see ``cluster.channel``), ~0.03 ms per round trip instead of
~2 ms for an actor call between workers, arrays as out-of-band buffers. Calls over a link are served by a thread of
the callee's Server, not the worker's actor thread. The leader closes its links when the fit ends
or fails; a shard closes its own links (exchange links included) once every control link to it has
closed, so a fit leaves no threads or sockets behind. A closed link (the peer's worker died) raises
at once, naming the worker; a silent one is watched by ``Shard.wait`` as before.

One round trip per tree level: commands that return nothing (gradients, sampling, a new tree,
splits, finished trees and rounds) are queued on the leader and travel with the next request.
- The shards' search (``split_search="shards"``, the default; ``cluster.scatter``): the leader
  sends every shard the level's request; each runs the commands, builds its histograms, sends
  every other shard that shard's slice of them over the exchange links (data-parallel; a
  feature-parallel shard's histograms are complete already), sums its own slice, subtracts and
  scans it, and replies with its best split per node. The root takes two round trips.
- The leader's search (``"leader"``): the request travels down a binary tree of shards (rank r
  forwards to ranks 2r+1 and 2r+2); every shard builds its histograms and merges its children's on
  the way back up: partial sums are added (data-parallel), disjoint feature slices are placed side
  by side (feature-parallel), and the leader's grower scans them all.
In feature-parallel mode the leader also asks the owner of each split feature for the rows'
left/right mask and sends the masks to everyone (a second round trip per level).
"""
import asyncio
import contextvars
import functools
import threading
import time

import numpy as np
from distributed import get_client, get_worker
from distributed.comm.addressing import get_address_host

from bindings.booster import Booster
from bindings.callbacks import TrainingCallback
from bindings.categorical import category_edges
from bindings.boosting import LocalRows, RebinnedRows, boost
from bindings.metrics import combine_partials, partial_metric
from bindings.sparse_input import canonical_csr, is_sparse, sparse_bin_edges, sparse_bin_matrix, sparse_enough
from cluster.channel import Link, Server, tls_contexts
from cluster.local import worker_info
from cluster.queries import local_queries
from cluster.scatter import (ScatteredGrower, SliceSearch, best_splits, bin_indices, feature_slices, tree_children,
                             tree_sum, uniform_column)
from cluster.sketch import HessianSketch, RowSample, merge_samples, sampled_values, sampling_rate
from gbdt.binning import bin_matrix, compute_bin_edges
from gbdt.grower import TreeGrower
from gbdt.histogram import CompactHistogramBuilder
from gbdt.leaf_quantile import weighted_quantile
from gbdt.quantize import dequantize_histograms, scales_from_extremes
from gbdt.threads import using_threads
from gbdt.tree import Forest


def merge_histograms(parts, n_nodes, shape):
    """Merge (features, hist) parts: hist (N, len(features)) + ``shape`` (float (B, 2) or packed int64
    (B,)); the same features add up."""
    if all(np.array_equal(f, parts[0][0]) for f, _ in parts[1:]):  # data-parallel: add in place
        features, out = parts[0]
        for _, h in parts[1:]:
            out += h
        return features, out
    features = np.unique(np.concatenate([f for f, _ in parts])).astype(np.int32)
    out = np.zeros((n_nodes, features.shape[0]) + shape, dtype=parts[0][1].dtype)
    for f, h in parts:
        out[:, np.searchsorted(features, f)] += h
    return features, out


class Shard:
    """One worker's data. Construct through ``client.submit(Shard, ..., actor=True)``.

    Parameters
    ----------
    rank : position of this shard (0 is the leader); blocks : list of (X block, y block (n_i,),
    weight block (n_i,) or None, global index of the block's first row); n_jobs : Numba threads,
    at most the worker's threads;
    owned : None (data-parallel: blocks hold every feature) or the sorted global indices of the
    features in the X blocks (feature-parallel: blocks hold every row);
    eval_blocks : per evaluation set, this shard's share of its rows as blocks like ``blocks``
    (every feature; possibly none); fit : the leader's (the other shards, every shard's worker
    address, ``fit``'s arguments): the fit starts at once (``start_fit``), saving the client a
    round trip; None on the others. queries, eval_queries : the global boundaries (G + 1,) of the
    training queries and of each evaluation set's (learning to rank; None without): blocks hold
    whole queries (``cluster.queries``).
    """

    def __init__(self, rank, blocks, n_jobs, owned=None, eval_blocks=(), fit=None, queries=None, eval_queries=()):
        self.rank = rank
        self.offsets = [b[3] for b in blocks]
        self.n_threads = min(n_jobs, get_worker().state.nthreads)  # no oversubscription of the worker's cores
        # Parquet row groups (``cluster.io.ParquetPiece``) stay unread: read once for the labels and the
        # sketch's sample, once more to bin them (``prepare``), one at a time
        # CSR blocks (``cluster.placement.materialized``) stay sparse
        self.blocks = [b[0] if hasattr(b[0], "features") or is_sparse(b[0]) else np.asarray(b[0], dtype=np.float64)
                       for b in blocks]
        self.label, self.weight = _labels_and_weights(blocks)
        # (local boundaries, global query numbers) of the queries in these blocks, and the global count
        self.queries = None if queries is None else \
            local_queries(queries, self.offsets, [b.shape[0] for b in self.blocks]) + (queries.shape[0] - 1,)
        self.eval_queries = [None if q is None else local_queries(q, [b[3] for b in eb],
                                                                  [np.shape(b[0])[0] for b in eb])[0]
                             for q, eb in zip(eval_queries or [None] * len(eval_blocks), eval_blocks)]
        self.owned = None if owned is None else np.asarray(owned, dtype=np.int32)
        self.eval_blocks = [list(b) for b in eval_blocks]
        self.evals = []
        self.peers = []
        self.links = {}
        self.peer_links = {}  # reduce-scatter: links to every other shard, for the slices of histograms
        self.scatter = False  # whether the shards search the splits (``cluster.scatter``)
        self.search = None  # this shard's ``SliceSearch`` (reduce-scatter)
        self.inbox, self.inbox_ready = {}, threading.Condition()  # {level: {rank: histograms of this slice}}
        self.links_closed = False
        self._columns = None  # reduce-scatter: (tree features, each shard's columns of them)
        self.rows = None
        self.sample = None  # RowSample of the bin-edge sketch, until binning (approx: kept for its hessians)
        self.partition = None
        self.queue = []
        # "sketch": tree_method='approx''s per-tree sketch (sampled hessians to the leader, edges back)
        self.received_bytes = {"histograms": 0, "masks": 0, "residuals": 0, "sketch": 0}
        # the leader's: histogram batches (tree levels) built; seconds of wall time in ``boost`` and
        # waiting for other shards; CPU seconds of its thread in ``boost`` and in its own shard's
        # per-level work (``scatter_level``/``reduce_histograms``: histograms, sums, scans). CPU time,
        # unlike wall time, does not count what other processes take from a loaded machine. The set-up's
        # phases too: "sketch" (labels' summaries, the bin edges' sample and merge) and "binning", each
        # as (wall s, the leader thread's CPU s), its own shard's reads included (``set_up_phase``).
        self.profile = {"levels": 0, "boost_s": 0.0, "wait_s": 0.0, "boost_cpu_s": 0.0, "work_cpu_s": 0.0,
                        "sketch": (0.0, 0.0), "binning": (0.0, 0.0)}
        self.cancelled = False
        self.waiting_on = None
        self.phase, self.rounds_done, self.slowest_round_s, self._outcome = None, 0, 0.0, None  # see ``progress``
        self._waiter = None  # (event loop, asyncio.Event) of the waiting ``progress``
        if fit is not None:
            followers, addresses, *args = fit
            self.start_fit([None] + list(followers), addresses, *args)  # nobody calls the leader

    # ----- set-up ------------------------------------------------------------------------------
    def join(self, peers, addresses, scatter=False):
        """Take the actor handles of every shard and their workers' addresses, in rank order (this
        one included; the leader's handle may be None: nobody calls it), and whether the shards
        search the splits (``scatter``). Returns (control, exchange) servers, each ((host, port),
        token) or None: ranks > 0 serve the leader's link (and, when the leader searches, their tree
        parent's); with ``scatter`` in data-parallel mode every shard also serves the other shards'
        exchange links, which bring it their histograms of its slice of the features."""
        self.peers, self.addresses, self.scatter = peers, addresses, scatter
        worker = get_worker()
        server_tls, self.link_tls = tls_contexts(worker.security, worker.address)  # the cluster's TLS, if any
        host = get_address_host(worker.address)
        control = None
        if self.rank > 0:
            callers = 1 if scatter else len({0, (self.rank - 1) // 2})
            server = Server(self, host, callers, on_close=self.close_links, name=f"gbdt-link-{self.rank}",
                            ssl_context=server_tls)
            control = server.address, server.token
        exchange = None
        if scatter and self.owned is None and len(peers) > 1:
            # closed by its callers, each once the leader has closed the link to it (``close_links``)
            server = Server(self, host, len(peers) - 1, name=f"gbdt-exchange-{self.rank}", ssl_context=server_tls)
            exchange = server.address, server.token
        return control, exchange

    def open_links(self, servers):
        """Link to the shards this one calls while boosting (those not linked yet): the leader to
        every shard, the others to their tree children (leader's search) or to every other shard's
        exchange server (reduce-scatter). servers : ``join``'s answers by rank."""
        if self.rank == 0:
            callees = range(1, len(self.peers))
        else:
            callees = [] if self.scatter else tree_children(self.rank, len(self.peers))
        self.links.update({r: Link(*servers[r][0], self.addresses[r], ssl_context=self.link_tls)
                           for r in callees if r not in self.links})
        self.peer_links.update({r: Link(*servers[r][1], self.addresses[r], ssl_context=self.link_tls)
                                for r in range(len(self.peers))
                                if r != self.rank and servers[r][1] is not None and r not in self.peer_links})

    def close_links(self):
        """Close this shard's links; their servers' threads end, and below them the next links."""
        links, self.links = list(self.links.values()) + list(self.peer_links.values()), {}
        self.peer_links = {}
        with self.inbox_ready:  # a shard waiting for slices stops
            self.links_closed = True
            self.inbox_ready.notify_all()
        for link in links:
            link.close()

    def call_shard(self, rank, method, *args):
        """Start ``method(*args)`` on shard ``rank`` (over its link once open, else as an actor call);
        returns a future for ``wait``."""
        link = self.links.get(rank)
        return link.call(method, *args) if link is not None else getattr(self.peers[rank], method)(*args)

    def wait(self, rank, future, poll_s=1.0):
        """Result of a call to shard ``rank``; raises at once if that shard's worker has left the
        cluster (an actor call to a dead worker may otherwise never return) or the fit was cancelled."""
        self.waiting_on = self.addresses[rank]
        start = time.perf_counter()
        while True:
            try:
                result = future.result(timeout=poll_s)
                self.waiting_on = None
                self.profile["wait_s"] += time.perf_counter() - start
                return result
            except TimeoutError:
                if self.cancelled:
                    raise RuntimeError("the fit was cancelled") from None
                if self.addresses[rank] not in worker_info(get_client()):
                    raise RuntimeError(f"worker {self.addresses[rank]} left the cluster") from None

    def _training_weight(self, loss):
        """(n,) weights this shard's gradients and label sums use (``Loss.training_weight``; empty: all ones)."""
        return loss.training_weight(self.label, np.empty(0) if self.weight is None else self.weight)

    def summary(self, p):
        """Row count, label sums (``label_sums`` with the training weights) and label checks of this
        shard; for objectives whose intercept is a label quantile, the labels and training weights
        (or None) themselves."""
        finite = bool(np.isfinite(self.label).all() and (self.weight is None or np.isfinite(self.weight).all()))
        weight = self._training_weight(p.loss)
        out = {"rows": self.label.shape[0], "label_sums": p.loss.label_sums(self.label, weight),
               "min": float(self.label.min()), "max": float(self.label.max()), "finite": finite,
               "integral": bool((self.label == np.round(self.label)).all()), **block_kinds(self.blocks)}
        if p.loss.leaf_alpha is not None:
            out["labels"] = (self.label, weight if weight.shape[0] else None)
        if self.queries is not None:  # XGBoost's query weights: the first row's, the same on each row
            starts = self.queries[0][:-1]
            query_weight = weight[starts] if weight.shape[0] else np.ones(starts.shape[0])
            out["queries"] = (starts.shape[0], float(query_weight.sum()),
                              bool(weight.shape[0] == 0 or np.array_equal(np.repeat(query_weight,
                                                                                    np.diff(self.queries[0])), weight)))
        return out

    def sketch_sample(self, rate, seed):
        """(global indices, weights or None) of this shard's sampled rows; ``sketch_columns`` gives their values."""
        self.sample = RowSample(self.blocks, self.offsets, self.weight, rate, seed)
        return self.sample.ids, self.sample.weight

    def sketch_columns(self, features=None):
        """The sampled rows' values of ``features`` (None: every column this shard holds), ``RowSample.columns``."""
        return self.sample.columns(self.blocks, features)

    def local_edges(self, max_bin, seed):
        """Feature-parallel: exact edges of the owned columns (this shard has every row)."""
        if is_sparse(self.blocks[0]):
            return sparse_bin_edges(_stacked(self.blocks), max_bin, self.weight, seed=seed)
        return compute_bin_edges(np.concatenate(self.blocks), max_bin, self.weight, seed=seed)

    def prepare(self, edges, n_edges, p, initial, weight_norm=None, sparse=None):
        """Bin with the global edges one block at a time, dropping each raw block once binned;
        set up margins and gradients of the training and evaluation rows (``weight_norm``: a
        ranking objective's number of queries / sum of query weights over every shard). CSR
        blocks (``sparse``: whether the fit's rows take the sparse path, decided over every
        shard) are binned together by ``bindings.sparse_input.sparse_bin_matrix``.
        ``tree_method='approx'`` (edges None): the rows and evaluation rows stay raw (dense float64),
        binned before each tree (``rebin``), and the sketch's sample is kept for the trees' hessians."""
        self.approx = edges is None
        # rows are sampled by their global index, so every placement samples the same rows; the ids are
        # made only if read (row sampling, quantised gradients): 8 bytes a row a fit without them saves
        row_ids = functools.partial(_global_ids, self.offsets, [b.shape[0] for b in self.blocks])
        with using_threads(self.n_threads):
            if self.approx:
                X_raw, X_binned = _raw_rows(self.blocks), None
            else:
                own_edges, own_n_edges = (edges, n_edges) if self.owned is None else \
                    (edges[self.owned], n_edges[self.owned])
                X_binned = _bin_blocks(self.blocks, own_edges, own_n_edges, p.max_bin, sparse)
            self.evals = []
            for blocks in self.eval_blocks:
                raw = [b[0] if is_sparse(b[0]) else np.asarray(b[0], dtype=np.float64) for b in blocks]
                # approx's trees have raw thresholds only: its evaluation rows are predicted raw
                X_eval = _raw_rows(raw) if self.approx else _bin_blocks(raw, edges, n_edges, p.max_bin)
                label, weight = _labels_and_weights(blocks)
                margin = np.empty((X_eval.shape[0], initial.shape[0]))
                margin[:] = initial
                self.evals.append((X_eval, label, weight, margin))
        self.blocks, self.eval_blocks = None, None
        if not self.approx:
            self.sample = None
        self.max_bin, self.objective, self.gain = p.max_bin, p.loss.objective, p.ndcg_gain
        weight = self._training_weight(p.loss)
        queries = None if self.queries is None or not self.objective.queries else p.loss.query_gradients(
            self.label, weight, self.queries[0], group_index=self.queries[1], n_groups=self.queries[2],
            weight_norm=weight_norm)
        # sparse bins' histograms travel in their compact layout when the shards search slices of them
        # (``cluster.scatter``, data-parallel); the leader's search merges them in the uniform layout.
        # Hist rows are routed by the row-major bins unless the histograms keep a column copy anyway: a
        # worker's memory then grows by the bins and the training state only (28 bytes a row less
        # at 28 features, for more CPU per tree: +2-21% of a 2M-row job, docs/benchmarks.md "Dask").
        # Approx rows keep their raw float64 values, so the copy is not what bounds their memory.
        if self.approx:
            self.rows = RebinnedRows(X_raw, self.label, weight, initial, p, self.n_threads, row_ids, queries=queries)
        else:
            self.rows = LocalRows(X_binned, self.label, weight, initial, p, self.n_threads, row_ids, queries=queries,
                                  uniform_histograms=not (self.scatter and self.owned is None), route_by_columns=False)
        builder = self.rows.builder
        self.hist_offsets = builder.bin_offsets if isinstance(builder, CompactHistogramBuilder) else \
            np.arange((X_raw if self.approx else X_binned).shape[1] + 1, dtype=np.int64) * p.max_bin  # (F + 1,)

    def _local(self, features):
        """(global features held here, their local column indices) among ``features``."""
        features = np.asarray(features, dtype=np.int32)
        if self.owned is None:
            return features, features
        held = features[np.isin(features, self.owned)]
        return held, np.searchsorted(self.owned, held).astype(np.int32)

    # ----- per round / per level -----------------------------------------------------------------
    def compute_gradients(self, iteration):
        with using_threads(self.n_threads):
            self.rows.compute_gradients(iteration)

    def start_round(self, subsample, iteration):
        self.rows.start_round(subsample, iteration)

    def start_tree(self, k, scale=None):
        self.k = k
        self.partition = None  # the last tree's row arrays go before the new ones are made
        self.partition = self.rows.partition(k, scale)

    def gradient_extremes(self, commands, k):
        """Run ``commands``, then (max |g|, max h) of output k over this shard's rows of the round:
        quantised gradients take their scales from the extremes over every shard, as a single
        machine does over all rows."""
        self.execute(commands)
        return self.rows.gradient_extremes(k)

    def sampled_hessians(self, commands, k):
        """``tree_method='approx'``: run ``commands``, then the (k_s,) float32 hessians of output k of this
        shard's sampled rows (``RowSample.positions``), for the leader's ``HessianSketch``; None on the
        feature-parallel shards other than the leader (the leader holds every row's)."""
        self.execute(commands)
        if self.owned is not None and self.rank > 0:
            return None
        return self.rows.gh[k, self.sample.positions, 1]

    def rebin(self, edges, n_edges):
        """``tree_method='approx'``: bin this shard's rows at the next tree's ``edges`` (F, max_bin - 1)
        and ``n_edges`` (F,) of every feature (its own columns', feature-parallel). The leader bins
        its rows as soon as it has the edges (``ShardedRows.partition``: its grower may take
        histogram memory from them before the queue travels) and skips the queued command."""
        if self.rank == 0 and edges is self.rows.edges:
            return
        if self.rank > 0:
            self.received_bytes["sketch"] += edges.nbytes + n_edges.nbytes
        if self.owned is not None:
            edges, n_edges = edges[self.owned], n_edges[self.owned]
        with using_threads(self.n_threads):
            self.rows.rebin(edges, n_edges)

    def reduce_histograms(self, commands, node_ids, features, out=None):
        """Run the queued ``commands`` here and below, then return (features, histograms) of the
        nodes over this shard and its subtree of shards. The leader passes the grower's ``out``
        (N, F, B, 2): holding every feature, it sums into it directly instead of copying.
        With quantised gradients the shards add integer histograms (8 bytes a bin instead of 16,
        exact in any order) and the leader dequantises the total."""
        start = time.thread_time()
        children = tree_children(self.rank, len(self.peers))
        pending = [self.call_shard(c, "reduce_histograms", commands, node_ids, features) for c in children]
        self.execute(commands)
        held, local = self._local(features)
        every_feature = self.owned is None and len(local) == self.rows.X_binned.shape[1]  # local is 0..F-1
        scale = self.partition.gh_scale
        with using_threads(self.n_threads):
            if scale is None:
                # ranks > 0 reuse one slot of their builder (nothing else uses it there): the reply is sent
                # before the next request is read, and fresh memory would page-fault on every level
                hists = out if every_feature and out is not None else \
                    self.partition.empty_histograms(len(node_ids), None if self.rank == 0 else 0)
                self.partition.histograms(node_ids, local, hists)
            else:
                hists = self.partition.packed_histograms(node_ids, local)
        mine = hists if every_feature else hists[:, local]
        parts = [(held, mine)] + [self.wait(c, fut) for c, fut in zip(children, pending)]
        self.received_bytes["histograms"] += sum(h.nbytes for _, h in parts[1:])
        held, total = merge_histograms(parts, len(node_ids), hists.shape[2:])
        if scale is not None and self.rank == 0:
            index = local if every_feature else np.arange(len(held), dtype=np.int32)  # where total holds them
            hists = out if every_feature and out is not None else np.empty(total.shape + (2,))
            with using_threads(self.n_threads):
                dequantize_histograms(total, index, scale[0], scale[1], hists)
            total = hists
        self.profile["work_cpu_s"] += time.thread_time() - start
        return held, total

    def set_search_rules(self, rules):
        """Reduce-scatter: give this shard's ``SliceSearch`` the model's ``SearchRules`` (started on the first
        call: its slice is its own features (feature-parallel) or its share of every feature
        (data-parallel); ``tree_method='approx'`` sends new rules, its value bins, with each tree)."""
        if self.search is None:
            n_features = rules.n_value_bins.shape[0]
            self.slices = feature_slices(n_features, len(self.peers))
            widths = np.diff(self.hist_offsets) if self.owned is None else np.full(n_features, self.max_bin)
            self.search = SliceSearch(self.slices[self.rank] if self.owned is None else self.owned, n_features,
                                      self.max_bin, widths)
        self.search.rules = rules

    def scatter_level(self, commands, build, scan):
        """Reduce-scatter: run ``commands``, then (``build``) the histograms of a batch of nodes and
        (``scan``) the best splits of a batch over this shard's slice (``cluster.scatter``).

        build : None or (level number, small ids, large ids, parent ids, tree features (k,), memory
        slot): this shard's histograms of the small nodes are summed over every shard on its slice,
        the large ones subtracted from their parents'. scan : None or (node ids, the level's features,
        sums (n, 2), bounds (n, 2), allowed (n, k') or None).
        Returns (the (B, 2) root histogram of the tree's first feature when building the root and
        this shard holds that feature, else None; ``Splits`` of the scan or None)."""
        start = time.thread_time()
        with using_threads(self.n_threads):  # one context for the level (each costs ~30 us)
            column, splits = self._scatter_level(commands, build, scan)
        self.profile["work_cpu_s"] += time.thread_time() - start
        return column, splits

    def _scatter_level(self, commands, build, scan):
        self.execute(commands)
        column = None
        if build is not None:
            level, small_ids, large_ids, parent_ids, features, slot = build
            held, local = self._local(features)
            scale = self.partition.gh_scale
            if scale is None:
                hists = self.partition.empty_histograms(len(small_ids), 0)
                self.partition.histograms(small_ids, local, hists)
            else:
                hists = self.partition.packed_histograms(small_ids, local)
            mine, positions = self.search.held(held)
            if self.owned is None:  # partial sums: exchange the slices
                total = self._reduce_slice(level, hists, held)
            else:  # every row's: this shard's columns are the slice
                total = hists[:, positions]
            self.search.store(total, mine, small_ids, large_ids, parent_ids, slot, scale)
            if not parent_ids and features[0] in mine:
                column = self.search.column(small_ids[0], features[0])
        return column, None if scan is None else self.search.scan(*scan)

    def _reduce_slice(self, level, hists, features):
        """Sum over every shard of this shard's slice of ``hists`` (m, F, ...) on the tree's
        ``features``: send every other shard its slice, then add what the others sent here
        (``tree_sum``'s order). Every send completes before the wait for the others', so two shards
        never wait on each other."""
        n_shards = len(self.peers)
        key = features.tobytes()  # the same features all tree long
        if self._columns is None or self._columns[0] != key:  # each shard's bins of the tree's features
            self._columns = key, [bin_indices(self.hist_offsets, f[np.isin(f, features)]) for f in self.slices]
        columns = self._columns[1]
        # flat (m, bins, 2) float or (m, bins) packed: either layout (uniform, or sparse shards' compact)
        hists = hists.reshape((hists.shape[0], -1) + ((2,) if hists.dtype.kind == "f" else ()))
        sent = []
        for step in range(1, n_shards):  # each shard sends to the next ones first: no shared first receiver
            peer = (self.rank + step) % n_shards
            part = np.ascontiguousarray(hists[:, columns[peer]])  # sent from its own memory, out of band
            sent.append((peer, self.peer_links[peer].call("deliver", level, self.rank, part)))
        own = hists[:, columns[self.rank]]  # a view when the slice is whole: added to in place (sent already)
        for peer, reply in sent:
            self.wait(peer, reply)
        parts = self._received(level, n_shards - 1)
        parts[self.rank] = own
        return tree_sum([parts[r] for r in range(n_shards)])

    def deliver(self, level, rank, part):
        """Reduce-scatter, served on the exchange links: shard ``rank``'s histograms of this shard's
        slice for batch ``level``."""
        with self.inbox_ready:
            self.inbox.setdefault(level, {})[rank] = part
            self.received_bytes["histograms"] += part.nbytes
            self.inbox_ready.notify_all()

    def _received(self, level, n_parts, poll_s=1.0):
        """{rank: part} of batch ``level`` once ``n_parts`` have arrived; raises when the fit ended
        or a shard that has not sent its part left the cluster."""
        start = time.perf_counter()
        with self.inbox_ready:
            while len(self.inbox.get(level, ())) < n_parts:
                if self.links_closed:
                    raise RuntimeError("the fit ended while this shard waited for histograms")
                if not self.inbox_ready.wait(poll_s):
                    missing = [r for r in range(len(self.peers)) if r != self.rank and r not in self.inbox.get(level, ())]
                    self.waiting_on = self.addresses[missing[0]]
                    present = worker_info(get_client())
                    for r in missing:
                        if self.addresses[r] not in present:
                            raise RuntimeError(f"worker {self.addresses[r]} left the cluster")
            self.waiting_on = None
            self.profile["wait_s"] += time.perf_counter() - start
            return self.inbox.pop(level, {})  # none for a single shard

    def execute(self, commands):
        """Run a list of (method name, args) in order."""
        for name, args in commands:
            getattr(self, name)(*args)

    def split(self, *args):
        with using_threads(self.n_threads):
            self.partition.split(*args)

    def masks(self, node_ids, feature, bin_threshold, default_left, cat_left=None):
        """Feature-parallel: left/right masks of the nodes' rows for splits on owned features
        (``cat_left``: per node, the categories that go left, or None for a numeric split)."""
        local = np.searchsorted(self.owned, np.asarray(feature, dtype=np.int32))
        with using_threads(self.n_threads):
            return self.partition.masks(node_ids, local, bin_threshold, default_left, cat_left)

    def traffic(self):
        """Bytes this shard received from other shards during the fit."""
        return dict(self.received_bytes)

    def binned_form(self):
        """The class name of this shard's binned rows: "ndarray" (dense), "SparseBins" or "BundledBins"."""
        return type(self.rows.X_binned).__name__

    def split_with_masks(self, node_ids, masks, left_ids, right_ids):
        if self.rank > 0:  # the leader made the masks it does not own from the owners' replies
            self.received_bytes["masks"] += sum(m.nbytes for m in masks)
        with using_threads(self.n_threads):
            self.partition.split_with_masks(node_ids, masks, left_ids, right_ids)

    def add_round(self, trees):
        with using_threads(self.n_threads):
            self.rows.add_round(trees)
            self._add_to_evals(trees)

    def replay_round(self, trees):
        with using_threads(self.n_threads):
            self.rows.replay_round(trees)
            self._add_to_evals(trees)

    def _add_to_evals(self, trees):
        if self.evals:
            forest = Forest(trees, range(len(trees)), len(trees))
            for X_eval, _, _, margin in self.evals:
                forest.predict(X_eval, margin, missing_bin=None if self.approx else self.max_bin - 1)

    def eval_partials(self, commands, index, metrics):
        """Run ``commands``, then ``partial_metric`` of each metric over this shard's rows of
        evaluation set ``index``, by metric."""
        self.execute(commands)
        _, label, weight, margin = self.evals[index]
        pred = self.objective.metric_input(margin)
        return {m: partial_metric(m, label, pred, weight, self.eval_queries[index], self.gain) for m in metrics}

    def leaf_residuals(self, commands, leaf_ids):
        """Run ``commands``, then {leaf id: (residuals (m,), training weights (m,) or None)} of this
        shard's rows in each of the tree's final leaves (``LocalRows.residuals``); feature-parallel
        shards other than the leader return {} (the leader holds every row)."""
        self.execute(commands)
        if self.owned is not None and self.rank > 0:
            return {}
        return {j: self.rows.residuals(self.k, self.partition.node_rows(j)) for j in leaf_ids}

    def finish_tree(self, leaf_values):
        with using_threads(self.n_threads):
            self.partition.finish(leaf_values)
        self.partition = None  # its row arrays (12 bytes a row) are not needed until the next tree

    # ----- leader --------------------------------------------------------------------------------
    def start_fit(self, peers, addresses, *args):
        """Take the shards' handles and addresses, then start ``fit(*args)`` in a thread of its own
        (see the module docstring), which has every shard ``join``; poll ``progress``."""
        self.peers, self.addresses = peers, addresses
        self.phase = "starting"
        context = contextvars.copy_context()  # keeps this worker reachable through get_client()
        threading.Thread(target=context.run, args=(self._run_fit, args), daemon=True,
                         name=f"gbdt-leader-{id(self)}").start()

    def _run_fit(self, args):
        try:
            self.outcome = ("done", self.fit(*args))
        except BaseException as exc:  # handed to the client by progress()
            self.outcome = ("error", exc)
        finally:
            self.close_links()

    @property
    def outcome(self):
        """None while the fit runs, then ("done", ``fit``'s result) or ("error", its exception)."""
        return self._outcome

    @outcome.setter
    def outcome(self, value):  # the leader's thread wakes a waiting ``progress``
        self._outcome = value
        if self._waiter is not None:
            loop, event = self._waiter
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the worker's loop has closed: nobody is waiting any more
                pass

    async def progress(self, wait_s=0.0):
        """{"phase", "rounds" finished, "slowest_round_s", "waiting_on" worker or None, "result" when
        done} as soon as the fit finishes, or after ``wait_s`` seconds; re-raises the fit's exception.

        A long poll, and a coroutine: it waits on the worker's event loop, never on the thread
        that runs every actor call of this worker (other fits' shards use it), for an event the
        leader's thread sets (polling every 5 ms took the GIL from the leader 200 times a second,
        ~0.1 s of a 0.4 s fit). Rounds and phases do not end the wait: a reply and the next call
        per round cost the leader's process ~2 ms of a ~3 ms round on small data, and the last
        phase's reply cost the client a round trip after the fit ended."""
        event = asyncio.Event()
        self._waiter = (asyncio.get_running_loop(), event)
        if self.outcome is None:
            try:
                await asyncio.wait_for(event.wait(), wait_s)
            except asyncio.TimeoutError:
                pass
        if self.outcome is not None and self.outcome[0] == "error":
            raise self.outcome[1]
        return {"phase": self.phase, "rounds": self.rounds_done, "slowest_round_s": self.slowest_round_s,
                "waiting_on": self.waiting_on, "result": None if self.outcome is None else self.outcome[1]}

    def cancel(self):
        """Stop the leader's loop at its next wait or round."""
        self.cancelled = True

    def fit(self, p, num_boost_round, n_features, feature_names, eval_names, callbacks, owners=None,
            checkpoint=None, resume=None, categories=None, split_search="shards"):
        """Run the whole fit from rank 0; returns (Booster, evaluation history, bytes moved between
        shards by kind, ``profile``: the leader's {"levels", "boost_s", "wait_s", "boost_cpu_s",
        "work_cpu_s", "sketch", "binning"} (see ``__init__``), "received_bytes": bytes each shard received, and "bins": the
        form of each shard's binned rows (``binned_form``), by rank).

        eval_names : names of the evaluation sets the shards hold. owners : None (data-parallel)
        or, per shard, its sorted global feature indices. checkpoint : ``cluster.checkpoint.Checkpoint``
        or None; resume : None or the {"model" (Booster), "edges", "n_edges"} of an interrupted fit to continue.
        categories : {feature index: category list} of the categorical features, whose blocks hold
        their codes (``cluster.categories``), or None. split_search : "shards" (each shard sums and
        scans a slice of the features, ``cluster.scatter``) or "leader" (the leader receives every
        histogram summed up a tree of shards and scans them all).
        """
        scatter = split_search == "shards"
        servers = self.broadcast("join", self.peers, self.addresses, scatter)  # actor calls: no link is open yet
        self.open_links(servers)
        self.broadcast("open_links", servers)  # over the leader's links, as every later call
        sketch = self.set_up_phase("sketch")
        summaries = self.broadcast("summary", p)
        check_labels(summaries, p)
        sparse = None  # dense blocks; else whether the fit takes the sparse path, by the local rule over every row
        # feature-parallel shards hold every row of their columns: each takes its columns' path (the
        # histograms of both travel in the uniform layout), and their blocks are as wide as their columns
        all_sparse = check_blocks(summaries, n_features if owners is None else None)
        if all_sparse and p.tree_method == "approx":
            raise ValueError("tree_method='approx' needs dense X (it keeps the raw values to bin them anew before "
                             "each tree; local approx refuses sparse input alike): use tree_method='hist' (served "
                             "sparse) or pass dense blocks")
        if all_sparse and owners is None:
            sparse = sparse_enough((sum(s["rows"] for s in summaries), n_features),
                                   sum(s["entries"] for s in summaries))
        if p.quantization is not None:  # packed sums over every shard must fit
            p.quantization.check_rows(sum(s["rows"] for s in summaries))
        if owners is not None:
            summaries = summaries[:1]  # every shard holds every row
        self.sketch = None
        if p.tree_method == "approx":  # no edges for the whole fit: the sample of every tree's sketch
            edges = n_edges = None
            self.sketch = self.hessian_sketch(sampling_rate(sum(s["rows"] for s in summaries)), p.seed, owners,
                                              n_features)
        elif resume is not None:
            edges, n_edges = np.array(resume["edges"]), np.array(resume["n_edges"], dtype=np.int32)
        elif owners is None:
            rate = sampling_rate(sum(s["rows"] for s in summaries))
            edges, n_edges = merge_samples(self.broadcast("sketch_sample", rate, p.seed),
                                           lambda features: self.broadcast("sketch_columns", features), n_features,
                                           p.max_bin, p.seed, stored=None if sparse is None else
                                           rate * sum(s["entries"] for s in summaries))
        else:
            edges = np.full((n_features, p.max_bin - 1), np.inf)
            n_edges = np.zeros(n_features, dtype=np.int32)
            for cols, (e, n) in zip(owners, self.broadcast("local_edges", p.max_bin, p.seed)):
                edges[cols], n_edges[cols] = e, n
        if resume is None and categories and edges is not None:
            category_edges(edges, n_edges, categories, p.max_bin)  # code c in bin c, as a local Dataset
        callbacks = [RoundCounter(self)] + list(callbacks) + ([] if checkpoint is None else [checkpoint])
        self.leaf_alpha = p.loss.leaf_alpha
        if resume is not None:
            booster = resume["model"]
        else:
            labels = [s["labels"] for s in summaries if "labels" in s]  # a label quantile is the intercept
            initial = p.loss.initial_margin(sum(s["label_sums"] for s in summaries), *_concatenated(labels))
            booster = Booster(p.loss.objective.name, p.loss.outputs, n_features, initial, feature_names)
            booster.categories = dict(categories or {})
            booster.loss_params = p.loss.recorded_params
        sketch()
        binning = self.set_up_phase("binning")
        queries = [s["queries"] for s in summaries if "queries" in s]  # XGBoost scales query weights to mean 1
        weight_norm = sum(q[0] for q in queries) / sum(q[1] for q in queries) if queries else None
        self.broadcast("prepare", edges, n_edges, p, booster.base_margin, weight_norm, sparse)
        binning()
        self.phase = "boosting"
        eval_sets = [ShardedEvalSet(self, index, name) for index, name in enumerate(eval_names)]
        self.queue = []
        self.owner_of = None
        if owners is not None:
            self.owner_of = np.empty(n_features, dtype=np.int64)
            for rank, cols in enumerate(owners):
                self.owner_of[cols] = rank
        self.n_features = n_features
        self.categories, self.max_bin = categories, p.max_bin
        self.level_number, self.rules_sent = 0, False
        try:
            if checkpoint is not None and edges is not None:  # approx has none: a resumed fit sketches anew
                checkpoint.publish_edges(edges, n_edges)
            self.profile.update(wait_s=0.0, work_cpu_s=0.0)  # the set-up's are not the levels'
            start, start_cpu = time.perf_counter(), time.thread_time()
            with using_threads(self.n_threads):
                history = boost(p, ShardedRows(self), booster, edges, n_edges, num_boost_round, eval_sets, callbacks,
                                grower_class=ScatteredGrower if scatter else TreeGrower)
            self.profile.update(boost_s=time.perf_counter() - start, boost_cpu_s=time.thread_time() - start_cpu)
        finally:
            if checkpoint is not None:
                checkpoint.wait_stored()
        if self.cancelled:
            raise RuntimeError("the fit was cancelled")
        self.phase = "done"
        traffic = self.broadcast("traffic")
        profile = dict(self.profile, received_bytes=[sum(t.values()) for t in traffic],
                       bins=self.broadcast("binned_form"))
        return booster, history, {k: sum(t[k] for t in traffic) for k in traffic[0]}, profile

    def hessian_sketch(self, rate, seed, owners, n_features):
        """``tree_method='approx'``: the ``HessianSketch`` of the rows every shard samples at ``rate``
        (by global index and ``seed``). Data-parallel: every shard's sampled rows, their values asked
        a few columns at a time; feature-parallel (``owners``: each shard's features): every shard
        samples the same rows and sends its own columns of them."""
        samples = self.broadcast("sketch_sample", rate, seed)
        if owners is None:
            values = sampled_values(samples, lambda features: self.broadcast("sketch_columns", features), n_features)
            return HessianSketch(np.concatenate([ids for ids, _ in samples]), values)
        values = np.empty((samples[0][0].shape[0], n_features))
        for features, columns in zip(owners, self.broadcast("sketch_columns")):
            values[:, features] = columns.T
        return HessianSketch(samples[0][0], values)

    def set_up_phase(self, name):
        """Enter phase ``name`` (see ``progress``); returns the function that ends it, recording its
        (wall s, the leader thread's CPU s) in ``profile[name]``: what of a fit's set-up does not
        shrink with more workers (the leader's merges) shows in the CPU."""
        self.phase = name
        start, start_cpu = time.perf_counter(), time.thread_time()

        def end():
            self.profile[name] = (time.perf_counter() - start, time.thread_time() - start_cpu)
        return end

    def scatter_round(self, build, scan):
        """``scatter_level(queued commands, build, scan)`` on every shard (this one directly);
        their answers by rank."""
        commands = self.take_queue()
        pending = {r: self.call_shard(r, "scatter_level", commands, build, scan) for r in range(1, len(self.peers))}
        results = [self.scatter_level(commands, build, scan)]
        results.extend(self.wait(r, pending[r]) for r in range(1, len(self.peers)))
        return results

    def broadcast(self, method, *args):
        """Call ``method`` on every shard (this one directly, the others concurrently); results by rank."""
        pending = {r: self.call_shard(r, method, *args) for r in range(1, len(self.peers))}
        results = [getattr(self, method)(*args)]
        results.extend(self.wait(r, pending[r]) for r in range(1, len(self.peers)))
        return results

    def take_queue(self):
        """The queued commands, emptying the queue."""
        commands, self.queue = self.queue, []
        return commands


def _global_ids(offsets, sizes):
    """(sum sizes,) int64 global indices of blocks of ``sizes`` rows starting at global rows ``offsets``."""
    return np.concatenate([np.arange(off, off + n, dtype=np.int64) for off, n in zip(offsets, sizes)]
                          or [np.empty(0, dtype=np.int64)])


def _concatenated(parts):
    """(values, weights or None) of a list of (values (m_i,), weights (m_i,) or None); (None, None)
    for no parts."""
    if not parts:
        return None, None
    values = np.concatenate([v for v, _ in parts])
    return values, None if parts[0][1] is None else np.concatenate([w for _, w in parts])


def _labels_and_weights(blocks):
    """(label (n,), weight (n,) or None) of (X, y, weight or None, offset) blocks (n = 0 for none);
    the blocks of one collection all have weights or none (``cluster.placement.aligned_blocks``)."""
    if not blocks:
        return np.empty(0), None
    if hasattr(blocks[0][0], "label_weight"):  # Parquet row groups: their own label and weight columns
        blocks = [(b[0], *b[0].label_weight()) for b in blocks]
    label = np.concatenate([b[1] for b in blocks])
    return label, None if blocks[0][2] is None else np.concatenate([b[2] for b in blocks])


def check_labels(summaries, p):
    """Raise ValueError when the labels or weights of the shards (their ``Shard.summary``) are not
    finite, or the labels do not suit the objective of ``p``."""
    if not all(s["finite"] for s in summaries):
        raise ValueError("y or sample_weight contains NaN or infinite values; remove those rows")
    p.loss.check_labels(min(s["min"] for s in summaries), max(s["max"] for s in summaries),
                        all(s["integral"] for s in summaries), "y")
    if p.loss.objective.queries and not p.loss.ranking.lightgbm and \
            not all(s["queries"][2] for s in summaries if "queries" in s):
        raise ValueError(f"{p.loss.objective.name} weighs whole queries, as XGBoost: give the rows of a query the "
                         "same sample_weight")


def block_kinds(blocks):
    """{"sparse_blocks": how many of ``blocks`` are CSR, "blocks", "entries": their stored entries,
    "widths": the sorted distinct column counts of the in-memory blocks} for ``check_blocks``."""
    sparse = [b for b in blocks if is_sparse(b)]
    return {"sparse_blocks": len(sparse), "blocks": len(blocks), "entries": sum(b.nnz for b in sparse),
            "widths": sorted({b.shape[1] for b in blocks if not hasattr(b, "features")})}


def check_blocks(summaries, n_features):
    """Raise ValueError when the shards' X blocks (their ``block_kinds`` in ``summaries``) do not all
    have ``n_features`` columns (None: not checked), or mix numpy and scipy.sparse blocks. Returns
    whether they are all sparse."""
    widths = sorted({w for s in summaries for w in s["widths"]} - {n_features})
    if widths and n_features is not None:
        raise ValueError(f"X has blocks of {widths} columns but its chunks say {n_features}: every row block "
                         "must have all the columns (e.g. CSR blocks of one shape[1])")
    sparse, blocks = sum(s["sparse_blocks"] for s in summaries), sum(s["blocks"] for s in summaries)
    if 0 < sparse < blocks:
        raise ValueError(f"X mixes dense and scipy.sparse blocks ({sparse} of {blocks} are sparse): make every block "
                         "one kind, e.g. X.map_blocks(scipy.sparse.csr_matrix)")
    return sparse > 0


def _stacked(blocks):
    """Canonical CSR of the rows of a list of CSR blocks, in order."""
    import scipy.sparse

    return canonical_csr(scipy.sparse.vstack(blocks, format="csr"))


def _raw_rows(blocks):
    """(sum n_i, F) float64 raw rows of a list of (n_i, F) blocks (Parquet row groups read now; CSR
    blocks, only evaluation rows here, densified as local evaluation sets of raw trees are); each
    block is released once copied."""
    out = np.empty((sum(b.shape[0] for b in blocks), blocks[0].shape[1] if blocks else 0))
    start = 0
    for i in range(len(blocks)):
        block, blocks[i] = blocks[i], None
        block = block.features() if hasattr(block, "features") else block.toarray() if is_sparse(block) else block
        out[start:start + block.shape[0]] = block
        start += block.shape[0]
    return out


def _bin_blocks(blocks, edges, n_edges, max_bin, sparse=None):
    """(sum n_i, F) uint8 bins of a list of (n_i, F) float blocks (or Parquet row groups, read one at a
    time); each block is released once binned. CSR blocks are stacked and binned together
    (``sparse_bin_matrix``, the path ``sparse`` or, when None, their own density's)."""
    if blocks and is_sparse(blocks[0]):
        stacked = _stacked(blocks)
        blocks[:] = [None] * len(blocks)
        return sparse_bin_matrix(stacked, edges, n_edges, max_bin, sparse)
    n_features = edges.shape[0]
    out = np.empty((sum(b.shape[0] for b in blocks), n_features), dtype=np.uint8)
    start = 0
    for i in range(len(blocks)):
        block, blocks[i] = blocks[i], None
        if hasattr(block, "bin_into"):  # a Parquet row group: read it now
            block.bin_into(out[start:start + block.shape[0]], edges, n_edges, max_bin)
        else:
            out[start:start + block.shape[0]] = bin_matrix(np.ascontiguousarray(block), edges, n_edges, max_bin)
        start += block.shape[0]
    return out


class RoundCounter(TrainingCallback):
    """Leader-side callback: counts finished rounds and times the slowest for ``progress``; stops a
    cancelled fit."""

    def __init__(self, leader):
        self.leader = leader
        self.round_start = None

    def before_training(self, booster):
        self.round_start = time.monotonic()
        return booster

    def after_iteration(self, booster, iteration, evals_log):
        now = time.monotonic()
        self.leader.slowest_round_s = max(self.leader.slowest_round_s, now - self.round_start)
        self.round_start = now
        self.leader.rounds_done = iteration + 1
        return self.leader.cancelled


class ShardedEvalSet:
    """``bindings.boosting.EvalSet``'s interface over the evaluation rows spread over the shards:
    the shards add every round's trees to their margins with the training rows; ``scores``
    reduces the shards' partial metrics (one round trip, carrying the queued commands)."""

    def __init__(self, leader, index, name):
        self.leader, self.index, self.name = leader, index, name

    def add_round(self, forest):
        pass  # the shards' add_round command covers the evaluation rows

    def scores(self, metrics):
        partials = self.leader.broadcast("eval_partials", self.leader.take_queue(), self.index, metrics)
        return {m: combine_partials(m, [part[m] for part in partials]) for m in metrics}


class ShardedRows:
    """``LocalRows``' interface over every shard, driven by the leader (rank 0): each call is
    queued and reaches the shards with the next histogram request."""

    def __init__(self, leader):
        self.leader = leader

    def compute_gradients(self, iteration):
        self.leader.queue.append(("compute_gradients", (iteration,)))

    def start_round(self, subsample, iteration):
        self.leader.queue.append(("start_round", (subsample, iteration)))

    def partition(self, k):
        if self.leader.sketch is not None:
            self.rebin(k)
        scale = None
        if self.leader.rows.quantization is not None:  # one round trip per tree for the global scales
            extremes = self.leader.broadcast("gradient_extremes", self.leader.take_queue(), k)
            scale = scales_from_extremes(max(e[0] for e in extremes), max(e[1] for e in extremes),
                                         self.leader.rows.quantization.bins)
        self.leader.queue.append(("start_tree", (k, scale)))
        return ShardedPartition(self.leader, k)

    def rebin(self, k):
        """``tree_method='approx'``: one round trip (carrying the queued commands, so the hessians are
        the round's) for the shards' sampled hessians of output k; the leader's ``HessianSketch`` cuts
        the tree's ``edges`` and ``n_edges`` (read by ``ApproxGrower``), its own rows are binned at once
        and the others' with the next request. The shards' scans get the tree's value bins."""
        leader = self.leader
        hessians = leader.broadcast("sampled_hessians", leader.take_queue(), k)
        leader.received_bytes["sketch"] += sum(h.nbytes for h in hessians[1:] if h is not None)
        edges, n_edges = leader.sketch.edges([h for h in hessians if h is not None], leader.max_bin)
        self.edges, self.n_edges = category_edges(edges, n_edges, leader.categories or {}, leader.max_bin)
        leader.rebin(self.edges, self.n_edges)
        leader.queue.append(("rebin", (self.edges, self.n_edges)))
        leader.rules_sent = False

    def add_round(self, trees):
        self.leader.queue.append(("add_round", (trees,)))

    def replay_round(self, trees):
        self.leader.queue.append(("replay_round", (trees,)))


class ShardedPartition:
    """``RowPartition``'s interface for the grower over every shard's rows (the tree of output k)."""

    def __init__(self, leader, k):
        self.leader, self.k = leader, k
        self.build, self.root_slot = None, None  # reduce-scatter: the pending children's build, the root's slot
        # every split is partitioned on the shards, so they add leaf values to the rows of each leaf
        # (feature-parallel shards could not predict a tree anyway: they lack features)
        self.partition_leaves = True

    def configure(self, rules):
        """Reduce-scatter: the grower's ``SearchRules``, sent to the shards with the first request of the fit."""
        if not self.leader.rules_sent:
            self.leader.queue.append(("set_search_rules", (rules,)))
            self.leader.rules_sent = True

    def build_children(self, small_ids, large_ids, parent_ids, features, slot):
        """Reduce-scatter: have the shards build the histograms of children ``small_ids`` and subtract
        ``large_ids`` from ``parent_ids`` (memory ``slot``), with the next ``find_splits``."""
        self.leader.profile["levels"] += 1
        self.leader.level_number += 1
        self.build = (self.leader.level_number, list(small_ids), list(large_ids), list(parent_ids),
                      np.asarray(features, dtype=np.int32), slot)

    def find_splits(self, node_ids, features, sums, bounds, allowed):
        """Reduce-scatter: the best splits of ``node_ids`` over the level's ``features`` (one round trip
        carrying the queued commands and the pending build), as ``cluster.scatter.best_splits``."""
        build, self.build = self.build, None
        records = self.leader.scatter_round(build, (list(node_ids), np.asarray(features, dtype=np.int32), sums,
                                                    bounds, allowed))
        return best_splits([splits for _, splits in records], self.leader.max_bin)

    def empty_histograms(self, n_nodes, slot=None):
        """(n_nodes, F, B, 2) histograms for the grower. Reduce-scatter: the root's only (``histograms``),
        whose memory ``slot`` the shards' slices of it use. Data-parallel: the leader's own rows hold every
        feature, so its histogram builder's memory ``slot`` fits, reused level after level as in local
        training: fresh memory on every level cost a third of a small fit in page faults, Dask workers
        returning freed memory to the system at once (MALLOC_TRIM_THRESHOLD_=65536)."""
        if self.leader.scatter:
            self.root_slot = slot
            return np.empty((n_nodes, self.leader.n_features, self.leader.max_bin, 2))
        if self.leader.owner_of is None:
            return self.leader.rows.builder.empty(n_nodes, slot)
        return np.empty((n_nodes, self.leader.n_features, self.leader.max_bin, 2))

    def histograms(self, node_ids, features, out):
        """Fill ``out`` with the nodes' histograms over every shard. Reduce-scatter (the root only):
        the shards keep their slices and the leader gets the tree's first feature's, where the
        grower reads the root's sums."""
        self.leader.profile["levels"] += 1
        if self.leader.scatter:
            self.leader.level_number += 1
            build = (self.leader.level_number, list(node_ids), [], [], np.asarray(features, dtype=np.int32),
                     self.root_slot)
            uniform_column(next(c for c, _ in self.leader.scatter_round(build, None) if c is not None),
                           out[0, features[0]])
            return
        held, hists = self.leader.reduce_histograms(self.leader.take_queue(), list(node_ids), features, out)
        if hists is not out:
            out[:, held] = hists

    def split(self, node_ids, feature, bin_threshold, default_left, left_ids, right_ids, cat_left=None):
        args = [list(node_ids), list(feature), list(bin_threshold), list(default_left)]
        categorical = [] if cat_left is None else [list(cat_left)]  # a last argument, only when a split has one
        if self.leader.owner_of is None:
            self.leader.queue.append(("split", (*args, list(left_ids), list(right_ids), *categorical)))
            return
        # flush pending commands (e.g. the previous level's splits) before asking for masks
        if self.leader.queue:
            self.leader.broadcast("execute", self.leader.take_queue())
        owners = self.leader.owner_of[np.asarray(feature)]
        masks = [None] * len(node_ids)
        pending = {}
        for rank in np.unique(owners):
            picked = np.flatnonzero(owners == rank)
            sub = [[a[i] for i in picked] for a in args + categorical]
            pending[rank] = (picked, self.leader.masks(*sub) if rank == 0 else
                             self.leader.call_shard(rank, "masks", *sub))
        for rank, (picked, result) in pending.items():
            for i, m in zip(picked, result if rank == 0 else self.leader.wait(rank, result)):
                masks[i] = m
        self.leader.queue.append(("split_with_masks", (list(node_ids), masks, list(left_ids), list(right_ids))))

    def refit_leaves(self, leaf_ids):
        """For objectives whose leaves are residual quantiles: {leaf id: the quantile of its rows'
        residuals over every shard} (one round trip carrying the queued splits; the shards send
        their residuals and weights, so the quantile is exact); else None."""
        leader = self.leader
        if leader.leaf_alpha is None:
            return None
        parts = leader.broadcast("leaf_residuals", leader.take_queue(), list(leaf_ids))
        leader.received_bytes["residuals"] += sum(v.nbytes + (0 if w is None else w.nbytes)
                                                  for part in parts[1:] for v, w in part.values())
        values = {}
        for j in leaf_ids:
            residuals, weights = _concatenated([part[j] for part in parts if j in part])
            values[j] = weighted_quantile(residuals, leader.leaf_alpha[self.k], weights)
        return values

    def finish(self, leaf_values):
        self.leader.queue.append(("finish_tree", (leaf_values,)))
