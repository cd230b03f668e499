"""cv: equal to a hand-rolled loop of train() over scikit-learn's (Stratified)KFold; folds; early stopping."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.model_selection import KFold, StratifiedKFold

import bindings.sparse_input as sparse_input
from bindings import Dataset, cv, train
from bindings.cv import make_folds

PARAMS = {"max_depth": 3, "max_bin": 32, "learning_rate": 0.5, "n_jobs": 1}


def problem(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.standard_normal(n) > 0).astype(float)
    return X, y, rng.exponential(size=n)


def hand_rolled(params, X, y, w, splitter, rounds, metrics):
    """Per-round mean/std over folds of train() evaluated on each fold's train and test rows."""
    per_fold = []
    for tr, te in splitter.split(X, y):
        d_tr, d_te = Dataset(X[tr], y[tr], weight=w[tr]), Dataset(X[te], y[te], weight=w[te])
        history = {}
        train(dict(params, eval_metric=metrics), d_tr, rounds, evals=[(d_tr, "train"), (d_te, "test")],
              evals_result=history)
        per_fold.append(history)
    out = {}
    for m in metrics:
        for name in ("train", "test"):
            values = np.array([h[name][m] for h in per_fold])
            out[f"{name}-{m}-mean"], out[f"{name}-{m}-std"] = values.mean(0), values.std(0)
    return out


@pytest.mark.parametrize("Splitter", [KFold, StratifiedKFold])
def test_cv_equals_hand_rolled_loop_over_sklearn_folds(Splitter):
    X, y, w = problem()
    params = dict(PARAMS, objective="binary:logistic")
    metrics = ["logloss", "auc"]
    splitter = Splitter(n_splits=4, shuffle=True, random_state=0)
    result = cv(params, Dataset(X, y, weight=w), 6, folds=splitter, metrics=metrics)
    expected = hand_rolled(params, X, y, w, splitter, 6, metrics)
    assert isinstance(result, pd.DataFrame) and list(result.columns) == list(expected)
    for key, values in expected.items():
        np.testing.assert_array_equal(result[key].to_numpy(), values, err_msg=key)
    assert result["test-logloss-mean"].iloc[-1] > result["train-logloss-mean"].iloc[-1]


@pytest.mark.parametrize("max_density", [1.0, 0.0])
def test_folds_as_index_pairs_and_sparse_data_give_the_same_result(max_density, monkeypatch):
    """Sparse folds train by the sparse path (max_density 1) or the dense one (0), each the twin's result."""
    monkeypatch.setattr(sparse_input, "SPARSE_MAX_DENSITY", max_density)
    X, y, w = problem(300)
    pairs = make_folds(300, 3, seed=4)
    dense = cv(PARAMS, Dataset(X, y), 4, folds=pairs, as_pandas=False)
    X_sparse = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    from_sparse = cv(PARAMS, Dataset(X_sparse, y), 4, folds=pairs, as_pandas=False)
    from_dense_twin = cv(PARAMS, Dataset(X_sparse.toarray(), y), 4, folds=pairs, as_pandas=False)
    assert isinstance(dense, dict) and list(dense) == ["train-rmse-mean", "train-rmse-std", "test-rmse-mean",
                                                       "test-rmse-std"]
    assert list(from_sparse) == list(from_dense_twin)
    for key, values in from_dense_twin.items():
        np.testing.assert_allclose(from_sparse[key], values, rtol=1e-9, err_msg=key)
    assert cv(PARAMS, Dataset(X, y), 4, nfold=3, seed=4, as_pandas=False) == dense  # same folds from the seed


