"""Parameter checks shared by the recommender models (one message style for every bad value) and
``clone``, which model selection uses to make fresh models."""
import inspect

import numpy as np

from bindings.recommend.interactions import Interactions

__all__ = ["check_positive", "check_choice", "check_interactions", "clone"]


def check_positive(name, value, *, integer=False, allow_zero=False):
    """Raise ValueError naming ``name`` unless ``value`` is a finite number (an int if
    ``integer``) > 0, or >= 0 if ``allow_zero``."""
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    ok = isinstance(value, kinds) and not isinstance(value, bool) and np.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        need = "int" if integer else "number"
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} "
                         f"{need}; got {value!r}")


def check_choice(name, value, choices):
    """Raise ValueError naming ``name`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}; got {value!r}")


def check_interactions(interactions):
    """``interactions`` itself if it is an Interactions, else a TypeError saying how to make one."""
    if not isinstance(interactions, Interactions):
        raise TypeError("fit expects an Interactions (Interactions.from_table or from_csr); "
                        f"got {type(interactions).__name__}")
    return interactions


def clone(model, **params):
    """A new unfitted model of ``model``'s class with its constructor parameters, ``params``
    overriding some (ValueError naming any the class does not take)."""
    names = [name for name, p in inspect.signature(type(model).__init__).parameters.items()
             if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise ValueError(f"{type(model).__name__} has no parameter {unknown[0]!r}; its "
                         f"parameters are {names}")
    return type(model)(**{name: params.get(name, getattr(model, name)) for name in names})
