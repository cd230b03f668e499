"""Ranking and rating metrics: MAP/NDCG against the ``implicit`` package's evaluation on the same
top-k lists, precision/recall against a per-user loop, RMSE/MAE against scikit-learn."""
import numpy as np
import pytest
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.evaluation import ranking_metrics_at_k
from sklearn.metrics import mean_absolute_error, mean_squared_error

from bindings.recommend import ImplicitALS, Interactions, evaluate_ranking, leave_last_out, mae, ranking_metrics, rmse


def loop_precision_recall(recommended, relevant, k):
    precisions, recalls = [], []
    for row, items in relevant.items():
        hits = len(set(recommended[row, :k]) & items)
        precisions.append(hits / k)
        recalls.append(hits / len(items))
    return np.mean(precisions), np.mean(recalls)


@pytest.mark.parametrize("k", [1, 4, 10])
def test_precision_recall_match_per_user_loop(k):
    rng = np.random.default_rng(0)
    recommended = np.stack([rng.permutation(30)[:10] for _ in range(25)])
    rel_users = rng.integers(0, 25, 80)
    rel_items = rng.integers(0, 30, 80)
    relevant = {}
    for u, i in zip(rel_users, rel_items):
        relevant.setdefault(u, set()).add(i)
    got = ranking_metrics(recommended, rel_users, rel_items, k)
    precision, recall = loop_precision_recall(recommended, relevant, k)
    assert got["precision"] == pytest.approx(precision, rel=1e-12)
    assert got["recall"] == pytest.approx(recall, rel=1e-12)


def test_map_and_ndcg_match_implicit_evaluation():
    rng = np.random.default_rng(1)
    users, items = np.nonzero(rng.random((60, 40)) < 0.3)
    train, test = leave_last_out(users, n_last=4, random_state=0)
    x = Interactions.from_table(users[train], items[train])
    known = x.items.lookup(items[test]) >= 0
    test = test[known]
    model = ImplicitALS(n_factors=6, n_iterations=3, random_state=0).fit(x)
    theirs = AlternatingLeastSquares(factors=6)
    theirs.user_factors = model.user_factors_.astype(np.float32)
    theirs.item_factors = model.item_factors_.astype(np.float32)
    held_out = sp.csr_matrix((np.ones(test.size), (x.users.lookup(users[test]),
                                                    x.items.lookup(items[test]))), shape=x.shape)
    expected = ranking_metrics_at_k(theirs, x.to_scipy(), held_out, K=5, show_progress=False)
    got = evaluate_ranking(model, users[test], items[test], 5)
    assert got["map"] == pytest.approx(expected["map"], rel=1e-6)
    assert got["ndcg"] == pytest.approx(expected["ndcg"], rel=1e-6)


def test_unknown_held_out_items_count_as_relevant_misses():
    x = Interactions.from_table([1, 1, 2], ["a", "b", "a"])
    model = ImplicitALS(n_factors=2, n_iterations=2, random_state=0).fit(x)
    one_unknown = evaluate_ranking(model, [2, 2], ["b", "never trained"], 1)
    only_known = evaluate_ranking(model, [2], ["b"], 1)
    assert only_known["recall"] == 1.0 and one_unknown["recall"] == 0.5


def test_rating_errors_match_scikit_learn():
    rng = np.random.default_rng(2)
    y, p = rng.uniform(1, 5, 50), rng.uniform(1, 5, 50)
    assert rmse(y, p) == pytest.approx(np.sqrt(mean_squared_error(y, p)), rel=1e-12)
    assert mae(y, p) == pytest.approx(mean_absolute_error(y, p), rel=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: rmse([1.0], [1.0, 2.0]), "equal length"),
    (lambda: mae([], []), "non-empty"),
    (lambda: ranking_metrics(np.zeros((2, 3)), [0], [1], 5), "at least k=5"),
    (lambda: ranking_metrics(np.zeros((2, 3)), [0, 1], [1], 2), "equal-length"),
    (lambda: ranking_metrics(np.zeros((2, 3)), [], [], 2), "no user"),
])
def test_bad_metric_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
