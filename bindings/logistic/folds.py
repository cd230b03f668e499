"""Cross-validation plumbing the topic's meta-estimators share (``LogisticRegressionCV``,
``CalibratedClassifier``, ``TunedThresholdClassifier``): their ``cv`` argument read as folds, unfitted
copies of an estimator, and a fit that passes sample weights only to estimators that take them.

``cv`` is read as scikit-learn's classifiers read it: an int is that many stratified folds of the
project's one splitter, ``bindings.cv.make_folds``, unshuffled (the folds of ``StratifiedKFold(cv)``, so a
comparison with scikit-learn sees the same rows), an object with ``split(X, y)`` (any scikit-learn
splitter) is asked for its folds, and an iterable gives (train_rows, test_rows) pairs directly.
"""
import copy
import inspect

import numpy as np

from bindings.cv import make_folds

__all__ = ["cv_splits", "clone_estimator", "fit_estimator"]

DEFAULT_FOLDS = 5


def cv_splits(cv, X, y, y_index):
    """``cv`` (None = 5, an int >= 2, a splitter or an iterable of pairs) as a list of (train, test) int64
    row-index arrays. X and y are what a splitter's ``split`` receives; y_index (n,) are the class indices."""
    n_rows = y_index.shape[0]
    if cv is None:
        cv = DEFAULT_FOLDS
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds, got {cv}")
        smallest = int(np.min(np.bincount(y_index)))
        if smallest < cv:  # a fold's estimator would miss a class
            raise ValueError(f"cv={cv} folds need at least {cv} rows of every class; the smallest class has "
                             f"{smallest}; lower cv")
        return make_folds(n_rows, int(cv), label=y_index, stratified=True, shuffle=False)
    if isinstance(cv, str):
        raise ValueError(f"cv must be None, an int, a splitter with split(X, y) or an iterable of (train_rows, "
                         f"test_rows) index arrays, got {cv!r}")
    if hasattr(cv, "split"):
        cv = cv.split(X, y)
    try:
        pairs = [(np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64)) for train, test in cv]
    except (TypeError, ValueError):
        raise ValueError(f"cv must be None, an int, a splitter with split(X, y) or an iterable of (train_rows, "
                         f"test_rows) index arrays, got {cv!r}") from None
    if not pairs:
        raise ValueError("cv gave no (train, test) splits")
    for train, test in pairs:
        if train.ndim != 1 or test.ndim != 1 or train.size == 0 or test.size == 0:
            raise ValueError("every cv split needs non-empty 1-D train and test row indices")
        if min(train.min(), test.min()) < 0 or max(train.max(), test.max()) >= n_rows:
            raise ValueError(f"cv split indices must be row positions in [0, {n_rows})")
    return pairs


def clone_estimator(estimator):
    """Unfitted copy built from ``get_params(deep=False)``, nested estimators cloned in turn (scikit-learn's
    ``clone``); objects without ``get_params`` are deep-copied."""
    if not hasattr(estimator, "get_params") or isinstance(estimator, type):
        return copy.deepcopy(estimator)
    params = {name: clone_estimator(value) if hasattr(value, "get_params") and not isinstance(value, type)
              else copy.deepcopy(value) for name, value in estimator.get_params(deep=False).items()}
    return type(estimator)(**params)


def fit_estimator(estimator, X, y, sample_weight):
    """``estimator.fit(X, y)``, with ``sample_weight`` when given and the estimator's fit accepts it."""
    if sample_weight is not None and "sample_weight" in inspect.signature(estimator.fit).parameters:
        return estimator.fit(X, y, sample_weight=sample_weight)
    return estimator.fit(X, y)
