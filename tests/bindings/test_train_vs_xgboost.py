"""The whole model against XGBoost (hist) with the same data and parameters."""
import numpy as np
import pytest
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score
from sklearn.model_selection import train_test_split

from bindings import Booster, Dataset, train

COMMON = {"max_depth": 4, "learning_rate": 0.1, "max_bin": 64, "reg_lambda": 1.0, "min_child_weight": 1.0}


def fit_both(params, X, y, rounds, missing=0.0, seed=0):
    X = X.astype(np.float64).copy()
    if missing:
        X[np.random.default_rng(seed).random(X.shape) < missing] = np.nan
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed)
    ours = train({**COMMON, **params, "n_jobs": 2}, Dataset(Xtr, ytr), rounds).predict(Xte)
    xgb_params = {**COMMON, **params, "tree_method": "hist", "nthread": 2}
    theirs = xgb.train(xgb_params, xgb.DMatrix(Xtr, ytr), rounds).predict(xgb.DMatrix(Xte))
    return yte, ours, theirs


@pytest.mark.parametrize("missing", [0.0, 0.2])
def test_binary_auc_matches_xgboost(missing):
    X, y = load_breast_cancer(return_X_y=True)
    yte, ours, theirs = fit_both({"objective": "binary:logistic"}, X, y, 60, missing)
    assert roc_auc_score(yte, ours) == pytest.approx(roc_auc_score(yte, theirs), abs=0.01)
    assert np.corrcoef(ours, theirs)[0, 1] > 0.97


@pytest.mark.parametrize("missing", [0.0, 0.2])
def test_regression_rmse_matches_xgboost(missing):
    X, y = load_diabetes(return_X_y=True)
    yte, ours, theirs = fit_both({"objective": "reg:squarederror"}, X, y, 80, missing)
    rmse_ours, rmse_xgb = (mean_squared_error(yte, p) ** 0.5 for p in (ours, theirs))
    assert rmse_ours == pytest.approx(rmse_xgb, rel=0.05)


@pytest.mark.parametrize("missing", [0.0, 0.2])
def test_multiclass_accuracy_matches_xgboost(missing):
    X, y = load_digits(return_X_y=True)
    yte, ours, theirs = fit_both({"objective": "multi:softprob", "num_class": 10}, X, y, 30, missing)
    assert ours.shape == (len(yte), 10)
    np.testing.assert_allclose(ours.sum(axis=1), 1.0)
    assert accuracy_score(yte, ours.argmax(1)) == pytest.approx(accuracy_score(yte, theirs.argmax(1)), abs=0.03)


