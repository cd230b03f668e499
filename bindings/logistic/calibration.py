"""Probability calibration of any classifier with ``fit`` and ``predict_proba`` (or
``decision_function``), and the measures of calibration: reliability curve, expected calibration error,
Brier score and log loss.

``CalibratedClassifier`` follows scikit-learn's ``CalibratedClassifierCV``. With ``ensemble=True`` a copy
of the estimator is fitted on the other folds of each of the ``cv`` folds and a calibrator on its held-out
scores; predictions average the folds. With ``ensemble=False`` the held-out scores of all folds feed one
calibrator and the estimator is refitted on all rows. Methods: Platt's sigmoid and isotonic regression
(more than two classes one-vs-rest, renormalised) and temperature scaling (one temperature shared by all
classes' logits, Guo et al. 2017).
"""
import numpy as np

from bindings.logistic.folds import clone_estimator, cv_splits, fit_estimator
from bindings.logistic.input import as_binary_labels, as_labels, as_sample_weight, as_scores, num_rows, take_rows
from bindings.metrics import evaluate
from bindings.sklearn import BaseEstimator, ClassifierMixin
from bindings.validation import check_choice, check_positive_int
from gbdt.kernels.logistic.isotonic import isotonic_increasing, pool_close_values
from gbdt.kernels.logistic.packed import pack_dense
from gbdt.kernels.logistic.solvers import LogisticProblem, newton
from gbdt.kernels.math import sigmoid_array, softmax_rows

__all__ = ["CalibratedClassifier", "SigmoidCalibrator", "IsotonicCalibrator", "TemperatureCalibrator",
           "calibration_curve", "expected_calibration_error", "brier_score", "log_loss"]

METHODS = ("sigmoid", "isotonic", "temperature")
# scikit-learn's search range for the inverse temperature: log(beta) in [-10, 10]
MIN_BETA, MAX_BETA = np.exp(-10.0), np.exp(10.0)
# added to probabilities before their log is taken as logits (scikit-learn's eps)
LOGIT_EPS = 1e-12


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


def temperature_logits(scores, from_proba):
    """Logits (n, K >= 2) for temperature scaling, as scikit-learn forms them: a binary score s becomes
    (-s, s) (a probability p becomes (1 - p, p) first), and rows that are probabilities (in [0, 1], summing
    to 1) become log(p + 1e-12). scores : (n, 1) or (n, K); from_proba : scores came from predict_proba."""
    if scores.shape[1] == 1:
        if not from_proba:
            return np.hstack([-scores, scores])
        scores = np.hstack([1.0 - scores, scores])
    if np.all((scores >= 0.0) & (scores <= 1.0)) and np.all(np.isclose(scores.sum(axis=1), 1.0)):
        return np.log(scores + LOGIT_EPS)
    return scores


class TemperatureCalibrator:
    """Temperature scaling: ``softmax(beta * logits)`` with the inverse temperature ``beta`` in
    [e^-10, e^10] (scikit-learn's range) that minimises the weighted log-loss.

    The loss is convex in beta (a log-sum-exp of lines minus a line), so a Newton iteration kept inside a
    shrinking bracket by geometric bisection finds its minimiser to machine precision.
    """

    def fit(self, logits, y_index, sample_weight=None, max_iter=200):
        """logits (n, K) float64, y_index (n,) class index, optional weights (n,); returns self with ``beta_``
        and ``temperature_`` (= 1 / beta_)."""
        sw = as_sample_weight(sample_weight, y_index.shape[0])
        own = logits[np.arange(y_index.shape[0]), y_index]
        proba = np.empty_like(logits)
        low, high, beta = MIN_BETA, MAX_BETA, 1.0
        for _ in range(max_iter):
            softmax_rows(beta * logits, proba)
            mean = np.sum(proba * logits, axis=1)
            slope = sw @ (mean - own)
            curvature = sw @ np.sum(proba * (logits - mean[:, None]) ** 2, axis=1)
            if slope > 0.0:
                high = beta
            else:
                low = beta
            step = beta - slope / curvature if curvature > 0.0 else np.nan
            new = step if low < step < high else np.sqrt(low * high)
            if abs(new - beta) <= 1e-14 * beta or high <= low * (1.0 + 1e-15):
                beta = new
                break
            beta = new
        self.beta_ = float(beta)
        self.temperature_ = 1.0 / self.beta_
        return self

    def predict(self, logits):
        """Calibrated probabilities (n, K)."""
        proba = np.empty_like(logits)
        softmax_rows(self.beta_ * logits, proba)
        return proba


def _scores(estimator, X):
    """``(scores, from_proba)``: scores to calibrate, (n, 1) for two classes or (n, K), from
    decision_function if present, else predict_proba (the positive class's column for two classes)."""
    if hasattr(estimator, "decision_function"):
        scores = np.asarray(estimator.decision_function(X), dtype=np.float64)
        from_proba = False
    else:
        scores = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        if scores.ndim == 2 and scores.shape[1] == 2:
            scores = scores[:, 1]
        from_proba = True
    return scores.reshape(scores.shape[0], -1), from_proba


