"""Probability calibration of any classifier with ``fit`` and ``predict_proba`` (or
``decision_function``), and the measures of calibration: reliability curve, expected calibration error,
Brier score and log loss.

``CalibratedClassifier`` follows scikit-learn's ``CalibratedClassifierCV(ensemble=True)``: for each of
``cv`` stratified folds (``bindings.cv.make_folds``, unshuffled) a copy of the estimator is fitted on the other folds and a calibrator (Platt's
sigmoid or isotonic) on its held-out scores; predictions average the folds. More than two classes are
calibrated one-vs-rest and renormalised.
"""
import copy
import inspect

import numpy as np

from bindings.cv import make_folds
from bindings.logistic.input import as_binary_labels, as_labels, as_sample_weight, as_scores
from bindings.metrics import evaluate
from bindings.validation import check_choice, check_int, check_positive_int
from gbdt.kernels.logistic.isotonic import isotonic_increasing, pool_close_values
from gbdt.kernels.logistic.packed import pack_dense
from gbdt.kernels.logistic.solvers import LogisticProblem, newton
from gbdt.kernels.math import sigmoid_array

__all__ = ["CalibratedClassifier", "SigmoidCalibrator", "IsotonicCalibrator", "calibration_curve", "expected_calibration_error", "brier_score", "log_loss"]

METHODS = ("sigmoid", "isotonic")


class SigmoidCalibrator:
    """Platt scaling: ``P(y = 1 | f) = sigmoid(a f + b)`` fitted by maximum likelihood on Platt's smoothed
    targets ``(n+ + 1) / (n+ + 2)`` and ``1 / (n- + 2)``, which keep (a, b) finite on separable scores."""

    def fit(self, scores, y, sample_weight=None):
        """scores (n,), y (n,) 0/1, optional weights (n,); returns self with ``a_``, ``b_``."""
        sw = as_sample_weight(sample_weight, len(y))
        positives = sw[y > 0].sum()
        negatives = sw[y <= 0].sum()
        targets = np.where(y > 0, (positives + 1.0) / (positives + 2.0), 1.0 / (negatives + 2.0))
        problem = LogisticProblem(pack_dense(scores[:, None]), targets, sw, 1, 0.0, 0.0, True)
        result = newton(problem, np.zeros((1, 2)), 1e-12, 100)
        self.a_, self.b_ = result.params[0]
        return self

    def predict(self, scores):
        """Calibrated probabilities (n,)."""
        out = np.empty(scores.shape[0])
        sigmoid_array(self.a_ * scores + self.b_, out)
        return out


class IsotonicCalibrator:
    """Non-decreasing map from score to probability: the weighted isotonic fit on the distinct scores
    (scores within float64 resolution pooled, as scikit-learn does), linearly interpolated between them
    and clipped outside their range."""

    def fit(self, scores, y, sample_weight=None):
        """scores (n,), y (n,) 0/1, optional weights (n,); returns self."""
        sw = as_sample_weight(sample_weight, len(y))
        keep = np.flatnonzero(sw > 0)
        order = keep[np.argsort(scores[keep], kind="stable")]
        x, mean, weight = (np.empty(order.shape[0]) for _ in range(3))
        m = pool_close_values(scores[order], y[order], sw[order], np.finfo(np.float64).resolution, x, mean, weight)
        self.x_ = x[:m]
        self.y_ = np.empty(m)
        isotonic_increasing(mean[:m], weight[:m], self.y_)
        return self

    def predict(self, scores):
        """Calibrated probabilities (n,)."""
        return np.interp(scores, self.x_, self.y_)


def _clone(estimator):
    """Unfitted copy: rebuilt from ``get_params`` when the estimator has it, else a deep copy."""
    if hasattr(estimator, "get_params"):
        return type(estimator)(**copy.deepcopy(estimator.get_params(deep=False)))
    return copy.deepcopy(estimator)


def _scores(estimator, X):
    """Scores to calibrate, (n, 1) for two classes or (n, K): decision_function if present, else predict_proba."""
    if hasattr(estimator, "decision_function"):
        scores = np.asarray(estimator.decision_function(X), dtype=np.float64)
    else:
        scores = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        if scores.ndim == 2 and scores.shape[1] == 2:
            scores = scores[:, 1]
    return scores.reshape(scores.shape[0], -1)


