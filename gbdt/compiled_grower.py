"""A whole tree grown in one compiled call: ``TreeGrower``'s policy without returning to Python per level.

``gbdt.grower.TreeGrower`` drives the kernels from Python, one batch of nodes at a time; a level
of a small fit then costs ~0.25 ms of Python (node objects, schedules, a dozen kernel launches)
against tens of microseconds of kernel work. ``grow_depthwise`` and ``grow_lossguide`` are the
same driver compiled: the functions below carry the names of the Python methods they mirror
(``_split_batch``, ``_child_histograms``, ``_find_splits``, ...) and call the same kernels in the
same order on the same arrays, so the trees are the same bit for bit
(tests/gbdt/test_compiled_grower.py). A node is a row of the ``Nodes`` arrays, indexed by its id
(ids as the Python driver gives them: the root 0, then the two children of each split in turn)::

    stats (capacity, 7) float64:  G  H  LOWER  UPPER  GAIN  LEFT_G  LEFT_H
    links (capacity, 10) int64:   DEPTH  FEATURE  BIN  DEFAULT_LEFT  LEFT  RIGHT  HIST_BATCH  SLOT
                                  START  STOP   (histogram: batch array and slot; rows: rows[START:STOP])
    cat_left (capacity, B) bool, paths (capacity, 2, F) bool: PATH, ALLOWED (interaction constraints)

Few wide arrays rather than one per field: Numba's compile time grows with the members of the
tuples that every function passes on (a cold first fit compiles these functions once).
Histograms of a batch of nodes live in one array of ``Memory.hist_batches``: depthwise growth
alternates two arrays by depth (reused across trees, as ``HistogramBuilder.empty``'s slots),
lossguide growth takes fresh memory per split, as the Python driver does.

Histograms here are the uniform layout's (N, F, B, 2) arrays of ``HistogramBuilder``, which the split
search and the subtraction read through their flat (N, T, 2) view with ``Rules.bin_offsets``, as
``TreeGrower`` does. The Python driver remains for what this one does not do: per-level and per-node
column sampling (``colsample_bylevel``/``colsample_bynode`` draw from a numpy Generator between levels),
sparse and bundled bins (compact histograms, built by Python classes around their kernels:
``gbdt.sparse_histogram``, ``gbdt.bundling``) and the Dask leader, whose rows live on workers
(``cluster.shard``). It also grows the trees while this
one is not compiled: compiling it takes 10-25 s of CPU on the 2-core machine (its code, and every
kernel linked into it once more), a cold first fit 4-5 s without it, so ``TreeGrower`` calls it
when that compiles nothing (``TreeGrower.compiled``; ``python -m bindings.warmup`` compiles it).
"""
from collections import namedtuple

import numpy as np

from gbdt._jit import jit
from gbdt.histogram import build_histograms, subtract_histograms
from gbdt.partition import add_leaf_values, fill_routing_table, partition_level
from gbdt.quantize import dequantize_histograms
from gbdt.schedule import compiled_thread_schedule
from gbdt.split import MIN_SPLIT_GAIN, clamp, compiled_find_best_splits, compiled_node_outputs, leaf_weight

Settings = namedtuple("Settings", [
    "lossguide", "max_depth", "max_leaves", "learning_rate", "reg_lambda", "reg_alpha", "gamma", "min_child_weight",
    "max_delta_step", "cat_rules", "missing_bin", "split_mode", "n_threads", "rows_per_chunk", "other_width",
    "partition_leaves"])
Settings.__doc__ = """The numbers growth needs: ``GrowthParams`` (``lossguide``: the grow policy;
``cat_rules`` (max_cat_to_onehot,
max_cat_threshold, cat_smooth) floats), the missing bin, the split_mode code
(``gbdt.histogram.SPLIT_MODES``), threads, ROWS_PER_CHUNK and other_width (``build_histograms``),
and whether leaves are partitioned too (``RowPartition.partition_leaves``)."""

