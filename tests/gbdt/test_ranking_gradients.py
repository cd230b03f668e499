"""Ranking gradients against XGBoost's and LightGBM's own, and against finite differences of the
RankNet loss; per-query metric kernels against brute-force NDCG / MAP / precision.

XGBoost and LightGBM do not expose a built-in objective's gradients, so one boosting round reads
them off a tree: one feature holding the row number (every row its own bin), no regularisation,
learning rate 1 and the margins given as base margins / init scores, so each leaf's cover is the sum
of its rows' hessians and its value -G / H. Rows the tree cannot separate (no gain: e.g. queries
of one document) share a leaf, and the sums over each leaf are compared.
"""
import json

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb

from gbdt.ranking import RankingParams, RankingObjective, label_gains
from gbdt.ranking_metrics import query_average_precision, query_ndcg, query_precision

rng = np.random.default_rng(0)


def queries(n_queries=14, max_size=11, n_labels=4, seed=0):
    """(label, group_ptr, float32-representable margin) of random queries of 1..max_size rows."""
    r = np.random.default_rng(seed)
    sizes = r.integers(1, max_size + 1, n_queries)
    n = int(sizes.sum())
    label = r.integers(0, n_labels, n).astype(np.float64)
    margin = np.round(r.normal(size=n), 2).astype(np.float32).astype(np.float64)  # some ties
    return label, np.concatenate(([0], np.cumsum(sizes))), margin


def our_gradients(params, label, group_ptr, margin, weight=np.empty(0), iteration=0):
    gh = np.empty((label.shape[0], 2), dtype=np.float32)
    RankingObjective(label, weight, group_ptr, params).gradients(margin, iteration, gh)
    return gh


def leaf_sums(leaf, gh):
    """(leaf ids, per-leaf gradient sums, per-leaf hessian sums) of our gradients."""
    ids = np.unique(leaf)
    return ids, np.array([gh[leaf == i, 0].sum() for i in ids]), np.array([gh[leaf == i, 1].sum() for i in ids])


def xgboost_leaf_sums(params, label, group_ptr, margin, weight=None):
    """(leaf of each row, leaf ids, G and H per leaf) of XGBoost's gradients at ``margin``."""
    n = label.shape[0]
    d = xgb.DMatrix(np.arange(n, dtype=float).reshape(-1, 1), label, group=np.diff(group_ptr), weight=weight,
                    base_margin=margin)
    booster = xgb.train({**params, "tree_method": "hist", "max_bin": 256, "max_depth": 14, "learning_rate": 1.0,
                         "reg_lambda": 0.0, "min_child_weight": 0.0, "nthread": 1}, d, 1)
    leaf = booster.predict(d, pred_leaf=True).astype(np.int64).reshape(-1)
    stats = {}

    def walk(node):
        if "leaf" in node:
            stats[node["nodeid"]] = (node["leaf"], node["cover"])
        for child in node.get("children", ()):
            walk(child)

    walk(json.loads(booster.get_dump(dump_format="json", with_stats=True)[0]))
    ids = np.unique(leaf)
    value, cover = np.array([stats[i] for i in ids]).T
    return leaf, ids, -value * cover, cover


def lightgbm_leaf_sums(params, label, group_ptr, margin, weight=None):
    """(leaf of each row, leaf ids, G and H per leaf) of LightGBM's gradients at ``margin``."""
    n = label.shape[0]
    data = lgb.Dataset(np.arange(n, dtype=float).reshape(-1, 1), label, group=np.diff(group_ptr), weight=weight,
                       init_score=margin, params={"max_bin": 1024, "min_data_in_bin": 1})
    booster = lgb.train({**params, "num_leaves": n, "max_depth": -1, "learning_rate": 1.0, "lambda_l2": 0.0,
                         "min_data_in_leaf": 1, "min_sum_hessian_in_leaf": 1e-9, "min_gain_to_split": 0.0,
                         "num_threads": 1, "verbose": -1, "max_bin": 1024, "min_data_in_bin": 1}, data, 1)
    leaf = booster.predict(np.arange(n, dtype=float).reshape(-1, 1), pred_leaf=True).astype(np.int64).reshape(-1)
    stats = {}

    def walk(node):
        if "leaf_index" in node:
            stats[node["leaf_index"]] = (node["leaf_value"], node["leaf_weight"])
        for key in ("left_child", "right_child"):
            if key in node:
                walk(node[key])

    walk(booster.dump_model()["tree_info"][0]["tree_structure"])
    ids = np.unique(leaf)
    value, cover = np.array([stats[i] for i in ids]).T
    return leaf, ids, -value * cover, cover


