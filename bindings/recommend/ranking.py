"""Top-k recommendation shared by the implicit-feedback models and the popularity fallback.

A ranker scores every item for a user (``_scores``), optionally hides the items the user already
interacted with, and returns the ``k`` best item ids. Users unknown at fit time get the
popularity ranking (number of users per item), so ``recommend`` never raises for them.
"""
import numpy as np

from bindings.recommend.interactions import check_interactions
from bindings.validation import check_positive_int

__all__ = ["FactorRanker", "PopularityRecommender"]

USER_BATCH = 1024  # users scored at once: bounds the dense (batch, n_items) score block


class Ranker:
    """Base of every top-k recommender: fit bookkeeping, ``recommend`` and ``similar_items``."""

    def _start_fit(self, interactions):
        self.interactions_ = check_interactions(interactions)
        self.popularity_ = np.diff(interactions.item_indptr).astype(np.float64)

    def _check_fitted(self):
        if not hasattr(self, "interactions_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit first")

    def _scores(self, user_codes):
        """(n, n_items) float64 scores of known user codes."""
        raise NotImplementedError

    def _top_k(self, scores, k):
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        return top, np.take_along_axis(scores, top, axis=1)

    def recommend(self, users, k=10, *, filter_seen=True):
        """The ``k`` best items for each user id: (item ids (n, k), scores (n, k)).

        A scalar user gives 1-D arrays. ``filter_seen`` gives the user's training items score
        -inf, so they come last (only when fewer than k unseen items are left). Unknown users get
        the most popular items. Items with equal scores at the k-th place are chosen by
        ``np.argpartition`` (reproducible, but not by id order).
        """
        self._check_fitted()
        scalar = np.ndim(users) == 0
        codes = self.interactions_.users.lookup(users)
        n_items = self.interactions_.shape[1]
        k = check_positive_int(k, "k")
        k = min(int(k), n_items)
        x = self.interactions_
        top_codes = np.empty((codes.shape[0], k), dtype=np.int64)
        top_scores = np.empty((codes.shape[0], k))
        for start in range(0, codes.shape[0], USER_BATCH):
            batch = codes[start:start + USER_BATCH]
            known = batch >= 0
            scores = np.tile(self.popularity_, (batch.shape[0], 1))
            scores[known] = self._scores(batch[known])
            if filter_seen:
                rows = np.flatnonzero(known)
                counts = x.indptr[batch[rows] + 1] - x.indptr[batch[rows]]
                cols = np.concatenate([x.indices[x.indptr[u]:x.indptr[u + 1]]
                                       for u in batch[rows]]) if rows.size else rows
                scores[np.repeat(rows, counts), cols] = -np.inf
            top_codes[start:start + USER_BATCH], top_scores[start:start + USER_BATCH] = \
                self._top_k(scores, k)
        ids = x.items.ids[top_codes]
        return (ids[0], top_scores[0]) if scalar else (ids, top_scores)


class PopularityRecommender(Ranker):
    """Recommend the items most users interacted with: the cold-start fallback and a baseline."""

    def fit(self, interactions):
        """Count users per item; returns self."""
        self._start_fit(interactions)
        return self

    def _scores(self, user_codes):
        return np.tile(self.popularity_, (user_codes.shape[0], 1))


class FactorRanker(Ranker):
    """Scores from factors: p_u . q_i + b_i; item-item similarity from the item factors.

    The base of ImplicitALS and BPR; ``from_factors`` ranks with factors trained elsewhere.
    """

    @classmethod
    def from_factors(cls, interactions, user_factors, item_factors, item_bias=None):
        """A ranker over given factors (n_users, f) and (n_items, f) in ``interactions``' codes."""
        ranker = cls.__new__(cls)
        ranker._start_fit(interactions)
        user_factors = np.asarray(user_factors, dtype=np.float64)
        item_factors = np.asarray(item_factors, dtype=np.float64)
        n_users, n_items = interactions.shape
        if (user_factors.ndim != 2 or item_factors.ndim != 2 or user_factors.shape[0] != n_users
                or item_factors.shape != (n_items, user_factors.shape[1])):
            raise ValueError(f"factors must be ({n_users}, f) and ({n_items}, f); got "
                             f"{user_factors.shape} and {item_factors.shape}")
        ranker.user_factors_, ranker.item_factors_ = user_factors, item_factors
        ranker.item_bias_ = (np.zeros(n_items) if item_bias is None
                             else np.asarray(item_bias, dtype=np.float64).reshape(n_items))
        return ranker

    def _scores(self, user_codes):
        return self.user_factors_[user_codes] @ self.item_factors_.T + self.item_bias_

    def score_factors(self, user_factors):
        """Scores (n, n_items) of users given as factor rows (n, n_factors), e.g. from fold_in."""
        self._check_fitted()
        return np.atleast_2d(user_factors) @ self.item_factors_.T + self.item_bias_

    def similar_items(self, item, k=10):
        """The ``k`` items whose factors have the highest cosine with ``item``'s (itself excluded):
        (item ids (k,), cosines (k,))."""
        self._check_fitted()
        code = self.interactions_.items.lookup(item)[0]
        if code < 0:
            raise ValueError(f"item {item!r} was not in the training data; similar_items needs "
                             "its factors")
        k = check_positive_int(k, "k")
        norms = np.linalg.norm(self.item_factors_, axis=1)
        cos = self.item_factors_ @ self.item_factors_[code] / np.maximum(norms * norms[code],
                                                                          1e-300)
        cos[code] = -np.inf
        top, sims = self._top_k(cos[None, :], min(int(k), cos.shape[0] - 1))
        return self.interactions_.items.ids[top[0]], sims[0]
