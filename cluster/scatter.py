"""Split search on the shards: each shard sums and scans its own slice of the features (reduce-scatter).

LightGBM's data-parallel scheme. Per tree level, every shard builds the histograms of the level's
smaller children on its rows, for every feature; then, for every other shard s, it sends s the
columns of s's slice (peer to peer, ``cluster.channel`` links), so each shard receives the
other shards' histograms of its own slice only, sums them, gets the larger children by
subtraction from the parents' slice it kept, and scans its slice for each node's best split.
The leader receives one small record per node from each shard (``Splits``) and keeps the best;
it never sees a histogram. A shard receives (W - 1) / W of one level's histograms instead of the
leader receiving all of them, and the scan runs on every shard at once.

Histograms are sliced as flat bins: each feature owns a range of them (``offsets``), max_bin bins in
the dense (uniform) layout, or only its own value bins and missing bin in the compact layout of shards
on the sparse path (``gbdt.sparse_histogram``), whose slices then move ~F x max_bin / (bins in use)
times fewer bytes (42x on a text-like 300-column matrix). Every shard of a fit has the same layout
(the sparse path is decided over all rows).

Feature-parallel shards hold every row of their own features, so their histograms are already
complete: they scan them without any exchange.

Equal to the leader's search bit for bit: the partial histograms are summed in the order of the
binary reduction tree the leader's path uses (``tree_sum``), each slice is scanned with the same
kernel and the model's constraint vectors (so the same gain formula), and ``best_splits`` keeps
the highest gain with the lowest feature on ties, as the kernel does over all features.

``ScatteredGrower`` is the leader's ``TreeGrower``: it keeps the growth policy, the node
bookkeeping and the column-sampling draws, and asks the partition (``cluster.shard.ShardedPartition``)
for the best splits of each batch instead of scanning histograms itself. The root costs two
round trips (its sums come from the histogram of the tree's first feature, which the grower reads
before the scan); every other level one.
"""
from dataclasses import dataclass

import numpy as np

from gbdt.grower import TreeGrower
from gbdt.histogram import subtract_histograms
from gbdt.quantize import dequantize_histograms
from gbdt.split import find_best_splits


def tree_children(rank, n_shards):
    """Ranks whose histograms rank ``rank`` adds to its own in the reduction tree."""
    return [c for c in (2 * rank + 1, 2 * rank + 2) if c < n_shards]


def tree_sum(parts, rank=0):
    """Sum of ``parts`` (by rank, arrays of one shape) in the reduction tree's order: rank r's part,
    plus its first child's subtree total, plus its second's. Adds in place into the parts; returns
    ``parts[rank]``."""
    total = parts[rank]
    for child in tree_children(rank, len(parts)):
        total += tree_sum(parts, child)
    return total


def feature_slices(n_features, n_shards):
    """(n_shards,) list of the sorted int32 global features each shard searches (data-parallel):
    contiguous, sizes differing by at most one."""
    return [s.astype(np.int32) for s in np.array_split(np.arange(n_features), n_shards)]


@dataclass(frozen=True)
class SearchRules:
    """What a shard's scan needs of the model, sent once per fit: (F,) int32 ``n_value_bins``,
    (F,) int8 ``monotone``, (F,) bool ``categorical`` (the grower's), and the regularisation."""

    n_value_bins: np.ndarray
    monotone: np.ndarray
    categorical: np.ndarray
    reg_lambda: float
    reg_alpha: float
    min_child_weight: float
    cat_rules: tuple


@dataclass
class Splits:
    """Best splits of a batch of n nodes: gain (n,), feature (n,) int64 global (-1: none), bin (n,),
    default_left (n,) bool, left_stats (n, 2), and {node position: (max_bin,) bool categories that
    go left} for the categorical winners only (a numeric record stays ~40 bytes a node)."""

    gain: np.ndarray
    feature: np.ndarray
    bin: np.ndarray
    default_left: np.ndarray
    left_stats: np.ndarray
    cat_left: dict


def best_splits(records, n_bins):
    """The best of each node over the shards' ``Splits`` (their slices are disjoint): the highest
    gain, the lowest feature on ties, as one scan over all features picks. Returns (gain, feature,
    bin, default_left, left_stats, cat_left (n, n_bins) bool) arrays over the nodes."""
    gain, feature = records[0].gain.copy(), records[0].feature.copy()
    source = np.zeros(gain.shape[0], dtype=np.int64)
    for i, r in enumerate(records[1:], 1):
        better = (r.feature >= 0) & ((feature < 0) | (r.gain > gain) | ((r.gain == gain) & (r.feature < feature)))
        gain[better], feature[better], source[better] = r.gain[better], r.feature[better], i
    nodes = np.arange(gain.shape[0])
    bins = np.stack([r.bin for r in records])[source, nodes]
    default_left = np.stack([r.default_left for r in records])[source, nodes]
    left_stats = np.stack([r.left_stats for r in records])[source, nodes]
    cat_left = np.zeros((gain.shape[0], n_bins), dtype=np.bool_)
    for j, s in enumerate(source.tolist()):
        mask = records[s].cat_left.get(j)
        if mask is not None:
            cat_left[j] = mask
    return gain, feature, bins, default_left, left_stats, cat_left


