"""Objectives: gradients/hessians of the loss w.r.t. the raw margin, and the base score.

Every kernel fills ``gh_out`` (n, K, 2) float32 (K = 1 except for softmax): ``[..., 0]`` the
gradient, ``[..., 1]`` the hessian, each multiplied by the row weight. ``margin`` is (n, K) float64.
"""
import math
from typing import NamedTuple

import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.kernels.logistic import logistic_grad_hess

# objective name -> the loss it trains: binary:logitraw predicts the margin and multi:softmax
# the class, reg:logistic fits labels in [0, 1]; each trains as its loss does (as XGBoost)
LOSSES = {"reg:squarederror": "squared", "binary:logistic": "logistic", "binary:logitraw": "logistic",
          "reg:logistic": "logistic", "multi:softprob": "softmax", "multi:softmax": "softmax",
          "count:poisson": "poisson", "reg:gamma": "gamma", "reg:tweedie": "tweedie",
          "reg:absoluteerror": "absolute", "reg:quantileerror": "quantile", "reg:pseudohubererror": "pseudohuber",
          "reg:squaredlogerror": "squaredlog", "binary:hinge": "hinge", "survival:cox": "cox",
          "rank:pairwise": "ranking", "rank:ndcg": "ranking", "rank:map": "ranking", "lambdarank": "ranking",
          "rank_xendcg": "ranking"}
# ranking objectives: gradients over query groups (``gbdt.ranking``); objective -> its kind
RANKING_KINDS = {"rank:pairwise": "pairwise", "rank:ndcg": "ndcg", "rank:map": "map", "lambdarank": "ndcg",
                 "rank_xendcg": "xendcg"}
LIGHTGBM_RANKING = {"lambdarank", "rank_xendcg"}  # LightGBM's conventions (``gbdt.ranking``)
LOG_LINK = {"poisson", "gamma", "tweedie", "cox"}  # losses whose prediction is exp(margin)
# losses whose leaves take the quantile of their rows' residuals (``gbdt.leaf_quantile``), not -G/H
ADAPTIVE_LEAVES = {"absolute", "quantile"}
# losses whose intercept is one Newton step from margin 0 (XGBoost's default estimate)
NEWTON_INTERCEPT = {"pseudohuber", "squaredlog", "hinge", "cox"}
# losses whose gradient of a row depends on other rows (Cox's risk sets): every row on one machine
WHOLE_DATA_LOSSES = {"cox"}
# XGBoost's count:poisson default max_delta_step: the hessian is exp(margin + this), and tree
# weights are clipped to +-this, which damps the first steps
POISSON_MAX_DELTA_STEP = 0.7
OBJECTIVES = tuple(LOSSES)
PROBABILITY_OUTPUT = {"logistic": "binary:logistic", "softmax": "multi:softprob"}  # what metrics see


class LossParams(NamedTuple):
    """The losses' own parameters, as ``bindings.params.resolve_params`` resolves them."""
    max_delta_step: float  # count:poisson's hessian is exp(margin + this)
    tweedie_variance_power: float  # reg:tweedie's rho, in [1, 2)
    quantile_alpha: tuple  # reg:quantileerror's quantiles in (0, 1), one per output
    huber_slope: float  # reg:pseudohubererror's delta: quadratic within it, linear beyond


def leaf_quantile_alpha(objective, losses):
    """The quantiles, one per output, that the leaves of ``objective`` take (``ADAPTIVE_LEAVES``;
    (0.5,) for absolute error), else None."""
    loss = LOSSES.get(objective)
    return None if loss not in ADAPTIVE_LEAVES else (0.5,) if loss == "absolute" else losses.quantile_alpha


@jit(parallel=True)
def squared_error_grad_hess(margin, label, weight, gh_out):
    """Squared error ``(margin - y)^2 / 2``: grad = margin - y, hess = 1."""
    has_weight = weight.shape[0] > 0
    for i in prange(margin.shape[0]):
        w = weight[i] if has_weight else 1.0
        gh_out[i, 0, 0] = (margin[i, 0] - label[i]) * w
        gh_out[i, 0, 1] = w


