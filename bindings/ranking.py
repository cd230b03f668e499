"""Learning to rank in a fit: the checks of the queries a ranking objective or metric needs.

Objectives (``bindings.objectives``, ``queries``): XGBoost's ``rank:pairwise``, ``rank:ndcg``,
``rank:map`` (query weights: one weight per query, the same on each of its rows) and LightGBM's
``lambdarank``, ``rank_xendcg`` (a weight per row). Every one needs query groups on the training
data (``Dataset(group=...)`` or ``qid=``), as LightGBM does (XGBoost would train on one query);
ranking metrics need them on every evaluation set.
"""
import numpy as np

from bindings.ranking_metrics import is_ranking_metric

__all__ = ["check_queries", "check_query_weights"]


def check_query_weights(loss, weight, group_ptr, name):
    """Raise ValueError when ``loss`` is one of XGBoost's ranking objectives, which weigh whole
    queries, and the rows of a query of ``group_ptr`` (G + 1,) differ in ``weight`` (n,) or None."""
    if weight is None or not loss.objective.queries or loss.ranking.lightgbm:
        return
    first = np.repeat(weight[group_ptr[:-1]], np.diff(group_ptr))
    if not np.array_equal(first, weight):
        raise ValueError(f"{name}: {loss.objective.name} weighs whole queries, as XGBoost: give one weight per query "
                         "(or the same weight on every row of a query); lambdarank takes a weight per row")


def check_queries(p, dataset, name, evaluated=True):
    """Raise ValueError when ``dataset`` (named ``name``) lacks the queries that the ranking
    objective or (``evaluated``: an evaluation set) a ranking metric of ``p``
    (``bindings.params.Params``) needs, or its rows of a query differ in weight under XGBoost's
    objectives."""
    objective = p.loss.objective
    metrics = p.metrics if evaluated else ()
    needs = objective.name if objective.queries else next((m for m in metrics if is_ranking_metric(m)), None)
    if dataset.group_ptr is None and needs is not None:
        raise ValueError(f"{name} has no query groups, which {needs} needs: pass group= (query sizes) or qid= "
                         "(sorted query ids) to Dataset; for a single query, group=[n_rows]")
    if dataset.group_ptr is not None:
        check_query_weights(p.loss, dataset.weight, dataset.group_ptr, name)