def test_stumps_on_exact_bins_equal_xgboost_predictions():
    """With few distinct values both libraries see the same candidate thresholds, so depth-1
    trees with the same regularisation must be the same trees."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 8, size=(2000, 3)).astype(float)
    y = (X[:, 0] > 3) * 2.0 + (X[:, 1] == 5) + rng.standard_normal(2000) * 0.1
    params = {"objective": "reg:squarederror", "max_depth": 1, "learning_rate": 0.5, "base_score": 0.5}
    ours = train({**params, "n_jobs": 1}, Dataset(X, y), 10).predict(X)
    theirs = xgb.train({**params, "tree_method": "hist", "nthread": 1}, xgb.DMatrix(X, y), 10).predict(xgb.DMatrix(X))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_lossguide_with_max_leaves_matches_xgboost_accuracy():
    X, y = load_breast_cancer(return_X_y=True)
    params = {"objective": "binary:logistic", "grow_policy": "lossguide", "max_leaves": 8, "max_depth": 0}
    yte, ours, theirs = fit_both(params, X, y, 40)
    assert roc_auc_score(yte, ours) == pytest.approx(roc_auc_score(yte, theirs), abs=0.01)


def test_gamma_alpha_and_sampling_stay_close_to_xgboost():
    X, y = load_breast_cancer(return_X_y=True)
    params = {"objective": "binary:logistic", "gamma": 0.5, "reg_alpha": 0.5, "subsample": 0.8,
              "colsample_bytree": 0.7}
    yte, ours, theirs = fit_both(params, X, y, 60)
    assert roc_auc_score(yte, ours) == pytest.approx(roc_auc_score(yte, theirs), abs=0.015)


def test_gamma_is_checked_as_the_tree_grows_like_xgboost_hist():
    """On exact bins both libraries grow the same trees. With ``gamma`` a split whose gain falls
    short is not made even when splits below it would gain more (here the XOR of features 0 and 1
    under the root's split): XGBoost's hist method checks min_split_loss as it grows, where
    bottom-up pruning (its exact method, and ours before) keeps such splits. Same leaves, same predictions."""
    rng = np.random.default_rng(4)
    X = rng.integers(0, 8, size=(3000, 4)).astype(float)
    xor = (X[:, 0] > 3) ^ (X[:, 1] > 3)
    y = 4.0 * (X[:, 3] > 3) + 2.0 * xor + 0.3 * (X[:, 2] == 5) + rng.standard_normal(3000) / 2
    params = {"objective": "reg:squarederror", "max_depth": 3, "learning_rate": 0.5, "base_score": 0.5, "gamma": 40.0}
    booster = train({**params, "n_jobs": 1}, Dataset(X, y), 6)
    theirs = xgb.train({**params, "tree_method": "hist", "nthread": 1}, xgb.DMatrix(X, y), 6)
    assert [tree.n_leaves for tree in booster.trees] == [dump.count("leaf=") for dump in theirs.get_dump()]
    np.testing.assert_allclose(booster.predict(X), theirs.predict(xgb.DMatrix(X)), rtol=1e-5, atol=1e-5)


EXACT_BIN_CASES = {
    "depth6": {"max_depth": 6},
    "max_leaves": {"max_depth": 4, "max_leaves": 7},
    "lossguide": {"max_depth": 0, "grow_policy": "lossguide", "max_leaves": 12},
    "min_child_weight": {"max_depth": 5, "min_child_weight": 30},
    "alpha_lambda": {"max_depth": 4, "reg_alpha": 3.0, "reg_lambda": 5.0},
    "monotone": {"max_depth": 4, "monotone_constraints": (1, 0, 0, 1, -1)},
    "gamma_lossguide": {"max_depth": 0, "grow_policy": "lossguide", "max_leaves": 16, "gamma": 30.0},
}


@pytest.mark.parametrize("objective", ["reg:squarederror", "binary:logistic"])
@pytest.mark.parametrize("case", EXACT_BIN_CASES)
def test_same_trees_as_xgboost_hist_on_exact_bins(case, objective):
    """Features with 8 values (both libraries bin them exactly), 10% missing: the same trees as
    XGBoost's hist method, leaf for leaf, on training rows and on rows with missing values where
    training had none. This pins down the order and tie-breaking of split candidates and missing
    directions, gamma, min_child_weight, monotone bounds, max_leaves and lossguide order."""
    rng = np.random.default_rng(4)
    X = rng.integers(0, 8, size=(4000, 5)).astype(float)
    xor = (X[:, 0] > 3) ^ (X[:, 1] > 3)
    y = 4.0 * (X[:, 3] > 3) + 2.0 * xor + 0.3 * (X[:, 2] == 5) + 0.2 * X[:, 4] + rng.standard_normal(4000) / 2
    if objective == "binary:logistic":
        y = (y > np.median(y)).astype(float)
    X_train = X.copy()
    X_train[rng.random(X.shape) < 0.1] = np.nan
    X_train[:, 4] = X[:, 4]  # no missing values in training: NaN at prediction goes XGBoost's default way
    X_test = X.copy()
    X_test[rng.random(X.shape) < 0.3] = np.nan
    params = {"objective": objective, "learning_rate": 0.3, "base_score": 0.5, **EXACT_BIN_CASES[case]}
    booster = train({**params, "n_jobs": 1}, Dataset(X_train, y), 10)
    theirs = xgb.train({**params, "tree_method": "hist", "nthread": 1}, xgb.DMatrix(X_train, y), 10)
    assert [tree.n_leaves for tree in booster.trees] == [dump.count("leaf=") for dump in theirs.get_dump()]
    for rows in (X_train, X_test):
        np.testing.assert_allclose(booster.predict(rows, output_margin=True),
                                   theirs.predict(xgb.DMatrix(rows), output_margin=True), rtol=0, atol=2e-5)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_intercept_is_xgboost_s(weighted, n_classes):
    """Without base_score, XGBoost 3 starts softmax from the log of each class's (weighted) share
    less their mean; ours too, so one round of depth-1 trees on exact bins predicts the same (two
    classes included: softprob with num_class=2 once had no class sums and failed)."""
    rng = np.random.default_rng(5)
    X = rng.integers(0, 8, size=(3000, 3)).astype(float)
    y = np.minimum((X[:, 0] + rng.integers(0, 3, 3000)) // 3, n_classes - 1).astype(float)  # unequal shares
    weight = rng.uniform(0.2, 3.0, 3000) if weighted else None
    params = {"objective": "multi:softprob", "num_class": n_classes, "max_depth": 1}
    ours = train({**params, "n_jobs": 1}, Dataset(X, y, weight=weight), 1).predict(X, output_margin=True)
    theirs = xgb.train({**params, "tree_method": "hist", "nthread": 1}, xgb.DMatrix(X, y, weight=weight), 1)
    np.testing.assert_allclose(ours, theirs.predict(xgb.DMatrix(X), output_margin=True), rtol=0, atol=2e-5)


def test_scale_pos_weight_is_a_weight_on_positive_rows_like_xgboost():
    """scale_pos_weight = s trains as sample weights of s on the positive rows (on exact bins, where
    the weights cannot move the bin edges) and close to XGBoost's model (whose intercept estimate
    differs slightly under it)."""
    rng = np.random.default_rng(6)
    X = rng.integers(0, 8, size=(4000, 4)).astype(float)
    y = (rng.random(4000) < 0.05 + 0.03 * X[:, 0] + 0.02 * X[:, 1]).astype(float)  # ~20% positive
    params = {"objective": "binary:logistic", "max_depth": 3, "learning_rate": 0.3, "n_jobs": 1}
    scaled = train({**params, "scale_pos_weight": 4.0}, Dataset(X, y), 20).predict(X)
    weighted = train(params, Dataset(X, y, weight=np.where(y == 1, 4.0, 1.0)), 20).predict(X)
    np.testing.assert_allclose(scaled, weighted, rtol=1e-12)
    assert scaled.mean() > train(params, Dataset(X, y), 20).predict(X).mean() + 0.1
    theirs = xgb.train({**params, "scale_pos_weight": 4.0, "tree_method": "hist"}, xgb.DMatrix(X, y), 20)
    np.testing.assert_allclose(scaled, theirs.predict(xgb.DMatrix(X)), atol=0.02)
    with pytest.raises(ValueError, match="scale_pos_weight"):
        train({**params, "objective": "reg:squarederror", "scale_pos_weight": 2.0}, Dataset(X, y), 1)


def fit_both_evaluated(params, X, y, rounds, weight=None):
    """(our booster, our {metric: per-round values}, XGBoost's booster, its {metric: values}),
    both single-threaded and evaluated on the (weighted) training rows with the objective's default
    metric, or ``params``' ``eval_metric``."""
    ours_history, theirs_history = {}, {}
    booster = train({**params, "n_jobs": 1}, Dataset(X, y, weight=weight), rounds,
                    evals=[(Dataset(X, y, weight=weight), "train")], evals_result=ours_history)
    dtrain = xgb.DMatrix(X, y, weight=weight)
    theirs = xgb.train({**params, "tree_method": "hist", "nthread": 1}, dtrain, rounds, evals=[(dtrain, "train")],
                       evals_result=theirs_history, verbose_eval=False)
    return booster, ours_history["train"], theirs, theirs_history["train"]


@pytest.mark.parametrize("objective", ["multi:softmax", "binary:logitraw", "reg:logistic"])
def test_objectives_sharing_a_loss_predict_and_evaluate_like_xgboost(objective):
    """multi:softmax trains as softprob and predicts the class; binary:logitraw trains as logistic
    and predicts the margin; reg:logistic fits labels in [0, 1] through a sigmoid. On exact bins the
    predictions match XGBoost's, and so do the default metric's values, except that logitraw's
    log-loss is of the probabilities (XGBoost takes the raw margins for probabilities there)."""
    rng = np.random.default_rng(8)
    X = rng.integers(0, 8, size=(3000, 3)).astype(float)
    if objective == "multi:softmax":
        y = np.minimum((X[:, 0] + rng.integers(0, 3, 3000)) // 3, 3).astype(float)
        extra = {"num_class": 4}
    elif objective == "reg:logistic":
        y = np.clip(X[:, 0] / 8 + rng.normal(0, 0.1, 3000), 0, 1)
        extra = {}
    else:
        y = (rng.random(3000) < X[:, 0] / 8).astype(float)
        extra = {}
    params = {"objective": objective, "max_depth": 3, "learning_rate": 0.3, **extra}
    booster, ours_history, theirs, theirs_history = fit_both_evaluated(params, X, y, 5)
    np.testing.assert_allclose(booster.predict(X), theirs.predict(xgb.DMatrix(X)), rtol=0, atol=2e-5)
    (metric, values), = theirs_history.items()
    if objective == "binary:logitraw":
        from sklearn.metrics import log_loss

        values = [log_loss(y, 1 / (1 + np.exp(-booster.predict(X, iteration_range=(0, r + 1))))) for r in range(5)]
    np.testing.assert_allclose(ours_history[metric], values, rtol=1e-4)


def test_poisson_counts_like_xgboost():
    """count:poisson (log link, XGBoost's hessian safeguard exp(margin + 0.7), intercept log of the
    mean count): on exact bins the expected counts and poisson-nloglik per round match XGBoost's."""
    rng = np.random.default_rng(9)
    X = rng.integers(0, 8, size=(3000, 3)).astype(float)
    y = rng.poisson(np.exp(0.3 * X[:, 0] - 0.1 * X[:, 1] - 0.5)).astype(float)
    params = {"objective": "count:poisson", "max_depth": 3, "learning_rate": 0.3}
    booster, ours_history, theirs, theirs_history = fit_both_evaluated(params, X, y, 8)
    np.testing.assert_allclose(booster.predict(X), theirs.predict(xgb.DMatrix(X)), rtol=1e-5)
    np.testing.assert_allclose(ours_history["poisson-nloglik"], theirs_history["poisson-nloglik"], rtol=1e-5)
    with pytest.raises(ValueError, match="counts >= 0"):
        train(params, Dataset(X, -y - 1), 1)


def positive_task(seed, n=3000):
    """X (n, 3) on 8 exact bins, a log-linear mean mu (n,) of it, and row weights (n,)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 8, size=(n, 3)).astype(float)
    return rng, X, np.exp(0.3 * X[:, 0] - 0.1 * X[:, 1]), rng.uniform(0.5, 2.0, n)


@pytest.mark.parametrize("objective,extra,metric", [("reg:gamma", {}, "gamma-deviance"),
                                                    ("reg:tweedie", {}, "tweedie-nloglik@1.5"),
                                                    ("reg:tweedie", {"tweedie_variance_power": 1.2},
                                                     "tweedie-nloglik@1.2")])
def test_gamma_and_tweedie_like_xgboost(objective, extra, metric, tmp_path):
    """reg:gamma (labels > 0) and reg:tweedie (labels >= 0, zeros included) with log link and the
    weighted label mean as intercept: on exact bins, with row weights, the expected values and the
    default metric per round (named after the variance power for tweedie) match XGBoost's; the
    saved model predicts the same."""
    rng, X, mu, w = positive_task(11)
    if objective == "reg:gamma":
        y = rng.gamma(2.0, mu / 2.0)
    else:
        y = rng.poisson(mu) * rng.gamma(2.0, 0.5, mu.shape[0])
        assert (y == 0).mean() > 0.1
    params = {"objective": objective, "max_depth": 3, "learning_rate": 0.3, **extra}
    booster, ours_history, theirs, theirs_history = fit_both_evaluated(params, X, y, 8, weight=w)
    assert list(ours_history) == list(theirs_history) == [metric]
    np.testing.assert_allclose(booster.predict(X), theirs.predict(xgb.DMatrix(X)), rtol=1e-5)
    np.testing.assert_allclose(ours_history[metric], theirs_history[metric], rtol=1e-5)
    booster.save_model(tmp_path / "model.json")
    np.testing.assert_array_equal(Booster.load_model(tmp_path / "model.json").predict(X), booster.predict(X))
    low = {"reg:gamma": "> 0", "reg:tweedie": ">= 0"}[objective]
    with pytest.raises(ValueError, match=f"labels must be {low} for {objective}"):
        train(params, Dataset(X, y - 100.0), 1)
    if objective == "reg:gamma":
        with pytest.raises(ValueError, match="labels must be > 0"):
            train(params, Dataset(X, np.r_[0.0, y[1:]]), 1)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("objective,alpha", [("reg:absoluteerror", None), ("reg:quantileerror", 0.9),
                                             ("reg:quantileerror", 0.2), ("reg:quantileerror", [0.1, 0.5, 0.9])])
def test_absolute_and_quantile_error_like_xgboost(objective, alpha, weighted):
    """reg:absoluteerror and reg:quantileerror grow trees on sign-like gradients, then set every
    leaf to the (weighted) alpha-quantile of its rows' residuals times the learning rate, from the
    label quantile as intercept (XGBoost's adaptive leaves); several quantiles give one output (and
    one tree per round) each. On exact bins with heteroscedastic noise, predictions and the default
    metric per round (mae; pinball loss averaged over the quantiles, ours named quantile@<alphas>)
    match XGBoost's."""
    rng, X, _, w = positive_task(13)
    y = X[:, 0] + rng.standard_normal(X.shape[0]) * (1 + X[:, 1])
    params = {"objective": objective, "max_depth": 3, "learning_rate": 0.3,
              **({} if alpha is None else {"quantile_alpha": alpha})}
    booster, ours_history, theirs, theirs_history = fit_both_evaluated(params, X, y, 8, weight=w if weighted else None)
    np.testing.assert_allclose(booster.predict(X), theirs.predict(xgb.DMatrix(X)), rtol=1e-5, atol=1e-5)
    if isinstance(alpha, list):
        assert booster.predict(X).shape == (X.shape[0], len(alpha)) and booster.num_class == len(alpha)
    named = None if alpha is None else "quantile@" + ",".join(str(a) for a in np.atleast_1d(alpha))
    ours_metric, theirs_metric = ("mae", "mae") if alpha is None else (named, "quantile")
    assert list(ours_history) == [ours_metric] and list(theirs_history) == [theirs_metric]
    np.testing.assert_allclose(ours_history[ours_metric], theirs_history[theirs_metric], rtol=1e-5)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("objective", ["reg:squaredlogerror", "binary:hinge"])
def test_squared_log_error_and_hinge_like_xgboost(objective, weighted):
    """reg:squaredlogerror (labels > -1, intercept one Newton step from 0, metric rmsle) and
    binary:hinge (labels 0/1, intercept the class that step predicts, 0 or 1, as XGBoost stores
    it; predicts the class, metric error): margins and the default metric per round match
    XGBoost's, for hinge with both intercepts."""
    rng, X, mu, w = positive_task(15)
    if objective == "reg:squaredlogerror":
        y = mu * np.exp(0.2 * rng.standard_normal(mu.shape[0])) - 0.5
    else:  # weighted, the positives weigh less than the negatives: the intercept is 0, else 1
        y = (X[:, 0] + rng.standard_normal(X.shape[0]) > 3.5).astype(float)
        w = np.where(y > 0, 0.5, 1.5)
    params = {"objective": objective, "max_depth": 3, "learning_rate": 0.3}
    booster, ours_history, theirs, theirs_history = fit_both_evaluated(params, X, y, 8, weight=w if weighted else None)
    if objective == "binary:hinge":
        assert booster.base_margin[0] == (0.0 if weighted else 1.0)
    np.testing.assert_allclose(booster.predict(X, output_margin=True),
                               theirs.predict(xgb.DMatrix(X), output_margin=True), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(booster.predict(X) if objective == "binary:hinge" else 0,
                                  theirs.predict(xgb.DMatrix(X)) if objective == "binary:hinge" else 0)
    metric = {"reg:squaredlogerror": "rmsle", "binary:hinge": "error"}[objective]
    assert list(ours_history) == list(theirs_history) == [metric]
    np.testing.assert_allclose(ours_history[metric], theirs_history[metric], rtol=1e-5, atol=1e-7)
    bad = {"reg:squaredlogerror": (y - 10.0, "labels must be > -1"), "binary:hinge": (y * 2, "labels must be 0 or 1")}
    with pytest.raises(ValueError, match=bad[objective][1]):
        train(params, Dataset(X, bad[objective][0]), 1)


@pytest.mark.parametrize("weighted", [False, True])
def test_cox_survival_like_xgboost(weighted):
    """survival:cox (|label| the time, negative labels censored; Breslow's ties; predicts hazard
    ratios; intercept one Newton step from 0): with many tied times, margins and cox-nloglik per
    round match XGBoost's."""
    rng, X, mu, w = positive_task(16)
    time = np.round(rng.exponential(1 / mu) * 20) / 20 + 0.05  # on a grid: most times are tied
    y = np.where(rng.random(X.shape[0]) < 0.7, time, -time)
    params = {"objective": "survival:cox", "max_depth": 3, "learning_rate": 0.3}
    booster, ours_history, theirs, theirs_history = fit_both_evaluated(params, X, y, 8, weight=w if weighted else None)
    np.testing.assert_allclose(booster.predict(X, output_margin=True),
                               theirs.predict(xgb.DMatrix(X), output_margin=True), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(booster.predict(X), theirs.predict(xgb.DMatrix(X)), rtol=1e-5)
    assert list(ours_history) == list(theirs_history) == ["cox-nloglik"]
    np.testing.assert_allclose(ours_history["cox-nloglik"], theirs_history["cox-nloglik"], rtol=1e-6)


@pytest.mark.parametrize("slope", [1.0, 0.5])
def test_pseudo_huber_like_xgboost(slope):
    """reg:pseudohubererror: quadratic within huber_slope of the label, linear beyond, its intercept
    one Newton step from margin 0: with outliers and row weights, predictions and mphe per round
    (ours named mphe@<slope>) match XGBoost's, to 1e-4: outliers have hessians 1 / s^3 of 1e-4 and
    less, which XGBoost computes in float32 and we in float64 before storing them as float32."""
    rng, X, _, w = positive_task(14)
    y = X[:, 0] + rng.standard_t(2.0, X.shape[0])  # heavy tails
    params = {"objective": "reg:pseudohubererror", "huber_slope": slope, "max_depth": 3, "learning_rate": 0.3}
    booster, ours_history, theirs, theirs_history = fit_both_evaluated(params, X, y, 8, weight=w)
    np.testing.assert_allclose(booster.predict(X), theirs.predict(xgb.DMatrix(X)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours_history[f"mphe@{slope:g}"], theirs_history["mphe"], rtol=1e-5)


@pytest.mark.parametrize("metric", ["mae", "gamma-deviance", "gamma-nloglik", "tweedie-nloglik@1.5",
                                    "tweedie-nloglik@1.8"])
def test_regression_metrics_like_xgboost(metric):
    """Weighted metrics of positive targets, per round, against XGBoost's on the same model."""
    rng, X, mu, w = positive_task(12)
    params = {"objective": "reg:gamma", "max_depth": 3, "learning_rate": 0.3, "eval_metric": metric}
    _, ours_history, _, theirs_history = fit_both_evaluated(params, X, rng.gamma(2.0, mu / 2.0), 4, weight=w)
    np.testing.assert_allclose(ours_history[metric], theirs_history[metric], rtol=1e-5)


@pytest.mark.parametrize("objective,max_delta_step", [("binary:logistic", 0.3), ("count:poisson", 0.3)])
def test_max_delta_step_clips_weights_like_xgboost(objective, max_delta_step):
    """max_delta_step clips every tree weight to +-max_delta_step, with gains of the clipped
    weights (and for count:poisson also inflates the hessian): on exact bins XGBoost's model."""
    rng = np.random.default_rng(10)
    X = rng.integers(0, 8, size=(3000, 3)).astype(float)
    if objective == "count:poisson":
        y = rng.poisson(np.exp(0.4 * X[:, 0] - 1.0)).astype(float)
    else:
        y = (rng.random(3000) < 0.02 + 0.1 * (X[:, 0] > 5)).astype(float)  # rare positives: large raw weights
    params = {"objective": objective, "max_depth": 3, "learning_rate": 1.0, "max_delta_step": max_delta_step}
    booster = train({**params, "n_jobs": 1}, Dataset(X, y), 6)
    theirs = xgb.train({**params, "tree_method": "hist", "nthread": 1}, xgb.DMatrix(X, y), 6)
    assert max(np.abs(tree.value).max() for tree in booster.trees) <= max_delta_step + 1e-12
    np.testing.assert_allclose(booster.predict(X, output_margin=True),
                               theirs.predict(xgb.DMatrix(X), output_margin=True), rtol=1e-5, atol=1e-5)
