"""Logistic regression with scikit-learn's parametrisation, statsmodels-style inference and a
regularization path, on the compiled kernels of ``gbdt/kernels/logistic/``.

Objective (scikit-learn's): ``C * sum_i sw_i loss_i + (1 - l1_ratio)/2 ||W||^2 + l1_ratio ||W||_1``, the
intercept not penalised. As in scikit-learn 1.8+, ``l1_ratio`` chooses the penalty (0: L2, 1: L1, between:
elastic-net) and ``C=np.inf`` removes it; the older ``penalty`` argument still works, with scikit-learn's
FutureWarning, and a warning when it contradicts ``l1_ratio``. Two classes give the binary model (one
coefficient row), more give the multinomial model (one row per class, intercepts centred to sum 0).
"""
import math
import numbers
import warnings

import numpy as np

from bindings.logistic.inference import (covariance, design_rank, likelihood_statistics, logit_inference,
                                         marginal_effects_table, summary_of)
from bindings.logistic.input import as_labels, as_matrix, as_sample_weight, pack
from bindings.sklearn import BaseEstimator, ClassifierMixin
from bindings.validation import check_feature_names, check_n_jobs, check_number, check_positive_int, column_names
from gbdt.kernels.logistic.solvers import SOLVERS, LogisticProblem, evaluate, loss_from_margins, margins
from gbdt.kernels.math import sigmoid_array, softmax_rows
from gbdt.threads import fit_threads, using_threads

__all__ = ["LogisticRegression", "PerfectSeparationWarning", "regularization_path", "resolve_penalty"]

PENALTIES = ("l2", "l1", "elasticnet", None)
# scikit-learn 1.8's default for ``penalty``: l1_ratio and C choose the penalty
PENALTY_FROM_L1_RATIO = "deprecated"
# A Newton iteration costs about (1 + p / 16) L-BFGS iterations (1M x 50: 1.1 vs 0.28 s) and Newton needs
# 4-5 iterations to L-BFGS's 11-19 at tol 1e-4..1e-6: beyond ~32 features L-BFGS is cheaper.
NEWTON_MAX_FEATURES = 32
# Below this many matrix entries a parallel kernel launch costs more than the work it shares out.
SERIAL_CELLS = 200_000


class PerfectSeparationWarning(UserWarning):
    """The classes are perfectly separable: the unpenalised maximum-likelihood estimate does not exist."""


def check_C(C, name="C"):
    """C as a float: a positive number, ``np.inf`` for no penalty."""
    if isinstance(C, bool) or not isinstance(C, numbers.Real) or not C > 0:
        raise ValueError(f"{name} must be a positive number (inverse regularization strength; np.inf for no "
                         f"penalty), got {C!r}")
    return float(C)


def check_l1_ratio(l1_ratio, name="l1_ratio"):
    """l1_ratio as a float in [0, 1]."""
    if isinstance(l1_ratio, bool) or not isinstance(l1_ratio, numbers.Real) or not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1] (0: L2 penalty, 1: L1, between: elastic-net), "
                         f"got {l1_ratio!r}")
    return float(l1_ratio)


def resolve_penalty(penalty, C, l1_ratio):
    """``(penalty, l1, l2)``: the penalty fitted (None, "l2", "l1" or "elasticnet") and the solvers' L1 and
    L2 strengths (scikit-learn's objective divided by C), by scikit-learn 1.8's rules.

    With ``penalty`` left at its default, ``l1_ratio`` chooses the penalty and ``C=np.inf`` removes it. An
    explicit ``penalty`` is honoured with scikit-learn's FutureWarning, and a UserWarning says which of
    ``l1_ratio`` or ``C`` it overrides.
    """
    C = check_C(C)
    if penalty == PENALTY_FROM_L1_RATIO:
        if l1_ratio is None:
            raise ValueError("l1_ratio must be a number in [0, 1] (0: L2 penalty, 1: L1, between: elastic-net); "
                             "None is scikit-learn's deprecated spelling of 0")
        ratio = check_l1_ratio(l1_ratio)
        fitted = "l2" if ratio == 0.0 else "l1" if ratio == 1.0 else "elasticnet"
    else:
        if penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {PENALTIES} (or left out: l1_ratio chooses), got {penalty!r}")
        warnings.warn("penalty is deprecated, as in scikit-learn 1.8: leave it out and use l1_ratio=0 for 'l2', "
                      "l1_ratio=1 for 'l1', 0 < l1_ratio < 1 for 'elasticnet' and C=np.inf for None",
                      FutureWarning, stacklevel=3)
        if penalty is None:
            if C != 1.0 or l1_ratio not in (None, 0.0):
                warnings.warn(f"penalty=None fits no penalty and ignores C={C!r} and l1_ratio={l1_ratio!r}",
                              UserWarning, stacklevel=3)
            return None, 0.0, 0.0
        if penalty == "elasticnet":
            if l1_ratio is None:
                raise ValueError("penalty='elasticnet' needs l1_ratio in [0, 1], got None")
            ratio = check_l1_ratio(l1_ratio)
        else:
            ratio = 1.0 if penalty == "l1" else 0.0
            if l1_ratio is not None and check_l1_ratio(l1_ratio) != ratio:
                warnings.warn(f"penalty={penalty!r} fits an {penalty.upper()} penalty (l1_ratio={ratio:g}) and "
                              f"ignores l1_ratio={l1_ratio!r}; leave penalty out and set l1_ratio alone",
                              UserWarning, stacklevel=3)
        fitted = penalty
    if math.isinf(C):
        return None, 0.0, 0.0
    return fitted, ratio / C, (1.0 - ratio) / C


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


