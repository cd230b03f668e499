"""Cold start for items with no interactions: a ridge map from side features to factors.

A simple hybrid: fit  W = argmin |[F, 1] W - Q|^2 + reg |W|^2  on the items the model knows
(F: side features such as genre indicators, Q: the model's item factors, plus item bias as an
extra column), then give a new item the factors [f, 1] W so any user can score it. Users with no
history are served by the popularity ranking (``PopularityRecommender`` / ``recommend``) or,
with a few interactions, by ``partial_fit_users``.
"""
import numpy as np

from bindings.validation import check_number

__all__ = ["SideFeatureMap"]


def _features(features, name):
    arr = np.asarray(features, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_items, n_features); got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contain NaN/inf")
    return np.hstack([arr, np.ones((arr.shape[0], 1))])


class SideFeatureMap:
    """Ridge regression from item side features to item factors (and bias), with intercept.

    reg : L2 penalty on every coefficient, the intercept included.
    """

    def __init__(self, *, reg=1.0):
        check_number(reg, "reg", low=0.0)
        self.reg = reg

    def fit(self, model, item_ids, features):
        """Fit the map on the ``model``'s factors of ``item_ids`` (n,) given ``features`` (n, d).

        Ids unknown to the model are skipped. Returns self.
        """
        codes = model.interactions_.items.lookup(item_ids)
        design = _features(features, "features")
        if design.shape[0] != codes.shape[0]:
            raise ValueError(f"features must have one row per item id ({codes.shape[0]}); got "
                             f"{design.shape[0]}")
        known = codes >= 0
        if not known.any():
            raise ValueError("none of item_ids is known to the model")
        target = np.hstack([model.item_factors_[codes[known]],
                            model.item_bias_[codes[known], None]])
        design = design[known]
        gram = design.T @ design + self.reg * np.eye(design.shape[1])
        self.coef_ = np.linalg.solve(gram, design.T @ target)
        return self

    def transform(self, features):
        """(factors (n, n_factors), bias (n,)) for items described by ``features`` (n, d)."""
        if not hasattr(self, "coef_"):
            raise RuntimeError("SideFeatureMap is not fitted; call fit first")
        design = _features(features, "features")
        if design.shape[1] != self.coef_.shape[0]:
            raise ValueError(f"features must have {self.coef_.shape[0] - 1} columns; got "
                             f"{design.shape[1] - 1}")
        out = design @ self.coef_
        return out[:, :-1], out[:, -1]
