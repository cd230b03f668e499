"""Tree growth policy: which node to split next, when to stop, pruning and leaf values.

The numeric work is in the kernels (histogram, split, partition); this module is the readable
driver. ``depthwise`` expands nodes level by level up to ``max_depth``; ``lossguide`` expands the
leaf with the highest gain first up to ``max_leaves``. After growth, splits whose gain is below
``gamma`` and whose children are both leaves are pruned bottom-up, as XGBoost does.
"""
import heapq
from collections import deque
from dataclasses import dataclass

import numpy as np

from gbdt.histogram import n_row_chunks, subtract_histogram
from gbdt.partition import partition_rows
from gbdt.split import find_best_split, leaf_weight
from gbdt.tree import Tree

# XGBoost's kRtEps: a split must improve the (doubled) objective by more than this.
MIN_SPLIT_GAIN = 1e-6


@dataclass
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


class _Node:
    """A node during growth: its slice of the row partition, sums, histogram and best split."""

    __slots__ = ("id", "start", "stop", "depth", "g", "h", "c", "hist", "gain", "feature", "bin",
                 "default_left", "left_stats", "left", "right")

    def __init__(self, node_id, start, stop, depth, g, h, c):
        self.id, self.start, self.stop, self.depth = node_id, start, stop, depth
        self.g, self.h, self.c = g, h, c
        self.hist = None
        self.gain, self.feature, self.bin, self.default_left = 0.0, -1, -1, True
        self.left_stats = np.zeros(3)
        self.left = self.right = None


class TreeGrower:
    """Grows one tree on binned data with a given histogram builder.

    Parameters
    ----------
    X_binned : (n, F) uint8; edges : (F, max_bin - 1) float64 bin edges (raw thresholds);
    n_value_bins : (F,) int32 non-missing bins per feature; missing_bin : int;
    hist_builder : object with ``build(gh, rows, start, stop, features)`` -> (F, B, 3);
    params : GrowthParams.
    """

    def __init__(self, X_binned, edges, n_value_bins, missing_bin, hist_builder, params):
        self.X_binned = X_binned
        self.edges = edges
        self.n_value_bins = n_value_bins
        self.missing_bin = missing_bin
        self.hist_builder = hist_builder
        self.params = params
        self.n_threads = hist_builder.n_threads
        self._scratch = np.empty(0, dtype=np.int32)

    def grow(self, gh, rows, features):
        """Grow a tree on rows (m,) int32 (reordered in place) using ``features`` (k,) int32.

        gh : (n, 2) float32 gradient/hessian of every row. Returns (tree, leaf_slices) where
        leaf_slices is a list of (start, stop, value) over ``rows``.
        """
        p = self.params
        if self._scratch.shape[0] < rows.shape[0]:
            self._scratch = np.empty(rows.shape[0], dtype=np.int32)
        sums = gh[rows].astype(np.float64).sum(axis=0)
        root = _Node(0, 0, rows.shape[0], 0, sums[0], sums[1], float(rows.shape[0]))
        nodes = [root]
        root.hist = self.hist_builder.build(gh, rows, 0, rows.shape[0], features)
        self._find_split(root, features)
        lossguide = p.grow_policy == "lossguide"
        frontier = [] if lossguide else deque()
        self._push(frontier, root, lossguide)
        n_leaves = 1
        while frontier:
            node = heapq.heappop(frontier)[2] if lossguide else frontier.popleft()
            if p.max_leaves > 0 and n_leaves >= p.max_leaves:
                break
            left, right = self._split(node, gh, rows, features, len(nodes))
            nodes.extend((left, right))
            n_leaves += 1
            for child in (left, right):
                self._push(frontier, child, lossguide)
        for node in nodes:
            node.hist = None
        self._prune(root)
        return self._to_tree(root)

    def _can_split(self, node):
        p = self.params
        return (p.max_depth <= 0 or node.depth < p.max_depth) and node.c >= 2 and node.h >= 2 * p.min_child_weight

    def _push(self, frontier, node, lossguide):
        if node.feature < 0 or node.gain <= MIN_SPLIT_GAIN:
            return
        if lossguide:
            heapq.heappush(frontier, (-node.gain, node.id, node))
        else:
            frontier.append(node)

    def _find_split(self, node, features):
        if not self._can_split(node):
            return
        p = self.params
        node.gain, node.feature, node.bin, node.default_left = find_best_split(
            node.hist, features, self.n_value_bins, self.missing_bin, node.g, node.h, node.c,
            p.reg_lambda, p.reg_alpha, p.min_child_weight, node.left_stats,
        )

    def _split(self, node, gh, rows, features, next_id):
        n_left = partition_rows(
            self.X_binned, rows, node.start, node.stop, node.feature, node.bin, node.default_left,
            self.missing_bin, n_row_chunks(node.stop - node.start, self.n_threads), self._scratch,
        )
        lg, lh, lc = node.left_stats
        mid = node.start + n_left
        left = _Node(next_id, node.start, mid, node.depth + 1, lg, lh, lc)
        right = _Node(next_id + 1, mid, node.stop, node.depth + 1, node.g - lg, node.h - lh, node.c - lc)
        node.left, node.right = left, right
        if self._can_split(left) or self._can_split(right):
            small, large = (left, right) if n_left <= node.stop - mid else (right, left)
            small.hist = self.hist_builder.build(gh, rows, small.start, small.stop, features)
            large.hist = subtract_histogram(node.hist, small.hist, features)
            self._find_split(left, features)
            self._find_split(right, features)
        node.hist = None
        return left, right

    def _prune(self, node):
        """Collapse splits below ``gamma`` bottom-up (a split survives if any descendant does)."""
        if node.left is None:
            return
        self._prune(node.left)
        self._prune(node.right)
        if node.left.left is None and node.right.left is None and node.gain < self.params.gamma:
            node.left = node.right = None

    def _to_tree(self, root):
        """Number the surviving nodes breadth-first and emit the flat arrays and leaf slices."""
        p = self.params
        order = [root]
        for node in order:
            if node.left is not None:
                order.extend((node.left, node.right))
        index = {id(node): j for j, node in enumerate(order)}
        cols = {name: [] for name in Tree.DTYPES}
        leaves = []
        for node in order:
            value = p.learning_rate * leaf_weight(node.g, node.h, p.reg_lambda, p.reg_alpha)
            is_leaf = node.left is None
            cols["feature"].append(-1 if is_leaf else node.feature)
            cols["threshold"].append(0.0 if is_leaf else self.edges[node.feature, node.bin])
            cols["bin_threshold"].append(-1 if is_leaf else node.bin)
            cols["default_left"].append(node.default_left)
            cols["left"].append(-1 if is_leaf else index[id(node.left)])
            cols["right"].append(-1 if is_leaf else index[id(node.right)])
            cols["value"].append(value)
            cols["gain"].append(0.0 if is_leaf else node.gain)
            cols["cover"].append(node.h)
            cols["count"].append(node.c)
            if is_leaf:
                leaves.append((node.start, node.stop, value))
        return Tree.from_lists(**cols), leaves
