"""Trees as flat arrays (struct of arrays) and compiled prediction over a whole forest.

One tree has nodes 0..m-1 with node 0 the root. For node j: ``feature[j]`` (-1 for a leaf),
``threshold[j]`` (raw value; go left when ``x <= threshold``), ``bin_threshold[j]`` (go left when
``bin <= bin_threshold``), ``default_left[j]`` (where missing values go), ``left[j]``/``right[j]``
(child node ids, -1 for a leaf), ``value[j]`` (leaf output incl. learning rate; also set on
internal nodes), ``gain[j]``, ``cover[j]`` (hessian sum).

A categorical split (category codes c = 0, 1, ... as values, bin c = code c) sends the categories
of a bitset left: node j's set is the words ``cat_bits[cat_begin[j]:cat_end[j]]`` (uint32; bit
c % 32 of word c // 32), so category c goes left when that bit exists and is set; categories
beyond the words and codes never seen in training go right, NaN takes ``default_left``. Numeric
nodes have ``cat_begin == cat_end``; categorical ones keep ``threshold`` 0 and ``bin_threshold`` -1.
Trees without categorical splits may omit the three ``cat_*`` arrays (old models).

A ``Forest`` concatenates trees so one kernel call predicts every tree for every row.
"""
from dataclasses import dataclass, fields

import numpy as np
from numba import get_num_threads, prange

from gbdt._jit import jit
from gbdt.traversal import in_category_set

ROWS_PER_BLOCK = 64
# blocks of CSR rows a task of predict_forest_csr walks with one scratch at most
BLOCKS_PER_TASK = 16