def pick_solver(solver, smooth, n_classes, n_features):
    """The solver to run: ``solver`` checked against the penalty (``smooth``: no L1 part) and the classes."""
    if solver == "auto":
        if not smooth:
            return "newglmnet"
        return "newton" if n_classes == 1 and n_features <= NEWTON_MAX_FEATURES else "lbfgs"
    if solver not in SOLVERS:
        raise ValueError(f"solver must be 'auto' or one of {sorted(SOLVERS)}, got {solver!r}")
    if solver != "newglmnet" and not smooth:
        raise ValueError(f"solver={solver!r} needs a smooth penalty (l1_ratio=0 or C=np.inf); "
                         "use 'newglmnet' for an L1 part")
    if solver == "newton" and n_classes > 1:
        raise ValueError("solver='newton' is binary only; use 'lbfgs' or 'newglmnet' for more than two classes")
    return solver


def check_iterations(max_iter, tol, n_jobs):
    """The solver's stopping arguments and the thread count (TypeError for a wrong type, ValueError for a
    wrong value)."""
    check_positive_int(max_iter, "max_iter")
    check_number(tol, "tol", low=0.0, low_open=True)
    check_n_jobs(n_jobs)


def make_problem(matrix, index, n_classes, sw, l1, l2, fit_intercept):
    """The solvers' ``LogisticProblem`` of rows ``matrix`` (n, p) (``as_matrix``), class indices (n,) out of
    ``n_classes``, weights (n,) and penalty strengths."""
    return LogisticProblem(pack(matrix), index.astype(np.float64), sw, 1 if n_classes == 2 else n_classes,
                           l1, l2, bool(fit_intercept))