Rows = namedtuple("Rows", ["X_rows", "X_cols", "X_route", "gh_pairs", "gh_packed", "gh_scale", "rows", "scratch"])
Rows.__doc__ = """The rows of one tree: X_rows (n, F) uint8 C-ordered bins; X_cols its Fortran-ordered
copy, or None when histograms are built data-parallel only (the feature-parallel kernel is then
never compiled); X_route the bins partitions read (the column copy when there is one); the
gradients as gh_pairs (n,) complex64 (gradient + 1j hessian), or as gh_packed (n,) int64 packed
quantised pairs at scale gh_scale = (s_g, s_h), the others None; rows (m,) int32, the tree's
rows ascending, reordered in place (children take their parent's place); scratch (m,) int32
(``RowPartition``)."""

Rules = namedtuple("Rules", ["features", "edges", "n_value_bins", "bin_offsets", "monotone", "categorical",
                             "interactions"])
Rules.__doc__ = """What splits may do: features (k,) int32 sorted, the tree's; edges (F, B - 1) float64;
n_value_bins (F,) int32; bin_offsets (F + 1,) int64, feature f's bins in the flat view of the
uniform histograms (``gbdt.histogram.flat_layout``: f times max_bin); monotone (F,) int8, or None without monotone constraints and weight
bounds; categorical (F,) bool, or None without categorical features; interactions (C, F) bool or
None (``TreeGrower``'s arguments)."""

# reused histogram memory, each in a list so that growth can replace it: the histogram arrays of
# the batches, the per-chunk buffers and the packed histograms of ``build_histograms``
Memory = namedtuple("Memory", ["hist_batches", "chunk_buffers", "packed"])

Nodes = namedtuple("Nodes", ["stats", "links", "cat_left", "paths"])
G, H, LOWER, UPPER, GAIN, LEFT_G, LEFT_H = range(7)
DEPTH, FEATURE, BIN, DEFAULT_LEFT, LEFT, RIGHT, HIST_BATCH, SLOT, START, STOP = range(10)
PATH, ALLOWED = range(2)

Tree = namedtuple("Tree", [
    "feature", "threshold", "bin_threshold", "default_left", "left", "right", "value", "gain", "cover", "cat_begin",
    "cat_end", "cat_bits", "start", "stop"])
Tree.__doc__ = """A grown tree: the fields of ``gbdt.tree.Tree`` in breadth-first node order, and each
node's rows, ``rows[start:stop]`` (-1 when never partitioned)."""


@jit(calls_parallel=True)
def grow_depthwise(s, rows, rules, margin, column, capacity, hist_slots, chunk_buffers, packed):
    """Grow one tree level by level up to ``max_depth`` (and ``max_leaves``).

    s : ``Settings``; rows : ``Rows``; rules : ``Rules``; margin : (n, K) float64, whose column
    ``column`` of every row gets its leaf's value, or (0, K) for none; capacity : an upper bound on the
    tree's nodes. hist_slots : two (>= 0, F, B, 2) float64 arrays, chunk_buffers (>= 0, F, B)
    complex128 (int64 when quantised) and packed (>= 0, F, B) int64: memory reused across trees.
    Returns (``Tree``, hist_slots, chunk_buffers, packed), the memory reallocated where too small.
    """
    nodes, memory = _grow_root(s, rows, rules, margin, column, capacity, hist_slots, chunk_buffers, packed)
    level = np.zeros(1, dtype=np.int64)
    n_nodes = 1
    n_leaves = 1
    while level.shape[0] > 0:
        to_split = np.empty(level.shape[0], dtype=np.int64)
        n_split = 0
        for node in level:
            if _splittable(s, nodes, node):
                to_split[n_split] = node
                n_split += 1
        if s.max_leaves > 0:
            n_split = min(n_split, max(0, s.max_leaves - n_leaves))
        if n_split == 0:
            break
        level, n_nodes = _split_batch(s, rows, rules, memory, nodes, n_nodes, to_split[:n_split])
        n_leaves += n_split
    return _finish(s, rows, rules, memory, nodes, n_nodes, margin, column)


