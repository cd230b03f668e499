"""Explicit-feedback models against Surprise on identical 5-fold splits of the same table.

The Surprise train frame is sorted by (user, item), so its rating lists have the same order as
our CSR rows: deterministic models must then agree prediction for prediction, unknown ids (held
out items never seen in training) included.
"""
import numpy as np
import pandas as pd
import pytest
from surprise import SVD, BaselineOnly, Dataset, KNNBaseline, KNNBasic, KNNWithMeans, Reader, SVDpp

from bindings.cv import make_folds
from bindings.recommend import KNNBaseline as OurKNNBaseline
from bindings.recommend import SVDpp as OurSVDpp
from bindings.recommend import BaselinePredictor, Interactions, KNNRecommender, MatrixFactorization, mae, rmse

SCALE = (1.0, 5.0)


@pytest.fixture(scope="module")
def table():
    """Low-rank ratings on 1..5 with noise: 80 users x 50 items, ~30% observed."""
    rng = np.random.default_rng(0)
    users, items = np.nonzero(rng.random((80, 50)) < 0.3)
    p, q = rng.normal(size=(80, 3)), rng.normal(size=(50, 3))
    signal = 3.0 + np.sum(p[users] * q[items], axis=1) + rng.normal(0, 0.5, users.size)
    ratings = np.clip(np.round(signal), 1, 5)
    perm = rng.permutation(users.size)  # table order must not matter
    return users[perm] + 1000, items[perm].astype(str), ratings[perm]


@pytest.fixture(scope="module")
def folds(table):
    return make_folds(table[2].size, 5, seed=1)


def surprise_trainset(table, train):
    users, items, ratings = table
    frame = pd.DataFrame({"u": users[train], "i": items[train], "r": ratings[train]})
    frame = frame.sort_values(["u", "i"])
    return Dataset.load_from_df(frame, Reader(rating_scale=SCALE)).build_full_trainset()


def surprise_predict(algo, table, train, test, details=False):
    users, items, _ = table
    algo.fit(surprise_trainset(table, train))
    predictions = [algo.predict(u, i) for u, i in zip(users[test], items[test])]
    est = np.array([p.est for p in predictions])
    return (est, [p.details for p in predictions]) if details else est


def our_predict(model, table, train, test):
    users, items, ratings = table
    model.fit(Interactions.from_table(users[train], items[train], ratings[train]))
    return model.predict(users[test], items[test])


@pytest.mark.parametrize("solver", ["als", "sgd"])
def test_baseline_matches_surprise_baseline_only(table, folds, solver):
    for train, test in folds:
        ours = our_predict(BaselinePredictor(solver=solver, rating_scale=SCALE), table, train,
                           test)
        theirs = surprise_predict(BaselineOnly(bsl_options={"method": solver}, verbose=False),
                                  table, train, test)
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


@pytest.mark.parametrize("centered, user_based, similarity", [
    (False, True, "msd"), (False, False, "cosine"), (False, True, "pearson"),
    (True, True, "pearson_baseline"), (True, False, "pearson_baseline"), (True, False, "msd"),
    (True, True, "cosine"), (True, False, "pearson"),
])
def test_knn_matches_surprise(table, folds, centered, user_based, similarity):
    surprise_class = KNNWithMeans if centered else KNNBasic
    for train, test in folds[:3]:
        ours = our_predict(KNNRecommender(k=10, min_k=2, similarity=similarity,
                                          user_based=user_based, centered=centered,
                                          rating_scale=SCALE), table, train, test)
        theirs = surprise_predict(surprise_class(k=10, min_k=2, verbose=False, sim_options={
            "name": similarity, "user_based": user_based}), table, train, test)
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)


BASELINES = [  # (ours, Surprise's bsl_options)
    (None, {}),
    (BaselinePredictor(reg_user=4.0, reg_item=2.0, n_epochs=6),
     {"method": "als", "reg_u": 4.0, "reg_i": 2.0, "n_epochs": 6}),
    (BaselinePredictor(solver="sgd", n_epochs=8, learning_rate=0.01),
     {"method": "sgd", "n_epochs": 8, "learning_rate": 0.01}),
]


@pytest.mark.parametrize("similarity, user_based, baseline", [
    ("pearson_baseline", True, 0), ("pearson_baseline", False, 1), ("msd", True, 2),
    ("cosine", False, 0), ("pearson", True, 1),
])
def test_knn_baseline_matches_surprise(table, folds, similarity, user_based, baseline):
    ours_baseline, bsl_options = BASELINES[baseline]
    for train, test in folds[:3]:
        ours = our_predict(OurKNNBaseline(k=10, min_k=2, similarity=similarity,
                                          user_based=user_based, baseline=ours_baseline,
                                          rating_scale=SCALE), table, train, test)
        theirs = surprise_predict(KNNBaseline(k=10, min_k=2, bsl_options=bsl_options, sim_options={
            "name": similarity, "user_based": user_based}, verbose=False), table, train, test)
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)


