"""Argument checks of the Python API, one way for every topic.

Every check takes ``(value, name, ...)``, returns the value in its working type (``int``, ``float``, an
array) and raises TypeError for a value of the wrong type (a string, a float where an integer is
needed, ``True``) and ValueError for a value of the right type outside its domain, with a message
that names the argument and says what was expected.
"""
import difflib
import math
import numbers
import warnings

import numpy as np

__all__ = ["check_int", "check_positive_int", "check_number", "check_probability", "check_choice",
           "check_n_jobs", "as_vector", "as_finite_array", "as_class_indices", "column_names", "check_feature_names"]

MAX_LISTED_NAMES = 5  # feature names a mismatch message lists before "..."


def check_int(value, name, *, low=None, high=None):
    """``value`` as an int in [low, high] (None: unbounded on that side); bool is not an integer here."""
    if high is None and low in (0, 1):
        expected = "a positive integer" if low == 1 else "a non-negative integer"
    else:
        low_text = "" if low is None else f" >= {low}"
        high_text = "" if high is None else f" <= {high}"
        expected = f"an integer{low_text}{' and' if low_text and high_text else ''}{high_text}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {expected}, got {value!r} of type {type(value).__name__}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def check_positive_int(value, name):
    """``value`` as an int >= 1."""
    return check_int(value, name, low=1)


def check_number(value, name, *, low=-math.inf, high=math.inf, low_open=False, high_open=False):
    """``value`` as a finite float in the interval from ``low`` to ``high``, each end closed unless open."""
    interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in {interval}, got {value!r} of type {type(value).__name__}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if not math.isfinite(value) or too_low or too_high:
        raise ValueError(f"{name} must be a finite number in {interval}, got {value!r}")
    return value


def check_probability(value, name, *, open_interval=False):
    """``value`` as a float in [0, 1], or in (0, 1) with ``open_interval``."""
    return check_number(value, name, low=0.0, high=1.0, low_open=open_interval, high_open=open_interval)


def close_match_hint(value, known):
    """"; did you mean 'x'?" for the string in ``known`` closest to ``value`` (a misspelt string), else ""."""
    names = [name for name in known if isinstance(name, str)]
    close = difflib.get_close_matches(value, names, n=1) if isinstance(value, str) else []
    return f"; did you mean {close[0]!r}?" if close else ""


def check_choice(value, name, choices):
    """``value`` itself if it is one of ``choices``, else ValueError listing them (and, for a misspelt
    string, the closest one: "did you mean 'gelu'?")."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}{close_match_hint(value, choices)}")
    return value


def check_n_jobs(n_jobs):
    """``n_jobs`` as scikit-learn spells it: None or -1 (all cores) or a positive int (capped at the
    cores by ``gbdt.threads.using_threads``)."""
    if n_jobs is None or (not isinstance(n_jobs, bool) and isinstance(n_jobs, numbers.Integral) and n_jobs == -1):
        return None
    return check_positive_int(n_jobs, "n_jobs (None, -1 for all cores, or a positive integer)")


def as_vector(values, name, *, n_rows=None, non_empty=False):
    """``values`` as a 1-D numpy array of ``n_rows`` entries (any number when None), non-empty on request."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if n_rows is not None and arr.shape[0] != n_rows:
        raise ValueError(f"{name} must have one entry per row ({n_rows}), got {arr.shape[0]}")
    if non_empty and arr.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    return arr


def as_finite_array(values, name, ndim):
    """``values`` as a C-contiguous, non-empty, finite float64 array of ``ndim`` axes."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numeric, got {type(values).__name__}") from None
    if arr.ndim != ndim or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty {ndim}-d array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got NaN or infinity")
    return np.ascontiguousarray(arr)


def as_class_indices(values, name, shape, n_classes):
    """``values`` as a C-contiguous int64 array of ``shape`` holding classes in [0, n_classes) (compiled
    kernels index with them unchecked): ValueError for another shape or an out-of-range class, TypeError
    for non-integers."""
    arr = np.asarray(values)
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must be an int array of shape {tuple(shape)}, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be integer classes, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"{name} must be in [0, {n_classes}), got values in [{arr.min()}, {arr.max()}]")
    return np.ascontiguousarray(arr, dtype=np.int64)


def column_names(X):
    """The column labels of a data frame ``X`` (anything with ``columns``) as an object array (p,) when
    every label is a string, else None (arrays, integer labels), as scikit-learn reads feature names.
    TypeError for a mix of string and other labels, which cannot be matched reliably at predict time."""
    columns = getattr(X, "columns", None)
    if columns is None or len(columns) == 0:
        return None
    labels = np.asarray(list(columns), dtype=object)
    is_str = [isinstance(label, str) for label in labels]
    if all(is_str):
        return labels
    if any(is_str):
        kinds = sorted({type(label).__name__ for label in labels})
        raise TypeError(f"X mixes column label types {kinds}; feature names must all be strings (convert them "
                        "with X.columns = X.columns.astype(str)) or none")
    return None


def _listed(names):
    shown = [f"- {name}\n" for name in names[:MAX_LISTED_NAMES]]
    return "".join(shown) + ("- ...\n" if len(names) > MAX_LISTED_NAMES else "")


def check_feature_names(fitted, names, estimator):
    """Check the column names ``names`` of data given to a fitted ``estimator`` (its class name, for messages)
    against the names it was fitted on, ``fitted`` (both from :func:`column_names`, None for none).

    As scikit-learn: other names or another order raise ValueError naming the unseen, the missing or the
    first misplaced names (columns are never reordered silently); names on one side only warn.
    """
    if fitted is None and names is None:
        return
    if fitted is None or names is None:
        warnings.warn(f"X has feature names, but {estimator} was fitted without feature names" if fitted is None
                      else f"X does not have valid feature names, but {estimator} was fitted with feature names",
                      UserWarning, stacklevel=3)
        return
    if len(fitted) == len(names) and np.all(fitted == names):
        return
    message = "The feature names should match those that were passed during fit.\n"
    unseen = sorted(set(names) - set(fitted))
    missing = sorted(set(fitted) - set(names))
    if unseen:
        message += "Feature names unseen at fit time:\n" + _listed(unseen)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + _listed(missing)
    if not unseen and not missing:
        at = int(np.flatnonzero(fitted != names)[0])
        message += (f"Feature names must be in the same order as they were in fit.\n"
                    f"Column {at} is {names[at]!r} where fit had {fitted[at]!r}; reorder X's columns.\n")
    raise ValueError(message)
