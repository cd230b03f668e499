"""``LogisticRegressionCV``: C (and the L1 share) chosen by cross-validation, as scikit-learn's
``LogisticRegressionCV`` chooses them.

For each fold and each ``l1_ratio`` the model is fitted along the grid of ``Cs`` in the order given, each
fit warm-started from the previous one, and scored on the fold's held-out rows. ``refit=True`` takes the
(C, l1_ratio) with the best score summed over folds (ties: the first C, then the first l1_ratio, as
scikit-learn) and refits on all rows, starting from the mean of the folds' coefficients there;
``refit=False`` averages, over folds, the coefficients, C and l1_ratio of each fold's best point.
``class_weight="balanced"`` is computed once on all rows and applied to every fold, as scikit-learn does.
"""
import numbers
import warnings

import numpy as np

from bindings.logistic.folds import cv_splits
from bindings.logistic.input import as_labels, as_matrix, as_sample_weight
from bindings.logistic.regression import (PENALTY_FROM_L1_RATIO, SERIAL_CELLS, LogisticRegression,
                                          check_iterations, class_weights, make_problem, pick_solver,
                                          resolve_penalty)
from bindings.validation import column_names
from gbdt.kernels.logistic.solvers import SOLVERS
from gbdt.threads import fit_threads, using_threads

__all__ = ["LogisticRegressionCV"]


def _accuracy(model, X, y, sample_weight=None):
    """scikit-learn's default score of a classifier: (weighted) accuracy."""
    return float(np.average(model.predict(X) == y, weights=sample_weight))