@jit(calls_parallel=True)
def grow_lossguide(s, rows, rules, margin, column, capacity, hist_slots, chunk_buffers, packed):
    """Grow one tree by splitting the leaf with the highest gain first (the lowest id on ties, as
    the Python driver's heap of (-gain, id)), up to ``max_leaves``; arguments and result as
    ``grow_depthwise``'s."""
    nodes, memory = _grow_root(s, rows, rules, margin, column, capacity, hist_slots, chunk_buffers, packed)
    frontier = [0]
    if not _splittable(s, nodes, 0):
        frontier.pop()
    # nodes of each histogram array that may still be split: an array is freed when none is left
    live = np.zeros(len(memory.hist_batches) + capacity, dtype=np.int64)
    live[nodes.links[0, HIST_BATCH]] = len(frontier)
    n_nodes = 1
    n_leaves = 1
    parent = np.zeros(1, dtype=np.int64)
    while len(frontier) > 0 and (s.max_leaves <= 0 or n_leaves < s.max_leaves):
        best = 0
        for j in range(1, len(frontier)):
            a, b = frontier[j], frontier[best]
            if nodes.stats[a, GAIN] > nodes.stats[b, GAIN] or (nodes.stats[a, GAIN] == nodes.stats[b, GAIN] and a < b):
                best = j
        parent[0] = frontier.pop(best)
        children, n_nodes = _split_batch(s, rows, rules, memory, nodes, n_nodes, parent)
        used = nodes.links[parent[0], HIST_BATCH]
        live[used] -= 1
        if live[used] == 0:
            memory.hist_batches[used] = memory.hist_batches[used][:0]
        for child in children:
            if _splittable(s, nodes, child):  # it has a histogram, in the children's new array
                frontier.append(child)
                live[nodes.links[child, HIST_BATCH]] += 1
        n_leaves += 1
    return _finish(s, rows, rules, memory, nodes, n_nodes, margin, column)


@jit(inline=True, calls_parallel=True)
def _grow_root(s, rows, rules, margin, column, capacity, hist_slots, chunk_buffers, packed):
    """(Nodes, Memory) with the root: its rows, histogram, sums and best split (``TreeGrower.grow``)."""
    n_bins = hist_slots[0].shape[2]
    _check_inputs(rows, rules, margin, column, capacity, n_bins)
    n_features = rows.X_rows.shape[1]
    n_cat = 0 if rules.categorical is None else capacity
    n_paths = 0 if rules.interactions is None else capacity
    nodes = Nodes(np.empty((capacity, 7)), np.full((capacity, 10), -1, dtype=np.int64),
                  np.zeros((n_cat, n_bins), dtype=np.bool_), np.zeros((n_paths, 2, n_features), dtype=np.bool_))
    memory = Memory([hist_slots[0], hist_slots[1]], [chunk_buffers], [packed])
    mds = s.max_delta_step
    _add_node(nodes, 0, 0, 0.0, 0.0, -mds if mds > 0 else -np.inf, mds if mds > 0 else np.inf)
    nodes.links[0, START], nodes.links[0, STOP] = 0, rows.rows.shape[0]
    root = np.zeros(1, dtype=np.int64)
    batch = _new_batch(s, memory, 0, 1, n_features, n_bins)
    root_hists = memory.hist_batches[batch][:1]
    _histograms(s, rows, nodes, root, rules.features, memory, root_hists)
    g, h = 0.0, 0.0
    root_flat = _flat_view(root_hists)
    first = rules.features[0]
    # numpy's order for TreeGrower's flat[0, offsets[f]:offsets[f + 1]].sum(axis=0): bin after bin
    for b in range(rules.bin_offsets[first], rules.bin_offsets[first + 1]):
        g += root_flat[0, b, 0]
        h += root_flat[0, b, 1]
    nodes.stats[0, G], nodes.stats[0, H] = g, h
    nodes.links[0, HIST_BATCH], nodes.links[0, SLOT] = batch, 0
    if nodes.paths.shape[0] > 0:  # interaction constraints: the root may split on any feature
        for f in range(n_features):
            nodes.paths[0, ALLOWED, f] = True
    _find_splits(s, nodes, root, root_hists, rules)
    return nodes, memory


@jit(inline=True, calls_parallel=True)
def _finish(s, rows, rules, memory, nodes, n_nodes, margin, column):
    """The grown tree, its leaves added to the margins (when given), and the memory to reuse."""
    tree = _to_tree(s, nodes, n_nodes, rules.edges, rules.categorical)
    _add_leaves_to_margin(s, tree, rows.rows, margin, column)
    return tree, (memory.hist_batches[0], memory.hist_batches[1]), memory.chunk_buffers[0], memory.packed[0]


