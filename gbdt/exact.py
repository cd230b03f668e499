"""XGBoost's ``exact`` tree method: column blocks sorted once, every distinct value a candidate.

The raw features are sorted once per fit into column blocks (``ColumnBlocks``: per feature, the
rows that have a value, ordered by their float32 value; missing values are left out, as in
XGBoost's sorted CSC pages). A tree grows one level at a time: each row carries the index of its
node in the level (``position``, -1 for rows in finished leaves), and one pass over every
feature's block, parallel over features, scans the nodes of the level together, as XGBoost's
``ColMaker`` does.

The split search follows ``src/tree/updater_colmaker.cc`` (XGBoost 1.x-3.x) to the float:

- sums are float64 over float32 gradients; gains are float32 (``bst_float``):
  ``loss_chg = f32(f32(score_L) + f32(score_R)) - f32(score_node)``, the child score
  ``T(G)^2 / (H + lambda)`` (0 when H <= 0) or, when a feature is monotone-constrained or
  ``max_delta_step`` > 0, ``-(2 G w + (H + lambda) w^2)`` at the clamped float32 weight.
- a backward scan (values descending, the rows not yet scanned plus the missing ones go left,
  ``default_left``) always runs; a forward scan (ascending, missing values right) first, only for
  columns with a missing value somewhere in the data set that are not a single value.
- a candidate lies between two consecutive distinct values of the node with both children's
  hessian sums >= ``min_child_weight``; its threshold is the float32 midpoint of the two values,
  or the lower value when the midpoint rounds onto the upper one; after the scan, all of the
  node's values on one side and the missing rows on the other is tried, at the last value
  +- (|last| + 1e-6). Rows go left when ``value < threshold``.
- a candidate replaces the best one when its gain is strictly larger (ties: the lowest feature,
  then the first candidate in scan order); the node is split when the best gain exceeds 1e-6.
- a node's weight and score are clamped into its parent's monotone bounds; a split on a
  constrained feature gives the children bounds that meet at the mean of their weights; a split
  breaking the order of its children's weights has gain -inf.
- ``gamma`` prunes bottom-up after growth (XGBoost's ``prune`` updater): a split whose children
  are leaves and whose gain is below ``gamma`` becomes a leaf, repeatedly.
- ``colsample_bylevel`` draws each depth's features from the tree's (``gbdt.grower.level_sample``,
  XGBoost's ``ColumnSampler::GetFeatureSet(depth)``); interaction constraints leave a feature
  unscanned for the nodes that may not split on it (``gbdt.grower.child_interactions``, XGBoost's
  ``FeatureInteractionConstraintHost``). XGBoost's exact refuses ``colsample_bynode``, so do we.

Per level, each row's gradient, hessian and node sit side by side (``level_rows``), so an entry
of a block costs one gather, not two. Rows move to their children by one read of the raw matrix
each (``route_rows``), not by a pass over the split features' blocks: the same positions.

Trees come out as ``gbdt.tree.Tree`` with raw thresholds only (``bin_threshold`` -1). XGBoost
compares the float32 value of a feature (``float32(x) < split value``); the float64 threshold is
chosen so that ``x <= threshold`` is that comparison for every float64 x (``raw_threshold``).
"""
from dataclasses import dataclass

import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.grower import breadth_first, child_interactions, level_sample
from gbdt.split import soft_threshold
from gbdt.tree import Tree

# XGBoost's kRtEps: a split must gain more than this (float32)
RT_EPS = np.float32(1e-6)


@jit(parallel=True)
def _column_counts(X, out):
    """out[f + 1] = the non-missing values of column f of X (n, F) float64."""
    for f in prange(X.shape[1]):
        count = 0
        for i in range(X.shape[0]):
            count += X[i, f] == X[i, f]
        out[f + 1] = count


@jit(parallel=True)
def _fill_columns(X, col_ptr, col_row, col_value):
    """Each column's non-missing rows (int32) and float32 values sorted by the float64 value
    (stable: ties keep row order; rounding to float32 keeps the order) into
    col_row/col_value[col_ptr[f]:col_ptr[f + 1]]."""
    for f in prange(X.shape[1]):
        begin = col_ptr[f]
        values = np.empty(col_ptr[f + 1] - begin)
        rows = np.empty(col_ptr[f + 1] - begin, dtype=np.int32)
        m = 0
        for i in range(X.shape[0]):
            x = X[i, f]
            if x == x:
                values[m] = x
                rows[m] = i
                m += 1
        order = np.argsort(values, kind="mergesort")
        for j in range(m):
            col_value[begin + j] = np.float32(values[order[j]])
            col_row[begin + j] = rows[order[j]]


