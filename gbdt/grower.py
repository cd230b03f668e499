"""Tree growth policy: which nodes to split next, when to stop, and leaf values.

The numeric work is in the kernels (histogram, split, partition), each called once per batch
of nodes; this module is the readable driver. Trees over dense bins held in this process
(``RowPartition``) grow in one compiled call instead (``gbdt.compiled_grower``, the same policy
with the same names), unless columns are sampled per level or node: the Python driver then runs,
as it does for sparse and bundled bins and for the Dask leader. ``depthwise`` splits a whole level per batch up to
``max_depth``; ``lossguide`` splits the leaf with the highest gain first, one per batch, up to
``max_leaves``. Only the smaller child of each split gets a histogram pass; the larger one is
parent - smaller. A split is made only when its gain reaches ``gamma``, checked as the tree
grows, as XGBoost's ``hist`` method and LightGBM's ``min_gain_to_split`` do (XGBoost's ``exact``
method instead prunes such splits bottom-up after growth, keeping those with a surviving descendant).

Monotone constraints propagate as XGBoost's: a split on a constrained feature gives its children
weight bounds that meet at the midpoint of their two (clamped) weights, and every node of a
subtree inherits its root's bounds, so each leaf value is clamped into the bounds of its node.

A split on a categorical feature carries the (max_bin,) bool mask of the categories that go left;
the partition receives the masks only for batches with a categorical split, so partitions of
purely numeric models never see them.
"""
import heapq
from dataclasses import dataclass

import numpy as np

from gbdt import compiled_grower, histogram
from gbdt.histogram import SPLIT_MODES, HistogramBuilder, as_pairs, flat_layout, flat_view, subtract_histograms
from gbdt.partition import RowPartition
from gbdt.split import MIN_SPLIT_GAIN, clamp, find_best_splits, leaf_weight, node_outputs
from gbdt._jit import call_signature, compiled_for
from gbdt.tree import Tree, category_bitset

# Python-driver batches of one configuration after which a process compiles the compiled grower
# for it (``TreeGrower.compiled``): ~2 s of the Python driver's overhead on the 2-core machine, a
# fraction of the compilation
RENT_BATCHES = 20_000
_python_batches = {}  # {(compilation, argument types): batches the Python driver split for them}
NO_MARGIN = np.empty((0, 1))  # the compiled grower's margin argument when it updates none


def _dense_local(partition):
    """Whether ``partition`` holds dense (n, F) bins of rows in this process, with histograms in the
    uniform layout: the trees the compiled grower grows. Sparse (``SparseRowPartition``) and
    bundled (``BundledRowPartition``) bins, whose compact histograms come from builders written in
    Python around their kernels, and the Dask leader's partition keep the Python driver."""
    return type(partition) is RowPartition and type(partition.hist_builder) is HistogramBuilder


def sampled_count(fraction, n):
    """How many of ``n`` features a ``colsample_*`` ``fraction`` keeps: round(fraction n), at
    least 1 (XGBoost's rule)."""
    return max(1, int(round(fraction * n)))


def level_sample(rng, fraction, features):
    """``colsample_bylevel``: the sorted (m,) features of one depth, ``sampled_count(fraction, k)``
    of the tree's ``features`` (k,) drawn without replacement by numpy Generator ``rng`` (one draw
    per depth, in depth order, from the tree's generator: every tree method samples alike)."""
    return np.sort(rng.choice(features, sampled_count(fraction, len(features)), replace=False))


def child_interactions(interactions, path, feature):
    """Interaction constraints below a split on ``feature`` of a node whose ancestors split on
    ``path`` (F,) bool: the children's (path, allowed), both (F,) bool. As XGBoost's: a child may
    split on the features on its path and on every feature of each constraint that holds all of
    them. interactions : (C, F) bool, the features of each constraint."""
    path = path.copy()
    path[feature] = True
    relevant = interactions[:, path].all(axis=1)
    return path, path | interactions[relevant].any(axis=0)


