"""``cv``: k-fold cross-validation of ``train``, like ``xgboost.cv``.

Each fold trains an independent model on the other folds' rows (binned with its own edges, as a
separate ``train`` call would) and evaluates the metrics on its training and held-out rows every
round. The result holds, per round, the mean and standard deviation over folds of every metric:
``{"train-rmse-mean": [...], "train-rmse-std": [...], "test-rmse-mean": [...], ...}``.

Early stopping looks at the fold mean of the last metric on the held-out rows; the result is
cut after the best round, as XGBoost reports it. Folds are independent runs, so every fold
trains all ``num_boost_round`` rounds first and the cut is applied to the per-round results,
which is the same outcome as stopping all folds together.

With query groups (learning to rank) folds hold whole queries: ``nfold`` folds deal the queries
(``bindings.query_groups.query_folds``), a scikit-learn splitter gets the query of each row as
its ``groups`` (use a group-aware one such as ``GroupKFold``), and given folds must not split a query.
"""
from types import SimpleNamespace

import numpy as np

from bindings.callbacks import EarlyStopping
from bindings.dataset import Dataset
from bindings.params import resolve_params
from bindings.query_groups import query_folds, row_queries, subset_pointer
from bindings.train import train

__all__ = ["cv", "make_folds", "resolve_folds"]


def make_folds(n_rows, nfold=5, *, label=None, stratified=False, shuffle=True, seed=0):
    """``nfold`` (train_rows, test_rows) pairs of sorted int64 indices; test parts partition range(n_rows).

    The splitter of every topic (``cv``, the logistic meta-estimators, the recommenders). Parts differ in
    size by at most one row. ``stratified``: the rows of each class of ``label`` (n_rows,) are dealt to the
    folds as scikit-learn's ``StratifiedKFold`` deals them (classes numbered by first appearance, each
    fold's share of every class within one row of the others), so unshuffled folds are exactly
    ``StratifiedKFold(nfold).split``'s; ``shuffle`` permutes the rows within each class first.
    """
    nfold = int(nfold)
    if nfold < 2 or nfold > n_rows:
        raise ValueError(f"nfold must be in [2, {n_rows}] (the number of rows), got {nfold}")
    rng = np.random.default_rng(seed)
    fold_of = np.empty(n_rows, dtype=np.int64)
    if stratified:
        if label is None:
            raise ValueError("stratified folds need the Dataset's label")
        _, first_row, index = np.unique(np.asarray(label), return_index=True, return_inverse=True)
        index = np.argsort(np.argsort(first_row))[index.ravel()]
        counts = np.bincount(index)
        # the sorted class indices dealt round-robin: fold k gets allocation[k, c] rows of class c
        ordered = np.repeat(np.arange(counts.shape[0]), counts)
        allocation = np.array([np.bincount(ordered[k::nfold], minlength=counts.shape[0]) for k in range(nfold)])
        for c in range(counts.shape[0]):
            rows = np.flatnonzero(index == c)
            fold_of[rng.permutation(rows) if shuffle else rows] = np.repeat(np.arange(nfold), allocation[:, c])
    else:
        order = rng.permutation(n_rows) if shuffle else np.arange(n_rows)
        fold_of[order] = np.arange(n_rows) * nfold // n_rows
    return [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in range(nfold)]


def resolve_folds(folds, n_rows, *, nfold=5, label=None, stratified=False, shuffle=True, seed=0, queries=None):
    """(train_rows, test_rows) int64 pairs from ``folds``: None (``make_folds``, or ``query_folds``
    with ``queries``), a list of (train, test) index pairs, or a scikit-learn splitter (its ``split``
    on ``n_rows`` rows, with each row's query as ``groups``). ``queries``: None, or the (G + 1,)
    boundaries of the query groups, which folds keep whole and in row order."""
    if folds is None and queries is not None:
        if stratified:
            raise ValueError("stratified folds deal rows by class; with query groups folds deal whole queries: "
                             "leave stratified=False")
        return query_folds(queries, nfold, shuffle=shuffle, seed=seed)
    if folds is None:
        return make_folds(n_rows, nfold, label=label, stratified=stratified, shuffle=shuffle, seed=seed)
    if hasattr(folds, "split"):
        groups = None if queries is None else row_queries(queries)
        folds = folds.split(np.zeros((n_rows, 1)), label, groups)
    pairs = [(np.asarray(tr, dtype=np.int64), np.asarray(te, dtype=np.int64)) for tr, te in folds]
    if queries is not None:  # rows in order: a query's rows stay contiguous
        pairs = [(np.sort(tr), np.sort(te)) for tr, te in pairs]
    if len(pairs) < 2:
        raise ValueError(f"folds must give at least 2 (train, test) pairs, got {len(pairs)}")
    for tr, te in pairs:
        if tr.size == 0 or te.size == 0 or min(tr.min(), te.min()) < 0 or max(tr.max(), te.max()) >= n_rows:
            raise ValueError(f"every fold needs non-empty train and test row indices in [0, {n_rows})")
    return pairs


