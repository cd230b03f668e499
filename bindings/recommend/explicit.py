"""Explicit-feedback rating predictors: baseline biases, user/item kNN, biased matrix factorization.

Each model is fitted on an ``Interactions`` and predicts ratings for (user, item) id pairs.
Unknown ids never raise: a pair the model cannot score falls back as Surprise does (kNN: the
global mean; baseline and MF: the global mean plus whichever biases are known). Predictions are
clipped to ``rating_scale`` (default: the smallest and largest training rating).
"""
import numpy as np

from bindings.recommend.interactions import check_interactions, ids_1d
from bindings.validation import check_choice, check_int, check_n_jobs, check_number, check_positive_int
from gbdt.kernels.recommend.als import ridge_half_step
from gbdt.kernels.recommend.knn import knn_weighted_deviation
from gbdt.kernels.recommend.sgd import biased_mf_sgd_epoch
from gbdt.kernels.recommend.similarity import KIND_BY_NAME, similarity_matrix
from gbdt.threads import using_threads

__all__ = ["BaselinePredictor", "KNNRecommender", "MatrixFactorization"]

MAX_KNN_ENTITIES = 60_000  # the similarity matrix is dense: 60k^2 float64 is ~29 GB


class _RatingPredictor:
    """Shared fit bookkeeping and the predict path (id lookup, fallback, clipping)."""

    rating_scale = None

    def _start_fit(self, interactions):
        self.interactions_ = check_interactions(interactions)
        self.global_mean_ = float(interactions.data.mean())
        if self.rating_scale is None:
            self.rating_scale_ = (float(interactions.data.min()), float(interactions.data.max()))
        else:
            lo, hi = self.rating_scale
            if not lo < hi:
                raise ValueError(f"rating_scale must be (low, high) with low < high; got "
                                 f"{self.rating_scale!r}")
            self.rating_scale_ = (float(lo), float(hi))

    def predict(self, users, items):
        """Predicted ratings (n,) float64 for parallel arrays (or scalars) of user and item ids."""
        if not hasattr(self, "interactions_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit first")
        users = ids_1d([users] if np.ndim(users) == 0 else users, "users")
        items = ids_1d([items] if np.ndim(items) == 0 else items, "items")
        if users.shape != items.shape:
            raise ValueError(f"users and items must have the same length; got {users.shape[0]} "
                             f"and {items.shape[0]}")
        u = self.interactions_.users.lookup(users)
        i = self.interactions_.items.lookup(items)
        return np.clip(self._estimate(u, i), *self.rating_scale_)

    def _biased_estimate(self, u, i):
        """mu + b_u + b_i, each bias only where its id is known (-1 codes are unknown)."""
        est = np.full(u.shape[0], self.global_mean_)
        est[u >= 0] += self.user_bias_[u[u >= 0]]
        est[i >= 0] += self.item_bias_[i[i >= 0]]
        return est


class BaselinePredictor(_RatingPredictor):
    """r_ui ~ mu + b_u + b_i, fitted by alternating ridge steps ('als', items then users, as
    Surprise's BaselineOnly) or by SGD ('sgd').

    Defaults follow Surprise: als: n_epochs=10, reg_user=15, reg_item=10 (added to the count in
    each closed-form step); sgd: n_epochs=20, reg_user=reg_item=0.02, learning_rate=0.005.
    """

    def __init__(self, *, solver="als", n_epochs=None, reg_user=None, reg_item=None,
                 learning_rate=0.005, rating_scale=None):
        check_choice(solver, "solver", ("als", "sgd"))
        als = solver == "als"
        self.solver = solver
        self.n_epochs = (10 if als else 20) if n_epochs is None else n_epochs
        self.reg_user = (15.0 if als else 0.02) if reg_user is None else reg_user
        self.reg_item = (10.0 if als else 0.02) if reg_item is None else reg_item
        self.learning_rate = learning_rate
        self.rating_scale = rating_scale
        check_positive_int(self.n_epochs, "n_epochs")
        check_number(self.reg_user, "reg_user", low=0.0)
        check_number(self.reg_item, "reg_item", low=0.0)
        check_number(learning_rate, "learning_rate", low=0.0, low_open=True)

    def fit(self, interactions):
        """Fit the biases on ``interactions``; returns self."""
        self._start_fit(interactions)
        x = interactions
        n_users, n_items = x.shape
        self.user_bias_ = np.zeros(n_users)
        self.item_bias_ = np.zeros(n_items)
        no_factors_u, no_factors_i = np.zeros((n_users, 0)), np.zeros((n_items, 0))
        if self.solver == "als":
            for _ in range(self.n_epochs):
                ridge_half_step(x.item_indptr, x.item_indices, x.item_data, self.global_mean_,
                                self.user_bias_, no_factors_u, self.reg_item, 0.0,
                                self.item_bias_, no_factors_i)
                ridge_half_step(x.indptr, x.indices, x.data, self.global_mean_,
                                self.item_bias_, no_factors_i, self.reg_user, 0.0,
                                self.user_bias_, no_factors_u)
        else:
            lr = np.array([self.learning_rate, self.learning_rate, 0.0, 0.0])
            reg = np.array([self.reg_user, self.reg_item, 0.0, 0.0])
            users, order = x.row_users(), np.arange(x.nnz)
            for _ in range(self.n_epochs):
                biased_mf_sgd_epoch(users, x.indices, x.data, order, self.global_mean_,
                                    self.user_bias_, self.item_bias_, no_factors_u,
                                    no_factors_i, lr, reg)
        return self

    def _estimate(self, u, i):
        return self._biased_estimate(u, i)


