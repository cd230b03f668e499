"""Shard: the Dask actor that holds one worker's rows for a whole fit.

A shard loads its row blocks once, contributes a sample to the bin sketch, bins its rows with the
global edges (then drops the raw floats), and from then on answers the leader: gradients,
per-level histograms of its rows, row partitions and margin updates. Rank 0 is also the leader:
``fit`` runs the boosting loop of ``bindings.train`` with ``ShardedRows`` standing in for
in-memory rows, so nothing but the finished model goes back to the client.

One round trip per tree level: commands that return nothing (gradients, sampling, a new tree,
the splits of the last level, a finished round) are queued on the leader and travel with the next
histogram request down a binary tree of shards (rank r forwards to ranks 2r+1 and 2r+2); every
shard runs them, builds its local histograms and adds its children's on the way back up.
"""
import numpy as np

from bindings.booster import Booster
from bindings.dataset import Dataset
from bindings.train import LocalRows, _EvalSet, boost, initial_margin
from gbdt.binning import bin_matrix
from gbdt.threads import using_threads
from cluster.sketch import local_sample, merge_samples, sample_sizes


def tree_children(rank, n_shards):
    """Ranks whose histograms rank ``rank`` adds to its own in the reduction tree."""
    return [c for c in (2 * rank + 1, 2 * rank + 2) if c < n_shards]


class Shard:
    """Rows of one worker. Construct through ``client.submit(Shard, ..., actor=True)``.

    Parameters
    ----------
    rank : position of this shard (0 is the leader); blocks : list of (X block (n_i, F),
    y block (n_i,), weight block (n_i,) or None); n_threads : Numba threads (= worker threads).
    """

    def __init__(self, rank, blocks, n_threads):
        self.rank = rank
        self.n_threads = n_threads
        self.X = np.ascontiguousarray(np.concatenate([b[0] for b in blocks]), dtype=np.float64)
        self.label = np.concatenate([b[1] for b in blocks])
        weights = [b[2] for b in blocks]
        self.weight = None if all(w is None for w in weights) else np.concatenate(weights)
        self.peers = []
        self.rows = None
        self.partition = None

    # ----- set-up ------------------------------------------------------------------------------
    def set_peers(self, peers):
        """Actor handles of every shard, in rank order (this one included)."""
        self.peers = peers

    def summary(self):
        """(rows, sum of weights, weighted label sum, label min, label max, all labels integral)."""
        w = np.ones_like(self.label) if self.weight is None else self.weight
        finite = bool(np.isfinite(self.label).all() and (self.weight is None or np.isfinite(self.weight).all()))
        return {"rows": self.X.shape[0], "sum_w": float(w.sum()), "sum_wy": float(w @ self.label),
                "min": float(self.label.min()), "max": float(self.label.max()), "finite": finite,
                "integral": bool((self.label == np.round(self.label)).all())}

    def sketch_sample(self, n_sample, seed):
        return local_sample(self.X, self.weight, n_sample, seed + self.rank)

    def prepare(self, edges, n_edges, p, initial):
        """Bin the rows with the global edges, drop the raw floats, set up margins and gradients."""
        with using_threads(self.n_threads):
            X_binned = bin_matrix(self.X, edges, n_edges, p["max_bin"])
        self.X = None
        weight = np.empty(0) if self.weight is None else self.weight
        self.rows = LocalRows(X_binned, self.label, weight, initial, p["max_bin"], p["split_mode"],
                              self.n_threads, p["random_state"] + self.rank)

    # ----- per round / per level -----------------------------------------------------------------
    def compute_gradients(self, objective):
        with using_threads(self.n_threads):
            self.rows.compute_gradients(objective)

    def start_round(self, subsample):
        self.rows.start_round(subsample)

    def start_tree(self, k):
        self.partition = self.rows.partition(k)

    def reduce_histograms(self, commands, node_ids, features):
        """Run the queued ``commands`` here and below, then return the nodes' histograms summed
        over this shard and its subtree of shards."""
        children = tree_children(self.rank, len(self.peers))
        pending = [self.peers[c].reduce_histograms(commands, node_ids, features) for c in children]
        self.execute(commands)
        total = self.partition.empty_histograms(len(node_ids))
        with using_threads(self.n_threads):
            self.partition.histograms(node_ids, features, total)
        for fut in pending:
            total[:, features] += fut.result()[:, features]
        return total

    def execute(self, commands):
        """Run a list of (method name, args) in order."""
        for name, args in commands:
            getattr(self, name)(*args)

    def split(self, *args):
        with using_threads(self.n_threads):
            self.partition.split(*args)

    def add_round(self, trees):
        with using_threads(self.n_threads):
            self.rows.add_round(trees)

    # ----- leader --------------------------------------------------------------------------------
    def fit(self, p, num_boost_round, n_features, feature_names, evals, metrics, callbacks):
        """Run the whole fit from rank 0; returns (model dict, evaluation history)."""
        summaries = self.broadcast("summary")
        sums = np.array([[s["sum_w"], s["sum_wy"]] for s in summaries])
        sizes = [s["rows"] for s in summaries]
        samples = self.broadcast("sketch_sample", per_shard=[(int(n), p["random_state"]) for n in sample_sizes(sizes)])
        edges, n_edges = merge_samples(samples, p["max_bin"], p["random_state"])
        initial = initial_margin(p, sums[:, 1].sum() / sums[:, 0].sum())
        self.broadcast("prepare", edges, n_edges, p, initial)
        custom = callable(p["objective"])
        booster = Booster("custom" if custom else p["objective"], p["num_class"], n_features, initial, feature_names)
        eval_sets = [_EvalSet(Dataset(X, y), name, edges, n_edges, p["max_bin"], initial) for X, y, name in evals]
        self.queue = []
        with using_threads(self.n_threads):
            history = boost(p, ShardedRows(self), booster, edges, n_edges, num_boost_round, eval_sets, metrics,
                            callbacks)
        return booster.to_dict(), history

    def take_queue(self):
        """The queued commands, emptying the queue."""
        commands, self.queue = self.queue, []
        return commands

    def broadcast(self, method, *args, per_shard=None):
        """Call ``method`` on every shard (this one directly, the others concurrently); results by rank."""
        calls = [per_shard[r] if per_shard is not None else args for r in range(len(self.peers))]
        pending = {r: getattr(self.peers[r], method)(*calls[r]) for r in range(1, len(self.peers))}
        results = [getattr(self, method)(*calls[0])]
        results.extend(pending[r].result() for r in range(1, len(self.peers)))
        return results


