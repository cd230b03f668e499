"""scipy.sparse input: the same model as the dense twin by both training paths, prediction on the
CSR rows, memory per stored entry and per row (never per cell), bad input."""
import functools
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import bindings.sparse_input as sparse_input
from bindings import Dataset, GBDTClassifier, GBDTRegressor, train
from bindings.features import as_feature_matrix
from gbdt.bundling import BundledBins
from gbdt.sparse_binning import SparseBins
from tests.gbdt.test_sparse_partition import reversed_rows


def sparse_problem(n=1500, n_features=12, seed=0, density=0.1):
    """CSR features (``density`` of the cells stored, a few stored NaN and zeros) and a label that depends on them."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, n_features, density=density, random_state=seed, format="csr")
    X.data = rng.standard_normal(X.nnz)
    X.data[::23] = np.nan
    X.data[5::31] = 0.0
    dense = X.toarray()
    score = np.nan_to_num(dense[:, 0]) - 2 * np.nan_to_num(dense[:, 1]) + (dense[:, 2] != 0)
    y = (score + 0.3 * rng.standard_normal(n) > 0.2).astype(float)
    return X, dense, y, rng.exponential(size=n)


def assert_same_model(a, b, exact):
    """The same trees (features, thresholds, default directions); leaf values, gains and covers
    equal bit for bit when ``exact``, else to rounding (sums added in another order)."""
    assert len(a.trees) == len(b.trees)
    for x, y in zip(a.trees, b.trees):
        for field in ("feature", "threshold", "bin_threshold", "default_left", "left", "right"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field))
        for field in ("value", "gain", "cover"):
            compare = np.testing.assert_array_equal if exact else functools.partial(np.testing.assert_allclose,
                                                                                     rtol=1e-9, atol=1e-12)
            compare(getattr(x, field), getattr(y, field))


@pytest.fixture(params=["sparse", "dense"])
def path(request, monkeypatch):
    """Which training path every CSR of the test takes, whatever its density."""
    monkeypatch.setattr(sparse_input, "SPARSE_MAX_DENSITY", 1.0 if request.param == "sparse" else 0.0)
    return request.param


@pytest.mark.parametrize("params", [{"objective": "binary:logistic", "subsample": 0.8},
                                    {"objective": "reg:squarederror", "grow_policy": "lossguide", "max_leaves": 9},
                                    {"objective": "binary:logistic", "use_quantized_grad": True}])
def test_sparse_and_dense_twin_give_the_same_model(params, path):
    """Both training paths of a CSR (row sampling, lossguide, quantised gradients; an eval set in
    CSC) give the model of its dense twin: bit for bit where sums are exact (integer gradients, or
    the dense path's identical bins), to rounding otherwise."""
    X, dense, y, w = sparse_problem()
    params = {**params, "max_depth": 4, "max_bin": 64, "n_jobs": 2}
    evals_sparse, evals_dense = {}, {}
    from_sparse = train(params, Dataset(X, y, weight=w), 8, evals=[(Dataset(X.tocsc(), y), "v")],
                        evals_result=evals_sparse)
    from_dense = train(params, Dataset(dense, y, weight=w), 8, evals=[(Dataset(dense, y), "v")],
                       evals_result=evals_dense)
    assert_same_model(from_sparse, from_dense, exact=path == "dense" or params.get("use_quantized_grad", False))
    for metric, values in evals_dense["v"].items():
        np.testing.assert_allclose(evals_sparse["v"][metric], values, rtol=1e-9)
    assert len(from_sparse.trees) == 8 and from_sparse.trees[0].n_nodes > 3


def test_density_rule_picks_the_path():
    """CSR at or below SPARSE_MAX_DENSITY trains from its non-zeros, denser CSR from the (n, F) bins."""
    for density, kind in ((0.02, SparseBins), (sparse_input.SPARSE_MAX_DENSITY, SparseBins), (0.5, np.ndarray)):
        X = sp.random(400, 50, density=density, random_state=0, format="csr")
        data = Dataset(X, np.zeros(400))
        assert isinstance(data.binned(*data.bin_edges(32), 32), kind)


@pytest.mark.parametrize("params", [{"subsample": 0.7}, {"use_quantized_grad": True},
                                    {"grow_policy": "lossguide", "max_leaves": 12, "max_depth": 0}])
def test_one_hot_columns_train_bundled_as_their_dense_twin(params):
    """One-hot encoded variables (one with a stored NaN, one with several values) are bundled
    (``gbdt.bundling``) and give the dense twin's model, eval metric and predictions."""
    rng = np.random.default_rng(7)
    n = 3000
    codes = rng.integers(0, 20, (n, 3))
    X = sp.lil_matrix((n, 60))
    for v in range(3):
        X[np.arange(n), 20 * v + codes[:, v]] = 1.0 + (v == 1) * codes[:, 1] % 3
    X[np.flatnonzero(codes[:, 0] == 4)[:40], 4] = np.nan
    X = X.tocsr()
    dense = X.toarray()
    y = ((codes[:, 0] < 6) ^ (codes[:, 2] % 4 == 0) ^ np.isnan(dense[:, 4]) | (rng.random(n) < 0.1)).astype(float)
    data = Dataset(X, y)
    assert isinstance(data.binned(*data.bin_edges(256), 256), BundledBins)
    full = {"objective": "binary:logistic", "max_depth": 4, "n_jobs": 2, **params}
    history, dense_history = {}, {}
    booster = train(full, data, 6, evals=[(Dataset(X, y), "t")], evals_result=history)
    twin = train(full, Dataset(dense, y), 6, evals=[(Dataset(dense, y), "t")], evals_result=dense_history)
    assert_same_model(booster, twin, exact=params.get("use_quantized_grad", False))
    np.testing.assert_allclose(history["t"]["logloss"], dense_history["t"]["logloss"], rtol=1e-9)
    np.testing.assert_allclose(booster.predict(X), twin.predict(dense), rtol=1e-9)


def test_stored_nan_is_missing_and_absent_entries_are_zero(path):
    """A label that tells stored NaN from absent (zero) entries is learned the same from the CSR
    as from its dense twin, and the two kinds of rows predict differently."""
    rng = np.random.default_rng(5)
    n = 2000
    X = sp.random(n, 5, density=0.3, random_state=5, format="lil")
    missing = rng.random(n) < 0.2
    X[np.flatnonzero(missing), 0] = np.nan
    X = X.tocsr()
    dense = X.toarray()
    y = np.where(np.isnan(dense[:, 0]), 1.0, np.where(dense[:, 0] == 0.0, 0.0, (rng.random(n) < 0.5) * 1.0))
    params = {"objective": "binary:logistic", "max_depth": 3, "n_jobs": 1}
    booster = train(params, Dataset(X, y), 10)
    assert_same_model(booster, train(params, Dataset(dense, y), 10), exact=path == "dense")
    p_nan, p_zero = booster.predict(sp.csr_matrix(np.array([[np.nan, 0, 0, 0, 0], [0.0, 0, 0, 0, 0]])))
    assert p_nan > 0.9 and p_zero < 0.1


def test_int64_indices_and_unsorted_rows_train_the_same_model():
    """scipy indexes past 2**31 entries with int64: such a matrix (here small) trains as its int32
    copy; so does one whose rows list their columns out of order (a sorted copy is used, the
    caller's matrix is left as it was)."""
    X, dense, y, _ = sparse_problem()
    params = {"objective": "binary:logistic", "max_depth": 3, "n_jobs": 1}
    expected = train(params, Dataset(X, y), 4).to_dict()
    wide = X.copy()
    wide.indptr, wide.indices = wide.indptr.astype(np.int64), wide.indices.astype(np.int64)
    assert train(params, Dataset(wide, y), 4).to_dict() == expected
    unsorted = reversed_rows(X)
    before = unsorted.indices.copy()
    assert train(params, Dataset(unsorted, y), 4).to_dict() == expected
    np.testing.assert_array_equal(unsorted.indices, before)


def test_leaf_ids_and_contributions_of_wide_sparse_rows_equal_dense(monkeypatch):
    """Leaf ids and TreeSHAP walk only the columns the trees split on (a few of 400 here): bit for
    bit the dense answers, zero contributions for the other columns; a forest without a split walks
    no column at all."""
    X, _, y, _ = sparse_problem(n=600, n_features=400, density=0.02)
    dense = X.toarray()
    monkeypatch.setattr(sparse_input, "PREDICT_CHUNK_BYTES", 8 * 400 * 50)  # several blocks, dense or not
    for params in ({"max_depth": 3}, {"max_depth": 3, "objective": "multi:softprob", "num_class": 3},
                   {"max_depth": 3, "min_split_loss": 1e9}):
        labels = y if "num_class" not in params else y + (np.nan_to_num(dense[:, 1]) < 0)
        booster = train({**params, "n_jobs": 1}, Dataset(dense, labels), 4)
        used = {f for tree in booster.trees for f in tree.feature[tree.feature >= 0]}
        assert len(used) < 400 and (len(used) > 0) == ("min_split_loss" not in params)
        np.testing.assert_array_equal(booster.predict(X, pred_leaf=True), booster.predict(dense, pred_leaf=True))
        contributions = booster.predict(X, pred_contribs=True)
        np.testing.assert_array_equal(contributions, booster.predict(dense, pred_contribs=True))
        unused = np.setdiff1d(np.arange(400), list(used))
        assert not contributions[..., unused].any()


@pytest.mark.parametrize("objective", ["binary:logistic", "multi:softprob"])
@pytest.mark.parametrize("density", [0.1, 0.6])
def test_predict_on_sparse_rows_equals_dense(monkeypatch, objective, density):
    """Margins walk the CSR rows at any density, bit for bit the dense twin's (binary and
    multiclass; stored NaN and zeros, empty rows, rows with unsorted or duplicate entries, which
    add up as in ``toarray``; CSR, CSC, COO, csr_array, Dataset); leaf ids go by dense blocks of the split
    features."""
    X, _, y, _ = sparse_problem(density=density)
    X = sp.vstack([X[:40], sp.csr_matrix((70, X.shape[1])), X[110:]], format="csr")  # a whole empty block
    row = np.flatnonzero(np.diff(X.indptr) >= 2)[0]  # its stored values v as two entries each: v / 4 and 3v / 4
    lo, hi = X.indptr[row], X.indptr[row + 1]
    split = sp.csr_matrix((np.insert(X.data, hi, 0.75 * X.data[lo:hi]), np.insert(X.indices, hi, X.indices[lo:hi]),
                           X.indptr + np.where(np.arange(X.shape[0] + 1) > row, hi - lo, 0)), shape=X.shape)
    split.data[lo:hi] *= 0.25
    assert split.nnz == X.nnz + hi - lo
    dense = X.toarray()
    params = {"objective": objective, "max_depth": 4, "n_jobs": 1}
    if objective == "multi:softprob":
        params["num_class"], y = 3, np.argmax(np.nan_to_num(dense[:, :3]), axis=1).astype(float)
    booster = train(params, Dataset(dense, y), 5)
    # a chunk of 100 rows: 15 chunks, the last one partial
    monkeypatch.setattr(sparse_input, "PREDICT_CHUNK_BYTES", 100 * 8 * X.shape[1])
    np.testing.assert_array_equal(booster.predict(X, pred_leaf=True), booster.predict(dense, pred_leaf=True))
    expected = booster.predict(dense, output_margin=True)
    for fmt in ("csr", "csc", "coo"):
        np.testing.assert_array_equal(booster.predict(X.asformat(fmt), output_margin=True), expected)
    np.testing.assert_array_equal(booster.predict(sp.csr_array(X), output_margin=True), expected)
    np.testing.assert_array_equal(booster.predict(reversed_rows(X), output_margin=True), expected)
    np.testing.assert_array_equal(booster.predict(split, output_margin=True),
                                  booster.predict(split.toarray(), output_margin=True))
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


def test_memory_is_per_entry_and_per_row_never_per_cell():
    """Dataset, training (with row sampling: trees replayed on the binned rows) and prediction
    from a 40000 x 400 CSR at 0.5% density stay within per-row state (gradients, margins, row
    buffers: 80 bytes a row) and per-entry arrays (60 bytes a stored entry): less than one
    (n, F) uint8 matrix, which the sparse path never makes (a float64 copy would be 128 MB)."""
    n, n_features = 40_000, 400
    X = sp.random(n, n_features, density=0.005, random_state=1, format="csr")
    y = (np.asarray(X[:, 0].todense()).ravel() > 0.5).astype(float)
    params = {"max_depth": 3, "max_bin": 16, "n_jobs": 1, "subsample": 0.9}
    train(params, Dataset(X[:100], y[:100]), 2).predict(X[:100])  # compile/load kernels outside the trace
    tracemalloc.start()
    try:
        booster = train(params, Dataset(X, y), 2)
        booster.predict(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert booster.trees[0].feature[0] == 0  # it learned from the sparse column
    budget = 80 * n + 60 * X.nnz + (2 << 20)
    assert budget < n * n_features
    assert peak < budget, f"peak {peak / 1e6:.1f} MB, budget {budget / 1e6:.1f} MB (an (n, F) bin matrix: {n * n_features / 1e6:.0f} MB)"
