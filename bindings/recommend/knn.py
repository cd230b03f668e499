"""Neighbourhood rating predictors, as Surprise's KNNBasic, KNNWithMeans and KNNBaseline.

For a pair (x, y) (user-based: x = user, y = item; item-based: x = item, y = user) the ``k``
entities most similar to x among those who rated y are averaged, weighted by their (positive)
similarity:

- KNNBasic (``KNNRecommender(centered=False)``): r = sum sim r_x2y / sum sim
- KNNWithMeans (``centered=True``): r = mean_x + sum sim (r_x2y - mean_x2) / sum sim
- KNNBaseline (``KNNBaseline``): r = b_xy + sum sim (r_x2y - b_x2y) / sum sim, with the
  baselines b = mu + b_u + b_i of a ``BaselinePredictor`` (Surprise's ``bsl_options``)

Fallbacks are Surprise's: an unknown id, or fewer than ``min_k`` neighbours in KNNBasic, makes
the pair impossible (the global mean, ``was_impossible`` in the details); KNNWithMeans falls back
to mean_x, KNNBaseline to the baseline (partial, where one id is unknown) without calling it
impossible.
"""
import numpy as np

from bindings.recommend.explicit import UNKNOWN, BaselinePredictor, _RatingPredictor
from bindings.recommend.model_selection import clone
from bindings.validation import check_choice, check_int, check_n_jobs, check_number, check_positive_int
from gbdt.kernels.recommend.knn import knn_weighted_deviation
from gbdt.kernels.recommend.similarity import KIND_BY_NAME, similarity_matrix
from gbdt.threads import using_threads

__all__ = ["KNNRecommender", "KNNBaseline"]

MAX_KNN_ENTITIES = 60_000  # the similarity matrix is dense: 60k^2 float64 is ~29 GB
NOT_ENOUGH = "Not enough neighbors."  # Surprise's message


class KNNRecommender(_RatingPredictor):
    """User- or item-based kNN as Surprise's KNNBasic (``centered=False``) and KNNWithMeans
    (``centered=True``).

    similarity : 'msd', 'cosine', 'pearson' or 'pearson_baseline' (Pearson on the residuals of
        ``baseline``, shrunk by (n-1)/(n-1+shrinkage)); computed over co-rated entries only.
    k, min_k : most / fewest neighbours with positive similarity (see the module docstring).
    baseline : an unfitted ``BaselinePredictor`` whose parameters give the baselines of
        'pearson_baseline' (None: its defaults, Surprise's ALS ``bsl_options``).
    The similarity matrix is dense (n_users^2 or n_items^2 float64); ties among equally similar
    neighbours go to the lower code. n_jobs : Numba threads (None: all).
    """

    def __init__(self, *, k=40, min_k=1, similarity="msd", user_based=True, centered=False,
                 min_support=1, shrinkage=100.0, baseline=None, rating_scale=None, n_jobs=None):
        check_positive_int(k, "k")
        check_int(min_k, "min_k", low=0)
        check_int(min_support, "min_support", low=0)
        check_number(shrinkage, "shrinkage", low=0.0)
        check_choice(similarity, "similarity", KIND_BY_NAME)
        if baseline is not None and not isinstance(baseline, BaselinePredictor):
            raise TypeError(f"baseline must be a BaselinePredictor or None; got "
                            f"{type(baseline).__name__}")
        self.k, self.min_k, self.similarity = k, min_k, similarity
        self.user_based, self.centered = bool(user_based), bool(centered)
        self.min_support, self.shrinkage, self.baseline = min_support, shrinkage, baseline
        check_n_jobs(n_jobs)
        self.rating_scale, self.n_jobs = rating_scale, n_jobs

    def _sides(self):
        """CSR arrays (x side: the compared entities, y side: the other), as the model sees them."""
        x = self.interactions_
        user_side = (x.indptr, x.indices, x.data)
        item_side = (x.item_indptr, x.item_indices, x.item_data)
        return (user_side, item_side) if self.user_based else (item_side, user_side)

    def _uses_baseline(self):
        return self.similarity == "pearson_baseline"

    def fit(self, interactions):
        """Compute the similarity matrix and the per-entity offsets; returns self."""
        self._start_fit(interactions)
        (x_ptr, x_idx, x_val), (y_ptr, y_idx, y_val) = self._sides()
        n_x = x_ptr.shape[0] - 1
        if n_x > MAX_KNN_ENTITIES:
            raise ValueError(f"kNN keeps a dense {n_x} x {n_x} similarity matrix, too large; use "
                             "MatrixFactorization, or user_based to compare the smaller side")
        if self._uses_baseline():
            # one baseline fit serves the similarity and (KNNBaseline) the prediction, as in
            # Surprise's compute_baselines
            template = BaselinePredictor() if self.baseline is None else self.baseline
            self.baseline_ = clone(template).fit(interactions)
        if self.similarity == "pearson_baseline":
            x_val = x_val - self._row_baseline(x_ptr, x_idx, self.user_based)
            y_val = y_val - self._row_baseline(y_ptr, y_idx, not self.user_based)
        self.sim_ = np.empty((n_x, n_x))
        with using_threads(self.n_jobs, chunksize=1):
            similarity_matrix(x_ptr, x_idx, x_val, y_ptr, y_idx, y_val,
                              KIND_BY_NAME[self.similarity], self.min_support,
                              float(self.shrinkage), self.sim_)
        self.means_ = self._offsets(n_x)
        return self

    def _offsets(self, n_x):
        """What each neighbour's rating is taken relative to (n_x,): its mean rating if
        centered, else 0."""
        if not self.centered:
            return np.zeros(n_x)
        x_ptr, _, raw = self._sides()[0]
        counts = np.diff(x_ptr)
        rows = np.repeat(np.arange(n_x), counts)
        return np.bincount(rows, weights=raw, minlength=n_x) / np.maximum(counts, 1)

    def _row_baseline(self, indptr, indices, rows_are_users):
        """mu + b_u + b_i of every stored entry of a CSR whose rows are users (or items)."""
        base = self.baseline_
        rows = np.repeat(np.arange(indptr.shape[0] - 1), np.diff(indptr))
        u, i = (rows, indices) if rows_are_users else (indices, rows)
        return base.global_mean_ + base.user_bias_[u] + base.item_bias_[i]

    def _neighbours(self, u, i):
        """(x codes, y codes, weighted deviations, neighbours averaged) of the known pairs, and
        the mask of known pairs."""
        known = (u >= 0) & (i >= 0)
        x, y = (u[known], i[known]) if self.user_based else (i[known], u[known])
        _, (y_ptr, y_idx, y_val) = self._sides()
        dev = np.empty(x.shape[0])
        actual_k = np.empty(x.shape[0], dtype=np.int64)
        with using_threads(self.n_jobs, chunksize=1):
            knn_weighted_deviation(x, y, y_ptr, y_idx, y_val, self.sim_, self.means_, self.k,
                                   dev, actual_k)
        return x, y, dev, actual_k, known

    def _estimate(self, u, i):
        est = np.full(u.shape[0], self.global_mean_)
        x, _, dev, actual_k, known = self._neighbours(u, i)
        enough = actual_k >= max(self.min_k, 1)
        impossible = ~known
        reason = np.where(known, None, UNKNOWN).astype(object)
        if self.centered:
            est[known] = self.means_[x] + np.where(enough, dev, 0.0)
        else:
            est[known] = np.where(enough, dev, self.global_mean_)
            short = np.flatnonzero(known)[~enough]
            impossible[short] = True
            reason[short] = NOT_ENOUGH
        full_k = np.zeros(u.shape[0], dtype=np.int64)
        full_k[known] = actual_k
        return est, {"was_impossible": impossible, "reason": reason, "actual_k": full_k}