def _take(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


class CalibratedClassifier:
    """Calibrate ``estimator`` (anything with ``fit`` and ``predict_proba``/``decision_function``).

    method : "sigmoid" (Platt) or "isotonic"; cv : number of stratified folds (>= 2), an iterable of
    (train_rows, test_rows), or "prefit" to calibrate an already fitted estimator on the data given to fit.
    """

    def __init__(self, estimator, *, method="sigmoid", cv=5):
        self.estimator = estimator
        self.method = method
        self.cv = cv

    def _splits(self, y_index):
        if isinstance(self.cv, (int, np.integer)) and not isinstance(self.cv, bool):
            n_splits = check_int(self.cv, "cv", low=2)
            smallest = int(np.min(np.bincount(y_index)))
            if smallest < n_splits:  # a fold's estimator would miss a class
                raise ValueError(f"cv={n_splits} folds need at least {n_splits} rows of every class; the smallest "
                                 f"class has {smallest}; lower cv")
            return make_folds(y_index.shape[0], n_splits, label=y_index, stratified=True, shuffle=False)
        try:
            return [(np.asarray(train), np.asarray(test)) for train, test in self.cv]
        except TypeError:
            raise ValueError(f"cv must be an int, 'prefit' or an iterable of (train, test) index arrays, "
                             f"got {self.cv!r}") from None

    def fit(self, X, y, sample_weight=None):
        """Fit fold estimators and their calibrators; returns self."""
        check_choice(self.method, "method", METHODS)
        if not (hasattr(self.estimator, "fit") and (hasattr(self.estimator, "predict_proba")
                                                    or hasattr(self.estimator, "decision_function"))):
            raise TypeError("estimator must have fit and predict_proba (or decision_function), got "
                            f"{type(self.estimator).__name__}")
        self.classes_, y_index = as_labels(y)
        sw = None if sample_weight is None else as_sample_weight(sample_weight, y_index.shape[0])
        self.calibrated_ = []
        if self.cv == "prefit":
            self.calibrated_.append(self._calibrate(self.estimator, X, y_index, sw))
            return self
        weighted_fit = sw is not None and "sample_weight" in inspect.signature(self.estimator.fit).parameters
        for train, test in self._splits(y_index):
            model = _clone(self.estimator)
            fit_kwargs = {"sample_weight": sw[train]} if weighted_fit else {}
            model.fit(_take(X, train), self.classes_[y_index[train]], **fit_kwargs)
            self.calibrated_.append(self._calibrate(model, _take(X, test), y_index[test],
                                                    None if sw is None else sw[test]))
        return self

    def _calibrate(self, model, X, y_index, sw):
        scores = _scores(model, X)
        if not hasattr(model, "classes_"):
            raise TypeError(f"{type(model).__name__} has no classes_ after fit; the estimator must record "
                            "its sorted class labels in classes_ as scikit-learn classifiers do")
        model_classes = np.asarray(model.classes_)
        if model_classes.shape[0] != self.classes_.shape[0]:
            raise ValueError(f"a fold's estimator saw {model_classes.shape[0]} of the {self.classes_.shape[0]} "
                             "classes; use fewer folds")
        calibrators = []
        for column in range(scores.shape[1]):
            positive = self.classes_.shape[0] - 1 if scores.shape[1] == 1 else column
            target = (y_index == positive).astype(np.float64)
            calibrator = SigmoidCalibrator() if self.method == "sigmoid" else IsotonicCalibrator()
            calibrators.append(calibrator.fit(scores[:, column], target, sw))
        return model, calibrators

    def predict_proba(self, X):
        """Calibrated class probabilities (n, n_classes), averaged over the fold models."""
        if not hasattr(self, "calibrated_"):
            raise ValueError("this CalibratedClassifier is not fitted yet; call fit(X, y) first")
        total = 0.0
        for model, calibrators in self.calibrated_:
            scores = _scores(model, X)
            columns = np.column_stack([c.predict(scores[:, j]) for j, c in enumerate(calibrators)])
            if columns.shape[1] == 1:
                proba = np.column_stack([1.0 - columns[:, 0], columns[:, 0]])
            else:
                norm = columns.sum(axis=1, keepdims=True)
                uniform = np.full_like(columns, 1.0 / columns.shape[1])  # every calibrator said 0
                proba = np.divide(columns, norm, out=uniform, where=norm != 0)
            total = total + proba
        return total / len(self.calibrated_)

    def predict(self, X):
        """Most probable calibrated class (n,)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _binary_probabilities(y_true, y_prob):
    labels = as_binary_labels(y_true)
    prob = as_scores(y_prob, labels.shape[0], "y_prob")
    if prob.min() < 0 or prob.max() > 1:
        raise ValueError("y_prob must be probabilities in [0, 1]")
    return labels, prob


def _bins(y_prob, n_bins, strategy):
    n_bins = check_positive_int(n_bins, "n_bins")
    if check_choice(strategy, "strategy", ("uniform", "quantile")) == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = np.percentile(y_prob, np.linspace(0, 100, n_bins + 1))
    return np.searchsorted(edges[1:-1], y_prob)


def calibration_curve(y_true, y_prob, *, n_bins=5, strategy="uniform"):
    """Reliability curve: (fraction of positives, mean predicted probability) of each non-empty bin."""
    labels, prob = _binary_probabilities(y_true, y_prob)
    bins = _bins(prob, n_bins, strategy)
    total = np.bincount(bins, minlength=n_bins)
    nonzero = total != 0
    frac = np.bincount(bins, weights=labels, minlength=n_bins)[nonzero] / total[nonzero]
    mean = np.bincount(bins, weights=prob, minlength=n_bins)[nonzero] / total[nonzero]
    return frac, mean


def expected_calibration_error(y_true, y_prob, *, n_bins=10, strategy="uniform"):
    """ECE: bin-size-weighted mean of |fraction of positives - mean predicted probability| over bins."""
    labels, prob = _binary_probabilities(y_true, y_prob)
    bins = _bins(prob, n_bins, strategy)
    gap = np.bincount(bins, weights=labels, minlength=n_bins) - np.bincount(bins, weights=prob, minlength=n_bins)
    return float(np.abs(gap).sum() / labels.shape[0])


def brier_score(y_true, y_prob, *, sample_weight=None):
    """Weighted mean squared error between P(y = 1) and the 0/1 outcome."""
    labels, prob = _binary_probabilities(y_true, y_prob)
    sw = as_sample_weight(sample_weight, labels.shape[0])
    return float(np.sum(sw * (prob - labels) ** 2) / sw.sum())


def log_loss(y_true, y_prob, *, sample_weight=None):
    """Weighted mean negative log-likelihood of P(y = 1): the GBDT's ``logloss`` metric on validated input."""
    labels, prob = _binary_probabilities(y_true, y_prob)
    return evaluate("logloss", labels, prob, as_sample_weight(sample_weight, labels.shape[0]))
