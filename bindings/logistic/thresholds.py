"""Decision thresholds for binary classifiers: ROC and precision-recall curves, a classifier with a
fixed threshold, and one whose threshold is tuned by cross-validation for a score or a cost matrix.

Convention (scikit-learn's): a row is predicted positive when ``score >= threshold``.
``FixedThresholdClassifier`` and ``TunedThresholdClassifier`` follow scikit-learn's classes of (almost)
the same names: the tuned one evaluates the objective at ``thresholds`` points spread over each fold's
held-out scores, interpolates every fold's curve onto one common grid, and takes the threshold of the
best mean.
"""
import numbers

import numpy as np

from bindings.logistic.folds import clone_estimator, cv_splits, fit_estimator
from bindings.logistic.input import as_binary_labels, as_labels, as_sample_weight, as_scores, num_rows, take_rows
from bindings.sklearn import BaseEstimator, ClassifierMixin
from bindings.validation import check_choice
from gbdt.kernels.logistic.thresholds import threshold_counts

__all__ = ["FixedThresholdClassifier", "TunedThresholdClassifier", "confusion_at_thresholds", "roc_curve",
           "precision_recall_curve"]

RESPONSE_METHODS = ("auto", "predict_proba", "decision_function")


def confusion_at_thresholds(y, scores, sample_weight=None):
    """Weighted (fps, tps, thresholds) at each distinct score, thresholds descending (m,)."""
    labels = as_binary_labels(y)
    scores = as_scores(scores, labels.shape[0])
    sw = as_sample_weight(sample_weight, labels.shape[0])
    order = np.argsort(-scores, kind="stable")
    fps, tps, thresholds = (np.empty(labels.shape[0]) for _ in range(3))
    m = threshold_counts(labels[order], sw[order], scores[order], fps, tps, thresholds)
    return fps[:m], tps[:m], thresholds[:m]


def roc_curve(y, scores, sample_weight=None):
    """(fpr, tpr, thresholds), starting at (0, 0) with threshold +inf; every distinct score kept."""
    fps, tps, thresholds = confusion_at_thresholds(y, scores, sample_weight)
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    return fps / fps[-1], tps / tps[-1], np.r_[np.inf, thresholds]


def precision_recall_curve(y, scores, sample_weight=None):
    """(precision, recall, thresholds) with thresholds ascending; precision ends at 1 and recall at 0."""
    fps, tps, thresholds = confusion_at_thresholds(y, scores, sample_weight)
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def binary_response(estimator, X, response_method, pos_label):
    """``(scores, method)``: scores (n,) of the positive class ``pos_label`` (None: ``classes_[1]``) from a
    fitted binary ``estimator``: its probability (predict_proba) or its decision value, negated when the
    positive class is ``classes_[0]``. ``method`` names the method used ("auto": predict_proba if present)."""
    check_choice(response_method, "response_method", RESPONSE_METHODS)
    classes = np.asarray(estimator.classes_)
    if classes.shape[0] != 2:
        raise ValueError(f"a decision threshold needs a binary classifier, got {classes.shape[0]} classes")
    positive = classes[1] if pos_label is None else pos_label
    if positive not in classes.tolist():
        raise ValueError(f"pos_label={pos_label!r} is not one of the classes {classes.tolist()}")
    candidates = ("predict_proba", "decision_function") if response_method == "auto" else (response_method,)
    method = next((name for name in candidates if hasattr(estimator, name)), None)
    if method is None:
        raise TypeError(f"{type(estimator).__name__} has no {' or '.join(candidates)}")
    if method == "predict_proba":
        scores = np.asarray(estimator.predict_proba(X), dtype=np.float64)[:, classes.tolist().index(positive)]
    else:
        scores = np.asarray(estimator.decision_function(X), dtype=np.float64).ravel()
        scores = -scores if positive == classes[0] else scores
    return scores, method


def labels_at(scores, threshold, classes, positive):
    """Class labels (n,): ``positive`` where ``scores >= threshold``, the other class elsewhere."""
    negative = classes[0] if positive == classes[1] else classes[1]
    return np.where(scores >= threshold, positive, negative)


