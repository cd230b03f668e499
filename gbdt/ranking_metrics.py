"""Per-query ranking metrics as XGBoost evaluates them: NDCG@k, MAP@k and precision@k.

Each kernel fills ``out`` (G,) float64 with one value per query (rows of query g:
``group_ptr[g]:group_ptr[g + 1]``, see ``gbdt.ranking``); documents are ranked by ``pred``
(stable: ties keep their row order). ``top_k``: the positions counted (a number above every query's
size counts them all). ``empty_value``: what a query without relevant documents scores (XGBoost:
1, or 0 for the metrics named with a trailing ``-``).
"""
from numba import prange

from gbdt._jit import jit
from gbdt.ranking import descending_order, discount


@jit(parallel=True)
def query_ndcg(pred, label, gain, group_ptr, top_k, empty_value, out):
    """NDCG@top_k: the DCG of the model's ranking over the ideal one (both over the first top_k
    positions, ``gain`` (n,) float64 per row, discount 1 / log2(position + 2))."""
    for g in prange(group_ptr.shape[0] - 1):
        start, stop = group_ptr[g], group_ptr[g + 1]
        n = min(stop - start, top_k)
        ideal_order = descending_order(label[start:stop])
        ideal = 0.0
        for i in range(n):
            ideal += discount(i) * gain[start + ideal_order[i]]
        if ideal <= 0.0:
            out[g] = empty_value
            continue
        inverse = 1.0 / ideal
        order = descending_order(pred[start:stop])
        dcg = 0.0
        for i in range(n):
            dcg += discount(i) * gain[start + order[i]] * inverse
        out[g] = dcg


@jit(parallel=True)
def query_average_precision(pred, label, group_ptr, top_k, empty_value, out):
    """Average precision@top_k of 0/1 labels: the sum of precision@i over the relevant documents
    in the first top_k positions, over min(number of relevant documents, top_k)."""
    for g in prange(group_ptr.shape[0] - 1):
        start, stop = group_ptr[g], group_ptr[g + 1]
        order = descending_order(pred[start:stop])
        n = min(stop - start, top_k)
        hits, total = 0.0, 0.0
        for i in range(n):
            relevant = label[start + order[i]]
            hits += relevant
            total += hits / (i + 1.0) * relevant
        for i in range(n, stop - start):
            hits += label[start + order[i]]
        out[g] = total / min(hits, float(top_k)) if hits > 0.0 else empty_value


@jit(parallel=True)
def query_precision(pred, label, group_ptr, top_k, out):
    """Precision@top_k of 0/1 labels: relevant documents among the first min(top_k, size) positions."""
    for g in prange(group_ptr.shape[0] - 1):
        start, stop = group_ptr[g], group_ptr[g + 1]
        order = descending_order(pred[start:stop])
        n = min(stop - start, top_k)
        hits = 0.0
        for i in range(n):
            hits += label[start + order[i]]
        out[g] = hits / n
