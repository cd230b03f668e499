"""Model selection as Surprise's ``model_selection``: ``cross_validate`` and ``GridSearchCV``.

``cross_validate`` fits a fresh copy of a model on each training fold and scores it on the held
out fold. ``GridSearchCV`` is itself a model: its ``fit`` cuts the interactions it is given into
inner folds, picks the grid point with the best mean score on the inner validation folds and
refits it on everything it was given. Passed to ``cross_validate``, it gives nested
cross-validation: each outer test fold is scored by a model tuned without it, so the mean outer
score is an honest estimate of "tune, then predict".

Folds are over the stored entries of an ``Interactions`` in ``to_table`` order
(``bindings.cv.make_folds`` when ``cv`` is an int). Measures: rating errors ``rmse``, ``mae``, ``mse`` (``predict`` on the
held-out pairs; lower is better) and top-``k`` ranking ``precision``, ``recall``, ``map``,
``ndcg`` (``evaluate_ranking`` of the held-out pairs, training items hidden; higher is better).
"""
import inspect
import itertools
import time

import numpy as np

from bindings.cv import make_folds
from bindings.recommend.interactions import check_interactions
from bindings.recommend.metrics import evaluate_ranking, mae, rmse
from bindings.validation import as_vector, check_int, check_positive_int

__all__ = ["cross_validate", "GridSearchCV", "clone"]

RATING_MEASURES = {"rmse": rmse, "mae": mae, "mse": lambda y, p: rmse(y, p) ** 2}
RANKING_MEASURES = ("precision", "recall", "map", "ndcg")


