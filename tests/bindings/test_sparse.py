"""scipy.sparse input: the same model as the dense twin, chunked prediction, no dense copy in memory."""
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import bindings.sparse_input as sparse_input
from bindings import Dataset, GBDTClassifier, GBDTRegressor, train
from bindings.features import as_feature_matrix


def sparse_problem(n=1500, n_features=12, seed=0):
    """CSR features (10% dense, a few stored NaN and zeros) and a label that depends on them."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, n_features, density=0.1, random_state=seed, format="csr")
    X.data = rng.standard_normal(X.nnz)
    X.data[::23] = np.nan
    X.data[5::31] = 0.0
    dense = X.toarray()
    score = np.nan_to_num(dense[:, 0]) - 2 * np.nan_to_num(dense[:, 1]) + (dense[:, 2] != 0)
    y = (score + 0.3 * rng.standard_normal(n) > 0.2).astype(float)
    return X, dense, y, rng.exponential(size=n)


@pytest.mark.parametrize("objective", ["binary:logistic", "reg:squarederror"])
def test_sparse_and_dense_twin_give_the_same_model(objective):
    X, dense, y, w = sparse_problem()
    params = {"objective": objective, "max_depth": 4, "max_bin": 64, "subsample": 0.8, "n_jobs": 1}
    evals_sparse, evals_dense = {}, {}
    from_sparse = train(params, Dataset(X, y, weight=w), 8, evals=[(Dataset(X.tocsc(), y), "v")],
                        evals_result=evals_sparse)
    from_dense = train(params, Dataset(dense, y, weight=w), 8, evals=[(Dataset(dense, y), "v")],
                       evals_result=evals_dense)
    assert from_sparse.to_dict() == from_dense.to_dict()
    assert evals_sparse == evals_dense
    assert len(from_sparse.trees) == 8 and from_sparse.trees[0].n_nodes > 3


def test_predict_on_sparse_rows_in_chunks_equals_dense(monkeypatch):
    X, dense, y, _ = sparse_problem()
    booster = train({"objective": "binary:logistic", "max_depth": 4, "n_jobs": 1}, Dataset(dense, y), 5)
    # a chunk of 100 rows: 15 chunks, the last one partial
    monkeypatch.setattr(sparse_input, "PREDICT_CHUNK_BYTES", 100 * 8 * X.shape[1])
    expected = booster.predict(dense, output_margin=True)
    for fmt in ("csr", "csc", "coo"):
        np.testing.assert_array_equal(booster.predict(X.asformat(fmt), output_margin=True), expected)
    np.testing.assert_array_equal(booster.predict(sp.csr_array(X), output_margin=True), expected)
    np.testing.assert_array_equal(booster.predict(Dataset(X)), booster.predict(dense))


def test_sklearn_estimators_accept_sparse():
    X, dense, y, w = sparse_problem()
    clf_sparse = GBDTClassifier(n_estimators=5, n_jobs=1).fit(X, y, sample_weight=w)
    clf_dense = GBDTClassifier(n_estimators=5, n_jobs=1).fit(dense, y, sample_weight=w)
    np.testing.assert_array_equal(clf_sparse.predict_proba(X), clf_dense.predict_proba(dense))
    reg = GBDTRegressor(n_estimators=5, n_jobs=1).fit(X.tocsc(), y, eval_set=[(X, y)])
    np.testing.assert_array_equal(reg.predict(X), reg.predict(dense))


def test_caller_matrix_with_duplicates_is_summed_on_a_copy():
    X = sp.coo_matrix(([1.0, 2.0, 5.0], ([0, 0, 1], [1, 1, 0])), shape=(2, 2)).tocsr(copy=True)
    X.has_canonical_format = False  # scipy keeps duplicates unless asked to sum them
    X.data, X.indices, X.indptr = np.array([1.0, 2.0, 5.0]), np.array([1, 1, 0]), np.array([0, 2, 3])
    data = Dataset(X, [0.0, 1.0])
    np.testing.assert_array_equal(data.data.toarray(), [[0.0, 3.0], [5.0, 0.0]])
    assert X.nnz == 3  # the caller's matrix still holds its duplicate entries


def test_sparse_input_errors():
    with pytest.raises(TypeError, match="sparse.*dtype complex"):
        Dataset(sp.random(4, 3, density=0.5, format="csr", dtype=complex, random_state=0))
    with pytest.raises(ValueError, match="empty"):
        Dataset(sp.csr_matrix((0, 3)))
    with pytest.raises(TypeError, match="scipy.sparse input is not accepted"):
        as_feature_matrix(sp.eye(3, format="csr"), "evals X")  # dense-only callers (cluster/) say so


def test_no_dense_float64_copy_is_made(monkeypatch):
    """Dataset, training and prediction from a 40000 x 400 CSR at 0.5% density: a dense float64
    copy would be 128 MB. What may be allocated: the 16 MB binned matrix twice (row- and
    column-major for the histograms), O(nnz) arrays, and one bounded prediction chunk."""
    n, n_features = 40_000, 400
    X = sp.random(n, n_features, density=0.005, random_state=1, format="csr")
    y = (np.asarray(X[:, 0].todense()).ravel() > 0.5).astype(float)
    params = {"max_depth": 3, "max_bin": 16, "n_jobs": 1}
    train(params, Dataset(X[:100], y[:100]), 2).predict(X[:100])  # compile/load kernels outside the trace
    chunk_bytes = 4 << 20
    monkeypatch.setattr(sparse_input, "PREDICT_CHUNK_BYTES", chunk_bytes)
    tracemalloc.start()
    try:
        booster = train(params, Dataset(X, y), 2)
        booster.predict(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert booster.trees[0].feature[0] == 0  # it learned from the sparse column
    budget = 2 * n * n_features + chunk_bytes + 60 * X.nnz + (4 << 20)
    assert peak < budget, f"peak {peak / 1e6:.0f} MB, budget {budget / 1e6:.0f} MB (dense copy: {n * n_features * 8 / 1e6:.0f} MB)"
