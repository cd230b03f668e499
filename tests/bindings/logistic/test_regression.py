"""bindings.LogisticRegression against scikit-learn, on scikit-learn's breast cancer and
iris sets."""
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler

from bindings.logistic import LogisticRegression, regression, regularization_path
from gbdt.threads import effective_threads

X_BC, Y_BC = load_breast_cancer(return_X_y=True)
X_BC = StandardScaler().fit_transform(X_BC)
X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_IRIS = StandardScaler().fit_transform(X_IRIS)
# five breast-cancer features on which the classes overlap, so the unpenalised MLE exists
SUBSET = [0, 1, 4, 7, 10]


def _sklearn_model(C, l1_ratio, **kw):
    """scikit-learn's estimator set to solve to (near) machine precision: newton-cholesky for smooth
    penalties, saga for L1 parts."""
    solver = "newton-cholesky" if l1_ratio == 0 else "saga"
    return SkLogisticRegression(C=C, l1_ratio=l1_ratio, solver=solver, tol=1e-12, max_iter=100_000, **kw)


def _sklearn(C, l1_ratio, X, y, **kw):
    return _sklearn_model(C, l1_ratio, **kw).fit(X, y)


@pytest.mark.parametrize("solver", ["newton", "newglmnet", "lbfgs"])
def test_binary_l2_matches_sklearn(solver):
    ours = LogisticRegression(C=0.3, solver=solver, tol=1e-10, max_iter=1000).fit(X_BC, Y_BC)
    ref = _sklearn(0.3, 0.0, X_BC, Y_BC)
    # lbfgs stops at the objective's rounding level (scipy's ftol), like scikit-learn's own lbfgs
    atol = 1e-5 if solver == "lbfgs" else 1e-7
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=atol)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=atol)
    np.testing.assert_allclose(ours.predict_proba(X_BC), ref.predict_proba(X_BC), atol=atol)
    assert ours.converged_


@pytest.mark.parametrize("l1_ratio", [1.0, 0.4])
def test_binary_l1_and_elasticnet_match_sklearn_saga(l1_ratio):
    """l1_ratio alone chooses the penalty, as in scikit-learn 1.8: 1.0 is L1, never a silent L2."""
    ours = LogisticRegression(C=0.2, l1_ratio=l1_ratio, tol=1e-10, max_iter=1000).fit(X_BC, Y_BC)
    assert ours.penalty_ == ("l1" if l1_ratio == 1.0 else "elasticnet")
    ref = _sklearn(0.2, l1_ratio, X_BC, Y_BC)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    np.testing.assert_array_equal(ours.coef_ == 0, np.abs(ref.coef_) < 1e-8)
    assert 0 < np.sum(ours.coef_ == 0) < X_BC.shape[1]


@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
def test_multinomial_matches_sklearn(l1_ratio):
    ours = LogisticRegression(C=0.5, l1_ratio=l1_ratio, tol=1e-10, max_iter=1000).fit(X_IRIS, Y_IRIS)
    ref = SkLogisticRegression(C=0.5, l1_ratio=l1_ratio, solver="lbfgs" if l1_ratio == 0 else "saga",
                               tol=1e-12, max_iter=100_000).fit(X_IRIS, Y_IRIS)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-6)
    # intercepts are defined up to a common shift; ours are centred
    np.testing.assert_allclose(ours.intercept_ - ours.intercept_.mean(), ref.intercept_ - ref.intercept_.mean(),
                               atol=2e-6)
    np.testing.assert_allclose(ours.predict_proba(X_IRIS), ref.predict_proba(X_IRIS), atol=2e-6)
    np.testing.assert_array_equal(ours.predict(X_IRIS), ref.predict(X_IRIS))


@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
def test_csr_input_gives_the_dense_fit(l1_ratio):
    X = np.where(np.abs(X_BC) < 0.5, 0.0, X_BC)
    dense = LogisticRegression(C=0.5, l1_ratio=l1_ratio, tol=1e-10, max_iter=500).fit(X, Y_BC)
    sparse = LogisticRegression(C=0.5, l1_ratio=l1_ratio, tol=1e-10, max_iter=500).fit(sp.csr_matrix(X), Y_BC)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-9)
    np.testing.assert_allclose(sparse.decision_function(sp.csr_matrix(X)), dense.decision_function(X), atol=1e-8)


