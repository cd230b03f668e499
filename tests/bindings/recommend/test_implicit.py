"""Implicit-feedback models against the ``implicit`` package on identical splits, and the
ranking API (recommend, similar_items, cold start) against brute-force numpy; test_serving.py
compares the serving API with ``implicit`` on the same factors."""
import numpy as np
import pytest
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from sklearn.linear_model import Ridge

from bindings.recommend import (BPR, FactorRanker, ImplicitALS, Interactions, PopularityRecommender, SideFeatureMap,
                                evaluate_ranking, leave_last_out)
from gbdt.threads import effective_threads


pytestmark = pytest.mark.usefixtures("single_threaded_blas")  # conftest.py


@pytest.fixture(scope="module")
def planted():
    """1000 users and 200 items in 8 taste groups: in-group items are liked far more often."""
    rng = np.random.default_rng(0)
    user_group, item_group = rng.integers(0, 8, 1000), rng.integers(0, 8, 200)
    prob = np.where(user_group[:, None] == item_group, 0.25, 0.02) * (0.3 + rng.random(200))
    users, items = np.nonzero(rng.random((1000, 200)) < prob)
    train, test = leave_last_out(users, n_last=5, random_state=0)
    return Interactions.from_table(users[train], items[train]), users[test], items[test]


def test_als_precision_at_10_within_2_percent_of_implicit(planted):
    x, test_users, test_items = planted
    ours, theirs = [], []
    for seed in range(3):
        model = ImplicitALS(n_factors=16, reg=0.1, alpha=5.0, n_iterations=10, random_state=seed)
        ours.append(evaluate_ranking(model.fit(x), test_users, test_items, 10)["precision"])
        peer = AlternatingLeastSquares(factors=16, regularization=0.1, alpha=1.0, iterations=10,
                                       random_state=seed, num_threads=1)
        confidence = x.to_scipy()
        confidence.data = 1.0 + 5.0 * confidence.data  # implicit's c = alpha r, ours 1 + alpha r
        peer.fit(confidence, show_progress=False)
        # the peer's factors ranked by our code, so both go through the same evaluation
        peer_ranker = FactorRanker.from_factors(x, peer.user_factors, peer.item_factors)
        theirs.append(evaluate_ranking(peer_ranker, test_users, test_items, 10)["precision"])
    assert np.mean(ours) >= 0.98 * np.mean(theirs)


def test_bpr_ranks_better_than_popularity_and_as_well_as_implicit_bpr(planted):
    x, test_users, test_items = planted
    popularity = evaluate_ranking(PopularityRecommender().fit(x), test_users, test_items, 10)
    ours, theirs = [], []
    for seed in range(3):
        model = BPR(n_factors=16, learning_rate=0.05, reg=0.01, n_epochs=30, random_state=seed)
        ours.append(evaluate_ranking(model.fit(x), test_users, test_items, 10)["precision"])
        assert model.loss_[-1] < 0.8 * model.loss_[0]
        peer = BayesianPersonalizedRanking(factors=16, learning_rate=0.05, regularization=0.01,
                                           iterations=30, random_state=seed, num_threads=1)
        peer.fit(x.to_scipy(), show_progress=False)  # its last factor column is the item bias
        peer_ranker = FactorRanker.from_factors(x, peer.user_factors, peer.item_factors)
        theirs.append(evaluate_ranking(peer_ranker, test_users, test_items, 10)["precision"])
    assert np.mean(ours) > 1.5 * popularity["precision"]
    # SGD on sampled triples: +-10% per seed, so the mean of 3 seeds gets a 5% margin
    assert np.mean(ours) >= 0.95 * np.mean(theirs)


def test_one_thread_bpr_fits_are_reproducible(planted):
    x = planted[0]
    first, second = (BPR(n_factors=4, n_epochs=2, random_state=3, n_jobs=1).fit(x)
                     for _ in range(2))
    np.testing.assert_array_equal(first.user_factors_, second.user_factors_)
    np.testing.assert_array_equal(first.item_bias_, second.item_bias_)


def test_recommend_is_the_top_k_of_the_scores_without_seen_items(planted):
    x = planted[0]
    model = ImplicitALS(n_factors=8, n_iterations=3, random_state=0).fit(x)
    user_ids = x.users.ids[:20]
    ids, scores = model.recommend(user_ids, 7)
    dense = x.to_scipy().toarray()
    for row, user in enumerate(user_ids):
        full = model.user_factors_[row] @ model.item_factors_.T
        full[dense[row] > 0] = -np.inf
        best = np.argsort(-full, kind="stable")[:7]
        np.testing.assert_array_equal(ids[row], x.items.ids[best])
        np.testing.assert_allclose(scores[row], full[best], rtol=1e-12)
    single_ids, single_scores = model.recommend(user_ids[0], 7)
    np.testing.assert_array_equal(single_ids, ids[0])
    unfiltered_ids, _ = model.recommend(user_ids[:1], 7, filter_already_liked_items=False)
    raw = model.user_factors_[0] @ model.item_factors_.T
    np.testing.assert_array_equal(unfiltered_ids[0],
                                  x.items.ids[np.argsort(-raw, kind="stable")[:7]])


