"""Quantiles of leaf residuals: the leaf values of reg:absoluteerror and reg:quantileerror.

Those objectives grow a tree on their (sign-like) gradients, then give every leaf the alpha-quantile
of its rows' residuals ``label - margin`` (times the learning rate), as XGBoost's adaptive leaves;
the same quantile of the labels is their intercept. The quantile is XGBoost's:

- unweighted: linear interpolation between the order statistics around rank alpha (m + 1) (NIST's
  definition, numpy's ``method="weibull"``), the extremes outside ranks [1, m];
- weighted (weights > 0): a step function, the smallest value whose cumulative weight (values
  ascending, ties in input order) reaches alpha times the total weight.
"""
import math

import numpy as np
from numba import prange

from gbdt._jit import jit


@jit
def quantile_in_place(values, weight, alpha):
    """alpha-quantile (alpha in [0, 1]) of ``values`` (m,) float64, reordered in place (unweighted)
    or left as is (weighted); ``weight`` (m,) or empty (unweighted). NaN when m = 0."""
    m = values.shape[0]
    if m == 0:
        return np.nan
    if weight.shape[0] == 0:
        rank = alpha * (m + 1)
        if rank <= 1.0:
            return values.min()
        if rank >= m:
            return values.max()
        lo = int(math.floor(rank))  # interpolate between order statistics lo and lo + 1 (1-based)
        values[:] = np.partition(values, lo - 1)
        upper = values[lo]
        for i in range(lo + 1, m):
            upper = min(upper, values[i])
        return values[lo - 1] + (rank - lo) * (upper - values[lo - 1])
    order = np.argsort(values, kind="mergesort")  # stable: ties keep their input order
    cumulative = np.empty(m)
    total = 0.0
    for i in range(m):
        total += weight[order[i]]
        cumulative[i] = total
    at = min(np.searchsorted(cumulative, total * alpha), m - 1)  # first index reaching the threshold
    return values[order[at]]


def weighted_quantile(values, alpha, weight=None):
    """alpha-quantile of ``values`` (m,) with ``weight`` (m,) or None (see the module docstring)."""
    return quantile_in_place(np.array(values, dtype=np.float64),
                             np.empty(0) if weight is None else np.asarray(weight, dtype=np.float64), alpha)


@jit(parallel=True)
def leaf_residual_quantiles(rows, starts, stops, label, margin, column, weight, alpha, out):
    """out[j] = alpha-quantile of ``label[r] - margin[r, column]`` over the rows r of leaf j,
    ``rows[starts[j]:stops[j]]``, weighted by ``weight`` (n,) (empty: unweighted); leaves in parallel."""
    has_weight = weight.shape[0] > 0
    for j in prange(starts.shape[0]):
        m = stops[j] - starts[j]
        residuals = np.empty(m)
        leaf_weight = np.empty(m if has_weight else 0)
        for i in range(m):
            r = rows[starts[j] + i]
            residuals[i] = label[r] - margin[r, column]
            if has_weight:
                leaf_weight[i] = weight[r]
        out[j] = quantile_in_place(residuals, leaf_weight, alpha)
