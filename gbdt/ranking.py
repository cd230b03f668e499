"""Learning-to-rank objectives: lambda gradients over query groups, as XGBoost's ``rank:pairwise``,
``rank:ndcg``, ``rank:map`` and LightGBM's ``lambdarank``, ``rank_xendcg`` compute them.

The rows of a query are contiguous; ``group_ptr`` (G + 1,) int64 holds the boundaries::

    rows    | q0 q0 q0 | q1 q1 | q2 q2 q2 q2 |
    group_ptr 0          3       5             9

Gradients of a row depend on the other rows of its query, so every kernel works query by query
(``prange`` over queries) and fills ``gh_out`` (n, 2) float32: ``[:, 0]`` the gradient, ``[:, 1]``
the hessian.

LambdaMART (``lambda_grad_hess``): the documents of a query are ranked by the model's scores; a
pair (high, low) of documents with different labels (high: the larger label) gets
``lambda = (sigmoid(s_high - s_low) - 1) |delta Z|`` on high and its negation on low, hessian
``max(sigmoid (1 - sigmoid), 1e-16) |delta Z| * hess_scale`` on both; delta Z is the change of
the query's metric when the two swap places (1 for pairwise, NDCG, or MAP). Pairs are every pair
with a document among the model's top ``num_pair`` ("topk"), or ``num_pair`` random partners per
document with a different label ("mean"). ``|delta Z|`` may be divided by ``|s_high - s_low| +
0.01`` (score normalisation); the query's sums are then scaled by ``log2(1 + S) / S`` (S: the sum
of ``-2 lambda``; topk) or ``1 / num_pair`` (mean), then by the row's weight.

XGBoost's conventions (``lightgbm=False``): the sigmoid in float32 of the float32 score
difference (its expf taken, for topk pairs, as a product of per-document exps corrected for the
float32 rounding of the difference: the same float32 number but where expf rounds otherwise, one
ulp; see ``_topk_lambdas``), hessian factor 2, a query's weight times (number of queries / sum of query weights);
"mean" partners drawn as XGBoost 3.2 draws them (``std::minstd_rand`` seeded with ``(iteration +
1) * n_queries + query``, libstdc++'s ``uniform_int_distribution``), so gradients equal XGBoost's.
LightGBM's (``lightgbm=True``): a float64 sigmoid (LightGBM reads a 1M-bin table of it), hessian
factor 1, ``0.01f`` in the score normalisation, each row's own weight.
"""
import math
from typing import NamedTuple

import numpy as np
from numba import prange

from gbdt._jit import jit

# the change of metric a pair's lambda is weighted by (``lambda_grad_hess``'s ``metric``)
PAIRWISE, NDCG, MAP = 0, 1, 2
DELTA_METRIC = {"pairwise": PAIRWISE, "ndcg": NDCG, "map": MAP}
MAX_EXP_LABEL = 31  # labels of the exponential gain 2^y - 1 (a 32-bit integer in XGBoost)
POSITION_BIAS_POSITIONS = 32  # positions whose bias "mean" unbiased LambdaMART tracks (XGBoost's)
EPS64 = 1e-16
LIGHTGBM_SCORE_EPS = float(np.float32(0.01))  # LightGBM's 0.01f
XGBOOST_SCORE_EPS = 0.01
# the largest spread of a query's scores for which topk pairs take e^(s_j - s_i) as a product of
# per-document exps (``_topk_lambdas``): e^80 and e^-80 stay normal float64 numbers, and below
# XGBoost's clamp of the exponent at 88.7
PRODUCT_EXP_SPREAD = 80.0


class RankingParams(NamedTuple):
    """A ranking objective's parameters, as ``bindings.params`` resolves them.

    kind: "pairwise", "ndcg", "map" (LambdaMART's delta metric) or "xendcg" (LightGBM's rank_xendcg);
    lightgbm: LightGBM's conventions (module docstring); truncated: "topk" pairs, else "mean";
    num_pair: the top positions (topk) or partners per document (mean); normalization: the
    log2 / 1 / num_pair scaling of a query's sums; score_normalization: divide |delta Z| by
    |s_high - s_low| + 0.01; unbiased: position debiasing (Unbiased LambdaMART), bias_norm its
    Lp regulariser; gain: "exponential" (2^y - 1), "linear" (y) or a tuple of gains by integer
    label (LightGBM's label_gain); seed: rank_xendcg's objective_seed.
    """
    kind: str = "ndcg"
    lightgbm: bool = False
    truncated: bool = True
    num_pair: int = 32
    normalization: bool = True
    score_normalization: bool = True
    unbiased: bool = False
    bias_norm: float = 1.0
    gain: object = "exponential"
    seed: int = 5