def test_unknown_users_get_popular_items_and_k_is_clamped():
    x = Interactions.from_table(["a", "a", "b", "c"], [1, 2, 2, 3])
    model = ImplicitALS(n_factors=2, n_iterations=2, random_state=0).fit(x)
    ids, scores = model.recommend("stranger", 2)
    assert ids[0] == 2 and ids[1] in (1, 3)  # item 2 has 2 users; 1 and 3 tie with one each
    np.testing.assert_array_equal(scores, [2.0, 1.0])
    ids, _ = model.recommend(["a"], 50)
    assert ids.shape == (1, 3)
    with pytest.raises(ValueError, match="k must be a positive int"):
        model.recommend("a", 0)


def test_similar_items_are_the_highest_cosines_the_item_first(planted):
    x = planted[0]
    model = ImplicitALS(n_factors=8, n_iterations=3, random_state=0).fit(x)
    q = model.item_factors_
    cos = q @ q[5] / (np.linalg.norm(q, axis=1) * np.linalg.norm(q[5]))
    best = np.argsort(-cos, kind="stable")[:4]
    ids, sims = model.similar_items(x.items.ids[5], 4)
    np.testing.assert_array_equal(ids, x.items.ids[best])
    np.testing.assert_allclose(sims, cos[best], rtol=1e-10)
    with pytest.raises(ValueError, match="not in the training data"):
        model.similar_items("no such item")


def test_side_feature_map_is_ridge_with_intercept_and_recovers_linear_factors(planted):
    x = planted[0]
    model = ImplicitALS(n_factors=4, n_iterations=3, random_state=0).fit(x)
    rng = np.random.default_rng(1)
    features = rng.normal(size=(x.shape[1], 6))
    mapping = SideFeatureMap(reg=0.5).fit(model, x.items.ids, features)
    design = np.hstack([features, np.ones((x.shape[1], 1))])
    target = np.hstack([model.item_factors_, model.item_bias_[:, None]])
    ridge = Ridge(alpha=0.5, fit_intercept=False).fit(design, target)
    np.testing.assert_allclose(mapping.coef_, ridge.coef_.T, rtol=1e-8, atol=1e-12)
    # items whose factors are exactly linear in their features are recovered for unseen rows
    model.item_factors_ = features @ rng.normal(size=(6, 4)) + 0.3
    factors, bias = SideFeatureMap(reg=0.0).fit(model, x.items.ids, features).transform(
        features[:5])
    np.testing.assert_allclose(factors, model.item_factors_[:5], atol=1e-8)
    np.testing.assert_allclose(bias, 0.0, atol=1e-8)
    with pytest.raises(ValueError, match="6 columns"):
        mapping.transform(features[:, :3])


@pytest.mark.parametrize("make, error, match", [
    (lambda: ImplicitALS(n_factors=0), ValueError, "n_factors"),
    (lambda: ImplicitALS(alpha=-1.0), ValueError, "alpha"),
    (lambda: ImplicitALS(cg_steps=1.5), TypeError, "cg_steps"),
    (lambda: BPR(learning_rate=0.0), ValueError, "learning_rate"),
    (lambda: BPR(negatives="hard"), ValueError, "negatives must be one of"),
])
def test_bad_parameters_raise(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_from_factors_checks_shapes(planted):
    x = planted[0]
    with pytest.raises(ValueError, match="factors must be"):
        FactorRanker.from_factors(x, np.zeros((x.shape[0], 3)), np.zeros((x.shape[1], 4)))


def test_negative_feedback_and_unfitted_calls_raise():
    with pytest.raises(ValueError, match=">= 0"):
        ImplicitALS().fit(Interactions.from_table([1, 2], [1, 2], [1.0, -1.0]))
    with pytest.raises(RuntimeError, match="not fitted"):
        BPR().recommend("a")


def test_one_job_runs_the_serial_kernels_and_fits_what_two_jobs_fit(planted, kernel_paths):
    """n_jobs=1 takes the serial compilation of every threaded kernel; the factors equal the threaded fit's
    (each user's and item's solve is independent, so thread scheduling cannot change them)."""
    x = planted[0]
    factors = {}
    for n_jobs in (1, 2):
        kernel_paths.clear()
        model = ImplicitALS(n_factors=8, n_iterations=3, random_state=0, n_jobs=n_jobs).fit(x)
        assert kernel_paths and set(kernel_paths) == {effective_threads(n_jobs) == 1}
        factors[n_jobs] = model.user_factors_, model.item_factors_
    for serial, threaded in zip(factors[1], factors[2]):
        np.testing.assert_allclose(serial, threaded, rtol=1e-12, atol=1e-14)
