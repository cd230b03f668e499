"""tree_method on Dask: exact is refused, as XGBoost refuses it (its column blocks need every row in
one process), before any worker is contacted; approx is distributed: the shards keep their raw rows
and bin them anew before each tree at edges the leader cuts from the sampled rows' hessians
(``cluster.sketch.HessianSketch``). With every row sampled (at most ``sketch_rows`` rows) the edges are
the local approx fit's bit for bit, so are the trees' features and raw thresholds, in both modes and both
split searches; leaf values (and predictions) agree to rounding: the shards' histograms are summed in
another order than one machine's (1 ulp seen with weights)."""
import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score

import cluster
from bindings import Dataset, train
from cluster import DaskGBDTRegressor

rng = np.random.default_rng(3)
X = rng.standard_normal((3000, 6))
X[:, 5] = np.round(X[:, 5] * 2)  # few distinct values: edges at midpoints, many ties in the sketch
X[rng.random(X.shape) < 0.1] = np.nan
signal = np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 2]) + 0.3 * np.nan_to_num(X[:, 5])
y = (signal + rng.standard_normal(3000) > 0).astype(float)
y3 = np.digitize(signal, [-0.5, 0.5]).astype(float)
w = rng.uniform(0.5, 2.0, 3000)
CHUNKS = 1000


def dask_fit(client, params, label, rounds, weight=None, **kwargs):
    return cluster.train(client, params, da.from_array(X, chunks=(CHUNKS, 6)), da.from_array(label, chunks=CHUNKS),
                         sample_weight=None if weight is None else da.from_array(weight, chunks=CHUNKS),
                         num_boost_round=rounds, min_rows_per_worker=1, **kwargs)


@pytest.mark.parametrize("search", ["shards", "leader"])
@pytest.mark.parametrize("mode", ["data", "feature"])
@pytest.mark.parametrize("params,label,weight", [
    ({"objective": "binary:logistic", "max_depth": 4, "max_bin": 32}, y, None),
    ({"objective": "reg:squarederror", "max_depth": 3, "max_bin": 16, "reg_lambda": 0.5}, signal, w),
    ({"objective": "binary:logistic", "max_depth": 3, "max_bin": 64, "use_quantized_grad": True}, y, w),
])
def test_approx_equals_the_local_approx_model(client, params, label, weight, mode, search):
    """2 workers, NaN in X: the same splits (raw thresholds only), the same predictions to rounding."""
    params = {**params, "tree_method": "approx"}
    local = train(params, Dataset(X, label, weight=weight), 4)
    dist = dask_fit(client, params, label, 4, weight, distributed_mode=mode, split_search=search)
    assert len(dist.rows_per_worker) == 2
    np.testing.assert_allclose(dist.predict(X), local.predict(X), rtol=1e-12, atol=1e-12)
    assert len(dist.trees) == len(local.trees)
    for ours, theirs in zip(dist.trees, local.trees):
        np.testing.assert_array_equal(ours.feature, theirs.feature)
        np.testing.assert_array_equal(ours.threshold, theirs.threshold)
        assert (ours.bin_threshold == -1).all()
    # squared error's hessians are the weights, whose quantiles hist's edges are too: the same model;
    # the logistic hessians move each tree, and so do approx's edges
    hist = train({**params, "tree_method": "hist"}, Dataset(X, label, weight=weight), 4).predict(X)
    assert np.allclose(hist, dist.predict(X), rtol=1e-12, atol=1e-12) == (params["objective"] == "reg:squarederror")


