"""Learning to rank through ``train``/``cv``: whole models against XGBoost's and LightGBM's on exact
bins, ranking metrics against XGBoost's evaluation and scikit-learn's ndcg_score, query groups
given either way, early stopping on NDCG, group-aware folds, the model file, and bad input."""
import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import ndcg_score

from bindings import Booster, Dataset, cv, train
from bindings.metrics import evaluate

COMMON = {"max_depth": 3, "learning_rate": 0.3, "max_bin": 16}


def ranking_data(n_queries=40, seed=0, one_document_queries=False):
    """(X with few distinct values, so every library bins them exactly, graded labels 0..4, sorted qid)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 20, n_queries)
    if one_document_queries:
        sizes[::7] = 1
    n = int(sizes.sum())
    X = rng.integers(0, 6, (n, 3)).astype(float)
    y = np.clip(np.round(0.6 * X[:, 0] - 0.3 * X[:, 2] + rng.normal(0, 1, n)), 0, 4)
    return X, y, np.repeat(np.arange(n_queries), sizes)


@pytest.mark.parametrize("objective,extra", [
    ("rank:ndcg", {}),
    ("rank:ndcg", {"lambdarank_pair_method": "mean", "lambdarank_num_pair_per_sample": 2}),
    ("rank:ndcg", {"lambdarank_unbiased": True}),
    ("rank:ndcg", {"lambdarank_unbiased": True, "lambdarank_pair_method": "mean", "lambdarank_bias_norm": 0.5}),
    ("rank:ndcg", {"ndcg_exp_gain": False, "lambdarank_score_normalization": False}),
    ("rank:pairwise", {}),
    ("rank:pairwise", {"lambdarank_pair_method": "mean"}),
    ("rank:map", {}),
])
@pytest.mark.parametrize("weighted", [False, True])
def test_models_equal_xgboost_on_exact_bins(objective, extra, weighted):
    X, y, qid = ranking_data(one_document_queries=True)
    if objective == "rank:map":
        y = (y > 1).astype(float)
    query_weight = np.random.default_rng(1).uniform(0.5, 2.0, qid.max() + 1) if weighted else None
    params = {"objective": objective, **COMMON, **extra}
    # float64 margins here, float32 in XGBoost: the score normalisation's 1 / (|s_i - s_j| + 0.01)
    # amplifies that rounding round after round (rank:pairwise with "mean" pairs: 1e-7 after 4 rounds,
    # 1e-5 after 8, 5e-3 after 16; 4e-7 after 16 without score normalisation), so 8 rounds
    ours = train({**params, "n_jobs": 1}, Dataset(X, y, qid=qid, weight=query_weight), 8).predict(X)
    theirs = xgb.train({**params, "tree_method": "hist", "nthread": 1, "base_score": 0.0},
                       xgb.DMatrix(X, y, qid=qid, weight=query_weight), 8).predict(xgb.DMatrix(X))
    np.testing.assert_allclose(ours, theirs, atol=5e-5)
    assert theirs.std() > 0.1


@pytest.mark.parametrize("objective,extra", [
    ("lambdarank", {}),
    ("lambdarank", {"lambdarank_truncation_level": 4, "label_gain": [0, 1, 2, 4, 9]}),
    ("rank_xendcg", {}),
])
def test_stumps_equal_lightgbm(objective, extra):
    """Depth-1 trees (LightGBM grows leaf-wise, so deeper trees differ by design) with matching
    regularisation; LightGBM's lambdarank reads sigmoids from a table, hence 1e-4."""
    import lightgbm as lgb

    X, y, qid = ranking_data(seed=2)
    weight = np.random.default_rng(3).uniform(0.5, 2.0, len(y))  # LightGBM weighs rows
    group = np.bincount(qid)
    ours = train({"objective": objective, "max_depth": 1, "learning_rate": 0.3, "max_bin": 16, "n_jobs": 1, **extra},
                 Dataset(X, y, group=group, weight=weight), 15).predict(X)
    theirs = lgb.train({"objective": objective, "num_leaves": 2, "max_depth": 1, "learning_rate": 0.3,
                        "min_data_in_leaf": 1, "min_sum_hessian_in_leaf": 1.0, "lambda_l2": 1.0, "verbose": -1,
                        "num_threads": 1, "max_bin": 16, **extra},
                       lgb.Dataset(X, y, group=group, weight=weight), 15).predict(X)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    assert theirs.std() > 0.05


def test_group_and_qid_and_query_weights_give_the_same_model():
    X, y, qid = ranking_data(seed=4)
    query_weight = np.random.default_rng(5).uniform(0.5, 2.0, qid.max() + 1)
    params = {"objective": "rank:ndcg", **COMMON}
    by_qid = train(params, Dataset(X, y, qid=qid, weight=query_weight), 8)
    by_group = train(params, Dataset(X, y, group=np.bincount(qid), weight=np.repeat(query_weight, np.bincount(qid))),
                     8)
    assert by_qid.to_dict()["trees"] == by_group.to_dict()["trees"]
    unweighted = train(params, Dataset(X, y, qid=qid), 8)
    assert not np.allclose(unweighted.predict(X), by_qid.predict(X))