def label_gains(label, gain):
    """(n,) float64 gain of each label: 2^y - 1 (``gain == "exponential"``, integer labels in
    [0, 31]), y ("linear"), or ``gain[y]`` (a tuple, integer labels below its length)."""
    if gain == "exponential":
        return np.exp2(label) - 1.0
    if gain == "linear":
        return np.asarray(label, dtype=np.float64)
    return np.asarray(gain, dtype=np.float64)[label.astype(np.int64)]


@jit(inline=True)
def discount(position):
    """DCG discount of 0-based ``position``: 1 / log2(position + 2)."""
    return 1.0 / math.log2(position + 2.0)


@jit
def discount_table(size):
    """(size,) float64 ``discount`` of positions 0..size-1 (the pair loop reads them, as XGBoost's)."""
    out = np.empty(size)
    for i in range(size):
        out[i] = discount(i)
    return out


@jit
def descending_order(values):
    """Stable descending argsort of values (m,): ties keep their order, as XGBoost's and LightGBM's."""
    return np.argsort(-values, kind="mergesort")


@jit(parallel=True)
def inverse_ideal_dcg(label, gain, group_ptr, top_k, out):
    """Fill out (G,) with 1 / IDCG@top_k of each query (0 where the ideal DCG is 0): the DCG of
    the query's rows sorted by label, ``gain`` (n,) float64 per row."""
    for g in prange(group_ptr.shape[0] - 1):
        start, stop = group_ptr[g], group_ptr[g + 1]
        order = descending_order(label[start:stop])
        ideal = 0.0
        for i in range(min(stop - start, top_k)):
            ideal += discount(i) * gain[start + order[i]]
        out[g] = 1.0 / ideal if ideal != 0.0 else 0.0


@jit(inline=True)
def _minstd_uniform(state, n):
    """(new state, a draw in [0, n)) of ``std::uniform_int_distribution<size_t>(0, n - 1)`` on
    ``std::minstd_rand`` in libstdc++: outputs 1..2^31 - 2 less 1, rejected above the largest
    multiple of n's share, then divided by it."""
    scaling = 2147483645 // n
    past = n * scaling
    while True:
        state = (state * 48271) % 2147483647
        if state - 1 < past:
            return state, (state - 1) // scaling


@jit(inline=True)
def _float32_sigmoid(diff):
    """XGBoost's float ``Sigmoid`` of a float32 score difference (as float64): 1 / (expf(min(-x,
    88.7)) + 1) in float32 (its + 1e-16 rounds away against 1)."""
    x = min(-diff, np.float32(88.7))
    return np.float64(np.float32(1.0) / (np.float32(math.exp(x)) + np.float32(1.0)))


@jit(inline=True)
def _delta_map(rank_high, rank_low, label_high, label_low, rel_high, rel_low, acc_between, n_relevant):
    """|change of average precision| when the documents at ``rank_high`` < ``rank_low`` (0-based)
    swap (XGBoost's DeltaMAP): ``rel_*`` the running counts of relevant documents down to each,
    ``acc_between`` the running sum of label / position from below rank_high down to above rank_low,
    ``n_relevant`` the query's relevant documents."""
    r_h, r_l = rank_high + 1.0, rank_low + 1.0
    if label_high < label_low:
        return abs((rel_low / r_l - (rel_high + 1.0) / r_h - acc_between) / n_relevant)
    return abs((rel_high / r_h - rel_low / r_l + acc_between) / n_relevant)


@jit(inline=True)
def _pair_lambda(s_high, s_low, delta, score_eps, hess_scale, float32_sigmoid):
    """(lambda, hessian, |delta Z|) of a pair with scores s_high (larger label), s_low and |delta Z|
    ``delta``, the latter after score normalisation (``score_eps`` > 0)."""
    if float32_sigmoid:
        diff = np.float32(s_high) - np.float32(s_low)
        delta_score = abs(np.float64(diff))
        sig = _float32_sigmoid(diff)
    else:
        delta_score = abs(s_high - s_low)
        sig = 1.0 / (1.0 + math.exp(-(s_high - s_low)))
    if score_eps > 0.0:
        delta /= delta_score + score_eps
    return (sig - 1.0) * delta, max(sig * (1.0 - sig), EPS64) * delta * hess_scale, delta