def test_approx_multiclass_subsample_and_eval_sets_equal_local(client):
    """One tree per output, each on its output's hessians; row sampling (margins replayed on the raw
    rows) and an evaluation set (predicted raw) as locally."""
    params = {"objective": "multi:softprob", "num_class": 3, "tree_method": "approx", "max_depth": 3,
              "max_bin": 24, "subsample": 0.7, "eval_metric": "mlogloss"}
    history = {}
    local = train(params, Dataset(X, y3), 3, evals=[(Dataset(X[:900], y3[:900]), "head")], evals_result=history)
    dist = dask_fit(client, params, y3, 3, evals=[(da.from_array(X[:900], chunks=300), da.from_array(y3[:900], 300),
                                                   "head")])
    np.testing.assert_allclose(dist.predict(X), local.predict(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dist.evals_result["head"]["mlogloss"], history["head"]["mlogloss"], rtol=1e-12)


@pytest.mark.parametrize("mode", ["data", "feature"])
def test_approx_with_a_category_column_of_a_dask_frame_equals_local(client, mode):
    """Category codes keep their own bins (code c in bin c) in every tree's edges, as locally."""
    import dask.dataframe as dd
    import pandas as pd

    city = np.random.default_rng(4).choice(["ams", "ber", "cph", "dub"], 3000)
    frame = pd.DataFrame({"city": pd.Categorical(city), "x": X[:, 0], "z": X[:, 3]})
    label = (np.isin(city, ["ber", "dub"]) + 0.5 * np.nan_to_num(X[:, 0]) > 0.6).astype(float)
    params = {"objective": "binary:logistic", "tree_method": "approx", "max_depth": 3, "max_bin": 16}
    dist = cluster.train(client, params, dd.from_pandas(frame, npartitions=3), da.from_array(label, chunks=CHUNKS),
                         num_boost_round=4, distributed_mode=mode, min_rows_per_worker=1)
    local = train(params, Dataset(frame, label), 4)
    assert any(t.cat_bits.size for t in dist.trees)  # some split is categorical
    np.testing.assert_allclose(dist.predict(frame), local.predict(frame), rtol=1e-12, atol=1e-12)


def test_approx_sketch_bytes_per_tree(client):
    """Per tree, data-parallel on 2 workers: the leader receives the other shard's hessians (4 bytes a
    sampled row, float32) and the other shard the edges of every feature ((max_bin - 1) float64 + an
    int32 count each); feature-parallel shards hold every row's hessians, so only the edges travel."""
    params = {"objective": "binary:logistic", "tree_method": "approx", "max_depth": 3, "max_bin": 32}
    data = dask_fit(client, params, y, 3)
    follower_rows = data.rows_per_worker[data.fit_profile["workers"][1]]
    edges = 6 * (31 * 8 + 4)
    assert data.traffic_bytes["sketch"] == 3 * (4 * follower_rows + edges)
    feature = dask_fit(client, params, y, 3, distributed_mode="feature")
    assert feature.traffic_bytes["sketch"] == 3 * edges
    assert dask_fit(client, {**params, "tree_method": "hist"}, y, 3).traffic_bytes["sketch"] == 0


def test_approx_auc_near_xgboost_dask_approx(client):
    """Against xgboost.dask with tree_method='approx' on the same 2-worker cluster: held-out AUC within 0.01."""
    import xgboost.dask  # noqa: F401  (registers xgb.dask)

    features, labels = make_classification(8000, 10, n_informative=6, flip_y=0.1, random_state=0)
    params = {"objective": "binary:logistic", "tree_method": "approx", "max_depth": 4, "max_bin": 64,
              "learning_rate": 0.3}
    dX, dy = da.from_array(features[:6000], chunks=(3000, 10)), da.from_array(labels[:6000].astype(float), 3000)
    ours = cluster.train(client, params, dX, dy, num_boost_round=10, min_rows_per_worker=1)
    theirs = xgb.dask.train(client, {**params, "nthread": 1}, xgb.dask.DaskDMatrix(client, dX, dy),
                            num_boost_round=10)["booster"]
    auc = roc_auc_score(labels[6000:], ours.predict(features[6000:]))
    assert auc == pytest.approx(roc_auc_score(labels[6000:], theirs.predict(xgb.DMatrix(features[6000:]))), abs=0.01)
    assert auc > 0.8


def test_approx_refuses_sparse_blocks(client):
    """Local approx needs dense rows (it keeps the raw values); so does the Dask fit, with a clear error."""
    Xs = sp.random(400, 5, density=0.3, format="csr", random_state=0)
    with pytest.raises(ValueError, match="tree_method='approx' needs dense X"):
        cluster.train(client, {"tree_method": "approx"}, da.from_array(Xs, chunks=(200, 5), asarray=False),
                      da.from_array(np.arange(400.0) % 2, chunks=200), num_boost_round=2, min_rows_per_worker=1)
    with pytest.raises(ValueError, match="tree_method='approx' needs dense dtrain"):
        train({"tree_method": "approx"}, Dataset(Xs, np.arange(400.0) % 2), 2)


def test_train_refuses_exact():
    X, y = np.zeros((8, 2)), np.arange(8.0)
    with pytest.raises(ValueError, match="tree_method='exact' is not supported on Dask"):
        cluster.train(None, {"tree_method": "exact"}, X, y, num_boost_round=2)


def test_estimator_refuses_exact():
    with pytest.raises(ValueError, match="tree_method='exact' is not supported on Dask"):
        DaskGBDTRegressor(tree_method="exact", n_estimators=2).fit(np.zeros((8, 2)), np.arange(8.0))
