"""The libraries compared, each as ``fit(X, y, setting) -> model`` and ``predict(model, X, setting)``.

One ``Setting`` (objective, trees, depth, bins, threads, learning rate) is translated into each
library's parameters, so every library grows the same number of depth-limited trees on the same
bins with the same L2 penalty (lambda = 1) and minimum child hessian (1). ``predict`` returns
P(y = 1) (n,) for binary, class probabilities (n, K) for multiclass, values (n,) for regression
and for quantile (the ``QUANTILE_ALPHA`` quantile: each library's quantile objective), ranking
scores (n,) for rank (XGBoost's rank:ndcg for us and XGBoost, LightGBM's lambdarank for LightGBM and
``ours-lambdarank``, each with its default pairs; queries: ``benchmarks.synthetic.query_ids`` of the
rows; scikit-learn has no ranker).
Libraries are imported inside the functions: a measuring process imports only the one it runs.
"""
import time
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from typing import Callable, NamedTuple, Optional

import numpy as np

from benchmarks.synthetic import query_ids

OBJECTIVES = ("binary", "regression", "multiclass", "quantile", "rank")
# this engine takes XGBoost's objective names
XGBOOST_OBJECTIVES = {"binary": "binary:logistic", "regression": "reg:squarederror", "multiclass": "multi:softprob",
                      "quantile": "reg:quantileerror", "rank": "rank:ndcg"}
LIGHTGBM_OBJECTIVES = {"rank": "lambdarank"}  # the others have the suite's names
QUANTILE_ALPHA = 0.9
TREE_METHODS = ("hist", "approx", "exact")


@dataclass(frozen=True)
class Setting:
    """What every library is asked to do; ``split_mode`` is read by this engine only."""

    objective: str
    trees: int
    depth: int
    bins: int
    threads: int
    n_classes: int = 1
    learning_rate: float = 0.1
    split_mode: str = "auto"
    tree_method: str = "hist"  # XGBoost's name; only this engine and XGBoost have exact and approx

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.tree_method not in TREE_METHODS:
            raise ValueError(f"tree_method must be one of {TREE_METHODS}, got {self.tree_method!r}")
        if self.objective == "multiclass" and self.n_classes < 3:
            raise ValueError(f"multiclass needs n_classes >= 3, got {self.n_classes}")


def fit_ours(X, y, s, quantized=False, objective=None):
    """``objective``: our name for the setting's objective instead of XGBoost's (``lambdarank``)."""
    from bindings import Dataset, train

    params = {"objective": objective or XGBOOST_OBJECTIVES[s.objective], "max_depth": s.depth,
              "learning_rate": s.learning_rate, "n_jobs": s.threads, "split_mode": s.split_mode,
              "use_quantized_grad": quantized, "tree_method": s.tree_method}
    if s.tree_method != "exact":  # exact has no bins
        params["max_bin"] = s.bins
    if s.objective == "multiclass":
        params["num_class"] = s.n_classes
    if s.objective == "quantile":
        params["quantile_alpha"] = QUANTILE_ALPHA
    return train(params, Dataset(X, y, qid=query_ids(len(y)) if s.objective == "rank" else None), s.trees)


def predict_ours(model, X, s):
    return model.predict(X)


def fit_xgboost(X, y, s):
    import xgboost as xgb

    params = {"objective": XGBOOST_OBJECTIVES[s.objective], "tree_method": s.tree_method, "max_depth": s.depth,
              "eta": s.learning_rate, "nthread": s.threads}
    if s.tree_method != "exact":
        params["max_bin"] = s.bins
    if s.objective == "multiclass":
        params["num_class"] = s.n_classes
    if s.objective == "quantile":
        params["quantile_alpha"] = QUANTILE_ALPHA
    qid = query_ids(len(y)) if s.objective == "rank" else None
    return xgb.train(params, xgb.DMatrix(X, y, qid=qid, nthread=s.threads), s.trees)


def predict_xgboost(model, X, s):
    return model.inplace_predict(X)