@jit(inline=True)
def _topk_lambdas(doc, metric, inv_idcg, num_pair, eps, hess_scale, float32_sigmoid, grad, hess):
    """The topk pairs of one query added to ``grad``/``hess`` (cnt,) float32 (rank order); returns the
    query's sum of ``-2 lambda``. Every pair (i, j), i < min(cnt, num_pair), j > i, in the order and
    with the float32 sums of the pair list (``_query_pairs``), without its branches or a call of exp
    per pair: e^(s_j - s_i) = up[j] down[i] with up[r] = e^(s_r - s_0), down[r] = e^(s_0 - s_r) (the
    caller takes this path only while the query's spread of scores s_0 - s_last keeps them in range,
    ``PRODUCT_EXP_SPREAD``). For XGBoost's float32 sigmoid, s are the float32 scores and the product
    is corrected by e^c ~ 1 + c + c^2 / 2 for the rounding c of their float32 difference: it is expf
    of that difference to float64 precision, so the float32 sigmoid equals the direct form's but
    where expf's own rounding differs (one float32 ulp of a pair's sigmoid; ~1 value in 2,500 of
    ``gh_out`` then differs by an ulp). LightGBM's float64 sigmoid takes the product as it is.

    doc : (8, cnt) float64, by rank: label, gain (NDCG), discount, score (float32-rounded for
    XGBoost's sigmoid), up, down (filled here), relevant documents and sum of label / position
    down to the rank (MAP). Per document i, a branch-free loop (selects for which document is high
    and for equal labels) fills the lambdas and hessians of its pairs into scratch (cnt,) float32:
    LLVM vectorises it, as it did not with one input array per quantity (more run-time alias
    checks) or with branches; the float32 sums follow serially, in pair order.
    """
    cnt = doc.shape[1]
    top = doc[3, 0]
    for r in range(cnt):
        doc[4, r] = math.exp(doc[3, r] - top)
        doc[5, r] = math.exp(top - doc[3, r])
    pair_delta = np.empty(cnt)  # |delta Z| of the pairs (i, j) of one i
    signed_lambda = np.empty(cnt, dtype=np.float32)  # their lambdas, negated where j is high
    pair_hess = np.empty(cnt, dtype=np.float32)
    sum_lambda = 0.0
    for i in range(min(cnt, num_pair)):
        label_i, g_i, d_i, s_i, up_i, down_i = doc[0, i], doc[1, i], doc[2, i], doc[3, i], doc[4, i], doc[5, i]
        if metric == NDCG:  # the pair list's expression, symmetric in high and low
            for j in range(i + 1, cnt):
                g_j, d_j = doc[1, j], doc[2, j]
                pair_delta[j] = abs((g_i * d_i + g_j * d_j - (g_j * d_i + g_i * d_j)) * inv_idcg)
        elif metric == MAP:
            for j in range(i + 1, cnt):
                pair_delta[j] = _delta_map(i, j, label_i, doc[0, j], doc[6, i], doc[6, j], doc[7, j - 1] - doc[7, i],
                                           doc[6, cnt - 1])
        else:
            pair_delta[i + 1:] = 1.0
        # loop-invariant choices as selects, not branches: a branch in the loop stops its vectorising
        for j in range(i + 1, cnt):
            i_high = label_i > doc[0, j]
            exact = s_i - doc[3, j]
            diff = np.float32(exact)  # s_i - s_j in float32; the pair's is +-diff
            c = exact - np.float64(diff)
            # e^-diff where i is high, else e^diff; the float32 sigmoid's sum and quotient are
            # taken in float64 and rounded to float32: the same numbers (53 >= 2 * 24 + 2 bits)
            e = doc[4, j] * down_i if i_high else up_i * doc[5, j]
            correction = 1.0 + c + 0.5 * c * c if i_high else 1.0 - c + 0.5 * c * c
            e32_plus_1 = np.float64(np.float32(np.float64(np.float32(e * correction)) + 1.0))
            quotient = 1.0 / (e32_plus_1 if float32_sigmoid else 1.0 + e)
            sig = np.float64(np.float32(quotient)) if float32_sigmoid else quotient
            delta_score = np.float64(diff) if float32_sigmoid else exact
            delta = pair_delta[j] / (delta_score + eps) if eps > 0.0 else pair_delta[j]
            delta = delta if label_i != doc[0, j] else 0.0
            lam32 = np.float32((sig - 1.0) * delta)
            signed_lambda[j] = lam32 if i_high else -lam32
            pair_hess[j] = np.float32(max(sig * (1.0 - sig), EPS64) * delta * hess_scale)
        grad_i, hess_i = grad[i], hess[i]
        for j in range(i + 1, cnt):
            grad_i += signed_lambda[j]
            hess_i += pair_hess[j]
            grad[j] -= signed_lambda[j]
            hess[j] += pair_hess[j]
            sum_lambda += 2.0 * abs(np.float64(signed_lambda[j]))
        grad[i], hess[i] = grad_i, hess_i
    return sum_lambda


