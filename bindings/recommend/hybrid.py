"""A LightFM-style hybrid: users and items are sums of feature embeddings, trained jointly by BPR.

    p_u = sum_k F_uk E_k,   q_i = sum_k G_ik H_k,   b_i = sum_k G_ik c_k,   score p_u . q_i + b_i

F and G hold the side features (genres, say) and, by default, one identity feature per user and
per item, as LightFM does. Unlike ``SideFeatureMap`` (a ridge from features to factors fitted
after the model), the feature embeddings are learnt with the interactions, so an item that only
has features (``add_items``) is placed by what its features meant for the training items.
"""
import numpy as np

from bindings.recommend.implicit import BPR
from bindings.recommend.interactions import ids_1d
from gbdt.kernels.recommend.sgd import hybrid_bpr_epoch

__all__ = ["HybridBPR"]


def _side_matrix(features, name):
    """(ids, matrix (n, d) float64) from a (ids, matrix) pair, checked."""
    if not isinstance(features, tuple) or len(features) != 2:
        raise TypeError(f"{name} must be a tuple (ids (n,), matrix (n, d)); got "
                        f"{type(features).__name__}")
    ids = ids_1d(features[0], f"{name} ids")
    matrix = np.asarray(features[1], dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != ids.shape[0]:
        raise ValueError(f"{name} matrix must be 2-D with one row per id ({ids.shape[0]}); got "
                         f"shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError(f"{name} matrix contains NaN/inf")
    return ids, matrix


def _feature_csr(side, n_rows, identity):
    """CSR (indptr, indices, values) of [side, identity]: row r holds its side columns
    0..d-1 and, with ``identity``, column d + r."""
    rows, cols = np.nonzero(side)
    values = side[rows, cols]
    if identity:
        rows = np.concatenate([rows, np.arange(n_rows)])
        cols = np.concatenate([cols, side.shape[1] + np.arange(n_rows)])
        values = np.concatenate([values, np.ones(n_rows)])
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return indptr, cols[order].astype(np.int32), values[order]


def _feature_sums(csr, embeddings):
    """sum_k F_rk embeddings[k] for every row r of the feature CSR: (n_rows, ...) float64."""
    indptr, indices, values = csr
    rows = np.repeat(np.arange(indptr.shape[0] - 1), np.diff(indptr))
    out = np.zeros((indptr.shape[0] - 1,) + embeddings.shape[1:])
    np.add.at(out, rows, (values * embeddings[indices].T).T)
    return out


class HybridBPR(BPR):
    """BPR over feature embeddings (LightFM's model with its BPR loss, plain SGD).

    fit(interactions, user_features=None, item_features=None): features are (ids, dense matrix
    (n, d)) pairs; rows of ids the interactions lack are ignored, entities without a row have
    zero side features. identity : add one identity feature per user and item (LightFM's
    default); without it every user (item) with equal features is the same vector.
    The other parameters, the sampling and ``n_jobs`` (Hogwild on several threads) are BPR's.
    After ``fit``, ``user_factors_``, ``item_factors_`` and ``item_bias_`` are the feature sums,
    so the serving API of ``FactorRanker`` applies; ``add_items`` adds items known by their
    features only. ``user_embeddings_``, ``item_embeddings_`` (side columns first, then
    identities) and ``item_feature_bias_`` hold the learnt embeddings.
    """

    def __init__(self, *, n_factors=64, learning_rate=0.05, reg=0.01, n_epochs=50,
                 negatives="popularity", identity=True, random_state=None, n_jobs=None):
        super().__init__(n_factors=n_factors, learning_rate=learning_rate, reg=reg,
                         n_epochs=n_epochs, negatives=negatives, random_state=random_state,
                         n_jobs=n_jobs)
        self.identity = bool(identity)

    def _features(self, features, id_map, name):
        """Side matrix (n_rows, d) in ``id_map``'s codes (zeros where an id has no row)."""
        if features is None:
            return np.zeros((len(id_map), 0))
        ids, matrix = _side_matrix(features, name)
        codes = id_map.lookup(ids)
        side = np.zeros((len(id_map), matrix.shape[1]))
        side[codes[codes >= 0]] = matrix[codes >= 0]
        return side

    def fit(self, interactions, *, user_features=None, item_features=None):
        """Learn the feature embeddings on ``interactions``; returns self."""
        self._start_fit(interactions)
        x = interactions
        if x.shape[1] < 2:
            raise ValueError("BPR needs at least 2 items to rank")
        user_side = self._features(user_features, x.users, "user_features")
        item_side = self._features(item_features, x.items, "item_features")
        if not self.identity and (user_side.shape[1] == 0 or item_side.shape[1] == 0):
            raise ValueError("identity=False needs user_features and item_features")
        user_csr = _feature_csr(user_side, x.shape[0], self.identity)
        item_csr = _feature_csr(item_side, x.shape[1], self.identity)
        rng = np.random.default_rng(self.random_state)
        n_user_features = user_side.shape[1] + (x.shape[0] if self.identity else 0)
        n_item_features = item_side.shape[1] + (x.shape[1] if self.identity else 0)
        self.user_embeddings_ = self._initial_factors(rng, n_user_features)
        self.item_embeddings_ = self._initial_factors(rng, n_item_features)
        self.item_feature_bias_ = np.zeros(n_item_features)
        self.n_item_side_features_ = item_side.shape[1]

        def step(users, positives, negatives):
            return hybrid_bpr_epoch(users, positives, negatives, x.indptr, x.indices, user_csr,
                                    item_csr, float(self.learning_rate), float(self.reg),
                                    self.user_embeddings_, self.item_embeddings_,
                                    self.item_feature_bias_)[0]

        self.loss_ = self._epochs(rng, x.row_users(), x.indices, step)
        self.user_factors_ = _feature_sums(user_csr, self.user_embeddings_)
        self.item_factors_ = _feature_sums(item_csr, self.item_embeddings_)
        self.item_bias_ = _feature_sums(item_csr, self.item_feature_bias_)
        return self

    def add_items(self, items, features):
        """Add items known only by their side features (n, d): factors and bias are the sums
        of the side embeddings (no identity embedding was learnt for them). Returns self."""
        self._check_fitted()
        ids, matrix = _side_matrix((items, features), "features")
        if matrix.shape[1] != self.n_item_side_features_:
            raise ValueError(f"features must have {self.n_item_side_features_} columns (the "
                             f"item_features of fit); got {matrix.shape[1]}")
        if (self.interactions_.items.lookup(ids) >= 0).any() or len(set(ids.tolist())) < ids.size:
            raise ValueError("add_items takes distinct new item ids; re-solve known items with "
                             "partial_fit_items")
        self.interactions_ = self.interactions_.with_ids("items", ids)
        self._grow("items")
        codes = self.interactions_.items.lookup(ids)
        side = slice(0, self.n_item_side_features_)
        self.item_factors_[codes] = matrix @ self.item_embeddings_[side]
        self.item_bias_[codes] = matrix @ self.item_feature_bias_[side]
        return self
