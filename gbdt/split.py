"""Best split of a node from its histogram, with XGBoost's regularised gain.

For gradient sum G and hessian sum H, with L1 soft-threshold ``T(G) = sign(G) max(|G| - alpha, 0)``:

    score(G, H) = T(G)^2 / (H + lambda)          leaf weight = -T(G) / (H + lambda)
    gain = score(G_L, H_L) + score(G_R, H_R) - score(G, H)

A split is a candidate when both children have a positive hessian sum >= min_child_weight.
Each threshold bin is tried with missing values sent right and sent left; the default direction
is the better one (missing-left first, so ties and nodes without missing values default left, as
XGBoost does). Splits with gain <= 0 are never made; ``gamma`` is applied when pruning the tree.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit


@jit
def soft_threshold(g, alpha):
    """L1 soft-threshold of a gradient sum."""
    if g > alpha:
        return g - alpha
    if g < -alpha:
        return g + alpha
    return 0.0


@jit
def node_score(g, h, reg_lambda, reg_alpha):
    """``T(G)^2 / (H + lambda)``: twice the loss reduction of a leaf with the optimal weight."""
    t = soft_threshold(g, reg_alpha)
    return t * t / (h + reg_lambda)


@jit
def leaf_weight(g, h, reg_lambda, reg_alpha):
    """Optimal leaf value ``-T(G) / (H + lambda)`` (before the learning rate)."""
    return -soft_threshold(g, reg_alpha) / (h + reg_lambda)


@jit
def _scan_feature(hist_f, n_value_bins, missing_bin, sum_g, sum_h, reg_lambda, reg_alpha, min_child_weight):
    """Best (gain, bin, default_left, G_L, H_L) over the thresholds of one feature."""
    parent = node_score(sum_g, sum_h, reg_lambda, reg_alpha)
    miss_g = hist_f[missing_bin, 0]
    miss_h = hist_f[missing_bin, 1]
    best_gain = 0.0
    best_bin = -1
    best_left = True
    best_lg = 0.0
    best_lh = 0.0
    g = 0.0
    h = 0.0
    has_missing = miss_h > 0.0 or miss_g != 0.0
    for b in range(n_value_bins):
        if hist_f[b, 0] == 0.0 and hist_f[b, 1] == 0.0 and b > 0:
            continue  # an empty bin repeats the previous threshold's split
        g += hist_f[b, 0]
        h += hist_f[b, 1]
        # without missing values both directions give the same split: evaluate it once (as left)
        for missing_left in (True, False):
            if not missing_left and not has_missing:
                continue
            lg = g + miss_g if missing_left else g
            lh = h + miss_h if missing_left else h
            rh = sum_h - lh
            if lh <= 0.0 or rh <= 0.0 or lh < min_child_weight or rh < min_child_weight:
                continue
            gain = (
                node_score(lg, lh, reg_lambda, reg_alpha)
                + node_score(sum_g - lg, rh, reg_lambda, reg_alpha)
                - parent
            )
            if gain > best_gain:
                best_gain = gain
                best_bin = b
                best_left = missing_left
                best_lg = lg
                best_lh = lh
    return best_gain, best_bin, best_left, best_lg, best_lh


@jit(parallel=True)
def find_best_splits(hists, sums, features, n_value_bins, missing_bin, reg_lambda, reg_alpha, min_child_weight,
                     out_gain, out_feature, out_bin, out_default_left, out_left_stats):
    """Best split of every node of a batch, over ``features``.

    hists : (N, F, max_bin, 2) float64; sums : (N, 2) the nodes' (G, H); features : (k,)
    int32; n_value_bins : (F,) int32 non-missing bins per feature. Fills out_gain (N,),
    out_feature (N,) (-1 when no split has positive gain), out_bin (N,), out_default_left (N,)
    and out_left_stats (N, 2) with the left child's (G, H). Ties between features go to
    the lowest feature index.
    """
    n_nodes = hists.shape[0]
    k = features.shape[0]
    gains = np.zeros(n_nodes * k)
    bins = np.full(n_nodes * k, -1, dtype=np.int64)
    lefts = np.zeros(n_nodes * k, dtype=np.bool_)
    stats = np.zeros((n_nodes * k, 2))
    for q in prange(n_nodes * k):
        node = q // k
        f = features[q % k]
        gain, b, left, lg, lh = _scan_feature(
            hists[node, f], n_value_bins[f], missing_bin, sums[node, 0], sums[node, 1],
            reg_lambda, reg_alpha, min_child_weight,
        )
        gains[q] = gain
        bins[q] = b
        lefts[q] = left
        stats[q, 0] = lg
        stats[q, 1] = lh
    for node in range(n_nodes):
        best = -1
        for q in range(node * k, (node + 1) * k):
            if bins[q] >= 0 and (best < 0 or gains[q] > gains[best]):
                best = q
        if best < 0:
            out_gain[node] = 0.0
            out_feature[node] = -1
            out_bin[node] = -1
            out_default_left[node] = True
        else:
            out_gain[node] = gains[best]
            out_feature[node] = features[best - node * k]
            out_bin[node] = bins[best]
            out_default_left[node] = lefts[best]
            out_left_stats[node] = stats[best]
