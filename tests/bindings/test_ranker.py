"""GBDTRanker against xgboost.XGBRanker: the same scores and score(), queries as group, qid or a
pandas qid column, evaluation sets and early stopping, scikit-learn's clone and GroupKFold search."""
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold

from bindings import GBDTRanker

SMALL = dict(n_estimators=8, max_depth=3, max_bin=16, n_jobs=1)


def ranking_data(n_queries=30, seed=0):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 16, n_queries)
    n = int(sizes.sum())
    X = rng.integers(0, 6, (n, 3)).astype(float)
    y = np.clip(np.round(0.6 * X[:, 0] - 0.3 * X[:, 2] + rng.normal(0, 1, n)), 0, 4)
    return X, y, np.repeat(np.arange(n_queries), sizes)


@pytest.mark.parametrize("objective", ["rank:ndcg", "rank:pairwise"])
def test_scores_and_score_equal_xgbranker(objective):
    X, y, qid = ranking_data()
    query_weight = np.random.default_rng(1).uniform(0.5, 2.0, qid.max() + 1)
    ours = GBDTRanker(objective=objective, **SMALL).fit(X, y, qid=qid, sample_weight=query_weight)
    theirs = xgb.XGBRanker(objective=objective, tree_method="hist", base_score=0.0, **SMALL).fit(
        X, y, qid=qid, sample_weight=query_weight)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-5)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(qid=qid)
    assert ours.score(X, y, qid=qid) == pytest.approx(theirs.score(frame, y), rel=1e-6)
    assert ours.score(frame, y) == pytest.approx(theirs.score(frame, y), rel=1e-6)


def test_group_qid_and_qid_column_give_the_same_ranker():
    X, y, qid = ranking_data(seed=2)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(qid=qid)
    by_qid = GBDTRanker(**SMALL).fit(X, y, qid=qid).predict(X)
    by_group = GBDTRanker(**SMALL).fit(X, y, group=np.bincount(qid)).predict(X)
    by_column = GBDTRanker(**SMALL).fit(frame, y)
    np.testing.assert_array_equal(by_qid, by_group)
    np.testing.assert_array_equal(by_column.predict(frame), by_qid)
    assert list(by_column.feature_names_in_) == ["a", "b", "c"]


def test_eval_set_early_stopping_on_ndcg():
    X, y, qid = ranking_data(n_queries=50, seed=3)
    train, valid = qid < 35, qid >= 35
    ranker = GBDTRanker(n_estimators=200, learning_rate=0.5, max_depth=4, eval_metric="ndcg@5",
                        early_stopping_rounds=4).fit(X[train], y[train], qid=qid[train],
                                                     eval_set=[(X[valid], y[valid])], eval_qid=[qid[valid]])
    values = ranker.evals_result_["validation_0"]["ndcg@5"]
    assert ranker.best_iteration_ == int(np.argmax(values)) and len(values) == ranker.best_iteration_ + 5
    # predictions stop at the best round, as XGBoost's
    assert ranker.score(X[valid], y[valid], qid=qid[valid]) == pytest.approx(max(values), rel=1e-12)


def test_clone_keeps_ranking_parameters_and_groupkfold_search_runs():
    X, y, qid = ranking_data(seed=4)
    ranker = GBDTRanker(lambdarank_pair_method="mean", lambdarank_num_pair_per_sample=3, **SMALL)
    copy = clone(ranker)
    assert copy.get_params()["lambdarank_num_pair_per_sample"] == 3 and copy.get_params()["max_depth"] == 3
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(qid=qid)
    search = GridSearchCV(GBDTRanker(**SMALL), {"max_depth": [1, 3]}, cv=GroupKFold(3)).fit(frame, y, groups=qid)
    assert search.best_params_["max_depth"] in (1, 3) and 0.0 < search.best_score_ <= 1.0


def test_ranker_input_errors():
    X, y, qid = ranking_data(n_queries=5, seed=5)
    with pytest.raises(ValueError, match="needs the queries"):
        GBDTRanker(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="objective must be one of"):
        GBDTRanker(objective="reg:squarederror", **SMALL).fit(X, y, qid=qid)
    with pytest.raises(ValueError, match="eval_qid needs one entry per eval_set pair"):
        GBDTRanker(**SMALL).fit(X, y, qid=qid, eval_set=[(X, y)], eval_qid=[qid, qid])
    ranker = GBDTRanker(**SMALL).fit(X, y, qid=qid)
    with pytest.raises(ValueError, match="score needs the queries"):
        ranker.score(X, y)
