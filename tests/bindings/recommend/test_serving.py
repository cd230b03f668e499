"""The serving API (recommend, similar_items, similar_users, partial_fit_users/items) against the
``implicit`` package holding the same factors: same ids, same scores, filters included.

Our factors are rounded to float32 first, so implicit (float32) and we (float64) score the very
same vectors; scores then agree to float32 rounding (rtol 1e-5) and the lists are identical
(continuous random factors leave no near-ties at that precision). implicit gives a filtered
slot the score -3.4e38 and an arbitrary id; only the slots it scores above that are compared.
"""
import numpy as np
import pytest
from implicit.cpu.als import AlternatingLeastSquares
from scipy.sparse import csr_matrix

from bindings.recommend import (BPR, FactorRanker, ImplicitALS, Interactions, MatrixFactorization,
                                PopularityRecommender)

ALPHA, REG = 4.0, 0.3


pytestmark = pytest.mark.usefixtures("single_threaded_blas")  # conftest.py


@pytest.fixture(scope="module")
def planted():
    """300 users x 120 items in 6 taste groups; user ids are code + 1000, item ids 'i<code>'
    (zero-padded so sorted ids keep code order)."""
    rng = np.random.default_rng(0)
    user_group, item_group = rng.integers(0, 6, 300), rng.integers(0, 6, 120)
    prob = np.where(user_group[:, None] == item_group, 0.3, 0.03)
    users, items = np.nonzero(rng.random((300, 120)) < prob)
    values = rng.integers(1, 4, users.size).astype(float)
    return Interactions.from_table(users + 1000, np.char.mod("i%03d", items), values)


def float32_exact(model):
    for name in ("user_factors_", "item_factors_"):
        setattr(model, name, getattr(model, name).astype(np.float32).astype(np.float64))
    return model


@pytest.fixture(scope="module")
def als(planted):
    return float32_exact(ImplicitALS(n_factors=8, reg=REG, alpha=ALPHA, n_iterations=3,
                                     random_state=0, n_jobs=1).fit(planted))


def peer_of(model):
    """implicit's ALS over our factors; its alpha=1 on a 1 + alpha r matrix is our confidence."""
    peer = AlternatingLeastSquares(factors=model.n_factors, regularization=REG, alpha=1.0,
                                   num_threads=1)
    peer.user_factors = model.user_factors_.astype(np.float32)
    peer.item_factors = model.item_factors_.astype(np.float32)
    return peer


def confidence(x):
    """The users x items matrix implicit needs (float32, 1 + alpha r)."""
    m = x.to_scipy().astype(np.float32)
    m.data = 1.0 + ALPHA * m.data
    return m


def assert_same_lists(x, ours, theirs, item_side=True):
    """Our (ids, scores) equal implicit's (codes, scores) wherever implicit scored the slot."""
    (ids, scores), (codes, their_scores) = ours, theirs
    id_map = x.items if item_side else x.users
    our_codes = id_map.lookup(ids.ravel()).reshape(ids.shape)
    valid = their_scores > -1e38
    np.testing.assert_array_equal(our_codes[valid], codes[valid])
    np.testing.assert_allclose(scores[valid], their_scores[valid], rtol=1e-5, atol=1e-6)
    assert np.isneginf(scores[~valid]).all()


@pytest.mark.parametrize("options", [
    {}, {"filter_already_liked_items": False}, {"filter_items": [3, 17, 50, 51]},
    {"items": [0, 4, 9, 17, 20, 33, 41, 60, 61, 62, 80, 99, 119]},
    {"items": [1, 2, 5], "filter_already_liked_items": False},
])
def test_recommend_equals_implicits_on_the_same_factors(planted, als, options):
    x, peer = planted, peer_of(als)
    users = np.arange(x.shape[0])
    ours = dict(options)
    for key in ("items", "filter_items"):
        if key in ours:
            ours[key] = x.items.ids[ours[key]]
    got = als.recommend(x.users.ids[users], 10, **ours)
    expected = peer.recommend(users, confidence(x), N=10, **options)
    assert got[0].shape == (x.shape[0], min(10, len(options.get("items", range(10)))))
    assert_same_lists(x, got, expected)


def test_one_user_gives_1d_results_and_the_batch_row(planted, als):
    user = planted.users.ids[7]
    ids, scores = als.recommend(user, 5)
    batch_ids, batch_scores = als.recommend([user], 5)
    assert ids.shape == scores.shape == (5,)
    np.testing.assert_array_equal(ids, batch_ids[0])
    np.testing.assert_array_equal(scores, batch_scores[0])


def test_recalculate_user_equals_implicits_recalculation(planted, als):
    x, peer = planted, peer_of(als)
    users = np.arange(0, 300, 7)
    got = als.recommend(x.users.ids[users], 8, recalculate_user=True)
    expected = peer.recommend(users, confidence(x)[users], N=8, recalculate_user=True)
    # implicit solves in float32 (Cholesky); scores agree to its rounding
    codes = x.items.lookup(got[0].ravel()).reshape(got[0].shape)
    np.testing.assert_allclose(got[1], expected[1], rtol=2e-4, atol=2e-5)
    assert (codes == expected[0]).mean() > 0.97  # a near-tie may swap at float32 precision