class FixedThresholdClassifier(ClassifierMixin, BaseEstimator):
    """Binary ``estimator`` that predicts ``pos_label`` where its score is >= ``threshold`` (scikit-learn's
    ``FixedThresholdClassifier``). threshold : a number or "auto" (0.5 on probabilities, 0 on decision
    values); response_method : "auto" (predict_proba, else decision_function) or either name. ``fit``
    fits a copy (``estimator_``); an already fitted estimator also predicts without ``fit``."""

    def __init__(self, estimator, *, threshold="auto", pos_label=None, response_method="auto"):
        self.estimator = estimator
        self.threshold = threshold
        self.pos_label = pos_label
        self.response_method = response_method

    def fit(self, X, y, sample_weight=None):
        """Fit a copy of the estimator on (X, y); returns self."""
        self.estimator_ = fit_estimator(clone_estimator(self.estimator), X, y, sample_weight)
        self.classes_ = np.asarray(self.estimator_.classes_)
        return self

    def _fitted(self):
        estimator = getattr(self, "estimator_", self.estimator)
        if not hasattr(estimator, "classes_"):
            raise ValueError("the estimator is not fitted: call fit(X, y), or pass a fitted estimator")
        return estimator

    def predict(self, X):
        """Class labels (n,) at the threshold."""
        estimator = self._fitted()
        scores, method = binary_response(estimator, X, self.response_method, self.pos_label)
        if self.threshold == "auto":
            threshold = 0.5 if method == "predict_proba" else 0.0
        elif isinstance(self.threshold, numbers.Real) and not isinstance(self.threshold, bool):
            threshold = float(self.threshold)
        else:
            raise ValueError(f"threshold must be a number or 'auto', got {self.threshold!r}")
        classes = np.asarray(estimator.classes_)
        return labels_at(scores, threshold, classes, classes[1] if self.pos_label is None else self.pos_label)

    def predict_proba(self, X):
        """The estimator's class probabilities (n, 2): the threshold changes decisions, not probabilities."""
        return self._fitted().predict_proba(X)

    def decision_function(self, X):
        """The estimator's decision values (n,)."""
        return self._fitted().decision_function(X)


def _cost_matrix(cost_matrix):
    costs = np.asarray(cost_matrix, dtype=np.float64)
    if costs.shape != (2, 2) or not np.all(np.isfinite(costs)):
        raise ValueError("cost_matrix must be a finite 2 x 2 array [[cost TN, cost FP], [cost FN, cost TP]] "
                         f"(rows: true class negative/positive, columns: predicted), got {cost_matrix!r}")
    return costs


def _objective(scoring, cost_matrix):
    """``(score_func, sign, kwargs)`` of the objective, or the cost matrix (2, 2) when one is given."""
    if cost_matrix is not None:
        return _cost_matrix(cost_matrix)
    if isinstance(scoring, str):
        try:
            from sklearn.metrics import get_scorer
        except ImportError:  # pragma: no cover - scikit-learn is a test dependency
            raise ValueError("scoring by name needs scikit-learn; give a cost_matrix instead") from None
        scoring = get_scorer(scoring)
    if not hasattr(scoring, "_score_func"):
        raise TypeError("scoring must be a scikit-learn scorer name or a make_scorer(...) scorer (its score "
                        f"function is evaluated at every threshold), got {scoring!r}")
    return scoring._score_func, scoring._sign, dict(scoring._kwargs)


def threshold_curve(y, scores, objective, thresholds, classes, positive, sample_weight=None):
    """``(values, candidate_thresholds)``: the objective (greater is better) at each candidate threshold,
    ascending (m,). thresholds : int (that many points from the lowest to the highest score) or an array."""
    candidates = np.linspace(scores.min(), scores.max(), thresholds) if isinstance(thresholds, numbers.Integral) \
        else np.sort(np.asarray(thresholds, dtype=np.float64))
    if isinstance(objective, np.ndarray):
        is_positive = y == positive
        fps, tps, distinct = confusion_at_thresholds(is_positive, scores, sample_weight)
        # rows predicted positive at t are those with score >= t: the distinct scores (descending) down to t
        above = distinct.shape[0] - np.searchsorted(distinct[::-1], candidates, side="left")
        fp = np.where(above > 0, fps[np.maximum(above - 1, 0)], 0.0)
        tp = np.where(above > 0, tps[np.maximum(above - 1, 0)], 0.0)
        fn, tn = tps[-1] - tp, fps[-1] - fp
        total = objective[0, 0] * tn + objective[0, 1] * fp + objective[1, 0] * fn + objective[1, 1] * tp
        return -total / (fps[-1] + tps[-1]), candidates
    score_func, sign, kwargs = objective
    if sample_weight is not None:
        kwargs = {**kwargs, "sample_weight": sample_weight}
    return np.array([sign * score_func(y, labels_at(scores, t, classes, positive), **kwargs)
                     for t in candidates]), candidates


