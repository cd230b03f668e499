"""Export to XGBoost's JSON model: XGBoost (and treelite, from the same file) predict what we
predict for every objective, with NaN, categorical splits, rows sitting on the thresholds,
feature names, several outputs and the base score; and the bad inputs every export refuses."""
import json

import numpy as np
import pytest
import treelite
import xgboost as xgb

from bindings import Booster, Dataset, train
from bindings.xgboost_model import from_xgboost
from tests.bindings.export_testing import NAMES, OBJECTIVES, codes, fit, frame_of, threshold_rows

FEATURE_TYPES = ["float"] * 4 + ["c"]


def exported_inputs(booster, frame):
    """Codes matrix of the training rows plus rows on every threshold, and its DMatrix."""
    X = np.vstack([codes(frame), threshold_rows(booster, codes(frame))])
    return X, xgb.DMatrix(X, feature_names=NAMES, feature_types=FEATURE_TYPES, enable_categorical=True)


def assert_margins_close(theirs, ours):
    """XGBoost adds float32 leaves in float32: margins agree to 1e-6 of their scale."""
    np.testing.assert_allclose(theirs, ours, rtol=1e-6, atol=1e-6 * np.abs(ours).max())


@pytest.mark.parametrize("objective", [o for o in OBJECTIVES if o != "rank_xendcg"])
def test_xgboost_predicts_what_we_predict(objective, tmp_path):
    booster, frame = fit(objective, categorical=True)
    X, dmat = exported_inputs(booster, frame)
    category_sets_send_nan_both_ways = {bool(t.default_left[j]) for t in booster.trees
                                        for j in np.flatnonzero(t.is_categorical)}
    booster.save_model(tmp_path / "model.json", format="xgboost")
    theirs = xgb.Booster(model_file=str(tmp_path / "model.json"))
    ours_frame = frame_of(X)
    assert_margins_close(theirs.predict(dmat, output_margin=True), booster.predict(ours_frame, output_margin=True))
    expected = booster.predict(ours_frame)
    np.testing.assert_allclose(theirs.predict(dmat), expected, rtol=2e-6, atol=1e-6 * np.abs(expected).max())
    assert theirs.feature_names == NAMES and theirs.feature_types == FEATURE_TYPES
    assert theirs.num_boosted_rounds() == booster.num_boosted_rounds()
    if objective in ("rank:ndcg", "lambdarank"):  # LambdaMART on NDCG, named as XGBoost names it
        assert json.loads(theirs.save_config())["learner"]["objective"]["name"] == "rank:ndcg"
    if objective not in ("survival:cox",):  # Cox's splits never took the NaN-left side on this data
        assert category_sets_send_nan_both_ways == {True, False}