def category_bitset(categories):
    """uint32 words of the bitset holding the non-negative integer ``categories``."""
    categories = np.asarray(categories, dtype=np.int64)
    words = np.zeros(int(categories.max()) // 32 + 1 if categories.size else 0, dtype=np.uint32)
    np.bitwise_or.at(words, categories >> 5, np.left_shift(1, categories & 31).astype(np.uint32))
    return words


@dataclass
class Tree:
    """One regression tree; every field but ``cat_bits`` is an (m,) array over its nodes."""

    feature: np.ndarray
    threshold: np.ndarray
    bin_threshold: np.ndarray
    default_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    gain: np.ndarray
    cover: np.ndarray
    cat_begin: np.ndarray = None
    cat_end: np.ndarray = None
    cat_bits: np.ndarray = None

    DTYPES = {
        "feature": np.int32, "threshold": np.float64, "bin_threshold": np.int32, "default_left": np.bool_,
        "left": np.int32, "right": np.int32, "value": np.float64, "gain": np.float64,
        "cover": np.float64,
    }
    CATEGORICAL_DTYPES = {"cat_begin": np.int32, "cat_end": np.int32, "cat_bits": np.uint32}

    def __post_init__(self):
        if self.cat_begin is None:  # a tree without categorical splits
            self.cat_begin = np.zeros(self.feature.shape[0], dtype=np.int32)
            self.cat_end = np.zeros(self.feature.shape[0], dtype=np.int32)
            self.cat_bits = np.zeros(0, dtype=np.uint32)

    @classmethod
    def from_lists(cls, **columns):
        """Build from per-field Python lists (or arrays), cast to the canonical dtypes; the
        ``cat_*`` fields are optional (absent: no categorical split)."""
        arrays = {name: np.asarray(columns[name], dtype=dtype) for name, dtype in cls.DTYPES.items()}
        if "cat_begin" in columns:
            arrays.update({name: np.asarray(columns[name], dtype=dtype)
                           for name, dtype in cls.CATEGORICAL_DTYPES.items()})
        return cls(**arrays)

    @property
    def is_categorical(self):
        """(m,) bool: which nodes split on a set of categories."""
        return self.cat_end > self.cat_begin

    def left_categories(self, node):
        """Sorted category codes that go left at categorical ``node``."""
        words = self.cat_bits[self.cat_begin[node]:self.cat_end[node]]
        bits = np.unpackbits(words.astype("<u4").view(np.uint8), bitorder="little")
        return np.flatnonzero(bits)

    @property
    def n_nodes(self):
        return self.feature.shape[0]

    @property
    def n_leaves(self):
        return int((self.feature < 0).sum())

    def to_dict(self):
        """JSON-ready dict of lists (without the ``cat_*`` fields when no split is categorical)."""
        categorical = bool(self.is_categorical.any())
        return {f.name: getattr(self, f.name).tolist() for f in fields(self)
                if categorical or f.name not in self.CATEGORICAL_DTYPES}


@jit(inline=True)
def _step_any(block, nodes, missing_value, threshold, meta, cat_begin, cat_end, cat_bits):
    """One level of the rows of ``block`` through any split: numeric, categorical (NaN
    threshold) or binned input; unsigned indices as in ``predict_forest``."""
    one = np.uint64(1)
    for j in range(np.uint64(block.shape[0])):
        node = np.uint64(nodes[j])
        word = np.uint64(meta[node])
        x = block[j, (word >> one) & np.uint64(0x7FFFFFFF)]
        cut = threshold[node]
        missing = x != x or x == missing_value
        if cut == cut:
            right = x > cut
        elif missing or x < 0:
            right = True
        else:
            right = not in_category_set(x, cat_begin[node], cat_end[node], cat_bits)
        go_right = (word & one) == 0 if missing else right
        nodes[j] = (word >> np.uint64(32)) + np.uint64(go_right)


# called once per block, so not inlined: inlined into predict_forest's parallel compilation it took
# 1.06-1.10x the time (100k x 28, 100 trees of depth 8, 2 threads, paired runs; the serial one alike)
@jit
def _walk_block(block, lo, missing_value, threshold, meta, value, cat_begin, cat_end, cat_bits, roots,
                depth, tree_class, first_tree, stop_tree, out):
    """Add trees [first_tree, stop_tree) to ``out[lo:lo + m]`` for the m rows of ``block`` (m, F'),
    walking all of them one level of a tree at a time (``predict_forest``). ``cat_bits`` None (raw input, NaN missing, to a forest
    without categorical splits) compiles the vectorised numeric step alone: Numba prunes the
    general step, which a cold first predict would otherwise compile too."""
    one, shift, feature_mask = np.uint64(1), np.uint64(32), np.uint64(0x7FFFFFFF)
    # node ids, read back as uint64: an int64 allocation shares np.empty's compile with the fit's
    # kernels (a uint64 one costs a cold first predict ~0.05 s more)
    nodes = np.empty(block.shape[0], dtype=np.int64)
    for t in range(first_tree, stop_tree):
        nodes[:] = roots[t]
        for _ in range(depth[t]):
            if cat_bits is not None:
                _step_any(block, nodes, missing_value, threshold, meta, cat_begin, cat_end, cat_bits)
                continue
            # branch-free, so LLVM vectorises it; unsigned indices spare Numba's negative-index
            # wraparound on every access (100k x 28, 100 trees of depth 8: 0.76-0.80x the time)
            for j in range(np.uint64(block.shape[0])):
                node = np.uint64(nodes[j])
                word = np.uint64(meta[node])
                x = block[j, (word >> one) & feature_mask]
                cut = threshold[node]
                above = x > cut  # NaN: neither above nor at-or-below
                not_below = not (x <= cut)
                nodes[j] = (word >> shift) + np.uint64(above if (word & one) == one else not_below)
        k = tree_class[t]
        for j in range(block.shape[0]):
            out[lo + j, k] += value[np.uint64(nodes[j])]


@jit(parallel=True)
def predict_forest(X, missing_value, threshold, meta, value, cat_begin, cat_end, cat_bits, roots, depth, tree_class,
                   first_tree, stop_tree, out):
    """Add the outputs of trees [first_tree, stop_tree) to ``out`` (n, K).

    X : (n, F) raw float64 (``missing_value`` = NaN) or binned uint8 (``missing_value`` = the
    missing bin, thresholds in bins). ``threshold``, ``meta`` (left child << 32 | feature << 1 |
    default_left), ``value``, ``cat_begin``, ``cat_end`` (m,) are a ``Forest``'s walking arrays
    (see ``walk_layout``): leaves loop onto themselves, the right child is ``left + 1``, the
    threshold is NaN at categorical nodes (whose sets are ``cat_bits[cat_begin:cat_end]``);
    ``cat_bits`` None for raw input to a forest without categorical splits: Numba then prunes the
    step through any split, which a numeric predict never compiles (~0.4 s of a cold first
    predict; raw input to a categorical forest compiles its own specialisation on first use);
    ``roots``, ``depth``, ``tree_class`` (T,): root id, depth and output column of each tree.

    A block of rows walks each tree one level at a time for exactly ``depth`` steps: the rows'
    steps are independent, so the core overlaps their memory loads, and a step has no
    data-dependent branch (about 3x faster than walking one row to its leaf after another; raw
    input to a forest without categorical splits takes a vectorised step, 1.6x faster again).
    Each row still adds the trees in order, so sums are unchanged.
    """
    n = X.shape[0]
    for blk in prange((n + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK):
        lo = blk * ROWS_PER_BLOCK
        _walk_block(X[lo:np.minimum(n, lo + ROWS_PER_BLOCK)], lo, missing_value, threshold, meta, value,
                    cat_begin, cat_end, cat_bits, roots, depth, tree_class, first_tree, stop_tree, out)


@jit(inline=True)
def _set_block_entries(indptr, indices, data, column, absent, lo, block, reset):
    """Write the entries of CSR rows lo, lo + 1, ... into the rows of ``block`` (m, U) at
    ``column[feature]`` (features past ``column`` or at -1 are skipped), or with ``reset`` put
    ``absent`` back at those places: O(entries), whatever U."""
    for j in range(block.shape[0]):
        for k in range(indptr[lo + j], indptr[lo + j + 1]):
            f = indices[k]
            if f < column.shape[0] and column[f] >= 0:
                c = column[f]
                block[j, c] = absent[c] if reset else data[k]


@jit(parallel=True)
def predict_forest_csr(indptr, indices, data, column, absent, missing_value, threshold, meta, value, cat_begin, cat_end,
                       cat_bits, roots, depth, tree_class, first_tree, stop_tree, n_threads, out):
    """``predict_forest`` of the rows of a CSR matrix (n, F): indptr (n + 1,) int64, indices
    (nnz,) int32 (no duplicates within a row; any order), data (nnz,) raw float64 or binned
    uint8. ``meta`` addresses U columns: the features the forest splits on, feature f at
    ``column[f]`` (-1 or past the end: unused); ``absent`` (U,) of ``data``'s dtype is a column's
    value in a row without an entry (0.0, or the feature's zero bin).

    A block of rows is scattered into a (rows, U) scratch that holds ``absent`` elsewhere, walked
    as a dense block, and its entries reset: O(nnz + rows x trees x depth), with no search per
    node. Each task keeps its scratch over several blocks (one fill, not one a block); ``n_threads``
    (the calling thread's Numba thread count) sizes the tasks.
    """
    n = indptr.shape[0] - 1
    n_blocks = (n + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    # 4 tasks a thread balance the load; at most BLOCKS_PER_TASK blocks bound the idle tail
    per_task = max(1, min(BLOCKS_PER_TASK, n_blocks // (4 * n_threads)))
    for task in prange((n_blocks + per_task - 1) // per_task):
        scratch = np.empty((ROWS_PER_BLOCK, absent.shape[0]), dtype=absent.dtype)
        for j in range(ROWS_PER_BLOCK):
            scratch[j] = absent
        for blk in range(task * per_task, min(n_blocks, (task + 1) * per_task)):
            lo = blk * ROWS_PER_BLOCK
            block = scratch[:min(n, lo + ROWS_PER_BLOCK) - lo]
            _set_block_entries(indptr, indices, data, column, absent, lo, block, False)
            _walk_block(block, lo, missing_value, threshold, meta, value, cat_begin, cat_end, cat_bits,
                        roots, depth, tree_class, first_tree, stop_tree, out)
            _set_block_entries(indptr, indices, data, column, absent, lo, block, True)


def walk_layout(feature, left, right, roots):
    """Node ids for ``predict_forest``: trees are relabelled breadth first so the children of a
    split get consecutive ids (right = left + 1, which the kernel adds instead of branching).

    Returns (order (m',) old id of each new id, new_left (m',) int64 with leaves pointing to
    themselves, new_roots (T,), depth (T,) int64 edges on each tree's longest path).
    """
    n_trees = roots.shape[0]
    order = [roots.astype(np.int64)]
    depth = np.zeros(n_trees, dtype=np.int64)
    frontier, frontier_tree, level = order[0], np.arange(n_trees), 0
    while frontier.size:
        split = feature[frontier] >= 0
        parents, parent_tree = frontier[split], frontier_tree[split]
        level += 1
        depth[parent_tree] = level
        frontier = np.empty(2 * parents.shape[0], dtype=np.int64)
        frontier[0::2], frontier[1::2] = left[parents], right[parents]
        frontier_tree = np.repeat(parent_tree, 2)
        order.append(frontier)
    order = np.concatenate(order)
    new_id = np.full(feature.shape[0], -1, dtype=np.int64)
    new_id[order] = np.arange(order.shape[0])
    split = feature[order] >= 0
    new_left = np.where(split, new_id[np.where(split, left[order], 0)], np.arange(order.shape[0]))
    return order, new_left, np.arange(n_trees, dtype=np.int64), depth


class Forest:
    """Trees concatenated into flat arrays for prediction; child ids are global."""

    def __init__(self, trees, tree_class, n_outputs):
        offsets = np.cumsum([0] + [t.n_nodes for t in trees])
        self.roots = offsets[:-1].astype(np.int64)
        self.tree_class = np.asarray(tree_class, dtype=np.int64)
        self.n_outputs = n_outputs

        word_offsets = np.cumsum([0] + [t.cat_bits.shape[0] for t in trees])

        def concat(name, shift=None):
            """Concatenated field; ``shift`` (per tree) is added to its entries that are >= 0."""
            parts = [getattr(tree, name) for tree in trees]
            if shift is not None:
                parts = [np.where(arr >= 0, arr + off, -1) for arr, off in zip(parts, shift)]
            dtype = {**Tree.DTYPES, **Tree.CATEGORICAL_DTYPES}[name]
            return np.concatenate(parts) if parts else np.empty(0, dtype)

        self.feature = concat("feature")
        # NaN thresholds mark categorical nodes for the kernel (no extra load on numeric nodes)
        categorical = concat("cat_end") > concat("cat_begin")
        self.threshold = np.where(categorical, np.nan, concat("threshold"))
        self.bin_threshold = np.where(categorical, np.nan, concat("bin_threshold"))
        self.default_left = concat("default_left")
        self.left = concat("left", offsets).astype(np.int32)
        self.right = concat("right", offsets).astype(np.int32)
        self.value = concat("value")
        self.cat_begin = concat("cat_begin", word_offsets).astype(np.int64)
        self.cat_end = concat("cat_end", word_offsets).astype(np.int64)
        self.cat_bits = concat("cat_bits")
        self.all_numeric = not categorical.any()
        self._set_walk()

    def _set_walk(self):
        """The arrays ``predict_forest`` walks (see ``walk_layout``): a leaf becomes a split on
        feature 0 at +inf whose left child is itself, so extra steps keep a row at its leaf.
        ``predict_forest_csr`` walks the same nodes with features renumbered to the columns of
        its scratch: ``_used_features`` (U,), the features split on (feature 0 when none is),
        feature f in column ``_feature_column[f]`` (-1: not split on)."""
        order, walk_left, self._walk_roots, self.depth = walk_layout(self.feature, self.left, self.right, self.roots)
        leaf = self.feature[order] < 0
        walk_feature = np.where(leaf, 0, self.feature[order]).astype(np.int64)
        flags = (walk_left << 32) | (self.default_left[order] | leaf)
        self._walk_meta = flags | (walk_feature << 1)
        split_features = self.feature[self.feature >= 0]
        self._used_features = np.unique(split_features) if split_features.size else np.zeros(1, dtype=np.int32)
        self._feature_column = np.full(self._used_features[-1] + 1, -1, dtype=np.int64)
        self._feature_column[self._used_features] = np.arange(self._used_features.shape[0])
        self._walk_meta_columns = flags | (np.where(leaf, 0, self._feature_column[walk_feature]) << 1)
        self._walk_raw = np.where(leaf, np.inf, self.threshold[order])
        self._walk_binned = np.where(leaf, np.inf, self.bin_threshold[order])
        self._walk_value = self.value[order]
        self._walk_cat = self.cat_begin[order], self.cat_end[order]

    def predict(self, X, out, first_tree=0, stop_tree=None, missing_bin=None):
        """Add trees [first_tree, stop_tree) to ``out`` (n, K) float64.

        ``X`` is raw (n, F) float64, or binned (n, F) uint8 when ``missing_bin`` is given, or
        bins of another layout (``gbdt.sparse_binning.SparseBins``, ``gbdt.bundling.BundledBins``),
        which add the trees themselves (``add_forest``).
        """
        if not isinstance(X, np.ndarray):
            X.add_forest(self, out, first_tree, stop_tree)
            return out
        predict_forest(X, *self._walk_arrays(missing_bin, self._walk_meta), self._walk_roots, self.depth,
                       self.tree_class, first_tree, self._stop(stop_tree), out)
        return out

    def predict_csr(self, indptr, indices, data, absent, out, first_tree=0, stop_tree=None, missing_bin=None):
        """``predict`` of the rows of a CSR matrix (n, F) without duplicate entries in a row:
        indptr (n + 1,) int64, indices (nnz,) int32 features, data (nnz,); a row's absent
        feature f is ``absent[f]`` (F,). Raw values (float64; absent 0.0, NaN missing), or bins
        when ``missing_bin`` is given (uint8, absent the zero bins:
        ``gbdt.sparse_binning.add_forest_by_rows``). Bit for bit ``predict`` of the dense twin."""
        absent = absent[self._used_features].astype(data.dtype)
        predict_forest_csr(indptr, indices, data, self._feature_column, absent,
                           *self._walk_arrays(missing_bin, self._walk_meta_columns), self._walk_roots, self.depth,
                           self.tree_class, first_tree, self._stop(stop_tree), get_num_threads(), out)
        return out

    def _walk_arrays(self, missing_bin, meta):
        """(missing_value, threshold, meta, value, cat_begin, cat_end, cat_bits) for
        the kernels: raw input (NaN missing) or bins (``missing_bin``)."""
        if missing_bin is None:
            missing_value, threshold = np.nan, self._walk_raw
        else:
            missing_value, threshold = float(missing_bin), self._walk_binned
        # raw input to a forest without categorical splits: the numeric step only (see ``_walk_block``)
        cat_bits = None if self.all_numeric and missing_bin is None else self.cat_bits
        return missing_value, threshold, meta, self._walk_value, *self._walk_cat, cat_bits

    def _stop(self, stop_tree):
        return len(self.roots) if stop_tree is None else stop_tree
