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
from gbdt.kernels.recommend.sgd import (UPDATE_ALL, UPDATE_POSITIVES, UPDATE_USERS,
                                         bpr_sgd_epoch)
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
        self._check_values(x.data)
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

    def _check_values(self, values):
        if (values < 0).any():
            raise ValueError("implicit feedback values must be >= 0 (confidence is 1 + alpha*r)")

    def _solve(self, side, codes):
        """Exact ALS rows (implicit's recalculate_user/item): CG from zero, run to convergence."""
        indptr, indices, values = self._rows(side, codes)
        other = self.item_factors_ if side == "users" else self.user_factors_
        factors = np.zeros((codes.shape[0], self.n_factors))
        with using_threads(self.n_jobs, chunksize=1):
            # CG on an f-dimensional SPD system is exact after f steps (up to rounding)
            implicit_cg_half_step(indptr, indices, 1.0 + self.alpha * values, other,
                                  self._gram(other), 2 * self.n_factors, factors)
        return {"user_factors_" if side == "users" else "item_factors_": factors}


class BPR(FactorRanker):
    """Bayesian personalised ranking by SGD over sampled (user, positive, negative) triples.

    Each epoch draws nnz triples: a stored (user, item) pair uniformly and a negative item,
    skipped when the user interacted with it. ``negatives='popularity'`` draws the negative as
    the item of another uniformly drawn stored pair (so popular items are pushed down more, as
    ``implicit`` does); 'uniform' draws it uniformly over items. Factors start uniform in
    [-0.5, 0.5) / n_factors; item biases at 0. ``loss_`` holds the mean -log sigmoid per epoch.

    n_jobs : Numba threads (None: all). Several threads update the factors Hogwild-style
    (lock-free, as ``implicit``'s BPR): a fit is then not reproducible; ``n_jobs=1`` is (for a
    given ``random_state``). ``partial_fit_users`` (``_items``) runs ``n_epochs`` of the same
    SGD over the new rows' interactions with the other side frozen.
    """

    def __init__(self, *, n_factors=64, learning_rate=0.05, reg=0.01, n_epochs=50,
                 negatives="popularity", random_state=None, n_jobs=None):
        check_positive_int(n_factors, "n_factors")
        check_number(learning_rate, "learning_rate", low=0.0, low_open=True)
        check_number(reg, "reg", low=0.0)
        check_positive_int(n_epochs, "n_epochs")
        check_choice(negatives, "negatives", ("popularity", "uniform"))
        self.n_factors, self.learning_rate, self.reg = n_factors, learning_rate, reg
        self.n_epochs, self.negatives, self.random_state = n_epochs, negatives, random_state
        check_n_jobs(n_jobs)
        self.n_jobs = n_jobs

    def _initial_factors(self, rng, n_rows):
        return (rng.random((n_rows, self.n_factors)) - 0.5) / self.n_factors

    def _negatives(self, rng, size):
        """``size`` negative item codes drawn by the ``negatives`` rule."""
        x = self.interactions_
        if self.negatives == "popularity":
            return x.indices[rng.integers(0, x.nnz, size)]
        return rng.integers(0, x.shape[1], size, dtype=np.int32)

    def _epochs(self, rng, rows, positives, step):
        """``n_epochs`` passes, each over as many triples as (rows, positives) pairs, drawn from
        them; ``step(users, positives, negatives)`` runs one pass and returns its mean loss."""
        losses = []
        with using_threads(self.n_jobs, chunksize=1):
            for _ in range(self.n_epochs):
                pick = rng.integers(0, rows.shape[0], rows.shape[0])
                losses.append(step(rows[pick], positives[pick],
                                   self._negatives(rng, rows.shape[0])))
        return losses

    def _bpr_step(self, indptr, indices, user_factors, item_factors, item_bias, update):
        """A ``step`` for ``_epochs``: one bpr_sgd_epoch; ``indptr, indices`` is the CSR whose
        rows the sampled users index (the positives test)."""
        def step(users, positives, negatives):
            return bpr_sgd_epoch(users, positives, negatives, indptr, indices,
                                 float(self.learning_rate), float(self.reg), user_factors,
                                 item_factors, item_bias, update)[0]
        return step

    def fit(self, interactions):
        """Fit user factors, item factors and item biases; returns self."""
        self._start_fit(interactions)
        x = interactions
        if x.shape[1] < 2:
            raise ValueError("BPR needs at least 2 items to rank")
        rng = np.random.default_rng(self.random_state)
        self.user_factors_ = self._initial_factors(rng, x.shape[0])
        self.item_factors_ = self._initial_factors(rng, x.shape[1])
        self.item_bias_ = np.zeros(x.shape[1])
        self.loss_ = self._epochs(rng, x.row_users(), x.indices, self._bpr_step(
            x.indptr, x.indices, self.user_factors_, self.item_factors_, self.item_bias_,
            UPDATE_ALL))
        return self

    def _solve(self, side, codes):
        """SGD on the rows' own interactions, the other side frozen; rows without any get 0."""
        x = self.interactions_
        rng = np.random.default_rng(self.random_state)
        if side == "users":
            indptr, indices, _ = self._rows("users", codes)
            factors = self._initial_factors(rng, codes.shape[0])
            rows = np.repeat(np.arange(codes.shape[0]), np.diff(indptr))
            if rows.size:
                self._epochs(rng, rows, indices, self._bpr_step(
                    indptr, indices, factors, self.item_factors_, self.item_bias_, UPDATE_USERS))
            factors[np.diff(indptr) == 0] = 0.0
            return {"user_factors_": factors}
        # items: positives are the solved items, triples (u, i, j) over the whole matrix, on a
        # copy so the stored factors stay as they are (recalculation must not write)
        item_factors, item_bias = self.item_factors_.copy(), self.item_bias_.copy()
        item_factors[codes] = self._initial_factors(rng, codes.shape[0])
        item_bias[codes] = 0.0
        indptr, users, _ = self._rows("items", codes)
        positives = np.repeat(codes, np.diff(indptr))
        if users.size:
            self._epochs(rng, users.astype(np.int64), positives.astype(np.int32), self._bpr_step(
                x.indptr, x.indices, self.user_factors_, item_factors, item_bias,
                UPDATE_POSITIVES))
        empty = codes[np.diff(indptr) == 0]
        item_factors[empty], item_bias[empty] = 0.0, 0.0
        return {"item_factors_": item_factors[codes], "item_bias_": item_bias[codes]}