@pytest.mark.parametrize("side", ["items", "users"])
def test_similar_items_and_users_equal_implicits(planted, als, side):
    x, peer = planted, peer_of(als)
    id_map = x.items if side == "items" else x.users
    queries = np.arange(0, id_map.ids.size, 5)
    blocked = [2, 3, 40]
    if side == "items":
        got = als.similar_items(id_map.ids[queries], 6, filter_items=id_map.ids[blocked])
        expected = peer.similar_items(queries, N=6, filter_items=blocked)
    else:
        got = als.similar_users(id_map.ids[queries], 6, filter_users=id_map.ids[blocked])
        expected = peer.similar_users(queries, N=6, filter_users=blocked)
    assert_same_lists(x, got, expected, item_side=side == "items")
    single = als.similar_items(x.items.ids[4], 3)
    assert single[0][0] == x.items.ids[4] and single[1][0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="not in the training data"):
        als.similar_items(["no such item"])


def test_partial_fit_users_equals_implicits_and_serves_the_new_users(planted, als):
    x = planted
    model = float32_exact(ImplicitALS(n_factors=8, reg=REG, alpha=ALPHA, n_iterations=3,
                                      random_state=0, n_jobs=1).fit(x))
    peer = peer_of(model)
    # user 1003 gets a new history, "new" and 77 are new users; an unknown item is dropped
    users = [1003, 1003, "new", "new", "new", 77]
    items = ["i005", "i010", "i005", "i099", "unknown item", "i100"]
    values = [1.0, 3.0, 2.0, 1.0, 5.0, 1.0]
    model.partial_fit_users(users, items, values)
    assert model.interactions_.shape == (302, 120)
    codes = model.interactions_.users.lookup([1003, "new", 77])
    np.testing.assert_array_equal(codes, [3, 300, 301])
    rows = csr_matrix((np.float32(1.0 + ALPHA * np.array([1.0, 3.0, 2.0, 1.0, 1.0])),
                       ([0, 0, 1, 1, 2], [5, 10, 5, 99, 100])), shape=(3, 120))
    peer.partial_fit_users(codes, rows)
    np.testing.assert_allclose(model.user_factors_, peer.user_factors, rtol=2e-4, atol=2e-6)
    # the stored history now filters the new users' own items
    got = model.recommend([1003, "new", 77], 10)
    expected = peer.recommend(codes, confidence(model.interactions_)[codes], N=10)
    assert set(got[0][1]).isdisjoint({"i005", "i099"})
    np.testing.assert_allclose(got[1], expected[1], rtol=2e-4, atol=2e-5)


def test_partial_fit_items_equals_implicits_and_makes_new_items_recommendable(planted):
    x = planted
    model = float32_exact(ImplicitALS(n_factors=8, reg=REG, alpha=ALPHA, n_iterations=3,
                                      random_state=0, n_jobs=1).fit(x))
    peer = peer_of(model)
    fans = x.users.ids[:40]
    model.partial_fit_items(["new item"] * 40, fans, np.full(40, 2.0))
    code = model.interactions_.items.lookup(["new item"])[0]
    assert code == 120 and model.item_bias_.shape == (121,)
    item_users = csr_matrix((np.full(40, 1.0 + ALPHA * 2.0, dtype=np.float32),
                             (np.zeros(40, dtype=int), np.arange(40))), shape=(1, 300))
    peer.partial_fit_items([code], item_users)
    np.testing.assert_allclose(model.item_factors_, peer.item_factors, rtol=2e-4, atol=2e-6)
    # the fans already interacted with it, so only the others can be recommended it
    ids, _ = model.recommend(x.users.ids, 120, filter_already_liked_items=True)
    assert not (ids[:40] == "new item").any() and (ids[40:] == "new item").any()


def test_matrix_factorization_ranks_by_predicted_rating_as_implicit_with_bias_columns(planted):
    """implicit ranks by a dot product; [p_u, 1, mu + b_u] . [q_i, b_i, 1] is our MF score."""
    x = planted
    mf = float32_exact(MatrixFactorization(n_factors=5, n_epochs=5, random_state=0,
                                           n_jobs=1).fit(x))
    for name in ("user_bias_", "item_bias_"):
        setattr(mf, name, getattr(mf, name).astype(np.float32).astype(np.float64))
    mf.global_mean_ = float(np.float32(mf.global_mean_))
    peer = AlternatingLeastSquares(factors=7, num_threads=1)
    ones_u, ones_i = np.ones((x.shape[0], 1)), np.ones((x.shape[1], 1))
    peer.user_factors = np.hstack([mf.user_factors_, ones_u,
                                   mf.global_mean_ + mf.user_bias_[:, None]]).astype(np.float32)
    peer.item_factors = np.hstack([mf.item_factors_, mf.item_bias_[:, None],
                                   ones_i]).astype(np.float32)
    users = np.arange(x.shape[0])
    assert_same_lists(x, mf.recommend(x.users.ids, 7, filter_items=["i001"]),
                      peer.recommend(users, confidence(x), N=7, filter_items=[1]))
    # unclipped predictions are the scores
    ids, scores = mf.recommend(x.users.ids[0], 3, filter_already_liked_items=False)
    mf.rating_scale_ = (-np.inf, np.inf)
    np.testing.assert_allclose(scores, mf.predict([x.users.ids[0]] * 3, ids), rtol=1e-12)


