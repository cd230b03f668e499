"""Dask estimators: the local scikit-learn estimators, fitted with ``cluster.train``.

``fit`` takes dask arrays/DataFrames (or in-memory data, split into blocks), and so does
``eval_set`` (its rows are spread over the workers, see ``cluster.train``); ``predict`` and
``predict_proba`` return dask arrays computed on the workers for dask input, numpy arrays otherwise.
``booster_`` is a plain ``bindings.Booster`` that predicts locally. ``min_rows_per_worker`` is
``cluster.train``'s: small data trains on fewer workers.
"""
import dask.array as da
import numpy as np

from bindings.features import check_feature_names
from bindings.ranker import GBDTRanker, split_qid_column
from bindings.sklearn import GBDTClassifier, GBDTRegressor, eval_label_codes
from cluster.categories import predict_frame
from cluster.train import train

__all__ = ["DaskGBDTClassifier", "DaskGBDTRegressor", "DaskGBDTRanker"]


def _block_values(block, booster):
    return booster.predict(block)


def _block_proba(block, booster):
    p = booster.predict(block)
    return np.column_stack([1.0 - p, p]) if p.ndim == 1 else p


def _encode_labels(block, classes):
    return np.searchsorted(classes, block).astype(np.float64)


def _block_labels(proba, classes):
    return classes[proba.argmax(axis=1)]


def _query_ids(queries):
    """The qid of {group, qid} (group sizes as ids 0, 0, ..., 1, ...), or None."""
    if not queries or (queries["group"] is None and queries["qid"] is None):
        return None
    if queries["qid"] is not None:
        return queries["qid"]
    return np.repeat(np.arange(len(queries["group"])), np.asarray(queries["group"], dtype=np.int64))


def _as_dask(X):
    if hasattr(X, "to_dask_array"):
        return X.to_dask_array(lengths=True)
    return X if isinstance(X, da.Array) else None


class _DaskEstimator:
    """Adds ``client``, ``distributed_mode`` and ``min_rows_per_worker`` to a local estimator and
    fits through Dask."""

    def __init__(self, *, client=None, distributed_mode="data", min_rows_per_worker=None, **kwargs):
        super().__init__(**kwargs)
        self.client = client
        self.distributed_mode = distributed_mode
        self.min_rows_per_worker = min_rows_per_worker

    def _fit(self, X, y, sample_weight, eval_set, params, queries=None, eval_queries=None):
        """``cluster.train`` with ``params``; ``queries``/``eval_queries``: the {group, qid} of the
        training and each evaluation set (learning to rank; in-memory group sizes become qid)."""
        if self.categorical_features is not None:
            raise TypeError("categorical_features is not supported by the Dask estimators yet; encode the "
                            "categories as numbers or fit the local estimator")
        if not isinstance(self.n_estimators, (int, np.integer)) or self.n_estimators < 1:
            raise ValueError(f"n_estimators must be a positive integer, got {self.n_estimators!r}")
        # a plain function and the classes go into the graph, never the estimator (it may hold a client)
        classes = self._label_classes()
        evals = [(Xe, eval_label_codes(ye, classes) if _as_dask(ye) is None else
                  _as_dask(ye).map_blocks(eval_label_codes, classes, dtype=np.float64), f"validation_{i}", None,
                  _query_ids(eval_queries[i]) if eval_queries else None)
                 for i, (Xe, ye) in enumerate(eval_set or ())]
        if self.early_stopping_rounds is not None and not evals:
            raise ValueError("early_stopping_rounds needs an eval_set")
        self.booster_ = train(self.client, params, X, y, sample_weight=sample_weight, qid=_query_ids(queries),
                              num_boost_round=self.n_estimators, evals=evals,
                              early_stopping_rounds=self.early_stopping_rounds,
                              distributed_mode=self.distributed_mode, min_rows_per_worker=self.min_rows_per_worker)
        self.n_features_in_ = int(X.shape[1])
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.evals_result_ = self.booster_.evals_result
        self.best_iteration_ = self.booster_.best_iteration
        self.rows_per_worker_ = self.booster_.rows_per_worker
        return self

    def _map_rows(self, X, block_fn, n_columns=None):
        """``block_fn(block, booster_)`` on every row block of dask X, lazily on the workers
        (only the booster is shipped), or directly on in-memory X. A DataFrame's columns must be the
        model's feature names, in order."""
        self._check_fitted()
        check_feature_names(self.booster_.feature_names, X, "X")
        if self.booster_.categories and hasattr(X, "map_partitions"):  # category values: map them per partition
            return predict_frame(X, block_fn, self.booster_, n_columns)
        dX = _as_dask(X)
        if dX is None:
            return block_fn(self._margin_input(X), self.booster_)
        if dX.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {dX.shape[1]} features, but {type(self).__name__} was fitted with "
                             f"{self.n_features_in_} features")
        dX = dX.rechunk({1: -1})
        if n_columns is None:
            return dX.map_blocks(block_fn, self.booster_, drop_axis=1, dtype=np.float64)
        return dX.map_blocks(block_fn, self.booster_, chunks=(dX.chunks[0], (n_columns,)), dtype=np.float64)


class DaskGBDTRegressor(_DaskEstimator, GBDTRegressor):
    """``GBDTRegressor`` trained on a Dask cluster (data-parallel)."""

    def fit(self, X, y, sample_weight=None, eval_set=None):
        return self._fit(X, y, sample_weight, eval_set, self._regression_params())

    def predict(self, X):
        return self._map_rows(X, _block_values)


class DaskGBDTClassifier(_DaskEstimator, GBDTClassifier):
    """``GBDTClassifier`` trained on a Dask cluster (data-parallel); labels may be any values."""

    def fit(self, X, y, sample_weight=None, eval_set=None):
        dy = _as_dask(y)
        if dy is None:
            return super().fit(X, y, sample_weight, eval_set)
        classes = np.unique(da.unique(dy).compute())
        if classes.dtype.kind == "f" and not np.isfinite(classes).all():
            raise ValueError("y contains NaN or infinite labels; remove those rows")
        params = self._params_for_classes(classes)
        codes = dy.map_blocks(_encode_labels, classes, dtype=np.float64)
        return self._fit(X, codes, sample_weight, eval_set, params)

    def predict_proba(self, X):
        return self._map_rows(X, _block_proba, n_columns=self.n_classes_)

    def predict(self, X):
        proba = self.predict_proba(X)
        if isinstance(proba, da.Array):
            return proba.map_blocks(_block_labels, self.classes_, drop_axis=1, dtype=self.classes_.dtype)
        return _block_labels(proba, self.classes_)


class DaskGBDTRanker(_DaskEstimator, GBDTRanker):
    """``GBDTRanker`` trained on a Dask cluster: ``qid`` (or a ``qid`` column of a dask DataFrame)
    as a dask or in-memory array; every query is kept whole on one worker (``cluster.queries``), and
    sample weights are per row. ``predict`` returns scores as ``DaskGBDTRegressor`` does; ``score``
    computes them (and dask y, qid, weights) on the client."""

    def predict(self, X):
        X, _ = split_qid_column(X)
        return self._map_rows(X, _block_values)