@dataclass
class ColumnBlocks:
    """Every feature's values sorted once: for feature f, entries ``col_ptr[f]:col_ptr[f + 1]`` of
    ``col_row`` (int32 row) and ``col_value`` (float32 value), ascending by the float64 value;
    missing values absent.

    col_ptr : (F + 1,) int64; forward : (F,) bool, the columns XGBoost also scans ascending (a
    missing value somewhere, and more than one distinct value). Memory: 8 bytes per present value.
    """

    col_ptr: np.ndarray
    col_row: np.ndarray
    col_value: np.ndarray
    forward: np.ndarray

    @classmethod
    def from_dense(cls, X):
        """Blocks of X (n, F) float64 (NaN missing)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        n, n_features = X.shape
        col_ptr = np.zeros(n_features + 1, dtype=np.int64)
        _column_counts(X, col_ptr)
        counts = col_ptr[1:].copy()
        np.cumsum(col_ptr, out=col_ptr)
        col_row = np.empty(col_ptr[-1], dtype=np.int32)
        col_value = np.empty(col_ptr[-1], dtype=np.float32)
        _fill_columns(X, col_ptr, col_row, col_value)
        nonempty = counts > 0
        single = np.zeros(n_features, dtype=np.bool_)  # one float32 value only: XGBoost skips its forward scan
        single[nonempty] = col_value[col_ptr[:-1][nonempty]] == col_value[col_ptr[1:][nonempty] - 1]
        return cls(col_ptr, col_row, col_value, (counts < n) & ~single)

    @property
    def nbytes(self):
        return self.col_ptr.nbytes + self.col_row.nbytes + self.col_value.nbytes + self.forward.nbytes


@jit(inline=True)
def _weight(g, h, lower, upper, reg):
    """XGBoost's float32 node weight: -T(G) / (H + lambda), 0 when H < min_child_weight or H <= 0,
    clipped to +-max_delta_step (when > 0), clamped into [lower, upper]. reg = (lambda, alpha,
    min_child_weight, max_delta_step)."""
    if h < reg[2] or h <= 0.0:
        w = 0.0
    else:
        w = -soft_threshold(g, reg[1]) / (h + reg[0])
        if reg[3] != 0.0 and abs(w) > reg[3]:
            w = reg[3] if w > 0.0 else -reg[3]
    wf = np.float32(w)
    if wf < lower:
        return np.float32(lower)
    if wf > upper:
        return np.float32(upper)
    return wf


@jit(inline=True)
def _score(g, h, w, reg, by_weight):
    """float32 twice the loss reduction of a child with sums (g, h) at weight w (XGBoost's
    ``SplitEvaluator::CalcGainGivenWeight``)."""
    if h <= 0.0:
        return np.float32(0.0)
    if not by_weight:
        t = soft_threshold(g, reg[1])
        return np.float32(t * t / (h + reg[0]))
    wf = np.float32(w)
    return -(np.float32(2.0) * np.float32(g) * wf + (np.float32(h) + np.float32(reg[0])) * (wf * wf))


@jit(inline=True)
def _split_gain(lg, lh, rg, rh, lower, upper, constraint, node_score, reg, by_weight):
    """float32 loss change of a split with left (lg, lh), right (rg, rh); -inf when it breaks
    the feature's monotone ``constraint``."""
    if not by_weight:  # the weights are not needed (no feature is constrained): skip two divisions
        return np.float32(_score(lg, lh, 0.0, reg, False) + _score(rg, rh, 0.0, reg, False) - node_score)
    wl = _weight(lg, lh, lower, upper, reg)
    wr = _weight(rg, rh, lower, upper, reg)
    gain = _score(lg, lh, wl, reg, True) + _score(rg, rh, wr, reg, True)
    if (constraint > 0 and wl > wr) or (constraint < 0 and wl < wr):
        return -np.inf
    return np.float32(gain - node_score)