def empty_queries_and_ties(seed=6):
    """Labels, queries (one without relevant documents, one of a single document) and tied scores."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 12, 30)
    sizes[5] = 1
    n = int(sizes.sum())
    y = rng.integers(0, 4, n).astype(float)
    y[sizes[:3].sum():sizes[:4].sum()] = 0.0
    return y, np.repeat(np.arange(30), sizes), np.round(rng.normal(size=n), 1).astype(np.float32)


@pytest.mark.parametrize("metric", ["ndcg", "ndcg@3", "ndcg@3-", "ndcg-", "map", "map@2", "map@2-", "pre@3", "pre"])
@pytest.mark.parametrize("weighted", [False, True])
def test_metrics_equal_xgboost_evaluation(metric, weighted):
    y, qid, score = empty_queries_and_ties()
    if not metric.startswith("ndcg"):
        y = (y > 1).astype(float)
    query_weight = np.random.default_rng(7).uniform(0.5, 2.0, 30) if weighted else None
    if weighted and metric in ("ndcg", "ndcg@3"):
        # XGBoost scores a query without relevant documents 1 unweighted while it weighs the others
        # (rank_metric.cc); ours is the weighted mean: compared on queries that have relevant ones
        keep = np.isin(qid, np.unique(qid[y > 0]))
        y, qid, score = y[keep], np.unique(qid[keep], return_inverse=True)[1], score[keep]
        query_weight = query_weight[:qid.max() + 1]
    d = xgb.DMatrix(np.zeros((len(y), 1)), y, qid=qid, weight=query_weight, base_margin=score)
    expected = float(xgb.train({"objective": "rank:ndcg", "eval_metric": metric}, d, 0).eval(d).split(":")[1])
    row_weight = None if query_weight is None else np.repeat(query_weight, np.bincount(qid))
    ours = evaluate(metric, y, score.astype(float), row_weight, Dataset(np.zeros((len(y), 1)), qid=qid).group_ptr)
    assert ours == pytest.approx(expected, rel=1e-7)


def test_linear_gain_ndcg_equals_scikit_learn():
    """scikit-learn's ndcg_score uses the label itself as the gain (ndcg_exp_gain=False); scores without ties."""
    rng = np.random.default_rng(8)
    y, score = rng.integers(0, 5, (12, 9)).astype(float), rng.normal(size=(12, 9))
    y[:, 0] = 4.0  # every query has a relevant document (scikit-learn scores an empty one 0)
    group_ptr = np.arange(0, 12 * 9 + 1, 9)
    for k in (3, 9):
        ours = evaluate(f"ndcg@{k}", y.ravel(), score.ravel(), None, group_ptr, gain="linear")
        assert ours == pytest.approx(ndcg_score(y, score, k=k), rel=1e-12)


def test_early_stopping_maximises_ndcg():
    X, y, qid = ranking_data(n_queries=60, seed=9)
    train_rows, valid_rows = qid < 40, qid >= 40
    history = {}
    booster = train({"objective": "rank:ndcg", "learning_rate": 0.5, "max_depth": 4, "eval_metric": "ndcg@5"},
                    Dataset(X[train_rows], y[train_rows], qid=qid[train_rows]), 200,
                    evals=[(Dataset(X[valid_rows], y[valid_rows], qid=qid[valid_rows]), "valid")],
                    early_stopping_rounds=5, evals_result=history)
    values = history["valid"]["ndcg@5"]
    assert len(values) < 200 and booster.best_iteration == int(np.argmax(values))
    assert booster.best_score == max(values) and len(values) == booster.best_iteration + 6


def test_cv_folds_hold_whole_queries_and_match_separate_fits():
    X, y, qid = ranking_data(n_queries=30, seed=10)
    dtrain = Dataset(X, y, qid=qid)
    params = {"objective": "rank:ndcg", **COMMON, "eval_metric": "ndcg@5"}
    results = cv(params, dtrain, 4, nfold=3, seed=2, as_pandas=False)
    from bindings.query_groups import query_folds

    for k, (tr, te) in enumerate(query_folds(dtrain.group_ptr, 3, seed=2)):
        assert not set(qid[tr]) & set(qid[te])
    manual = []
    for tr, te in query_folds(dtrain.group_ptr, 3, seed=2):
        history = {}
        train(params, Dataset(X[tr], y[tr], qid=qid[tr]), 4, evals=[(Dataset(X[te], y[te], qid=qid[te]), "test")],
              evals_result=history)
        manual.append(history["test"]["ndcg@5"])
    np.testing.assert_allclose(results["test-ndcg@5-mean"], np.mean(manual, axis=0), rtol=1e-12)


