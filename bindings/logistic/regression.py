"""Logistic regression with scikit-learn's parametrisation, statsmodels-style inference and a
regularization path, on the compiled kernels of ``gbdt/kernels/logistic/``.

Objective (scikit-learn's): ``C * sum_i sw_i loss_i + (1 - l1_ratio)/2 ||W||^2 + l1_ratio ||W||_1``, the
intercept not penalised; ``penalty=None`` drops the penalty. Two classes give the binary model (one
coefficient row), more give the multinomial model (one row per class, intercepts centred to sum 0).
"""
import math
import warnings
from statistics import NormalDist

import numpy as np

from bindings.logistic.input import as_labels, as_packed, as_sample_weight
from bindings.validation import (check_choice, check_feature_names, check_n_jobs, check_number, check_positive_int,
                                 check_probability, column_names)
from gbdt.kernels.logistic.solvers import SOLVERS, LogisticProblem, evaluate, margins
from gbdt.kernels.math import sigmoid_array, softmax_rows
from gbdt.threads import fit_threads, using_threads

try:  # scikit-learn's tags make the estimator usable by its tools (clone, CalibratedClassifierCV, pipelines)
    from sklearn.base import BaseEstimator, ClassifierMixin
    ESTIMATOR_BASES = (ClassifierMixin, BaseEstimator)
except ImportError:  # pragma: no cover - scikit-learn is optional at run time
    ESTIMATOR_BASES = ()

__all__ = ["LogisticRegression", "PerfectSeparationWarning", "regularization_path"]

PENALTIES = ("l2", "l1", "elasticnet", None)
PARAMETERS = ("penalty", "C", "l1_ratio", "class_weight", "fit_intercept", "solver", "max_iter", "tol", "n_jobs")
# A Newton iteration costs about (1 + p / 16) L-BFGS iterations (1M x 50: 1.1 vs 0.28 s) and Newton needs
# 4-5 iterations to L-BFGS's 11-19 at tol 1e-4..1e-6: beyond ~32 features L-BFGS is cheaper.
NEWTON_MAX_FEATURES = 32
# Below this many matrix entries a parallel kernel launch costs more than the work it shares out.
SERIAL_CELLS = 200_000


class PerfectSeparationWarning(UserWarning):
    """The classes are perfectly separable: the unpenalised maximum-likelihood estimate does not exist."""


def penalty_strengths(penalty, C, l1_ratio):
    """(l1, l2) of the solvers' objective (scikit-learn's divided by C), validating the arguments."""
    check_choice(penalty, "penalty", PENALTIES)
    if penalty is None:
        return 0.0, 0.0
    C = check_number(C, "C", low=0.0, low_open=True)
    if penalty == "elasticnet":
        if l1_ratio is None:
            raise ValueError("penalty='elasticnet' needs l1_ratio in [0, 1], got None")
        ratio = check_probability(l1_ratio, "l1_ratio")
    else:
        ratio = 1.0 if penalty == "l1" else 0.0
    return ratio / C, (1.0 - ratio) / C


def class_weights(class_weight, classes, index, sw):
    """Per-row weight factor for ``class_weight`` (None, "balanced" or {label: weight})."""
    if class_weight is None:
        return np.ones_like(sw)
    if class_weight == "balanced":
        counts = np.bincount(index, weights=sw, minlength=classes.shape[0])
        per_class = counts.sum() / (classes.shape[0] * np.maximum(counts, 1e-300))
    elif isinstance(class_weight, dict):
        unknown = set(class_weight) - set(classes.tolist())
        if unknown:
            raise ValueError(f"class_weight has labels {sorted(unknown)} that are not in y ({classes.tolist()})")
        per_class = np.array([float(class_weight.get(c, 1.0)) for c in classes.tolist()])
        if np.any(per_class < 0) or not np.all(np.isfinite(per_class)):
            raise ValueError("class_weight values must be finite and non-negative")
    else:
        raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {class_weight!r}")
    return per_class[index]


def _pick_solver(solver, penalty, n_classes, n_features):
    smooth = penalty in ("l2", None)
    if solver == "auto":
        if not smooth:
            return "newglmnet"
        return "newton" if n_classes == 1 and n_features <= NEWTON_MAX_FEATURES else "lbfgs"
    if solver not in SOLVERS:
        raise ValueError(f"solver must be 'auto' or one of {sorted(SOLVERS)}, got {solver!r}")
    if solver != "newglmnet" and not smooth:
        raise ValueError(f"solver={solver!r} needs a smooth penalty ('l2' or None); "
                         f"use 'newglmnet' for {penalty!r}")
    if solver == "newton" and n_classes > 1:
        raise ValueError("solver='newton' is binary only; use 'lbfgs' or 'newglmnet' for more than two classes")
    return solver


