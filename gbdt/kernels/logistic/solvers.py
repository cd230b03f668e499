"""Solver drivers of penalised logistic regression (plain Python control flow over compiled kernels).

- ``lbfgs``: limited-memory BFGS with a strong Wolfe line search, for L2 or no penalty,
  binary and multinomial;
- ``newton``: Newton steps with the exact Hessian and a Cholesky solve, binary, L2 or no penalty;
- ``newglmnet``: Newton outer steps whose penalised quadratic model is minimised by coordinate
  descent (``cd``), for L1 and elastic-net, binary and multinomial (one class block at a time).

Every solver minimises the same objective, mean-normalised like scikit-learn (S = sum of sample weights)::

    f(W, b) = [ sum_i sw_i loss_i(W x_i + b) + 0.5 l2 ||W||^2 + l1 ||W||_1 ] / S

With ``l2 = (1 - l1_ratio) / C`` and ``l1 = l1_ratio / C`` this is scikit-learn's objective divided by
``C S``. All stop when the largest entry of the (minimum-norm sub)gradient of f is <= ``tol``: the test
scikit-learn's lbfgs applies (its ``gtol``), so equal ``tol`` means equal accuracy.
Parameters travel as one (K, width + 1) array: the coefficients, then the intercept in the last column.
"""
from typing import NamedTuple

import numpy as np

from gbdt.kernels.logistic.cd import cd_quadratic_sweeps
from gbdt.kernels.logistic.objective import class_grad_hess, loss_grad_hess, multinomial_loss_sum
from gbdt.kernels.logistic.packed import packed_matvec, packed_n_lines, transpose_packed
from gbdt.kernels.math import logistic_grad_hess, logistic_loss_sum, softmax_rows

ARMIJO = 1e-4
WOLFE_CURVATURE = 0.9
MAX_LINE_SEARCH = 20
LBFGS_MEMORY = 10
FTOL = 64 * np.finfo(np.float64).eps


class LogisticProblem(NamedTuple):
    """Data and penalty of one fit. ``n_classes`` is 1 for the binary model."""

    packed: tuple          # (data, indices, indptr, width), see ``packed``
    y: np.ndarray          # (n,) float64: 0/1 (or soft) labels, or class index when multinomial
    sw: np.ndarray         # (n,) float64 sample weights
    n_classes: int
    l1: float
    l2: float
    fit_intercept: bool


class SolverResult(NamedTuple):
    params: np.ndarray     # (K, width + 1)
    n_iter: int
    converged: bool


def margins(packed, params):
    """Margins (n, K) of every row under params (K, width + 1)."""
    data, indices, indptr, width = packed
    out = np.empty((packed_n_lines(data, indptr, width), params.shape[0]))
    packed_matvec(data, indices, indptr, width, np.ascontiguousarray(params[:, :-1]), out)
    out += params[:, -1]
    return out


NO_OUTPUT = np.empty((0, 0))


def evaluate(problem, params, *, grad=True, hess=False):
    """f without its L1 term at params (K, width + 1), and on request its gradient (K, width + 1) and,
    for the binary model, its Hessian (width + 1, width + 1), intercept last; one pass over X.

    Returns ``(f, gradient or None, hessian or None)``.
    """
    scale = 1.0 / problem.sw.sum()
    width = problem.packed[3]
    coef = np.ascontiguousarray(params[:, :-1])
    g = np.empty_like(params) if grad else NO_OUTPUT
    H = np.empty((width + 1, width + 1)) if hess else NO_OUTPUT
    loss = loss_grad_hess(*problem.packed, problem.y, problem.sw, coef, params[:, -1].copy(), g, H)
    f = scale * (loss + 0.5 * problem.l2 * np.sum(coef * coef))
    if grad:
        g[:, :-1] += problem.l2 * coef
        if not problem.fit_intercept:
            g[:, -1] = 0.0
        g *= scale
    if hess:
        H[np.arange(width), np.arange(width)] += problem.l2
        if not problem.fit_intercept:  # freeze the intercept: its Newton step is 0
            H[-1, :] = 0.0
            H[:, -1] = 0.0
            H[-1, -1] = problem.sw.sum()
        H *= scale
    return f, (g if grad else None), (H if hess else None)


def smooth_objective(problem, params):
    """Value and gradient (K, width + 1) of f without its L1 term."""
    f, g, _ = evaluate(problem, params)
    return f, g


def _backtrack(fun, x, f, direction, slope, step):
    """Armijo backtracking with quadratic interpolation; returns (x_new, f_new, extra) or None."""
    while step > 1e-20:
        x_new = x + step * direction
        f_new, extra = fun(x_new)
        if f_new <= f + ARMIJO * step * slope:
            return x_new, f_new, extra
        curvature = f_new - f - slope * step
        trial = -slope * step * step / (2.0 * curvature) if curvature > 0 else 0.5 * step
        step = min(max(trial, 0.1 * step), 0.5 * step)
    return None


