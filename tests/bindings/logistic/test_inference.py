"""bindings.logistic.inference: fit statistics, covariance types, marginal effects and the summary of
LogisticRegression against statsmodels' Logit, GLM and MNLogit, and the chi-square tail against scipy."""
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.preprocessing import StandardScaler

from bindings.logistic import LogisticRegression, PerfectSeparationWarning
from bindings.logistic.inference import chi2_sf

X_BC, Y_BC = load_breast_cancer(return_X_y=True)
X_BC = StandardScaler().fit_transform(X_BC)
# five breast-cancer features on which the classes overlap, so the unpenalised MLE exists
SUBSET = [0, 1, 4, 7, 10]
FRAME = pd.DataFrame(X_BC[:, SUBSET], columns=[f"f{j}" for j in SUBSET])
GROUPS = np.random.default_rng(4).integers(0, 40, len(Y_BC))
# the accuracy statsmodels is held to: both fits are solved to ~1e-12, so 1e-6 leaves room only for rounding
RTOL = 1e-6


def _ours(**fit):
    return LogisticRegression(C=np.inf, tol=1e-10).fit(FRAME, Y_BC, **fit)


def _statsmodels(cov_type="nonrobust", **cov_kwds):
    extra = {"cov_kwds": cov_kwds} if cov_kwds else {}
    return sm.Logit(Y_BC, sm.add_constant(FRAME)).fit(disp=0, tol=1e-12, cov_type=cov_type, **extra)


def test_fit_statistics_match_statsmodels():
    ours, ref = _ours(), _statsmodels()
    for name, value in (("llf_", ref.llf), ("llnull_", ref.llnull), ("aic_", ref.aic), ("bic_", ref.bic),
                        ("pseudo_r2_", ref.prsquared), ("nobs_", ref.nobs)):
        assert getattr(ours, name) == pytest.approx(value, rel=RTOL), name
    assert ours.lr_test_.statistic == pytest.approx(ref.llr, rel=RTOL)
    assert ours.lr_test_.df == ref.df_model
    assert ours.lr_test_.p_value == pytest.approx(ref.llr_pvalue, rel=1e-5)


def test_fit_statistics_without_intercept_and_with_frequency_weights_match_statsmodels():
    """Integer sample weights act as repeated rows; statsmodels' null model keeps its constant."""
    counts = np.random.default_rng(2).integers(1, 4, len(Y_BC))
    ours = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-10).fit(FRAME, Y_BC, sample_weight=counts)
    ref = sm.Logit(np.repeat(Y_BC, counts), np.repeat(FRAME.to_numpy(), counts, axis=0)).fit(disp=0, tol=1e-12)
    for name, value in (("llf_", ref.llf), ("llnull_", ref.llnull), ("aic_", ref.aic), ("bic_", ref.bic),
                        ("pseudo_r2_", ref.prsquared), ("nobs_", ref.nobs)):
        assert getattr(ours, name) == pytest.approx(value, rel=RTOL), name
    assert (ours.lr_test_.statistic, ours.lr_test_.df) == (pytest.approx(ref.llr, rel=RTOL), ref.df_model)
    np.testing.assert_allclose(ours.standard_errors(), ref.bse, rtol=RTOL)
    np.testing.assert_allclose(ours.standard_errors("HC0"),
                               sm.Logit(np.repeat(Y_BC, counts), np.repeat(FRAME.to_numpy(), counts, axis=0))
                               .fit(disp=0, tol=1e-12, cov_type="HC0").bse, rtol=RTOL)