@jit(parallel=True)
def softmax_grad_hess(margin, label, weight, gh_out):
    """Softmax cross-entropy for integer labels in [0, K): grad = p_k - [y = k],
    hess = max(2 p_k (1 - p_k), 1e-16) (XGBoost's diagonal upper bound)."""
    n, n_classes = margin.shape
    has_weight = weight.shape[0] > 0
    for i in prange(n):
        top = margin[i, 0]
        for k in range(1, n_classes):
            top = max(top, margin[i, k])
        total = 0.0
        for k in range(n_classes):
            total += math.exp(margin[i, k] - top)
        w = weight[i] if has_weight else 1.0
        y = int(label[i])
        for k in range(n_classes):
            p = math.exp(margin[i, k] - top) / total
            gh_out[i, k, 0] = (p - (1.0 if k == y else 0.0)) * w
            gh_out[i, k, 1] = max(2.0 * p * (1.0 - p), 1e-16) * w


@jit(parallel=True)
def poisson_grad_hess(margin, label, weight, max_delta_step, gh_out):
    """Poisson negative log-likelihood with log link ``exp(margin) - y margin``: grad =
    exp(margin) - y, hess = exp(margin + max_delta_step) (XGBoost's safeguard)."""
    has_weight = weight.shape[0] > 0
    for i in prange(margin.shape[0]):
        w = weight[i] if has_weight else 1.0
        gh_out[i, 0, 0] = (math.exp(margin[i, 0]) - label[i]) * w
        gh_out[i, 0, 1] = math.exp(margin[i, 0] + max_delta_step) * w


@jit(parallel=True)
def gamma_grad_hess(margin, label, weight, gh_out):
    """Gamma negative log-likelihood with log link ``y exp(-margin) + margin`` (labels > 0):
    grad = 1 - y exp(-margin), hess = y exp(-margin)."""
    has_weight = weight.shape[0] > 0
    for i in prange(margin.shape[0]):
        w = weight[i] if has_weight else 1.0
        ratio = label[i] * math.exp(-margin[i, 0])
        gh_out[i, 0, 0] = (1.0 - ratio) * w
        gh_out[i, 0, 1] = ratio * w


@jit(parallel=True)
def tweedie_grad_hess(margin, label, weight, rho, gh_out):
    """Tweedie negative log-likelihood with log link and variance power rho in [1, 2), up to
    terms free of the margin: ``-y exp((1 - rho) m) / (1 - rho) + exp((2 - rho) m) / (2 - rho)``;
    grad = -y exp((1 - rho) m) + exp((2 - rho) m), hess its derivative in m."""
    has_weight = weight.shape[0] > 0
    for i in prange(margin.shape[0]):
        w = weight[i] if has_weight else 1.0
        lower = label[i] * math.exp((1.0 - rho) * margin[i, 0])
        upper = math.exp((2.0 - rho) * margin[i, 0])
        gh_out[i, 0, 0] = (upper - lower) * w
        gh_out[i, 0, 1] = ((2.0 - rho) * upper - (1.0 - rho) * lower) * w


@jit(parallel=True)
def quantile_grad_hess(margin, label, weight, alpha, gh_out):
    """Pinball loss of quantile alpha: grad = 1 - alpha where margin >= y, else -alpha; hess = 1
    (the leaves then take residual quantiles, ``gbdt.leaf_quantile``)."""
    has_weight = weight.shape[0] > 0
    for i in prange(margin.shape[0]):
        w = weight[i] if has_weight else 1.0
        gh_out[i, 0, 0] = ((1.0 - alpha) if margin[i, 0] >= label[i] else -alpha) * w
        gh_out[i, 0, 1] = w