class GivenDraws(np.random.RandomState):
    """A RandomState whose normal() hands out given arrays in turn: Surprise's SVDpp then starts
    from our initial factors (it draws p, q, y in that order from the RandomState it is given)."""

    def __init__(self, draws):
        super().__init__(0)
        self.draws = list(draws)

    def normal(self, loc=0.0, scale=1.0, size=None):
        return self.draws.pop(0)


def test_svdpp_matches_surprise_from_the_same_initial_factors(table, folds):
    users, items, ratings = table
    for seed, (train, test) in enumerate(folds[:2]):
        model = OurSVDpp(n_factors=4, n_epochs=6, shuffle=False, random_state=seed, n_jobs=1,
                         rating_scale=SCALE)
        x = Interactions.from_table(users[train], items[train], ratings[train])
        model.fit(x)
        # the documented initialisation, rows reordered to Surprise's inner ids
        init = np.random.default_rng(seed)
        ours = [init.normal(0.0, 0.1, (n, 4)) for n in (x.shape[0], x.shape[1], x.shape[1])]
        trainset = surprise_trainset(table, train)
        to_user = [trainset.to_inner_uid(u) for u in x.users.ids]
        to_item = [trainset.to_inner_iid(i) for i in x.items.ids]
        draws = [np.empty_like(a) for a in ours]
        draws[0][to_user], draws[1][to_item], draws[2][to_item] = ours
        algo = SVDpp(n_factors=4, n_epochs=6, random_state=GivenDraws(draws)).fit(trainset)
        theirs = np.array([algo.predict(u, i).est for u, i in zip(users[test], items[test])])
        np.testing.assert_allclose(model.predict(users[test], items[test]), theirs, rtol=1e-9)
        np.testing.assert_allclose(model.implicit_factors_, algo.yj[to_item], rtol=1e-9,
                                   atol=1e-12)


def test_svdpp_shuffled_and_threaded_fits_are_as_accurate(table, folds):
    """Shuffling and Hogwild threads change the path, not the quality: test RMSE within 2% of
    the sequential Surprise-order fit, averaged over folds."""
    scores = {}
    for name, options in [("surprise order", {"shuffle": False, "n_jobs": 1}),
                          ("shuffled, 2 threads", {"shuffle": True, "n_jobs": 2})]:
        scores[name] = np.mean([rmse(table[2][test], our_predict(
            OurSVDpp(n_factors=4, n_epochs=20, random_state=seed, rating_scale=SCALE, **options),
            table, train, test)) for seed, (train, test) in enumerate(folds)])
    assert scores["shuffled, 2 threads"] <= 1.02 * scores["surprise order"]


@pytest.mark.parametrize("ours, theirs", [
    (KNNRecommender(k=5, min_k=3, similarity="pearson", rating_scale=SCALE),
     KNNBasic(k=5, min_k=3, sim_options={"name": "pearson"}, verbose=False)),
    (KNNRecommender(k=5, min_k=3, centered=True, rating_scale=SCALE),
     KNNWithMeans(k=5, min_k=3, verbose=False)),
    (OurKNNBaseline(k=5, min_k=3, similarity="pearson_baseline", rating_scale=SCALE),
     KNNBaseline(k=5, min_k=3, sim_options={"name": "pearson_baseline"}, verbose=False)),
    (BaselinePredictor(rating_scale=SCALE), BaselineOnly(verbose=False)),
])
def test_prediction_details_match_surprises(table, folds, ours, theirs):
    users, items, ratings = table
    train, test = folds[0]
    # unknown ids on either side, beside the held-out pairs
    table = (np.concatenate([users, [-1, users[0]]]),
             np.concatenate([items, [items[0], "nowhere"]]), np.concatenate([ratings, [3, 3]]))
    test = np.r_[test, users.size, users.size + 1]
    model = ours.fit(Interactions.from_table(users[train], items[train], ratings[train]))
    est, details = model.predict(table[0][test], table[1][test], details=True)
    expected, their_details = surprise_predict(theirs, table, train, test, details=True)
    np.testing.assert_allclose(est, expected, rtol=1e-9)
    np.testing.assert_array_equal(details["was_impossible"],
                                  [d["was_impossible"] for d in their_details])
    assert list(details["reason"]) == [d.get("reason") for d in their_details]
    assert details["was_impossible"][-2:].all() == isinstance(theirs, (KNNBasic, KNNWithMeans))
    assert not details["known_user"][-2] and not details["known_item"][-1]
    if "actual_k" in details:
        possible = [k for k, d in enumerate(their_details) if "actual_k" in d]
        np.testing.assert_array_equal(details["actual_k"][possible],
                                      [their_details[k]["actual_k"] for k in possible])
    if isinstance(theirs, KNNBasic):
        assert (details["reason"] == "Not enough neighbors.").any()