@jit(inline=True)
def _add_node(nodes, node, depth, g, h, lower, upper):
    """Node ``node`` with sums (g, h) and weight bounds, no split yet (``_Node.__init__``)."""
    stats, links = nodes.stats[node], nodes.links[node]
    stats[G], stats[H], stats[LOWER], stats[UPPER], stats[GAIN] = g, h, lower, upper, 0.0
    links[DEPTH], links[FEATURE], links[BIN], links[DEFAULT_LEFT] = depth, -1, -1, 1


@jit(inline=True)
def _can_split(s, nodes, node):
    h = nodes.stats[node, H]
    return (s.max_depth <= 0 or nodes.links[node, DEPTH] < s.max_depth) and h > 0 and h >= 2 * s.min_child_weight


@jit(inline=True)
def _splittable(s, nodes, node):
    """Has the node a split worth making (its gain above MIN_SPLIT_GAIN and at least ``gamma``)?"""
    gain = nodes.stats[node, GAIN]
    return nodes.links[node, FEATURE] >= 0 and gain > MIN_SPLIT_GAIN and gain >= s.gamma


@jit(inline=True)
def _weight(s, nodes, node):
    """Optimal weight of the node clamped into its bounds (before the learning rate)."""
    stats = nodes.stats[node]
    return clamp(leaf_weight(stats[G], stats[H], s.reg_lambda, s.reg_alpha), stats[LOWER], stats[UPPER])


@jit  # not inlined: Numba drops the branch on ``array is None`` only in a function of its own
def _length(array, default, axis=0):
    """The length of ``array`` along ``axis``, or ``default`` when it is None."""
    if array is None:
        return default
    return array.shape[axis]


@jit
def _check_inputs(rows, rules, margin, column, capacity, n_bins):
    """ValueError naming the array whose shape does not fit the others (never a crash inside a kernel)."""
    n, n_features = rows.X_rows.shape
    if _length(rows.gh_pairs, n) != n or _length(rows.gh_packed, n) != n:
        raise ValueError("grow_tree: the gradients must hold one (gradient, hessian) pair per row of X_rows")
    if rows.X_route.shape[0] != n or rows.X_route.shape[1] != n_features:
        raise ValueError("grow_tree: X_route must hold the bins of X_rows")
    m = rows.rows.shape[0]
    if rows.scratch.shape[0] != m:
        raise ValueError("grow_tree: scratch must have as many entries as rows")
    for k in range(m):
        if rows.rows[k] < 0 or rows.rows[k] >= n:
            raise ValueError("grow_tree: rows must index rows of X_rows")
    features = rules.features
    if features.shape[0] == 0:
        raise ValueError("grow_tree: features must hold at least one feature")
    for j in range(features.shape[0]):
        if features[j] < 0 or features[j] >= n_features or (j > 0 and features[j] <= features[j - 1]):
            raise ValueError("grow_tree: features must be sorted, unique feature indices of X_rows")
    if rules.edges.shape[0] != n_features or rules.n_value_bins.shape[0] != n_features:
        raise ValueError("grow_tree: edges and n_value_bins must have one row per feature of X_rows")
    if rules.bin_offsets.shape[0] != n_features + 1:
        raise ValueError("grow_tree: bin_offsets must have one entry per feature of X_rows and one more")
    for f in range(n_features + 1):
        if rules.bin_offsets[f] != f * n_bins:
            raise ValueError("grow_tree: bin_offsets must be the uniform layout's, feature f at f * max_bin")
    for f in range(n_features):
        if rules.n_value_bins[f] < 0 or rules.n_value_bins[f] >= n_bins or \
                rules.n_value_bins[f] > rules.edges.shape[1] + 1:
            raise ValueError("grow_tree: n_value_bins must leave the missing bin out and fit the edges")
    if _length(rules.monotone, n_features) != n_features:
        raise ValueError("grow_tree: monotone must have one constraint per feature")
    if _length(rules.categorical, n_features) != n_features:
        raise ValueError("grow_tree: categorical must have one flag per feature")
    if _length(rules.interactions, n_features, 1) != n_features:
        raise ValueError("grow_tree: interactions must have one column per feature")
    if margin.shape[0] > 0 and (margin.shape[0] != n or column < 0 or column >= margin.shape[1]):
        raise ValueError("grow_tree: margin must have a row per row of X_rows and the column given")
    if capacity < 1:
        raise ValueError("grow_tree: capacity must be at least 1 node")