def test_multinomial_fit_statistics_match_mnlogit():
    X, y = load_iris(return_X_y=True)
    # sepal length and a noise column: two sepal features already separate setosa, and the MLE would not exist
    X = np.column_stack([StandardScaler().fit_transform(X)[:, 0], np.random.default_rng(0).standard_normal(len(y))])
    ours = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    ref = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12, maxiter=200)
    assert ref.mle_retvals["converged"]
    for name, value in (("llf_", ref.llf), ("llnull_", ref.llnull), ("aic_", ref.aic), ("bic_", ref.bic),
                        ("pseudo_r2_", ref.prsquared)):
        assert getattr(ours, name) == pytest.approx(value, rel=RTOL), name
    assert (ours.lr_test_.statistic, ours.lr_test_.df) == (pytest.approx(ref.llr, rel=RTOL), ref.df_model)
    with pytest.raises(ValueError, match="binary model only"):
        ours.standard_errors()
    assert "binary model only" in str(ours.summary())


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "cluster"])
def test_standard_errors_and_summary_match_statsmodels(cov_type):
    kwargs = {"groups": GROUPS} if cov_type == "cluster" else {}
    ours, ref = _ours(), _statsmodels(cov_type, **kwargs)
    np.testing.assert_allclose(ours.cov_params(cov_type, **kwargs), ref.cov_params(), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(ours.standard_errors(cov_type, **kwargs), ref.bse, rtol=RTOL)
    summary = ours.summary(cov_type=cov_type, **kwargs)
    table = summary.coefficients
    assert list(table.index) == ["const"] + list(FRAME.columns)
    np.testing.assert_allclose(table["coef"], ref.params, rtol=RTOL)
    np.testing.assert_allclose(table["std err"], ref.bse, rtol=RTOL)
    np.testing.assert_allclose(table["z"], ref.tvalues, rtol=RTOL)
    np.testing.assert_allclose(table["P>|z|"], ref.pvalues, rtol=1e-5, atol=1e-300)
    np.testing.assert_allclose(table[["[0.025", "0.975]"]], ref.conf_int(0.05), rtol=RTOL)
    np.testing.assert_allclose(table[["odds [0.025", "odds 0.975]"]], np.exp(ref.conf_int(0.05)), rtol=RTOL)
    assert summary.statistics["Covariance type"] == cov_type
    assert summary.statistics["AIC"] == pytest.approx(ref.aic, rel=RTOL)
    assert "Log-likelihood" in str(summary) and not summary.notes


def test_hc1_to_hc3_from_statsmodels_pieces():
    """statsmodels' Logit returns its HC0 matrix under all four HC names, so HC1-HC3 are checked against
    MacKinnon & White's definitions built from statsmodels' own scores, GLM leverages and HC0/bread."""
    ours = _ours()
    logit = _statsmodels()
    hc0 = _statsmodels("HC0").cov_params().to_numpy()
    n, k = len(Y_BC), len(logit.params)
    np.testing.assert_allclose(ours.cov_params("HC1"), hc0 * n / (n - k), rtol=RTOL)
    glm = sm.GLM(Y_BC, sm.add_constant(FRAME), family=sm.families.Binomial()).fit(tol=1e-12)
    leverage = glm.get_influence().hat_matrix_diag
    scores = logit.model.score_obs(logit.params.to_numpy())
    bread = logit.cov_params().to_numpy()
    for name, power in (("HC2", 1), ("HC3", 2)):
        meat = (scores / (1.0 - leverage)[:, None] ** power).T @ scores
        np.testing.assert_allclose(ours.cov_params(name), bread @ meat @ bread, rtol=RTOL)
    assert np.all(np.diag(ours.cov_params("HC3")) > np.diag(ours.cov_params("HC2")))


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "cluster"])
def test_average_marginal_effects_match_statsmodels(cov_type):
    kwargs = {"groups": GROUPS} if cov_type == "cluster" else {}
    table = _ours().marginal_effects(cov_type=cov_type, **kwargs)
    ref = _statsmodels(cov_type, **kwargs).get_margeff(at="overall", method="dydx").summary_frame()
    assert list(table.index) == list(FRAME.columns)
    np.testing.assert_allclose(table["dy/dx"], ref["dy/dx"], rtol=RTOL)
    np.testing.assert_allclose(table["std err"], ref["Std. Err."], rtol=RTOL)
    np.testing.assert_allclose(table["P>|z|"], ref["Pr(>|z|)"], rtol=1e-5)
    np.testing.assert_allclose(table[["[0.025", "0.975]"]], ref.iloc[:, 4:6], rtol=RTOL)


def test_penalised_summary_says_what_it_cannot_give():
    model = LogisticRegression(C=0.1).fit(FRAME, Y_BC)
    summary = model.summary()
    assert list(summary.coefficients.columns) == ["coef", "odds ratio"]
    assert "AIC" not in summary.statistics and model.aic_ is None and model.lr_test_ is None
    assert any("penalised" in note and "p-values" in note for note in summary.notes)
    assert "p-values" in str(summary)
    ref = sm.Logit(Y_BC, sm.add_constant(FRAME)).fit(disp=0)
    proba = model.predict_proba(FRAME)[:, 1]
    assert model.llf_ == pytest.approx(ref.model.loglike(np.r_[model.intercept_, model.coef_[0]]), rel=1e-10)
    assert model.llf_ == pytest.approx(np.sum(np.log(np.where(Y_BC == 1, proba, 1 - proba))), rel=1e-10)
    with pytest.raises(ValueError, match="unpenalised fit"):
        model.standard_errors("HC0")
    with pytest.raises(ValueError, match="unpenalised fit"):
        model.marginal_effects()


def test_perfect_separation_warns_and_summary_says_why():
    with pytest.warns(PerfectSeparationWarning):
        model = LogisticRegression(C=np.inf, max_iter=50).fit(X_BC, Y_BC)
    assert model.separated_
    assert "separable" in str(model.summary())
    with pytest.raises(ValueError, match="separable"):
        model.standard_errors()
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        assert not LogisticRegression(C=np.inf).fit(X_BC[:, SUBSET], Y_BC).separated_


def test_bad_arguments():
    ours = _ours()
    with pytest.raises(ValueError, match="cov_type must be one of"):
        ours.standard_errors("HC4")
    with pytest.raises(ValueError, match="needs groups"):
        ours.standard_errors("cluster")
    with pytest.raises(ValueError, match="one label per training row"):
        ours.standard_errors("cluster", groups=GROUPS[:-1])
    with pytest.raises(ValueError, match="only used with"):
        ours.standard_errors("HC0", groups=GROUPS)
    with pytest.raises(ValueError, match="at least two groups"):
        ours.standard_errors("cluster", groups=np.zeros(len(Y_BC)))
    with pytest.raises(ValueError, match="alpha"):
        ours.summary(alpha=1.5)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 30, 301])
def test_chi2_tail_matches_scipy(df):
    for x in (0.0, 1e-3, 0.5, df, 3.0 * df + 10, 600.0):
        assert chi2_sf(x, df) == pytest.approx(stats.chi2.sf(x, df), rel=1e-12, abs=1e-300)