# entries whose rows' statistics are gathered before they are scanned: the independent loads of a
# batch overlap their cache misses (XGBoost's kBuffer prefetch in ``EnumerateSplit``)
GATHER = 64


@jit(inline=True)
def _cannot_beat(lg, lh, rg, rh, target, reg):
    """Whether a split (no feature constrained, no max_delta_step) is sure to gain no more than
    ``target`` - node score, without its two divisions: T(G_L)^2 / (H_L + lambda) + T(G_R)^2 /
    (H_R + lambda) < target (1 - 2e-6), multiplied through by the positive denominators. The float32
    gain rounds each score and their sum up by at most (1 + 2^-24)^2, so it cannot reach target;
    False (evaluate it) where a hessian sum is not positive."""
    dl = lh + reg[0]
    dr = rh + reg[0]
    if lh <= 0.0 or rh <= 0.0 or dl <= 0.0 or dr <= 0.0:
        return False
    tl = soft_threshold(lg, reg[1])
    tr = soft_threshold(rg, reg[1])
    return tl * tl * dr + tr * tr * dl < target * (1.0 - 2e-6) * dl * dr


@jit(inline=True)
def _offer(best, node, gain, value, default_left, lg, lh):
    """Keep (gain, value, default_left, G_L, H_L) as node's best when its gain is strictly larger."""
    if gain > best[node, 0] and not np.isinf(gain):
        best[node, 0] = gain
        best[node, 1] = value
        best[node, 2] = default_left
        best[node, 3] = lg
        best[node, 4] = lh


@jit(inline=True)
def _scan(col_row, col_value, begin, end, step, level_rows, open_nodes, node_sums, node_score, bounds, constraint,
          reg, by_weight, state, best, node_buf, g_buf, h_buf):
    """One direction of the enumeration of a column (``step`` 1: ascending, scanned rows go left and
    missing ones right; -1: descending, scanned rows go right, the rest left). ``state`` (N, 3)
    float64 per node: (G, H) scanned so far, last value; ``best`` (N, 5) float64 the node's best
    (gain, value, default_left, G_L, H_L)."""
    min_child_weight = reg[2]
    state[:] = 0.0
    count = end - begin
    for start in range(0, count, GATHER):
        stop = min(count, start + GATHER)
        for t in range(stop - start):
            e = begin + start + t if step == 1 else end - 1 - start - t
            row = col_row[e]
            node_buf[t] = level_rows[row, 2]
            g_buf[t] = level_rows[row, 0]
            h_buf[t] = level_rows[row, 1]
        for t in range(stop - start):
            node = np.int64(node_buf[t])
            if node < 0 or not open_nodes[node]:
                continue
            e = begin + start + t if step == 1 else end - 1 - start - t
            v = col_value[e]
            sg, sh, last = state[node, 0], state[node, 1], np.float32(state[node, 2])
            if sh != 0.0 and v != last and sh >= min_child_weight:
                ch = node_sums[node, 1] - sh
                if ch >= min_child_weight:
                    cg = node_sums[node, 0] - sg
                    if step == 1:  # scanned rows left, the rest (missing included) right
                        lg, lh, rg, rh = sg, sh, cg, ch
                    else:  # scanned rows right
                        lg, lh, rg, rh = cg, ch, sg, sh
                    # most candidates lose: rule them out without the divisions first
                    if by_weight or not _cannot_beat(lg, lh, rg, rh, best[node, 0] + node_score[node], reg):
                        gain = _split_gain(lg, lh, rg, rh, bounds[node, 0], bounds[node, 1], constraint,
                                           node_score[node], reg, by_weight)
                        mid = np.float32((v + last) * np.float32(0.5))
                        _offer(best, node, gain, last if mid == v else mid, step == -1, lg, lh)
            state[node, 0] = sg + g_buf[t]
            state[node, 1] = sh + h_buf[t]
            state[node, 2] = v
    for node in range(state.shape[0]):  # every value of the node on one side, missing rows on the other
        if not open_nodes[node]:
            continue
        sg, sh, last = state[node, 0], state[node, 1], np.float32(state[node, 2])
        cg = node_sums[node, 0] - sg
        ch = node_sums[node, 1] - sh
        if sh >= min_child_weight and ch >= min_child_weight:
            if step == 1:
                lg, lh, rg, rh = sg, sh, cg, ch
            else:
                lg, lh, rg, rh = cg, ch, sg, sh
            gain = _split_gain(lg, lh, rg, rh, bounds[node, 0], bounds[node, 1], constraint, node_score[node],
                               reg, by_weight)
            gap = np.float32(abs(last) + RT_EPS)
            _offer(best, node, gain, last + (gap if step == 1 else -gap), step == -1, lg, lh)