class SliceSearch:
    """A shard's slice of the features: the histograms of the current nodes summed over every shard
    on ``columns``, and the scan of its best splits.

    Parameters
    ----------
    columns : (S,) int32 sorted global features of the slice; n_features : F; n_bins : bins per
    feature (max_bin); widths : (F,) int64 bins each feature has in the shards' histograms: the
    compact layout of sparse shards (``gbdt.histogram``), or None: max_bin each (the uniform one).
    Histograms of the slice are flat (N, K, 2) float64, K the slice's bins, with ``offsets`` (F + 1,)
    giving feature f of the slice its bins and the others none, so the kernels take global feature
    indices and the model's (F,) vectors.
    """

    def __init__(self, columns, n_features, n_bins, widths=None):
        self.columns, self.n_bins = np.asarray(columns, dtype=np.int32), n_bins
        in_slice = np.zeros(n_features, dtype=np.int64)
        in_slice[self.columns] = n_bins if widths is None else np.asarray(widths, dtype=np.int64)[self.columns]
        self.offsets = np.concatenate([[0], np.cumsum(in_slice)])
        self.rules = None
        self._slots = [None, None]
        self.nodes = {}  # node id -> (its batch's histograms, position in them)
        self._held = None

    def held(self, features):
        """(global features of ``features`` in this slice, their positions in the slice)."""
        features = np.asarray(features, dtype=np.int32)
        key = features.tobytes()
        if self._held is None or self._held[0] != key:  # asked for the same features level after level
            mine = features[np.isin(features, self.columns)]
            self._held = key, (mine, np.searchsorted(self.columns, mine))
        return self._held[1]

    def empty(self, n_nodes, slot):
        """(n_nodes, K, 2) histograms: memory of ``slot`` (0 or 1, alternating by depth as the
        grower's) reused, or fresh for slot None."""
        shape = (n_nodes, int(self.offsets[-1]), 2)
        if slot is None:
            return np.empty(shape)
        if self._slots[slot] is None or self._slots[slot].shape[0] < n_nodes:
            self._slots[slot] = np.empty(shape)
        return self._slots[slot][:n_nodes]

    def store(self, total, features, small_ids, large_ids, parent_ids, slot, scale=None):
        """Keep the summed histograms ``total`` (m, k', 2) float64 (or (m, k') packed int64 with
        ``scale``; any shape with those leading and trailing axes) of nodes ``small_ids`` on
        ``features`` (this slice's share of the tree's, in order: k' their bins), and the larger
        siblings ``large_ids`` = parents - small (``parent_ids``, m each; empty at the root).
        Returns the (2m, K, 2) histograms of the batch."""
        m = len(small_ids)
        hists = self.empty(m + len(large_ids), slot)
        whole = features.shape[0] == self.columns.shape[0]  # the tree has every feature of the slice
        bins = slice(None) if whole else bin_indices(self.offsets, features)
        if scale is None:
            hists[:m, bins] = total.reshape(m, -1, 2)
        else:
            packed = total.reshape(m, 1, -1)
            dequantized = hists[:m].reshape(packed.shape + (2,)) if whole else np.empty(packed.shape + (2,))
            dequantize_histograms(packed, np.zeros(1, dtype=np.int32), scale[0], scale[1], dequantized)
            if not whole:
                hists[:m, bins] = dequantized[:, 0]
        if large_ids:
            parents = [self.nodes.pop(j) for j in parent_ids]
            subtract_histograms(parents[0][0], np.array([p[1] for p in parents], dtype=np.int64), hists[:m],
                                features, self.offsets, hists[m:])
        if not parent_ids:  # a new tree
            self.nodes = {}
        self.nodes.update((j, (hists, i)) for i, j in enumerate(list(small_ids) + list(large_ids)))
        return hists

    def scan(self, node_ids, features, sums, bounds, allowed):
        """``Splits`` of ``node_ids`` (their histograms from one batch) over the level's ``features``
        (k,) held here; sums, bounds : (n, 2); allowed : (n, k) bool over ``features`` or None."""
        n, r = len(node_ids), self.rules
        gain, feature = np.zeros(n), np.full(n, -1, dtype=np.int64)
        bins, default_left, left_stats = np.full(n, -1, dtype=np.int64), np.ones(n, dtype=np.bool_), np.zeros((n, 2))
        mine, _ = self.held(features)
        if mine.shape[0] == 0:
            return Splits(gain, feature, bins, default_left, left_stats, {})
        hists, first = self.nodes[node_ids[0]]
        index = [self.nodes[j][1] for j in node_ids]
        hists = hists[first:first + n] if index == list(range(first, first + n)) else hists[index]
        if allowed is not None:
            allowed = np.ascontiguousarray(allowed[:, np.isin(features, self.columns)])
        cat_left = np.empty((n, self.n_bins), dtype=np.bool_)
        find_best_splits(hists, self.offsets, np.asarray(sums, dtype=np.float64), mine, r.n_value_bins,
                         r.reg_lambda, r.reg_alpha, r.min_child_weight, r.monotone, np.asarray(bounds, dtype=np.float64),
                         r.categorical, r.cat_rules, gain, feature, bins, default_left, left_stats, cat_left, allowed)
        categorical = {j: cat_left[j].copy() for j in np.flatnonzero(feature >= 0).tolist()
                       if r.categorical[feature[j]]}
        return Splits(gain, feature, bins, default_left, left_stats, categorical)

    def column(self, node_id, feature):
        """(w, 2) summed histogram of global ``feature`` (held here) at node ``node_id``: its w bins,
        the missing bin last (``uniform_column`` puts them in the grower's layout)."""
        hists, i = self.nodes[node_id]
        return hists[i, self.offsets[feature]:self.offsets[feature + 1]].copy()