def breadth_first(root):
    """(nodes, left, right) of the tree under ``root`` (nodes with ``.left``/``.right``, None at leaves),
    numbered breadth-first as ``Tree`` stores them: ``nodes`` in that order, ``left``/``right`` the
    children's numbers (-1 at leaves)."""
    order, left, right = [root], [], []
    for node in order:
        if node.left is None:
            left.append(-1)
            right.append(-1)
        else:
            left.append(len(order))
            right.append(len(order) + 1)
            order.extend((node.left, node.right))
    return order, left, right


@dataclass(frozen=True)
class GrowthParams:
    """Tree-shape and regularisation parameters of one tree (validated by the caller)."""

    max_depth: int = 6
    max_leaves: int = 0
    grow_policy: str = "depthwise"
    learning_rate: float = 0.3
    reg_lambda: float = 1.0
    reg_alpha: float = 0.0
    gamma: float = 0.0
    min_child_weight: float = 1.0
    max_cat_to_onehot: int = 4
    max_cat_threshold: int = 32
    cat_smooth: float = 10.0
    colsample_bylevel: float = 1.0
    colsample_bynode: float = 1.0
    max_delta_step: float = 0.0  # > 0: every weight is clipped to +-this, gains use the clipped weights (XGBoost)


class _Node:
    """A node during growth: its id, sums, histogram slot and best split."""

    __slots__ = ("id", "depth", "g", "h", "lower", "upper", "hists", "slot", "gain", "feature", "bin",
                 "default_left", "left_stats", "cat_left", "left", "right", "path", "allowed")

    def __init__(self, node_id, depth, g, h, lower=-np.inf, upper=np.inf):
        self.id, self.depth = node_id, depth
        # interaction constraints: (F,) bool masks of the features split on above the node and of
        # those it may split on; None without constraints (every feature allowed)
        self.path = self.allowed = None
        self.g, self.h = g, h
        self.lower, self.upper = lower, upper  # bounds on the node's weight (monotone constraints)
        self.hists, self.slot = None, -1
        self.gain, self.feature, self.bin, self.default_left = 0.0, -1, -1, True
        self.left_stats = None
        self.cat_left = None  # (max_bin,) bool: categories that go left, for a categorical split
        self.left = self.right = None

    def splittable(self, gamma):
        """Has the node a split worth making (its gain above MIN_SPLIT_GAIN and at least ``gamma``)?"""
        return self.feature >= 0 and self.gain > MIN_SPLIT_GAIN and self.gain >= gamma


