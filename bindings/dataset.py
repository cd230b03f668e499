"""Dataset: validated features, labels and weights, binned once and reused across rounds."""
import hashlib

import numpy as np

from bindings.categorical import category_edges, encode_categorical, recoded
from bindings.features import as_feature_matrix
from bindings.query_groups import expand_query_weights, group_pointer
from bindings.sparse_input import is_sparse, sparse_bin_edges, sparse_bin_matrix
from gbdt.binning import bin_matrix, compute_bin_edges

__all__ = ["Dataset", "coded_dataset", "aligned_dataset"]


def _as_vector(values, n_rows, name, allow_nan=False):
    if values is None:
        return None
    arr = np.asarray(values._values if hasattr(values, "_values") else values)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D with {n_rows} entries, got shape {arr.shape}")
    if arr.shape[0] != n_rows:
        raise ValueError(f"{name} has {arr.shape[0]} entries but data has {n_rows} rows")
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if not allow_nan and not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite values; remove or impute them")
    return arr


class Dataset:
    """Training or evaluation data, like ``xgboost.DMatrix``.

    Parameters
    ----------
    data : (n, F) numpy array, pandas DataFrame (numeric columns), pyarrow Table or scipy.sparse
        matrix (kept as CSR; implicit zeros are 0.0, stored NaN are missing); NaN = missing.
        Infinite feature values are kept and treated as extreme values (+inf is above every
        threshold, -inf below), never as missing.
    label : (n,) numbers, finite; weight : (n,) non-negative finite numbers.
    feature_names : list of F strings (taken from DataFrame/Table columns by default).
    max_bin : bins per feature including the missing bin (2..256); the training parameter
        ``max_bin`` overrides it.
    categorical_features : column indices or names of categorical features (pandas ``category``
        columns are categorical anyway); ``categories`` keeps {column: category list} and ``data``
        their codes (see ``bindings.categorical``).
    group, qid : the queries of learning to rank (one of them): ``group`` (G,) query sizes in row
        order (LightGBM's), or ``qid`` (n,) one query id per row, sorted (XGBoost's; unsorted ids
        are refused). ``group_ptr`` keeps the (G + 1,) row boundaries (None without queries). With
        queries, ``weight`` may also be one weight per query (G,), as XGBoost's.
    """

    def __init__(self, data, label=None, weight=None, feature_names=None, max_bin=256, categorical_features=None,
                 group=None, qid=None):
        data, self.categories = encode_categorical(data, categorical_features, feature_names)
        self.data, names = as_feature_matrix(data, accept_sparse=True)
        n_rows, n_features = self.data.shape
        self.label = _as_vector(label, n_rows, "label")
        self.group_ptr = group_pointer(group, qid, n_rows)
        self.weight = _as_vector(expand_query_weights(weight, self.group_ptr, n_rows), n_rows, "weight")
        if self.weight is not None and (self.weight < 0).any():
            raise ValueError("weight must be non-negative")
        names = feature_names if feature_names is not None else names
        if names is not None and len(names) != n_features:
            raise ValueError(f"feature_names has {len(names)} names but data has {n_features} columns")
        self.feature_names = list(names) if names is not None else None
        self.max_bin = max_bin
        self._edges = {}
        self._binned = {}

    @property
    def num_row(self):
        return self.data.shape[0]

    @property
    def num_col(self):
        return self.data.shape[1]

    def bin_edges(self, max_bin, seed=0):
        """Quantile edges (F, max_bin - 1) and edge counts (F,) of this dataset's features; the
        last result is cached (training again on the same Dataset skips the quantile sketch)."""
        key = (max_bin, seed)
        if key not in self._edges:
            if is_sparse(self.data):
                edges = sparse_bin_edges(self.data, max_bin, self.weight, seed=seed)
            else:
                edges = category_edges(*compute_bin_edges(self.data, max_bin, self.weight, seed=seed),
                                       self.categories, max_bin)
            self._edges = {key: edges}
        return self._edges[key]

    def binned(self, edges, n_edges, max_bin):
        """(n, F) uint8 bins under the given edges; the last result is cached by the edges' content."""
        key = (max_bin, hashlib.sha1(edges.tobytes() + n_edges.tobytes()).hexdigest())
        if key not in self._binned:
            to_bins = sparse_bin_matrix if is_sparse(self.data) else bin_matrix
            self._binned = {key: to_bins(self.data, edges, n_edges, max_bin)}
        return self._binned[key]

    def codes_over(self, categories):
        """(n, F) float64 features whose categorical columns hold codes over ``categories``
        {column: category list} (a model's), mapped by value from this Dataset's own lists; unseen
        categories -> NaN; ValueError for a column categorical here but not in ``categories``."""
        return recoded(self.data, self.categories, categories)


def coded_dataset(X, categories, label=None, weight=None, feature_names=None, group=None, qid=None):
    """A Dataset over X (n, F) float64 whose categorical columns already hold codes over ``categories``
    (``group``/``qid``: its queries, as ``Dataset``)."""
    out = Dataset(X, label, weight, feature_names, group=group, qid=qid)
    out.categories = categories
    return out


def aligned_dataset(dataset, categories):
    """``dataset`` with its categorical columns coded over ``categories`` (a training set's), for
    binning with the training edges; ``dataset`` itself when they already are."""
    if dataset.categories == categories:
        return dataset
    group = None if dataset.group_ptr is None else np.diff(dataset.group_ptr)
    return coded_dataset(dataset.codes_over(categories), categories, dataset.label, dataset.weight,
                         dataset.feature_names, group=group)
