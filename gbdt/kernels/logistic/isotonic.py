"""Weighted isotonic (non-decreasing) regression by pool-adjacent-violators, for isotonic calibration."""
import numpy as np

from gbdt._jit import jit


@jit
def isotonic_increasing(y, w, out):
    """Fill ``out`` (n,) with the weighted least-squares non-decreasing fit of ``y`` (n,).

    y : (n,) float64 in the order of the predictor; w : (n,) float64 positive weights.
    Blocks are kept on a stack; a new value that falls below the block before it pools with it
    (and again backwards) until the block means increase. O(n) amortised.
    """
    n = y.shape[0]
    means = np.empty(n)
    weights = np.empty(n)
    ends = np.empty(n, dtype=np.int64)
    n_blocks = 0
    for i in range(n):
        means[n_blocks] = y[i]
        weights[n_blocks] = w[i]
        ends[n_blocks] = i
        n_blocks += 1
        while n_blocks > 1 and means[n_blocks - 2] > means[n_blocks - 1]:
            total = weights[n_blocks - 2] + weights[n_blocks - 1]
            means[n_blocks - 2] = (means[n_blocks - 2] * weights[n_blocks - 2]
                                   + means[n_blocks - 1] * weights[n_blocks - 1]) / total
            weights[n_blocks - 2] = total
            ends[n_blocks - 2] = ends[n_blocks - 1]
            n_blocks -= 1
    start = 0
    for b in range(n_blocks):
        for i in range(start, ends[b] + 1):
            out[i] = means[b]
        start = ends[b] + 1


@jit
def pool_close_values(x_sorted, y, w, resolution, x_out, y_out, w_out):
    """Pool runs of sorted predictor values closer than ``resolution`` to the run's first value.

    x_sorted, y, w : (n,) float64, x ascending. Each run becomes one point: its first x, the weighted
    mean of y and the summed weight (written to the first m entries of the (n,) outputs; m returned).
    Scores that differ only by rounding (probabilities next to 0 or 1) thus share one calibrated value.
    """
    m = 0
    start = x_sorted[0]
    wy = 0.0
    weight = 0.0
    for i in range(x_sorted.shape[0]):
        if x_sorted[i] - start >= resolution:
            x_out[m] = start
            y_out[m] = wy / weight
            w_out[m] = weight
            m += 1
            start = x_sorted[i]
            wy = 0.0
            weight = 0.0
        wy += w[i] * y[i]
        weight += w[i]
    x_out[m] = start
    y_out[m] = wy / weight
    w_out[m] = weight
    return m + 1