XGBOOST_CASES = [
    ("rank:pairwise", {}, RankingParams("pairwise")),
    ("rank:ndcg", {}, RankingParams("ndcg")),
    ("rank:ndcg", {"lambdarank_num_pair_per_sample": 3}, RankingParams("ndcg", num_pair=3)),
    ("rank:ndcg", {"ndcg_exp_gain": False}, RankingParams("ndcg", gain="linear")),
    ("rank:ndcg", {"lambdarank_normalization": False, "lambdarank_score_normalization": False},
     RankingParams("ndcg", normalization=False, score_normalization=False)),
    ("rank:map", {}, RankingParams("map")),
    # "mean": random partners, drawn as XGBoost 3.2 draws them (std::minstd_rand, libstdc++)
    ("rank:ndcg", {"lambdarank_pair_method": "mean", "lambdarank_num_pair_per_sample": 2},
     RankingParams("ndcg", truncated=False, num_pair=2)),
    ("rank:pairwise", {"lambdarank_pair_method": "mean"}, RankingParams("pairwise", truncated=False, num_pair=1)),
    ("rank:map", {"lambdarank_pair_method": "mean", "lambdarank_num_pair_per_sample": 3},
     RankingParams("map", truncated=False, num_pair=3)),
]


@pytest.mark.parametrize("objective,xgb_params,params", XGBOOST_CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_gradients_equal_xgboost(objective, xgb_params, params, weighted):
    label, group_ptr, margin = queries(seed=3)
    if objective == "rank:map":
        label = (label > 1).astype(np.float64)
    query_weight = rng.uniform(0.5, 2.0, group_ptr.shape[0] - 1) if weighted else None
    row_weight = np.empty(0) if query_weight is None else np.repeat(query_weight, np.diff(group_ptr))
    leaf, ids, g_xgb, h_xgb = xgboost_leaf_sums({"objective": objective, **xgb_params}, label, group_ptr, margin,
                                                query_weight)
    assert ids.shape[0] > 0.6 * label.shape[0]  # most rows have a leaf of their own
    _, g_ours, h_ours = leaf_sums(leaf, our_gradients(params, label, group_ptr, margin, row_weight))
    scale = np.abs(g_xgb).max()
    np.testing.assert_allclose(g_ours, g_xgb, rtol=1e-5, atol=1e-6 * scale)
    np.testing.assert_allclose(h_ours, h_xgb, rtol=1e-5, atol=1e-6 * h_xgb.max())
    assert np.abs(g_xgb).max() > 0.01 and h_xgb.max() > 0.01  # the comparison saw real gradients


def test_mean_pairs_follow_the_round_like_xgboost():
    """XGBoost 3.2 seeds each query's partner draws with (iteration + 1) * queries + query: round 4
    draws other partners than round 0, and ours the same ones as XGBoost's (whose round 4 is
    reached by four rounds of learning rate 0, which leave the margins alone)."""
    label, group_ptr, margin = queries(seed=5)
    params = RankingParams("ndcg", truncated=False, num_pair=1)
    first, fifth = (our_gradients(params, label, group_ptr, margin, iteration=i) for i in (0, 4))
    assert not np.allclose(first, fifth)
    d = xgb.DMatrix(np.arange(label.shape[0], dtype=float).reshape(-1, 1), label, group=np.diff(group_ptr),
                    base_margin=margin)
    common = {"objective": "rank:ndcg", "lambdarank_pair_method": "mean", "tree_method": "hist", "max_depth": 14,
              "reg_lambda": 0.0, "min_child_weight": 0.0, "nthread": 1}
    booster = xgb.train({**common, "learning_rate": 0.0}, d, 4)
    booster.set_param({"learning_rate": 1.0})
    booster.update(d, 4)
    leaf = booster.predict(d, pred_leaf=True)[:, 4].astype(np.int64)
    tree = json.loads(booster.get_dump(dump_format="json", with_stats=True)[4])
    stats = {}

    def walk(node):
        if "leaf" in node:
            stats[node["nodeid"]] = (node["leaf"], node["cover"])
        for child in node.get("children", ()):
            walk(child)

    walk(tree)
    ids, g_ours, h_ours = leaf_sums(leaf, fifth)
    value, cover = np.array([stats[i] for i in ids]).T
    np.testing.assert_allclose(h_ours, cover, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g_ours, -value * cover, rtol=1e-5, atol=1e-6 * np.abs(value * cover).max())


@pytest.mark.parametrize("objective,lgb_params,params,rtol", [
    # LightGBM reads the sigmoid from a table of 2^20 bins over [-50, 50): ~1e-4 relative
    ("lambdarank", {}, RankingParams("ndcg", lightgbm=True, num_pair=30, gain=tuple(2.0**np.arange(31) - 1)), 2e-4),
    ("lambdarank", {"lambdarank_truncation_level": 3, "label_gain": [0, 1, 2, 6]},
     RankingParams("ndcg", lightgbm=True, num_pair=3, gain=(0.0, 1.0, 2.0, 6.0)), 2e-4),
    ("rank_xendcg", {}, RankingParams("xendcg", lightgbm=True), 1e-5),
])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradients_equal_lightgbm(objective, lgb_params, params, rtol, weighted):
    label, group_ptr, margin = queries(seed=7)
    weight = rng.uniform(0.5, 2.0, label.shape[0]) if weighted else None  # LightGBM weighs rows
    leaf, ids, g_lgb, h_lgb = lightgbm_leaf_sums({"objective": objective, **lgb_params}, label, group_ptr, margin,
                                                 weight)
    assert ids.shape[0] > 0.6 * label.shape[0]
    ours = our_gradients(params, label, group_ptr, margin, np.empty(0) if weight is None else weight)
    _, g_ours, h_ours = leaf_sums(leaf, ours)
    np.testing.assert_allclose(g_ours, g_lgb, rtol=rtol, atol=rtol * np.abs(g_lgb).max())
    np.testing.assert_allclose(h_ours, h_lgb, rtol=rtol, atol=rtol * h_lgb.max())


def ranknet_loss(margin, label, group_ptr):
    """Sum over every pair with different labels of log(1 + exp(-(s_high - s_low)))."""
    total = 0.0
    for g in range(group_ptr.shape[0] - 1):
        s, y = margin[group_ptr[g]:group_ptr[g + 1]], label[group_ptr[g]:group_ptr[g + 1]]
        for i in range(s.shape[0]):
            for j in range(s.shape[0]):
                if y[i] > y[j]:
                    total += np.logaddexp(0.0, -(s[i] - s[j]))
    return total


def test_pairwise_without_normalisation_is_the_ranknet_gradient():
    """Every pair (topk over the whole query), no normalisation: the gradient of the RankNet loss,
    and the hessian twice its diagonal curvature (XGBoost's factor 2), by finite differences."""
    label, group_ptr, margin = queries(n_queries=5, max_size=6, seed=11)
    margin = rng.normal(size=label.shape[0])
    params = RankingParams("pairwise", num_pair=100, normalization=False, score_normalization=False)
    gh = our_gradients(params, label, group_ptr, margin)
    eps = 1e-4
    for i in range(label.shape[0]):
        step = np.zeros_like(margin)
        step[i] = eps
        up, mid, down = (ranknet_loss(margin + s, label, group_ptr) for s in (step, 0 * step, -step))
        assert gh[i, 0] == pytest.approx((up - down) / (2 * eps), rel=1e-4, abs=1e-6)
        assert gh[i, 1] == pytest.approx(2 * (up - 2 * mid + down) / eps**2, rel=1e-3, abs=1e-4)


def test_one_document_queries_get_no_gradient():
    label = np.array([2.0, 1.0, 0.0, 3.0, 1.0])
    group_ptr = np.array([0, 1, 4, 5])
    for params in (RankingParams("ndcg"), RankingParams("ndcg", truncated=False, num_pair=1),
                   RankingParams("xendcg", lightgbm=True)):
        gh = our_gradients(params, label, group_ptr, rng.normal(size=5))
        assert np.all(gh[[0, 4]] == 0.0) and np.all(gh[1:4, 1] > 0.0)


# ----- per-query metrics against brute force ---------------------------------------------------------------
def brute_force(metric, pred, label, gain, k):
    """One query's NDCG@k / AP@k / precision@k by the textbook definitions (stable ranking by
    score: ties keep the row order), None for NDCG/AP of a query without relevant documents."""
    ranked = sorted(range(len(pred)), key=lambda i: -pred[i])  # sorted() is stable
    k = min(k, len(pred))
    if metric == "ndcg":
        dcg = sum(gain[ranked[i]] / np.log2(i + 2) for i in range(k))
        ideal = sorted(gain, reverse=True)
        idcg = sum(ideal[i] / np.log2(i + 2) for i in range(k))
        return dcg / idcg if idcg > 0 else None
    if metric == "pre":
        return sum(label[ranked[i]] for i in range(k)) / k
    relevant = sum(label)
    if relevant == 0:
        return None
    precisions = [sum(label[ranked[j]] for j in range(i + 1)) / (i + 1) for i in range(k) if label[ranked[i]]]
    return sum(precisions) / min(relevant, k)


@pytest.mark.parametrize("metric", ["ndcg", "map", "pre"])
@pytest.mark.parametrize("k", [1, 3, 100])
def test_query_metrics_equal_brute_force(metric, k):
    label, group_ptr, pred = queries(n_queries=25, seed=13)
    if metric != "ndcg":
        label = (label > 1).astype(np.float64)
    gain = label_gains(label, "exponential")
    out = np.empty(group_ptr.shape[0] - 1)
    if metric == "ndcg":
        query_ndcg(pred, label, gain, group_ptr, k, -1.0, out)
    elif metric == "map":
        query_average_precision(pred, label, group_ptr, k, -1.0, out)
    else:
        query_precision(pred, label, group_ptr, k, out)
    for g in range(group_ptr.shape[0] - 1):
        rows = slice(group_ptr[g], group_ptr[g + 1])
        expected = brute_force(metric, list(pred[rows]), list(label[rows]), list(gain[rows]), k)
        assert out[g] == pytest.approx(-1.0 if expected is None else expected, rel=1e-12)


RANKING_SCRIPT = """
import json, numpy as np
from bindings import Dataset, train
from bindings.metrics import evaluate
rng = np.random.default_rng(0)
sizes = rng.integers(1, 12, 25)
qid = np.repeat(np.arange(25), sizes)
X = rng.integers(0, 5, (len(qid), 3)).astype(float)
y = rng.integers(0, 4, len(qid)).astype(float)
out = []
for params in ({"objective": "rank:ndcg", "lambdarank_unbiased": True}, {"objective": "rank:map"},
               {"objective": "rank:pairwise", "lambdarank_pair_method": "mean"}, {"objective": "rank_xendcg"}):
    label = (y > 1).astype(float) if params["objective"] == "rank:map" else y
    pred = train({**params, "max_depth": 3, "max_bin": 8}, Dataset(X, label, qid=qid), 3).predict(X)
    group_ptr = Dataset(X, qid=qid).group_ptr
    out.append(pred.tolist() + [evaluate("ndcg@3", y, pred, None, group_ptr)]
               + [evaluate(m, (y > 1).astype(float), pred, None, group_ptr) for m in ("map@2-", "pre@2")])
print(json.dumps(out))
"""


def test_interpreted_ranking_kernels_match_compiled(run_script):
    """The ranking kernels' bodies as plain Python (NUMBA_DISABLE_JIT=1) give the compiled results."""
    np.testing.assert_allclose(run_script(RANKING_SCRIPT, True), run_script(RANKING_SCRIPT, False), rtol=1e-6,
                               atol=1e-7)