class KNNBaseline(KNNRecommender):
    """Surprise's KNNBaseline: r = b_xy + sum sim (r_x2y - b_x2y) / sum sim over the ``k`` most
    similar neighbours with positive similarity; the baseline alone below ``min_k`` of them.

    baseline : an unfitted ``BaselinePredictor`` giving the baselines, for the prediction and
        for 'pearson_baseline' (the similarity Surprise recommends here); None: its defaults
        (Surprise's ALS ``bsl_options``). Unknown ids get the partial baseline (mu plus the
        known biases), not marked impossible, as in Surprise. Other parameters as
        ``KNNRecommender``.
    """

    def __init__(self, *, k=40, min_k=1, similarity="msd", user_based=True, min_support=1,
                 shrinkage=100.0, baseline=None, rating_scale=None, n_jobs=None):
        super().__init__(k=k, min_k=min_k, similarity=similarity, user_based=user_based,
                         centered=False, min_support=min_support, shrinkage=shrinkage,
                         baseline=baseline, rating_scale=rating_scale, n_jobs=n_jobs)

    def _uses_baseline(self):
        return True

    def _offsets(self, n_x):
        """mu + b_x2: with b_y the same for every neighbour of a pair, r - b_x2y = (r - mu - b_x2)
        - b_y, so the kernel's weighted deviation needs only this per-neighbour offset."""
        base = self.baseline_
        return base.global_mean_ + (base.user_bias_ if self.user_based else base.item_bias_)

    def _estimate(self, u, i):
        est = self.baseline_._biased_estimate(u, i)
        x, y, dev, actual_k, known = self._neighbours(u, i)
        enough = actual_k >= max(self.min_k, 1)
        y_bias = self.baseline_.item_bias_ if self.user_based else self.baseline_.user_bias_
        # mu + b_x + b_y + (dev - b_y): the neighbours' term replaces the pair's own b_y
        est[known] += np.where(enough, dev - y_bias[y], 0.0)
        full_k = np.zeros(u.shape[0], dtype=np.int64)
        full_k[known] = actual_k
        return est, {"actual_k": full_k}
