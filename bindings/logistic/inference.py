"""Likelihood statistics and Wald inference of a fitted logistic regression, as statsmodels' ``Logit``
(binary) and ``MNLogit`` (multinomial) report them.

Parameters are ordered as statsmodels orders ``sm.add_constant(X)``: the intercept ("const") first, then
the features. Sample weights act as frequency weights (a row of weight 3 counts as three rows): ``nobs`` is
their sum. Definitions (k parameters, n = nobs, bread ``B`` = inverse observed information, per-row score
``u_i = (y_i - p_i) [1, x_i]``)::

    llf  = sum_i w_i log P(y_i | x_i)            llnull = llf of the intercept-only model
    aic  = -2 llf + 2 k      bic = -2 llf + log(n) k      pseudo R^2 (McFadden) = 1 - llf / llnull
    LR   = 2 (llf - llnull) ~ chi2(k - K + 1)     (K classes; the null model's K - 1 intercepts)
    nonrobust   B
    HC0         B (sum_i w_i u_i u_i^T) B                  (statsmodels' HC0)
    HC1         HC0 n / (n - k)
    HC2, HC3    HC0 with w_i / (1 - h_i), w_i / (1 - h_i)^2, h_i = p_i (1 - p_i) x_i^T B x_i the GLM leverage
    cluster     B (sum_g U_g U_g^T) B G / (G - 1) (n - 1) / (n - k),  U_g = sum_{i in g} w_i u_i  (CR1)

HC1-HC3 follow MacKinnon & White as R's ``sandwich::vcovHC`` applies them to a GLM; statsmodels' ``Logit``
returns its HC0 matrix for all four names. Average marginal effects are statsmodels'
``get_margeff(at="overall", method="dydx")`` with delta-method standard errors.
"""
import math
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from bindings.validation import check_probability

__all__ = ["COV_TYPES", "LRTest", "LogitInference", "LogitSummary", "chi2_sf", "logit_inference",
           "likelihood_statistics", "covariance", "marginal_effects_table", "summary_of"]

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")


class LRTest(NamedTuple):
    """Likelihood-ratio test of the fitted model against the intercept-only model."""

    statistic: float
    df: int
    p_value: float


class LogitInference(NamedTuple):
    """What an unpenalised binary fit keeps for its covariance matrices and marginal effects."""

    params: np.ndarray       # (k,) const first
    bread: np.ndarray        # (k, k) inverse observed information
    scores: np.ndarray       # (n, k) per-row score u_i of one unit of weight
    weights: np.ndarray      # (n,) frequency weights
    leverage: np.ndarray     # (n,) GLM hat values h_i
    ame_scale: float         # weighted mean of p (1 - p)
    ame_gradient: np.ndarray  # (k,) weighted mean of p (1 - p) (1 - 2 p) [1, x]
    has_const: bool


