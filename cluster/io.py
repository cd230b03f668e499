"""Reading training data straight into the cluster: Parquet through dask + pyarrow.

The returned collections are lazy: when a fit persists them, each worker reads its own row groups
from the files (nothing goes through the client).
"""
from collections import namedtuple

import dask.dataframe as dd
import numpy as np

__all__ = ["read_parquet", "ParquetColumns"]

ParquetColumns = namedtuple("ParquetColumns", ["X", "y", "weight", "feature_names"])


def read_parquet(path, label, *, weight=None, columns=None, **kwargs):
    """Features, label and (optional) weight columns of a Parquet data set.

    Parameters
    ----------
    path : a file, directory or glob, as ``dask.dataframe.read_parquet`` takes it.
    label : name of the label column; weight : name of a weight column or None.
    columns : feature columns (default: every other numeric column); kwargs go to dask.

    Returns ``ParquetColumns(X, y, weight, feature_names)``: X (n, F) and y, weight (n,) are dask
    arrays cut from one array, so their row blocks line up (weight is None without a weight
    column); pass ``feature_names=`` to ``cluster.train`` to keep the column names.
    """
    df = dd.read_parquet(path, engine="pyarrow", **kwargs)
    missing = [c for c in [label, weight] + list(columns or []) if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} are not in the Parquet data; it has {list(df.columns)}")
    if columns is None:
        columns = [c for c, dt in df.dtypes.items() if c not in (label, weight) and dt.kind in "biuf"]
    if not columns:
        raise ValueError("no numeric feature columns to train on")
    # one array for every column: projecting columns separately may give different partitions
    picked = list(columns) + [label] + ([weight] if weight is not None else [])
    table = df[picked].astype(np.float64).to_dask_array(lengths=True)
    k = len(columns)
    return ParquetColumns(table[:, :k], table[:, k], table[:, k + 1] if weight is not None else None,
                          [str(c) for c in columns])
