"""MovieLens (latest-small, GroupLens licence: research use only, see its README.txt): the
Surprise and ``implicit`` comparisons on real ratings, on a subset so the suite stays fast.

The data ships inside the package (bindings/recommend/data); every other recommender test runs on
synthetic tables.
"""
import numpy as np
import pandas as pd
import pytest
from implicit.cpu.als import AlternatingLeastSquares
from surprise import SVD, BaselineOnly, Dataset, KNNBaseline, KNNWithMeans, Reader

from bindings.cv import make_folds
from bindings.recommend import KNNBaseline as OurKNNBaseline
from bindings.recommend import (BaselinePredictor, FactorRanker, ImplicitALS, Interactions, KNNRecommender,
                                MatrixFactorization, evaluate_ranking, leave_last_out, load_movielens_genres,
                                load_movielens_ratings, rmse)

SCALE = (0.5, 5.0)


pytestmark = pytest.mark.usefixtures("single_threaded_blas")  # conftest.py


@pytest.fixture(scope="module")
def ratings():
    users, movies, values, times = load_movielens_ratings()
    keep = users <= 100  # 15k ratings of 100 users on 4k movies
    return users[keep], movies[keep], values[keep], times[keep]


def test_loaders_read_the_whole_data_set():
    users, movies, values, times = load_movielens_ratings()
    assert users.size == 100836 and np.unique(users).size == 610
    assert set(np.unique(values)) <= set(np.arange(0.5, 5.01, 0.5))
    movie_ids, names, genres = load_movielens_genres()
    assert genres.shape == (movie_ids.size, names.size) and "Comedy" in names
    assert np.isin(np.unique(movies), movie_ids).all()


def test_explicit_models_match_or_beat_surprise_on_identical_folds(ratings):
    users, movies, values, _ = ratings
    names = ("baseline", "knn", "knn_baseline", "svd")
    scores = {name: [] for base in names for name in (base, base + "_surprise")}
    for seed, (train, test) in enumerate(make_folds(values.size, 5, seed=0)):
        x = Interactions.from_table(users[train], movies[train], values[train])
        frame = pd.DataFrame({"u": users[train], "i": movies[train], "r": values[train]})
        trainset = Dataset.load_from_df(frame.sort_values(["u", "i"]),
                                        Reader(rating_scale=SCALE)).build_full_trainset()
        pairs = list(zip(users[test], movies[test]))
        for name, ours, theirs in [
            ("baseline", BaselinePredictor(rating_scale=SCALE), BaselineOnly(verbose=False)),
            ("knn", KNNRecommender(similarity="pearson_baseline", centered=True, k=40,
                                   rating_scale=SCALE),
             KNNWithMeans(k=40, verbose=False, sim_options={"name": "pearson_baseline"})),
            ("knn_baseline", OurKNNBaseline(similarity="pearson_baseline", rating_scale=SCALE),
             KNNBaseline(verbose=False, sim_options={"name": "pearson_baseline"})),
            ("svd", MatrixFactorization(random_state=seed, rating_scale=SCALE, n_jobs=1),
             SVD(random_state=seed)),
        ]:
            scores[name].append(rmse(values[test], ours.fit(x).predict(users[test],
                                                                     movies[test])))
            theirs.fit(trainset)
            scores[name + "_surprise"].append(
                rmse(values[test], [theirs.predict(u, i).est for u, i in pairs]))
    mean = {name: np.mean(v) for name, v in scores.items()}
    assert mean["baseline"] == pytest.approx(mean["baseline_surprise"], rel=1e-10)
    assert mean["knn"] == pytest.approx(mean["knn_surprise"], rel=1e-9)
    assert mean["knn_baseline"] == pytest.approx(mean["knn_baseline_surprise"], rel=1e-9)
    assert mean["svd"] <= 1.005 * mean["svd_surprise"]


def test_implicit_als_precision_within_2_percent_of_implicit(ratings):
    users, movies, _, times = ratings
    train, test = leave_last_out(users, times, n_last=10)
    x = Interactions.from_table(users[train], movies[train])
    ours, theirs = [], []
    for seed in range(3):
        model = ImplicitALS(n_factors=32, reg=0.05, alpha=10.0, n_iterations=10,
                            random_state=seed).fit(x)
        ours.append(evaluate_ranking(model, users[test], movies[test], 10)["precision"])
        peer = AlternatingLeastSquares(factors=32, regularization=0.05, alpha=1.0,
                                       iterations=10, random_state=seed, num_threads=1)
        confidence = x.to_scipy()
        confidence.data = 1.0 + 10.0 * confidence.data
        peer.fit(confidence, show_progress=False)
        ranker = FactorRanker.from_factors(x, peer.user_factors, peer.item_factors)
        theirs.append(evaluate_ranking(ranker, users[test], movies[test], 10)["precision"])
    assert np.mean(ours) >= 0.98 * np.mean(theirs)
