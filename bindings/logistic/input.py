"""Validation at the edge of the logistic-regression, calibration and threshold APIs.

Each checker returns clean float64/int arrays or raises ``TypeError``/``ValueError`` naming the argument
and what was expected. scipy is optional: sparse input is recognised by its CSR/CSC attributes.
"""
import numpy as np

from bindings.validation import as_vector
from gbdt.kernels.logistic.packed import pack_csr, pack_dense

__all__ = ["as_matrix", "pack", "num_rows", "take_rows", "as_labels", "as_sample_weight", "as_binary_labels",
           "as_scores"]


def _is_sparse(X):
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


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


def as_labels(y, n_rows=None, name="y"):
    """``(classes, index)``: sorted distinct labels and each row's class index (int64); needs >= 2 classes."""
    y = as_vector(y, name, n_rows=n_rows, non_empty=True)
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
    w = as_vector(sample_weight, name, n_rows=n_rows, non_empty=True).astype(np.float64)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    if w.sum() <= 0:
        raise ValueError(f"{name} sums to zero: at least one row needs a positive weight")
    return np.ascontiguousarray(w)


def as_scores(scores, n_rows=None, name="scores"):
    """Finite float64 1-D scores (decision values or probabilities)."""
    s = as_vector(scores, name, n_rows=n_rows, non_empty=True).astype(np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} contains NaN or infinity")
    return np.ascontiguousarray(s)