@jit
def _query_pairs(ranked_label, truncated, num_pair, seed, first, second):
    """Fill ``first``/``second`` with the rank pairs of one query (labels ``ranked_label`` (cnt,) in
    rank order); returns their number. topk: (i, j) for i < min(cnt, num_pair), j > i. mean: for
    each of ``num_pair`` rounds and each rank in turn (by label, descending), a partner drawn
    uniformly among the ranks of other labels by XGBoost 3.2's generator seeded with ``seed``."""
    cnt = ranked_label.shape[0]
    n = 0
    if truncated:
        for i in range(min(cnt, num_pair)):
            for j in range(i + 1, cnt):
                first[n], second[n] = i, j
                n += 1
        return n
    by_label = descending_order(ranked_label)  # ranks, by label; a bucket: the ranks of one label
    state = seed % 2147483647
    state = 1 if state == 0 else state
    i = 0
    while i < cnt:
        j = i + 1
        while j < cnt and ranked_label[by_label[i]] == ranked_label[by_label[j]]:
            j += 1
        others = cnt - (j - i)  # partners: every rank outside the bucket
        if others > 0:
            for _ in range(num_pair):
                for p in range(i, j):
                    state, r = _minstd_uniform(state, others)
                    first[n], second[n] = by_label[p], by_label[r if r < i else r - i + j]
                    n += 1
        i = j
    return n


