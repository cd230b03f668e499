"""Ranking metrics by name, as XGBoost names them: ``ndcg``, ``map``, ``pre``, each optionally
``@k`` (the first k positions of each query; all of them without) and a trailing ``-`` (a query
without relevant documents scores 0 instead of 1; XGBoost's convention, which ``pre`` ignores).

A metric is the mean over queries of the per-query values (``gbdt.ranking_metrics``), weighted by
each query's weight (the mean of its rows' weights: XGBoost's query weight when they are equal),
capped at 1 as XGBoost's. NDCG uses the gain of the fit (``gain``: "exponential" 2^y - 1,
"linear" y, or a tuple of gains by integer label, LightGBM's label_gain); MAP and precision need
0/1 labels. Higher is better for all of them.
"""
import numpy as np

from gbdt.ranking import MAX_EXP_LABEL, label_gains
from gbdt.ranking_metrics import query_average_precision, query_ndcg, query_precision

__all__ = ["RANKING_FAMILIES", "parse_ranking_metric", "is_ranking_metric", "check_relevance", "ranking_partial",
           "combine_ranking_partials"]

RANKING_FAMILIES = ("ndcg", "map", "pre")
ALL_POSITIONS = np.iinfo(np.int64).max


def parse_ranking_metric(name):
    """(family, top k or None for every position, minus) of a ranking metric name, or None for
    another name; ValueError for a ranking family with a malformed suffix (``ndcg@x``)."""
    family, at, rest = name.partition("@")
    minus = False
    if not at:
        family, minus = (name[:-1], True) if name.endswith("-") else (name, False)
        return (family, None, minus) if family in RANKING_FAMILIES else None
    if family not in RANKING_FAMILIES:
        return None
    if rest.endswith("-"):
        rest, minus = rest[:-1], True
    if not rest.isdigit() or int(rest) < 1:
        raise ValueError(f"eval_metric {name!r}: a ranking metric is {family}, {family}@k or {family}@k- with k a "
                         "positive integer (the positions counted)")
    return family, int(rest), minus


def is_ranking_metric(name):
    """Whether ``name`` is a ranking metric (``parse_ranking_metric`` validates it)."""
    return isinstance(name, str) and parse_ranking_metric(name) is not None


def check_relevance(label_low, label_high, integral, gain, binary, name):
    """Raise ValueError when labels with range [label_low, label_high] (``integral``: all whole
    numbers) do not suit a ranking objective or metric: ``binary`` (MAP, precision) needs 0/1;
    an exponential gain integers in [0, 31]; a gain table integers indexing it."""
    if binary:
        if not integral or label_low < 0 or label_high > 1:
            raise ValueError(f"{name} labels must be 0 or 1 (relevant or not) for rank:map, map and pre, got values "
                             f"in [{label_low}, {label_high}]")
    elif gain == "exponential":
        if not integral or label_low < 0:
            raise ValueError(f"{name} labels must be relevance degrees (integers >= 0) with the exponential NDCG gain "
                             f"2^y - 1; got values in [{label_low}, {label_high}]; set ndcg_exp_gain=False for "
                             "real-valued gains")
        if label_high > MAX_EXP_LABEL:
            raise ValueError(f"{name} labels must be at most {MAX_EXP_LABEL} with the exponential NDCG gain "
                             f"2^y - 1, got {label_high}; set ndcg_exp_gain=False to use the label as its gain")
    elif gain != "linear":
        if not integral or label_low < 0 or label_high >= len(gain):
            raise ValueError(f"{name} labels must be integers in [0, {len(gain)}) to index label_gain "
                             f"({len(gain)} gains), got values in [{label_low}, {label_high}]")


def _checked_labels(family, label, gain, name):
    check_relevance(float(label.min()), float(label.max()), bool(np.all(label == np.round(label))), gain,
                    family != "ndcg", name)


def ranking_partial(name, label, pred, weight, group_ptr, gain="exponential"):
    """(sum of query weight x query value, sum of query weights) of ranking metric ``name`` over
    the queries ``group_ptr`` (G + 1,) of label, pred (n,) and weight (n,) or None; partials of
    disjoint sets of whole queries add up (``combine_ranking_partials``)."""
    family, top_k, minus = parse_ranking_metric(name)
    if group_ptr is None:
        raise ValueError(f"eval_metric {name!r} needs query groups: give the evaluation data group= or qid=")
    label = np.asarray(label, dtype=np.float64)
    pred = np.ascontiguousarray(pred, dtype=np.float64)
    if label.shape[0] == 0:
        return 0.0, 0.0
    _checked_labels(family, label, gain, f"eval_metric {name!r}:")
    values = np.empty(group_ptr.shape[0] - 1)
    k = ALL_POSITIONS if top_k is None else top_k
    empty = 0.0 if minus else 1.0
    if family == "ndcg":
        query_ndcg(pred, label, label_gains(label, gain), group_ptr, k, empty, values)
    elif family == "map":
        query_average_precision(pred, label, group_ptr, k, empty, values)
    else:
        query_precision(pred, label, group_ptr, k, values)
    if weight is None:
        return float(values.sum()), float(values.shape[0])
    query_weight = np.add.reduceat(weight, group_ptr[:-1]) / np.diff(group_ptr)
    return float(query_weight @ values), float(query_weight.sum())


def combine_ranking_partials(partials):
    """The metric from ``ranking_partial`` results: weighted mean over queries, capped at 1."""
    total, weight = sum(p[0] for p in partials), sum(p[1] for p in partials)
    return float(min(1.0, total / weight)) if weight > 0 else float(total)
