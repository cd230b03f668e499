"""Top-k recommendation shared by the implicit-feedback models and the popularity fallback.

A ranker scores every item for a user (``_scores``), optionally hides the items the user already
interacted with, and returns the ``k`` best item ids. Users unknown at fit time get the
popularity ranking (number of users per item), so ``recommend`` never raises for them.
"""
import numpy as np

from bindings.recommend_data import Interactions

__all__ = ["PopularityRecommender"]

USER_BATCH = 1024  # users scored at once: bounds the dense (batch, n_items) score block


class Ranker:
    """Base of every top-k recommender: fit bookkeeping, ``recommend`` and ``similar_items``."""

    def _start_fit(self, interactions):
        if not isinstance(interactions, Interactions):
            raise TypeError("fit expects an Interactions (Interactions.from_table or from_csr); "
                            f"got {type(interactions).__name__}")
        self.interactions_ = interactions
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
        the most popular items.
        """
        self._check_fitted()
        scalar = np.ndim(users) == 0
        codes = self.interactions_.users.lookup(users)
        n_items = self.interactions_.shape[1]
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive int; got {k!r}")
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