class LogisticRegressionCV(LogisticRegression):
    """Logistic regression whose C and l1_ratio are chosen by cross-validation (binary or multinomial).

    Cs : int (that many values log-spaced in [1e-4, 1e4], scikit-learn's grid) or a sequence of positive
    numbers (``np.inf``: no penalty); l1_ratios : sequence in [0, 1] (0: L2, 1: L1); cv : None (5 stratified
    folds), an int, a scikit-learn splitter or an iterable of (train_rows, test_rows); scoring : None
    (accuracy, scikit-learn's default), a scikit-learn scorer name (e.g. "neg_log_loss", "roc_auc") or a
    callable ``scorer(estimator, X, y)``; refit : see the module docstring. The other parameters are
    ``LogisticRegression``'s.

    Attributes after fit, in scikit-learn's layout (``use_legacy_attributes=False``): ``Cs_`` (n_cs,),
    ``l1_ratios_`` (n_l1,), ``C_`` and ``l1_ratio_`` (floats), ``scores_`` (n_folds, n_l1, n_cs),
    ``coefs_paths_`` (n_folds, n_l1, n_cs, K, p + 1; the intercept last), ``n_iter_`` (n_folds, n_l1, n_cs),
    and everything ``LogisticRegression`` sets (``coef_``, ``intercept_``, statistics, ``summary``...).
    """

    def __init__(self, *, Cs=10, l1_ratios=(0.0,), cv=None, scoring=None, refit=True, class_weight=None,
                 fit_intercept=True, solver="auto", max_iter=100, tol=1e-4, n_jobs=None):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.class_weight = class_weight
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.n_jobs = n_jobs

    def _grids(self):
        if isinstance(self.Cs, numbers.Integral) and not isinstance(self.Cs, bool):
            if self.Cs < 1:
                raise ValueError(f"Cs must be a positive int or a sequence of positive numbers, got {self.Cs}")
            Cs = np.logspace(-4, 4, int(self.Cs))
        else:
            Cs = np.asarray(self.Cs, dtype=np.float64).ravel()
            if Cs.shape[0] == 0 or np.any(np.isnan(Cs)) or np.any(Cs <= 0):
                raise ValueError(f"Cs must be a positive int or a sequence of positive numbers (np.inf: no "
                                 f"penalty), got {self.Cs!r}")
        l1_ratios = np.asarray(self.l1_ratios, dtype=np.float64).ravel() if self.l1_ratios is not None else None
        if l1_ratios is None or l1_ratios.shape[0] == 0 or np.any(~((l1_ratios >= 0) & (l1_ratios <= 1))):
            raise ValueError(f"l1_ratios must be a sequence of numbers in [0, 1], got {self.l1_ratios!r}")
        return Cs, l1_ratios

    def _scorer(self):
        if self.scoring is None:
            return _accuracy
        if isinstance(self.scoring, str):
            try:
                from sklearn.metrics import get_scorer
            except ImportError:  # pragma: no cover - scikit-learn is a test dependency
                raise ValueError("scoring by name needs scikit-learn; pass a callable scorer(estimator, X, y)") \
                    from None
            return get_scorer(self.scoring)
        if callable(self.scoring):
            return self.scoring
        raise ValueError(f"scoring must be None, a scikit-learn scorer name or a callable scorer(estimator, X, "
                         f"y), got {self.scoring!r}")

    def fit(self, X, y, sample_weight=None):
        """Cross-validate the grid, then fit the chosen model; X (n, p) dense, DataFrame or sparse, y (n,)."""
        names = column_names(X)
        matrix = as_matrix(X)
        classes, index = as_labels(y, matrix.shape[0])
        given_weight = None if sample_weight is None else as_sample_weight(sample_weight, matrix.shape[0])
        sw = np.ones(matrix.shape[0]) if given_weight is None else given_weight
        row_weight = sw * class_weights(self.class_weight, classes, index, sw)
        check_iterations(self.max_iter, self.tol, self.n_jobs)
        if not isinstance(self.refit, (bool, np.bool_)):
            raise ValueError(f"refit must be True or False, got {self.refit!r}")
        Cs, l1_ratios = self._grids()
        scorer = self._scorer()
        splits = cv_splits(self.cv, X, y, index)
        labels = classes[index]
        n_models = 1 if classes.shape[0] == 2 else classes.shape[0]
        grid = [[resolve_penalty(PENALTY_FROM_L1_RATIO, C, ratio) for C in Cs] for ratio in l1_ratios]
        shape = (len(splits), l1_ratios.shape[0], Cs.shape[0])
        paths = np.empty(shape + (n_models, matrix.shape[1] + 1))
        scores, n_iter = np.empty(shape), np.empty(shape, dtype=np.int64)
        scored = LogisticRegression(n_jobs=self.n_jobs)
        scored.classes_, scored.n_features_in_ = classes, matrix.shape[1]
        unconverged = 0
        for f, (train, test) in enumerate(splits):
            problem = make_problem(matrix[train], index[train], classes.shape[0], row_weight[train], 0.0, 0.0,
                                   self.fit_intercept)
            score_kwargs = {} if given_weight is None else {"sample_weight": given_weight[test]}
            with using_threads(fit_threads(self.n_jobs, train.shape[0], matrix.shape[1], SERIAL_CELLS)):
                for r, row in enumerate(grid):
                    params = np.zeros((n_models, matrix.shape[1] + 1))
                    for c, (_, l1, l2) in enumerate(row):
                        solver = pick_solver(self.solver, l1 == 0.0, n_models, matrix.shape[1])
                        result = SOLVERS[solver](problem._replace(l1=l1, l2=l2), params, float(self.tol),
                                                 int(self.max_iter))
                        params = result.params
                        paths[f, r, c], n_iter[f, r, c] = params, result.n_iter
                        unconverged += not result.converged
                        scored.coef_, scored.intercept_ = params[:, :-1], params[:, -1]
                        scores[f, r, c] = scorer(scored, matrix[test], labels[test], **score_kwargs)
        if unconverged:
            warnings.warn(f"{unconverged} of the {scores.size} cross-validation fits did not reach tol={self.tol}; "
                          "raise max_iter or scale the features", RuntimeWarning, stacklevel=2)
        # scikit-learn ranks (C, l1_ratio) pairs C-major: ties go to the first C, then the first l1_ratio
        if self.refit:
            c, r = np.unravel_index(np.argmax(scores.sum(axis=0).T), (Cs.shape[0], l1_ratios.shape[0]))
            self.C_, self.l1_ratio_ = float(Cs[c]), float(l1_ratios[r])
            penalty, l1, l2 = grid[r][c]
            self._fit(matrix, names, classes, index, row_weight, penalty, l1, l2, paths[:, r, c].mean(axis=0))
        else:
            best = [np.unravel_index(np.argmax(fold.T), (Cs.shape[0], l1_ratios.shape[0])) for fold in scores]
            self.C_ = float(np.mean([Cs[c] for c, _ in best]))
            self.l1_ratio_ = float(np.mean([l1_ratios[r] for _, r in best]))
            penalty, l1, l2 = resolve_penalty(PENALTY_FROM_L1_RATIO, self.C_, self.l1_ratio_)
            problem = make_problem(matrix, index, classes.shape[0], row_weight, l1, l2, self.fit_intercept)
            averaged = np.mean([paths[f, r, c] for f, (c, r) in enumerate(best)], axis=0)
            self.solver_, self.converged_ = None, None
            self._set_fitted(problem, matrix, names, classes, index, penalty, averaged)
        self.Cs_, self.l1_ratios_ = Cs, l1_ratios
        self.scores_, self.coefs_paths_, self.n_iter_ = scores, paths, n_iter
        return self