@jit(parallel=True)
def find_exact_splits(col_ptr, col_row, col_value, forward, level_rows, node_sums, node_score, bounds, features,
                      allowed, monotone, reg, by_weight, out_gain, out_value, out_left, out_stats):
    """Best split of every node of a level on each of ``features``, scanning the column blocks.

    level_rows : (n, 3) float32 per row (g, h, node index in the level; -1: row out of the level),
    as ``level_rows`` writes them; node_sums : (N, 2) float64 (G, H); node_score : (N,) float32; bounds : (N, 2)
    float32 the nodes' monotone bounds; features : (k,) int64; allowed : (N, k) bool, the features
    each node may split on (interaction constraints); monotone : (F,) int8; reg : (lambda, alpha,
    min_child_weight, max_delta_step); by_weight : score children at their weights (XGBoost does
    when any feature is constrained or max_delta_step > 0).
    Writes, for feature i and node j: out_gain[i, j] float32 (0: none better than no split),
    out_value[i, j] float32 threshold, out_left[i, j] default_left, out_stats[i, j] (G_L, H_L).
    """
    n_nodes = node_sums.shape[0]
    for i in prange(features.shape[0]):
        f = features[i]
        state = np.empty((n_nodes, 3))
        best = np.zeros((n_nodes, 5))
        open_nodes = allowed[:, i].copy()
        node_buf = np.empty(GATHER, dtype=np.float32)
        g_buf = np.empty(GATHER, dtype=np.float32)
        h_buf = np.empty(GATHER, dtype=np.float32)
        for step in (1, -1):
            if step == 1 and not forward[f]:
                continue
            _scan(col_row, col_value, col_ptr[f], col_ptr[f + 1], step, level_rows, open_nodes, node_sums,
                  node_score, bounds, monotone[f], reg, by_weight, state, best, node_buf, g_buf, h_buf)
        for node in range(n_nodes):
            out_gain[i, node] = best[node, 0]
            out_value[i, node] = best[node, 1]
            out_left[i, node] = best[node, 2] != 0.0
            out_stats[i, node, 0] = best[node, 3]
            out_stats[i, node, 1] = best[node, 4]


@jit
def level_rows(position, gh, out):
    """out (n, 3) float32 = (g, h, node) of each row: its gradients ``gh`` (n, 2) float32 and its
    node index ``position`` (n,) int32 (-1 out of the level), side by side so that the scan of a
    column gathers one row in one cache line."""
    for row in range(position.shape[0]):
        out[row, 0] = gh[row, 0]
        out[row, 1] = gh[row, 1]
        out[row, 2] = position[row]


@jit
def level_sums(position, gh, out):
    """out (N, 2) float64 = the (G, H) sums of the rows at each node index of ``position`` (n,)."""
    out[:] = 0.0
    for row in range(position.shape[0]):
        node = position[row]
        if node >= 0:
            out[node, 0] += gh[row, 0]
            out[node, 1] += gh[row, 1]


@jit(parallel=True)
def route_rows(X, position, split_feature, split_value, default_child, left_child):
    """Move each row of ``position`` (n,) int32 to its child's index in the next level: the left
    child ``left_child[j]`` when ``float32(X[row, f]) < split_value[j]`` for its node's split
    feature f = ``split_feature[j]``, the right one (left + 1) otherwise, ``default_child[j]`` for a
    missing value; -1 for rows of nodes not split (``split_feature[j]`` < 0). All (N,) over the
    level's nodes; X (n, F) float64 the raw rows the blocks sort. One read per row of the level
    (XGBoost walks the split features' blocks: a whole column per split feature)."""
    for row in prange(position.shape[0]):
        node = position[row]
        if node < 0:
            continue
        f = split_feature[node]
        if f < 0:
            position[row] = -1
            continue
        x = X[row, f]
        if x != x:
            position[row] = default_child[node]
        else:
            position[row] = left_child[node] + (0 if np.float32(x) < split_value[node] else 1)