class ShardedRows:
    """``LocalRows``' interface over every shard, driven by the leader (rank 0): each call is
    queued and reaches the shards with the next histogram request."""

    def __init__(self, leader):
        self.leader = leader

    def compute_gradients(self, objective):
        self.leader.queue.append(("compute_gradients", (objective,)))

    def start_round(self, subsample):
        self.leader.queue.append(("start_round", (subsample,)))

    def partition(self, k):
        self.leader.queue.append(("start_tree", (k,)))
        return ShardedPartition(self.leader)

    def add_round(self, trees):
        self.leader.queue.append(("add_round", (trees,)))


class ShardedPartition:
    """``RowPartition``'s interface for the grower: histograms are allreduced over the shards,
    splits are queued and applied by every shard to its own rows."""

    def __init__(self, leader):
        self.leader = leader

    def empty_histograms(self, n_nodes):
        return self.leader.rows.builder.empty(n_nodes)

    def histograms(self, node_ids, features, out):
        total = self.leader.reduce_histograms(self.leader.take_queue(), list(node_ids), features)
        out[:, features] = total[:, features]

    def split(self, node_ids, feature, bin_threshold, default_left, left_ids, right_ids):
        self.leader.queue.append(("split", (list(node_ids), list(feature), list(bin_threshold),
                                            list(default_left), list(left_ids), list(right_ids))))
