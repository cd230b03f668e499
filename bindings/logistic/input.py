"""Validation at the edge of the logistic-regression, calibration and threshold APIs.

Each checker returns clean float64/int arrays or raises ``TypeError``/``ValueError`` naming the argument
and what was expected. scipy is optional: sparse input is recognised by its CSR/CSC attributes.
"""
import warnings

import numpy as np

from gbdt.kernels.logistic.packed import pack_csr, pack_dense

__all__ = ["as_matrix", "pack", "num_rows", "take_rows", "feature_names", "check_feature_names", "as_labels",
           "as_sample_weight", "as_binary_labels", "as_scores"]


def _is_sparse(X):
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def feature_names(X, name="X"):
    """Column names of X (n_features,) as an object array when X has columns (a pandas DataFrame) whose
    names are all strings, as scikit-learn reads them; None for arrays, sparse matrices and non-string
    names. Names mixing strings with other types raise TypeError."""
    columns = getattr(X, "columns", None)
    if columns is None or _is_sparse(X):
        return None
    names = np.asarray(list(columns), dtype=object)
    are_strings = np.array([isinstance(c, str) for c in names], dtype=bool)
    if are_strings.all() and names.size:
        return names
    if are_strings.any():
        raise TypeError(f"{name} has column names of mixed types; convert them all to strings "
                        "(X.columns = X.columns.astype(str)) or use no names")
    return None


def check_feature_names(estimator, X, name="X"):
    """Refuse columns that differ from the fitted ``feature_names_in_`` (another order, other names) with a
    ValueError; warn when only one of the fit and this call had names (scikit-learn's rule)."""
    fitted = getattr(estimator, "feature_names_in_", None)
    given = feature_names(X, name)
    kind = type(estimator).__name__
    if fitted is None and given is not None:
        warnings.warn(f"{name} has feature names, but {kind} was fitted without feature names", UserWarning,
                      stacklevel=3)
    elif fitted is not None and given is None:
        warnings.warn(f"{name} does not have valid feature names, but {kind} was fitted with feature names",
                      UserWarning, stacklevel=3)
    elif fitted is not None and (given.shape != fitted.shape or np.any(given != fitted)):
        unseen = [c for c in given if c not in set(fitted)]
        missing = [c for c in fitted if c not in set(given)]
        detail = (f"names unseen at fit: {unseen[:5]}; names seen at fit but missing: {missing[:5]}"
                  if unseen or missing else "the same names in another order")
        raise ValueError(f"the feature names of {name} must match those passed during fit, in the same order "
                         f"({detail}); select the columns as X[model.feature_names_in_]")


def as_matrix(X, *, n_features=None, name="X"):
    """X (dense 2-D array-like or scipy sparse) as a C-contiguous float64 array or a canonical CSR matrix
    (summed duplicates, float64 values); rejects NaN/inf, empty shapes and a wrong feature count."""
    if _is_sparse(X):
        X = X.tocsr().astype(np.float64) if np.issubdtype(X.dtype, np.number) else X
        if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
            raise TypeError(f"{name} must hold real numbers, got sparse dtype {X.dtype}")
        X.sum_duplicates()
        values = X.data
    else:
        if getattr(getattr(X, "dtype", None), "kind", None) == "c":
            raise TypeError(f"{name} must hold real numbers, got complex dtype {X.dtype}")
        try:
            X = values = np.ascontiguousarray(X, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be a numeric 2-D array or sparse matrix: {err}") from None
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2-D (n_samples, n_features), got {X.ndim}-D; "
                             "reshape a single feature with X.reshape(-1, 1)")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column, got shape {X.shape}")
    # the sum is finite for almost all clean inputs: one pass without a boolean temporary (scikit-learn's trick)
    if not np.isfinite(values.sum()) and not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinity; impute or drop those entries first")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features but the model was fitted with {n_features}")
    return X


def pack(matrix):
    """Packed matrix (see ``gbdt.kernels.logistic.packed``) of an ``as_matrix`` result."""
    if _is_sparse(matrix):
        return pack_csr(matrix.data, matrix.indices, matrix.indptr, matrix.shape[1])
    return pack_dense(matrix)


def num_rows(X):
    """Number of rows of X (array, sparse matrix, DataFrame or list)."""
    return X.shape[0] if hasattr(X, "shape") else len(X)


def take_rows(X, rows):
    """Rows of X (array, sparse matrix, DataFrame or Series, or a list) at the integer positions ``rows``."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    return X[rows] if hasattr(X, "shape") else np.asarray(X)[rows]


def _as_vector(v, n_rows, name):
    v = np.asarray(v)
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {v.shape}")
    if n_rows is not None and v.shape[0] != n_rows:
        raise ValueError(f"{name} has {v.shape[0]} entries but X has {n_rows} rows")
    if v.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    return v


def as_labels(y, n_rows=None, name="y"):
    """``(classes, index)``: sorted distinct labels and each row's class index (int64); needs >= 2 classes."""
    y = _as_vector(y, n_rows, name)
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or infinity")
    if y.dtype.kind in "fc" and np.any(y != np.round(y)):
        raise ValueError(f"Unknown label type: {name} is continuous (non-integer floats); a classifier needs class "
                         "labels, so bin or threshold it first")
    classes, index = np.unique(y, return_inverse=True)
    if classes.shape[0] < 2:
        raise ValueError(f"{name} has a single class {classes.tolist()}; a classifier needs at least two")
    return classes, index.astype(np.int64)


def as_binary_labels(y, n_rows=None, name="y"):
    """Labels as float64 0/1 (1 = the larger class label); raises if y does not have exactly two classes."""
    classes, index = as_labels(y, n_rows, name)
    if classes.shape[0] != 2:
        raise ValueError(f"{name} must be binary (two classes), got {classes.shape[0]} classes: "
                         f"{classes[:10].tolist()}")
    return index.astype(np.float64)


def as_sample_weight(sample_weight, n_rows, name="sample_weight"):
    """Non-negative finite float64 weights (n_rows,), ones when None; their sum must be positive."""
    if sample_weight is None:
        return np.ones(n_rows)
    w = _as_vector(sample_weight, n_rows, name).astype(np.float64)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    if w.sum() <= 0:
        raise ValueError(f"{name} sums to zero: at least one row needs a positive weight")
    return np.ascontiguousarray(w)


def as_scores(scores, n_rows=None, name="scores"):
    """Finite float64 1-D scores (decision values or probabilities)."""
    s = _as_vector(scores, n_rows, name).astype(np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} contains NaN or infinity")
    return np.ascontiguousarray(s)