def raw_threshold(split_value):
    """(m,) float64 thresholds t with ``x <= t`` <=> ``float32(x) < split_value`` for every
    float64 x; split_value (m,) float32. The float64 values that round to a float32 below c are
    those under the midpoint m of c and the float32 below it (m itself when it rounds down)."""
    c = np.asarray(split_value, dtype=np.float32)
    below = np.nextafter(c, np.float32(-np.inf)).astype(np.float64)
    mid = 0.5 * (below + c.astype(np.float64))
    with np.errstate(over="ignore", invalid="ignore"):
        rounds_down = mid.astype(np.float32) < c
    return np.where(rounds_down, mid, np.nextafter(mid, -np.inf))


@dataclass
class TreeRows:
    """The rows of one tree: gradients (n, 2) float32 of its output and the round's sampled rows
    (m,) int32."""

    gh: np.ndarray
    sampled: np.ndarray


class _Node:
    """A node during growth: sums, float32 weight and score (clamped into the parent's bounds),
    its own monotone bounds, its split."""

    __slots__ = ("depth", "g", "h", "weight", "score", "bounds", "feature", "value", "default_left", "gain",
                 "left", "right", "path", "allowed")

    def __init__(self, depth, bounds, path=None, allowed=None):
        self.depth, self.bounds = depth, bounds
        self.feature, self.value, self.default_left, self.gain = -1, 0.0, True, 0.0
        self.left = self.right = None
        # interaction constraints: (F,) bool, the features split on above the node and those it
        # may split on; None without constraints
        self.path, self.allowed = path, allowed