@jit(parallel=True)
def absolute_error_grad_hess(margin, label, weight, gh_out):
    """Absolute error: grad = sign(margin - y) (0 at y), hess = 1 (leaves: residual medians)."""
    has_weight = weight.shape[0] > 0
    for i in prange(margin.shape[0]):
        w = weight[i] if has_weight else 1.0
        d = margin[i, 0] - label[i]
        gh_out[i, 0, 0] = (1.0 if d > 0 else -1.0 if d < 0 else 0.0) * w
        gh_out[i, 0, 1] = w


@jit(parallel=True)
def pseudohuber_grad_hess(margin, label, weight, slope, gh_out):
    """Pseudo-Huber loss ``slope^2 (sqrt(1 + (z / slope)^2) - 1)``, z = margin - y: grad = z / s,
    hess = 1 / s^3 with s = sqrt(1 + (z / slope)^2)."""
    has_weight = weight.shape[0] > 0
    for i in prange(margin.shape[0]):
        w = weight[i] if has_weight else 1.0
        z = margin[i, 0] - label[i]
        scale = math.sqrt(1.0 + (z / slope) ** 2)
        gh_out[i, 0, 0] = z / scale * w
        gh_out[i, 0, 1] = w / (scale * scale * scale)


@jit(parallel=True)
def squared_log_error_grad_hess(margin, label, weight, gh_out):
    """Squared log error ``(log1p(p) - log1p(y))^2 / 2`` with p = margin kept above -1 + 1e-6:
    grad = d / (p + 1) with d = log1p(p) - log1p(y), hess = (1 - d) / (p + 1)^2 kept >= 1e-6
    (as XGBoost)."""
    has_weight = weight.shape[0] > 0
    for i in prange(margin.shape[0]):
        w = weight[i] if has_weight else 1.0
        p = max(margin[i, 0], -1.0 + 1e-6)
        d = math.log1p(p) - math.log1p(label[i])
        gh_out[i, 0, 0] = d / (p + 1.0) * w
        gh_out[i, 0, 1] = max((1.0 - d) / ((p + 1.0) * (p + 1.0)), 1e-6) * w


@jit(parallel=True)
def hinge_grad_hess(margin, label, weight, gh_out):
    """Hinge loss ``max(0, 1 - y margin)`` with y = 2 label - 1 in {-1, +1}: where y margin < 1,
    grad = -y and hess = 1; elsewhere grad = 0 and hess the smallest normal float32 (as XGBoost)."""
    has_weight = weight.shape[0] > 0
    for i in prange(margin.shape[0]):
        w = weight[i] if has_weight else 1.0
        y = 2.0 * label[i] - 1.0
        if margin[i, 0] * y < 1.0:
            gh_out[i, 0, 0] = -y * w
            gh_out[i, 0, 1] = w
        else:
            gh_out[i, 0, 0] = 0.0
            gh_out[i, 0, 1] = 1.1754943508222875e-38


@jit
def cox_grad_hess(margin, label, weight, gh_out):
    """Cox proportional hazards, negative partial log-likelihood with Breslow's ties, as XGBoost:
    |label| is the time, a negative label a censored row. Rows in time order (stable); the risk
    set of an event at time t holds every row with time >= t. grad_i = e^(m_i) r_i - [event i],
    hess_i = e^(m_i) r_i - e^(2 m_i) s_i, with r_i, s_i the sums of 1 / S and 1 / S^2 over the
    events up to row i in that order (S: the risk set's sum of e^m; an event tied with row i but
    after it in the order is not counted, as XGBoost); both times the row weight."""
    n = margin.shape[0]
    has_weight = weight.shape[0] > 0
    order = np.argsort(np.abs(label), kind="mergesort")
    risk_sum = 0.0
    for i in range(n):
        risk_sum += math.exp(margin[i, 0])
    r, s, pending, last_time, last_exp = 0.0, 0.0, 0.0, 0.0, 0.0
    for i in range(n):
        row = order[i]
        exp_m = math.exp(margin[row, 0])
        time = abs(label[row])
        pending += last_exp  # rows leave the risk set once the time moves past theirs
        if last_time < time:
            risk_sum -= pending
            pending = 0.0
        if label[row] > 0:
            r += 1.0 / risk_sum
            s += 1.0 / (risk_sum * risk_sum)
        w = weight[row] if has_weight else 1.0
        gh_out[row, 0, 0] = (exp_m * r - (1.0 if label[row] > 0 else 0.0)) * w
        gh_out[row, 0, 1] = (exp_m * r - exp_m * exp_m * s) * w
        last_time, last_exp = time, exp_m