class KNNRecommender(_RatingPredictor):
    """User- or item-based kNN as Surprise's KNNBasic (``centered=False``) and KNNWithMeans
    (``centered=True``).

    similarity : 'msd', 'cosine', 'pearson' or 'pearson_baseline' (Pearson on ALS-baseline
        residuals, shrunk by (n-1)/(n-1+shrinkage)); computed over co-rated entries only.
    k, min_k : most / fewest neighbours with positive similarity; below ``min_k`` the prediction
        is the global mean (basic) or the entity's mean (centered).
    The similarity matrix is dense (n_users^2 or n_items^2 float64); ties among equally similar
    neighbours go to the lower code. n_jobs : Numba threads (None: all).
    """

    def __init__(self, *, k=40, min_k=1, similarity="msd", user_based=True, centered=False,
                 min_support=1, shrinkage=100.0, rating_scale=None, n_jobs=None):
        check_positive_int(k, "k")
        check_int(min_k, "min_k", low=0)
        check_int(min_support, "min_support", low=0)
        check_number(shrinkage, "shrinkage", low=0.0)
        check_choice(similarity, "similarity", KIND_BY_NAME)
        self.k, self.min_k, self.similarity = k, min_k, similarity
        self.user_based, self.centered = bool(user_based), bool(centered)
        self.min_support, self.shrinkage = min_support, shrinkage
        check_n_jobs(n_jobs)
        self.rating_scale, self.n_jobs = rating_scale, n_jobs

    def _sides(self):
        """CSR arrays (x side: the compared entities, y side: the other), as the model sees them."""
        x = self.interactions_
        user_side = (x.indptr, x.indices, x.data)
        item_side = (x.item_indptr, x.item_indices, x.item_data)
        return (user_side, item_side) if self.user_based else (item_side, user_side)

    def fit(self, interactions):
        """Compute the similarity matrix and entity means; returns self."""
        self._start_fit(interactions)
        (x_ptr, x_idx, x_val), (y_ptr, y_idx, y_val) = self._sides()
        n_x = x_ptr.shape[0] - 1
        if n_x > MAX_KNN_ENTITIES:
            raise ValueError(f"kNN keeps a dense {n_x} x {n_x} similarity matrix, too large; use "
                             "MatrixFactorization, or user_based to compare the smaller side")
        if self.similarity == "pearson_baseline":
            base = BaselinePredictor().fit(interactions)
            x_val = x_val - self._row_baseline(base, x_ptr, x_idx, self.user_based)
            y_val = y_val - self._row_baseline(base, y_ptr, y_idx, not self.user_based)
        self.sim_ = np.empty((n_x, n_x))
        with using_threads(self.n_jobs, chunksize=1):
            similarity_matrix(x_ptr, x_idx, x_val, y_ptr, y_idx, y_val,
                              KIND_BY_NAME[self.similarity], self.min_support,
                              float(self.shrinkage), self.sim_)
        if self.centered:
            counts = np.diff(x_ptr)
            rows = np.repeat(np.arange(n_x), counts)
            raw = self._sides()[0][2]
            self.means_ = np.bincount(rows, weights=raw, minlength=n_x) / np.maximum(counts, 1)
        else:
            self.means_ = np.zeros(n_x)
        return self

    @staticmethod
    def _row_baseline(base, indptr, indices, rows_are_users):
        """mu + b_u + b_i of every stored entry of a CSR whose rows are users (or items)."""
        rows = np.repeat(np.arange(indptr.shape[0] - 1), np.diff(indptr))
        u, i = (rows, indices) if rows_are_users else (indices, rows)
        return base.global_mean_ + base.user_bias_[u] + base.item_bias_[i]

    def _estimate(self, u, i):
        est = np.full(u.shape[0], self.global_mean_)
        known = (u >= 0) & (i >= 0)
        x, y = (u[known], i[known]) if self.user_based else (i[known], u[known])
        _, (y_ptr, y_idx, y_val) = self._sides()
        dev = np.empty(x.shape[0])
        actual_k = np.empty(x.shape[0], dtype=np.int64)
        with using_threads(self.n_jobs, chunksize=1):
            knn_weighted_deviation(x, y, y_ptr, y_idx, y_val, self.sim_, self.means_, self.k,
                                   dev, actual_k)
        enough = actual_k >= max(self.min_k, 1)
        if self.centered:
            est[known] = self.means_[x] + np.where(enough, dev, 0.0)
        else:
            est[known] = np.where(enough, dev, self.global_mean_)
        return est


