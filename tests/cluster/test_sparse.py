"""Dask arrays of scipy.sparse blocks: data- and feature-parallel fits on the sparse path equal the
local fit on the same CSR matrix (bit for bit with quantised gradients, to rounding otherwise),
prediction block by block, compact histograms between shards, and the errors of bad blocks."""
import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp

import cluster
from bindings import Dataset, train
from cluster.sklearn import DaskGBDTClassifier
from tests.bindings.test_sparse import assert_same_model

CHUNKS = (700, 900, 400)  # unequal row blocks, two workers


def text_like(n=sum(CHUNKS), n_features=300, seed=0):
    """CSR like word counts (Zipf-like column popularity, ~8 entries a row), with stored NaN and
    stored zeros, and a label that depends on a few columns."""
    rng = np.random.default_rng(seed)
    per_row = rng.poisson(8, n)
    popularity = 1.0 / np.arange(1, n_features + 1)
    cols = rng.choice(n_features, per_row.sum(), p=popularity / popularity.sum())
    rows = np.repeat(np.arange(n), per_row)
    X = sp.csr_matrix((rng.poisson(1.0, cols.shape[0]) + 1.0, (rows, cols)), shape=(n, n_features))  # duplicates add
    X.data[::37] = np.nan
    X.data[3::41] = 0.0
    dense = X.toarray()
    score = np.nan_to_num(dense[:, 0]) - np.nan_to_num(dense[:, 2]) + 2 * (dense[:, 7] > 0) + np.isnan(dense[:, 1])
    y = (score + 0.5 * rng.standard_normal(n) > 1.0).astype(float)
    return X, y