@jit(inline=True)
def _new_batch(s, memory, depth, n_nodes, n_features, n_bins):
    """Index in ``memory.hist_batches`` of an array for ``n_nodes`` histograms at ``depth``:
    depthwise, the slot of the depth's parity (grown when too small); lossguide, fresh memory."""
    hist_batches = memory.hist_batches
    if s.lossguide:
        hist_batches.append(np.empty((n_nodes, n_features, n_bins, 2)))
        return len(hist_batches) - 1
    slot = depth % 2
    if hist_batches[slot].shape[0] < n_nodes:
        hist_batches[slot] = np.empty((n_nodes, n_features, n_bins, 2))
    return slot


@jit(inline=True, calls_parallel=True)
def _histograms(s, rows, nodes, node_ids, features, memory, out):
    """Fill ``out`` (len(node_ids), F, B, 2) with the nodes' histograms on ``features``
    (``RowPartition.histograms``)."""
    starts, stops = _node_ranges(nodes, node_ids)
    _build(s, rows.X_rows, rows.X_cols, rows.gh_pairs, rows.gh_packed, rows.gh_scale, rows.rows, starts, stops,
           features, memory, out)


@jit(calls_parallel=True)
def _build(s, X_rows, X_cols, gh_pairs, gh_packed, gh_scale, rows, starts, stops, features, memory, out):
    """``build_histograms`` of gradient pairs into ``out`` (N, F, B, 2) viewed as complex pairs, or
    of packed quantised gradients into ``memory.packed``, then dequantised into ``out``."""
    # one of the two is None: Numba then drops the other's path, which would not type
    if gh_pairs is not None:
        pairs = out.view(np.complex128).reshape(out.shape[:-1])  # gbdt.histogram.as_pairs, typed C-ordered
        memory.chunk_buffers[0] = build_histograms(X_rows, X_cols, gh_pairs, rows, starts, stops, features,
                                                   s.split_mode, s.n_threads, s.rows_per_chunk, s.other_width,
                                                   memory.chunk_buffers[0], pairs)
    if gh_packed is not None:
        if memory.packed[0].shape[0] < out.shape[0]:
            memory.packed[0] = np.empty(out.shape[:-1], dtype=np.int64)
        packed = memory.packed[0][:out.shape[0]]
        memory.chunk_buffers[0] = build_histograms(X_rows, X_cols, gh_packed, rows, starts, stops, features,
                                                   s.split_mode, s.n_threads, s.rows_per_chunk, s.other_width,
                                                   memory.chunk_buffers[0], packed)
        dequantize_histograms(packed, features, gh_scale[0], gh_scale[1], out)


@jit(inline=True)
def _node_ranges(nodes, node_ids):
    """(starts, stops (N,) int64) of ``node_ids``' rows (``RowPartition._node_ranges``)."""
    starts = np.empty(node_ids.shape[0], dtype=np.int64)
    stops = np.empty(node_ids.shape[0], dtype=np.int64)
    for j in range(node_ids.shape[0]):
        starts[j], stops[j] = nodes.links[node_ids[j], START], nodes.links[node_ids[j], STOP]
    return starts, stops


