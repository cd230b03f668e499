"""Learning to rank in a fit: the checks of queries, labels and weights a ranking objective needs,
its default metrics, and the per-fit ``gbdt.ranking.RankingObjective``.

Objectives (``bindings.params.ranking_params``): XGBoost's ``rank:pairwise``, ``rank:ndcg``,
``rank:map`` (query weights: one weight per query, the same on each of its rows) and LightGBM's
``lambdarank``, ``rank_xendcg`` (a weight per row). Every one needs query groups on the training
data (``Dataset(group=...)`` or ``qid=``), as LightGBM does (XGBoost would train on one query).
"""
import numpy as np

from bindings.params import ranking_gain, ranking_params
from bindings.ranking_metrics import check_relevance, is_ranking_metric
from gbdt.objectives import LIGHTGBM_RANKING, RANKING_KINDS
from gbdt.ranking import RankingObjective

__all__ = ["default_ranking_metrics", "check_ranking_labels", "check_queries", "ranking_objective"]


def default_ranking_metrics(p):
    """Metrics a ranking fit evaluates by default: XGBoost's ``ndcg@k`` (``map@k`` for rank:map;
    k the topk pairs' positions, every position for "mean"), LightGBM's ``ndcg@1`` .. ``ndcg@5``."""
    if p["objective"] in LIGHTGBM_RANKING:
        return [f"ndcg@{k}" for k in range(1, 6)]
    params = ranking_params(p)
    family = "map" if params.kind == "map" else "ndcg"
    return [f"{family}@{params.num_pair}" if params.truncated else family]


def check_ranking_labels(p, low, high, integral, name):
    """Raise ValueError when labels with range [low, high] (``integral``: whole numbers) do not suit
    the ranking objective of ``p``: 0/1 for rank:map, relevance degrees for an exponential gain or
    LightGBM's label_gain (and rank_xendcg's 2^y), anything finite for rank:pairwise."""
    kind = RANKING_KINDS.get(p["objective"])
    if kind in ("ndcg", "map"):
        check_relevance(low, high, integral, ranking_gain(p), kind == "map", name)
    elif kind == "xendcg":
        check_relevance(low, high, integral, "exponential", False, name)


def check_queries(p, dataset, name, metrics):
    """Raise ValueError when ``dataset`` lacks the queries a ranking objective or metric needs, its
    labels do not suit the objective, or (XGBoost's objectives) its rows of a query differ in weight."""
    ranking = p["objective"] in RANKING_KINDS
    if dataset.group_ptr is None and (ranking or any(is_ranking_metric(m) for m in metrics)):
        what = p["objective"] if ranking else [m for m in metrics if is_ranking_metric(m)][0]
        raise ValueError(f"{name} has no query groups, which {what} needs: pass group= (query sizes) or qid= "
                         "(sorted query ids) to Dataset; for a single query, group=[n_rows]")
    if not ranking:
        return
    label = dataset.label
    check_ranking_labels(p, float(label.min()), float(label.max()), bool(np.all(label == np.round(label))), name)
    weight = dataset.weight
    if weight is not None and p["objective"] not in LIGHTGBM_RANKING:
        first = np.repeat(weight[dataset.group_ptr[:-1]], np.diff(dataset.group_ptr))
        if not np.array_equal(first, weight):
            raise ValueError(f"{name}: {p['objective']} weighs whole queries, as XGBoost: give one weight per query "
                             "(or the same weight on every row of a query); lambdarank takes a weight per row")


def ranking_objective(p, label, weight, group_ptr, **shard):
    """The ``RankingObjective`` of a fit with resolved parameters ``p`` over label (n,), training
    weight (n,) or empty, queries ``group_ptr``; ``shard``: ``group_index``, ``n_groups`` and
    ``weight_norm`` of a part of the queries (see ``RankingObjective``). None for other objectives."""
    params = ranking_params(p)
    return None if params is None else RankingObjective(label, weight, group_ptr, params, **shard)
