"""Collaborative filtering: the public API of the recommender module in one import.

Data: ``Interactions`` (from a (user, item, value) table with ids of any type, or a scipy CSR),
splits (``kfold_indices``, ``leave_last_out``). Explicit ratings: ``BaselinePredictor``,
``KNNRecommender``, ``MatrixFactorization``. Implicit feedback: ``ImplicitALS``, ``BPR``,
``PopularityRecommender``, ``FactorRanker`` (ranks factors trained elsewhere). Cold start:
``fold_in`` on the factor models, popularity for unknown users, ``SideFeatureMap``.
Metrics: ``rmse``, ``mae``, ``ranking_metrics``, ``evaluate_ranking``.
"""
from bindings.recommend_coldstart import SideFeatureMap
from bindings.recommend_data import IdMap, Interactions
from bindings.recommend_explicit import BaselinePredictor, KNNRecommender, MatrixFactorization
from bindings.recommend_implicit import BPR, ImplicitALS
from bindings.recommend_metrics import evaluate_ranking, mae, ranking_metrics, rmse
from bindings.recommend_movielens import (load_movielens_genres, load_movielens_ratings,
                                          movielens_path)
from bindings.recommend_ranking import FactorRanker, PopularityRecommender
from bindings.recommend_splits import kfold_indices, leave_last_out

__all__ = [
    "IdMap", "Interactions", "kfold_indices", "leave_last_out",
    "BaselinePredictor", "KNNRecommender", "MatrixFactorization",
    "ImplicitALS", "BPR", "PopularityRecommender", "FactorRanker", "SideFeatureMap",
    "rmse", "mae", "ranking_metrics", "evaluate_ranking",
    "movielens_path", "load_movielens_ratings", "load_movielens_genres",
]