def fit_lightgbm(X, y, s, quantized=False):
    import lightgbm as lgb

    # LightGBM grows leaf-wise: with num_leaves = 2^depth the depth limit is the only cap, as for
    # the depthwise libraries. Its max_bin excludes the missing-value bin that XGBoost counts.
    params = {"objective": LIGHTGBM_OBJECTIVES.get(s.objective, s.objective), "max_depth": s.depth,
              "num_leaves": 2 ** s.depth,
              "max_bin": s.bins - 1, "learning_rate": s.learning_rate, "num_threads": s.threads,
              "lambda_l2": 1.0, "min_sum_hessian_in_leaf": 1.0, "min_data_in_leaf": 1, "verbosity": -1,
              "use_quantized_grad": quantized}
    if s.objective == "multiclass":
        params["num_class"] = s.n_classes
    if s.objective == "quantile":
        params["alpha"] = QUANTILE_ALPHA
    group = np.bincount(query_ids(len(y))) if s.objective == "rank" else None
    return lgb.train(params, lgb.Dataset(X, y, group=group), s.trees)


def predict_lightgbm(model, X, s):
    return model.predict(X, num_threads=s.threads)


def fit_sklearn(X, y, s):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    regression = s.objective in ("regression", "quantile")
    Model = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
    loss = {"loss": "quantile", "quantile": QUANTILE_ALPHA} if s.objective == "quantile" else {}
    # max_bins excludes the missing-value bin and is capped at 255 by scikit-learn.
    model = Model(max_iter=s.trees, max_depth=s.depth, max_leaf_nodes=None, max_bins=min(s.bins - 1, 255),
                  learning_rate=s.learning_rate, l2_regularization=1.0, min_samples_leaf=1,
                  early_stopping=False, **loss)
    with threadpool_limits(limits=s.threads, user_api="openmp"):
        return model.fit(X, y)


def predict_sklearn(model, X, s):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=s.threads, user_api="openmp"):
        if s.objective in ("regression", "quantile"):
            return model.predict(X)
        proba = model.predict_proba(X)
        return proba[:, 1] if s.objective == "binary" else proba


class Library(NamedTuple):
    """How the suite runs one library."""

    fit: Callable
    predict: Callable
    module: str  # imported by a measuring process before its baseline memory is read
    distribution: Optional[str]  # whose version is reported; None for this engine
    objectives: tuple = OBJECTIVES  # the tasks it can run
    tree_methods: tuple = ("hist",)  # the split-finding methods it has (XGBoost's names)


LIBRARIES = {
    "ours": Library(fit_ours, predict_ours, "bindings", None, tree_methods=TREE_METHODS),
    "xgboost": Library(fit_xgboost, predict_xgboost, "xgboost", "xgboost", tree_methods=TREE_METHODS),
    "lightgbm": Library(fit_lightgbm, predict_lightgbm, "lightgbm", "lightgbm"),
    "sklearn": Library(fit_sklearn, predict_sklearn, "sklearn.ensemble", "scikit-learn",
                       ("binary", "regression", "multiclass", "quantile")),
    # gradients quantised to 4 levels (use_quantized_grad; LightGBM's option of the same name)
    "ours-quantized": Library(partial(fit_ours, quantized=True), predict_ours, "bindings", None),
    "lightgbm-quantized": Library(partial(fit_lightgbm, quantized=True), predict_lightgbm, "lightgbm", "lightgbm"),
    # LightGBM's lambdarank conventions (float64 sigmoid, hessian factor 1, 30 pairs' truncation): our
    # rank:ndcg scores as XGBoost's, this one as LightGBM's, so each NDCG has its like to compare with
    "ours-lambdarank": Library(partial(fit_ours, objective="lambdarank"), predict_ours, "bindings", None, ("rank",)),
}
DEFAULT_LIBRARIES = ("ours", "xgboost", "lightgbm", "sklearn")
OUR_VARIANTS = {"ours", "ours-quantized", "ours-lambdarank"}


def installed(name):
    """Whether library ``name`` (a LIBRARIES key) is installed here, without importing it."""
    return LIBRARIES[name].distribution is None or version(LIBRARIES[name].distribution) is not None


# the same import package published under other distribution names (XGBoost's CPU-only wheel)
ALSO_PUBLISHED_AS = {"xgboost": ("xgboost-cpu",)}


def version(distribution):
    """Installed version of ``distribution`` (or of a twin in ``ALSO_PUBLISHED_AS``), or None."""
    for name in (distribution,) + ALSO_PUBLISHED_AS.get(distribution, ()):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return None


def timed_fit_predict(name, X, y, Xt, setting):
    """(train seconds, predict seconds, predictions on Xt) of library ``name`` in this process."""
    library = LIBRARIES[name]
    start = time.perf_counter()
    model = library.fit(X, y, setting)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = library.predict(model, Xt, setting)
    return train_s, time.perf_counter() - start, pred
