"""Data-parallel Dask training equals single-machine training on the concatenated data.

These rows are few enough to train on one worker by default; ``min_rows_per_worker=1`` makes the
tests that are about several workers use both."""
import dask.array as da
import numpy as np
import pytest

import cluster
from bindings import Dataset, GBDTClassifier, GBDTRegressor, train

rng = np.random.default_rng(0)
X = rng.standard_normal((6000, 6))
X[rng.random(X.shape) < 0.1] = np.nan
signal = np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 2])
y = (signal + rng.standard_normal(6000) > 0).astype(float)
y3 = np.digitize(signal, [-0.5, 0.5]).astype(float)
w = rng.uniform(0.5, 2.0, 6000)


def squared_error(margin, label):
    """A custom objective (the shards call it on their rows): squared error's gradient and hessian."""
    return margin - label, np.ones_like(margin)


@pytest.mark.parametrize("mode", ["data", "feature"])
@pytest.mark.parametrize("params,label,weight", [
    ({"objective": "binary:logistic", "max_depth": 5}, y, None),
    ({"objective": "binary:logistic", "max_depth": 4, "scale_pos_weight": 3.0, "gamma": 1.0}, y, w),
    ({"objective": "multi:softprob", "num_class": 3, "max_depth": 4}, y3, w),
    ({"objective": "reg:squarederror", "grow_policy": "lossguide", "max_leaves": 12, "max_depth": 0}, signal, w),
    ({"objective": "reg:tweedie", "tweedie_variance_power": 1.3, "max_depth": 4}, np.exp(signal / 2) * y, w),
    ({"objective": "reg:pseudohubererror", "huber_slope": 0.5, "max_depth": 4}, 3 * signal, w),
    ({"objective": "reg:quantileerror", "quantile_alpha": [0.2, 0.8], "max_depth": 4}, signal, w),
    ({"objective": "reg:absoluteerror", "max_depth": 4}, signal, None),
    ({"objective": "binary:hinge", "max_depth": 4}, y, w),
    ({"objective": "reg:squarederror", "max_depth": 4, "interaction_constraints": [[0, 1], [2, 3, 4, 5]]}, signal,
     None),
    ({"objective": squared_error, "max_depth": 4, "base_score": 0.5, "eval_metric": "rmse"}, signal, w),
])
def test_same_model_as_single_machine(client, params, label, weight, mode):
    chunks = (1000, 2500, 2500)  # unequal blocks
    dw = None if weight is None else da.from_array(weight, chunks=(chunks,))
    bst = cluster.train(client, {**params, "n_jobs": 1}, da.from_array(X, chunks=(chunks, 6)),
                        da.from_array(label, chunks=(chunks,)), sample_weight=dw, num_boost_round=8,
                        distributed_mode=mode, min_rows_per_worker=1)
    local = train({**params, "n_jobs": 1}, Dataset(X, label, weight=weight), 8)
    np.testing.assert_allclose(bst.predict(X), local.predict(X), rtol=1e-6, atol=1e-6)
    assert [t.n_nodes for t in bst.trees] == [t.n_nodes for t in local.trees]
    assert bst.loss_params == local.loss_params  # what exports to XGBoost and LightGBM write
    expected_rows = [3500, 2500] if mode == "data" else [6000, 6000]  # blocks stay put when balanced enough
    assert sorted(bst.rows_per_worker.values(), reverse=True) == sorted(expected_rows, reverse=True)