def one_hot(n=sum(CHUNKS), seed=1):
    """Three categorical variables one-hot encoded into 60 columns (one stored NaN column entry)."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 20, (n, 3))
    rows = np.repeat(np.arange(n), 3)
    X = sp.csr_matrix((np.ones(3 * n), (rows, (codes + [0, 20, 40]).ravel())), shape=(n, 60)).tolil()
    X[np.flatnonzero(codes[:, 0] == 4)[:30], 4] = np.nan
    X = X.tocsr()
    y = ((codes[:, 0] < 6) ^ (codes[:, 2] % 4 == 0) | (rng.random(n) < 0.1)).astype(float)
    return X, y


def sparse_blocks(X, chunks=CHUNKS):
    return da.from_array(X, chunks=(chunks, X.shape[1]), asarray=False)


@pytest.mark.parametrize("search", ["shards", "leader"])
@pytest.mark.parametrize("quantized", [True, False])
@pytest.mark.parametrize("data,form", [(text_like, "SparseBins"), (one_hot, "BundledBins")])
def test_sparse_blocks_train_as_the_local_csr_fit(client, data, form, quantized, search):
    """Two shards bin their CSR rows on the sparse path (text-like: ``SparseBins``; one-hot columns:
    bundled) with the local edges, and the model is the local fit's on the same CSR: bit for bit
    with quantised gradients, to rounding otherwise (partial sums added across shards)."""
    X, y = data()
    params = {"objective": "binary:logistic", "max_depth": 4, "max_bin": 64, "n_jobs": 1, "subsample": 0.8,
              "use_quantized_grad": quantized}
    dist = cluster.train(client, params, sparse_blocks(X), da.from_array(y, chunks=(CHUNKS,)), num_boost_round=6,
                         min_rows_per_worker=1, split_search=search)
    local = train(params, Dataset(X, y), 6)
    assert dist.fit_profile["bins"] == [form, form] and len(dist.rows_per_worker) == 2
    assert_same_model(dist, local, exact=quantized)
    assert all(t.n_nodes > 7 for t in local.trees)
    np.testing.assert_allclose(dist.predict(X), local.predict(X), rtol=1e-9)


@pytest.mark.parametrize("search", ["shards", "leader"])
@pytest.mark.parametrize("data", [text_like, one_hot])
def test_feature_parallel_sparse_columns_train_as_the_local_csr_fit(client, data, search):
    """Feature-parallel: every shard holds all rows of its CSR columns, bins them exactly (the local
    edges) on its columns' own path, and routes rows for splits on them: the local model, bit for
    bit with quantised gradients."""
    X, y = data()
    params = {"objective": "binary:logistic", "max_depth": 4, "max_bin": 64, "n_jobs": 1, "use_quantized_grad": True}
    dist = cluster.train(client, params, sparse_blocks(X), da.from_array(y, chunks=(CHUNKS,)), num_boost_round=4,
                         min_rows_per_worker=1, distributed_mode="feature", split_search=search)
    local = train(params, Dataset(X, y), 4)
    assert len(dist.rows_per_worker) == 2 and all(form != "ndarray" for form in dist.fit_profile["bins"])
    assert_same_model(dist, local, exact=True)
    assert all(t.n_nodes > 7 for t in local.trees)


@pytest.mark.parametrize("densities,form", [((0.6, 0.6), "ndarray"), ((0.4, 0.04), "SparseBins")])
def test_the_density_rule_is_decided_over_all_rows(client, densities, form):
    """The density rule is the local one over all rows, decided once, so every shard takes the same
    path: dense bins for dense-enough CSR, the sparse path for a matrix sparse enough overall even
    where one shard's own rows are too dense (0.4 > 0.25); an eval set of CSR blocks is scored as
    locally."""
    rng = np.random.default_rng(3)
    X = sp.vstack([sp.random(1000, 8, density=d, random_state=i, format="csr") for i, d in enumerate(densities)],
                  format="csr")
    y = X @ rng.standard_normal(8) + 0.1 * rng.standard_normal(2000)
    params = {"objective": "reg:squarederror", "max_depth": 3, "n_jobs": 1, "use_quantized_grad": True}
    dist = cluster.train(client, params, sparse_blocks(X, (1000, 1000)), da.from_array(y, chunks=1000),
                         num_boost_round=5, evals=[(sparse_blocks(X), da.from_array(y, chunks=(CHUNKS,)), "train")],
                         min_rows_per_worker=1)
    history = {}
    local = train(params, Dataset(X, y), 5, evals=[(Dataset(X, y), "train")], evals_result=history)
    assert dist.fit_profile["bins"] == [form, form] and sorted(dist.rows_per_worker.values()) == [1000, 1000]
    assert_same_model(dist, local, exact=True)
    np.testing.assert_allclose(dist.evals_result["train"]["rmse"], history["train"]["rmse"], rtol=1e-9)


def test_estimator_fits_and_predicts_sparse_blocks(client):
    """``DaskGBDTClassifier`` fits a dask array of CSR blocks (and an in-memory CSR matrix) and
    predicts it block by block, as the local model predicts the CSR matrix."""
    X, y = text_like()
    est = DaskGBDTClassifier(n_estimators=4, max_depth=3, client=client, min_rows_per_worker=1)
    est.fit(sparse_blocks(X), da.from_array(y, chunks=(CHUNKS,)))
    proba = est.predict_proba(sparse_blocks(X))
    assert isinstance(proba, da.Array)
    np.testing.assert_allclose(proba.compute()[:, 1], est.booster_.predict(X), rtol=1e-12)
    np.testing.assert_array_equal(est.predict(sparse_blocks(X)).compute(), est.booster_.predict(X) > 0.5)
    in_memory = cluster.train(client, {"objective": "binary:logistic", "max_depth": 3, "n_jobs": 1,
                                       "use_quantized_grad": True}, X, y, num_boost_round=3, min_rows_per_worker=1)
    assert_same_model(in_memory, train({"objective": "binary:logistic", "max_depth": 3, "n_jobs": 1,
                                        "use_quantized_grad": True}, Dataset(X, y), 3), exact=True)


def test_sparse_input_errors(client):
    """Mixed dense and sparse blocks (in either mode), and CSR blocks of another width than the
    array's, are named."""
    X, y = text_like(n=600)
    dy = da.from_array(y, chunks=300)
    params = {"objective": "binary:logistic", "n_jobs": 1}
    dense_first = da.from_array(X.toarray(), chunks=(300, X.shape[1]))
    mixed = dense_first.map_blocks(lambda b, block_info=None: sp.csr_matrix(b) if block_info[0]["chunk-location"][0]
                                   else b, dtype=np.float64)
    for mode in ("data", "feature"):
        with pytest.raises(ValueError, match="mixes dense and scipy.sparse blocks"):
            cluster.train(client, params, mixed, dy, num_boost_round=1, min_rows_per_worker=1, distributed_mode=mode)
    narrow = sparse_blocks(X, 300).map_blocks(lambda b: b[:, :-1], dtype=np.float64)  # chunks still say 300
    with pytest.raises(ValueError, match=r"blocks of \[299\] columns but its chunks say 300"):
        cluster.train(client, params, narrow, dy, num_boost_round=1, min_rows_per_worker=1)


def test_shards_exchange_compact_histograms(client):
    """With the shards' search, sparse shards send each feature's own bins only (the compact layout);
    the leader's search moves F x max_bin bins a node (the uniform layout): for the same trees, two
    shards move as many bytes in the uniform layout either way, so the ratio is the layouts'."""
    X, y = text_like()
    params = {"objective": "binary:logistic", "max_depth": 3, "n_jobs": 1, "use_quantized_grad": True}
    fits = {search: cluster.train(client, params, sparse_blocks(X), da.from_array(y, chunks=(CHUNKS,)),
                                  num_boost_round=2, min_rows_per_worker=1, split_search=search)
            for search in ("shards", "leader")}
    assert_same_model(fits["shards"], fits["leader"], exact=True)
    data = Dataset(X, y)
    _, n_edges = data.bin_edges(256)
    compact_bins = int((n_edges + 2).sum())  # value bins (edges + 1) and the missing bin, per feature
    ratio = fits["leader"].traffic_bytes["histograms"] / fits["shards"].traffic_bytes["histograms"]
    assert ratio == pytest.approx(X.shape[1] * 256 / compact_bins, rel=0.15)