@jit(parallel=True, ieee=True)
def lambda_grad_hess(scores, label, gain, group_ptr, group_seed, inv_idcg, row_scale, discounts, metric, truncated,
                     num_pair, score_eps, normalization, hess_scale, float32_sigmoid, ti_plus, tj_minus, li_out,
                     lj_out, gh_out):
    """LambdaMART gradients (module docstring) of every query into ``gh_out`` (n, 2) float32.

    scores, label, gain, row_scale : (n,) float64 (model scores; labels; gain per row for NDCG;
        weight per row); group_ptr (G + 1,) int64; group_seed (G,) int64 (the "mean" sampler's
        seed per query); inv_idcg (G,) float64 (NDCG); discounts : (max query size,) float64
        DCG discount by rank (``discount_table``);
    metric : PAIRWISE, NDCG or MAP; truncated : topk pairs, else mean; num_pair : int;
    score_eps : 0.01 (XGBoost) or 0.01f (LightGBM), 0 for no score normalisation;
    normalization : bool; hess_scale : 2 (XGBoost) or 1 (LightGBM); float32_sigmoid : bool;
    ti_plus, tj_minus : (K,) float64 position biases of unbiased LambdaMART (K = 0: biased),
        by place in the query's row order;
    li_out, lj_out : (G, K) float64, filled with each query's costs by position (unbiased).

    Biased topk pairs of a query whose scores spread at most ``PRODUCT_EXP_SPREAD`` (all but
    models far into overfitting) go through ``_topk_lambdas``: no exp per pair, a vectorised pair
    loop, the same gradients but where expf's rounding differs by an ulp. Otherwise the query's
    pairs are listed first (``_query_pairs``), then one loop does every pair's arithmetic in this
    function: a helper taking the query's arrays, called per pair, costs Numba reference counts on
    each call.
    """
    k = ti_plus.shape[0]
    for g in prange(group_ptr.shape[0] - 1):
        start, stop = group_ptr[g], group_ptr[g + 1]
        cnt = stop - start
        order = descending_order(scores[start:stop])
        # the query in rank order: the pair loop reads and writes contiguous memory
        ranked_label, ranked_score, ranked_gain = np.empty(cnt), np.empty(cnt), np.empty(cnt)
        for r in range(cnt):
            ranked_label[r] = label[start + order[r]]
            ranked_score[r] = scores[start + order[r]]
            ranked_gain[r] = gain[start + order[r]]
        # score normalisation needs a spread of scores (none at the first round)
        eps = score_eps if ranked_score[0] != ranked_score[cnt - 1] else 0.0
        n_rel = np.empty(cnt if metric == MAP else 0)  # relevant documents down to each rank
        acc = np.empty(cnt if metric == MAP else 0)  # sum of label / position down to each rank
        if metric == MAP:
            running_rel, running_acc = 0.0, 0.0
            for r in range(cnt):
                running_rel += ranked_label[r]
                running_acc += ranked_label[r] / (r + 1.0)
                n_rel[r], acc[r] = running_rel, running_acc
        grad = np.zeros(cnt, dtype=np.float32)
        hess = np.zeros(cnt, dtype=np.float32)
        spread = ranked_score[0] - ranked_score[cnt - 1]
        if truncated and k == 0 and spread <= PRODUCT_EXP_SPREAD:
            doc = np.empty((8, cnt))
            for r in range(cnt):
                doc[0, r], doc[1, r], doc[2, r] = ranked_label[r], ranked_gain[r], discounts[r]
                # the scores the sigmoid sees: XGBoost's are float32
                doc[3, r] = np.float64(np.float32(ranked_score[r])) if float32_sigmoid else ranked_score[r]
                if metric == MAP:
                    doc[6, r], doc[7, r] = n_rel[r], acc[r]
            sum_lambda = _topk_lambdas(doc, metric, inv_idcg[g], num_pair, eps, hess_scale, float32_sigmoid, grad,
                                       hess)
            n_pairs = 0
        else:
            sum_lambda = 0.0
            capacity = min(cnt, num_pair) * cnt if truncated else num_pair * cnt
            first, second = np.empty(capacity, dtype=np.int64), np.empty(capacity, dtype=np.int64)
            n_pairs = _query_pairs(ranked_label, truncated, num_pair, group_seed[g], first, second)
        for q in range(n_pairs):
            high, low = first[q], second[q]
            if ranked_label[high] == ranked_label[low]:
                continue
            if ranked_label[high] < ranked_label[low]:
                high, low = low, high
            if metric == NDCG:
                g_h, g_l = ranked_gain[high], ranked_gain[low]
                d_h, d_l = discounts[high], discounts[low]
                delta = abs((g_h * d_h + g_l * d_l - (g_l * d_h + g_h * d_l)) * inv_idcg[g])
            elif metric == MAP:
                top, bottom = min(high, low), max(high, low)
                delta = _delta_map(top, bottom, ranked_label[top], ranked_label[bottom], n_rel[top], n_rel[bottom],
                                   acc[bottom - 1] - acc[top], n_rel[cnt - 1])
            else:
                delta = 1.0
            lam, h, delta = _pair_lambda(ranked_score[high], ranked_score[low], delta, eps, hess_scale,
                                         float32_sigmoid)
            idx_high, idx_low = order[high], order[low]
            if k > 0 and idx_high < k and idx_low < k:
                # the pair's cost log(1 / (1 - sigmoid(z))) |delta Z| = log(1 + e^z) |delta Z| as XGBoost's,
                # in float64 (XGBoost's is infinite once its float32 sigmoid rounds to 1)
                z = ranked_score[high] - ranked_score[low]
                cost = (max(z, 0.0) + math.log1p(math.exp(-abs(z)))) * delta
                if tj_minus[idx_low] >= EPS64:
                    li_out[g, idx_high] += cost / tj_minus[idx_low]
                if ti_plus[idx_high] >= EPS64:
                    lj_out[g, idx_low] += cost / ti_plus[idx_high]
                if tj_minus[idx_low] >= EPS64 and ti_plus[idx_high] >= EPS64:
                    lam /= ti_plus[idx_high] * tj_minus[idx_low]
                    h /= ti_plus[idx_high] * tj_minus[idx_low]
            lam32, h32 = np.float32(lam), np.float32(h)
            grad[high] += lam32
            hess[high] += h32
            grad[low] -= lam32
            hess[low] += h32
            sum_lambda += -2.0 * np.float64(lam32)
        norm = 1.0
        if normalization:
            if not truncated:
                norm = 1.0 / num_pair
            elif sum_lambda > 0.0:
                norm = math.log2(1.0 + sum_lambda) / sum_lambda
        for r in range(cnt):
            row = start + order[r]
            gh_out[row, 0] = np.float32(grad[r] * norm) * row_scale[row]
            gh_out[row, 1] = np.float32(hess[r] * norm) * row_scale[row]