def _cubic_step(a_lo, a_hi, f_lo, f_hi, s_lo, s_hi):
    """Minimiser of the cubic through (a, f, slope) at both ends, kept inside the middle 80%; bisection
    when the cubic has no real minimiser."""
    d1 = s_lo + s_hi - 3.0 * (f_lo - f_hi) / (a_lo - a_hi)
    disc = d1 * d1 - s_lo * s_hi
    low, high = min(a_lo, a_hi), max(a_lo, a_hi)
    if disc < 0.0 or not np.isfinite(disc):
        return 0.5 * (low + high)
    d2 = np.copysign(np.sqrt(disc), a_hi - a_lo)
    a = a_hi - (a_hi - a_lo) * (s_hi + d2 - d1) / (s_hi - s_lo + 2.0 * d2)
    margin = 0.1 * (high - low)
    return min(max(a, low + margin), high - margin) if np.isfinite(a) else 0.5 * (low + high)


def _wolfe_search(fun, x, f0, g0, direction, step):
    """Strong Wolfe line search (Nocedal & Wright, algorithms 3.5 and 3.6): a step with sufficient
    decrease whose slope has shrunk to ``WOLFE_CURVATURE`` of the initial one, so L-BFGS extrapolates
    where backtracking alone would accept a short step. Returns (x_new, f_new, g_new) or None.
    """
    slope0 = g0 @ direction
    cache = {}

    def probe(a):
        x_new = x + a * direction
        f, g = fun(x_new)
        cache[a] = (x_new, f, g)
        return f, g @ direction

    def zoom(a_lo, a_hi, f_lo, f_hi, s_lo, s_hi):
        for _ in range(MAX_LINE_SEARCH):
            a = _cubic_step(a_lo, a_hi, f_lo, f_hi, s_lo, s_hi)
            f, slope = probe(a)
            if f > f0 + ARMIJO * a * slope0 or f >= f_lo:
                a_hi, f_hi, s_hi = a, f, slope
            else:
                if abs(slope) <= -WOLFE_CURVATURE * slope0:
                    return cache[a]
                if slope * (a_hi - a_lo) >= 0:
                    a_hi, f_hi, s_hi = a_lo, f_lo, s_lo
                a_lo, f_lo, s_lo = a, f, slope
        return cache[a_lo] if a_lo > 0 else None  # Armijo holds at a_lo: progress, if not curvature

    a_prev, f_prev, s_prev = 0.0, f0, slope0
    for i in range(MAX_LINE_SEARCH):
        f, slope = probe(step)
        if f > f0 + ARMIJO * step * slope0 or (i > 0 and f >= f_prev):
            return zoom(a_prev, step, f_prev, f, s_prev, slope)
        if abs(slope) <= -WOLFE_CURVATURE * slope0:
            return cache[step]
        if slope >= 0:
            return zoom(step, a_prev, f, f_prev, slope, s_prev)
        a_prev, f_prev, s_prev = step, f, slope
        step *= 2.0
    return cache[a_prev]


def _two_loop(grad, s_hist, y_hist):
    """L-BFGS two-loop recursion: approximate inverse Hessian times grad."""
    q = grad.copy()
    alphas = []
    for s, y in zip(reversed(s_hist), reversed(y_hist)):
        alpha = (s @ q) / (y @ s)
        q -= alpha * y
        alphas.append(alpha)
    if s_hist:
        q *= (s_hist[-1] @ y_hist[-1]) / (y_hist[-1] @ y_hist[-1])
    for (s, y), alpha in zip(zip(s_hist, y_hist), reversed(alphas)):
        q += (alpha - (y @ q) / (y @ s)) * s
    return q


def lbfgs(problem, params0, tol, max_iter):
    """L-BFGS on the smooth objective (``problem.l1`` must be 0)."""
    shape = params0.shape

    def fun(x):
        f, g = smooth_objective(problem, x.reshape(shape))
        return f, g.ravel()

    x = params0.ravel().copy()
    f, g = fun(x)
    s_hist, y_hist = [], []
    for it in range(max_iter):
        if np.max(np.abs(g)) <= tol:
            return SolverResult(x.reshape(shape), it, True)
        direction = -_two_loop(g, s_hist, y_hist)
        slope = g @ direction
        if slope >= 0.0:  # lost descent through rounding: restart from steepest descent
            s_hist, y_hist = [], []
            direction, slope = -g, -(g @ g)
        first_step = 1.0 if s_hist else min(1.0, 1.0 / np.sqrt(g @ g))
        found = _wolfe_search(fun, x, f, g, direction, first_step)
        if found is None:
            return SolverResult(x.reshape(shape), it + 1, False)
        x_new, f_new, g_new = found
        if f - f_new <= FTOL * max(abs(f), abs(f_new), 1.0):
            # no decrease above rounding: stationary to machine precision (scipy's ``ftol`` test)
            return SolverResult(x_new.reshape(shape), it + 1, True)
        s, y = x_new - x, g_new - g
        if s @ y > 1e-12 * (y @ y):
            s_hist.append(s)
            y_hist.append(y)
            if len(s_hist) > LBFGS_MEMORY:
                s_hist.pop(0)
                y_hist.pop(0)
        x, f, g = x_new, f_new, g_new
    return SolverResult(x.reshape(shape), max_iter, bool(np.max(np.abs(g)) <= tol))