@jit(inline=True, calls_parallel=True)
def _split_batch(s, rows, rules, memory, nodes, n_nodes, parents):
    """Split ``parents`` (all with histograms in one array); returns (their children, the node count).

    Rows are partitioned only for parents whose children will be split further, unless leaves
    are partitioned too (``s.partition_leaves``: margins are updated from leaf ranges).
    """
    children = np.empty(2 * parents.shape[0], dtype=np.int64)
    need = np.empty(parents.shape[0], dtype=np.int64)
    n_need = 0
    for j, node in enumerate(parents):
        left, right = n_nodes, n_nodes + 1
        n_nodes += 2
        stats, depth = nodes.stats[node], nodes.links[node, DEPTH] + 1
        _add_node(nodes, left, depth, stats[LEFT_G], stats[LEFT_H], stats[LOWER], stats[UPPER])
        _add_node(nodes, right, depth, stats[G] - stats[LEFT_G], stats[H] - stats[LEFT_H], stats[LOWER],
                  stats[UPPER])
        nodes.links[node, LEFT], nodes.links[node, RIGHT] = left, right
        _bound_children(s, nodes, node, rules.monotone)
        _constrain_children(nodes, node, rules.interactions)
        children[2 * j], children[2 * j + 1] = left, right
        if _can_split(s, nodes, left) or _can_split(s, nodes, right):
            need[n_need] = node
            n_need += 1
    moved = parents if s.partition_leaves else need[:n_need]
    if moved.shape[0] > 0:
        _partition(s, rows.X_route, rows.rows, rows.scratch, nodes, moved, rules.categorical)
    if n_need > 0:
        _child_histograms(s, rows, rules, memory, nodes, need[:n_need])
    return children, n_nodes


@jit
def _bound_children(s, nodes, node, monotone):
    """Children of a split on a constrained feature meet at the midpoint of their weights
    (nothing to do when ``monotone`` is None)."""
    if monotone is None:
        return
    constraint = monotone[nodes.links[node, FEATURE]]
    if constraint == 0:
        return
    left, right = nodes.links[node, LEFT], nodes.links[node, RIGHT]
    mid = 0.5 * (_weight(s, nodes, left) + _weight(s, nodes, right))
    low, high = (left, right) if constraint > 0 else (right, left)
    nodes.stats[low, UPPER], nodes.stats[high, LOWER] = mid, mid


@jit
def _constrain_children(nodes, node, interactions):
    """Interaction constraints (none when ``interactions`` is None): the children's path (the
    node's plus its split feature) and the features they may split on."""
    if interactions is None:
        return
    path = nodes.paths[node, PATH].copy()
    path[nodes.links[node, FEATURE]] = True
    allowed = path.copy()
    for c in range(interactions.shape[0]):
        relevant = True  # the constraint holds every feature on the path
        for f in range(path.shape[0]):
            if path[f] and not interactions[c, f]:
                relevant = False
                break
        if relevant:
            allowed |= interactions[c]
    for child in (nodes.links[node, LEFT], nodes.links[node, RIGHT]):
        for f in range(path.shape[0]):  # element loops: an array assignment compiles shape checks (~2 s)
            nodes.paths[child, PATH, f], nodes.paths[child, ALLOWED, f] = path[f], allowed[f]


@jit(inline=True, calls_parallel=True)
def _partition(s, X_route, rows, scratch, nodes, moved, categorical):
    """Partition the rows of ``moved`` into their children, in place in ``rows`` (``RowPartition.split``)."""
    n = moved.shape[0]
    starts, stops = _node_ranges(nodes, moved)
    split_feature = nodes.links[moved, FEATURE]
    is_categorical, cat_left = _categorical_masks(nodes, moved, categorical, s.missing_bin + 1)
    table = np.empty((n, s.missing_bin + 1), dtype=np.bool_)
    fill_routing_table(nodes.links[moved, BIN], nodes.links[moved, DEFAULT_LEFT] != 0, s.missing_bin, cat_left,
                       is_categorical, table)
    n_left = np.empty(n, dtype=np.int64)
    partition_level(X_route, rows, starts, stops, split_feature, table, s.n_threads, s.rows_per_chunk, scratch,
                    n_left)
    for j in range(n):
        left, right = nodes.links[moved[j], LEFT], nodes.links[moved[j], RIGHT]
        nodes.links[left, START], nodes.links[left, STOP] = starts[j], starts[j] + n_left[j]
        nodes.links[right, START], nodes.links[right, STOP] = starts[j] + n_left[j], stops[j]


