"""Export to LightGBM's text model: LightGBM predicts what we predict (to the last bit on the
margin) for the objectives it has, with NaN, categorical splits (codes and pandas categories),
rows on the thresholds and feature names; the objectives it does not have are refused."""
import lightgbm as lgb
import numpy as np
import pytest

from bindings import Booster, Dataset, train
from bindings.export_lightgbm import LIGHTGBM_OBJECTIVES
from tests.bindings.export_testing import NAMES, OBJECTIVES, codes, fit, frame_of, threshold_rows
from gbdt.tree import Tree

EXPORTED = [o for o in OBJECTIVES if o in LIGHTGBM_OBJECTIVES]
REFUSED = [o for o in OBJECTIVES if o not in LIGHTGBM_OBJECTIVES]


@pytest.mark.parametrize("objective", EXPORTED)
def test_lightgbm_predicts_what_we_predict(objective, tmp_path):
    booster, frame = fit(objective, categorical=True)
    X = np.vstack([codes(frame), threshold_rows(booster, codes(frame))])
    booster.save_model(tmp_path / "model.txt", format="lightgbm")
    theirs = lgb.Booster(model_file=str(tmp_path / "model.txt"))
    ours = frame_of(X)
    np.testing.assert_array_equal(theirs.predict(X, raw_score=True), booster.predict(ours, output_margin=True))
    np.testing.assert_allclose(theirs.predict(X), booster.predict(ours), rtol=1e-15, atol=1e-15)
    # pandas category columns are re-coded by value through the category lists in the file
    np.testing.assert_allclose(theirs.predict(ours), booster.predict(ours), rtol=1e-15, atol=1e-15)
    assert theirs.feature_name() == NAMES and theirs.num_trees() == booster.num_trees()
    assert {bool(t.default_left[j]) for t in booster.trees for j in np.flatnonzero(t.is_categorical)} == {True, False}


@pytest.mark.parametrize("objective", REFUSED)
def test_objectives_lightgbm_lacks_are_refused(objective, tmp_path):
    booster, _ = fit(objective)
    match = "fits 3 quantiles" if objective == "multi-quantile" else f"LightGBM has no objective .*{objective}"
    with pytest.raises(ValueError, match=match):
        booster.save_model(tmp_path / "model.txt", format="lightgbm")
    assert not (tmp_path / "model.txt").exists()


def test_minus_infinity_thresholds_and_single_leaf_trees(tmp_path):
    """A split that sends only NaN (and -inf) left, a threshold that is a float32 value, and a
    tree without splits, on a hand-built model."""
    booster = Booster("reg:squarederror", 1, 2, [0.25], feature_names=["x", "z"])
    booster.append_round([Tree.from_lists(
        feature=[0, -1, 1, -1, -1], threshold=[-np.inf, 0, 1.5, 0, 0], bin_threshold=[-1] * 5,
        default_left=[True, False, False, False, False], left=[1, -1, 3, -1, -1], right=[2, -1, 4, -1, -1],
        value=[0, 1.0, 0, 2.0, 3.0], gain=[1, 0, 1, 0, 0], cover=[3, 1, 2, 1, 1])])
    booster.append_round([Tree.from_lists(feature=[-1], threshold=[0], bin_threshold=[-1], default_left=[True],
                                          left=[-1], right=[-1], value=[0.5], gain=[0], cover=[3])])
    X = np.array([[np.nan, 0], [-np.inf, 0], [0, 1.5], [0, np.nextafter(1.5, 2)], [0, np.nan], [5, 1]])
    booster.save_model(tmp_path / "model.txt", format="lightgbm")
    theirs = lgb.Booster(model_file=str(tmp_path / "model.txt"))
    np.testing.assert_array_equal(theirs.predict(X), booster.predict(X))
    np.testing.assert_array_equal(booster.predict(X), [1.75, 1.75, 2.75, 3.75, 3.75, 2.75])


def test_feature_names_with_spaces_are_refused(tmp_path):
    booster, _ = fit("reg:squarederror")
    booster.feature_names = ["a b", "c", "d", "e"]
    with pytest.raises(ValueError, match="separates feature names by spaces"):
        booster.save_model(tmp_path / "model.txt", format="lightgbm")


def test_custom_objective_exports_its_margin(tmp_path):
    """Written without an objective, as LightGBM writes its own custom-objective models: it predicts the margin."""
    _, frame = fit("reg:squarederror")
    squared = lambda margin, label: (margin - label, np.ones_like(margin))
    booster = train({"max_depth": 2, "n_jobs": 1}, Dataset(frame, np.nan_to_num(frame["a"].to_numpy())), 3,
                    obj=squared)
    booster.save_model(tmp_path / "model.txt", format="lightgbm")
    X = codes(frame)
    np.testing.assert_array_equal(lgb.Booster(model_file=str(tmp_path / "model.txt")).predict(X), booster.predict(X))