def test_ranker_model_file_round_trip(tmp_path):
    X, y, qid = ranking_data(seed=11)
    booster = train({"objective": "rank:ndcg", **COMMON}, Dataset(X, y, qid=qid), 5)
    booster.save_model(tmp_path / "ranker.json")
    loaded = Booster.load_model(tmp_path / "ranker.json")
    assert loaded.objective == "rank:ndcg"
    np.testing.assert_array_equal(loaded.predict(X), booster.predict(X))


# ----- bad input ---------------------------------------------------------------------------------------------
def test_query_group_input_errors():
    X, y, qid = ranking_data(n_queries=5, seed=12)
    with pytest.raises(ValueError, match="group sizes sum to"):
        Dataset(X, y, group=np.bincount(qid)[:-1])
    with pytest.raises(ValueError, match="positive integer query sizes"):
        Dataset(X, y, group=np.r_[0, np.bincount(qid)])
    with pytest.raises(ValueError, match="not both"):
        Dataset(X, y, group=np.bincount(qid), qid=qid)
    with pytest.raises(ValueError, match="qid must be sorted"):
        Dataset(X, y, qid=qid[::-1])
    with pytest.raises(ValueError, match="one query id per row"):
        Dataset(X, y, qid=qid[:-1])
    with pytest.raises(ValueError, match="dtrain has no query groups"):
        train({"objective": "rank:ndcg"}, Dataset(X, y), 1)
    with pytest.raises(ValueError, match="eval set 'v' has no query groups"):
        train({"objective": "reg:squarederror", "eval_metric": "ndcg@3"}, Dataset(X, y), 1,
              evals=[(Dataset(X, y), "v")])
    with pytest.raises(ValueError, match="ndcg@k- with k a positive integer"):
        train({"objective": "rank:ndcg", "eval_metric": "ndcg@top"}, Dataset(X, y, qid=qid), 1)
    with pytest.raises(ValueError, match="weighs whole queries"):
        train({"objective": "rank:ndcg"}, Dataset(X, y, qid=qid, weight=np.arange(1.0, len(y) + 1)), 1)


@pytest.mark.parametrize("labels,params,match", [
    (lambda y: y - 1.0, {"objective": "rank:ndcg"}, "integers >= 0"),
    (lambda y: y + 0.5, {"objective": "rank:ndcg"}, "integers >= 0"),
    (lambda y: y * 10.0, {"objective": "rank:ndcg"}, "at most 31"),
    (lambda y: y, {"objective": "rank:map"}, "0 or 1"),
    (lambda y: y, {"objective": "lambdarank", "label_gain": [0, 1, 3]}, r"integers in \[0, 3\)"),
    (lambda y: y, {"objective": "rank:ndcg", "label_gain": [0, 1, 3, 7, 15]}, "LightGBM's lambdarank parameter"),
    (lambda y: y, {"objective": "lambdarank", "lambdarank_pair_method": "mean"}, "truncation_level"),
    (lambda y: y, {"objective": "rank_xendcg", "lambdarank_unbiased": True}, "applies to rank:pairwise"),
])
def test_bad_labels_and_parameters_are_refused(labels, params, match):
    X, y, qid = ranking_data(n_queries=5, seed=13)
    with pytest.raises(ValueError, match=match):
        train(params, Dataset(X, labels(y), qid=qid), 1)


def test_real_valued_labels_train_with_linear_gain_and_pairwise():
    """Non-integer relevance is allowed where the gain is the label (ndcg_exp_gain=False) or unused."""
    X, y, qid = ranking_data(n_queries=10, seed=14)
    for params in ({"objective": "rank:ndcg", "ndcg_exp_gain": False}, {"objective": "rank:pairwise"}):
        booster = train({**params, **COMMON}, Dataset(X, y * 0.37 - 0.5, qid=qid), 3)
        assert np.isfinite(booster.predict(X)).all() and booster.predict(X).std() > 0


def test_xgboost_ranking_models_import_with_the_same_scores():
    from bindings.xgboost_model import from_xgboost

    X, y, qid = ranking_data(seed=15)
    # continuous features (XGBoost compares them in float32, so give it float32 values)
    X = (X + np.random.default_rng(16).normal(0, 0.3, X.shape)).astype(np.float32).astype(np.float64)
    for objective in ("rank:ndcg", "rank:pairwise", "rank:map"):
        label = (y > 1).astype(float) if objective == "rank:map" else y
        theirs = xgb.train({"objective": objective, "max_depth": 3}, xgb.DMatrix(X, label, qid=qid), 5)
        np.testing.assert_allclose(from_xgboost(theirs).predict(X), theirs.predict(xgb.DMatrix(X)), atol=1e-5)
