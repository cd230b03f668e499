"""``GBDTRanker``: the scikit-learn estimator for learning to rank, like ``xgboost.XGBRanker``.

``fit(X, y, group=... or qid=...)`` trains a ranking objective (default ``rank:ndcg``) over the
queries; ``predict`` returns one score per row (higher: ranked first); ``score`` is the fit's
ranking metric (NDCG@32 for rank:ndcg) on the given queries. As XGBoost's ranker, a pandas X may
carry the query ids in a column named ``qid`` (used when neither group nor qid is given, and
dropped before predicting), so scikit-learn's group-aware splitters can pass whole queries.
"""
import numpy as np

from bindings.metrics import evaluate
from bindings.objectives import OBJECTIVES
from bindings.params import resolve_params
from bindings.query_groups import expand_query_weights, group_pointer
from bindings.ranking_metrics import is_ranking_metric
from bindings.sklearn import _GBDTEstimator, _target

__all__ = ["GBDTRanker", "RANKING_OBJECTIVES"]

RANKING_OBJECTIVES = tuple(name for name, o in OBJECTIVES.items() if o.task == "ranking")
QID_COLUMN = "qid"


def split_qid_column(X, group=None, qid=None):
    """(X without a ``qid`` column, the query keywords {group or qid}) of a ranker's input: the
    column is the query ids when neither ``group`` nor ``qid`` is given (XGBoost's convention)."""
    columns = getattr(X, "columns", None)
    if columns is not None and QID_COLUMN in columns:
        if group is None and qid is None:
            column = X[QID_COLUMN]
            qid = column.to_dask_array(lengths=True) if hasattr(column, "to_dask_array") else column.to_numpy()
        X = X.drop(columns=QID_COLUMN)
    return X, {"group": group, "qid": qid}


class GBDTRanker(_GBDTEstimator):
    """Gradient-boosted trees for learning to rank, like ``xgboost.XGBRanker``.

    Parameters: those of ``GBDTRegressor``, with ``objective`` one of ``RANKING_OBJECTIVES``
    (default rank:ndcg), plus the ranking parameters of ``bindings.train`` (XGBoost's
    lambdarank_* and ndcg_exp_gain; LightGBM's label_gain for lambdarank).
    """

    _estimator_type = "ranker"
    _RANKING_PARAMS = ("lambdarank_pair_method", "lambdarank_num_pair_per_sample", "lambdarank_unbiased",
                       "lambdarank_bias_norm", "lambdarank_normalization", "lambdarank_score_normalization",
                       "ndcg_exp_gain", "label_gain")

    def __init__(self, *, objective="rank:ndcg", lambdarank_pair_method="topk", lambdarank_num_pair_per_sample=None,
                 lambdarank_unbiased=False, lambdarank_bias_norm=1.0, lambdarank_normalization=True,
                 lambdarank_score_normalization=True, ndcg_exp_gain=True, label_gain=None, **kwargs):
        super().__init__(objective=objective, **kwargs)
        self.lambdarank_pair_method = lambdarank_pair_method
        self.lambdarank_num_pair_per_sample = lambdarank_num_pair_per_sample
        self.lambdarank_unbiased = lambdarank_unbiased
        self.lambdarank_bias_norm = lambdarank_bias_norm
        self.lambdarank_normalization = lambdarank_normalization
        self.lambdarank_score_normalization = lambdarank_score_normalization
        self.ndcg_exp_gain = ndcg_exp_gain
        self.label_gain = label_gain

    def _label_classes(self):
        return None

    def _ranking_params(self):
        """Training parameters with the ranking objective and its parameters."""
        if self.objective not in RANKING_OBJECTIVES:
            raise ValueError(f"objective must be one of {RANKING_OBJECTIVES} for a ranker, got {self.objective!r}")
        return {**self._params(), "objective": self.objective,
                **{name: getattr(self, name) for name in self._RANKING_PARAMS}}

    def fit(self, X, y, *, group=None, qid=None, sample_weight=None, eval_set=None, eval_group=None, eval_qid=None):
        """Fit on X (n, F) and relevance labels y (n,) of the queries given by ``group`` (G,) sizes
        or ``qid`` (n,) sorted ids (or a pandas ``qid`` column); ``sample_weight``: one weight per
        query (G,) or per row; ``eval_set`` = [(X_valid, y_valid), ...] with ``eval_group`` or
        ``eval_qid`` (one entry per evaluation set)."""
        X, queries = split_qid_column(X, group, qid)
        if queries["group"] is None and queries["qid"] is None:
            raise ValueError("a ranker needs the queries: pass group= (query sizes) or qid= (sorted query ids), "
                             "or a pandas X with a 'qid' column")
        eval_set = list(eval_set or ())
        eval_queries = []
        for name, given in (("eval_group", eval_group), ("eval_qid", eval_qid)):
            if given is not None and len(given) != len(eval_set):
                raise ValueError(f"{name} needs one entry per eval_set pair ({len(eval_set)}), got {len(given)}")
        for i, (Xe, ye) in enumerate(eval_set):
            Xe, eval_keys = split_qid_column(Xe, None if eval_group is None else eval_group[i],
                                             None if eval_qid is None else eval_qid[i])
            eval_set[i] = (Xe, ye)
            eval_queries.append(eval_keys)
        return self._fit(X, _target(y).astype(np.float64), sample_weight, eval_set, self._ranking_params(), queries,
                         eval_queries)

    def predict(self, X):
        """(n,) ranking scores: within a query, a higher score ranks first."""
        X, _ = split_qid_column(X)
        return self.booster_.predict(self._margin_input(X))

    def score(self, X, y, *, group=None, qid=None, sample_weight=None):
        """The fit's ranking metric (its ``eval_metric``'s last ranking metric, else the objective's
        default: NDCG@32 for rank:ndcg) of the predictions on the queries of X, y."""
        X, queries = split_qid_column(X, group, qid)
        y = _target(y).astype(np.float64)
        group_ptr = group_pointer(queries["group"], queries["qid"], y.shape[0])
        if group_ptr is None:
            raise ValueError("score needs the queries: pass group= or qid=, or a pandas X with a 'qid' column")
        weight = expand_query_weights(sample_weight, group_ptr, y.shape[0])
        p = resolve_params(self._ranking_params())
        metric = [m for m in p.metrics if is_ranking_metric(m)] or ["ndcg"]
        pred = np.asarray(self.predict(X), dtype=np.float64)  # computes a dask array
        return evaluate(metric[-1], y, pred, None if weight is None else np.asarray(weight, dtype=float), group_ptr,
                        p.ndcg_gain)