@jit(inline=True)
def _lcg_skip(state, steps):
    """The state of LightGBM's ``Random`` (x = 214013 x + 2531011 mod 2^32) ``steps`` draws on from
    ``state``, by squaring the affine step (O(log steps))."""
    mask = np.uint64(0xFFFFFFFF)
    mult, plus = np.uint64(214013), np.uint64(2531011)
    acc_mult, acc_plus = np.uint64(1), np.uint64(0)
    steps = np.uint64(steps)
    while steps > np.uint64(0):
        if steps & np.uint64(1):
            acc_mult = (acc_mult * mult) & mask
            acc_plus = (acc_plus * mult + plus) & mask
        plus = ((mult + np.uint64(1)) * plus) & mask
        mult = (mult * mult) & mask
        steps = steps >> np.uint64(1)
    return (acc_mult * np.uint64(state) + acc_plus) & mask


@jit(parallel=True)
def xendcg_grad_hess(scores, label, group_ptr, group_index, seed, iteration, row_scale, gh_out):
    """LightGBM's rank_xendcg (cross-entropy NDCG, arXiv:1911.09798) into ``gh_out`` (n, 2) float32:
    per query, rho = softmax(scores), targets phi_i = 2^y_i - u_i (u uniform in [0, 1) from LightGBM's
    ``Random(seed + query)``, which has drawn ``iteration * cnt`` numbers before this round),
    gradients from three terms of the expansion, hessian rho (1 - rho); queries of one document get 0.

    scores, label, row_scale (n,) float64; group_ptr (G + 1,) int64; group_index (G,) int64 global
    query numbers; seed, iteration : int.
    """
    mask = np.uint64(0xFFFFFFFF)
    for g in prange(group_ptr.shape[0] - 1):
        start, stop = group_ptr[g], group_ptr[g + 1]
        cnt = stop - start
        if cnt <= 1:
            for k in range(start, stop):
                gh_out[k, 0] = 0.0
                gh_out[k, 1] = 0.0
            continue
        top = scores[start]
        for k in range(start, stop):
            top = max(top, scores[k])
        rho = np.empty(cnt)
        total = 0.0
        for k in range(cnt):
            rho[k] = math.exp(scores[start + k] - top)
            total += rho[k]
        for k in range(cnt):
            rho[k] /= total
        state = _lcg_skip(np.uint64(np.uint32(seed + group_index[g])), iteration * cnt)
        params = np.empty(cnt)
        denominator = 0.0
        for k in range(cnt):
            state = (np.uint64(214013) * state + np.uint64(2531011)) & mask
            u = np.float32((state >> np.uint64(16)) & np.uint64(0x7FFF)) / np.float32(32768.0)
            params[k] = 2.0 ** int(label[start + k]) - np.float64(u)
            denominator += params[k]
        inv_denominator = 1.0 / max(1e-15, denominator)
        grad = np.empty(cnt, dtype=np.float32)
        sum_l1 = 0.0
        for k in range(cnt):
            term = -params[k] * inv_denominator + rho[k]
            grad[k] = np.float32(term)
            params[k] = term / (1.0 - rho[k])
            sum_l1 += params[k]
        sum_l2 = 0.0
        for k in range(cnt):
            term = rho[k] * (sum_l1 - params[k])
            grad[k] += np.float32(term)
            params[k] = term / (1.0 - rho[k])
            sum_l2 += params[k]
        for k in range(cnt):
            grad[k] += np.float32(rho[k] * (sum_l2 - params[k]))
            gh_out[start + k, 0] = grad[k] * row_scale[start + k]
            gh_out[start + k, 1] = np.float32(rho[k] * (1.0 - rho[k])) * row_scale[start + k]