class MatrixFactorization(_RatingPredictor):
    """Biased MF  r_ui ~ mu + b_u + b_i + p_u . q_i  with L2 penalty ``reg`` per rating.

    solver : 'sgd' (Surprise's SVD update; ratings visited in a fresh random order each epoch
        if ``shuffle``, which lowers test RMSE on MovieLens by ~0.004, else in user order as
        Surprise does) or 'als' (exact ridge steps, parallel over users then items; the penalty
        is reg * n_u, the same objective SGD descends).
    Factors start as N(0, init_std^2) from ``random_state``. ``train_rmse_`` holds one training
    RMSE per epoch. n_jobs : Numba threads for ALS (None: all).
    """

    def __init__(self, *, n_factors=100, n_epochs=20, solver="sgd", learning_rate=0.005,
                 reg=0.02, init_std=0.1, shuffle=True, random_state=None, rating_scale=None,
                 n_jobs=None):
        check_positive_int(n_factors, "n_factors")
        check_positive_int(n_epochs, "n_epochs")
        check_choice(solver, "solver", ("sgd", "als"))
        check_number(learning_rate, "learning_rate", low=0.0, low_open=True)
        check_number(reg, "reg", low=0.0, low_open=solver != "sgd")
        check_number(init_std, "init_std", low=0.0)
        self.n_factors, self.n_epochs, self.solver = n_factors, n_epochs, solver
        self.learning_rate, self.reg, self.init_std = learning_rate, reg, init_std
        self.shuffle, self.random_state = bool(shuffle), random_state
        check_n_jobs(n_jobs)
        self.rating_scale, self.n_jobs = rating_scale, n_jobs

    def fit(self, interactions):
        """Fit biases and factors; returns self."""
        self._start_fit(interactions)
        x = interactions
        rng = np.random.default_rng(self.random_state)
        self.user_factors_ = rng.normal(0.0, self.init_std, (x.shape[0], self.n_factors))
        self.item_factors_ = rng.normal(0.0, self.init_std, (x.shape[1], self.n_factors))
        self.user_bias_ = np.zeros(x.shape[0])
        self.item_bias_ = np.zeros(x.shape[1])
        self.train_rmse_ = []
        users, order = x.row_users(), np.arange(x.nnz)
        lr = np.full(4, float(self.learning_rate))
        reg = np.full(4, float(self.reg))
        with using_threads(self.n_jobs, chunksize=1):
            for _ in range(self.n_epochs):
                if self.solver == "sgd":
                    if self.shuffle:
                        order = rng.permutation(x.nnz)
                    sse = biased_mf_sgd_epoch(users, x.indices, x.data, order, self.global_mean_,
                                              self.user_bias_, self.item_bias_,
                                              self.user_factors_, self.item_factors_, lr, reg)
                else:
                    self._als_epoch()
                    err = x.data - self._dense_estimate(users, x.indices)
                    sse = float(err @ err)
                self.train_rmse_.append(float(np.sqrt(sse / x.nnz)))
        return self

    def _als_epoch(self):
        x = self.interactions_
        ridge_half_step(x.indptr, x.indices, x.data, self.global_mean_, self.item_bias_,
                        self.item_factors_, 0.0, float(self.reg), self.user_bias_,
                        self.user_factors_)
        ridge_half_step(x.item_indptr, x.item_indices, x.item_data, self.global_mean_,
                        self.user_bias_, self.user_factors_, 0.0, float(self.reg),
                        self.item_bias_, self.item_factors_)

    def _dense_estimate(self, u, i):
        dots = np.einsum("nf,nf->n", self.user_factors_[u], self.item_factors_[i])
        return self.global_mean_ + self.user_bias_[u] + self.item_bias_[i] + dots

    def _estimate(self, u, i):
        est = self._biased_estimate(u, i)
        both = (u >= 0) & (i >= 0)
        est[both] += np.einsum("nf,nf->n", self.user_factors_[u[both]],
                               self.item_factors_[i[both]])
        return est

    def fold_in(self, items, ratings):
        """Factors (n_factors,) and bias of a new user from their ratings, without retraining.

        Solves the same ridge problem as one ALS user step with the items fixed; unknown item
        ids are ignored. An empty history gives zeros (the prediction is then mu + b_i).
        """
        if not hasattr(self, "interactions_"):
            raise RuntimeError("MatrixFactorization is not fitted; call fit first")
        codes = self.interactions_.items.lookup(items)
        ratings = np.atleast_1d(np.asarray(ratings, dtype=np.float64))
        if ratings.shape != codes.shape:
            raise ValueError(f"items and ratings must have the same length; got {codes.shape[0]}"
                             f" and {ratings.shape[0]}")
        if not np.isfinite(ratings).all():
            raise ValueError("ratings contain NaN/inf")
        keep = codes >= 0
        order = np.argsort(codes[keep], kind="stable")
        indptr = np.array([0, int(keep.sum())], dtype=np.int64)
        factors, bias = np.zeros((1, self.n_factors)), np.zeros(1)
        ridge_half_step(indptr, codes[keep][order].astype(np.int32), ratings[keep][order],
                        self.global_mean_, self.item_bias_, self.item_factors_, 0.0,
                        float(self.reg), bias, factors)
        return factors[0], float(bias[0])