@jit(inline=True, calls_parallel=True)
def _child_histograms(s, rows, rules, memory, nodes, parents):
    """Histograms of the children of ``parents`` in one (2m, F, B, 2) array: the m smaller
    children (by hessian sum, a global proxy for size) built from rows first, the m larger
    ones by subtraction after them; then their best splits."""
    m = parents.shape[0]
    batch_ids = np.empty(2 * m, dtype=np.int64)
    parent_slots = np.empty(m, dtype=np.int64)
    for j, node in enumerate(parents):
        left, right = nodes.links[node, LEFT], nodes.links[node, RIGHT]
        left_smaller = nodes.stats[left, H] <= nodes.stats[right, H]
        batch_ids[j] = left if left_smaller else right
        batch_ids[m + j] = right if left_smaller else left
        parent_slots[j] = nodes.links[node, SLOT]
    parent_hists = memory.hist_batches[nodes.links[parents[0], HIST_BATCH]]
    n_features, n_bins = parent_hists.shape[1], parent_hists.shape[2]
    batch = _new_batch(s, memory, nodes.links[parents[0], DEPTH] + 1, 2 * m, n_features, n_bins)
    hists = memory.hist_batches[batch][:2 * m]
    _histograms(s, rows, nodes, batch_ids[:m], rules.features, memory, hists[:m])
    flat = _flat_view(hists)
    subtract_histograms(_flat_view(parent_hists), parent_slots, flat[:m], rules.features, rules.bin_offsets, flat[m:])
    for slot, child in enumerate(batch_ids):
        nodes.links[child, HIST_BATCH], nodes.links[child, SLOT] = batch, slot
    _find_splits(s, nodes, batch_ids, hists, rules)


@jit(inline=True, calls_parallel=True)
def _find_splits(s, nodes, batch, hists, rules):
    """Best split of every node in ``batch`` (node j's histogram is ``hists[j]``; the nodes share a depth)."""
    features = rules.features
    n = batch.shape[0]
    sums = np.empty((n, 2))
    bounds = np.empty((n, 2))
    for j, node in enumerate(batch):
        sums[j, 0], sums[j, 1] = nodes.stats[node, G], nodes.stats[node, H]
        bounds[j, 0], bounds[j, 1] = nodes.stats[node, LOWER], nodes.stats[node, UPPER]
    gain, feature = np.empty(n), np.empty(n, dtype=np.int64)
    bins, default_left, left_stats = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.bool_), np.empty((n, 2))
    cat_left = np.empty((n, hists.shape[2]), dtype=np.bool_)
    compiled_find_best_splits(_flat_view(hists), rules.bin_offsets, sums, features, rules.n_value_bins, s.reg_lambda,
                              s.reg_alpha, s.min_child_weight, rules.monotone, bounds, rules.categorical, s.cat_rules,
                              gain, feature, bins, default_left, left_stats, cat_left,
                              _allowed_features(nodes, batch, features, rules.interactions))
    for j, node in enumerate(batch):
        if _can_split(s, nodes, node):
            nodes.stats[node, GAIN], nodes.links[node, FEATURE], nodes.links[node, BIN] = gain[j], feature[j], bins[j]
            nodes.links[node, DEFAULT_LEFT] = default_left[j]
            nodes.stats[node, LEFT_G], nodes.stats[node, LEFT_H] = left_stats[j, 0], left_stats[j, 1]
            if nodes.cat_left.shape[0] > 0:  # some feature is categorical
                for b in range(cat_left.shape[1]):
                    nodes.cat_left[node, b] = cat_left[j, b]


@jit(inline=True)
def _flat_view(hists):
    """(N, T, 2) view of uniform (N, F, B, 2) histograms (``gbdt.histogram.flat_view``)."""
    return hists.reshape(hists.shape[0], hists.shape[1] * hists.shape[2], 2)


@jit
def _categorical_masks(nodes, moved, categorical, n_bins):
    """(is_categorical (N,) bool, cat_left (N or 0, n_bins) bool): which of the nodes ``moved``
    split on a categorical feature and their category masks (no rows without categorical features)."""
    n = moved.shape[0]
    is_categorical = np.zeros(n, dtype=np.bool_)
    if categorical is None:
        return is_categorical, np.empty((0, n_bins), dtype=np.bool_)
    cat_left = np.empty((n, n_bins), dtype=np.bool_)
    for j in range(n):
        is_categorical[j] = categorical[nodes.links[moved[j], FEATURE]]
        for b in range(n_bins):
            cat_left[j, b] = nodes.cat_left[moved[j], b]
    return is_categorical, cat_left


