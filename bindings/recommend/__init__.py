"""Collaborative filtering: the public API of the topic in one import.

Data: ``Interactions`` (from a (user, item, value) table with ids of any type, or a scipy CSR),
per-user splits (``leave_last_out``; k-fold splits are ``bindings.cv.make_folds``). Explicit
ratings: ``BaselinePredictor``, ``KNNRecommender`` (KNNBasic / KNNWithMeans), ``KNNBaseline``, ``MatrixFactorization``,
``SVDpp``; ``predict(..., details=True)`` gives Surprise's ``was_impossible`` details.
Implicit feedback: ``ImplicitALS``, ``BPR``, ``PopularityRecommender``, ``FactorRanker``
(ranks factors trained elsewhere). Serving (implicit's API, on the factor models and
``MatrixFactorization``): batched ``recommend`` with ``items``/``filter_items``/
``filter_already_liked_items``/``recalculate_user``, ``similar_items``, ``similar_users``,
``partial_fit_users``, ``partial_fit_items``. Cold start: popularity for unknown users,
``partial_fit_users`` for new users, ``SideFeatureMap`` (a ridge from item features to
factors) or ``HybridBPR`` (LightFM-style feature embeddings trained with the interactions,
``add_items``) for new items. Model selection:
``cross_validate``, ``GridSearchCV`` (nested when one is passed to the other).
Metrics: ``rmse``, ``mae``, ``ranking_metrics``, ``evaluate_ranking``.
"""
from bindings.recommend.coldstart import SideFeatureMap
from bindings.recommend.explicit import BaselinePredictor, MatrixFactorization
from bindings.recommend.hybrid import HybridBPR
from bindings.recommend.implicit import BPR, ImplicitALS
from bindings.recommend.interactions import IdMap, Interactions
from bindings.recommend.knn import KNNBaseline, KNNRecommender
from bindings.recommend.metrics import evaluate_ranking, mae, ranking_metrics, rmse
from bindings.recommend.model_selection import GridSearchCV, cross_validate
from bindings.recommend.movielens import (load_movielens_genres, load_movielens_ratings,
                                          movielens_path)
from bindings.recommend.ranking import FactorRanker, PopularityRecommender
from bindings.recommend.splits import leave_last_out
from bindings.recommend.svdpp import SVDpp

__all__ = [
    "IdMap", "Interactions", "leave_last_out",
    "BaselinePredictor", "KNNRecommender", "KNNBaseline", "MatrixFactorization", "SVDpp",
    "ImplicitALS", "BPR", "HybridBPR", "PopularityRecommender", "FactorRanker", "SideFeatureMap",
    "cross_validate", "GridSearchCV",
    "rmse", "mae", "ranking_metrics", "evaluate_ranking",
    "movielens_path", "load_movielens_ratings", "load_movielens_genres",
]
