"""Objective kernels: gradients and hessians of each loss w.r.t. the raw margin.

Every kernel fills ``gh_out`` (n, K, 2) float32 (K = 1 except for softmax): ``[..., 0]`` the
gradient, ``[..., 1]`` the hessian, each multiplied by the row weight (``weight`` (n,), or empty
for all ones). ``margin`` is (n, K) float64, ``label`` (n,) float64. Which kernel an objective
uses, with which parameter, link and intercept: the table in ``bindings.objectives``.
"""
import math

import numpy as np
from numba import prange

from gbdt._jit import jit
from gbdt.kernels.math import logistic_grad_hess


def binary_logistic_grad_hess(margin, label, weight, gh_out):
    """Logistic loss of labels in [0, 1] (the kernel shared with logistic regression) in this
    module's layout: margin (n, 1), gh_out (n, 1, 2)."""
    logistic_grad_hess(margin[:, 0], label, weight, gh_out[:, 0, 0], gh_out[:, 0, 1])


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