def bin_indices(offsets, features):
    """The flat bins of ``features`` (sorted) in a layout of ``offsets`` (F + 1,), in order: a slice
    when they are contiguous (indexing then gives a view), else an int64 array."""
    starts, stops = offsets[features], offsets[np.asarray(features) + 1]
    if features.shape[0] and (starts[1:] == stops[:-1]).all():
        return slice(int(starts[0]), int(stops[-1]))
    return np.concatenate([np.arange(a, b) for a, b in zip(starts, stops)] + [np.empty(0, dtype=np.int64)])


def uniform_column(column, out):
    """Put one feature's (w, 2) histogram (its value bins, then its missing bin) in ``out`` (B, 2) of
    the uniform layout: value bins first, missing bin last, zeros between (sums unchanged)."""
    out[:] = 0.0
    out[:column.shape[0] - 1] = column[:-1]
    out[-1] = column[-1]


class ScatteredGrower(TreeGrower):
    """The leader's ``TreeGrower`` when the shards search the splits: the partition (a
    ``ShardedPartition`` in reduce-scatter mode) builds the children's histograms on the shards
    (``build_children``) and returns each batch's best splits (``find_splits``); the policy,
    the node bookkeeping and the column-sampling draws stay the grower's."""

    def grow(self, partition, features, rng=None):
        self._partition = partition
        partition.configure(SearchRules(self.n_value_bins, self.monotone, self.categorical, self.params.reg_lambda,
                                        self.params.reg_alpha, self.params.min_child_weight, self.cat_rules))
        try:
            return super().grow(partition, features, rng)
        finally:
            self._partition = None

    def _child_histograms(self, parents, partition, features):
        """Children of ``parents``: the smaller (by hessian sum) built from rows, the larger by
        subtraction, both on the shards; then their best splits."""
        small, large = [], []
        for node in parents:
            left_smaller = node.left.h <= node.right.h
            small.append(node.left if left_smaller else node.right)
            large.append(node.right if left_smaller else node.left)
        partition.build_children([c.id for c in small], [c.id for c in large], [n.id for n in parents], features,
                                 self._slot(parents[0].depth + 1))
        self._find_splits(small + large, None, features)

    def _find_splits(self, batch, hists, features):
        """Best split of every node in ``batch`` from the shards (``hists`` is not used: the leader
        holds none); draws the level's and the nodes' features as the grower does."""
        features = self._features_at(batch[0].depth, features)
        allowed = self._node_samples(batch, features)
        sums = np.array([(node.g, node.h) for node in batch])
        bounds = np.array([(node.lower, node.upper) for node in batch])
        gain, feature, bins, default_left, left_stats, cat_left = self._partition.find_splits(
            [node.id for node in batch], features, sums, bounds, allowed)
        found = zip(gain.tolist(), feature.tolist(), bins.tolist(), default_left.tolist(), left_stats.tolist())
        for j, (node, split) in enumerate(zip(batch, found)):
            if self._can_split(node):
                node.gain, node.feature, node.bin, node.default_left, node.left_stats = split
                node.cat_left = cat_left[j] if node.feature >= 0 and self.categorical[node.feature] else None
