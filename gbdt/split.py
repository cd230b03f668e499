"""Best split of a node from its histogram, with XGBoost's regularised gain.

For gradient sum G and hessian sum H, with L1 soft-threshold ``T(G) = sign(G) max(|G| - alpha, 0)``:

    score(G, H) = T(G)^2 / (H + lambda)          leaf weight = -T(G) / (H + lambda)
    gain = score(G_L, H_L) + score(G_R, H_R) - score(G, H)

A split is a candidate when both children have a positive hessian sum >= min_child_weight.
Each threshold bin is tried with missing values sent right and sent left; the default direction
is the better one (missing-left first, so ties and nodes without missing values default left, as
XGBoost does). Splits with gain <= 0 are never made; ``gamma`` is applied when pruning the tree.

Monotone constraints (XGBoost's method): a node carries bounds [lower, upper] on its weight and
its children's weights are clamped to them; a split on a feature constrained increasing (+1) is
invalid when the left weight exceeds the right one (-1: the reverse). With clamped weights the
score of a child is ``-(2 G w + (H + lambda) w^2 + 2 alpha |w|)``, which equals ``score(G, H)`` at
the optimal weight. Without any constraint in the model the unclamped formula above is used, so
such models are unchanged bit for bit.
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
def clamp(w, lower, upper):
    """``w`` limited to [lower, upper] (infinite bounds leave it unchanged)."""
    return min(max(w, lower), upper)


@jit
def gain_given_weight(g, h, w, reg_lambda, reg_alpha):
    """``-(2 G w + (H + lambda) w^2 + 2 alpha |w|)``: twice the loss reduction of a leaf of weight w."""
    return -(2.0 * g * w + (h + reg_lambda) * w * w + 2.0 * reg_alpha * abs(w))


@jit
def node_gain(g, h, reg, bound):
    """Score of a node with sums (G, H) at its (clamped) weight; reg = (lambda, alpha, min_child_weight),
    bound = (constrained, constraint, lower, upper) of the node being split."""
    if not bound[0]:
        return node_score(g, h, reg[0], reg[1])
    return gain_given_weight(g, h, clamp(leaf_weight(g, h, reg[0], reg[1]), bound[2], bound[3]), reg[0], reg[1])


@jit
def _candidate_gain(lg, lh, sum_g, sum_h, parent, reg, bound):
    """Gain of the split with left sums (lg, lh); -inf when a child is too light or the split
    breaks the monotone constraint of its feature."""
    rh = sum_h - lh
    if lh <= 0.0 or rh <= 0.0 or lh < reg[2] or rh < reg[2]:
        return -np.inf
    rg = sum_g - lg
    if not bound[0]:
        return node_score(lg, lh, reg[0], reg[1]) + node_score(rg, rh, reg[0], reg[1]) - parent
    wl = clamp(leaf_weight(lg, lh, reg[0], reg[1]), bound[2], bound[3])
    wr = clamp(leaf_weight(rg, rh, reg[0], reg[1]), bound[2], bound[3])
    if (bound[1] > 0.0 and wl > wr) or (bound[1] < 0.0 and wl < wr):
        return -np.inf
    return gain_given_weight(lg, lh, wl, reg[0], reg[1]) + gain_given_weight(rg, rh, wr, reg[0], reg[1]) - parent


@jit
def _best_direction(g, h, miss_g, miss_h, has_missing, sum_g, sum_h, parent, reg, bound):
    """Best (gain, missing_left) of sending the value bins summing to (g, h) left, with missing
    values left (tried first, so it wins ties) or right; gain is -inf when neither is valid."""
    best = _candidate_gain(g + miss_g, h + miss_h, sum_g, sum_h, parent, reg, bound)
    if has_missing:
        gain = _candidate_gain(g, h, sum_g, sum_h, parent, reg, bound)
        if gain > best:
            return gain, False
    return best, True


@jit
def _scan_feature(hist_f, n_value_bins, missing_bin, sum_g, sum_h, reg, bound):
    """Best (gain, bin, default_left, G_L, H_L) over the thresholds of one feature."""
    parent = node_gain(sum_g, sum_h, reg, bound)
    miss_g = hist_f[missing_bin, 0]
    miss_h = hist_f[missing_bin, 1]
    # without missing values both directions give the same split: evaluate it once (as left)
    has_missing = miss_h > 0.0 or miss_g != 0.0
    best_gain = 0.0
    best_bin = -1
    best_left = True
    best_lg = 0.0
    best_lh = 0.0
    g = 0.0
    h = 0.0
    for b in range(n_value_bins):
        if hist_f[b, 0] == 0.0 and hist_f[b, 1] == 0.0 and b > 0:
            continue  # an empty bin repeats the previous threshold's split
        g += hist_f[b, 0]
        h += hist_f[b, 1]
        gain, missing_left = _best_direction(g, h, miss_g, miss_h, has_missing, sum_g, sum_h, parent, reg, bound)
        if gain > best_gain:
            best_gain = gain
            best_bin = b
            best_left = missing_left
            best_lg = g + miss_g if missing_left else g
            best_lh = h + miss_h if missing_left else h
    return best_gain, best_bin, best_left, best_lg, best_lh


@jit(parallel=True)
def find_best_splits(hists, sums, features, n_value_bins, missing_bin, reg_lambda, reg_alpha, min_child_weight,
                     monotone, bounds, out_gain, out_feature, out_bin, out_default_left, out_left_stats):
    """Best split of every node of a batch, over ``features``.

    hists : (N, F, max_bin, 2) float64; sums : (N, 2) the nodes' (G, H); features : (k,)
    int32; n_value_bins : (F,) int32 non-missing bins per feature; monotone : (F,) int8
    constraint per feature (-1, 0, +1); bounds : (N, 2) float64 (lower, upper) weight bounds of
    the nodes (-inf, inf when unbounded). Fills out_gain (N,), out_feature (N,) (-1 when no
    split has positive gain), out_bin (N,), out_default_left (N,) and out_left_stats (N, 2) with
    the left child's (G, H). Ties between features go to the lowest feature index.
    """
    n_nodes = hists.shape[0]
    k = features.shape[0]
    constrained = False
    for f in range(monotone.shape[0]):
        constrained = constrained or monotone[f] != 0
    reg = (reg_lambda, reg_alpha, min_child_weight)
    gains = np.zeros(n_nodes * k)
    bins = np.full(n_nodes * k, -1, dtype=np.int64)
    lefts = np.zeros(n_nodes * k, dtype=np.bool_)
    stats = np.zeros((n_nodes * k, 2))
    for q in prange(n_nodes * k):
        node = q // k
        f = features[q % k]
        bound = (constrained, np.float64(monotone[f]), bounds[node, 0], bounds[node, 1])
        gain, b, left, lg, lh = _scan_feature(hists[node, f], n_value_bins[f], missing_bin, sums[node, 0],
                                              sums[node, 1], reg, bound)
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