def _separates(z, index):
    """True when the margins classify every row correctly with a strict margin (complete separation)."""
    if z.shape[1] == 1:
        return bool(np.all(np.where(index == 1, z[:, 0] > 0, z[:, 0] < 0)))
    own = z[np.arange(z.shape[0]), index]
    rival = np.where(np.arange(z.shape[1]) == index[:, None], -np.inf, z).max(axis=1)
    return bool(np.all(own > rival))


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Penalised logistic regression (binary or multinomial), dense or CSR input.

    Parameters follow scikit-learn 1.8: ``C`` > 0 the inverse regularization strength (``np.inf``: no
    penalty), ``l1_ratio`` in [0, 1] the L1 share of the penalty (0: L2, 1: L1), ``penalty`` deprecated (see
    ``resolve_penalty``), ``class_weight`` None/"balanced"/dict, ``solver`` "auto"/"lbfgs"/"newton"/
    "newglmnet", ``tol`` on the largest entry of the gradient of the sample-weight-normalised objective
    (scikit-learn lbfgs' ``gtol``), ``n_jobs`` kernel threads.

    Attributes after fit: ``classes_``, ``coef_`` (1 or K, n_features), ``intercept_`` (1 or K,),
    ``n_features_in_``, ``feature_names_in_`` (only when X had string column names), ``penalty_`` (the
    penalty fitted, None when unpenalised), ``n_iter_``, ``converged_``, ``separated_``, ``solver_``, and
    statsmodels' fit statistics with sample weights as frequency weights: ``nobs_``, ``llf_``, ``llnull_``,
    ``pseudo_r2_`` (McFadden), and for an unpenalised fit ``aic_``, ``bic_``, ``lr_test_`` (statistic, df,
    p_value) against the intercept-only model (None when penalised). An unpenalised binary fit also gives
    ``cov_params``, ``standard_errors``, ``marginal_effects`` and a full ``summary``; it keeps the per-row
    scores (n x (p + 1) floats, the size of X) these need.
    """

    def __init__(self, penalty=PENALTY_FROM_L1_RATIO, *, C=1.0, l1_ratio=0.0, class_weight=None,
                 fit_intercept=True, solver="auto", max_iter=100, tol=1e-4, n_jobs=None):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.class_weight = class_weight
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.n_jobs = n_jobs

    def fit(self, X, y, sample_weight=None, *, init_params=None):
        """Fit on X (n, p) dense, DataFrame or sparse, labels y (n,), optional sample_weight (n,). Returns self.

        ``init_params`` (K, p + 1), coefficients then intercept, warm-starts the solver.
        """
        names = column_names(X)
        matrix = as_matrix(X)
        classes, index = as_labels(y, matrix.shape[0])
        sw = as_sample_weight(sample_weight, matrix.shape[0])
        sw = sw * class_weights(self.class_weight, classes, index, sw)
        penalty, l1, l2 = resolve_penalty(self.penalty, self.C, self.l1_ratio)
        check_iterations(self.max_iter, self.tol, self.n_jobs)
        return self._fit(matrix, names, classes, index, sw, penalty, l1, l2, init_params)

    def _fit(self, matrix, names, classes, index, sw, penalty, l1, l2, init_params):
        """Solve on validated inputs (``as_matrix`` rows, class indices, final weights) and set the attributes."""
        problem = make_problem(matrix, index, classes.shape[0], sw, l1, l2, self.fit_intercept)
        n_rows, width = matrix.shape
        solver = pick_solver(self.solver, l1 == 0.0, problem.n_classes, width)
        start = np.zeros((problem.n_classes, width + 1)) if init_params is None else np.array(init_params, float)
        if start.shape != (problem.n_classes, width + 1):
            raise ValueError(f"init_params must have shape {(problem.n_classes, width + 1)}, got {start.shape}")
        with using_threads(fit_threads(self.n_jobs, n_rows, width, SERIAL_CELLS)):
            result = SOLVERS[solver](problem, start, float(self.tol), int(self.max_iter))
        if not result.converged:
            warnings.warn(f"{solver} did not reach tol={self.tol} in {result.n_iter} iterations; "
                          "raise max_iter or scale the features", RuntimeWarning, stacklevel=3)
        self.solver_ = solver
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        return self._set_fitted(problem, matrix, names, classes, index, penalty, result.params)

    def _set_fitted(self, problem, matrix, names, classes, index, penalty, params):
        """Set the fitted attributes and statistics for ``params`` (K, p + 1) on ``problem``."""
        n_rows, width = matrix.shape
        information = None
        with using_threads(fit_threads(self.n_jobs, n_rows, width, SERIAL_CELLS)):
            z = margins(problem.packed, params)
            self.separated_ = penalty is None and _separates(z, index)
            if penalty is None and problem.n_classes == 1 and not self.separated_:
                information = evaluate(problem, params, grad=False, hess=True)[2] * problem.sw.sum()
            log_likelihood = -loss_from_margins(problem, z)  # a threaded kernel too: inside n_jobs' threads
        if self.separated_:
            warnings.warn("the classes are perfectly separable: the unpenalised maximum-likelihood estimate "
                          "does not exist and the coefficients grow without bound; use a penalty",
                          PerfectSeparationWarning, stacklevel=4)
        self.classes_ = classes
        self.coef_ = params[:, :-1].copy()
        self.intercept_ = params[:, -1].copy()
        self.penalty_ = penalty
        self.n_features_in_ = width
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.nobs_ = float(problem.sw.sum())
        rank = design_rank(matrix, problem.sw, self.fit_intercept) if penalty is None else None
        (self.llf_, self.llnull_, self.aic_, self.bic_, self.pseudo_r2_, self.lr_test_) = likelihood_statistics(
            log_likelihood, index, problem.sw, classes.shape[0], rank, penalty is not None)
        self._inference = None if information is None else logit_inference(
            matrix, problem.y, problem.sw, params[0], information, self.fit_intercept)
        return self

    def __sklearn_tags__(self):
        """scipy.sparse input is accepted (scikit-learn >= 1.6 reads the tag)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet; call fit(X, y) first")

    def decision_function(self, X):
        """Margins: (n,) for the binary model, (n, K) for the multinomial model."""
        self._check_fitted()
        check_feature_names(getattr(self, "feature_names_in_", None), column_names(X), type(self).__name__)
        matrix = as_matrix(X, n_features=self.n_features_in_)
        params = np.hstack([self.coef_, self.intercept_[:, None]])
        with using_threads(fit_threads(self.n_jobs, *matrix.shape, SERIAL_CELLS)):
            z = margins(pack(matrix), params)
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

    def predict_log_proba(self, X):
        """Log class probabilities (n, n_classes), from the margins: finite where a probability rounds to 0."""
        z = self.decision_function(X)
        if z.ndim == 1:
            return -np.column_stack([np.logaddexp(0.0, z), np.logaddexp(0.0, -z)])
        top = z.max(axis=1, keepdims=True)
        return z - top - np.log(np.exp(z - top).sum(axis=1, keepdims=True))

    def predict(self, X):
        """Most probable class label of each row (n,)."""
        z = self.decision_function(X)
        best = (z > 0).astype(np.int64) if z.ndim == 1 else np.argmax(z, axis=1)
        return self.classes_[best]

    def _inference_state(self):
        self._check_fitted()
        if self.penalty_ is not None:
            raise ValueError(f"standard errors need an unpenalised fit: this one has an {self.penalty_} penalty, "
                             "which biases the estimates towards 0, so Wald standard errors, p-values and "
                             "intervals are not valid; refit with C=np.inf")
        if self.coef_.shape[0] != 1:
            raise ValueError("standard errors are given for the binary model only (two classes)")
        if self._inference is None:
            raise ValueError("no standard errors: the classes are perfectly separable or the information matrix "
                             "is singular (collinear features); drop features or use a penalty")
        return self._inference

    def cov_params(self, cov_type="nonrobust", *, groups=None):
        """Covariance (k, k) of the parameters of an unpenalised binary fit, "const" first then the features
        (statsmodels' order with ``add_constant``). cov_type : "nonrobust" (inverse observed information),
        "HC0".."HC3" (heteroscedasticity-robust) or "cluster" with ``groups`` (n_train,) cluster labels of the
        training rows. See ``bindings.logistic.inference`` for the formulas."""
        return covariance(self._inference_state(), cov_type, groups)

    def standard_errors(self, cov_type="nonrobust", *, groups=None):
        """Standard errors (k,) of the parameters, "const" first; see ``cov_params``."""
        return np.sqrt(np.diag(self.cov_params(cov_type, groups=groups)))

    def marginal_effects(self, alpha=0.05, *, cov_type="nonrobust", groups=None):
        """Average marginal effects of the features on P(y = 1) (statsmodels' ``get_margeff(at="overall")``):
        a pandas DataFrame with dy/dx, delta-method std err under ``cov_type``, z, P>|z| and the interval."""
        state = self._inference_state()
        names = self.feature_names_in_ if hasattr(self, "feature_names_in_") \
            else [f"x{j + 1}" for j in range(self.n_features_in_)]
        return marginal_effects_table(state, names, alpha, cov_type, groups)

    def summary(self, alpha=0.05, *, cov_type="nonrobust", groups=None):
        """statsmodels-style report (``LogitSummary``: ``coefficients`` DataFrame, ``statistics``, ``notes``;
        printing it shows all three).

        Statistics: observations, log-likelihood, LL-null, McFadden pseudo R-squared and, unpenalised, AIC,
        BIC and the likelihood-ratio test. Coefficient rows: "const" (if fitted) then the features; columns
        coef, and for an unpenalised binary fit std err (under ``cov_type``, see ``cov_params``), z, P>|z|,
        the (1 - alpha) interval, the odds ratio and its interval. A penalised fit gives coef and odds ratio
        and a note saying why the rest is left out.
        """
        self._check_fitted()
        return summary_of(self, alpha, cov_type, groups)


def regularization_path(X, y, Cs, *, l1_ratio=1.0, sample_weight=None, tol=1e-6, max_iter=200, n_jobs=None):
    """Coefficients over a grid of C, warm-started from small C (strong penalty) upwards.

    Returns ``(Cs, coefs, intercepts)``: Cs sorted ascending (m,), coefs (m, K, p), intercepts (m, K);
    K = 1 for two classes. With l1_ratio=1 (L1) coefficients enter one by one as C grows; with 0 (L2) all
    are non-zero and shrink smoothly towards zero as C falls.
    """
    Cs = np.sort(np.asarray(Cs, dtype=np.float64).ravel())
    if Cs.shape[0] == 0 or not np.all(np.isfinite(Cs)) or Cs[0] <= 0:
        raise ValueError("Cs must be a non-empty list of positive finite numbers")
    model = LogisticRegression(l1_ratio=l1_ratio, tol=tol, max_iter=max_iter, n_jobs=n_jobs)
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