def chi2_sf(x, df):
    """Survival function of the chi-square distribution with integer ``df`` >= 1 at ``x``, from its closed
    form (Abramowitz & Stegun 26.4.4-26.4.5), summed in log space so the far tail keeps its precision."""
    if x <= 0.0:
        return 1.0
    h = 0.5 * x
    if df % 2 == 0:
        return math.fsum(math.exp(-h + k * math.log(h) - math.lgamma(k + 1.0)) for k in range(df // 2))
    tail = math.fsum(math.exp(-h + (k + 0.5) * math.log(h) - math.lgamma(k + 1.5)) for k in range(df // 2))
    return math.erfc(math.sqrt(h)) + tail


def _design(matrix, fit_intercept):
    """[1, X] (n, k) as a dense float64 array (the column of ones only with an intercept)."""
    dense = matrix.toarray() if hasattr(matrix, "toarray") else matrix
    return np.hstack([np.ones((dense.shape[0], 1)), dense]) if fit_intercept else dense


def likelihood_statistics(log_likelihood, y_index, sw, n_classes, rank, penalised):
    """``(llf, llnull, aic, bic, pseudo_r2, lr_test)``; aic, bic and lr_test are None for a penalised fit.

    log_likelihood : the weighted log-likelihood at the fitted parameters; y_index (n,) class indices;
    sw (n,) frequency weights; rank : rank of the weighted design [1, X] (or X without intercept).
    """
    nobs = sw.sum()
    share = np.bincount(y_index, weights=sw, minlength=n_classes) / nobs
    share = share[share > 0]
    llnull = float(nobs * np.sum(share * np.log(share)))
    pseudo_r2 = 1.0 - log_likelihood / llnull if llnull < 0 else float("nan")
    if penalised:
        return log_likelihood, llnull, None, None, pseudo_r2, None
    per_class = max(n_classes - 1, 1)
    k = per_class * rank
    df_model = k - per_class  # the null model has one intercept per free class, with or without fit_intercept
    statistic = max(2.0 * (log_likelihood - llnull), 0.0)
    lr_test = LRTest(statistic, int(df_model), chi2_sf(statistic, df_model) if df_model > 0 else float("nan"))
    return (log_likelihood, llnull, -2.0 * log_likelihood + 2.0 * k, -2.0 * log_likelihood + math.log(nobs) * k,
            pseudo_r2, lr_test)


def design_rank(matrix, sw, fit_intercept):
    """Rank of the design [1, X] on the rows of positive weight (statsmodels' k for AIC/BIC)."""
    design = _design(matrix, fit_intercept)[sw > 0]
    return int(np.linalg.matrix_rank(design))


def logit_inference(matrix, y01, sw, params, information, fit_intercept):
    """``LogitInference`` of an unpenalised binary fit, or None when the information matrix is singular.

    matrix : (n, p) dense array or CSR; y01 (n,) 0/1; sw (n,) weights; params (p + 1,) coefficients then
    intercept (the solvers' order); information (p + 1, p + 1) summed observed information, intercept last.
    """
    order = np.r_[params.shape[0] - 1, np.arange(params.shape[0] - 1)] if fit_intercept \
        else np.arange(params.shape[0] - 1)
    H = information[np.ix_(order, order)]
    try:
        lower_inverse = np.linalg.inv(np.linalg.cholesky(H))
    except np.linalg.LinAlgError:
        return None
    bread = lower_inverse.T @ lower_inverse
    design = _design(matrix, fit_intercept)
    beta = params[order]
    p = 1.0 / (1.0 + np.exp(-(design @ beta)))
    curvature = p * (1.0 - p)
    leverage = curvature * np.einsum("ij,jk,ik->i", design, bread, design)
    nobs = sw.sum()
    return LogitInference(params=beta, bread=bread, scores=(y01 - p)[:, None] * design, weights=sw,
                          leverage=leverage, ame_scale=float(sw @ curvature / nobs),
                          ame_gradient=(sw * curvature * (1.0 - 2.0 * p)) @ design / nobs,
                          has_const=bool(fit_intercept))


def _check_groups(groups, n_rows):
    if groups is None:
        raise ValueError('cov_type="cluster" needs groups=: the cluster label of each training row')
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.shape[0] != n_rows:
        raise ValueError(f"groups must be 1-D with one label per training row ({n_rows}), got shape "
                         f"{groups.shape}")
    return np.unique(groups, return_inverse=True)[1].ravel()


def covariance(state, cov_type="nonrobust", groups=None):
    """Covariance (k, k) of the parameters (const first) under ``cov_type`` (see the module docstring)."""
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}")
    if cov_type != "cluster" and groups is not None:
        raise ValueError(f'groups= is only used with cov_type="cluster", got cov_type={cov_type!r}')
    if cov_type == "nonrobust":
        return state.bread.copy()
    nobs, k = state.weights.sum(), state.params.shape[0]
    if cov_type == "cluster":
        group = _check_groups(groups, state.weights.shape[0])
        used = state.weights > 0
        n_groups = np.unique(group[used]).shape[0]
        if n_groups < 2:
            raise ValueError("cluster-robust standard errors need at least two groups")
        sums = np.zeros((group.max() + 1, k))
        np.add.at(sums, group, state.weights[:, None] * state.scores)
        meat = sums.T @ sums * (n_groups / (n_groups - 1.0)) * ((nobs - 1.0) / (nobs - k))
    else:
        factor = state.weights.copy()
        if cov_type in ("HC2", "HC3"):
            factor /= (1.0 - state.leverage) ** (1 if cov_type == "HC2" else 2)
        meat = (state.scores * factor[:, None]).T @ state.scores
        if cov_type == "HC1":
            meat *= nobs / (nobs - k)
    return state.bread @ meat @ state.bread


def _wald_columns(estimate, se, alpha):
    """coef-like columns: the estimate, its standard error, z, the two-sided p-value and the interval."""
    z = estimate / se
    p_value = np.array([math.erfc(abs(v) / math.sqrt(2.0)) for v in z])
    q = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    return {"std err": se, "z": z, "P>|z|": p_value, f"[{alpha / 2:g}": estimate - q * se,
            f"{1 - alpha / 2:g}]": estimate + q * se}


def marginal_effects_table(state, names, alpha=0.05, cov_type="nonrobust", groups=None):
    """Average marginal effects d P(y = 1) / d x_j (pandas DataFrame, one row per feature): dy/dx, std err
    (delta method under ``cov_type``), z, P>|z| and the (1 - alpha) interval."""
    import pandas as pd

    check_probability(alpha, "alpha", open_interval=True)
    cov = covariance(state, cov_type, groups)
    slopes = np.arange(int(state.has_const), state.params.shape[0])
    effect = state.ame_scale * state.params[slopes]
    jacobian = state.params[slopes][:, None] * state.ame_gradient[None, :]
    jacobian[np.arange(slopes.shape[0]), slopes] += state.ame_scale
    se = np.sqrt(np.diag(jacobian @ cov @ jacobian.T))
    return pd.DataFrame({"dy/dx": effect, **_wald_columns(effect, se, alpha)}, index=list(names))


class LogitSummary(NamedTuple):
    """What ``LogisticRegression.summary()`` returns: printed, a statsmodels-like report.

    coefficients : pandas DataFrame, one row per parameter ("const" first); statistics : dict of the model's
    fit statistics; notes : what the report leaves out and why.
    """

    coefficients: object
    statistics: dict
    notes: list

    def __str__(self):
        width = max(len(name) for name in self.statistics)
        lines = [f"{name:<{width}}  {value:.6g}" if isinstance(value, float) else f"{name:<{width}}  {value}"
                 for name, value in self.statistics.items()]
        lines += ["", self.coefficients.to_string()]
        lines += [""] + [f"Note: {note}" for note in self.notes] if self.notes else []
        return "\n".join(lines)

    def __repr__(self):
        return str(self)


def summary_of(model, alpha, cov_type, groups):
    """The ``LogitSummary`` of a fitted ``LogisticRegression`` (see its ``summary``)."""
    import pandas as pd

    check_probability(alpha, "alpha", open_interval=True)
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}")
    names = list(model.feature_names_in_) if hasattr(model, "feature_names_in_") \
        else [f"x{j + 1}" for j in range(model.n_features_in_)]
    rows = (["const"] if model.fit_intercept else []) + names
    statistics = {"No. observations": float(model.nobs_), "Log-likelihood": model.llf_,
                  "LL-Null": model.llnull_, "Pseudo R-squ. (McFadden)": model.pseudo_r2_}
    notes = []
    binary = model.coef_.shape[0] == 1
    if model.penalty_ is not None:
        notes.append(f"penalised fit ({model.penalty_} penalty): no standard errors, z, p-values, "
                     "confidence intervals, AIC/BIC or likelihood-ratio test, since the penalty biases the "
                     "estimates towards 0 and their Wald and chi-square distributions do not hold; refit with "
                     "C=np.inf for inference")
    else:
        statistics.update({"AIC": model.aic_, "BIC": model.bic_, "LR chi2": model.lr_test_.statistic,
                           "LR df": model.lr_test_.df, "LLR p-value": model.lr_test_.p_value})
    if not binary:
        columns = {f"coef[{c}]": np.r_[model.intercept_[k:k + 1] if model.fit_intercept else [], model.coef_[k]]
                   for k, c in enumerate(model.classes_)}
        if model.penalty_ is None:
            notes.append("standard errors are given for the binary model only")
        return LogitSummary(pd.DataFrame(columns, index=rows), statistics, notes)
    coef = np.r_[model.intercept_[:1] if model.fit_intercept else [], model.coef_[0]]
    table = {"coef": coef}
    if model.penalty_ is None and model._inference is None:
        notes.append("no standard errors: the classes are perfectly separable or the information matrix is "
                     "singular (collinear features); drop features or use a penalty")
    elif model.penalty_ is None:
        statistics["Covariance type"] = cov_type
        se = np.sqrt(np.diag(covariance(model._inference, cov_type, groups)))
        table.update(_wald_columns(coef, se, alpha))
    with np.errstate(over="ignore"):  # a separated fit's coefficients are huge: their odds ratios are inf
        table["odds ratio"] = np.exp(coef)
    if "std err" in table:
        low, high = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        table[f"odds {low}"], table[f"odds {high}"] = np.exp(table[low]), np.exp(table[high])
    return LogitSummary(pd.DataFrame(table, index=rows), statistics, notes)