class CalibratedClassifier(ClassifierMixin, BaseEstimator):
    """Calibrate ``estimator`` (anything with ``fit`` and ``predict_proba``/``decision_function``; None: our
    ``LogisticRegression()``), as scikit-learn's ``CalibratedClassifierCV``.

    method : "sigmoid" (Platt), "isotonic" or "temperature"; cv : None (5 stratified folds), an int >= 2, a
    scikit-learn splitter, an iterable of (train_rows, test_rows), or "prefit" to calibrate an already
    fitted estimator on the data given to fit; ensemble : True (one calibrated model per fold, averaged),
    False (held-out scores of all folds calibrate the estimator refitted on all rows) or "auto" (True).

    Attributes after fit: ``classes_``, ``calibrated_classifiers_`` (list of (fitted estimator, calibrators)),
    ``n_features_in_`` and ``feature_names_in_`` when the fitted estimator has them.
    """

    def __init__(self, estimator=None, *, method="sigmoid", cv=None, ensemble="auto"):
        self.estimator = estimator
        self.method = method
        self.cv = cv
        self.ensemble = ensemble

    def fit(self, X, y, sample_weight=None):
        """Fit the fold estimators and their calibrators; returns self."""
        check_choice(self.method, "method", METHODS)
        check_choice(self.ensemble, "ensemble", ("auto", True, False))
        estimator = self._estimator()
        self.classes_, y_index = as_labels(y, num_rows(X))
        sw = None if sample_weight is None else as_sample_weight(sample_weight, y_index.shape[0])
        if isinstance(self.cv, str) and self.cv == "prefit":
            self.calibrated_classifiers_ = [self._calibrate(estimator, *_scores(estimator, X), y_index, sw)]
        elif self.ensemble in ("auto", True):
            self.calibrated_classifiers_ = []
            for train, test in cv_splits(self.cv, X, y, y_index):
                model = fit_estimator(clone_estimator(estimator), take_rows(X, train), take_rows(y, train),
                                      None if sw is None else sw[train])
                self._check_classes(model)
                self.calibrated_classifiers_.append(self._calibrate(
                    model, *_scores(model, take_rows(X, test)), y_index[test], None if sw is None else sw[test]))
        else:
            held_out, from_proba = None, False
            for train, test in cv_splits(self.cv, X, y, y_index):
                model = fit_estimator(clone_estimator(estimator), take_rows(X, train), take_rows(y, train),
                                      None if sw is None else sw[train])
                self._check_classes(model)
                scores, from_proba = _scores(model, take_rows(X, test))
                held_out = np.full((y_index.shape[0], scores.shape[1]), np.nan) if held_out is None else held_out
                held_out[test] = scores
            if np.isnan(held_out).any():
                raise ValueError("ensemble=False needs every row in exactly one test fold of cv")
            model = fit_estimator(clone_estimator(estimator), X, y, sw)
            self.calibrated_classifiers_ = [self._calibrate(model, held_out, from_proba, y_index, sw)]
        fitted = self.calibrated_classifiers_[0][0]
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(fitted, name):
                setattr(self, name, getattr(fitted, name))
        return self

    def _estimator(self):
        if self.estimator is None:
            from bindings.logistic.regression import LogisticRegression

            return LogisticRegression()
        if not (hasattr(self.estimator, "fit") and (hasattr(self.estimator, "predict_proba")
                                                    or hasattr(self.estimator, "decision_function"))):
            raise TypeError("estimator must have fit and predict_proba (or decision_function), got "
                            f"{type(self.estimator).__name__}")
        return self.estimator

    def _check_classes(self, model):
        if not hasattr(model, "classes_"):
            raise TypeError(f"{type(model).__name__} has no classes_ after fit; the estimator must record "
                            "its sorted class labels in classes_ as scikit-learn classifiers do")
        if np.asarray(model.classes_).shape[0] != self.classes_.shape[0]:
            raise ValueError(f"a fold's estimator saw {np.asarray(model.classes_).shape[0]} of the "
                             f"{self.classes_.shape[0]} classes; use fewer folds")

    def _calibrate(self, model, scores, from_proba, y_index, sw):
        """(model, calibrators) fitted on the model's held-out ``scores`` (n, 1 or K)."""
        self._check_classes(model)
        if self.method == "temperature":
            return model, [TemperatureCalibrator().fit(temperature_logits(scores, from_proba), y_index, sw)]
        calibrators = []
        for column in range(scores.shape[1]):
            positive = self.classes_.shape[0] - 1 if scores.shape[1] == 1 else column
            target = (y_index == positive).astype(np.float64)
            calibrator = SigmoidCalibrator() if self.method == "sigmoid" else IsotonicCalibrator()
            calibrators.append(calibrator.fit(scores[:, column], target, sw))
        return model, calibrators

    def predict_proba(self, X):
        """Calibrated class probabilities (n, n_classes), averaged over the fold models."""
        if not hasattr(self, "calibrated_classifiers_"):
            raise ValueError("this CalibratedClassifier is not fitted yet; call fit(X, y) first")
        total = 0.0
        for model, calibrators in self.calibrated_classifiers_:
            scores, from_proba = _scores(model, X)
            if self.method == "temperature":
                proba = calibrators[0].predict(temperature_logits(scores, from_proba))
            else:
                columns = np.column_stack([c.predict(scores[:, j]) for j, c in enumerate(calibrators)])
                if columns.shape[1] == 1:
                    proba = np.column_stack([1.0 - columns[:, 0], columns[:, 0]])
                else:
                    norm = columns.sum(axis=1, keepdims=True)
                    uniform = np.full_like(columns, 1.0 / columns.shape[1])  # every calibrator said 0
                    proba = np.divide(columns, norm, out=uniform, where=norm != 0)
            total = total + proba
        return total / len(self.calibrated_classifiers_)

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
