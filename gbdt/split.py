"""Best split of a node from its histogram, with XGBoost's regularised gain.

For gradient sum G and hessian sum H, with L1 soft-threshold ``T(G) = sign(G) max(|G| - alpha, 0)``:

    score(G, H) = T(G)^2 / (H + lambda)          leaf weight = -T(G) / (H + lambda)
    gain = score(G_L, H_L) + score(G_R, H_R) - score(G, H)

A split is a candidate when both children have a positive hessian sum >= min_child_weight.
Candidates are tried in XGBoost's (hist) order, and one must beat the best so far strictly:
bins 0..b left with missing values right, b ascending; then, if the node has missing values,
bins 0..b left with missing values left, b descending to -1 (missing values alone go left). So
ties go to missing-right splits and low bins, and nodes without missing values send them right,
as XGBoost does. Splits with gain <= 0 are never made; ``gamma`` is applied by the grower.

Monotone constraints (XGBoost's method): a node carries bounds [lower, upper] on its weight and
its children's weights are clamped to them; a split on a feature constrained increasing (+1) is
invalid when the left weight exceeds the right one (-1: the reverse). With clamped weights the
score of a child is ``-(2 G w + (H + lambda) w^2 + 2 alpha |w|)``, which equals ``score(G, H)`` at
the optimal weight. Without any constraint in the model the unclamped formula above is used, so
such models are unchanged bit for bit.

Categorical features (category c in bin c) split into a set of categories that goes left and
the rest, as LightGBM does: with at most ``max_cat_to_onehot`` categories, one category against
the others; otherwise the categories present in the node are sorted by ``G / (H + cat_smooth)``
and every prefix of that order, taken from either end, of up to ``min(max_cat_threshold,
(present + 1) // 2)`` categories is tried as the left set (for squared loss and no smoothing the
best split of a sorted order is the best of all subsets). Missing values go either way, as for
numeric features; categories absent from the node go right.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit

# (node, feature) pairs per task of the numeric scan, which share one scratch allocation
SCAN_BLOCK = 8
# XGBoost's kRtEps: a split must improve the (doubled) objective by more than this.
MIN_SPLIT_GAIN = 1e-6


@jit(inline=True)
def soft_threshold(g, alpha):
    """L1 soft-threshold of a gradient sum. Inlined (no division, so the caller's error model
    changes nothing): compiled on its own it cost ~0.08 s of a cold first fit."""
    if g > alpha:
        return g - alpha
    if g < -alpha:
        return g + alpha
    return 0.0


@jit(ieee=True)
def node_score(g, h, reg_lambda, reg_alpha):
    """``T(G)^2 / (H + lambda)``: twice the loss reduction of a leaf with the optimal weight
    (inf or NaN, not an error, for H + lambda = 0: only ever a rejected candidate)."""
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


def node_outputs(g, h, lower, upper, reg_lambda, reg_alpha, learning_rate, out):
    """Fill ``out`` (m,) with each node's value as a leaf, ``learning_rate x`` its optimal weight
    clamped into [lower, upper]; g, h, lower, upper : (m,) float64. One call per tree, in numpy:
    the same operations as ``leaf_weight`` and ``clamp``, so the same bits (tested), without a
    kernel to compile on a cold first fit (~0.3 s)."""
    t = np.where(g > reg_alpha, g - reg_alpha, np.where(g < -reg_alpha, g + reg_alpha, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):  # H + lambda = 0: inf/NaN, as the scalar kernel gives
        weight = -t / (h + reg_lambda)
    np.multiply(learning_rate, np.minimum(np.maximum(weight, lower), upper), out=out)


@jit(ieee=True)
def compiled_node_outputs(g, h, lower, upper, reg_lambda, reg_alpha, learning_rate, out):
    """``node_outputs`` compiled (the compiled grower's): the same operations, so the same bits
    (IEEE division: inf/NaN for H + lambda = 0; NaN stays NaN through numpy's maximum/minimum)."""
    for j in range(out.shape[0]):
        weight = -soft_threshold(g[j], reg_alpha) / (h[j] + reg_lambda)
        out[j] = learning_rate * np.minimum(np.maximum(weight, lower[j]), upper[j])


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


@jit(inline=True)
def _free_gain(lg, lh, sum_g, sum_h, parent, reg_lambda, reg_alpha, min_child_weight):
    """Gain of the split with left sums (lg, lh) of a node without monotone bounds; -inf when a
    child is too light. Selects instead of branches, so a loop over thresholds vectorises.
    Inlined: it divides nothing itself (``node_score`` does, under its own error model), and
    compiled on its own it cost ~0.07 s of a cold first fit."""
    rh = sum_h - lh
    rg = sum_g - lg
    gain = node_score(lg, lh, reg_lambda, reg_alpha) + node_score(rg, rh, reg_lambda, reg_alpha) - parent
    too_light = (lh <= 0.0) | (rh <= 0.0) | (lh < min_child_weight) | (rh < min_child_weight)
    return -np.inf if too_light else gain


@jit
def _candidate_gain(lg, lh, sum_g, sum_h, parent, reg, bound):
    """Gain of the split with left sums (lg, lh); -inf when a child is too light or the split
    breaks the monotone constraint of its feature."""
    if not bound[0]:
        return _free_gain(lg, lh, sum_g, sum_h, parent, reg[0], reg[1], reg[2])
    rh = sum_h - lh
    if lh <= 0.0 or rh <= 0.0 or lh < reg[2] or rh < reg[2]:
        return -np.inf
    rg = sum_g - lg
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


@jit(inline=True)
def _value_prefix_sums(hist_f, n_value_bins, cum):
    """Fill ``cum[:, :n_value_bins]`` ((2, >= n_value_bins) float64) with the running (G, H) over
    the value bins: column b sums bins 0..b; returns cum."""
    g = 0.0
    h = 0.0
    for b in range(n_value_bins):
        g += hist_f[b, 0]
        h += hist_f[b, 1]
        cum[0, b] = g
        cum[1, b] = h
    return cum


@jit
def _scan_feature(hist_f, n_value_bins, missing_bin, sum_g, sum_h, reg, bound, scratch):
    """Best (gain, bin, default_left, G_L, H_L) over the thresholds of one feature, in XGBoost's
    order: missing values right with bins 0..b left for b ascending, then, when the node has
    missing values, missing values left with bins 0..b for b descending from the second-last bin
    to -1 (missing values alone go left); a candidate must beat the best so far strictly.
    scratch : (4, >= n_value_bins) float64 work space, reused across calls."""
    parent = node_gain(sum_g, sum_h, reg, bound)
    miss_g = hist_f[missing_bin, 0]
    miss_h = hist_f[missing_bin, 1]
    has_missing = miss_h > 0.0 or miss_g != 0.0
    cum = _value_prefix_sums(hist_f, n_value_bins, scratch[:2])
    best_gain = 0.0
    best_bin = -1
    best_left = True
    best_lg = 0.0
    best_lh = 0.0
    for b in range(n_value_bins):
        if hist_f[b, 0] == 0.0 and hist_f[b, 1] == 0.0 and b > 0:
            continue  # an empty bin repeats the previous threshold's split
        gain = _candidate_gain(cum[0, b], cum[1, b], sum_g, sum_h, parent, reg, bound)
        if gain > best_gain:
            best_gain, best_bin, best_left, best_lg, best_lh = gain, b, False, cum[0, b], cum[1, b]
    if has_missing:
        for b in range(n_value_bins - 2, -2, -1):
            if hist_f[b + 1, 0] == 0.0 and hist_f[b + 1, 1] == 0.0:
                continue  # the same split as b + 1's, tried before (or none, for the last bin)
            lg = (cum[0, b] if b >= 0 else 0.0) + miss_g
            lh = (cum[1, b] if b >= 0 else 0.0) + miss_h
            gain = _candidate_gain(lg, lh, sum_g, sum_h, parent, reg, bound)
            if gain > best_gain:
                best_gain, best_bin, best_left, best_lg, best_lh = gain, b, True, lg, lh
    return best_gain, best_bin, best_left, best_lg, best_lh


@jit(inline=True)
def _occupied_prefix_sums(hist_f, n_value_bins, cum_g, cum_h, at):
    """The running (G, H) at each occupied value bin (G or H non-zero), in ``cum_g[k]``,
    ``cum_h[k]`` for the k-th occupied bin ``at[k]`` (as float); returns their count. Branch-free:
    every bin is written at the next free place, which only an occupied bin keeps."""
    g = 0.0
    h = 0.0
    m = 0
    for b in range(n_value_bins):
        bin_g = hist_f[b, 0]
        bin_h = hist_f[b, 1]
        g += bin_g
        h += bin_h
        cum_g[m] = g
        cum_h[m] = h
        at[m] = b
        m += (bin_g != 0.0) | (bin_h != 0.0)
    return m


@jit(inline=True)
def _scan_free_feature(hist_f, n_value_bins, missing_bin, sum_g, sum_h, reg, scratch):
    """``_scan_feature`` for a node without monotone bounds, in passes LLVM vectorises: prefix
    sums at the occupied bins, the gain of every candidate of each direction, then the first best
    in the same order. An empty bin repeats the split of its neighbour tried before it (which
    wins the tie), so only occupied bins are candidates: the same choices and numbers as the
    one-pass scan, ~3x faster, and a node's histogram that is mostly empty (deep nodes of sparse
    data) costs its occupied bins."""
    reg_lambda, reg_alpha, min_child_weight = reg
    parent = node_score(sum_g, sum_h, reg_lambda, reg_alpha)
    miss_g = hist_f[missing_bin, 0]
    miss_h = hist_f[missing_bin, 1]
    has_missing = miss_h > 0.0 or miss_g != 0.0
    cum_g, cum_h, gains, at = scratch[0], scratch[1], scratch[2], scratch[3]
    m = _occupied_prefix_sums(hist_f, n_value_bins, cum_g, cum_h, at)
    for k in range(m):  # missing values right, bins 0..at[k] left
        gains[k] = _free_gain(cum_g[k], cum_h[k], sum_g, sum_h, parent, reg_lambda, reg_alpha, min_child_weight)
    best_gain = 0.0
    best = -1
    best_left = True
    for k in range(m):
        if gains[k] > best_gain:
            best_gain, best, best_left = gains[k], k, False
    if has_missing:  # at k: missing values and bins 0..at[k] - 1 left (the occupied bins before k)
        gains[0] = _free_gain(miss_g, miss_h, sum_g, sum_h, parent, reg_lambda, reg_alpha, min_child_weight)
        for k in range(1, m):
            gains[k] = _free_gain(cum_g[k - 1] + miss_g, cum_h[k - 1] + miss_h, sum_g, sum_h, parent, reg_lambda,
                                  reg_alpha, min_child_weight)
        for k in range(m - 1, -1, -1):
            if gains[k] > best_gain:
                best_gain, best, best_left = gains[k], k, True
    if best_gain == 0.0:
        return 0.0, -1, True, 0.0, 0.0
    if not best_left:
        return best_gain, np.int64(at[best]), False, cum_g[best], cum_h[best]
    best_lg = (cum_g[best - 1] if best > 0 else 0.0) + miss_g
    best_lh = (cum_h[best - 1] if best > 0 else 0.0) + miss_h
    return best_gain, np.int64(at[best]) - 1, True, best_lg, best_lh


@jit
def _sorted_categories(hist_f, n_cats, cat_smooth, out_order):
    """Fill ``out_order[:m]`` with the m categories present in the node (hessian sum > 0) sorted
    by ``G / (H + cat_smooth)`` ascending (stable, so ties keep category order); returns m."""
    m = 0
    for c in range(n_cats):
        if hist_f[c, 1] > 0.0:
            out_order[m] = c
            m += 1
    ratio = np.empty(m)
    for j in range(m):
        ratio[j] = hist_f[out_order[j], 0] / (hist_f[out_order[j], 1] + cat_smooth)
    # stable insertion sort (m <= max_bin): np.argsort plus fancy indexing took ~8 s to compile
    for j in range(1, m):
        category, key = out_order[j], ratio[j]
        i = j - 1
        while i >= 0 and ratio[i] > key:
            out_order[i + 1], ratio[i + 1] = out_order[i], ratio[i]
            i -= 1
        out_order[i + 1], ratio[i + 1] = category, key
    return m


@jit
def _scan_categorical(hist_f, n_cats, missing_bin, sum_g, sum_h, reg, bound, cat_rules):
    """Best (gain, code, default_left, G_L, H_L) of sending a set of categories left.

    cat_rules = (max_cat_to_onehot, max_cat_threshold, cat_smooth). ``code`` names the left set
    for ``categorical_left_set``: one-hot, the category itself; otherwise +n for the n first
    categories of the sorted order, -n for the n last.
    """
    parent = node_gain(sum_g, sum_h, reg, bound)
    miss_g = hist_f[missing_bin, 0]
    miss_h = hist_f[missing_bin, 1]
    has_missing = miss_h > 0.0 or miss_g != 0.0
    best_gain = 0.0
    best_code = 0
    best_left = True
    best_lg = 0.0
    best_lh = 0.0
    order = np.empty(n_cats, dtype=np.int64)
    onehot = n_cats <= cat_rules[0]
    if onehot:
        m = 0
        for c in range(n_cats):
            if hist_f[c, 1] > 0.0:
                order[m] = c
                m += 1
        n_take = m
    else:
        m = _sorted_categories(hist_f, n_cats, cat_rules[2], order)
        n_take = min(np.int64(cat_rules[1]), (m + 1) // 2)
    for direction in (1, -1):
        if onehot and direction < 0:
            break
        g = 0.0
        h = 0.0
        for j in range(n_take):
            c = order[j] if direction > 0 else order[m - 1 - j]
            if onehot:
                g = hist_f[c, 0]
                h = hist_f[c, 1]
            else:
                g += hist_f[c, 0]
                h += hist_f[c, 1]
            gain, missing_left = _best_direction(g, h, miss_g, miss_h, has_missing, sum_g, sum_h, parent, reg,
                                                 bound)
            if gain > best_gain:
                best_gain = gain
                best_code = c if onehot else direction * (j + 1)
                best_left = missing_left
                best_lg = g + miss_g if missing_left else g
                best_lh = h + miss_h if missing_left else h
    return best_gain, best_code, best_left, best_lg, best_lh


@jit
def categorical_left_set(hist_f, n_cats, code, cat_rules, out_mask):
    """Fill ``out_mask`` (max_bin,) bool with the categories that go left for ``code`` as returned
    by ``_scan_categorical`` on the same histogram ``hist_f`` (max_bin, 2)."""
    out_mask[:] = False
    if n_cats <= cat_rules[0]:
        out_mask[code] = True
        return
    order = np.empty(n_cats, dtype=np.int64)
    m = _sorted_categories(hist_f, n_cats, cat_rules[2], order)
    for j in range(abs(code)):
        out_mask[order[j] if code > 0 else order[m - 1 - j]] = True


@jit(parallel=True)
def _scan_numeric_features(hists, bin_offsets, sums, features, n_value_bins, reg, monotone, bounds, categorical,
                           gains, bins, lefts, stats):
    """Best split of every (node, numeric feature) pair q = node * k + j into gains, bins, lefts,
    stats (n_nodes * k,) (pairs of categorical features are left as they are). Feature f's
    histogram is ``hists[node, bin_offsets[f]:bin_offsets[f + 1]]``, its missing bin last.
    monotone is None when no feature is constrained: Numba then prunes the constrained scan,
    which a cold first fit without constraints never compiles (~1.5 s). The pairs run in
    SCAN_BLOCK-sized blocks, each with one scratch allocation instead of three per pair."""
    k = features.shape[0]
    n_pairs = hists.shape[0] * k
    widest = 0
    for j in range(k):
        widest = np.maximum(widest, bin_offsets[features[j] + 1] - bin_offsets[features[j]])
    for block in prange((n_pairs + SCAN_BLOCK - 1) // SCAN_BLOCK):
        scratch = np.empty((4, widest))
        for q in range(block * SCAN_BLOCK, np.minimum(n_pairs, (block + 1) * SCAN_BLOCK)):
            node = q // k
            f = features[q % k]
            if categorical is not None:  # None: a model without categorical features (the compiled grower's)
                if categorical[f]:
                    continue
            hist_f = hists[node, bin_offsets[f]:bin_offsets[f + 1]]
            missing = hist_f.shape[0] - 1
            if monotone is None:
                gain, b, left, lg, lh = _scan_free_feature(hist_f, n_value_bins[f], missing, sums[node, 0],
                                                           sums[node, 1], reg, scratch)
            else:
                bound = (True, np.float64(monotone[f]), bounds[node, 0], bounds[node, 1])
                gain, b, left, lg, lh = _scan_feature(hist_f, n_value_bins[f], missing, sums[node, 0],
                                                      sums[node, 1], reg, bound, scratch)
            gains[q], bins[q], lefts[q], stats[q, 0], stats[q, 1] = gain, b, left, lg, lh


@jit(parallel=True)
def _scan_categorical_features(hists, bin_offsets, sums, features, n_value_bins, reg, constrained, monotone, bounds,
                               categorical, cat_rules, gains, bins, lefts, stats):
    """``_scan_numeric_features`` for the pairs of categorical features, in a kernel of its own so
    that models without categories never compile it (~3 s of a cold first fit)."""
    k = features.shape[0]
    for q in prange(hists.shape[0] * k):
        node = q // k
        f = features[q % k]
        if categorical[f]:
            bound = (constrained, np.float64(monotone[f]), bounds[node, 0], bounds[node, 1])
            hist_f = hists[node, bin_offsets[f]:bin_offsets[f + 1]]
            gain, b, left, lg, lh = _scan_categorical(hist_f, n_value_bins[f], hist_f.shape[0] - 1, sums[node, 0],
                                                      sums[node, 1], reg, bound, cat_rules)
            gains[q], bins[q], lefts[q], stats[q, 0], stats[q, 1] = gain, b, left, lg, lh


def _pick_best_splits(gains, bins, lefts, stats, features, out_gain, out_feature, out_bin, out_default_left,
                      out_left_stats):
    """Per node, the pair with the highest positive gain (the lowest feature index on ties); returns
    (N,) int64 of the winning pair q, -1 where no split has a positive gain; ``features`` (k >= 1,).
    Numpy: a handful of array operations per tree level, without a kernel to compile on a cold first
    fit (~0.4 s)."""
    n_nodes, k = out_gain.shape[0], features.shape[0]
    best = np.argmax(np.where(gains > 0.0, gains, -np.inf).reshape(n_nodes, k), axis=1)  # first of the best
    best += np.arange(0, n_nodes * k, k)
    found = gains[best] > 0.0  # NaN and gains <= 0 never win
    winners = np.where(found, best, -1)
    split = best[found]
    out_gain[:] = 0.0
    out_feature[:] = -1
    out_bin[:] = -1
    out_default_left[:] = True
    out_gain[found] = gains[split]
    out_feature[found] = features[split % k]
    out_bin[found] = bins[split]
    out_default_left[found] = lefts[split]
    out_left_stats[found] = stats[split]
    return winners


def find_best_splits(hists, bin_offsets, sums, features, n_value_bins, reg_lambda, reg_alpha, min_child_weight,
                     monotone, bounds, categorical, cat_rules, out_gain, out_feature, out_bin, out_default_left,
                     out_left_stats, out_cat_left, allowed=None):
    """Best split of every node of a batch, over ``features``.

    hists : (N, T, 2) float64 flat histograms and bin_offsets : (F + 1,) int64, feature f's bins
    at ``[bin_offsets[f], bin_offsets[f + 1])``, the missing bin last (``gbdt.histogram.flat_layout``);
    sums : (N, 2) the nodes' (G, H); features : (k,) int32; n_value_bins : (F,) int32 non-missing
    bins per feature (categories of a categorical feature); monotone : (F,) int8 constraint per
    feature (-1, 0, +1); bounds : (N, 2) float64 (lower, upper) weight bounds of the nodes (-inf,
    inf when unbounded); categorical : (F,) bool; cat_rules : (max_cat_to_onehot,
    max_cat_threshold, cat_smooth) float64 tuple.
    Fills out_gain (N,), out_feature (N,) (-1 when no split has positive gain), out_bin (N,)
    (threshold bin; for a categorical split the scan's code), out_default_left (N,),
    out_left_stats (N, 2) with the left child's (G, H), and out_cat_left (N, max_bin) bool with
    the categories that go left (all False for numeric splits). Ties between features go to the
    lowest feature index. ``allowed`` (N, k) bool, when given, limits node j to the features
    ``features[allowed[j]]`` (``colsample_bynode``).
    """
    n_pairs = hists.shape[0] * features.shape[0]
    gains, bins = np.zeros(n_pairs), np.zeros(n_pairs, dtype=np.int64)
    lefts, stats = np.zeros(n_pairs, dtype=np.bool_), np.zeros((n_pairs, 2))
    reg = (float(reg_lambda), float(reg_alpha), float(min_child_weight))
    # clamped-weight gains: for monotone constraints, and for bounded weights (max_delta_step)
    constrained = bool((monotone != 0).any()) or bool(np.isfinite(bounds).any())
    _scan_numeric_features(hists, bin_offsets, sums, features, n_value_bins, reg, monotone if constrained else None,
                           bounds, categorical, gains, bins, lefts, stats)
    has_categories = bool(categorical[features].any())
    if has_categories:
        _scan_categorical_features(hists, bin_offsets, sums, features, n_value_bins, reg, constrained, monotone,
                                   bounds, categorical, cat_rules, gains, bins, lefts, stats)
    if allowed is not None:
        gains[~allowed.ravel()] = 0.0  # never wins
    winners = _pick_best_splits(gains, bins, lefts, stats, features, out_gain, out_feature, out_bin, out_default_left,
                                out_left_stats)
    out_cat_left[:] = False
    if has_categories:
        for node in np.flatnonzero(winners >= 0):
            f = out_feature[node]
            if categorical[f]:
                categorical_left_set(hists[node, bin_offsets[f]:bin_offsets[f + 1]], n_value_bins[f], out_bin[node],
                                     cat_rules, out_cat_left[node])


@jit(calls_parallel=True)
def compiled_find_best_splits(hists, bin_offsets, sums, features, n_value_bins, reg_lambda, reg_alpha,
                              min_child_weight, monotone, bounds, categorical, cat_rules, out_gain, out_feature,
                              out_bin, out_default_left, out_left_stats, out_cat_left, allowed):
    """``find_best_splits`` compiled, for the compiled grower: the same arguments and results, with
    ``monotone`` None for a model without monotone constraints or weight bounds (only the free
    scan is compiled), ``categorical`` None for a model without categorical features (the
    categorical scan is not compiled) and ``allowed`` (N, k) bool or None."""
    k = features.shape[0]
    n_pairs = hists.shape[0] * k
    gains, bins = np.zeros(n_pairs), np.zeros(n_pairs, dtype=np.int64)
    lefts, stats = np.zeros(n_pairs, dtype=np.bool_), np.zeros((n_pairs, 2))
    reg = (np.float64(reg_lambda), np.float64(reg_alpha), np.float64(min_child_weight))
    constrained = _constrained(monotone, bounds)
    if constrained:
        _scan_numeric_features(hists, bin_offsets, sums, features, n_value_bins, reg, monotone, bounds, categorical,
                               gains, bins, lefts, stats)
    else:
        _scan_numeric_features(hists, bin_offsets, sums, features, n_value_bins, reg, None, bounds, categorical, gains,
                               bins, lefts, stats)
    _scan_categorical_pairs(hists, bin_offsets, sums, features, n_value_bins, reg, constrained, monotone, bounds,
                            categorical, cat_rules, gains, bins, lefts, stats)
    _disallow(allowed, gains)
    winners = compiled_pick_best_splits(gains, bins, lefts, stats, features, out_gain, out_feature, out_bin,
                                        out_default_left, out_left_stats)
    out_cat_left[:] = False
    _categorical_left_sets(hists, bin_offsets, n_value_bins, categorical, cat_rules, winners, out_feature, out_bin,
                           out_cat_left)


@jit
def compiled_pick_best_splits(gains, bins, lefts, stats, features, out_gain, out_feature, out_bin, out_default_left,
                              out_left_stats):
    """``_pick_best_splits`` compiled: the same winners and outputs."""
    n_nodes, k = out_gain.shape[0], features.shape[0]
    winners = np.full(n_nodes, -1, dtype=np.int64)
    for node in range(n_nodes):
        best = -1
        for q in range(node * k, (node + 1) * k):
            if gains[q] > 0.0 and (best < 0 or gains[q] > gains[best]):  # NaN and gains <= 0 never win
                best = q
        winners[node] = best
        if best < 0:
            out_gain[node], out_feature[node], out_bin[node], out_default_left[node] = 0.0, -1, -1, True
        else:
            out_gain[node], out_feature[node], out_bin[node] = gains[best], features[best % k], bins[best]
            out_default_left[node] = lefts[best]
            out_left_stats[node, 0], out_left_stats[node, 1] = stats[best, 0], stats[best, 1]
    return winners


@jit
def _constrained(monotone, bounds):
    """Whether splits need clamped-weight gains (``find_best_splits``' test); never when
    ``monotone`` is None."""
    if monotone is None:
        return False
    for f in range(monotone.shape[0]):
        if monotone[f] != 0:
            return True
    for j in range(bounds.shape[0]):
        if np.isfinite(bounds[j, 0]) or np.isfinite(bounds[j, 1]):
            return True
    return False


@jit(calls_parallel=True)
def _scan_categorical_pairs(hists, bin_offsets, sums, features, n_value_bins, reg, constrained, monotone, bounds,
                            categorical, cat_rules, gains, bins, lefts, stats):
    """``_scan_categorical_features`` when some of ``features`` is categorical (none when
    ``categorical`` is None: Numba then drops the call)."""
    if categorical is None:
        return
    has_categories = False
    for j in range(features.shape[0]):
        has_categories |= categorical[features[j]]
    if has_categories:
        monotone_array = np.zeros(n_value_bins.shape[0], dtype=np.int8) if monotone is None else monotone
        _scan_categorical_features(hists, bin_offsets, sums, features, n_value_bins, reg, constrained, monotone_array,
                                   bounds, categorical, cat_rules, gains, bins, lefts, stats)


@jit
def _categorical_left_sets(hists, bin_offsets, n_value_bins, categorical, cat_rules, winners, out_feature, out_bin,
                           out_cat_left):
    """Fill ``out_cat_left`` for the nodes whose best split is categorical (none without categorical features)."""
    if categorical is None:
        return
    for node in range(winners.shape[0]):
        f = out_feature[node]
        if winners[node] >= 0 and categorical[f]:
            categorical_left_set(hists[node, bin_offsets[f]:bin_offsets[f + 1]], n_value_bins[f], out_bin[node],
                                 cat_rules, out_cat_left[node])


@jit
def _disallow(allowed, gains):
    """Zero the gains (never a winner) of the (node, feature) pairs that ``allowed`` (N, k) bool
    forbids (none when it is None)."""
    if allowed is None:
        return
    k = allowed.shape[1]
    for q in range(gains.shape[0]):
        if not allowed[q // k, q % k]:
            gains[q] = 0.0
