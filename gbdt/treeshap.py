"""Exact TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2): per-feature contributions of each row.

The value of a feature set S for one tree is the tree's expected output when the features in S
follow the row and every other split sends the row down both children, weighted by the
children's ``cover`` (hessian sums). TreeSHAP gets the exact Shapley values of that game in
O(leaves x depth^2) per row and tree, by carrying the "unique path" of features met from the
root: for each path element the fraction of cover that flows down the path when the feature is
absent (``zero``) and whether the row follows the path when present (``one``), plus the
permutation weights ``pw`` of the subsets of path features.

The recursion of the paper is run with an explicit stack. Path level ``d`` (one row of the
(L, L) path buffers) holds the path of the node being visited at depth ``d``; a child copies its
parent's level and extends it, so the parent's level is intact when the second child is visited::

    level 0: [root]           level 1: [root, f_a]           level 2: [root, f_a, f_b] ...
"""
import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.traversal import goes_left

ROWS_PER_BLOCK = 64


@jit(inline=True)
def _extend_path(feat, zero, one, pw, p, depth, zero_fraction, one_fraction, feature_index):
    """Append a feature to path ``p`` of length ``depth`` and update the permutation weights."""
    feat[p, depth] = feature_index
    zero[p, depth] = zero_fraction
    one[p, depth] = one_fraction
    pw[p, depth] = 1.0 if depth == 0 else 0.0
    for i in range(depth - 1, -1, -1):
        pw[p, i + 1] += one_fraction * pw[p, i] * (i + 1) / (depth + 1)
        pw[p, i] = zero_fraction * pw[p, i] * (depth - i) / (depth + 1)


@jit(inline=True)
def _unwind_path(feat, zero, one, pw, p, depth, path_index):
    """Remove element ``path_index`` from path ``p`` of length ``depth + 1`` (undo its extension)."""
    one_fraction = one[p, path_index]
    zero_fraction = zero[p, path_index]
    next_one_portion = pw[p, depth]
    for i in range(depth - 1, -1, -1):
        if one_fraction != 0.0:
            tmp = pw[p, i]
            pw[p, i] = next_one_portion * (depth + 1) / ((i + 1) * one_fraction)
            next_one_portion = tmp - pw[p, i] * zero_fraction * (depth - i) / (depth + 1)
        else:
            pw[p, i] = pw[p, i] * (depth + 1) / (zero_fraction * (depth - i))
    for i in range(path_index, depth):
        feat[p, i] = feat[p, i + 1]
        zero[p, i] = zero[p, i + 1]
        one[p, i] = one[p, i + 1]


@jit(inline=True)
def _unwound_path_sum(zero, one, pw, p, depth, path_index):
    """Total permutation weight of path ``p`` with element ``path_index`` removed (path unchanged)."""
    one_fraction = one[p, path_index]
    zero_fraction = zero[p, path_index]
    scale = depth + 1.0
    total = 0.0
    # the hottest loop (leaves x depth calls): the branch on the fractions is taken once, outside it
    if one_fraction != 0.0:
        next_one_portion = pw[p, depth]
        for i in range(depth - 1, -1, -1):
            tmp = next_one_portion * scale / ((i + 1) * one_fraction)
            total += tmp
            next_one_portion = pw[p, i] - tmp * zero_fraction * (depth - i) / scale
    elif zero_fraction != 0.0:
        for i in range(depth):
            total += pw[p, i] * scale / (zero_fraction * (depth - i))
    return total