def test_class_and_sample_weights_match_sklearn():
    rng = np.random.default_rng(1)
    sw = rng.uniform(0.2, 3.0, X_BC.shape[0])
    ours = LogisticRegression(C=0.1, class_weight="balanced", tol=1e-10).fit(X_BC, Y_BC, sample_weight=sw)
    ref = _sklearn_model(0.1, 0.0, class_weight="balanced").fit(X_BC, Y_BC, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
    ours_dict = LogisticRegression(C=0.1, class_weight={0: 3.0}, tol=1e-10).fit(X_BC, Y_BC)
    ref_dict = _sklearn(0.1, 0.0, X_BC, Y_BC, class_weight={0: 3.0, 1: 1.0})
    np.testing.assert_allclose(ours_dict.coef_, ref_dict.coef_, atol=1e-7)


def test_regularization_path_l1_sparsity_and_l2_shrinkage():
    Cs = np.logspace(-3, 1, 6)
    _, l1_coefs, _ = regularization_path(X_BC, Y_BC, Cs, l1_ratio=1.0, tol=1e-8)
    nonzero = np.sum(l1_coefs[:, 0] != 0, axis=1)
    assert nonzero[0] == 0 and np.all(np.diff(nonzero) >= 0) and nonzero[-1] > 5
    _, l2_coefs, _ = regularization_path(X_BC, Y_BC, Cs, l1_ratio=0.0, tol=1e-8)
    assert np.all(l2_coefs != 0)
    assert np.all(np.diff(np.linalg.norm(l2_coefs[:, 0], axis=1)) > 0)
    ref = _sklearn(Cs[3], 1.0, X_BC, Y_BC)
    np.testing.assert_allclose(l1_coefs[3], ref.coef_, atol=1e-5)


@pytest.mark.parametrize("kwargs, fit_args, match", [
    ({"C": 0.0}, None, "C must be a positive"),
    ({"C": -1.0}, None, "C must be a positive"),
    ({"C": "1"}, None, "C must be a positive"),
    ({"l1_ratio": 1.5}, None, "l1_ratio must be a number in"),
    ({"l1_ratio": None}, None, "l1_ratio must be a number in"),
    ({"l1_ratio": 1.0, "solver": "lbfgs"}, None, "smooth penalty"),
    ({"max_iter": 0}, None, "max_iter"),
    ({"tol": -1.0}, None, "tol"),
    ({"solver": "newton"}, (X_IRIS, Y_IRIS), "binary only"),
    ({"class_weight": {7: 1.0}}, None, "class_weight has labels"),
    ({}, (np.where(np.arange(X_BC.size).reshape(X_BC.shape) == 5, np.nan, X_BC), Y_BC), "NaN"),
    ({}, (X_BC, np.zeros(len(Y_BC))), "single class"),
    ({}, (X_BC, Y_BC[:-1]), r"y must have one entry per row \(569\)"),
    ({}, (X_BC[:, 0], Y_BC), "2-D"),
])
def test_bad_input_raises_value_error(kwargs, fit_args, match):
    X, y = fit_args or (X_BC, Y_BC)
    with pytest.raises(ValueError, match=match):
        LogisticRegression(**kwargs).fit(X, y)


def test_bad_input_types_and_unfitted_use():
    with pytest.raises(TypeError, match="numeric"):
        LogisticRegression().fit([["a", "b"], ["c", "d"]], [0, 1])
    with pytest.raises(TypeError, match="real numbers"):
        LogisticRegression().fit(X_BC + 1j, Y_BC)
    with pytest.raises(ValueError, match="continuous"):
        LogisticRegression().fit(X_BC, X_BC[:, 0])
    with pytest.raises(ValueError, match="not fitted"):
        LogisticRegression().predict(X_BC)
    model = LogisticRegression().fit(X_BC, Y_BC)
    with pytest.raises(ValueError, match="fitted with 30"):
        model.predict(X_BC[:, :5])
    with pytest.raises(ValueError, match="unpenalised fit"):
        model.standard_errors()


def test_scikit_learn_tools_accept_the_estimator():
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    model = LogisticRegression(C=0.2, tol=1e-10)
    copy = clone(model)
    assert copy is not model and copy.get_params() == model.get_params()
    ours = cross_val_score(model, X_BC, Y_BC, cv=3, scoring="neg_log_loss")
    ref = cross_val_score(_sklearn_model(0.2, 0.0), X_BC, Y_BC, cv=3, scoring="neg_log_loss")
    np.testing.assert_allclose(ours, ref, rtol=1e-8)


def test_explicit_penalty_is_deprecated_and_a_contradiction_warns_like_sklearn():
    """penalty= still works, with scikit-learn 1.8's FutureWarning; penalty='l2' with l1_ratio=1 fits L2 as
    scikit-learn does, and says so."""
    with pytest.warns(FutureWarning, match="penalty is deprecated"), pytest.warns(UserWarning, match="ignores"):
        ours = LogisticRegression("l2", C=0.2, l1_ratio=1.0, tol=1e-10).fit(X_BC, Y_BC)
    with pytest.warns(FutureWarning), pytest.warns(UserWarning, match="Inconsistent"):
        ref = SkLogisticRegression("l2", C=0.2, l1_ratio=1.0, solver="newton-cholesky", tol=1e-12).fit(X_BC, Y_BC)
    assert ours.penalty_ == "l2"
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
    with pytest.warns(FutureWarning), pytest.warns(UserWarning, match="ignores C=0.5"):
        assert LogisticRegression(None, C=0.5).fit(X_BC[:, SUBSET], Y_BC).penalty_ is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert LogisticRegression(C=np.inf).fit(X_BC[:, SUBSET], Y_BC).penalty_ is None


def test_predict_log_proba_matches_sklearn_and_stays_finite():
    from scipy.special import log_expit, log_softmax

    ours = LogisticRegression(C=0.3, tol=1e-10).fit(X_BC, Y_BC)
    ref = _sklearn(0.3, 0.0, X_BC, Y_BC)
    np.testing.assert_allclose(ours.predict_log_proba(X_BC), ref.predict_log_proba(X_BC), rtol=1e-6, atol=1e-7)
    multi = LogisticRegression(C=0.5, tol=1e-10).fit(X_IRIS, Y_IRIS)
    np.testing.assert_allclose(multi.predict_log_proba(X_IRIS), np.log(multi.predict_proba(X_IRIS)), rtol=1e-12)
    # margins of +-2000: the probabilities round to 0 and 1, their logs do not
    far = 200.0 * X_BC[:5]
    z = ours.decision_function(far)
    np.testing.assert_allclose(ours.predict_log_proba(far), np.column_stack([log_expit(-z), log_expit(z)]),
                               rtol=1e-12)
    assert np.all(np.isfinite(ours.predict_log_proba(far))) and np.abs(z).max() > 1000
    far = 500.0 * X_IRIS[:5]
    np.testing.assert_allclose(multi.predict_log_proba(far), log_softmax(multi.decision_function(far), axis=1),
                               rtol=1e-12)


def test_one_job_runs_the_serial_kernels_and_fits_what_two_jobs_fit(kernel_paths, monkeypatch):
    """n_jobs=1 takes the serial compilation of every threaded kernel; the coefficients equal the threaded
    fit's (rows are summed in fixed blocks, whatever the threads)."""
    monkeypatch.setattr(regression, "SERIAL_CELLS", 0)  # else this small fit runs on one thread at any n_jobs
    fits = {}
    for n_jobs in (1, 2):
        kernel_paths.clear()
        fits[n_jobs] = LogisticRegression(C=0.5, tol=1e-8, n_jobs=n_jobs).fit(X_BC, Y_BC)
        assert kernel_paths and set(kernel_paths) == {effective_threads(n_jobs) == 1}
    np.testing.assert_allclose(fits[1].coef_, fits[2].coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fits[1].predict_proba(X_BC), fits[2].predict_proba(X_BC), rtol=1e-10, atol=1e-12)


def test_feature_names_are_checked_at_predict_as_scikit_learn_does():
    """Fitted on named columns, the model refuses renamed, missing or reordered columns (naming them, with
    scikit-learn's messages, which its own estimator gives for the same frames) and never reorders them."""
    names = ["a", "b", "c", "d"]
    frame = pd.DataFrame(X_BC[:, :4], columns=names)
    ours = LogisticRegression(C=0.5).fit(frame, Y_BC)
    theirs = SkLogisticRegression(C=0.5).fit(frame, Y_BC)
    assert list(ours.feature_names_in_) == names and ours.feature_names_in_.dtype == object
    with pytest.warns(UserWarning, match="X does not have valid feature names, but LogisticRegression was fitted"):
        array_proba = ours.predict_proba(X_BC[:, :4])  # names on one side only: scikit-learn's warning
    np.testing.assert_allclose(ours.predict_proba(frame), array_proba, rtol=1e-14)
    renamed = frame.rename(columns={"a": "zz"})
    reordered = frame[["b", "a", "c", "d"]]
    missing = frame[["a", "b", "c"]]
    for bad, named in ((renamed, "- zz\nFeature names seen at fit time, yet now missing:\n- a"),
                       (reordered, "Column 0 is 'b' where fit had 'a'"), (missing, "yet now missing:\n- d")):
        with pytest.raises(ValueError) as ours_error:
            ours.predict_proba(bad)
        with pytest.raises(ValueError) as their_error:
            theirs.predict_proba(bad)
        assert str(ours_error.value).startswith(str(their_error.value)) and named in str(ours_error.value)
    unnamed = LogisticRegression(C=0.5).fit(X_BC[:, :4], Y_BC)
    assert not hasattr(unnamed, "feature_names_in_")
    with pytest.warns(UserWarning, match="X has feature names, but LogisticRegression was fitted without"):
        unnamed.decision_function(frame)
    # a refit on an array forgets the names; integer column labels are no names
    assert not hasattr(ours.fit(X_BC[:, :4], Y_BC), "feature_names_in_")
    assert not hasattr(LogisticRegression().fit(pd.DataFrame(X_BC[:, :4]), Y_BC), "feature_names_in_")
    with pytest.raises(TypeError, match="feature names must all be strings"):
        LogisticRegression().fit(pd.DataFrame(X_BC[:, :2], columns=["a", 1]), Y_BC)
