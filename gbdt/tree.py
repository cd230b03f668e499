"""Trees as flat arrays (struct of arrays) and compiled prediction over a whole forest.

One tree has nodes 0..m-1 with node 0 the root. For node j: ``feature[j]`` (-1 for a leaf),
``threshold[j]`` (raw value; go left when ``x <= threshold``), ``bin_threshold[j]`` (go left when
``bin <= bin_threshold``), ``default_left[j]`` (where missing values go), ``left[j]``/``right[j]``
(child node ids, -1 for a leaf), ``value[j]`` (leaf output incl. learning rate; also set on
internal nodes), ``gain[j]``, ``cover[j]`` (hessian sum).

A ``Forest`` concatenates trees so one kernel call predicts every tree for every row.
"""
from dataclasses import dataclass, fields

import numpy as np
from numba import prange

from gbdt._jit import jit

ROWS_PER_BLOCK = 256


@dataclass
class Tree:
    """One regression tree; every field is an (m,) array over its nodes."""

    feature: np.ndarray
    threshold: np.ndarray
    bin_threshold: np.ndarray
    default_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    gain: np.ndarray
    cover: np.ndarray

    DTYPES = {
        "feature": np.int32, "threshold": np.float64, "bin_threshold": np.int32, "default_left": np.bool_,
        "left": np.int32, "right": np.int32, "value": np.float64, "gain": np.float64,
        "cover": np.float64,
    }

    @classmethod
    def from_lists(cls, **columns):
        """Build from per-field Python lists (or arrays), cast to the canonical dtypes."""
        return cls(**{name: np.asarray(columns[name], dtype=dtype) for name, dtype in cls.DTYPES.items()})

    @property
    def n_nodes(self):
        return self.feature.shape[0]

    @property
    def n_leaves(self):
        return int((self.feature < 0).sum())

    def to_dict(self):
        """JSON-ready dict of lists."""
        return {f.name: getattr(self, f.name).tolist() for f in fields(self)}


@jit(parallel=True)
def predict_forest(X, missing_value, feature, threshold, default_left, left, right, value,
                   roots, tree_class, first_tree, stop_tree, out):
    """Add the outputs of trees [first_tree, stop_tree) to ``out`` (n, K).

    X : (n, F) raw float64 (``missing_value`` = NaN) or binned uint8 (``missing_value`` = the
    missing bin, ``threshold`` = bin thresholds as float64). Node arrays are the concatenated
    forest; ``roots`` (T,) the root id of each tree; ``tree_class`` (T,) the output column.
    """
    n = X.shape[0]
    n_blocks = (n + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    for blk in prange(n_blocks):
        lo = blk * ROWS_PER_BLOCK
        hi = min(n, lo + ROWS_PER_BLOCK)
        for t in range(first_tree, stop_tree):
            k = tree_class[t]
            root = roots[t]
            for i in range(lo, hi):
                node = root
                while feature[node] >= 0:
                    x = X[i, feature[node]]
                    if x != x or x == missing_value:
                        go_left = default_left[node]
                    else:
                        go_left = x <= threshold[node]
                    node = left[node] if go_left else right[node]
                out[i, k] += value[node]


class Forest:
    """Trees concatenated into flat arrays for prediction; child ids are global."""

    def __init__(self, trees, tree_class, n_outputs):
        offsets = np.cumsum([0] + [t.n_nodes for t in trees])
        self.roots = offsets[:-1].astype(np.int64)
        self.tree_class = np.asarray(tree_class, dtype=np.int64)
        self.n_outputs = n_outputs

        def concat(name, shift_children=False):
            parts = []
            for tree, off in zip(trees, offsets[:-1]):
                arr = getattr(tree, name)
                parts.append(np.where(arr >= 0, arr + off, -1) if shift_children else arr)
            return np.concatenate(parts) if parts else np.empty(0, Tree.DTYPES[name])

        self.feature = concat("feature")
        self.threshold = concat("threshold")
        self.bin_threshold = concat("bin_threshold").astype(np.float64)
        self.default_left = concat("default_left")
        self.left = concat("left", shift_children=True).astype(np.int32)
        self.right = concat("right", shift_children=True).astype(np.int32)
        self.value = concat("value")

    def predict(self, X, out, first_tree=0, stop_tree=None, missing_bin=None):
        """Add trees [first_tree, stop_tree) to ``out`` (n, K) float64.

        ``X`` is raw (n, F) float64, or binned (n, F) uint8 when ``missing_bin`` is given.
        """
        stop_tree = len(self.roots) if stop_tree is None else stop_tree
        if missing_bin is None:
            missing_value, threshold = np.nan, self.threshold
        else:
            missing_value, threshold = float(missing_bin), self.bin_threshold
        predict_forest(X, missing_value, self.feature, threshold, self.default_left, self.left, self.right,
                       self.value, self.roots, self.tree_class, first_tree, stop_tree, out)
        return out
