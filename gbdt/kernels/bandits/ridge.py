"""Per-arm ridge regression of contextual bandits (LinUCB, linear Thompson sampling).

Arm k keeps ``a_inv[k]`` = (lambda I + sum x x^T)^-1 (d, d) and ``b[k]`` = sum reward x (d,)
over the contexts x it was played in ("disjoint" model of Li et al. 2010). The inverse is
updated by Sherman-Morrison in O(d^2) per observation instead of re-inverting in O(d^3).

For context x, with theta = a_inv b and s^2 = x^T a_inv x:

- LinUCB score: x . theta + alpha s
- linear Thompson score: one draw of x . theta_tilde with theta_tilde ~ N(theta, v^2 a_inv),
  which is N(x . theta, v^2 s^2): the scalar is drawn directly, no Cholesky factor needed.
"""
import math

import numpy as np

from gbdt._jit import jit
from gbdt.kernels.bandits.select import argmax_first

LIN_UCB = 7
LIN_THOMPSON = 8


@jit
def sherman_morrison_update(a_inv, b, x, reward, scratch):
    """Add observation (x, reward) to one arm's ``a_inv`` (d, d) and ``b`` (d,); scratch (d,).

    (A + x x^T)^-1 = A^-1 - (A^-1 x)(A^-1 x)^T / (1 + x^T A^-1 x), A symmetric.
    """
    d = x.shape[0]
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += a_inv[i, j] * x[j]
        scratch[i] = acc
    denom = 1.0
    for i in range(d):
        denom += x[i] * scratch[i]
    for i in range(d):
        for j in range(d):
            a_inv[i, j] -= scratch[i] * scratch[j] / denom
        b[i] += reward * x[i]


@jit
def ridge_mean_and_width(a_inv, b, x):
    """(x . theta, sqrt(x^T a_inv x)) of one arm, theta = a_inv b; a_inv (d, d), b and x (d,)."""
    d = x.shape[0]
    mean = 0.0
    quad = 0.0
    for i in range(d):
        row_b = 0.0
        row_x = 0.0
        for j in range(d):
            row_b += a_inv[i, j] * b[j]
            row_x += a_inv[i, j] * x[j]
        mean += x[i] * row_b
        quad += x[i] * row_x
    return mean, math.sqrt(max(quad, 0.0))


@jit
def linear_scores(kind, explore, a_inv, b, x, rng, out):
    """Fill ``out`` (n_arms,) with LinUCB (alpha = explore) or linear Thompson (v = explore) scores.

    a_inv (n_arms, d, d), b (n_arms, d), x (d,) the context of this round.
    """
    for k in range(out.shape[0]):
        mean, width = ridge_mean_and_width(a_inv[k], b[k], x)
        if kind == LIN_UCB:
            out[k] = mean + explore * width
        else:
            out[k] = mean + explore * width * rng.standard_normal()


@jit
def select_linear_arms(kind, explore, a_inv, b, contexts, rng, out):
    """Fill ``out`` (n,) int64 with the arm for each row of ``contexts`` (n, d); no updates."""
    scores = np.empty(a_inv.shape[0])
    for i in range(contexts.shape[0]):
        linear_scores(kind, explore, a_inv, b, contexts[i], rng, scores)
        out[i] = argmax_first(scores)


@jit
def ridge_update_batch(a_inv, b, arms, contexts, rewards):
    """Sherman-Morrison updates of the played arms over n rounds.

    arms (n,) int64, contexts (n, d), rewards (n,); rounds applied in order.
    """
    scratch = np.empty(contexts.shape[1])
    for i in range(arms.shape[0]):
        sherman_morrison_update(a_inv[arms[i]], b[arms[i]], contexts[i], rewards[i], scratch)