def _subset(data, rows):
    """The Dataset of ``rows`` (sorted) of ``data`` (features, label, weight, names, categories, queries,
    which ``rows`` must keep whole; dense or sparse)."""
    group = None if data.group_ptr is None else np.diff(subset_pointer(data.group_ptr, rows, "every cv fold"))
    subset = Dataset(data.data[rows], data.label[rows], weight=None if data.weight is None else data.weight[rows],
                     feature_names=data.feature_names, max_bin=data.max_bin, group=group)
    subset.categories = data.categories  # data.data already holds the category codes
    return subset


def _aggregate(histories):
    """Fold histories [{"train"|"test": {metric: [per round]}}] -> {"<set>-<metric>-mean|std": [...]}."""
    out = {}
    for metric in histories[0]["train"]:
        for name in ("train", "test"):
            values = np.array([h[name][metric] for h in histories])  # (nfold, rounds)
            out[f"{name}-{metric}-mean"] = values.mean(axis=0).tolist()
            out[f"{name}-{metric}-std"] = values.std(axis=0).tolist()
    return out


def _best_round(results, metric, early_stopping_rounds, maximize):
    """Best 0-based round of the mean held-out metric, scanning rounds as training would."""
    stopper = EarlyStopping(early_stopping_rounds, maximize=maximize)
    holder = SimpleNamespace(best_iteration=None, best_score=None)
    means = results[f"test-{metric}-mean"]
    for r in range(len(means)):
        if stopper.after_iteration(holder, r, {"test": {metric: means[: r + 1]}}):
            break
    return holder.best_iteration


def cv(params, dtrain, num_boost_round=10, *, nfold=5, stratified=False, folds=None, metrics=(), obj=None,
       maximize=None, early_stopping_rounds=None, seed=0, shuffle=True, as_pandas=True):
    """Cross-validate ``train(params, ...)`` over folds of ``dtrain``, like ``xgboost.cv``.

    Parameters
    ----------
    params : training parameters (as for ``train``).
    dtrain : Dataset with labels (dense or sparse).
    num_boost_round : rounds per fold.
    nfold : number of folds (when ``folds`` is None; with query groups, of queries); stratified : keep
        class proportions per fold.
    folds : None, a list of (train_rows, test_rows) index pairs, or a scikit-learn splitter
        (its ``split(X, label)`` is called).
    metrics : metric name or names; they replace the parameters' ``eval_metric``.
    obj : custom objective, as in ``train``.
    maximize : bool or None (None: maximise ``auc`` and the ranking metrics), for early stopping.
    early_stopping_rounds : stop when the fold mean of the last metric on the test folds has
        not improved for this many rounds; the result ends at the best round.
    seed, shuffle : how the rows are shuffled into folds.
    as_pandas : return a pandas DataFrame (one row per round) when pandas is installed.

    Returns
    -------
    DataFrame or dict of lists: ``"<train|test>-<metric>-<mean|std>"`` per round (std over folds, ddof=0).
    """
    if not isinstance(dtrain, Dataset):
        raise TypeError(f"dtrain must be a Dataset, got {type(dtrain).__name__}")
    if dtrain.label is None:
        raise ValueError("dtrain has no label; pass label= to Dataset")
    params = dict(params or {})
    if metrics:
        for alias in ("eval_metric", "metric"):
            params.pop(alias, None)
        params["eval_metric"] = [metrics] if isinstance(metrics, str) else list(metrics)
    p = resolve_params(params, objective=obj)  # once for every fold
    if not p.metrics:
        raise ValueError("cv needs at least one metric: pass metrics= (a custom objective has no default)")
    histories = []
    for train_rows, test_rows in resolve_folds(folds, dtrain.num_row, nfold=nfold, label=dtrain.label,
                                               stratified=stratified, shuffle=shuffle, seed=seed,
                                               queries=dtrain.group_ptr):
        fold_train, fold_test = _subset(dtrain, train_rows), _subset(dtrain, test_rows)
        history = {}
        train(p, fold_train, num_boost_round, evals=[(fold_train, "train"), (fold_test, "test")],
              evals_result=history)
        histories.append(history)
    results = _aggregate(histories)
    if early_stopping_rounds is not None and num_boost_round > 0:
        best = _best_round(results, list(histories[0]["train"])[-1], early_stopping_rounds, maximize)
        results = {key: values[: best + 1] for key, values in results.items()}
    if as_pandas:
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is optional, as in XGBoost
            return results
        return pd.DataFrame(results)
    return results