def test_matrix_factorization_partial_fit_solves_the_ridge_problem_and_predicts(planted):
    x = planted
    mf = MatrixFactorization(n_factors=4, n_epochs=5, solver="als", reg=0.2,
                             random_state=0).fit(x)
    items = np.array(["i000", "i001", "unknown item", "i002"])
    ratings = np.array([5.0, 1.0, 3.0, 4.0])
    mf.partial_fit_users(["newcomer"] * 4, items, ratings)
    code = mf.interactions_.users.lookup(["newcomer"])[0]
    known, rated = np.array([0, 1, 2]), ratings[[0, 1, 3]]  # item codes, their ratings
    design = np.hstack([mf.item_factors_[known], np.ones((3, 1))])
    target = rated - mf.global_mean_ - mf.item_bias_[known]
    expected = np.linalg.solve(design.T @ design + 0.2 * 3 * np.eye(5), design.T @ target)
    np.testing.assert_allclose(np.r_[mf.user_factors_[code], mf.user_bias_[code]], expected,
                               rtol=1e-9)
    raw = mf.global_mean_ + expected[4] + mf.item_bias_[7] + mf.item_factors_[7] @ expected[:4]
    pred, details = mf.predict(["newcomer"], ["i007"], details=True)
    np.testing.assert_allclose(pred, np.clip(raw, *mf.rating_scale_), rtol=1e-12)
    assert details["known_user"][0] and not details["was_impossible"][0]
    # re-solving from the stored history gives back the stored row
    stored = mf.recommend(["newcomer"], 5)
    recalculated = mf.recommend(["newcomer"], 5, recalculate_user=True)
    np.testing.assert_array_equal(recalculated[0], stored[0])
    np.testing.assert_allclose(recalculated[1], stored[1], rtol=1e-12)


def test_bpr_partial_fit_users_moves_only_the_new_rows_and_learns_their_taste(planted):
    x = planted
    users, items, _ = x.to_table()
    held = users == 1000 + 5
    model = BPR(n_factors=8, n_epochs=30, random_state=0, n_jobs=1).fit(
        Interactions.from_table(users[~held], items[~held]))
    before = {name: getattr(model, name).copy() for name in
              ("user_factors_", "item_factors_", "item_bias_")}
    model.partial_fit_users(users[held], items[held])
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name)[:value.shape[0]], value)
    liked = np.zeros(x.shape[1], dtype=bool)
    liked[model.interactions_.items.lookup(items[held])] = True

    def auc(ranker, user_factors):
        """AUC of the user's own items against the others."""
        scores = ranker.item_factors_ @ user_factors + ranker.item_bias_
        return (scores[liked][:, None] > scores[~liked][None, :]).mean()

    folded = auc(model, model.user_factors_[model.interactions_.users.lookup([1005])[0]])
    trained = BPR(n_factors=8, n_epochs=30, random_state=0, n_jobs=1).fit(x)
    full = auc(trained, trained.user_factors_[x.users.lookup([1005])[0]])
    # as good as training with the user (0.76 vs 0.79 here), far above item biases alone (0.52)
    assert folded > auc(model, np.zeros(8)) + 0.15
    assert folded > full - 0.05


def test_recalculate_and_partial_fit_need_a_solver():
    x = Interactions.from_table([1, 2], [1, 2])
    ranker = FactorRanker.from_factors(x, np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(NotImplementedError, match="cannot re-solve"):
        ranker.recommend([1], 1, recalculate_user=True)
    with pytest.raises(NotImplementedError, match="cannot re-solve"):
        ranker.partial_fit_users([3], [1])


def test_unknown_users_get_popularity_and_bad_candidates_raise(planted, als):
    popular = PopularityRecommender().fit(planted)
    ids, scores = als.recommend(["stranger"], 5)
    np.testing.assert_array_equal(ids, popular.recommend(["stranger"], 5)[0])
    np.testing.assert_array_equal(scores[0], np.sort(popular.popularity_)[::-1][:5])
    with pytest.raises(ValueError, match="items holds ids the model does not know"):
        als.recommend([1000], 3, items=["i001", "nope"])
    with pytest.raises(ValueError, match="k must be a positive int"):
        als.similar_users([1000], 0)
