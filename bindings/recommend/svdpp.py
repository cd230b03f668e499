"""SVD++ (Koren 2008), as Surprise's SVDpp: biased MF whose user factor is completed by the items
the user rated, whatever the ratings were.

    r_ui ~ mu + b_u + b_i + q_i . (p_u + |N(u)|^-1/2 sum_{j in N(u)} y_j)

N(u) is the set of items u rated in training. Fitted by SGD (gbdt/kernels/recommend/sgd.py).
"""
import numpy as np

from bindings.recommend.explicit import _RatingPredictor
from bindings.validation import check_n_jobs, check_number, check_positive_int
from gbdt.kernels.recommend.sgd import svdpp_sgd_epoch
from gbdt.threads import using_threads

__all__ = ["SVDpp"]


class SVDpp(_RatingPredictor):
    """SVD++ by SGD, Surprise's defaults (20 factors, 20 epochs, learning rate 0.007, reg 0.02).

    Factors p, q and the implicit factors y start as N(0, init_std^2) from ``random_state``,
    drawn in that order (Surprise's order). shuffle : visit the ratings in a fresh random order
    each epoch (as ``MatrixFactorization``); False visits them user by user, item codes
    ascending, which with ``n_jobs=1`` is Surprise's SVDpp update for update on a table sorted by
    (user, item). n_jobs : Numba threads (None: all); several threads update Hogwild-style and
    are not reproducible. Unknown ids fall back to mu plus the known biases (not impossible, as
    in Surprise). An epoch costs sum_u |N(u)|^2 n_factors, quadratic in a user's history.
    """

    def __init__(self, *, n_factors=20, n_epochs=20, learning_rate=0.007, reg=0.02,
                 init_std=0.1, shuffle=True, random_state=None, rating_scale=None, n_jobs=None):
        check_positive_int(n_factors, "n_factors")
        check_positive_int(n_epochs, "n_epochs")
        check_number(learning_rate, "learning_rate", low=0.0, low_open=True)
        check_number(reg, "reg", low=0.0)
        check_number(init_std, "init_std", low=0.0)
        self.n_factors, self.n_epochs = n_factors, n_epochs
        self.learning_rate, self.reg, self.init_std = learning_rate, reg, init_std
        self.shuffle, self.random_state = bool(shuffle), random_state
        check_n_jobs(n_jobs)
        self.rating_scale, self.n_jobs = rating_scale, n_jobs

    def fit(self, interactions):
        """Fit biases, factors and implicit factors; returns self."""
        self._start_fit(interactions)
        x = interactions
        rng = np.random.default_rng(self.random_state)
        shape_u, shape_i = (x.shape[0], self.n_factors), (x.shape[1], self.n_factors)
        self.user_factors_ = rng.normal(0.0, self.init_std, shape_u)
        self.item_factors_ = rng.normal(0.0, self.init_std, shape_i)
        self.implicit_factors_ = rng.normal(0.0, self.init_std, shape_i)
        self.user_bias_ = np.zeros(x.shape[0])
        self.item_bias_ = np.zeros(x.shape[1])
        lr = np.full(5, float(self.learning_rate))
        reg = np.full(5, float(self.reg))
        users, order = x.row_users(), np.arange(x.nnz)
        self.train_rmse_ = []
        with using_threads(self.n_jobs, chunksize=1):
            for _ in range(self.n_epochs):
                if self.shuffle:
                    order = rng.permutation(x.nnz)
                sse = svdpp_sgd_epoch(x.indptr, x.indices, users, x.indices, x.data, order,
                                      self.global_mean_, self.user_bias_, self.item_bias_,
                                      self.user_factors_, self.item_factors_,
                                      self.implicit_factors_, lr, reg)
                self.train_rmse_.append(float(np.sqrt(sse / x.nnz)))
        return self

    def effective_user_factors(self):
        """p_u + |N(u)|^-1/2 sum_{j in N(u)} y_j of every user (n_users, n_factors) float64."""
        if not hasattr(self, "interactions_"):
            raise RuntimeError("SVDpp is not fitted; call fit first")
        x = self.interactions_
        counts = np.diff(x.indptr)
        sums = np.zeros_like(self.user_factors_)
        np.add.at(sums, x.row_users(), self.implicit_factors_[x.indices])
        return self.user_factors_ + sums / np.sqrt(np.maximum(counts, 1))[:, None]

    def _estimate(self, u, i):
        est = self._biased_estimate(u, i)
        both = (u >= 0) & (i >= 0)
        users = self.effective_user_factors()
        est[both] += np.einsum("nf,nf->n", users[u[both]], self.item_factors_[i[both]])
        return est, {}