def newton(problem, params0, tol, max_iter):
    """Damped Newton with the exact Hessian, binary model, smooth penalty.

    Each iteration makes one pass for (f, gradient, Hessian) and one loss-only pass per trial step.
    """
    x = params0.copy()
    for it in range(max_iter):
        f, g, H = evaluate(problem, x, hess=True)
        if np.max(np.abs(g)) <= tol:
            return SolverResult(x, it, True)
        try:
            lower = np.linalg.cholesky(H)
            direction = -np.linalg.solve(lower.T, np.linalg.solve(lower, g[0]))
        except np.linalg.LinAlgError:  # singular: separable or collinear data
            direction = -np.linalg.lstsq(H, g[0], rcond=None)[0]
        slope = float(g[0] @ direction)
        if -slope <= FTOL * max(abs(f), 1.0):
            # the predicted decrease is below the rounding of f, so Armijo cannot judge the step; this
            # close to the optimum the full Newton step is safe and polishes the gradient quadratically
            x = x + direction[None, :]
            continue
        found = _backtrack(lambda v: (evaluate(problem, v, grad=False)[0], None), x, f, direction[None, :],
                           slope, 1.0)
        if found is None:
            return SolverResult(x, it + 1, False)
        x = found[0]
    return SolverResult(x, max_iter, bool(np.max(np.abs(evaluate(problem, x)[1])) <= tol))


def subgradient_violation(problem, params):
    """Largest entry of the minimum-norm subgradient of f: 0 exactly at the optimum."""
    _, g = smooth_objective(problem, params)
    coef, g_coef = params[:, :-1], g[:, :-1]
    l1 = problem.l1 / problem.sw.sum()
    at_zero = np.maximum(np.abs(g_coef) - l1, 0.0)
    away = np.abs(g_coef + l1 * np.sign(coef))
    worst = np.max(np.where(coef == 0.0, at_zero, away), initial=0.0)
    return max(worst, float(np.max(np.abs(g[:, -1]))))


def _penalty(problem, coef):
    return problem.l1 * np.abs(coef).sum() + 0.5 * problem.l2 * (coef @ coef)


def _loss_from_margins(problem, z):
    if problem.n_classes == 1:
        return logistic_loss_sum(np.ascontiguousarray(z[:, 0]), problem.y, problem.sw)
    return multinomial_loss_sum(z, problem.y, problem.sw)


def newglmnet(problem, params0, tol, max_iter, max_sweeps=1000):
    """newGLMNET: coordinate descent on a quadratic model per class block, then a line search."""
    cdata, cindices, cindptr, n_rows = transpose_packed(problem.packed)
    x = params0.copy()
    z = margins(problem.packed, x)
    S = problem.sw.sum()
    grad_rows = np.empty(n_rows)
    hess_rows = np.empty(n_rows)
    proba = np.empty_like(z)
    delta = np.empty(x.shape[1])
    q = np.empty(n_rows)
    for it in range(max_iter):
        violation = subgradient_violation(problem, x)
        if violation <= tol:
            return SolverResult(x, it, True)
        # inexact Newton: the inner tolerance shrinks like violation^2 so the outer steps converge superlinearly
        inner_tol = S * max(0.1 * tol, min(0.1 * violation, violation * violation))
        for k in range(x.shape[0]):
            if problem.n_classes == 1:
                logistic_grad_hess(np.ascontiguousarray(z[:, 0]), problem.y, problem.sw, grad_rows, hess_rows)
            else:
                softmax_rows(z, proba)
                class_grad_hess(proba, problem.y, problem.sw, k, grad_rows, hess_rows)
            coef = x[k, :-1].copy()
            cd_quadratic_sweeps(cdata, cindices, cindptr, n_rows, grad_rows, hess_rows, coef, problem.l1,
                                problem.l2, problem.fit_intercept, max_sweeps, inner_tol, delta, q)
            # Armijo rule of newGLMNET: the predicted decrease includes the change of the L1 term
            base = _loss_from_margins(problem, z) + _penalty(problem, coef)
            predicted = grad_rows @ q + problem.l2 * (coef @ delta[:-1]) + problem.l1 * (
                np.abs(coef + delta[:-1]).sum() - np.abs(coef).sum())
            step = 1.0
            while step > 1e-12:
                trial = z.copy()
                trial[:, k] += step * q
                value = _loss_from_margins(problem, trial) + _penalty(problem, coef + step * delta[:-1])
                if value <= base + 0.01 * step * predicted:
                    z = trial
                    x[k] += step * delta
                    break
                step *= 0.5
        if problem.n_classes > 1:
            # softmax is invariant to a common shift of the unpenalised intercepts: pin the flat direction
            shift = x[:, -1].mean()
            x[:, -1] -= shift
            z -= shift
    return SolverResult(x, max_iter, bool(subgradient_violation(problem, x) <= tol))


SOLVERS = {"lbfgs": lbfgs, "newton": newton, "newglmnet": newglmnet}
