"""Validation at the edge of the logistic-regression, calibration and threshold APIs.

Each checker returns clean float64/int arrays or raises ``TypeError``/``ValueError`` naming the argument
and what was expected. scipy is optional: sparse input is recognised by its CSR/CSC attributes.
"""
import numpy as np

from bindings.validation import as_vector, column_names
from gbdt.kernels.logistic.packed import pack_csr, pack_dense

__all__ = ["as_packed", "as_labels", "as_sample_weight", "as_binary_labels", "as_scores"]


def _is_sparse(X):
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def as_packed(X, *, n_features=None, name="X"):
    """Packed float64 matrix of X (dense 2-D array-like or scipy sparse) and its shape.

    Returns ``(packed, n_rows, n_features, feature_names)``; feature_names is None unless X has
    string ``columns`` (a pandas DataFrame), see :func:`bindings.validation.column_names`.
    """
    names = None
    if _is_sparse(X):
        X = X.tocsr()
        if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
            raise TypeError(f"{name} must hold real numbers, got sparse dtype {X.dtype}")
        X.sum_duplicates()
        packed = pack_csr(X.data, X.indices, X.indptr, X.shape[1])
        values, shape = packed[0], X.shape
    else:
        names = column_names(X)
        try:
            values = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be a numeric 2-D array or sparse matrix: {err}") from None
        if values.ndim != 2:
            raise ValueError(f"{name} must be 2-D (n_samples, n_features), got {values.ndim}-D; "
                             "reshape a single feature with X.reshape(-1, 1)")
        packed, shape = pack_dense(values), values.shape
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column, got shape {shape}")
    # the sum is finite for almost all clean inputs: one pass without a boolean temporary (scikit-learn's trick)
    if not np.isfinite(values.sum()) and not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinity; impute or drop those entries first")
    if n_features is not None and shape[1] != n_features:
        raise ValueError(f"{name} has {shape[1]} features but the model was fitted with {n_features}")
    return packed, shape[0], shape[1], names


def as_labels(y, n_rows=None, name="y"):
    """``(classes, index)``: sorted distinct labels and each row's class index (int64); needs >= 2 classes."""
    y = as_vector(y, name, n_rows=n_rows, non_empty=True)
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or infinity")
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
