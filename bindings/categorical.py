"""Categorical features: category values -> integer codes (code c is bin c), per-feature category
lists, and the re-coding that lets a model predict on data whose categories come in another order.

A categorical column is a pandas ``category`` column or any column named in
``categorical_features`` (indices or names). Its categories are the dtype's categories, or the
sorted distinct non-missing values; codes are float64 with NaN for missing. A model keeps the
lists of its training data; at predict time values are mapped to the model's codes by value, so
a category the model never saw becomes NaN and takes the default direction of each split.
Categories must be strings, numbers or booleans (they are saved in the JSON model).
"""
import numbers

import numpy as np

from bindings.features import as_feature_matrix
from gbdt.binning import set_category_edges
from gbdt.dtypes import MAX_BINS

__all__ = ["encode_categorical", "model_codes", "recoded", "category_edges", "categorical_mask", "validate_categories",
           "validate_tree_categories"]


def _is_pandas_frame(data):
    return type(data).__module__.startswith("pandas") and hasattr(data, "columns")


def _indices(spec, n_columns, names):
    """Column indices named by ``categorical_features`` (ints or names)."""
    if spec is None:
        return []
    if isinstance(spec, (str, numbers.Integral)):
        spec = [spec]
    out = []
    for item in spec:
        if isinstance(item, str):
            if names is None or item not in names:
                raise ValueError(f"categorical_features names {item!r}, which is not a feature name "
                                 f"({names if names is not None else 'the data has no feature names'})")
            out.append(list(names).index(item))
        elif isinstance(item, numbers.Integral) and not isinstance(item, bool) and 0 <= item < n_columns:
            out.append(int(item))
        else:
            raise ValueError(f"categorical_features must hold column indices in [0, {n_columns}) or feature "
                             f"names, got {item!r}")
    return out


def _missing(values):
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.array([v is None or v != v for v in values], dtype=np.bool_)
    return np.zeros(values.shape[0], dtype=np.bool_)


def _column_codes(column, name):
    """(categories list, float64 codes with NaN for missing) of one column (pandas or numpy)."""
    if str(getattr(column, "dtype", "")) == "category":
        categories = column.cat.categories.tolist()
        codes = column.cat.codes.to_numpy().astype(np.float64)
        codes[codes < 0] = np.nan
    else:
        values = np.asarray(column.to_numpy() if hasattr(column, "to_numpy") else column)
        missing = _missing(values)
        try:
            distinct, inverse = np.unique(values[~missing], return_inverse=True)
        except TypeError as exc:
            raise TypeError(f"categorical feature {name!r} mixes value types that cannot be ordered: {exc}") from None
        categories = distinct.tolist()
        codes = np.full(values.shape[0], np.nan)
        codes[~missing] = inverse
    bad = [c for c in categories if not isinstance(c, (str, numbers.Real))]
    if bad:
        raise TypeError(f"categorical feature {name!r} has categories of type {type(bad[0]).__name__}; "
                        "categories must be strings, numbers or booleans")
    if len(categories) > MAX_BINS - 1:
        raise ValueError(f"categorical feature {name!r} has {len(categories)} categories; at most "
                         f"{MAX_BINS - 1} are supported (merge rare categories)")
    return categories, codes


def encode_categorical(data, categorical_features=None, feature_names=None):
    """Replace categorical columns by their codes.

    data : numpy array or pandas DataFrame (other inputs pass through when nothing is categorical).
    Returns (data of the same kind with float64 codes in the categorical columns, {column index:
    categories list}); ``data`` itself and {} when no column is categorical.
    """
    frame = _is_pandas_frame(data)
    if frame:
        names = [str(c) for c in data.columns] if feature_names is None else list(feature_names)
        chosen = {j for j, dt in enumerate(data.dtypes) if str(dt) == "category"}
        n_columns = data.shape[1]
    else:
        names = feature_names
        chosen = set()
        shape = getattr(data, "shape", ())
        n_columns = shape[1] if len(shape) == 2 else 0
    chosen.update(_indices(categorical_features, n_columns, names))
    if not chosen:
        return data, {}
    if hasattr(data, "tocsr"):
        raise TypeError("categorical_features are not supported for scipy.sparse input; pass a dense array")
    if frame:
        out = data.copy(deep=False)
        column = lambda j: data.iloc[:, j]
    elif isinstance(data, np.ndarray):
        out = np.array(data, dtype=np.float64 if data.dtype.kind != "O" else object)
        column = lambda j: data[:, j]
    else:
        raise TypeError(f"categorical features need a numpy array or a pandas DataFrame, got {type(data).__name__}")
    categories = {}
    for j in sorted(chosen):
        categories[j], codes = _column_codes(column(j), names[j] if names is not None else j)
        if frame:
            out.isetitem(j, codes)
        else:
            out[:, j] = codes
    return out, categories


