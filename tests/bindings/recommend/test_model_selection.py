"""cross_validate and GridSearchCV against Surprise's on the very same folds, and the nesting
that keeps every outer test fold out of the tuning."""
import numpy as np
import pandas as pd
import pytest
from surprise import BaselineOnly, Dataset, KNNBasic, Reader
from surprise.model_selection import GridSearchCV as SurpriseGridSearchCV
from surprise.model_selection import cross_validate as surprise_cross_validate

from bindings.cv import make_folds
from bindings.recommend import (BaselinePredictor, GridSearchCV, ImplicitALS, Interactions, KNNRecommender,
                                MatrixFactorization, cross_validate, rmse)

SCALE = (1.0, 5.0)


@pytest.fixture(scope="module")
def ratings():
    """Low-rank ratings on 1..5: 60 users x 40 items, ~35% observed."""
    rng = np.random.default_rng(4)
    users, items = np.nonzero(rng.random((60, 40)) < 0.35)
    p, q = rng.normal(size=(60, 2)), rng.normal(size=(40, 2))
    signal = 3.0 + np.sum(p[users] * q[items], axis=1) + rng.normal(0, 0.4, users.size)
    return Interactions.from_table(users, items, np.clip(np.round(signal), 1, 5))


class SameFolds:
    """A Surprise CV iterator yielding our folds (entry positions in to_table order)."""

    def __init__(self, folds):
        self.folds = folds
        self.n_splits = len(folds)

    def get_n_folds(self):
        return self.n_splits

    def split(self, data):
        for train, test in self.folds:
            yield (data.construct_trainset([data.raw_ratings[k] for k in train]),
                   data.construct_testset([data.raw_ratings[k] for k in test]))


def surprise_data(x):
    """The same table, in to_table order, so entry k is raw rating k."""
    users, items, values = x.to_table()
    frame = pd.DataFrame({"u": users, "i": items, "r": values})
    return Dataset.load_from_df(frame, Reader(rating_scale=SCALE))


@pytest.mark.parametrize("ours, theirs", [
    (BaselinePredictor(rating_scale=SCALE), BaselineOnly(verbose=False)),
    (KNNRecommender(k=8, similarity="pearson", rating_scale=SCALE),
     KNNBasic(k=8, sim_options={"name": "pearson"}, verbose=False)),
])
def test_cross_validate_equals_surprises_on_the_same_folds(ratings, ours, theirs):
    folds = make_folds(ratings.nnz, 4, seed=0)
    got = cross_validate(ours, ratings, measures=("rmse", "mae"), cv=folds,
                         return_train_measures=True)
    expected = surprise_cross_validate(theirs, surprise_data(ratings), measures=["rmse", "mae"],
                                       cv=SameFolds(folds), return_train_measures=True)
    for key in ("test_rmse", "test_mae", "train_rmse", "train_mae"):
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-10)
    assert got["fit_time"].shape == got["test_time"].shape == (4,)
    # an int cv is make_folds with the given random_state as its seed
    again = cross_validate(ours, ratings, measures="rmse", cv=4, random_state=0)
    np.testing.assert_array_equal(again["test_rmse"], got["test_rmse"])


def test_grid_search_equals_surprises_and_refits_the_best_point(ratings):
    folds = make_folds(ratings.nnz, 3, seed=1)
    search = GridSearchCV(BaselinePredictor(rating_scale=SCALE),
                          {"reg_user": [2.0, 15.0], "reg_item": [1.0, 10.0, 30.0]}, cv=folds)
    search.fit(ratings)
    theirs = SurpriseGridSearchCV(BaselineOnly, {"bsl_options": {
        "method": ["als"], "reg_u": [2.0, 15.0], "reg_i": [1.0, 10.0, 30.0]}},
        measures=["rmse"], cv=SameFolds(folds))
    theirs.fit(surprise_data(ratings))
    expected = {(p["bsl_options"]["reg_u"], p["bsl_options"]["reg_i"]): score for p, score in
                zip(theirs.cv_results["params"], theirs.cv_results["mean_test_rmse"])}
    for point, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_rmse"]):
        assert score == pytest.approx(expected[point["reg_user"], point["reg_item"]], rel=1e-10)
    assert search.best_score_ == pytest.approx(theirs.best_score["rmse"], rel=1e-10)
    best = theirs.best_params["rmse"]["bsl_options"]
    assert search.best_params_ == {"reg_user": best["reg_u"], "reg_item": best["reg_i"]}
    assert search.cv_results_["rank_test_rmse"][search.best_index_] == 1
    refit = BaselinePredictor(rating_scale=SCALE, **search.best_params_).fit(ratings)
    users, items, _ = ratings.to_table()
    np.testing.assert_array_equal(search.predict(users, items), refit.predict(users, items))