def test_categorical_columns_reach_every_fold():
    rng = np.random.default_rng(5)
    colour = pd.Categorical(rng.choice(["red", "green", "blue", "grey"], 300))
    frame = pd.DataFrame({"colour": colour, "x": rng.standard_normal(300)})
    y = np.isin(colour, ["red", "grey"]) + 0.1 * rng.standard_normal(300)
    pairs = make_folds(300, 3, seed=1)
    result = cv(PARAMS, Dataset(frame, y), 3, folds=pairs, as_pandas=False)
    expected = []
    for tr, te in pairs:
        d_tr, d_te = Dataset(frame.iloc[tr], y[tr]), Dataset(frame.iloc[te], y[te])
        history = {}
        train(PARAMS, d_tr, 3, evals=[(d_tr, "train"), (d_te, "test")], evals_result=history)
        expected.append(history["test"]["rmse"])
    np.testing.assert_array_equal(result["test-rmse-mean"], np.mean(expected, axis=0))


@pytest.mark.parametrize("stratified", [False, True])
def test_make_folds_partition_rows_and_balance_classes(stratified):
    label = np.r_[np.zeros(70), np.ones(23), np.full(10, 2.0)]
    folds = make_folds(label.size, 4, label=label, stratified=stratified, seed=1)
    tests = np.concatenate([te for _, te in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(label.size))
    sizes = [te.size for _, te in folds]
    assert max(sizes) - min(sizes) <= 1
    for tr, te in folds:
        np.testing.assert_array_equal(np.sort(np.r_[tr, te]), np.arange(label.size))
    counts = np.array([[np.sum(label[te] == c) for c in (0, 1, 2)] for _, te in folds])
    if stratified:
        assert (counts.max(0) - counts.min(0) <= 1).all()
    unshuffled = make_folds(10, 3, shuffle=False)
    np.testing.assert_array_equal(unshuffled[0][1], [0, 1, 2, 3])


@pytest.mark.parametrize("nfold", [2, 4, 7])
def test_unshuffled_stratified_folds_are_scikit_learns(nfold):
    """The logistic meta-estimators hand cv=k to make_folds and compare with scikit-learn's wrappers, which
    split with StratifiedKFold(k): the folds must be the same rows (string labels, classes first seen out of
    sorted order, sizes not divisible by k)."""
    label = np.array(["c", "a", "b"])[np.r_[np.zeros(13), np.ones(7), np.full(9, 2)].astype(int)]
    label = label[np.random.default_rng(nfold).permutation(label.size)]
    ours = make_folds(label.size, nfold, label=label, stratified=True, shuffle=False)
    for (train_rows, test_rows), (ref_train, ref_test) in zip(ours, StratifiedKFold(nfold).split(label, label)):
        np.testing.assert_array_equal(test_rows, ref_test)
        np.testing.assert_array_equal(train_rows, ref_train)


def test_early_stopping_cuts_at_the_best_mean_test_round():
    X, y, _ = problem(300, seed=2)
    y = y + np.random.default_rng(3).standard_normal(300)  # noisy regression: the test error turns up
    params = dict(PARAMS, max_depth=6, learning_rate=0.8)
    full = cv(params, Dataset(X, y), 40, nfold=3, as_pandas=False)
    stopped = cv(params, Dataset(X, y), 40, nfold=3, early_stopping_rounds=5, as_pandas=False)
    test = np.array(full["test-rmse-mean"])
    best = int(np.argmin(test[: len(stopped["test-rmse-mean"]) + 5]))
    assert len(stopped["test-rmse-mean"]) == best + 1 < 40
    assert (test[best + 1: best + 6] >= test[best]).all()  # five rounds without improvement followed
    for key in full:
        assert stopped[key] == full[key][: best + 1]


def test_cv_input_errors():
    X, y, _ = problem(50)
    with pytest.raises(ValueError, match="nfold must be in"):
        cv(PARAMS, Dataset(X, y), 2, nfold=1)
    with pytest.raises(ValueError, match="no label"):
        cv(PARAMS, Dataset(X), 2)
    with pytest.raises(TypeError, match="Dataset"):
        cv(PARAMS, X, 2)
    with pytest.raises(ValueError, match="non-empty train and test"):
        cv(PARAMS, Dataset(X, y), 2, folds=[(np.arange(10), np.arange(10, 60)), (np.arange(5), [])])
