"""Weighted true/false positive counts at every distinct score: the points of ROC and precision-recall curves."""
from gbdt._jit import jit


@jit
def threshold_counts(y_desc, w_desc, s_desc, fps_out, tps_out, thresholds_out):
    """Cumulative weighted false/true positives when predicting positive for ``score >= threshold``.

    y_desc, w_desc, s_desc : (n,) float64 labels (0/1), weights and scores, sorted by score descending.
    fps_out, tps_out, thresholds_out : (n,) float64; the first m entries are written, one per distinct
    score (descending), m is returned. Sums run in one sequential pass, in float64.
    """
    n = y_desc.shape[0]
    tp = 0.0
    fp = 0.0
    m = 0
    for i in range(n):
        tp += w_desc[i] * y_desc[i]
        fp += w_desc[i] * (1.0 - y_desc[i])
        if i == n - 1 or s_desc[i + 1] != s_desc[i]:
            fps_out[m] = fp
            tps_out[m] = tp
            thresholds_out[m] = s_desc[i]
            m += 1
    return m