@jit(parallel=True)
def log_factorials(values):
    """(n,) log Gamma(y + 1) of values (n,) >= 0: the label term of the Poisson log-likelihood."""
    out = np.empty(values.shape[0])
    for i in prange(values.shape[0]):
        out[i] = math.lgamma(values[i] + 1.0)
    return out


def gradients(objective, margin, label, weight, gh_out, loss_params):
    """Fill ``gh_out`` (n, K, 2) for a built-in ``objective`` name; ``loss_params`` (``LossParams``):
    ``max_delta_step`` inflates count:poisson's hessian (as XGBoost: the same parameter clips the
    tree weights), ``tweedie_variance_power`` is reg:tweedie's rho, ``quantile_alpha`` the
    quantiles of reg:quantileerror (output k fits the k-th), ``huber_slope`` reg:pseudohubererror's
    delta."""
    loss = LOSSES.get(objective)
    if loss == "squared":
        squared_error_grad_hess(margin, label, weight, gh_out)
    elif loss == "logistic":
        logistic_grad_hess(margin[:, 0], label, weight, gh_out[:, 0, 0], gh_out[:, 0, 1])
    elif loss == "softmax":
        softmax_grad_hess(margin, label, weight, gh_out)
    elif loss == "poisson":
        poisson_grad_hess(margin, label, weight, loss_params.max_delta_step, gh_out)
    elif loss == "gamma":
        gamma_grad_hess(margin, label, weight, gh_out)
    elif loss == "tweedie":
        tweedie_grad_hess(margin, label, weight, loss_params.tweedie_variance_power, gh_out)
    elif loss == "absolute":
        absolute_error_grad_hess(margin, label, weight, gh_out)
    elif loss == "quantile":
        for k, alpha in enumerate(loss_params.quantile_alpha):  # one output per quantile
            quantile_grad_hess(margin[:, k:k + 1], label, weight, alpha, gh_out[:, k:k + 1])
    elif loss == "pseudohuber":
        pseudohuber_grad_hess(margin, label, weight, loss_params.huber_slope, gh_out)
    elif loss == "squaredlog":
        squared_log_error_grad_hess(margin, label, weight, gh_out)
    elif loss == "hinge":
        hinge_grad_hess(margin, label, weight, gh_out)
    elif loss == "cox":
        cox_grad_hess(margin, label, weight, gh_out)
    elif loss == "ranking":
        raise ValueError(f"{objective} computes its gradients over query groups: use gbdt.ranking.RankingObjective")
    else:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")


def label_sums(objective, label, weight, n_classes, loss_params):
    """(4 + K,) weighted label sums that add up over parts of the rows: [sum w, sum w y, the sums
    of gradient and hessian at margin 0 (objectives in ``NEWTON_INTERCEPT``, else 0), then for
    K >= 3 classes the weight of each class]; objective: a built-in name or a custom callable;
    label (n,), weight (n,) or empty (all ones)."""
    weight = np.ones_like(label) if weight is None or weight.shape[0] == 0 else weight
    classes = np.zeros(n_classes if LOSSES.get(objective) == "softmax" and n_classes >= 3 else 0)
    valid = (label >= 0) & (label < classes.shape[0])  # labels out of range are the callers' error to report
    np.add.at(classes, label[valid].astype(np.int64), weight[valid])
    newton = np.zeros(2)
    if LOSSES.get(objective) in NEWTON_INTERCEPT:
        gh = np.empty((label.shape[0], 1, 2), dtype=np.float32)
        gradients(objective, np.zeros((label.shape[0], 1)), label, weight, gh, loss_params)
        newton = gh[:, 0].sum(axis=0, dtype=np.float64)
    return np.concatenate(([weight.sum(), weight @ label], newton, classes))


