"""Collaborative filtering: the public API of the topic in one import.

Data: ``Interactions`` (from a (user, item, value) table with ids of any type, or a scipy CSR),
per-user splits (``leave_last_out``; k-fold splits are ``bindings.cv.make_folds``). Explicit ratings: ``BaselinePredictor``,
``KNNRecommender``, ``MatrixFactorization``. Implicit feedback: ``ImplicitALS``, ``BPR``,
``PopularityRecommender``, ``FactorRanker`` (ranks factors trained elsewhere). Cold start:
``fold_in`` on the factor models, popularity for unknown users, ``SideFeatureMap``.
Metrics: ``rmse``, ``mae``, ``ranking_metrics``, ``evaluate_ranking``.
"""
from bindings.recommend.coldstart import SideFeatureMap
from bindings.recommend.explicit import BaselinePredictor, KNNRecommender, MatrixFactorization
from bindings.recommend.implicit import BPR, ImplicitALS
from bindings.recommend.interactions import IdMap, Interactions
from bindings.recommend.metrics import evaluate_ranking, mae, ranking_metrics, rmse
from bindings.recommend.movielens import (load_movielens_genres, load_movielens_ratings,
                                          movielens_path)
from bindings.recommend.ranking import FactorRanker, PopularityRecommender
from bindings.recommend.splits import leave_last_out

__all__ = [
    "IdMap", "Interactions", "leave_last_out",
    "BaselinePredictor", "KNNRecommender", "MatrixFactorization",
    "ImplicitALS", "BPR", "PopularityRecommender", "FactorRanker", "SideFeatureMap",
    "rmse", "mae", "ranking_metrics", "evaluate_ranking",
    "movielens_path", "load_movielens_ratings", "load_movielens_genres",
]