def clone(model, **params):
    """A new unfitted model of ``model``'s class with its constructor parameters, ``params``
    overriding some (ValueError naming any the class does not take)."""
    names = [name for name, p in inspect.signature(type(model).__init__).parameters.items()
             if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise ValueError(f"{type(model).__name__} has no parameter {unknown[0]!r}; its "
                         f"parameters are {names}")
    return type(model)(**{name: params.get(name, getattr(model, name)) for name in names})


def _check_measures(measures):
    measures = [measures] if isinstance(measures, str) else list(measures)
    known = tuple(RATING_MEASURES) + RANKING_MEASURES
    for name in measures:
        if name not in known:
            raise ValueError(f"measures must be names in {known}; got {name!r}")
    if not measures:
        raise ValueError("measures is empty; name at least one, e.g. 'rmse'")
    return measures


def _folds(n_entries, cv, random_state):
    """(train, test) entry-index pairs: ``make_folds`` (shuffled by ``random_state``) for an int, else
    checked as given."""
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        return make_folds(n_entries, check_int(cv, "cv", low=2), seed=random_state)
    folds = []
    for pair in cv:
        train, test = (as_vector(part, "cv folds") for part in pair)
        for part in (train, test):
            if part.dtype.kind not in "iu" or part.size == 0 or part.min() < 0 \
                    or part.max() >= n_entries:
                raise ValueError(f"cv must be an int or (train, test) pairs of non-empty integer "
                                 f"entry positions in [0, {n_entries})")
        folds.append((train, test))
    if not folds:
        raise ValueError("cv holds no (train, test) pair")
    return folds


def _score(model, test_table, measures, k):
    """{measure: value} of a fitted ``model`` on the held-out (users, items, values)."""
    users, items, values = test_table
    scores = {}
    rating = [m for m in measures if m in RATING_MEASURES]
    if rating:
        if not hasattr(model, "predict"):
            raise TypeError(f"{type(model).__name__} has no predict; use ranking measures "
                            f"{RANKING_MEASURES}")
        pred = model.predict(users, items)
        scores.update({m: RATING_MEASURES[m](values, pred) for m in rating})
    ranking = [m for m in measures if m in RANKING_MEASURES]
    if ranking:
        if not hasattr(model, "recommend"):
            raise TypeError(f"{type(model).__name__} has no recommend; use rating measures "
                            f"{tuple(RATING_MEASURES)}")
        metrics = evaluate_ranking(model, users, items, k)
        scores.update({m: metrics[m] for m in ranking})
    return scores


def cross_validate(model, interactions, *, measures=("rmse", "mae"), cv=5, k=10,
                   random_state=None, return_train_measures=False, return_models=False):
    """Fit a fresh copy of ``model`` on each training fold and score it on its test fold.

    model : an unfitted model (its parameters are copied with ``clone``), a GridSearchCV
        included (nested cross-validation).
    cv : number of folds (``bindings.cv.make_folds`` shuffled by ``random_state``) or a list of
        (train, test) entry-position arrays into ``interactions.to_table()``.
    k : list length of the ranking measures.
    Returns a dict, as Surprise's: ``test_<measure>`` (n_folds,) float64 per measure,
    ``fit_time`` and ``test_time`` (n_folds,) seconds, ``train_<measure>`` if
    ``return_train_measures``, and ``models`` (the fitted copies) if ``return_models``.
    """
    check_interactions(interactions)
    measures = _check_measures(measures)
    check_positive_int(k, "k")
    table = interactions.to_table()
    out = {f"test_{m}": [] for m in measures}
    if return_train_measures:
        out.update({f"train_{m}": [] for m in measures})
    out.update(fit_time=[], test_time=[])
    models = []
    for train, test in _folds(interactions.nnz, cv, random_state):
        start = time.perf_counter()
        fitted = clone(model).fit(interactions.subset(train))
        out["fit_time"].append(time.perf_counter() - start)
        start = time.perf_counter()
        for name, value in _score(fitted, [part[test] for part in table], measures, k).items():
            out[f"test_{name}"].append(value)
        out["test_time"].append(time.perf_counter() - start)
        if return_train_measures:
            for name, value in _score(fitted, [part[train] for part in table], measures,
                                      k).items():
                out[f"train_{name}"].append(value)
        models.append(fitted)
    out = {name: np.asarray(values) for name, values in out.items()}
    if return_models:
        out["models"] = models
    return out


def _grid_points(param_grid):
    """A dict of lists (or a list of them) as the list of its parameter dicts, in order."""
    grids = [param_grid] if isinstance(param_grid, dict) else list(param_grid)
    points = []
    for grid in grids:
        if not isinstance(grid, dict) or not grid:
            raise ValueError("param_grid must be a non-empty dict of {parameter: list of "
                             "values}, or a list of such dicts")
        for name, values in grid.items():
            if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") \
                    or len(values) == 0:
                raise ValueError(f"param_grid[{name!r}] must be a non-empty list of values; "
                                 f"got {values!r}")
        names = list(grid)
        points.extend(dict(zip(names, combo)) for combo in itertools.product(*grid.values()))
    return points


class GridSearchCV:
    """Exhaustive search over ``param_grid`` scored by cross-validation on the data ``fit`` gets.

    model : an unfitted model whose parameters the grid overrides (``clone``).
    param_grid : {parameter: list of values} (or a list of such dicts), e.g.
        ``{"n_factors": [20, 50], "reg": [0.02, 0.1]}``.
    measure : the one measure the best point is chosen by (lowest error, highest ranking score;
        the first grid point wins ties). cv, k, random_state : as ``cross_validate``; every
        point is scored on the same folds.
    After ``fit``: ``best_params_``, ``best_score_``, ``best_index_``, ``best_model_`` (refit on
    all the data fit got), ``cv_results_`` (Surprise's keys: ``params``, ``split<i>_test_<m>``,
    ``mean_test_<m>``, ``std_test_<m>``, ``rank_test_<m>``, ``mean_fit_time``,
    ``mean_test_time``). ``predict`` and ``recommend`` are the best model's.
    """

    def __init__(self, model, param_grid, *, measure="rmse", cv=3, k=10, random_state=None):
        self.model, self.param_grid = model, param_grid
        (self.measure,) = _check_measures([measure])
        self.cv, self.k, self.random_state = cv, k, random_state
        self._points = _grid_points(param_grid)
        for point in self._points:  # a misspelt parameter fails here, not after some fits
            clone(model, **point)

    def fit(self, interactions):
        """Score every grid point on inner folds of ``interactions``, refit the best on all of
        them; returns self."""
        check_interactions(interactions)
        m = self.measure
        results = [cross_validate(clone(self.model, **point), interactions, measures=(m,),
                                  cv=self.cv, k=self.k, random_state=self.random_state)
                   for point in self._points]
        scores = np.array([r[f"test_{m}"] for r in results])  # (n_points, n_folds)
        mean = scores.mean(axis=1)
        higher_is_better = m in RANKING_MEASURES
        order = np.argsort(-mean if higher_is_better else mean, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(1, len(order) + 1)
        self.cv_results_ = {"params": list(self._points)}
        for split in range(scores.shape[1]):
            self.cv_results_[f"split{split}_test_{m}"] = scores[:, split]
        self.cv_results_.update({
            f"mean_test_{m}": mean, f"std_test_{m}": scores.std(axis=1), f"rank_test_{m}": rank,
            "mean_fit_time": np.array([r["fit_time"].mean() for r in results]),
            "mean_test_time": np.array([r["test_time"].mean() for r in results])})
        self.best_index_ = int(order[0])
        self.best_params_ = dict(self._points[self.best_index_])
        self.best_score_ = float(mean[self.best_index_])
        self.best_model_ = clone(self.model, **self.best_params_).fit(interactions)
        return self

    def _best(self):
        if not hasattr(self, "best_model_"):
            raise RuntimeError("GridSearchCV is not fitted; call fit first")
        return self.best_model_

    @property
    def interactions_(self):
        """The interactions the best model was refit on."""
        return self._best().interactions_

    def predict(self, users, items, **options):
        """The best model's ``predict``."""
        return self._best().predict(users, items, **options)

    def recommend(self, users, k=10, **options):
        """The best model's ``recommend``."""
        return self._best().recommend(users, k, **options)