class TunedThresholdClassifier(ClassifierMixin, BaseEstimator):
    """Binary ``estimator`` with the decision threshold that maximises a score, or minimises a cost, on
    held-out rows (scikit-learn's ``TunedThresholdClassifierCV``).

    scoring : a scikit-learn scorer name ("balanced_accuracy", "f1", ...) or a ``make_scorer`` scorer;
    cost_matrix : 2 x 2 costs [[TN, FP], [FN, TP]] (rows: true class, columns: predicted; the positive class
    is ``classes_[1]``); when given the threshold minimises the mean cost per row and ``scoring`` is not used.
    response_method : "auto" (predict_proba, else decision_function) or either name; thresholds : int (grid
    size) or an array of candidate thresholds; cv : None (5 stratified folds), an int, a splitter, an
    iterable of (train_rows, test_rows), or "prefit" (tune an already fitted estimator on the data given
    to fit, with refit=False); refit : True fits ``estimator_`` on all rows, False (one split or "prefit")
    keeps the split's model; store_cv_results : keep the mean curve in ``cv_results_``.

    Attributes after fit: ``estimator_``, ``classes_``, ``best_threshold_``, ``best_score_`` (the mean
    objective there; minus the mean cost for a cost matrix).
    """

    def __init__(self, estimator, *, scoring="balanced_accuracy", cost_matrix=None, response_method="auto",
                 thresholds=100, cv=None, refit=True, store_cv_results=False):
        self.estimator = estimator
        self.scoring = scoring
        self.cost_matrix = cost_matrix
        self.response_method = response_method
        self.thresholds = thresholds
        self.cv = cv
        self.refit = refit
        self.store_cv_results = store_cv_results

    def fit(self, X, y, sample_weight=None):
        """Tune the threshold on held-out rows and fit ``estimator_``; returns self."""
        objective = _objective(self.scoring, self.cost_matrix)
        if isinstance(self.thresholds, numbers.Integral) and not isinstance(self.thresholds, bool):
            if self.thresholds < 2:
                raise ValueError(f"thresholds must be an int >= 2 or an array of thresholds, got {self.thresholds}")
        elif np.asarray(self.thresholds).ndim != 1 or np.asarray(self.thresholds).shape[0] == 0:
            raise ValueError(f"thresholds must be an int >= 2 or a 1-D array of thresholds, got {self.thresholds!r}")
        classes, y_index = as_labels(y, num_rows(X))
        if classes.shape[0] != 2:
            raise ValueError(f"y must be binary (two classes), got {classes.shape[0]} classes")
        labels = classes[y_index]
        sw = None if sample_weight is None else as_sample_weight(sample_weight, y_index.shape[0])
        kwargs = {} if isinstance(objective, np.ndarray) else objective[2]
        positive = kwargs.get("pos_label", classes[1])
        if isinstance(self.cv, str) and self.cv == "prefit":
            if self.refit:
                raise ValueError("cv='prefit' tunes an already fitted estimator: set refit=False")
            if not hasattr(self.estimator, "classes_"):
                raise ValueError("cv='prefit' needs a fitted estimator")
            self.estimator_ = self.estimator
            curves = [self._curve(self.estimator, X, labels, objective, classes, positive, sw)]
        else:
            splits = cv_splits(self.cv, X, y, y_index)
            if not self.refit and len(splits) > 1:
                raise ValueError(f"refit=False keeps one split's model, but cv gives {len(splits)} splits")
            curves = []
            for train, test in splits:
                model = fit_estimator(clone_estimator(self.estimator), take_rows(X, train), labels[train],
                                      None if sw is None else sw[train])
                curves.append(self._curve(model, take_rows(X, test), labels[test], objective, classes, positive,
                                          None if sw is None else sw[test]))
            self.estimator_ = model if not self.refit else fit_estimator(clone_estimator(self.estimator), X,
                                                                         labels, sw)
        if any(np.isclose(candidates[0], candidates[-1]) for _, candidates in curves):
            raise ValueError("the estimator gives one score to every held-out row: no threshold to tune")
        if isinstance(self.thresholds, numbers.Integral):
            low = min(candidates.min() for _, candidates in curves)
            high = max(candidates.max() for _, candidates in curves)
            grid = np.linspace(low, high, self.thresholds)
        else:
            grid = np.sort(np.asarray(self.thresholds, dtype=np.float64))
        mean = np.mean([np.interp(grid, candidates, values) for values, candidates in curves], axis=0)
        best = int(np.argmax(mean))
        self.best_threshold_, self.best_score_ = float(grid[best]), float(mean[best])
        self.classes_ = classes
        self._positive = positive
        if self.store_cv_results:
            self.cv_results_ = {"thresholds": grid, "scores": mean}
        return self

    def _curve(self, model, X, labels, objective, classes, positive, sw):
        scores, _ = binary_response(model, X, self.response_method, positive)
        return threshold_curve(labels, scores, objective, self.thresholds, classes, positive, sw)

    def _check_fitted(self):
        if not hasattr(self, "best_threshold_"):
            raise ValueError("this TunedThresholdClassifier is not fitted yet; call fit(X, y) first")

    def predict(self, X):
        """Class labels (n,) at ``best_threshold_``."""
        self._check_fitted()
        scores, _ = binary_response(self.estimator_, X, self.response_method, self._positive)
        return labels_at(scores, self.best_threshold_, self.classes_, self._positive)

    def predict_proba(self, X):
        """The fitted estimator's class probabilities (n, 2)."""
        self._check_fitted()
        return self.estimator_.predict_proba(X)

    def decision_function(self, X):
        """The fitted estimator's decision values (n,)."""
        self._check_fitted()
        return self.estimator_.decision_function(X)