@pytest.mark.parametrize("n_jobs", [1, 2])  # 2: Hogwild threads, another path, same quality
def test_sgd_mf_rmse_at_least_as_good_as_surprise_svd(table, folds, n_jobs):
    ours, theirs = [], []
    for seed, (train, test) in enumerate(folds):
        model = MatrixFactorization(n_factors=10, n_epochs=30, random_state=seed,
                                    rating_scale=SCALE, n_jobs=n_jobs)
        ours.append(rmse(table[2][test], our_predict(model, table, train, test)))
        svd = SVD(n_factors=10, n_epochs=30, random_state=seed)
        theirs.append(rmse(table[2][test], surprise_predict(svd, table, train, test)))
    # same algorithm, different random init: equal up to init noise
    assert np.mean(ours) <= 1.01 * np.mean(theirs)


def test_one_thread_sgd_fits_are_reproducible(table):
    x = Interactions.from_table(*table)
    for make in (lambda: MatrixFactorization(n_factors=5, n_epochs=3, random_state=7, n_jobs=1),
                 lambda: OurSVDpp(n_factors=3, n_epochs=2, random_state=7, n_jobs=1)):
        first, second = make().fit(x), make().fit(x)
        np.testing.assert_array_equal(first.user_factors_, second.user_factors_)
        np.testing.assert_array_equal(first.item_bias_, second.item_bias_)


def test_als_mf_descends_its_objective_and_predicts_as_well_as_svd(table, folds):
    train, test = folds[0]
    model = MatrixFactorization(n_factors=3, n_epochs=15, solver="als", reg=0.1, random_state=0,
                                rating_scale=SCALE)
    pred = our_predict(model, table, train, test)
    assert np.all(np.diff(model.train_rmse_[1:]) < 1e-9)  # ALS never increases the loss here
    baseline = our_predict(BaselinePredictor(rating_scale=SCALE), table, train, test)
    assert rmse(table[2][test], pred) < 0.9 * rmse(table[2][test], baseline)
    assert mae(table[2][test], pred) < mae(table[2][test], baseline)


def test_unknown_ids_fall_back_instead_of_raising(table):
    users, items, ratings = table
    x = Interactions.from_table(users, items, ratings)
    mf = MatrixFactorization(n_factors=4, n_epochs=5, random_state=0).fit(x)
    known_item = items[0]
    pred = mf.predict(["nobody", users[0], "nobody"], [known_item, "no item", "no item"])
    code = x.items.lookup([known_item])[0]
    np.testing.assert_allclose(pred, [mf.global_mean_ + mf.item_bias_[code],
                                      mf.global_mean_ + mf.user_bias_[x.users.lookup(users[:1])[0]],
                                      mf.global_mean_])
    knn = KNNRecommender(k=5).fit(x)
    np.testing.assert_allclose(knn.predict(["nobody"], [known_item]), [knn.global_mean_])


@pytest.mark.parametrize("make, error, match", [
    (lambda: KNNRecommender(k=0), ValueError, "k must be a positive int"),
    (lambda: KNNRecommender(similarity="jaccard"), ValueError, "similarity must be one of"),
    (lambda: MatrixFactorization(solver="adam"), ValueError, "solver must be one of"),
    (lambda: MatrixFactorization(n_factors=2.5), TypeError, "n_factors must be a positive int"),
    (lambda: MatrixFactorization(solver="als", reg=0.0), ValueError, r"reg must be a finite number in \(0.0, inf\]"),
    (lambda: BaselinePredictor(n_epochs=-1), ValueError, "n_epochs"),
])
def test_bad_parameters_raise(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_fit_and_predict_calls_raise(table):
    model = BaselinePredictor()
    with pytest.raises(RuntimeError, match="not fitted"):
        model.predict([1], [2])
    with pytest.raises(TypeError, match="Interactions"):
        model.fit(np.ones((3, 3)))
    model.fit(Interactions.from_table(*table))
    with pytest.raises(ValueError, match="same length"):
        model.predict([1, 2], [3])
    with pytest.raises(ValueError, match="rating_scale"):
        BaselinePredictor(rating_scale=(5, 1)).fit(Interactions.from_table(*table))
