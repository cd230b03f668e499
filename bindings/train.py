"""``train``: the public training function, like ``xgboost.train``. It checks its arguments,
resolves the parameters once (``bindings.params``) and runs the boosting loop of
``bindings.boosting`` on the Dataset."""
from bindings.boosting import fit_dataset
from bindings.callbacks import EarlyStopping, EvaluationMonitor
from bindings.dataset import Dataset
from bindings.features import check_feature_names
from bindings.params import resolve_params
from bindings.ranking import check_queries
from gbdt.threads import fit_threads, using_threads

__all__ = ["train"]


def train(params, dtrain, num_boost_round=100, *, evals=(), obj=None, early_stopping_rounds=None,
          evals_result=None, callbacks=None, verbose_eval=False):
    """Train a gradient-boosted forest, like ``xgboost.train``.

    Parameters
    ----------
    params : dict of parameters (see docs/parameters.md; XGBoost/LightGBM aliases accepted), or the
        ``Params`` that ``bindings.params.resolve_params`` made of one.
    dtrain : Dataset with labels.
    num_boost_round : boosting rounds (one tree per class per round).
    evals : list of (Dataset, name) pairs evaluated after every round.
    obj : custom objective ``obj(margin, label) -> (grad, hess)``; same as a callable ``objective``.
    early_stopping_rounds : stop when the last metric on the last eval set stalls this long.
    evals_result : dict filled with ``{name: {metric: [values]}}``.
    callbacks : list of TrainingCallback; verbose_eval : bool or print period.
    """
    p = resolve_params(params, objective=obj)
    if not isinstance(dtrain, Dataset):
        raise TypeError(f"dtrain must be a Dataset, got {type(dtrain).__name__}")
    if int(num_boost_round) < 0:
        raise ValueError(f"num_boost_round must be >= 0, got {num_boost_round}")
    p.loss.check_label(dtrain.label, "dtrain")
    evals = list(evals or ())
    for pair in evals:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and isinstance(pair[0], Dataset)):
            raise TypeError("evals must be a list of (Dataset, name) pairs")
        if pair[0].num_col != dtrain.num_col:
            raise ValueError(f"eval set {pair[1]!r} has {pair[0].num_col} features, dtrain has {dtrain.num_col}")
        check_feature_names(dtrain.feature_names, pair[0], f"eval set {pair[1]!r}")
        p.loss.check_label(pair[0].label, f"eval set {pair[1]!r}")
    check_queries(p, dtrain, "dtrain", evaluated=False)
    for dataset, name in evals:
        check_queries(p, dataset, f"eval set {name!r}")

    callbacks = list(callbacks or [])
    if verbose_eval:
        callbacks.append(EvaluationMonitor(period=1 if verbose_eval is True else verbose_eval))
    if early_stopping_rounds is not None:
        callbacks.append(EarlyStopping(early_stopping_rounds))

    n_threads = fit_threads(p.n_jobs, dtrain.num_row, dtrain.num_col)
    with using_threads(n_threads):
        booster, history = fit_dataset(p, dtrain, int(num_boost_round), evals, callbacks, n_threads)
    if evals_result is not None:
        evals_result.clear()
        evals_result.update(history)
    return booster
