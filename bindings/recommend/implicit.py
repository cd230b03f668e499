"""Implicit-feedback models: weighted ALS (Hu, Koren & Volinsky) solved by conjugate gradient,
and BPR (Rendle et al.). Both rank items by  p_u . q_i (+ b_i for BPR).

Values of the ``Interactions`` are interaction strengths r >= 0 (counts, ratings or 1).
ImplicitALS uses confidence c = 1 + alpha * r. To reproduce it with the ``implicit`` package,
give implicit the matrix 1 + alpha * r with its own alpha=1 (implicit uses c = alpha * r).
"""
import time

import numpy as np

from bindings.recommend.ranking import FactorRanker
from bindings.validation import check_choice, check_n_jobs, check_number, check_positive_int
from gbdt.kernels.recommend.als import implicit_cg_half_step
from gbdt.kernels.recommend.sgd import bpr_sgd_epoch
from gbdt.threads import using_threads

__all__ = ["ImplicitALS", "BPR"]


class ImplicitALS(FactorRanker):
    """Weighted ALS for implicit feedback, parallel over users then items.

    Minimises  sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2)  with p_ui = 1 for stored
    pairs (0 elsewhere) and c_ui = 1 + alpha * r_ui; each half-step runs ``cg_steps`` conjugate
    gradient steps per row, warm-started. Factors start uniform in [0, 0.01) as in ``implicit``.
    ``iteration_seconds_`` holds the wall time of each iteration. n_jobs: Numba threads.
    """

    def __init__(self, *, n_factors=64, reg=0.01, alpha=1.0, n_iterations=15, cg_steps=3,
                 random_state=None, n_jobs=None):
        check_positive_int(n_factors, "n_factors")
        check_number(reg, "reg", low=0.0)
        check_number(alpha, "alpha", low=0.0)
        check_positive_int(n_iterations, "n_iterations")
        check_positive_int(cg_steps, "cg_steps")
        self.n_factors, self.reg, self.alpha = n_factors, reg, alpha
        self.n_iterations, self.cg_steps = n_iterations, cg_steps
        check_n_jobs(n_jobs)
        self.random_state, self.n_jobs = random_state, n_jobs

    def fit(self, interactions):
        """Fit user and item factors; returns self."""
        self._start_fit(interactions)
        x = interactions
        if (x.data < 0).any():
            raise ValueError("implicit feedback values must be >= 0 (confidence is 1 + alpha*r)")
        rng = np.random.default_rng(self.random_state)
        self.user_factors_ = rng.random((x.shape[0], self.n_factors)) * 0.01
        self.item_factors_ = rng.random((x.shape[1], self.n_factors)) * 0.01
        self.item_bias_ = np.zeros(x.shape[1])
        user_conf = 1.0 + self.alpha * x.data
        item_conf = 1.0 + self.alpha * x.item_data
        self.iteration_seconds_ = []
        with using_threads(self.n_jobs, chunksize=1):
            for _ in range(self.n_iterations):
                start = time.perf_counter()
                implicit_cg_half_step(x.indptr, x.indices, user_conf, self.item_factors_,
                                      self._gram(self.item_factors_), self.cg_steps,
                                      self.user_factors_)
                implicit_cg_half_step(x.item_indptr, x.item_indices, item_conf,
                                      self.user_factors_, self._gram(self.user_factors_),
                                      self.cg_steps, self.item_factors_)
                self.iteration_seconds_.append(time.perf_counter() - start)
        return self

    def _gram(self, factors):
        return factors.T @ factors + self.reg * np.eye(self.n_factors)

    def fold_in(self, items, values=None):
        """Factors (n_factors,) of a new user who interacted with ``items`` (strengths ``values``,
        default 1), solving the ALS user step to convergence; unknown items are ignored."""
        self._check_fitted()
        codes = self.interactions_.items.lookup(items)
        values = np.ones(codes.shape[0]) if values is None else np.atleast_1d(
            np.asarray(values, dtype=np.float64))
        if values.shape != codes.shape or not np.isfinite(values).all() or (values < 0).any():
            raise ValueError("values must be finite, >= 0 and one per item")
        keep = codes >= 0
        order = np.argsort(codes[keep], kind="stable")
        indptr = np.array([0, int(keep.sum())], dtype=np.int64)
        factors = np.zeros((1, self.n_factors))
        # CG on an f-dimensional SPD system is exact after f steps (up to rounding)
        implicit_cg_half_step(indptr, codes[keep][order].astype(np.int32),
                              1.0 + self.alpha * values[keep][order], self.item_factors_,
                              self._gram(self.item_factors_), 2 * self.n_factors, factors)
        return factors[0]


class BPR(FactorRanker):
    """Bayesian personalised ranking by SGD over sampled (user, positive, negative) triples.

    Each epoch draws nnz triples: a stored (user, item) pair uniformly and a negative item,
    skipped when the user interacted with it. ``negatives='popularity'`` draws the negative as
    the item of another uniformly drawn stored pair (so popular items are pushed down more, as
    ``implicit`` does); 'uniform' draws it uniformly over items. Factors start uniform in
    [-0.5, 0.5) / n_factors; item biases at 0. ``loss_`` holds the mean -log sigmoid per epoch.
    """

    def __init__(self, *, n_factors=64, learning_rate=0.05, reg=0.01, n_epochs=50,
                 negatives="popularity", random_state=None):
        check_positive_int(n_factors, "n_factors")
        check_number(learning_rate, "learning_rate", low=0.0, low_open=True)
        check_number(reg, "reg", low=0.0)
        check_positive_int(n_epochs, "n_epochs")
        check_choice(negatives, "negatives", ("popularity", "uniform"))
        self.n_factors, self.learning_rate, self.reg = n_factors, learning_rate, reg
        self.n_epochs, self.negatives, self.random_state = n_epochs, negatives, random_state

    def fit(self, interactions):
        """Fit user factors, item factors and item biases; returns self."""
        self._start_fit(interactions)
        x = interactions
        if x.shape[1] < 2:
            raise ValueError("BPR needs at least 2 items to rank")
        rng = np.random.default_rng(self.random_state)
        self.user_factors_ = (rng.random((x.shape[0], self.n_factors)) - 0.5) / self.n_factors
        self.item_factors_ = (rng.random((x.shape[1], self.n_factors)) - 0.5) / self.n_factors
        self.item_bias_ = np.zeros(x.shape[1])
        users = x.row_users()
        self.loss_ = []
        for _ in range(self.n_epochs):
            pick = rng.integers(0, x.nnz, x.nnz)
            if self.negatives == "popularity":
                negatives = x.indices[rng.integers(0, x.nnz, x.nnz)]
            else:
                negatives = rng.integers(0, x.shape[1], x.nnz, dtype=np.int32)
            loss, _ = bpr_sgd_epoch(users[pick], x.indices[pick], negatives, x.indptr, x.indices,
                                    float(self.learning_rate), float(self.reg),
                                    self.user_factors_, self.item_factors_, self.item_bias_)
            self.loss_.append(loss)
        return self