def test_cox_trains_feature_parallel(client):
    """survival:cox couples the rows through its risk sets: feature-parallel shards hold every row,
    so the model and the cox-nloglik of an evaluation set spread over the workers equal the local
    fit's (data-parallel refuses it, see test_bad_input_errors)."""
    label = np.exp(signal) * np.where(y > 0, 1, -1)  # negative: censored
    params = {"objective": "survival:cox", "max_depth": 4, "n_jobs": 1}
    bst = cluster.train(client, params, da.from_array(X, chunks=(3000, 6)), da.from_array(label, chunks=3000),
                        sample_weight=w, num_boost_round=6, evals=[(X[:2000], label[:2000], "head")],
                        distributed_mode="feature", min_rows_per_worker=1)
    history = {}
    local = train(params, Dataset(X, label, weight=w), 6, evals=[(Dataset(X[:2000], label[:2000]), "head")],
                  evals_result=history)
    np.testing.assert_allclose(bst.predict(X), local.predict(X), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(bst.evals_result["head"]["cox-nloglik"], history["head"]["cox-nloglik"], rtol=1e-9)


@pytest.mark.parametrize("objective,label", [("binary:logistic", y), ("reg:absoluteerror", signal)])
def test_row_and_column_sampling_match_single_machine(client, objective, label):
    """Rows are sampled by a hash of their global index, so every placement, and the local fit,
    trains each round on the same rows (and absolute error's leaves take the medians of the same
    sampled residuals); the leader's grower draws the same depth and node features."""
    params = {"objective": objective, "max_depth": 4, "subsample": 0.7, "colsample_bytree": 0.7,
              "colsample_bylevel": 0.8, "colsample_bynode": 0.5, "n_jobs": 1}
    local = train(params, Dataset(X, label), 6)
    for chunks in ((1000, 2500, 2500), (3000, 3000)):
        bst = cluster.train(client, params, da.from_array(X, chunks=(chunks, 6)),
                            da.from_array(label, chunks=(chunks,)), num_boost_round=6, min_rows_per_worker=1)
        np.testing.assert_allclose(bst.predict(X), local.predict(X), rtol=1e-6, atol=1e-6)


def test_balance_moves_few_blocks_and_evens_rows():
    from cluster.placement import balance_blocks

    # every block computed on worker "a": half of them move to the idle worker "b"
    out = balance_blocks([100] * 6, ["a"] * 6, ["a", "b"])
    assert len(out["a"]) == 3 and len(out["b"]) == 3
    # already balanced: nothing moves
    assert balance_blocks([5, 5], ["a", "b"], ["a", "b"]) == {"a": [0], "b": [1]}
    # a single block cannot be split: one worker stays empty
    assert balance_blocks([10], ["b"], ["a", "b"]) == {"a": [], "b": [0]}


def test_single_block_leaves_a_worker_without_data(client):
    bst = cluster.train(client, {"objective": "binary:logistic"}, da.from_array(X, chunks=(6000, 6)),
                        da.from_array(y, chunks=6000), num_boost_round=3, min_rows_per_worker=1)
    assert list(bst.rows_per_worker.values()) == [6000]
    np.testing.assert_allclose(bst.predict(X), train({"objective": "binary:logistic"}, Dataset(X, y), 3).predict(X),
                               rtol=1e-6, atol=1e-6)


def test_estimators_on_dask_collections(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    frame = dd.from_pandas(pd.DataFrame(X, columns=[f"c{i}" for i in range(6)]), npartitions=3)
    labels = np.where(y > 0, "yes", "no")
    clf = cluster.DaskGBDTClassifier(client=client, n_estimators=10, max_depth=4)
    clf.fit(frame, dd.from_pandas(pd.Series(labels), npartitions=3))
    proba = clf.predict_proba(frame)
    assert proba.shape == (6000, 2)
    local = clf.booster_.predict(X)
    np.testing.assert_allclose(proba.compute()[:, 1], local, rtol=1e-12)
    assert (clf.predict(frame).compute() == labels).mean() > 0.7
    assert list(clf.feature_names_in_) == [f"c{i}" for i in range(6)]
    renamed = frame.rename(columns={"c0": "zz"})  # refused at once, before any block is computed
    with pytest.raises(ValueError, match=r"^X feature names differ .* unexpected \['zz'\], missing \['c0'\]"):
        clf.predict_proba(renamed)
    with pytest.raises(ValueError, match="another order"):
        clf.predict(frame[["c1", "c0", "c2", "c3", "c4", "c5"]])
    reg = cluster.DaskGBDTRegressor(client=client, n_estimators=5).fit(da.from_array(X, chunks=2000),
                                                                     da.from_array(signal, chunks=2000))
    np.testing.assert_allclose(reg.predict(da.from_array(X, chunks=1500)).compute(), reg.booster_.predict(X))


def test_eval_set_and_early_stopping(client):
    clf = cluster.DaskGBDTClassifier(client=client, n_estimators=200, learning_rate=0.5, early_stopping_rounds=3,
                                     eval_metric="logloss", min_rows_per_worker=1)
    clf.fit(da.from_array(X[:5000], chunks=2500), da.from_array(y[:5000], chunks=2500),
            eval_set=[(X[5000:], y[5000:])])
    losses = clf.evals_result_["validation_0"]["logloss"]
    assert clf.best_iteration_ == int(np.argmin(losses)) and len(losses) == clf.best_iteration_ + 4


@pytest.mark.parametrize("estimator,local_estimator,labels", [
    (cluster.DaskGBDTClassifier, GBDTClassifier, np.where(y > 0, "yes", "no")),
    (cluster.DaskGBDTRegressor, GBDTRegressor, signal)])
def test_explicit_client_with_dask_eval_sets(client, estimator, local_estimator, labels):
    """An estimator holding its client encodes dask eval labels on the workers without shipping itself
    (a client does not pickle); the metrics equal the local estimator's on the same eval rows."""
    kwargs = {"n_estimators": 4, "max_depth": 3, "n_jobs": 1}
    model = estimator(client=client, min_rows_per_worker=1, **kwargs)
    model.fit(da.from_array(X[:4000], chunks=2000), da.from_array(labels[:4000], chunks=2000),
              eval_set=[(da.from_array(X[4000:], chunks=1000), da.from_array(labels[4000:], chunks=1000))])
    local = local_estimator(**kwargs).fit(X[:4000], labels[:4000], eval_set=[(X[4000:], labels[4000:])])
    assert model.evals_result_.keys() == local.evals_result_.keys() == {"validation_0"}
    for metric, values in local.evals_result_["validation_0"].items():
        np.testing.assert_allclose(model.evals_result_["validation_0"][metric], values, rtol=1e-6)


def test_bad_input_errors(client):
    with pytest.raises(ValueError, match="X has 6000 rows but y has 5999"):
        cluster.train(client, {}, da.from_array(X, chunks=3000), da.from_array(y[:-1], chunks=3000))
    bad = y.copy()
    bad[7] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        cluster.train(client, {}, da.from_array(X, chunks=3000), da.from_array(bad, chunks=3000))
    with pytest.raises(ValueError, match="distributed_mode"):
        cluster.train(client, {}, X, y, distributed_mode="ring")
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        cluster.train(client, {}, da.from_array(X, chunks=3000)[da.from_array(y > 0, chunks=3000)], y)
    with pytest.raises(ValueError, match="'survival:cox' needs every row on each worker"):
        cluster.train(client, {"objective": "survival:cox"}, X, np.exp(signal))
    clf = cluster.DaskGBDTClassifier(client=client, n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(da.from_array(X[:, :3], chunks=1000))
    with pytest.raises(TypeError, match="categorical_features"):
        cluster.DaskGBDTClassifier(client=client, categorical_features=[0]).fit(X, y)


@pytest.mark.parametrize("mode", ["data", "feature"])
def test_categorical_columns_of_dask_frames_train_as_locally(client, mode):
    """A dask DataFrame's ``category`` columns (categories unknown until computed, a missing value,
    a category absent from the training rows) train to the local model of the pandas frame:
    same trees, same predictions, the same metric of a pandas evaluation frame, and the
    estimator's predict on a dask frame maps each partition's category values to the model's codes."""
    import dask.dataframe as dd
    import pandas as pd

    rng_c = np.random.default_rng(3)
    city = rng_c.choice(["ams", "ber", "cph", "dub", "edi", "fra"], 6000).astype(object)
    city[:5] = None
    frame = pd.DataFrame({"city": pd.Categorical(city, categories=["ams", "ber", "cph", "dub", "edi", "fra", "gva"]),
                          "x": X[:, 0], "z": X[:, 3]})
    label = (np.isin(city, ["ber", "dub", "fra"]) + 0.5 * np.nan_to_num(X[:, 0]) > 0.6).astype(float)
    dframe = dd.from_pandas(frame, npartitions=3).clear_divisions()
    dframe["city"] = dframe["city"].cat.as_unknown()
    params = {"objective": "binary:logistic", "max_depth": 4, "n_jobs": 1}
    bst = cluster.train(client, params, dframe, da.from_array(label, chunks=2000), num_boost_round=6,
                        evals=[(frame.iloc[::2], label[::2], "half")], distributed_mode=mode, min_rows_per_worker=1)
    history = {}
    local = train(params, Dataset(frame, label), 6, evals=[(Dataset(frame.iloc[::2], label[::2]), "half")],
                  evals_result=history)
    assert bst.categories == local.categories and bst.feature_names == ["city", "x", "z"]
    np.testing.assert_allclose(bst.evals_result["half"]["logloss"], history["half"]["logloss"], rtol=1e-9)
    assert any(t.cat_bits.size for t in bst.trees)  # some split is categorical
    np.testing.assert_allclose(bst.predict(frame), local.predict(frame), rtol=1e-6, atol=1e-6)
    clf = cluster.DaskGBDTClassifier(client=client, n_estimators=6, max_depth=4, learning_rate=0.3, n_jobs=1,
                                     distributed_mode=mode, min_rows_per_worker=1).fit(dframe, label)
    proba = clf.predict_proba(dframe)
    np.testing.assert_allclose(proba.compute()[:, 1], clf.booster_.predict(frame), rtol=1e-12)


def test_same_model_for_one_or_two_workers_and_label_sorted_rows(client):
    """Placement never changes the model beyond float summation order."""
    params = {"objective": "binary:logistic", "max_depth": 5}
    one = cluster.train(client, params, da.from_array(X, chunks=(6000, 6)), da.from_array(y, chunks=6000),
                        num_boost_round=6)
    two = cluster.train(client, params, da.from_array(X, chunks=(2000, 6)), da.from_array(y, chunks=2000),
                        num_boost_round=6, min_rows_per_worker=1)
    order = np.argsort(y, kind="stable")  # all negatives first: one worker would see a single class
    sorted_rows = cluster.train(client, params, da.from_array(X[order], chunks=(3000, 6)),
                                da.from_array(y[order], chunks=3000), num_boost_round=6, min_rows_per_worker=1)
    assert len(one.rows_per_worker) == 1 and len(two.rows_per_worker) == 2
    for other in (two, sorted_rows):
        np.testing.assert_allclose(other.predict(X), one.predict(X), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["data", "feature"])
def test_quantized_gradients_match_single_machine(client, mode):
    """The shards quantise with scales from the extremes over all rows and draw the rounding by the
    global row index, so they pack the same integers as a single machine."""
    params = {"objective": "binary:logistic", "max_depth": 5, "use_quantized_grad": True, "n_jobs": 1}
    chunks = (1000, 2500, 2500)
    bst = cluster.train(client, params, da.from_array(X, chunks=(chunks, 6)), da.from_array(y, chunks=(chunks,)),
                        num_boost_round=8, distributed_mode=mode, min_rows_per_worker=1)
    local = train(params, Dataset(X, y), 8)
    np.testing.assert_allclose(bst.predict(X), local.predict(X), rtol=1e-6, atol=1e-6)
    assert [t.n_nodes for t in bst.trees] == [t.n_nodes for t in local.trees]
    assert len(bst.rows_per_worker) == 2


@pytest.mark.parametrize("mode,search", [("data", "shards"), ("data", "leader"), ("feature", "leader")])
def test_quantized_histograms_travel_as_integers(client, mode, search):
    """Shards add packed int64 histograms (8 bytes a bin) and dequantise the sum once: half the bytes
    of float64 (gradient, hessian) pairs for trees of the same shape. (Feature-parallel shards that
    search their own features move no histograms at all, see test_scatter.py.)"""
    params = {"objective": "binary:logistic", "max_depth": 2, "n_jobs": 1}
    chunks = (1000, 2500, 2500)
    traffic = {}
    for quantized in (False, True):
        bst = cluster.train(client, {**params, "use_quantized_grad": quantized}, da.from_array(X, chunks=(chunks, 6)),
                            da.from_array(y, chunks=(chunks,)), num_boost_round=4, distributed_mode=mode,
                            min_rows_per_worker=1, split_search=search)
        assert [t.n_nodes for t in bst.trees] == [7] * 4  # every node splits: the same histograms both times
        traffic[quantized] = bst.traffic_bytes["histograms"]
    assert traffic[False] > 0 and traffic[True] * 2 == traffic[False]


def _scattered(client, n_blocks=2):
    """(dX, dy) of X, y scattered block by block to the workers in turn (content-hashed keys), and their futures."""
    workers = sorted(client.scheduler_info()["workers"])
    bounds = np.linspace(0, X.shape[0], n_blocks + 1).astype(int)
    futures, xs, ys = [], [], []
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        fx, fy = client.scatter([X[lo:hi], y[lo:hi]], workers=[workers[i % len(workers)]])
        futures += [fx, fy]
        xs.append(da.from_delayed(fx, shape=(hi - lo, X.shape[1]), dtype=X.dtype))
        ys.append(da.from_delayed(fy, shape=(hi - lo,), dtype=y.dtype))
    return da.concatenate(xs), da.concatenate(ys), futures


@pytest.mark.parametrize("mode", ["data", "feature"])
def test_the_same_data_scattered_again_for_ten_fits(client, mode):
    """Loops and searches scatter the same arrays again for every fit: content-hashed scatter gives the
    same keys each time, so every fit reads blocks its caller (and the previous fit's caller) holds. No fit
    may release or cancel them: after each fit the caller's blocks are still on the workers, and every
    fit gives the local model. (The previous copies are dropped only after the next scatter: dropping
    them just before races with the scatter inside Dask itself, see examples/_dask_blocks.py.)"""
    params = {"objective": "binary:logistic", "max_depth": 3, "n_jobs": 1}
    local = train(params, Dataset(X, y), 2).predict(X)
    held = []
    for _ in range(10):
        dX, dy, futures = _scattered(client)
        assert not held or [f.key for f in futures] == [f.key for f in held]  # the same keys every time
        held = futures
        bst = cluster.train(client, params, dX, dy, num_boost_round=2, distributed_mode=mode, min_rows_per_worker=1)
        np.testing.assert_allclose(bst.predict(X), local, rtol=1e-6, atol=1e-6)
        assert all(client.who_has(futures).values())
        np.testing.assert_array_equal(np.concatenate(client.gather(futures[0::2])), X)


def test_input_blocks_cancelled_before_the_fit_reads_them(client):
    dX, dy, futures = _scattered(client)
    client.cancel(futures[0])
    with pytest.raises(RuntimeError, match="cancelled or forgotten by the scheduler.*hash=False"):
        cluster.train(client, {"max_depth": 2}, dX, dy, num_boost_round=1, min_rows_per_worker=1)
