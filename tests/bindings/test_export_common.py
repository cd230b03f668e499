"""The float32 thresholds of the exports, checked by their defining property on edge cases."""
import numpy as np

from bindings.export_common import float32_above, float32_at_or_below

F32_MAX = float(np.finfo(np.float32).max)
THRESHOLDS = np.concatenate([
    np.random.default_rng(0).standard_normal(1000) * 10.0 ** np.random.default_rng(1).integers(-30, 30, 1000),
    np.float32([0.1, 1.5, -2.75, 3e38]).astype(np.float64),  # float32 values themselves
    [0.0, -0.0, 5e-46, -5e-46, F32_MAX * 1.5, -F32_MAX * 1.5, np.inf, -np.inf],
])


def test_float32_above_is_the_next_float32_above():
    c = float32_above(THRESHOLDS)
    assert c.dtype == np.float32
    finite = THRESHOLDS < F32_MAX
    assert (c.astype(np.float64)[finite] > THRESHOLDS[finite]).all()
    with np.errstate(over="ignore"):
        below = np.nextafter(c, np.float32(-np.inf)).astype(np.float64)  # the float32 just under c
    assert (below <= THRESHOLDS).all()
    assert (c[~finite] == np.inf).all()


def test_float32_at_or_below_is_the_largest_float32_not_above():
    c = float32_at_or_below(THRESHOLDS)
    assert c.dtype == np.float32
    assert (c.astype(np.float64) <= THRESHOLDS).all()
    inside = np.abs(THRESHOLDS) < F32_MAX
    above = np.nextafter(c[inside], np.float32(np.inf)).astype(np.float64)
    assert (above > THRESHOLDS[inside]).all()
    assert (c[THRESHOLDS == F32_MAX * 1.5] == F32_MAX).all() and (c[THRESHOLDS == np.inf] == np.inf).all()