class Spy(BaselinePredictor):
    """A baseline that records the (user, item) pairs of every fit."""

    fits = []

    def fit(self, interactions):
        users, items, _ = interactions.to_table()
        Spy.fits.append(set(zip(users.tolist(), items.tolist())))
        return super().fit(interactions)


def test_nested_cross_validation_never_tunes_on_the_outer_test_fold(ratings):
    Spy.fits.clear()
    users, items, values = ratings.to_table()
    outer = make_folds(ratings.nnz, 3, seed=2)
    search = GridSearchCV(Spy(), {"reg_user": [1.0, 10.0], "reg_item": [1.0, 10.0]}, cv=2,
                          random_state=3)
    result = cross_validate(search, ratings, measures=("rmse",), cv=outer, return_models=True)
    per_fold = 4 * 2 + 1  # every grid point on 2 inner folds, then the refit
    assert len(Spy.fits) == 3 * per_fold
    for f, (train, test) in enumerate(outer):
        test_pairs = set(zip(users[test].tolist(), items[test].tolist()))
        train_pairs = set(zip(users[train].tolist(), items[train].tolist()))
        fits = Spy.fits[f * per_fold:(f + 1) * per_fold]
        assert all(fit <= train_pairs and fit.isdisjoint(test_pairs) for fit in fits)
        assert all(len(fit) < len(train_pairs) for fit in fits[:-1])  # inner training folds
        assert fits[-1] == train_pairs  # the refit sees the whole outer training fold
        # the outer score is the refit best point's on the outer test fold
        chosen = result["models"][f].best_params_
        model = BaselinePredictor(**chosen).fit(ratings.subset(train))
        assert result["test_rmse"][f] == pytest.approx(
            rmse(values[test], model.predict(users[test], items[test])), rel=1e-12)


def test_ranking_measures_pick_the_highest_mean():
    rng = np.random.default_rng(0)
    group_u, group_i = rng.integers(0, 4, 150), rng.integers(0, 4, 60)
    users, items = np.nonzero(rng.random((150, 60)) < np.where(group_u[:, None] == group_i,
                                                                 0.4, 0.03))
    x = Interactions.from_table(users, items)
    search = GridSearchCV(ImplicitALS(n_iterations=3, random_state=0, n_jobs=1),
                          {"n_factors": [1, 8], "reg": [0.1]}, measure="precision", cv=3, k=5,
                          random_state=0).fit(x)
    means = search.cv_results_["mean_test_precision"]
    assert search.best_index_ == int(np.argmax(means)) and means.max() > means.min()
    assert search.recommend(x.users.ids[:2], 5)[0].shape == (2, 5)


@pytest.mark.parametrize("call, error, match", [
    (lambda x: cross_validate(BaselinePredictor(), x, measures=("auc",)), ValueError,
     "measures must be names in"),
    (lambda x: cross_validate(BaselinePredictor(), x, cv=1), ValueError, "cv must be an integer >= 2"),
    (lambda x: cross_validate(BaselinePredictor(), x, cv=[(np.arange(3), np.array([10**6]))]),
     ValueError, "entry positions"),
    (lambda x: cross_validate(BaselinePredictor(), x, measures=("ndcg",)), TypeError,
     "has no recommend"),
    (lambda x: GridSearchCV(MatrixFactorization(), {"n_factor": [2]}), ValueError,
     "has no parameter 'n_factor'"),
    (lambda x: GridSearchCV(MatrixFactorization(), {"n_factors": []}), ValueError,
     "non-empty list"),
    (lambda x: GridSearchCV(MatrixFactorization(), {"n_factors": [2]}).predict([1], [2]),
     RuntimeError, "not fitted"),
    (lambda x: cross_validate(BaselinePredictor(), x.to_scipy()), TypeError, "Interactions"),
])
def test_bad_calls_raise(ratings, call, error, match):
    with pytest.raises(error, match=match):
        call(ratings)