class RankingObjective:
    """The gradients of a ranking objective over fixed queries, for a whole fit: per-row gains,
    ideal DCGs, weights and sampling seeds are prepared once; unbiased LambdaMART's position
    biases are updated after every round, as XGBoost does.

    label (n,) float64; weight (n,) float64 or empty (all ones); group_ptr (G + 1,) int64;
    params : ``RankingParams``. The rows may be a part of the data (a Dask shard holds whole
    queries): ``group_index`` (G,) int64 gives the queries' global numbers (default 0..G-1),
    ``n_groups`` the global count and ``weight_norm`` XGBoost's number of queries / sum of query
    weights over all of them (default: these rows').
    """

    def __init__(self, label, weight, group_ptr, params, group_index=None, n_groups=None, weight_norm=None):
        self.label, self.group_ptr, self.params = label, group_ptr, params
        n_local = group_ptr.shape[0] - 1
        self.group_index = np.arange(n_local, dtype=np.int64) if group_index is None else group_index
        self.n_groups = n_local if n_groups is None else n_groups
        self.gain = label_gains(label, params.gain)
        sizes = np.diff(group_ptr)
        self.inv_idcg = np.empty(n_local)
        top_k = params.num_pair if params.truncated else int(sizes.max(initial=0))
        inverse_ideal_dcg(label, self.gain, group_ptr, top_k, self.inv_idcg)
        self.discounts = discount_table(int(sizes.max(initial=0)))
        if weight.shape[0] == 0:
            self.row_scale = np.ones(label.shape[0])
        elif params.lightgbm:
            self.row_scale = weight
        else:  # a query's weight is its first row's; XGBoost scales them to average 1
            query_weight = weight[group_ptr[:-1]]
            norm = n_local / query_weight.sum() if weight_norm is None else weight_norm
            self.row_scale = np.repeat(query_weight * norm, sizes)
        positions = 0
        if params.unbiased:
            positions = params.num_pair if params.truncated else min(int(sizes.max()), POSITION_BIAS_POSITIONS)
        self.ti_plus, self.tj_minus = np.ones(positions), np.ones(positions)

    def gradients(self, margin, iteration, gh_out):
        """Fill gh_out (n, 2) float32 at ``margin`` (n,) float64 for boosting round ``iteration``
        (0-based: the "mean" pair sampling and rank_xendcg's draws depend on it)."""
        p = self.params
        if p.kind == "xendcg":
            xendcg_grad_hess(margin, self.label, self.group_ptr, self.group_index, p.seed, iteration, self.row_scale,
                             gh_out)
            return
        seeds = ((iteration + 1) * self.n_groups + self.group_index) % (1 << 32)  # uint32 in XGBoost 3.2
        positions = self.ti_plus.shape[0]
        li = np.zeros((self.group_ptr.shape[0] - 1, positions))
        lj = np.zeros_like(li)
        score_eps = (LIGHTGBM_SCORE_EPS if p.lightgbm else XGBOOST_SCORE_EPS) if p.score_normalization else 0.0
        lambda_grad_hess(margin, self.label, self.gain, self.group_ptr, seeds, self.inv_idcg, self.row_scale,
                         self.discounts, DELTA_METRIC[p.kind], p.truncated, p.num_pair, score_eps, p.normalization,
                         1.0 if p.lightgbm else 2.0, not p.lightgbm, self.ti_plus, self.tj_minus, li, lj, gh_out)
        if positions:
            self.update_position_bias(li.sum(axis=0), lj.sum(axis=0))

    def update_position_bias(self, li, lj):
        """Unbiased LambdaMART's step (Hu et al. 2019, eq. 30-31): the biases of relevant (t+) and
        irrelevant (t-) documents by position from the round's costs ``li``/``lj`` (K,), relative to
        position 0, to the power 1 / (1 + bias_norm)."""
        power = 1.0 / (1.0 + self.params.bias_norm)
        if li[0] >= EPS64:
            self.ti_plus = (li / li[0]) ** power
        if lj[0] >= EPS64:
            self.tj_minus = (lj / lj[0]) ** power