def to_margin(objective, value, name):
    """The margin of a one-output ``objective`` whose prediction is ``value``: its logit for a
    probability (logistic objectives), its log for an expected value (count:poisson, reg:gamma,
    reg:tweedie), the value itself for squared error and binary:logitraw (whose base_score is a
    margin, as XGBoost's).
    Raises ValueError naming ``name`` when ``value`` is outside the objective's range."""
    loss = LOSSES[objective]
    if loss == "logistic" and objective != "binary:logitraw":
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name} must be a probability in (0, 1) for {objective}, got {value}")
        return math.log(value / (1.0 - value))
    if loss in LOG_LINK:
        if not value > 0.0:
            raise ValueError(f"{name} must be an expected value > 0 for {objective}, got {value}")
        return math.log(value)
    return float(value)


def base_margin(objective, sums, n_classes):
    """Initial margin (K,) from ``label_sums`` (of every training row), as XGBoost 3 estimates it:
    ``to_margin`` of the weighted label mean (kept inside [1e-6, 1 - 1e-6] for probabilities, at
    least 1e-16 for the log-link objectives), one Newton step -G/H from margin 0 for
    ``NEWTON_INTERCEPT`` (for hinge the class that step predicts, 1 or 0, which XGBoost stores as
    its base score and reads back as a margin), 0 for ranking (XGBoost's Newton step, up to
    its float rounding, ~1e-9), and for softmax the log of each class's weight
    share (at least 1e-6) less their mean (a common shift changes nothing)."""
    if LOSSES[objective] == "ranking":  # lambdas cancel within each query: the Newton step from 0 is 0
        return np.zeros(1)
    if LOSSES[objective] == "softmax":
        log_share = np.log(np.maximum(np.asarray(sums[4:4 + n_classes]) / sums[0], 1e-6))
        return log_share - log_share.mean()
    if LOSSES[objective] in NEWTON_INTERCEPT:
        step = -sums[2] / sums[3]
        return np.array([float(step > 0) if LOSSES[objective] == "hinge" else step])
    label_mean = sums[1] / sums[0]
    if LOSSES[objective] == "logistic" and objective != "binary:logitraw":
        label_mean = min(max(label_mean, 1e-6), 1 - 1e-6)
    elif LOSSES[objective] in LOG_LINK:
        label_mean = max(label_mean, 1e-16)
    return np.array([to_margin(objective, label_mean, "the label mean")])


def squeeze(margin):
    """Margin (n, K) as returned to users: (n,) for one output, (n, K) otherwise."""
    return margin[:, 0] if margin.shape[1] == 1 else margin


def transform(objective, margin):
    """Margin (n, K) -> prediction: sigmoid (n,) (binary:logistic, reg:logistic), softmax rows
    (n, K) (multi:softprob), the most likely class (n,) as a float (multi:softmax), the expected
    value exp(margin) (n,) (count:poisson, reg:gamma, reg:tweedie; the hazard ratio for
    survival:cox), the class 0/1 (n,) where the
    margin is above 0 (binary:hinge), or the squeezed margin itself (the other regression
    objectives, binary:logitraw and custom objectives)."""
    if objective in ("binary:logistic", "reg:logistic"):
        return 1.0 / (1.0 + np.exp(-margin[:, 0]))
    if objective == "multi:softprob":
        shifted = np.exp(margin - margin.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    if objective == "multi:softmax":
        return margin.argmax(axis=1).astype(np.float64)
    if LOSSES.get(objective) in LOG_LINK:
        return np.exp(margin[:, 0])
    if objective == "binary:hinge":
        return (margin[:, 0] > 0).astype(np.float64)
    return squeeze(margin)


def metric_input(objective, margin):
    """What evaluation metrics see: probabilities for every logistic and softmax objective (as
    XGBoost evaluates binary:logitraw and multi:softmax), else ``transform``."""
    return transform(PROBABILITY_OUTPUT.get(LOSSES.get(objective), objective), margin)
