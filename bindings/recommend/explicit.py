"""Explicit-feedback rating predictors: baseline biases and biased matrix factorization, and the
predict path every rating model shares (kNN in knn.py, SVD++ in svdpp.py).

Each model is fitted on an ``Interactions`` and predicts ratings for (user, item) id pairs.
Unknown ids never raise: a pair the model cannot score falls back as Surprise does (kNN: the
global mean; baseline and MF: the global mean plus whichever biases are known), and
``predict(..., details=True)`` says so per pair, with Surprise's ``was_impossible`` and
``reason``. Predictions are clipped to ``rating_scale`` (default: the smallest and largest
training rating).
"""
import numpy as np

from bindings.recommend.interactions import check_interactions, ids_1d
from bindings.recommend.ranking import FactorRanker
from bindings.validation import check_choice, check_n_jobs, check_number, check_positive_int
from gbdt.kernels.recommend.als import ridge_half_step
from gbdt.kernels.recommend.sgd import biased_mf_sgd_epoch
from gbdt.threads import using_threads

__all__ = ["BaselinePredictor", "MatrixFactorization"]

UNKNOWN = "User and/or item is unknown."  # Surprise's PredictionImpossible messages


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

    def predict(self, users, items, *, details=False):
        """Predicted ratings (n,) float64 for parallel arrays (or scalars) of user and item ids.

        details : also return a dict of (n,) arrays, Surprise's ``Prediction.details`` for every
            pair at once: ``was_impossible`` (bool: the model could not estimate the pair and
            gave its default, the global mean), ``reason`` (object: Surprise's message, None
            where possible), ``known_user`` and ``known_item`` (bool: which fallback applied),
            and for kNN ``actual_k`` (int: neighbours averaged, 0 for unknown ids).
        """
        if not hasattr(self, "interactions_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit first")
        users = ids_1d([users] if np.ndim(users) == 0 else users, "users")
        items = ids_1d([items] if np.ndim(items) == 0 else items, "items")
        if users.shape != items.shape:
            raise ValueError(f"users and items must have the same length; got {users.shape[0]} "
                             f"and {items.shape[0]}")
        u = self.interactions_.users.lookup(users)
        i = self.interactions_.items.lookup(items)
        est, extra = self._estimate(u, i)
        est = np.clip(est, *self.rating_scale_)
        if not details:
            return est
        info = {"was_impossible": np.zeros(u.shape[0], dtype=bool),
                "reason": np.full(u.shape[0], None, dtype=object),
                "known_user": u >= 0, "known_item": i >= 0}
        info.update(extra)
        return est, info

    def _estimate(self, u, i):
        """(unclipped estimates (n,), extra details {name: (n,) array}) for codes (-1: unknown)."""
        raise NotImplementedError

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
    each closed-form step); sgd: n_epochs=20, reg_user=reg_item=0.02, learning_rate=0.005, on one
    thread in Surprise's order (a bias pass is cheap), so it is reproducible.
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
            with using_threads(1, chunksize=1):  # cheap; one thread keeps Surprise's order, reproducibly
                for _ in range(self.n_epochs):
                    biased_mf_sgd_epoch(users, x.indices, x.data, order, self.global_mean_,
                                        self.user_bias_, self.item_bias_, no_factors_u,
                                        no_factors_i, lr, reg)
        return self

    def _estimate(self, u, i):
        return self._biased_estimate(u, i), {}


class MatrixFactorization(_RatingPredictor, FactorRanker):
    """Biased MF  r_ui ~ mu + b_u + b_i + p_u . q_i  with L2 penalty ``reg`` per rating.

    solver : 'sgd' (Surprise's SVD update; ratings visited in a fresh random order each epoch
        if ``shuffle``, which lowers test RMSE on MovieLens by ~0.004, else in user order as
        Surprise does) or 'als' (exact ridge steps, parallel over users then items; the penalty
        is reg * n_u, the same objective SGD descends).
    Factors start as N(0, init_std^2) from ``random_state``. ``train_rmse_`` holds one training
    RMSE per epoch. n_jobs : Numba threads (None: all). ALS is exact on any number of threads;
    SGD on several threads is Hogwild (lock-free updates, see gbdt/kernels/recommend/sgd.py), so
    it is reproducible, and equal to Surprise's SVD, only with ``n_jobs=1``.

    Serving (``FactorRanker``): ``recommend`` ranks by the predicted rating (unclipped),
    ``similar_items``/``similar_users`` by the cosine of the factors; ``partial_fit_users``
    (``_items``) solve the new rows' bias and factors exactly (one ALS ridge step, the other
    side fixed), after which ``predict`` serves them like trained users.
    """

    _user_arrays = ("user_factors_", "user_bias_")

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
                    for side in ("users", "items"):
                        for name, rows in self._solve(side, None).items():
                            setattr(self, name, rows)
                    err = x.data - self._dense_estimate(users, x.indices)
                    sse = float(err @ err)
                self.train_rmse_.append(float(np.sqrt(sse / x.nnz)))
        return self

    def _solve(self, side, codes):
        """Exact ridge rows (bias and factors) of ``side``, the other side fixed; ``codes`` None
        solves every row (an ALS half-step)."""
        x = self.interactions_
        if codes is None:
            if side == "users":
                rows = (x.indptr, x.indices, x.data)
            else:
                rows = (x.item_indptr, x.item_indices, x.item_data)
        else:
            rows = self._rows(side, codes)
        n_rows = rows[0].shape[0] - 1
        bias, factors = np.empty(n_rows), np.empty((n_rows, self.n_factors))
        other_bias, other_factors = ((self.item_bias_, self.item_factors_) if side == "users"
                                     else (self.user_bias_, self.user_factors_))
        with using_threads(self.n_jobs, chunksize=1):
            ridge_half_step(*rows, self.global_mean_, other_bias, other_factors, 0.0,
                            float(self.reg), bias, factors)
        if side == "users":
            return {"user_factors_": factors, "user_bias_": bias}
        return {"item_factors_": factors, "item_bias_": bias}

    def _dense_estimate(self, u, i):
        dots = np.einsum("nf,nf->n", self.user_factors_[u], self.item_factors_[i])
        return self.global_mean_ + self.user_bias_[u] + self.item_bias_[i] + dots

    def _estimate(self, u, i):
        est = self._biased_estimate(u, i)
        both = (u >= 0) & (i >= 0)
        est[both] += np.einsum("nf,nf->n", self.user_factors_[u[both]],
                               self.item_factors_[i[both]])
        return est, {}

    def _score_users(self, params, item_codes):
        offset = self.global_mean_ + params["user_bias_"][:, None]
        return offset + super()._score_users(params, item_codes)