def _separates(z, index):
    """True when the margins classify every row correctly with a strict margin (complete separation)."""
    if z.shape[1] == 1:
        return bool(np.all(np.where(index == 1, z[:, 0] > 0, z[:, 0] < 0)))
    own = z[np.arange(z.shape[0]), index]
    rival = np.where(np.arange(z.shape[1]) == index[:, None], -np.inf, z).max(axis=1)
    return bool(np.all(own > rival))


class LogisticRegression(*ESTIMATOR_BASES):
    """Penalised logistic regression (binary or multinomial), dense or CSR input.

    Parameters follow scikit-learn: ``penalty`` in {"l2", "l1", "elasticnet", None}, ``C`` > 0 the inverse
    regularization strength, ``l1_ratio`` for elasticnet, ``class_weight`` None/"balanced"/dict,
    ``solver`` "auto"/"lbfgs"/"newton"/"newglmnet", ``tol`` on the largest entry of the gradient of the
    sample-weight-normalised objective (scikit-learn lbfgs' ``gtol``), ``n_jobs`` kernel threads.

    Attributes after fit: ``classes_``, ``coef_`` (1 or K, n_features), ``intercept_`` (1 or K,),
    ``n_features_in_``, ``n_iter_``, ``converged_``, ``separated_``, for an unpenalised binary fit
    ``cov_params_``, and ``feature_names_in_`` (n_features,) object array when fitted on a data frame with
    string column names: data given later must then have the same names in the same order (ValueError
    otherwise; columns are not reordered).
    """

    def __init__(self, penalty="l2", *, C=1.0, l1_ratio=None, class_weight=None, fit_intercept=True,
                 solver="auto", max_iter=100, tol=1e-4, n_jobs=None):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.class_weight = class_weight
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.n_jobs = n_jobs

    def get_params(self, deep=True):
        """Constructor arguments (scikit-learn protocol, so ``clone`` and CV tools work)."""
        return {name: getattr(self, name) for name in PARAMETERS}

    def set_params(self, **params):
        """Set constructor arguments; unknown names raise ValueError."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"unknown parameter {key!r}; valid: {sorted(valid)}")
            setattr(self, key, value)
        return self

    def _problem(self, X, y, sample_weight):
        packed, n_rows, n_features, names = as_packed(X)
        classes, index = as_labels(y, n_rows)
        sw = as_sample_weight(sample_weight, n_rows)
        sw = sw * class_weights(self.class_weight, classes, index, sw)
        l1, l2 = penalty_strengths(self.penalty, self.C, self.l1_ratio)
        check_positive_int(self.max_iter, "max_iter")
        check_n_jobs(self.n_jobs)
        check_number(self.tol, "tol", low=0.0, low_open=True)
        n_classes = 1 if classes.shape[0] == 2 else classes.shape[0]
        problem = LogisticProblem(packed, index.astype(np.float64), sw, n_classes, l1, l2,
                                  bool(self.fit_intercept))
        return problem, classes, index, names

    def fit(self, X, y, sample_weight=None, *, init_params=None):
        """Fit on X (n, p) dense or sparse, labels y (n,), optional sample_weight (n,). Returns self.

        ``init_params`` (K, p + 1), coefficients then intercept, warm-starts the solver.
        """
        problem, classes, index, names = self._problem(X, y, sample_weight)
        width = problem.packed[3]
        solver = _pick_solver(self.solver, self.penalty, problem.n_classes, width)
        start = np.zeros((problem.n_classes, width + 1)) if init_params is None else np.array(init_params, float)
        with using_threads(fit_threads(self.n_jobs, problem.y.shape[0], width, SERIAL_CELLS)):
            result = SOLVERS[solver](problem, start, float(self.tol), int(self.max_iter))
            self.separated_ = self.penalty is None and _separates(margins(problem.packed, result.params), index)
            self.cov_params_ = None
            if self.penalty is None and problem.n_classes == 1 and not self.separated_:
                self.cov_params_ = self._covariance(problem, result.params)
        if not result.converged:
            warnings.warn(f"{solver} did not reach tol={self.tol} in {result.n_iter} iterations; "
                          "raise max_iter or scale the features", RuntimeWarning, stacklevel=2)
        if self.separated_:
            warnings.warn("the classes are perfectly separable: the unpenalised maximum-likelihood estimate "
                          "does not exist and the coefficients grow without bound; use a penalty",
                          PerfectSeparationWarning, stacklevel=2)
        self.classes_ = classes
        self.coef_ = result.params[:, :-1].copy()
        self.intercept_ = result.params[:, -1].copy()
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.solver_ = solver
        self.n_features_in_ = width
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):  # refitted on data without names
            del self.feature_names_in_
        return self

    def _covariance(self, problem, params):
        """Inverse observed information (p + 1, p + 1), intercept last; None when it is singular."""
        H = evaluate(problem, params, grad=False, hess=True)[2] * problem.sw.sum()
        keep = np.arange(H.shape[0]) if problem.fit_intercept else np.arange(H.shape[0] - 1)
        try:
            inverse = np.linalg.inv(np.linalg.cholesky(H[np.ix_(keep, keep)]))
        except np.linalg.LinAlgError:
            return None
        cov = np.full(H.shape, np.nan)
        cov[np.ix_(keep, keep)] = inverse.T @ inverse
        return cov

    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise ValueError("this LogisticRegression is not fitted yet; call fit(X, y) first")

    def decision_function(self, X):
        """Margins: (n,) for the binary model, (n, K) for the multinomial model."""
        self._check_fitted()
        # names before the column count, so a frame missing columns is told which (as scikit-learn)
        check_feature_names(getattr(self, "feature_names_in_", None), column_names(X), type(self).__name__)
        packed, n_rows, _, _ = as_packed(X, n_features=self.n_features_in_)
        params = np.hstack([self.coef_, self.intercept_[:, None]])
        with using_threads(fit_threads(self.n_jobs, n_rows, self.n_features_in_, SERIAL_CELLS)):
            z = margins(packed, params)
        return z[:, 0] if z.shape[1] == 1 else z

    def predict_proba(self, X):
        """Class probabilities (n, n_classes), columns in the order of ``classes_``."""
        z = self.decision_function(X)
        if z.ndim == 1:
            p1 = np.empty_like(z)
            sigmoid_array(z, p1)
            return np.column_stack([1.0 - p1, p1])
        proba = np.empty_like(z)
        softmax_rows(z, proba)
        return proba

    def predict(self, X):
        """Most probable class label of each row (n,)."""
        z = self.decision_function(X)
        best = (z > 0).astype(np.int64) if z.ndim == 1 else np.argmax(z, axis=1)
        return self.classes_[best]

    def summary(self, alpha=0.05):
        """statsmodels-style table (pandas DataFrame) for an unpenalised binary fit.

        Rows: "const" (if fitted) then the features. Columns: coef, std err (from the observed
        information), z, P>|z| (two-sided Wald), the (1 - alpha) confidence interval, the odds ratio
        ``exp(coef)`` and its interval. Sample weights are treated as frequency weights.
        """
        import pandas as pd

        self._check_fitted()
        if self.penalty is not None or self.coef_.shape[0] != 1:
            raise ValueError("summary() needs an unpenalised binary fit: LogisticRegression(penalty=None) on two "
                             "classes (standard errors of penalised estimates are not Wald-valid)")
        check_probability(alpha, "alpha", open_interval=True)
        if self.separated_ or self.cov_params_ is None:
            raise ValueError("no standard errors: the classes are perfectly separable or the information matrix "
                             "is singular (collinear features); drop features or use a penalty")
        names = getattr(self, "feature_names_in_", [f"x{j + 1}" for j in range(self.n_features_in_)])
        order = ([self.n_features_in_] if self.fit_intercept else []) + list(range(self.n_features_in_))
        coef = np.append(self.coef_[0], self.intercept_[0])[order]
        se = np.sqrt(np.diag(self.cov_params_))[order]
        z = coef / se
        p_value = np.array([math.erfc(abs(v) / math.sqrt(2.0)) for v in z])
        q = NormalDist().inv_cdf(1.0 - alpha / 2.0)
        low, high = coef - q * se, coef + q * se
        lo_name, hi_name = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        return pd.DataFrame(
            {"coef": coef, "std err": se, "z": z, "P>|z|": p_value, lo_name: low, hi_name: high,
             "odds ratio": np.exp(coef), f"odds {lo_name}": np.exp(low), f"odds {hi_name}": np.exp(high)},
            index=(["const"] if self.fit_intercept else []) + list(names))


def regularization_path(X, y, Cs, *, penalty="l1", l1_ratio=None, sample_weight=None, tol=1e-6,
                        max_iter=200, n_jobs=None):
    """Coefficients over a grid of C, warm-started from small C (strong penalty) upwards.

    Returns ``(Cs, coefs, intercepts)``: Cs sorted ascending (m,), coefs (m, K, p), intercepts (m, K);
    K = 1 for two classes. With penalty="l1" coefficients enter one by one as C grows; with "l2" all
    are non-zero and shrink smoothly towards zero as C falls.
    """
    Cs = np.sort(np.asarray(Cs, dtype=np.float64).ravel())
    if Cs.shape[0] == 0 or not np.all(np.isfinite(Cs)) or Cs[0] <= 0:
        raise ValueError("Cs must be a non-empty list of positive finite numbers")
    if penalty is None:
        raise ValueError("regularization_path needs a penalty ('l1', 'l2' or 'elasticnet'), got None")
    model = LogisticRegression(penalty, l1_ratio=l1_ratio, tol=tol, max_iter=max_iter, n_jobs=n_jobs)
    coefs, intercepts, params = [], [], None
    for C in Cs:
        model.set_params(C=float(C))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a path point that stops early is still shown
            model.fit(X, y, sample_weight, init_params=params)
        params = np.hstack([model.coef_, model.intercept_[:, None]])
        coefs.append(model.coef_.copy())
        intercepts.append(model.intercept_.copy())
    return Cs, np.array(coefs), np.array(intercepts)