@jit(inline=True)
def _tree_shap_row(x, phi, root, feature, threshold, default_left, left, right, value, cover, cat_begin, cat_end,
                   cat_bits, feat, zero, one, pw, stack_node, stack_level, stack_depth, stack_zero, stack_one,
                   stack_feature):
    """Add one tree's contributions for row ``x`` (F,) to ``phi`` (F + 1,) (bias excluded).

    feat/zero/one/pw : (L, L) path buffers, L >= tree depth + 2; stack_* : (2L,) DFS stack.
    A stack entry is a node to visit with its path length and the fractions and feature of the
    split that led to it; its level is its depth, so its parent's path is at ``level - 1``.
    """
    top = 0
    stack_node[0], stack_level[0], stack_depth[0] = root, 0, 0
    stack_zero[0], stack_one[0], stack_feature[0] = 1.0, 1.0, -1
    while top >= 0:
        node, level, depth = stack_node[top], stack_level[top], stack_depth[top]
        zero_fraction, one_fraction, parent_feature = stack_zero[top], stack_one[top], stack_feature[top]
        top -= 1
        if level > 0:
            for i in range(depth):
                feat[level, i] = feat[level - 1, i]
                zero[level, i] = zero[level - 1, i]
                one[level, i] = one[level - 1, i]
                pw[level, i] = pw[level - 1, i]
        _extend_path(feat, zero, one, pw, level, depth, zero_fraction, one_fraction, parent_feature)
        split = feature[node]
        if split < 0:
            for i in range(1, depth + 1):
                w = _unwound_path_sum(zero, one, pw, level, depth, i)
                phi[feat[level, i]] += w * (one[level, i] - zero[level, i]) * value[node]
            continue
        if goes_left(x[split], node, threshold, default_left, cat_begin, cat_end, cat_bits):
            hot, cold = left[node], right[node]
        else:
            hot, cold = right[node], left[node]
        incoming_zero = 1.0
        incoming_one = 1.0
        # a feature already on the path is unwound and re-entered with the product of its fractions
        for path_index in range(1, depth + 1):
            if feat[level, path_index] == split:
                incoming_zero = zero[level, path_index]
                incoming_one = one[level, path_index]
                _unwind_path(feat, zero, one, pw, level, depth, path_index)
                depth -= 1
                break
        for c in range(2):  # cold first, so the hot child is on top and visited first
            child = cold if c == 0 else hot
            top += 1
            stack_node[top], stack_level[top], stack_depth[top] = child, level + 1, depth + 1
            stack_zero[top] = cover[child] / cover[node] * incoming_zero
            stack_one[top] = 0.0 if c == 0 else incoming_one
            stack_feature[top] = split


@jit(parallel=True)
def tree_shap(X, feature, threshold, default_left, left, right, value, cover, cat_begin, cat_end, cat_bits, roots,
              tree_class, first_tree, stop_tree, max_depth, out):
    """Add the TreeSHAP contributions of trees [first_tree, stop_tree) to ``out`` (n, K, F + 1).

    X : (n, F) float64 raw features (NaN = missing); node arrays are a ``Forest``'s (``cat_*``
    the category sets), with ``cover`` (nodes,) the hessian sums; ``roots``/``tree_class`` (T,);
    ``max_depth`` the deepest leaf's depth over the trees. Column F (the bias) is left to the caller.
    """
    n = X.shape[0]
    size = max_depth + 2
    n_blocks = (n + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    for blk in prange(n_blocks):
        feat = np.empty((size, size), dtype=np.int64)
        zero = np.empty((size, size))
        one = np.empty((size, size))
        pw = np.empty((size, size))
        stack_node = np.empty(2 * size, dtype=np.int64)
        stack_level = np.empty(2 * size, dtype=np.int64)
        stack_depth = np.empty(2 * size, dtype=np.int64)
        stack_zero = np.empty(2 * size)
        stack_one = np.empty(2 * size)
        stack_feature = np.empty(2 * size, dtype=np.int64)
        for i in range(blk * ROWS_PER_BLOCK, min(n, (blk + 1) * ROWS_PER_BLOCK)):
            for t in range(first_tree, stop_tree):
                _tree_shap_row(X[i], out[i, tree_class[t]], roots[t], feature, threshold, default_left, left,
                               right, value, cover, cat_begin, cat_end, cat_bits, feat, zero, one, pw, stack_node,
                               stack_level, stack_depth, stack_zero, stack_one, stack_feature)


@jit
def tree_expectations(feature, left, right, value, cover, roots, out):
    """Fill ``out`` (T,) with each tree's expected output: leaf values weighted by the fraction of
    the root's cover that reaches them (the prediction when no feature is known)."""
    stack = np.empty(feature.shape[0], dtype=np.int64)
    weight = np.empty(feature.shape[0])
    for t in range(roots.shape[0]):
        total = 0.0
        top = 0
        stack[0] = roots[t]
        weight[roots[t]] = 1.0
        while top >= 0:
            node = stack[top]
            top -= 1
            if feature[node] < 0:
                total += weight[node] * value[node]
                continue
            for child in (left[node], right[node]):
                weight[child] = weight[node] * cover[child] / cover[node]
                top += 1
                stack[top] = child
        out[t] = total
