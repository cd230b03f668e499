"""Per-row uniform numbers from a hash of the row's global index: the same draw wherever the row
is stored, however rows are chunked or threaded.

``row_hash(row_id, seeds)`` mixes each seed (an int >= 0) in turn into the row index with
splitmix64; ``unit_uniform`` scales its top 53 bits to [0, 1). Row sampling (``bindings.row_sampling``) and
the stochastic rounding of quantised gradients (``gbdt.quantize``) draw from it with different
seed tuples.
"""
import numpy as np
from numba import prange

from gbdt._jit import jit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)


@jit(inline=True)
def row_hash(row_id, seeds):
    """64 random bits (uint64) for ``row_id`` (int) under the int tuple ``seeds``."""
    z = np.uint64(row_id)
    for seed in seeds:
        z = z + GOLDEN * np.uint64(seed + 1)
        z = (z ^ (z >> np.uint64(30))) * MIX_1
        z = (z ^ (z >> np.uint64(27))) * MIX_2
        z = z ^ (z >> np.uint64(31))
    return z


@jit(inline=True)
def unit_uniform(row_id, seeds):
    """A uniform number in [0, 1) for ``row_id`` (int) under the int tuple ``seeds`` (53 bits)."""
    return np.float64(row_hash(row_id, seeds) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@jit(parallel=True)
def hashed_uniforms(row_ids, seeds, out):
    """``out[i] = unit_uniform(row_ids[i], seeds)`` for row_ids (n,) int64, out (n,) float64."""
    for i in prange(row_ids.shape[0]):
        out[i] = unit_uniform(row_ids[i], seeds)