@jit
def _allowed_features(nodes, batch, features, interactions):
    """(N, k) bool: the features each node of ``batch`` may split on under interaction
    constraints, or None without them (``TreeGrower._node_samples``)."""
    if interactions is None:
        return None
    allowed = np.empty((batch.shape[0], features.shape[0]), dtype=np.bool_)
    for j, node in enumerate(batch):
        for i in range(features.shape[0]):
            allowed[j, i] = nodes.paths[node, ALLOWED, features[i]]
    return allowed


@jit
def _category_words(nodes, order, left, categorical):
    """(m,) int64: the bitset words of each categorical split of the nodes in breadth-first
    ``order`` (0 elsewhere)."""
    words = np.zeros(order.shape[0], dtype=np.int64)
    if categorical is None:
        return words
    for i in range(order.shape[0]):
        if left[i] >= 0 and categorical[nodes.links[order[i], FEATURE]]:
            words[i] = np.flatnonzero(nodes.cat_left[order[i]])[-1] // 32 + 1  # a split's set is never empty
    return words


@jit(inline=True)
def _to_tree(s, nodes, n_nodes, edges, categorical):
    """Number the nodes breadth-first and emit the flat arrays (``TreeGrower._to_tree``)."""
    order = np.zeros(n_nodes, dtype=np.int64)
    left = np.full(n_nodes, -1, dtype=np.int32)
    right = np.full(n_nodes, -1, dtype=np.int32)
    n_ordered = 1
    for i in range(n_nodes):
        links = nodes.links[order[i]]
        if links[LEFT] >= 0:
            left[i], right[i] = n_ordered, n_ordered + 1
            order[n_ordered], order[n_ordered + 1] = links[LEFT], links[RIGHT]
            n_ordered += 2
    stats, links = nodes.stats[order], nodes.links[order]
    values = np.empty(n_nodes)
    compiled_node_outputs(stats[:, G], stats[:, H], stats[:, LOWER], stats[:, UPPER], s.reg_lambda, s.reg_alpha,
                          s.learning_rate, values)
    feature = np.full(n_nodes, -1, dtype=np.int32)
    threshold = np.zeros(n_nodes)
    bin_threshold = np.full(n_nodes, -1, dtype=np.int32)
    gain = np.zeros(n_nodes)
    cat_begin = np.zeros(n_nodes, dtype=np.int32)
    cat_end = np.zeros(n_nodes, dtype=np.int32)
    words = _category_words(nodes, order, left, categorical)
    cat_bits = np.zeros(words.sum(), dtype=np.uint32)
    word = 0
    for i in range(n_nodes):
        cat_begin[i] = word
        if left[i] >= 0:
            f = links[i, FEATURE]
            feature[i], gain[i] = f, stats[i, GAIN]
            if words[i] > 0:
                for c in np.flatnonzero(nodes.cat_left[order[i]]):
                    cat_bits[word + c // 32] |= np.uint32(1) << np.uint32(c % 32)
                word += words[i]
            else:
                b = links[i, BIN]
                threshold[i], bin_threshold[i] = edges[f, b] if b >= 0 else -np.inf, b
        cat_end[i] = word
    return Tree(feature, threshold, bin_threshold, links[:, DEFAULT_LEFT] != 0, left, right, values, gain,
                stats[:, H].copy(), cat_begin, cat_end, cat_bits, links[:, START].copy(), links[:, STOP].copy())


@jit(calls_parallel=True)
def _add_leaves_to_margin(s, tree, rows, margin, column):
    """``RowPartition.finish``: every leaf's value added to column ``column`` of its rows' margins
    (none when ``margin`` has no rows)."""
    if margin.shape[0] == 0:
        return
    leaves = np.flatnonzero(tree.feature < 0)
    starts, stops = tree.start[leaves], tree.stop[leaves]
    order, first = compiled_thread_schedule(stops - starts, s.n_threads)
    add_leaf_values(rows, starts, stops, tree.value[leaves], order, first, margin, column)
