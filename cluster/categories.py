"""Categorical columns of dask DataFrames: one category list per column for the whole fit.

A pandas ``category`` column of a dask DataFrame has the same categories in every partition once
they are known (kept in their dtype's order, as a local ``Dataset`` of a pandas frame keeps them);
unknown ones (a partition-wise read) are computed and sorted, so every partitioning gives one order.
Training codes every partition over those lists (``bindings.categorical.model_codes``: NaN for
missing and unseen values), so the blocks the shards bin are the numbers a local ``Dataset`` of the
concatenated frame would hold, and the model keeps the lists for prediction.
"""
import numpy as np
import pandas as pd

from bindings.categorical import MAX_BINS, encode_categorical, model_codes


def coded_categories(X):
    """(X with its ``category`` columns as float64 codes, {column index: category list}) of a dask
    or pandas DataFrame X; X and {} for anything without ``category`` columns."""
    if isinstance(X, pd.DataFrame):
        return encode_categorical(X)
    dtypes = getattr(X, "dtypes", None)
    if not hasattr(dtypes, "items") or not hasattr(X, "map_partitions"):
        return X, {}
    categorical = [c for c, dt in dtypes.items() if str(dt) == "category"]
    if not categorical:
        return X, {}
    unknown = {c for c in categorical if not X[c].cat.known}
    if unknown:
        X = X.assign(**{str(c): X[c].cat.as_known() for c in unknown})
    columns = list(X.columns)
    categories = {}
    for c in categorical:
        cats = X[c].cat.categories.tolist()
        if c in unknown:
            try:
                cats = sorted(cats)
            except TypeError:  # values of several types: the computed order stays
                pass
        if len(cats) > MAX_BINS - 1:
            raise ValueError(f"categorical feature {c!r} has {len(cats)} categories; at most {MAX_BINS - 1} are "
                             "supported (merge rare categories)")
        categories[columns.index(c)] = cats
    return coded_frame(X, categories), categories


def coded_frame(X, categories):
    """Dask DataFrame X with every column float64 and the categorical ones coded over ``categories``
    {column index: category list}, partition by partition."""
    meta = pd.DataFrame({c: pd.Series(dtype=np.float64) for c in X.columns})
    return X.map_partitions(_coded_partition, categories, meta=meta)


def coded_input(X, categories):
    """Evaluation input X coded over a training set's ``categories``: a dask DataFrame partition
    by partition, a pandas DataFrame at once (an (n, F) array), anything else as it is (numbers)."""
    if not categories:
        return X
    if hasattr(X, "map_partitions"):
        return coded_frame(X, categories)
    if isinstance(X, pd.DataFrame):
        return model_codes(X, categories)
    return X


def _coded_partition(frame, categories):
    return pd.DataFrame(model_codes(frame, categories), columns=frame.columns, index=frame.index)


def predict_frame(X, block_fn, booster, n_columns=None):
    """Dask array of ``block_fn(partition, booster)`` over the pandas partitions of dask DataFrame X
    ((n,), or (n, n_columns) when given): a model with categorical features maps each partition's
    category values itself."""
    meta = pd.Series(dtype=np.float64) if n_columns is None else \
        pd.DataFrame({i: pd.Series(dtype=np.float64) for i in range(n_columns)})
    return X.map_partitions(_predicted_partition, block_fn, booster, n_columns, meta=meta).to_dask_array(lengths=True)


def _predicted_partition(frame, block_fn, booster, n_columns):
    values = block_fn(frame, booster)
    if n_columns is None:
        return pd.Series(values, index=frame.index, dtype=np.float64)
    return pd.DataFrame(values, index=frame.index, columns=range(n_columns), dtype=np.float64)