class ExactGrower:
    """Grows depthwise trees by exact enumeration over ``blocks`` (``ColumnBlocks`` of X (n, F)
    float64, the raw rows, NaN missing).

    params : ``gbdt.grower.GrowthParams`` (depthwise; ``max_depth`` <= 0: no depth limit;
    ``colsample_bylevel``; ``colsample_bynode`` must be 1, as XGBoost's exact refuses it);
    monotone : (F,) int8 -1/0/+1 per feature; interactions : (C, F) bool, the features of each
    interaction constraint, or None (the rule of ``gbdt.grower.child_interactions``).
    """

    def __init__(self, X, blocks, params, monotone, interactions=None):
        self.X, self.blocks, self.params = X, blocks, params
        self.monotone = np.ascontiguousarray(monotone, dtype=np.int8)
        self.interactions = interactions
        mds = params.max_delta_step or 0.0
        self.reg = (float(params.reg_lambda), float(params.reg_alpha), float(params.min_child_weight), float(mds))
        self.by_weight = bool(self.monotone.any()) or mds > 0.0

    def grow(self, rows, features, rng=None):
        """The ``Tree`` of ``rows`` (``TreeRows``) split on ``features`` (k,) sorted feature ids;
        rng : numpy Generator drawing each depth's features (``colsample_bylevel`` < 1 only)."""
        b, p = self.blocks, self.params
        n_features = len(self.monotone)
        position = np.full(rows.gh.shape[0], -1, dtype=np.int32)
        position[rows.sampled[rows.gh[rows.sampled, 1] >= 0.0]] = 0  # XGBoost drops rows with a negative hessian
        row_stats = np.empty((rows.gh.shape[0], 3), dtype=np.float32)
        features = np.asarray(features, dtype=np.int64)
        unbounded = (np.float32(-np.inf), np.float32(np.inf))
        root = _Node(0, unbounded)
        if self.interactions is not None:
            root.path, root.allowed = np.zeros(n_features, dtype=np.bool_), np.ones(n_features, dtype=np.bool_)
        self._weigh([root], [unbounded], position, rows.gh)
        level = [root]
        while level:
            if 0 < p.max_depth <= level[0].depth:
                break
            n = len(level)
            feats = features if p.colsample_bylevel >= 1.0 else level_sample(rng, p.colsample_bylevel, features)
            k = len(feats)
            allowed = (np.ones((n, k), dtype=np.bool_) if self.interactions is None
                       else np.array([nd.allowed[feats] for nd in level]).reshape(n, k))
            gain = np.empty((k, n), dtype=np.float32)
            value = np.empty((k, n), dtype=np.float32)
            left = np.empty((k, n), dtype=np.bool_)
            left_sums = np.empty((k, n, 2))
            level_rows(position, rows.gh, row_stats)
            find_exact_splits(b.col_ptr, b.col_row, b.col_value, b.forward, row_stats,
                              np.array([(nd.g, nd.h) for nd in level]),
                              np.array([nd.score for nd in level], dtype=np.float32),
                              np.array([nd.bounds for nd in level], dtype=np.float32), feats, allowed,
                              self.monotone, self.reg, self.by_weight, gain, value, left, left_sums)
            # per node, the largest gain; ties to the lowest feature (argmax takes the first)
            best = np.argmax(gain, axis=0) if k else np.zeros(n, dtype=np.int64)
            children, parent_bounds = [], []
            split_feature = np.full(n, -1, dtype=np.int64)
            split_value = np.zeros(n, dtype=np.float32)
            default_child = np.zeros(n, dtype=np.int32)
            left_child = np.zeros(n, dtype=np.int32)
            for j, node in enumerate(level):
                if not k or gain[best[j], j] <= RT_EPS:
                    continue
                i = best[j]
                node.feature, node.value, node.gain = int(feats[i]), value[i, j], float(gain[i, j])
                node.default_left = bool(left[i, j])
                split_feature[j], split_value[j] = node.feature, node.value
                left_child[j] = len(children)
                default_child[j] = len(children) + (0 if node.default_left else 1)
                path = allowed_below = None
                if self.interactions is not None:
                    path, allowed_below = child_interactions(self.interactions, node.path, node.feature)
                node.left = _Node(node.depth + 1, node.bounds, path, allowed_below)
                node.right = _Node(node.depth + 1, node.bounds, path, allowed_below)
                children.extend((node.left, node.right))
                parent_bounds.extend((node.bounds, node.bounds))
            if not children:
                break
            route_rows(self.X, position, split_feature, split_value, default_child, left_child)
            self._weigh(children, parent_bounds, position, rows.gh)
            for node in level:
                self._bound_children(node)
            level = children
        self._prune(root)
        return self._to_tree(root)

    def _weigh(self, level, parent_bounds, position, gh):
        """Sums, weight and score of each node of ``level`` (its rows at ``position``), clamped into
        ``parent_bounds`` (XGBoost's ``InitNewNode``)."""
        sums = np.empty((len(level), 2))
        level_sums(position, gh, sums)
        for node, (g, h), (low, high) in zip(level, sums.tolist(), parent_bounds):
            node.g, node.h = g, h
            node.weight = _weight(g, h, low, high, self.reg)
            node.score = _score(g, h, node.weight, self.reg, self.by_weight)

    def _bound_children(self, node):
        """A split on a constrained feature: the children's bounds meet at the mean of their weights."""
        if node.left is None:
            return
        constraint = self.monotone[node.feature]
        if constraint == 0:
            return
        mid = np.float32((node.left.weight + node.right.weight) / np.float32(2.0))
        low, high = node.bounds
        if constraint > 0:
            node.left.bounds, node.right.bounds = (low, mid), (mid, high)
        else:
            node.left.bounds, node.right.bounds = (mid, high), (low, mid)

    def _prune(self, node):
        """``gamma``: bottom-up, a split whose children are leaves and whose gain is below gamma
        becomes a leaf (XGBoost's ``prune`` updater)."""
        if node.left is None:
            return
        self._prune(node.left)
        self._prune(node.right)
        if node.left.left is None and node.right.left is None and node.gain < self.params.gamma:
            node.left = node.right = None
            node.feature = -1

    def _to_tree(self, root):
        """The flat ``Tree``, nodes numbered breadth-first; values are XGBoost's float32
        ``weight * learning_rate``; thresholds ``raw_threshold`` of the split values."""
        order, left, right = breadth_first(root)
        split = np.array(left) >= 0
        rate = np.float32(self.params.learning_rate)
        value = np.array([nd.value for nd in order], dtype=np.float32)
        return Tree.from_lists(
            feature=np.where(split, [nd.feature for nd in order], -1),
            threshold=np.where(split, raw_threshold(value), 0.0),
            bin_threshold=np.full(len(order), -1), default_left=[nd.default_left for nd in order],
            left=left, right=right, value=[float(np.float32(nd.weight) * rate) for nd in order],
            gain=np.where(split, [nd.gain for nd in order], 0.0), cover=[nd.h for nd in order])
