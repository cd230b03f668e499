"""Top-k serving shared by every ranking model: ``implicit``'s API over ids of any type.

``Ranker.recommend`` is batched over users, ranks all items or a candidate subset (``items``),
hides ``filter_items`` and each user's own training items, and can re-solve users from their
stored interactions (``recalculate_user``). ``FactorRanker`` adds batched ``similar_items`` /
``similar_users`` (cosine of the factors) and ``partial_fit_users`` / ``partial_fit_items``, which
replace rows of the interaction matrix and re-solve only those rows, new ids included. Users
unknown at fit time get the popularity ranking (number of users per item), so ``recommend``
never raises for them.

Results follow ``implicit``: a scalar id gives 1-D (ids, scores), an array gives (n, k); k is
capped by the number of candidates; a filtered item scores -inf and only comes up when fewer than
k unfiltered candidates are left (``implicit`` gives -3.4e38 there); ``similar_items`` lists the
query item itself (cosine 1) as ``implicit`` does.
"""
import numpy as np

from bindings.recommend.interactions import check_interactions
from bindings.validation import check_positive_int

__all__ = ["FactorRanker", "PopularityRecommender"]

USER_BATCH = 1024  # queries scored at once: bounds the dense (batch, n_items) score block
ZERO_NORM = 1e-10  # stands in for a zero factor norm in cosines, as in ``implicit``


def top_k(scores, k):
    """Columns (n, k) int64 of the k largest scores of each row, best first, and those scores.
    Equal scores at the k-th place are chosen by ``np.argpartition`` (reproducible, not by id)."""
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    return top, np.take_along_axis(scores, top, axis=1)


