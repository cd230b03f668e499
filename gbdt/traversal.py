"""Routing raw rows through trees: the child decision and the leaf each row reaches (``pred_leaf``).

``goes_left`` is the single place that decides which child of a split node a raw value goes to
(numeric threshold or category set); leaf ids and TreeSHAP call it. Node arrays are the
concatenated arrays of a ``gbdt.tree.Forest`` (global child ids, NaN thresholds at categorical
nodes, whose category sets are ``cat_bits[cat_begin[j]:cat_end[j]]``).
"""
import numpy as np
from numba import prange

from gbdt._jit import jit


@jit
def in_category_set(code, begin, end, bits):
    """Whether category ``code`` (an integer-valued number >= 0) is in the set ``bits[begin:end]``."""
    word = begin + np.int64(code) // 32
    if word >= end:
        return False
    return (bits[word] >> np.uint32(np.int64(code) % 32)) & np.uint32(1) == 1


# inlined into the calling kernels: as calls they cost 1.3x on leaf ids and 1.3-1.5x on TreeSHAP
# (benchmarks/explain.py's forest, one thread)
@jit(inline=True)
def goes_left(x, node, threshold, default_left, cat_begin, cat_end, cat_bits):
    """True when raw value ``x`` goes to the left child of split ``node``: NaN takes the default,
    a numeric split compares with its threshold, a categorical one (NaN threshold) looks the
    category code up in its set."""
    if x != x:
        return default_left[node]
    t = threshold[node]
    if t == t:
        return x <= t
    return in_category_set(x, cat_begin[node], cat_end[node], cat_bits)


@jit(parallel=True)
def leaf_ids(X, feature, threshold, default_left, left, right, cat_begin, cat_end, cat_bits, roots, first_tree, out):
    """Fill ``out`` (n, T') int32 with the leaf each row of ``X`` (n, F) float64 reaches in trees
    ``first_tree .. first_tree + T' - 1``, as a node id within its own tree (as XGBoost numbers them)."""
    for i in prange(X.shape[0]):
        for j in range(out.shape[1]):
            root = roots[first_tree + j]
            node = root
            while feature[node] >= 0:
                if goes_left(X[i, feature[node]], node, threshold, default_left, cat_begin, cat_end, cat_bits):
                    node = left[node]
                else:
                    node = right[node]
            out[i, j] = node - root