class TreeGrower:
    """Grows one tree from histograms; the rows live in a partition object.

    Parameters
    ----------
    edges : (F, max_bin - 1) float64 bin edges (raw thresholds); n_value_bins : (F,) int32
    non-missing bins per feature; missing_bin : int; params : GrowthParams;
    monotone : (F,) int8 constraint per feature (-1 decreasing, 0 none, +1 increasing) or None;
    categorical : (F,) bool, features whose bins are category codes, or None;
    interactions : (C, F) bool, the features of each interaction constraint, or None. As XGBoost's:
    the root may split on any feature; below it, a node may split on the features already split on
    above it and on every feature of each constraint that contains all of those.
    """

    # Trees over local rows: "auto" grows them in one compiled call when that compiles nothing
    # (the grower is compiled in this process or in Numba's disk cache: ``python -m
    # bindings.warmup`` puts it there) or once this process's Python driver has grown
    # RENT_BATCHES batches; True: always, compiling on first use; False: never (tests).
    compiled = "auto"

    def __init__(self, edges, n_value_bins, missing_bin, params, monotone=None, categorical=None,
                 interactions=None):
        self.edges = edges
        self.n_value_bins = n_value_bins
        self.missing_bin = missing_bin
        self.params = params
        self.monotone = np.zeros(edges.shape[0], dtype=np.int8) if monotone is None else monotone
        self.categorical = np.zeros(edges.shape[0], dtype=np.bool_) if categorical is None else categorical
        self.cat_rules = (float(params.max_cat_to_onehot), float(params.max_cat_threshold), float(params.cat_smooth))
        self.interactions = interactions
        self._use_compiled = None  # decided at the first tree over local rows (``_wants_compiled``)
        self._configuration = None  # (compilation, argument types) of this fit's compiled grower

    def grow(self, partition, features, rng=None):
        """Grow a tree and return it as a ``Tree``.

        partition : ``RowPartition`` (or a distributed equivalent) holding the tree's rows and
        gradients as node 0; features : (k,) int32 sorted ascending, the tree's (histograms hold
        them all); rng : numpy Generator drawing the features of each depth (``colsample_bylevel``,
        from ``features``) and of each node (``colsample_bynode``, from its depth's), as XGBoost;
        needed only when either is below 1. Node sums come from histograms, so they are global
        when histograms are.
        """
        if rng is None and self.compiled is not False and _dense_local(partition):
            grow_tree, args = self._compiled_call(partition, features)
            if self._wants_compiled(grow_tree, args):
                return self._grow_compiled(partition, grow_tree, args)
        self._rng, self._level_features = rng, {}
        root_hists = partition.empty_histograms(1, self._slot(0))
        partition.histograms([0], features, root_hists)
        flat, self._offsets = flat_layout(root_hists, self.n_value_bins)
        g, h = flat[0, self._offsets[features[0]]:self._offsets[features[0] + 1]].sum(axis=0)
        mds = self.params.max_delta_step
        root = _Node(0, 0, g, h, *((-mds, mds) if mds > 0 else (-np.inf, np.inf)))
        if self.interactions is not None:
            n_features = self.edges.shape[0]
            root.path, root.allowed = np.zeros(n_features, dtype=np.bool_), np.ones(n_features, dtype=np.bool_)
        root.hists, root.slot = root_hists, 0
        self._find_splits([root], root_hists, features)
        nodes = [root]
        if self.params.grow_policy == "lossguide":
            self._grow_lossguide(root, partition, features, nodes)
        else:
            self._grow_depthwise(root, partition, features, nodes)
        for node in nodes:
            node.hists = None
        tree, leaf_values = self._to_tree(root, partition.refit_leaves([n.id for n in nodes if n.left is None]))
        partition.finish(leaf_values)
        return tree

    def _wants_compiled(self, grow_tree, args):
        """Whether this tree grows in one compiled call (see ``compiled``). A ski rental per
        configuration (thread count and argument types): the Python driver costs ~0.1 ms a batch
        more than the compiled one, which costs 10-25 s to compile once (2-core machine), then
        loads from the disk cache in every later process."""
        if self.compiled != "auto":
            return bool(self.compiled)
        if self._use_compiled is None:  # looked up once per fit: a miss in the disk cache costs ~2 ms
            self._configuration = call_signature(grow_tree, args)
            self._use_compiled = compiled_for(*self._configuration)
        if not self._use_compiled and _python_batches.get(self._configuration, 0) >= RENT_BATCHES:
            self._use_compiled = True
        return self._use_compiled

    def _compiled_call(self, partition, features):
        """(grow_depthwise or grow_lossguide of ``gbdt.compiled_grower``, its arguments) for a tree
        over the rows of ``partition`` (a ``RowPartition``); the builder's memory is reused across trees."""
        p, builder = self.params, partition.hist_builder
        lossguide = p.grow_policy == "lossguide"
        settings = compiled_grower.Settings(
            lossguide, p.max_depth, p.max_leaves, p.learning_rate, p.reg_lambda, p.reg_alpha, p.gamma,
            p.min_child_weight, p.max_delta_step, self.cat_rules, self.missing_bin,
            SPLIT_MODES.index(builder.split_mode), builder.n_threads, histogram.ROWS_PER_CHUNK, builder.other_width,
            partition.partition_leaves)
        n_rows = partition.rows.shape[0]
        capacity = max(1, 2 * n_rows - 1)  # every leaf holds a row
        if p.max_depth > 0:
            capacity = min(capacity, 2 ** (p.max_depth + 1) - 1)
        if p.max_leaves > 0:
            capacity = min(capacity, 2 * p.max_leaves - 1)
        quantized = partition.gh_scale is not None
        pairs = None if quantized else as_pairs(partition.gh, np.complex64)
        rows = compiled_grower.Rows(builder.X_rows, builder.hist_cols, partition.X_route, pairs,
                                    partition.gh if quantized else None, partition.gh_scale, partition.rows,
                                    partition.scratch)
        # what the split search sees: None where no feature is constrained (no monotone constraint
        # and no weight bound) or categorical, so those scans are never compiled
        bounded = self.monotone.any() or p.max_delta_step > 0
        n_features = self.edges.shape[0]
        bin_offsets = np.arange(n_features + 1, dtype=np.int64) * builder.n_bins  # flat_layout's, uniform
        rules = compiled_grower.Rules(features, self.edges, self.n_value_bins, bin_offsets,
                                      self.monotone if bounded else None,
                                      self.categorical if self.categorical.any() else None, self.interactions)
        margin = partition.margin if partition.margin is not None and partition.leaf_refit is None else NO_MARGIN
        grow_tree = compiled_grower.grow_lossguide if lossguide else compiled_grower.grow_depthwise
        return grow_tree, (settings, rows, rules, margin, partition.column, capacity) + builder.workspace(quantized)

    def _grow_compiled(self, partition, grow_tree, args):
        """The tree of ``grow_tree(*args)``; leaf values refitted from rows where the partition asks."""
        grown, slots, chunks, packed = grow_tree(*args)
        partition.hist_builder.keep_workspace(slots, chunks, packed)
        tree = Tree(*grown[:12])
        if partition.leaf_refit is not None:
            self._refit_leaves(tree, grown, partition)
        return tree

    def _refit_leaves(self, tree, grown, partition):
        """Leaf values of ``tree`` from the rows of each leaf (``partition.leaf_refit``), then added
        to the margins (when the partition has one), as ``grow`` does with ``refit_leaves``."""
        leaves = np.flatnonzero(tree.feature < 0).tolist()
        partition.ranges = {i: (grown.start[i], grown.stop[i]) for i in leaves}
        refit = partition.refit_leaves(leaves)
        for i in leaves:
            if np.isfinite(refit[i]):
                tree.value[i] = self.params.learning_rate * refit[i]
        partition.finish({i: tree.value[i] for i in leaves})

    def _grow_depthwise(self, root, partition, features, nodes):
        max_leaves = self.params.max_leaves
        level = [root]
        n_leaves = 1
        while level:
            to_split = [node for node in level if node.splittable(self.params.gamma)]
            if max_leaves > 0:
                to_split = to_split[: max(0, max_leaves - n_leaves)]
            if not to_split:
                break
            level = self._split_batch(to_split, partition, features, nodes)
            n_leaves += len(to_split)

    def _grow_lossguide(self, root, partition, features, nodes):
        max_leaves = self.params.max_leaves
        frontier = [(-root.gain, 0, root)] if root.splittable(self.params.gamma) else []
        n_leaves = 1
        while frontier and (max_leaves <= 0 or n_leaves < max_leaves):
            node = heapq.heappop(frontier)[2]
            for child in self._split_batch([node], partition, features, nodes):
                if child.splittable(self.params.gamma):
                    heapq.heappush(frontier, (-child.gain, child.id, child))
            n_leaves += 1

    def _slot(self, depth):
        """Histogram memory slot for a level: reused alternately by depthwise growth, where a
        level's histograms are dropped once the next level exists; fresh memory for lossguide."""
        return None if self.params.grow_policy == "lossguide" else depth % 2

    def _can_split(self, node):
        p = self.params
        return (p.max_depth <= 0 or node.depth < p.max_depth) and node.h > 0 and node.h >= 2 * p.min_child_weight

    def _features_at(self, depth, features):
        """The features a node at ``depth`` may split on: a ``colsample_bylevel`` share of the
        tree's, drawn once per depth."""
        if self.params.colsample_bylevel >= 1.0:
            return features
        if depth not in self._level_features:
            self._level_features[depth] = level_sample(self._rng, self.params.colsample_bylevel, features)
        return self._level_features[depth]

    def _node_samples(self, batch, features):
        """(len(batch), len(features)) bool: the features each node may split on, its
        ``colsample_bynode`` share of its depth's ``features`` among those its interaction
        constraints allow, or None when every node keeps them all."""
        mask = None
        if self.params.colsample_bynode < 1.0:
            count = sampled_count(self.params.colsample_bynode, len(features))
            keys = self._rng.random((len(batch), len(features)))
            mask = keys <= np.sort(keys, axis=1)[:, count - 1:count]  # each row's count smallest keys
        if self.interactions is not None:
            allowed = np.array([node.allowed[features] for node in batch])
            mask = allowed if mask is None else mask & allowed
        return mask

    def _constrain_children(self, node):
        """Interaction constraints: the children's path (the node's plus its split feature) and the
        features they may split on."""
        if self.interactions is None:
            return
        path, allowed = child_interactions(self.interactions, node.path, node.feature)
        for child in (node.left, node.right):
            child.path, child.allowed = path, allowed

    def _find_splits(self, batch, hists, features):
        """Best split of every node in ``batch`` (node j's histogram is ``hists[j]``; the nodes
        share a depth)."""
        p = self.params
        n = len(batch)
        features = self._features_at(batch[0].depth, features)
        sums = np.array([(node.g, node.h) for node in batch])
        bounds = np.array([(node.lower, node.upper) for node in batch])
        gain, feature = np.empty(n), np.empty(n, dtype=np.int64)
        bins, default_left, left_stats = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.bool_), np.empty((n, 2))
        cat_left = np.empty((n, self.missing_bin + 1), dtype=np.bool_)
        find_best_splits(flat_view(hists), self._offsets, sums, features, self.n_value_bins, p.reg_lambda,
                         p.reg_alpha, p.min_child_weight, self.monotone, bounds, self.categorical, self.cat_rules, gain,
                         feature, bins, default_left, left_stats, cat_left, self._node_samples(batch, features))
        # Python scalars first: indexing numpy arrays node by node costs ~4x more
        found = zip(gain.tolist(), feature.tolist(), bins.tolist(), default_left.tolist(), left_stats.tolist())
        for j, (node, split) in enumerate(zip(batch, found)):
            if self._can_split(node):
                node.gain, node.feature, node.bin, node.default_left, node.left_stats = split
                node.cat_left = cat_left[j] if node.feature >= 0 and self.categorical[node.feature] else None

    def _split_batch(self, parents, partition, features, nodes):
        """Split ``parents`` (all with histograms in one array); returns their children.

        Rows are partitioned only for parents whose children will be split further, unless the
        partition asks for leaves too (``partition_leaves``: it updates margins from leaf ranges).
        """
        if self._configuration is not None:  # local rows: rent counted towards compiling the grower
            _python_batches[self._configuration] = _python_batches.get(self._configuration, 0) + 1
        children = []
        for node in parents:
            lg, lh = node.left_stats
            node.left = _Node(len(nodes), node.depth + 1, lg, lh, node.lower, node.upper)
            node.right = _Node(len(nodes) + 1, node.depth + 1, node.g - lg, node.h - lh, node.lower, node.upper)
            self._bound_children(node)
            self._constrain_children(node)
            nodes.extend((node.left, node.right))
            children.extend((node.left, node.right))
        need = [node for node in parents if self._can_split(node.left) or self._can_split(node.right)]
        moved = parents if partition.partition_leaves else need
        if moved:
            masks = [n.cat_left for n in moved]
            categorical = {"cat_left": masks} if any(m is not None for m in masks) else {}
            partition.split([n.id for n in moved], [n.feature for n in moved], [n.bin for n in moved],
                            [n.default_left for n in moved], [n.left.id for n in moved],
                            [n.right.id for n in moved], **categorical)
        if need:
            self._child_histograms(need, partition, features)
        for node in parents:
            node.hists = None
        return children

    def _bound_children(self, node):
        """Children of a split on a constrained feature meet at the midpoint of their weights."""
        constraint = self.monotone[node.feature]
        if constraint == 0:
            return
        mid = 0.5 * (self._weight(node.left) + self._weight(node.right))
        low, high = (node.left, node.right) if constraint > 0 else (node.right, node.left)
        low.upper, high.lower = mid, mid

    def _child_histograms(self, parents, partition, features):
        """Histograms of the children of ``parents`` in one array of 2m nodes: the m smaller
        children (by hessian sum, a global proxy for size) built from rows first, the m larger
        ones by subtraction after them."""
        m = len(parents)
        small, large = [], []
        for node in parents:
            left_smaller = node.left.h <= node.right.h
            small.append(node.left if left_smaller else node.right)
            large.append(node.right if left_smaller else node.left)
        hists = partition.empty_histograms(2 * m, self._slot(parents[0].depth + 1))
        partition.histograms([c.id for c in small], features, hists[:m])
        flat = flat_view(hists)
        subtract_histograms(flat_view(parents[0].hists), np.array([node.slot for node in parents], dtype=np.int64),
                            flat[:m], features, self._offsets, flat[m:])
        batch = small + large
        for slot, child in enumerate(batch):
            child.hists, child.slot = hists, slot
        self._find_splits(batch, hists, features)

    def _weight(self, node):
        """Optimal weight of the node clamped into its bounds (before the learning rate)."""
        p = self.params
        return clamp(leaf_weight(node.g, node.h, p.reg_lambda, p.reg_alpha), node.lower, node.upper)

    def _thresholds(self, feature, bins):
        """Raw thresholds (m,) of splits on (feature, bin) (m,) each: the upper edge of the bin;
        -inf for bin -1 (missing values alone go left, every value right). Any value for leaves."""
        edges = self.edges[np.maximum(feature, 0), np.maximum(bins, 0)]
        return np.where(bins >= 0, edges, -np.inf)

    def _to_tree(self, root, refit=None):
        """Number the surviving nodes breadth-first and emit the flat arrays; returns the ``Tree``
        and {node id: output value} of its leaves. refit : None, or {leaf id: value before the
        learning rate} replacing the leaves' gradient-based values (NaN: keep it)."""
        order, left, right = breadth_first(root)
        p = self.params
        values = np.empty(len(order))
        node_outputs(np.array([n.g for n in order]), np.array([n.h for n in order]),
                     np.array([n.lower for n in order]), np.array([n.upper for n in order]),
                     p.reg_lambda, p.reg_alpha, p.learning_rate, values)
        split = np.array(left) >= 0
        if refit is not None:
            for i, node in enumerate(order):
                if not split[i] and np.isfinite(refit[node.id]):
                    values[i] = p.learning_rate * refit[node.id]
        feature = np.array([n.feature for n in order])
        bins = np.array([n.bin for n in order])
        categorical = np.array([n.cat_left is not None for n in order]) & split
        numeric = split & ~categorical
        cat_begin, cat_end, cat_bits = [], [], []
        for node, is_categorical in zip(order, categorical):
            cat_begin.append(len(cat_bits))
            if is_categorical:
                cat_bits.extend(category_bitset(np.flatnonzero(node.cat_left)))
            cat_end.append(len(cat_bits))
        tree = Tree.from_lists(
            feature=np.where(split, feature, -1),
            threshold=np.where(numeric, self._thresholds(feature, bins), 0.0),
            bin_threshold=np.where(numeric, bins, -1), default_left=[n.default_left for n in order],
            left=left, right=right, value=values, gain=np.where(split, [n.gain for n in order], 0.0),
            cover=[n.h for n in order], cat_begin=cat_begin, cat_end=cat_end, cat_bits=cat_bits)
        leaves = {n.id: v for n, v, s in zip(order, values, split) if not s}
        return tree, leaves
