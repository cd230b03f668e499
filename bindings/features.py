"""Feature input: numpy, pandas, pyarrow or scipy.sparse data as an (n, F) float64 matrix with its
feature names, and the check that data given to a model has the model's feature names.
"""
import numpy as np

from bindings.sparse_input import as_csr_matrix, is_sparse

__all__ = ["as_feature_matrix", "feature_names_of", "check_feature_names"]


def _table_to_array(data):
    """Convert pandas DataFrames and pyarrow Tables to a float64 array; returns (array, names)."""
    module = type(data).__module__
    if module.startswith("pandas"):
        if hasattr(data, "columns"):
            bad = [c for c, dt in data.dtypes.items() if not (dt.kind in "biuf")]
            if bad:
                raise TypeError(f"data has non-numeric columns {bad}; convert them to numbers first")
            return data.to_numpy(dtype=np.float64, na_value=np.nan), [str(c) for c in data.columns]
        return data.to_numpy(dtype=np.float64, na_value=np.nan).reshape(-1, 1), None
    if module.startswith("pyarrow"):
        import pyarrow.types as pat

        names = list(data.column_names)
        for name, col in zip(names, data.columns):
            if not (pat.is_integer(col.type) or pat.is_floating(col.type) or pat.is_boolean(col.type)):
                raise TypeError(f"data column {name!r} has non-numeric type {col.type}")
        cols = [col.to_numpy(zero_copy_only=False).astype(np.float64) for col in data.columns]
        return np.column_stack(cols) if cols else np.empty((data.num_rows, 0)), names
    return data, None


def as_feature_matrix(data, name="data", accept_sparse=False):
    """(n, F) C-ordered float64 array from numpy, pandas or pyarrow input; names or None.
    With ``accept_sparse``, scipy.sparse input comes back as canonical CSR (``as_csr_matrix``).

    Raises TypeError for unsupported types and ValueError for wrong shapes or empty data.
    """
    array, names = _table_to_array(data)
    if is_sparse(array):
        if accept_sparse:
            return as_csr_matrix(array, name), None
        raise TypeError(f"{name}: scipy.sparse input is not accepted here; pass a dense array")
    try:
        array = np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric (numpy array, pandas DataFrame or pyarrow Table): {exc}")
    if array.ndim == 1:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got a 1-D array; "
                         "use reshape(-1, 1) for a single feature")
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {array.shape}; need at least one row and one feature")
    return np.ascontiguousarray(array), names


def feature_names_of(data):
    """The column names of a pandas or dask DataFrame or a pyarrow Table (as strings), a Dataset's
    ``feature_names``; None for data without names (numpy, scipy.sparse, a Dataset without them)."""
    if hasattr(data, "column_names"):  # pyarrow Table
        return [str(c) for c in data.column_names]
    if hasattr(data, "columns") and hasattr(data, "dtypes"):  # pandas / dask DataFrame
        return [str(c) for c in data.columns]
    names = getattr(data, "feature_names", None)
    return None if names is None else list(names)


def check_feature_names(expected, data, name="data"):
    """Raise ValueError naming ``name`` when ``data`` has feature names (``feature_names_of``) that
    differ from ``expected`` (a model's), in content or order: columns are never matched or reordered
    silently. Data without names, or a model without them (``expected`` None), passes."""
    names = feature_names_of(data)
    if expected is None or names is None or list(names) == list(expected):
        return
    expected = list(expected)
    unexpected = [n for n in names if n not in expected]
    missing = [n for n in expected if n not in names]
    if not unexpected and not missing:
        raise ValueError(f"{name} has the model's feature names in another order ({names}); put its columns in the "
                         f"model's order {expected}")
    raise ValueError(f"{name} feature names differ from the model's: unexpected {unexpected}, missing {missing} "
                     f"(the model was trained on {expected})")