def _recode(codes, source, target):
    """Codes over the ``source`` categories -> codes over ``target`` (NaN where absent)."""
    lookup = {v: i for i, v in enumerate(target)}
    table = np.array([lookup.get(v, np.nan) for v in source] + [np.nan])
    return table[np.where(np.isnan(codes), len(source), codes).astype(np.int64)]


def model_codes(data, categories):
    """(n, F) float64 features of ``data`` (numpy, pandas, pyarrow) whose categorical columns hold
    the codes of a model with ``categories`` {column: list}; unseen categories -> NaN.
    ``data`` itself when ``categories`` is empty (a model without categorical features)."""
    if not categories:
        return data
    if type(data).__module__.startswith("pyarrow"):
        data = data.to_pandas()
    encoded, source = encode_categorical(data, sorted(c for c in categories if c < _n_columns(data)))
    return recoded(as_feature_matrix(encoded)[0], source, categories)


def recoded(X, source, categories):
    """(n, F) float64 copy of features X (n, F) whose categorical columns hold codes over the
    ``source`` lists {column: list} (or raw values where ``source`` has none), with those of
    ``categories`` coded over ``categories``' lists instead; X itself when both are empty.
    ValueError for a column categorical in ``source`` but not in ``categories``."""
    extra = sorted(set(source) - set(categories))
    if extra:
        raise ValueError(f"features {extra} are categorical in the data but numeric in the model")
    if not categories:
        return X
    X = X.copy()
    for f, target in categories.items():
        if f < X.shape[1]:
            src, codes = (source[f], X[:, f]) if f in source else _column_codes(X[:, f], f)
            X[:, f] = _recode(codes, src, target)
    return X


def _n_columns(data):
    shape = getattr(data, "shape", None) or (0, getattr(data, "num_columns", 0))
    return shape[1] if len(shape) == 2 else 0


def category_edges(edges, n_edges, categories, max_bin):
    """Set the edges (F, max_bin - 1) and counts (F,) of the categorical features in place."""
    for f, cats in categories.items():
        if len(cats) > max_bin - 1:
            raise ValueError(f"categorical feature {f} has {len(cats)} categories but max_bin={max_bin} holds "
                             f"{max_bin - 1}; raise max_bin (at most {MAX_BINS}) or merge rare categories")
        set_category_edges(edges, n_edges, f, len(cats))
    return edges, n_edges


def categorical_mask(categories, n_features):
    """(F,) bool: which features are categorical."""
    mask = np.zeros(n_features, dtype=np.bool_)
    mask[list(categories)] = True
    return mask


def validate_categories(value, n_feature, source="model"):
    """{feature: category list} from a model document's optional ``categories`` {"f": [...]}."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{source}: 'categories' must be an object {{feature index: [categories]}}")
    out = {}
    for key, cats in value.items():
        if not (isinstance(key, str) and key.isdigit() and int(key) < n_feature):
            raise ValueError(f"{source}: 'categories' key {key!r} is not a feature index below {n_feature}")
        if not (isinstance(cats, list) and len(cats) <= MAX_BINS - 1
                and all(isinstance(c, (str, numbers.Real)) for c in cats)):
            raise ValueError(f"{source}: categories of feature {key} must be a list of at most {MAX_BINS - 1} "
                             "strings or numbers")
        out[int(key)] = cats
    return out


def validate_tree_categories(entry, feature, where):
    """The ``cat_begin``/``cat_end``/``cat_bits`` arrays of a model document's tree (checked), or
    {} for a tree without categorical splits. ``feature`` : (m,) the tree's split features."""
    if "cat_begin" not in entry:
        return {}
    arrays = {}
    for name in ("cat_begin", "cat_end", "cat_bits"):
        values = entry[name]
        if not (isinstance(values, list) and all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                                 for v in values)):
            raise ValueError(f"{where}: {name!r} must be a list of integers")
        arrays[name] = np.array(values, dtype=np.int64)
    begin, end, bits = arrays["cat_begin"], arrays["cat_end"], arrays["cat_bits"]
    if begin.shape != feature.shape or end.shape != feature.shape:
        raise ValueError(f"{where}: 'cat_begin' and 'cat_end' must have one entry per node")
    if ((bits < 0) | (bits >= 1 << 32)).any():
        raise ValueError(f"{where}: 'cat_bits' must hold unsigned 32-bit words")
    bad = np.flatnonzero((begin < 0) | (begin > end) | (end > bits.shape[0]) | ((end > begin) & (feature < 0)))
    if bad.size:
        raise ValueError(f"{where}: node {bad[0]} has a category set [{begin[bad[0]]}, {end[bad[0]]}) outside "
                         f"'cat_bits' (length {bits.shape[0]}) or on a leaf")
    return arrays
