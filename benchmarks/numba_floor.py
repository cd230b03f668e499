"""Numba's own cold start, the floor under ours in the cold-start rows of ``python -m benchmarks --tasks small``.

Importing this module does what every Numba-compiled package's first use does, and nothing of ours:
scikit-learn's import (the estimators' scripts pay it too), Numba's import, and, in ``numba_alone``, the first
call of one 4-line function loaded from Numba's disk cache (Numba sets up its typing and lowering registries
before its first cache load). The cold-start script times it as the library "numba alone".
"""
import numpy as np
import sklearn.base  # noqa: F401  (as the estimators' scripts import it)
from numba import njit


@njit(cache=True, nogil=True)
def _total(values):
    total = 0.0
    for v in values:
        total += v
    return total


def numba_alone():
    """The first call of a cached function: 10.0."""
    return _total(np.ones(10))