def csr_rows(indptr, rows):
    """Positions (m,) of the stored entries of ``rows`` in a CSR, and the index into ``rows`` of
    each (m,), without a Python loop over rows."""
    starts, counts = indptr[rows], indptr[rows + 1] - indptr[rows]
    which = np.repeat(np.arange(rows.shape[0]), counts)
    offsets = np.arange(which.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + offsets, which


def sub_csr(indptr, indices, data, rows):
    """The CSR (indptr, indices, data) made of ``rows`` of another, in that order."""
    pos, _ = csr_rows(indptr, rows)
    sub_indptr = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(indptr[rows + 1] - indptr[rows], out=sub_indptr[1:])
    return sub_indptr, indices[pos], data[pos]


class Ranker:
    """Base of every top-k recommender: ``recommend`` over a ``_scores`` hook."""

    def _start_fit(self, interactions):
        self.interactions_ = check_interactions(interactions)

    def _check_fitted(self):
        if not hasattr(self, "interactions_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit first")

    @property
    def popularity_(self):
        """Number of users per item (n_items,) float64: the ranking of unknown users."""
        return np.diff(self.interactions_.item_indptr).astype(np.float64)

    def _scores(self, user_codes, item_codes, recalculate):
        """(n, n_items or len(item_codes)) float64 scores of known user codes."""
        raise NotImplementedError

    def recommend(self, users, k=10, *, items=None, filter_items=None,
                  filter_already_liked_items=True, recalculate_user=False):
        """The ``k`` best items for each user id: (item ids (n, k), scores (n, k) float64).

        users : one id (1-D results) or a sequence of ids. Unknown users get the most popular
            items (their score is the item's number of users).
        items : candidate item ids to rank instead of all items; every one must be known.
        filter_items : item ids no user is given (unknown ids are ignored).
        filter_already_liked_items : hide each user's own training items.
        recalculate_user : score users with factors re-solved from their stored interactions
            against the current item factors (after ``partial_fit_items``, say) instead of the
            stored user factors; nothing is stored.
        """
        self._check_fitted()
        k = check_positive_int(k, "k")
        x = self.interactions_
        scalar = np.ndim(users) == 0
        codes = x.users.lookup(users)
        candidates = None
        if items is not None:
            candidates = x.items.lookup(items)
            if (candidates < 0).any():
                raise ValueError(f"items holds ids the model does not know, e.g. "
                                 f"{np.asarray(items, dtype=object)[candidates < 0][0]!r}; pass "
                                 "known item ids only")
            candidates = np.unique(candidates)
        n_cand = x.shape[1] if candidates is None else candidates.shape[0]
        column = np.arange(x.shape[1]) if candidates is None else np.full(x.shape[1], -1)
        if candidates is not None:
            column[candidates] = np.arange(n_cand)
        blocked = None
        if filter_items is not None:  # unknown ids and non-candidates cannot come up anyway
            blocked = x.items.lookup(filter_items)
            blocked = column[blocked[blocked >= 0]]
            blocked = blocked[blocked >= 0]
        popularity = self.popularity_ if candidates is None else self.popularity_[candidates]
        k = min(k, n_cand)
        top_codes = np.empty((codes.shape[0], k), dtype=np.int64)
        top_scores = np.empty((codes.shape[0], k))
        for start in range(0, codes.shape[0], USER_BATCH):
            batch = codes[start:start + USER_BATCH]
            known = np.flatnonzero(batch >= 0)
            scores = np.empty((batch.shape[0], n_cand))
            scores[:] = popularity
            if known.size:
                scores[known] = self._scores(batch[known], candidates, recalculate_user)
            if blocked is not None:
                scores[:, blocked] = -np.inf
            if filter_already_liked_items and known.size:
                pos, which = csr_rows(x.indptr, batch[known])
                cols = column[x.indices[pos]]
                liked = cols >= 0
                scores[known[which[liked]], cols[liked]] = -np.inf
            top, top_scores[start:start + USER_BATCH] = top_k(scores, k)
            top_codes[start:start + USER_BATCH] = top if candidates is None else candidates[top]
        ids = x.items.ids[top_codes]
        return (ids[0], top_scores[0]) if scalar else (ids, top_scores)


class PopularityRecommender(Ranker):
    """Recommend the items most users interacted with: the cold-start fallback and a baseline."""

    def fit(self, interactions):
        """Keep the interactions (the counts are read from them); returns self."""
        self._start_fit(interactions)
        return self

    def _scores(self, user_codes, item_codes, recalculate):
        popularity = self.popularity_ if item_codes is None else self.popularity_[item_codes]
        return np.tile(popularity, (user_codes.shape[0], 1))


class FactorRanker(Ranker):
    """Scores from factors, p_u . q_i + b_i, and the serving API built on them.

    The base of ImplicitALS, BPR and MatrixFactorization; ``from_factors`` ranks with factors
    trained elsewhere (it cannot re-solve rows, so no ``partial_fit_*`` or ``recalculate_user``).
    A model lists its per-user and per-item arrays (``_user_arrays``, ``_item_arrays``, rows in
    code order) and solves rows in ``_solve``.
    """

    _user_arrays = ("user_factors_",)
    _item_arrays = ("item_factors_", "item_bias_")

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

    def _score_users(self, params, item_codes):
        """Scores (n, n_items or len(item_codes)) of users given by their ``_user_arrays`` rows."""
        if item_codes is None:
            return params["user_factors_"] @ self.item_factors_.T + self.item_bias_
        return (params["user_factors_"] @ self.item_factors_[item_codes].T
                + self.item_bias_[item_codes])

    def _scores(self, user_codes, item_codes, recalculate):
        if recalculate:
            params = self._solve("users", user_codes)
        else:
            params = {name: getattr(self, name)[user_codes] for name in self._user_arrays}
        return self._score_users(params, item_codes)

    def _solve(self, side, codes):
        """Arrays of ``side`` ('users' or 'items') rows ``codes`` solved from their stored
        interactions with the other side fixed: {attribute name: (len(codes), ...) array}."""
        raise NotImplementedError(f"{type(self).__name__} built from factors cannot re-solve "
                                  "rows; fit the model to use partial_fit or recalculate_user")

    def _rows(self, side, codes):
        """Sub-CSR (indptr, indices, data) of rows ``codes`` of the users (or items) side."""
        x = self.interactions_
        if side == "users":
            return sub_csr(x.indptr, x.indices, x.data, codes)
        return sub_csr(x.item_indptr, x.item_indices, x.item_data, codes)

    def _check_values(self, values):
        """Hook: raise for interaction values the model cannot learn from."""

    def _grow(self, side):
        """Give ids new to the interactions zero rows in the per-user (per-item) arrays."""
        names = self._user_arrays if side == "users" else self._item_arrays
        n_rows = self.interactions_.shape[0 if side == "users" else 1]
        for name in names:
            old = getattr(self, name)
            if old.shape[0] < n_rows:
                grown = np.zeros((n_rows,) + old.shape[1:], dtype=old.dtype)
                grown[:old.shape[0]] = old
                setattr(self, name, grown)

    def _partial_fit(self, side, ids, others, values):
        self._check_fitted()
        x, codes = self.interactions_.with_rows(side, ids, others, values)
        self._check_values(x.data)
        self.interactions_ = x
        self._grow(side)
        for name, rows in self._solve(side, codes).items():
            getattr(self, name)[codes] = rows
        return self

    def partial_fit_users(self, users, items, values=None):
        """Replace the interactions of ``users`` and re-solve their factors, items fixed.

        users, items, values : parallel (n,) arrays, one row per (user, item) interaction (the
        whole new history of each user named; values default 1). Users new to the model are
        added; entries with items the model does not know are dropped (add the items first
        with ``partial_fit_items``). Returns self.
        """
        return self._partial_fit("users", users, items, values)

    def partial_fit_items(self, items, users, values=None):
        """Replace the interactions of ``items`` and re-solve their factors, users fixed.

        items, users, values : parallel (n,) arrays (the whole new history of each item named).
        Items new to the model are added and become recommendable; entries with unknown users
        are dropped. Returns self.
        """
        return self._partial_fit("items", items, users, values)

    def _similar(self, side, ids, k, filter_ids):
        self._check_fitted()
        k = check_positive_int(k, "k")
        id_map = self.interactions_.users if side == "users" else self.interactions_.items
        factors = self.user_factors_ if side == "users" else self.item_factors_
        scalar = np.ndim(ids) == 0
        codes = id_map.lookup(ids)
        if (codes < 0).any():
            unknown = np.asarray([ids] if scalar else ids, dtype=object)[codes < 0][0]
            raise ValueError(f"{side} holds {unknown!r}, which was not in the training data; "
                             f"similar_{side} needs its factors")
        norms = np.linalg.norm(factors, axis=1)
        norms[norms == 0.0] = ZERO_NORM
        blocked = None
        if filter_ids is not None:
            blocked = id_map.lookup(filter_ids)
            blocked = blocked[blocked >= 0]
        k = min(k, factors.shape[0])
        top_codes = np.empty((codes.shape[0], k), dtype=np.int64)
        top_cos = np.empty((codes.shape[0], k))
        for start in range(0, codes.shape[0], USER_BATCH):
            batch = codes[start:start + USER_BATCH]
            cos = (factors[batch] @ factors.T) / (norms[batch, None] * norms)
            if blocked is not None:
                cos[:, blocked] = -np.inf
            top_codes[start:start + USER_BATCH], top_cos[start:start + USER_BATCH] = top_k(cos, k)
        out = id_map.ids[top_codes]
        return (out[0], top_cos[0]) if scalar else (out, top_cos)

    def similar_items(self, items, k=10, *, filter_items=None):
        """The ``k`` items whose factors have the highest cosine with each query item's, the
        item itself included: (ids (n, k), cosines (n, k)); a scalar id gives 1-D arrays.
        Every query must be known (ValueError otherwise); ``filter_items`` are never listed."""
        return self._similar("items", items, k, filter_items)

    def similar_users(self, users, k=10, *, filter_users=None):
        """``similar_items`` over user factors: the ``k`` users most similar to each query."""
        return self._similar("users", users, k, filter_users)