def test_loss_parameters_and_base_score_are_xgboosts():
    """The objective's parameters travel (XGBoost's config shows them) and the base score is
    stored as XGBoost's: a probability for binary:logistic, margins for several outputs."""
    config = lambda b: json.loads(b.to_xgboost().save_config())["learner"]
    quantiles, _ = fit("multi-quantile")
    assert json.loads(config(quantiles)["objective"]["quantile_loss_param"]["quantile_alpha"]) == [0.2, 0.5, 0.9]
    tweedie, _ = fit("reg:tweedie")
    assert float(config(tweedie)["objective"]["tweedie_regression_param"]["tweedie_variance_power"]) == pytest.approx(1.3, rel=1e-7)
    huber, _ = fit("reg:pseudohubererror")
    assert float(config(huber)["objective"]["pseudo_huber_param"]["huber_slope"]) == pytest.approx(2.0, rel=1e-7)
    logistic, frame = fit("binary:logistic")
    base = json.loads(config(logistic)["learner_model_param"]["base_score"])
    assert base == pytest.approx([1 / (1 + np.exp(-logistic.base_margin[0]))], rel=1e-7)
    softprob, _ = fit("multi:softprob")
    base = json.loads(config(softprob)["learner_model_param"]["base_score"])
    assert base == pytest.approx(softprob.base_margin.tolist(), rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("objective", ["binary:logistic", "count:poisson"])
@pytest.mark.parametrize("base", [-13.8, 9.0, 13.8])
def test_extreme_base_scores_keep_their_margin(objective, base, tmp_path):
    """A probability of 1 - 1e-6 in float32 is 0.05 off in margin, and XGBoost (float32) and
    treelite (float64) read it back differently: both still predict our margins."""
    booster, frame = fit(objective)
    booster.base_margin[:] = base
    X = codes(frame)
    ours = booster.predict(X, output_margin=True)
    booster.save_model(tmp_path / "model.json", format="xgboost")
    theirs = xgb.Booster(model_file=str(tmp_path / "model.json"))
    assert_margins_close(theirs.predict(xgb.DMatrix(X, feature_names=NAMES[:4]), output_margin=True), ours)
    model = treelite.frontend.load_xgboost_model(tmp_path / "model.json")
    assert_margins_close(treelite.gtil.predict(model, X.astype(np.float32), pred_margin=True).reshape(-1), ours)


def test_numeric_model_round_trips_through_xgboost():
    """from_xgboost(to_xgboost(model)) predicts as the model does (float32 thresholds and leaves)."""
    booster, frame = fit("reg:squarederror")
    X = np.vstack([codes(frame), threshold_rows(booster, codes(frame))])
    back = from_xgboost(booster.to_xgboost())
    assert back.feature_names == NAMES[:4]
    assert_margins_close(back.predict(X), booster.predict(X))


def test_custom_objective_exports_its_margin():
    """XGBoost saves a model trained with a custom objective as reg:squarederror; so do we."""
    _, frame = fit("reg:squarederror")
    y = np.nan_to_num(frame["a"].to_numpy())
    squared = lambda margin, label: (margin - label, np.ones_like(margin))
    booster = train({"max_depth": 2, "n_jobs": 1}, Dataset(frame, y), 3, obj=squared)
    theirs = booster.to_xgboost()
    assert json.loads(theirs.save_config())["learner"]["objective"]["name"] == "reg:squarederror"
    X = codes(frame)
    assert_margins_close(theirs.predict(xgb.DMatrix(X, feature_names=NAMES[:4])), booster.predict(X))


def test_early_stopped_model_exports_its_best_rounds():
    booster, frame = fit("reg:squarederror", rounds=6)
    booster.best_iteration = 2  # as early stopping leaves it
    theirs = booster.to_xgboost()
    assert theirs.num_boosted_rounds() == 3
    X = codes(frame)
    assert_margins_close(theirs.predict(xgb.DMatrix(X, feature_names=NAMES[:4])), booster.predict(X))


@pytest.mark.parametrize("objective", ["binary:logistic", "multi:softprob", "multi-quantile"])
def test_treelite_loads_the_export_and_predicts_the_same(objective, tmp_path):
    booster, frame = fit(objective, categorical=True)
    X = np.vstack([codes(frame), threshold_rows(booster, codes(frame))])
    booster.save_model(tmp_path / "model.json", format="xgboost")
    model = treelite.frontend.load_xgboost_model(tmp_path / "model.json")
    margin = treelite.gtil.predict(model, X.astype(np.float32), pred_margin=True)
    ours = booster.predict(frame_of(X), output_margin=True)
    assert_margins_close(margin.reshape(ours.shape), ours)
    proba = treelite.gtil.predict(model, X.astype(np.float32))
    expected = booster.predict(frame_of(X))
    np.testing.assert_allclose(proba.reshape(expected.shape), expected, rtol=1e-6, atol=1e-6)


def test_bad_exports_are_refused_clearly(tmp_path):
    booster, _ = fit("reg:squarederror")
    with pytest.raises(ValueError, match=r"format must be one of \('json', 'xgboost', 'lightgbm'\), got 'xgbost'; "
                                         r"did you mean 'xgboost'\?"):
        booster.save_model(tmp_path / "m.json", format="xgbost")
    with pytest.raises(ValueError, match="folder .*missing.* does not exist"):
        booster.save_model(tmp_path / "missing" / "m.json", format="xgboost")
    untrained = train({"n_jobs": 1}, Dataset(np.eye(3), [0.0, 1.0, 2.0]), 0)
    for format in ("xgboost", "lightgbm"):
        with pytest.raises(ValueError, match="untrained booster .* has no trees"):
            untrained.save_model(tmp_path / "m", format=format)
    ranking, _ = fit("rank_xendcg")
    with pytest.raises(ValueError, match="XGBoost has no objective like rank_xendcg"):
        ranking.save_model(tmp_path / "m.json", format="xgboost")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_loss_parameters_survive_our_own_json(tmp_path):
    """A saved and reloaded model still exports its quantiles; one loaded from XGBoost (which
    does not record them here) is refused rather than written with made-up quantiles."""
    booster, frame = fit("reg:quantileerror")
    booster.save_model(tmp_path / "m.json")
    loaded = Booster.load_model(tmp_path / "m.json")
    assert loaded.loss_params == booster.loss_params and loaded.loss_params.quantile_alpha == (0.8,)
    loaded.loss_params = None
    with pytest.raises(ValueError, match="does not record its quantile_alpha"):
        loaded.to_xgboost()
