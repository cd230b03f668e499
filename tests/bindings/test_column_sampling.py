"""Column sampling per tree, per depth and per node (XGBoost's colsample_bytree/bylevel/bynode)."""
import numpy as np
import pytest

from benchmarks.synthetic import binary_task
from bindings import Dataset, train

X, y = binary_task(6000, 8, seed=7)
PARAMS = {"objective": "binary:logistic", "max_depth": 4, "n_jobs": 2}


def split_features_by_depth(tree):
    """{depth: [features of the splits at that depth]} of one tree."""
    out, frontier, depth = {}, [0], 0
    while frontier:
        splits = [j for j in frontier if tree.feature[j] >= 0]
        if splits:
            out[depth] = [int(tree.feature[j]) for j in splits]
        frontier = [c for j in splits for c in (tree.left[j], tree.right[j])]
        depth += 1
    return out


def test_bylevel_gives_every_node_of_a_depth_the_same_features():
    """One feature per depth (1/8 of 8): every split of a depth is on the same feature, and
    depths (and trees) draw different ones."""
    booster = train({**PARAMS, "colsample_bylevel": 1 / 8}, Dataset(X, y), 10)
    drawn = set()
    for tree in booster.trees:
        for depth, features in split_features_by_depth(tree).items():
            assert len(set(features)) == 1, (depth, features)
            drawn.add(features[0])
    assert len(drawn) >= 4


def test_bynode_draws_each_node_its_own_features():
    """One feature per node (1/8): nodes of one depth split on different features; the sample
    changes the model, and a fit is reproducible (each tree has its own generator)."""
    params = {**PARAMS, "colsample_bynode": 1 / 8}
    booster = train(params, Dataset(X, y), 10)
    mixed = [len(set(f)) > 1 for tree in booster.trees for f in split_features_by_depth(tree).values()]
    assert sum(mixed) >= 5
    np.testing.assert_array_equal(booster.predict(X), train(params, Dataset(X, y), 10).predict(X))
    assert not np.array_equal(booster.predict(X), train(PARAMS, Dataset(X, y), 10).predict(X))


@pytest.mark.parametrize("fraction", [0.5, 0.25])
def test_node_samples_nest_in_level_samples(fraction):
    """bynode draws from the depth's sample: with bylevel and bynode both at 1/2 of 8 features, a
    depth's splits use at most 4 distinct features; the model still learns (AUC well above 0.5)."""
    from sklearn.metrics import roc_auc_score

    booster = train({**PARAMS, "colsample_bylevel": 0.5, "colsample_bynode": fraction}, Dataset(X, y), 20)
    for tree in booster.trees:
        for features in split_features_by_depth(tree).values():
            assert len(set(features)) <= 4
    assert roc_auc_score(y, booster.predict(X)) > 0.75


def test_lightgbm_alias_and_bad_values():
    train({**PARAMS, "feature_fraction_bynode": 0.5}, Dataset(X[:500], y[:500]), 2)
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="colsample_bylevel"):
            train({**PARAMS, "colsample_bylevel": bad}, Dataset(X[:500], y[:500]), 1)
