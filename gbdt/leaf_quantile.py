"""Quantiles of leaf residuals: the leaf values of reg:absoluteerror and reg:quantileerror.

Those objectives grow a tree on their (sign-like) gradients, then give every leaf the alpha-quantile
of its rows' residuals ``label - margin`` (times the learning rate), as XGBoost's adaptive leaves;
the same quantile of the labels is their intercept.
"""
import numpy as np


def weighted_quantile(values, alpha, weight=None):
    """alpha-quantile (alpha in [0, 1]) of ``values`` (m,), as XGBoost takes it; NaN when m = 0.

    Unweighted (``weight`` None or empty): linear interpolation between the order statistics around
    rank alpha (m + 1) (NIST's definition, numpy's ``method="weibull"``), the extremes outside
    [1, m]. Weighted (``weight`` (m,) > 0): a step function, the smallest value whose cumulative
    weight (values ascending, ties in input order) reaches alpha times the total weight.
    """
    if values.shape[0] == 0:
        return np.nan
    if weight is None or weight.shape[0] == 0:
        return float(np.quantile(values, alpha, method="weibull"))
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weight[order])
    at = min(int(np.searchsorted(cumulative, cumulative[-1] * alpha, side="left")), values.shape[0] - 1)
    return float(values[order[at]])
