"""What every export of a ``Booster`` to another library's format shares: the rounds exported,
float32 thresholds that reproduce our float64 decisions, and clear refusals.

Our split sends ``x <= t`` left with a float64 threshold ``t``. Libraries that compare float32
values need a float32 threshold that makes the same decision for every float32 input: for
XGBoost's ``x < c`` the smallest float32 above ``t`` (``float32_above``), for ONNX's
``BRANCH_LEQ`` the largest float32 at or below ``t`` (``float32_at_or_below``). No float32 lies
strictly between ``t`` and either choice, so float32 inputs (what those libraries read) go
the way ours do, values sitting exactly on a threshold included.
"""
import numpy as np

__all__ = ["exported_rounds", "float32_above", "float32_at_or_below"]


def exported_rounds(booster, target):
    """(trees, tree_class) that an export writes: the rounds ``booster.predict`` uses by default
    (up to ``best_iteration`` after early stopping, as LightGBM's ``save_model`` does).
    ``target`` names the format in messages. Raises ValueError for a booster without trees."""
    if booster.num_trees() == 0:
        raise ValueError(f"cannot export an untrained booster to {target}: it has no trees; train it first")
    stop = len(booster.trees) if booster.best_iteration is None else (booster.best_iteration + 1) * booster.num_class
    return booster.trees[:stop], booster.tree_class[:stop]


def float32_above(threshold):
    """(m,) float32: the smallest float32 strictly above each float64 ``threshold`` (+inf above
    the float32 range). For float32 x: ``x <= threshold`` <=> ``x < float32_above(threshold)``."""
    threshold = np.asarray(threshold, dtype=np.float64)
    with np.errstate(over="ignore"):  # beyond the float32 range: +-inf
        c = threshold.astype(np.float32)
        return np.where(c.astype(np.float64) <= threshold, np.nextafter(c, np.float32(np.inf)), c)


def float32_at_or_below(threshold):
    """(m,) float32: the largest float32 at or below each float64 ``threshold`` (-inf below the
    float32 range). For float32 x: ``x <= threshold`` <=> ``x <= float32_at_or_below(threshold)``."""
    threshold = np.asarray(threshold, dtype=np.float64)
    with np.errstate(over="ignore"):  # beyond the float32 range: +-inf
        c = threshold.astype(np.float32)
        return np.where(c.astype(np.float64) > threshold, np.nextafter(c, np.float32(-np.inf)), c)

