"""Training callbacks, shaped like XGBoost's: the boosting loop has no special cases.

A callback may define ``before_training(booster)``, ``after_iteration(booster, iteration,
evals_log) -> bool`` (True stops training) and ``after_training(booster)``. ``evals_log`` is
``{data_name: {metric_name: [value per round]}}``.
"""
from bindings.metrics import higher_is_better

__all__ = ["TrainingCallback", "EarlyStopping", "EvaluationMonitor"]


class TrainingCallback:
    """Base class with no-op hooks."""

    def before_training(self, booster):
        return booster

    def after_iteration(self, booster, iteration, evals_log):
        return False

    def after_training(self, booster):
        return booster


class EarlyStopping(TrainingCallback):
    """Stop when ``metric_name`` on ``data_name`` has not improved for ``rounds`` rounds.

    Defaults: the last metric of the last evaluation set, maximised for ``auc`` and the ranking
    metrics. On stop the
    booster keeps its trees and records ``best_iteration`` (0-based round) and ``best_score``;
    predictions then use rounds 0..best_iteration unless ``iteration_range`` says otherwise.
    """

    def __init__(self, rounds, metric_name=None, data_name=None, maximize=None, min_delta=0.0):
        if int(rounds) < 1:
            raise ValueError(f"early_stopping_rounds must be >= 1, got {rounds}")
        self.rounds = int(rounds)
        self.metric_name = metric_name
        self.data_name = data_name
        self.maximize = maximize
        self.min_delta = min_delta
        self.best = None
        self.best_iteration = None

    def after_iteration(self, booster, iteration, evals_log):
        if not evals_log:
            raise ValueError("early stopping needs at least one evaluation set in evals / eval_set")
        data_name = self.data_name or list(evals_log)[-1]
        metrics = evals_log[data_name]
        if not metrics:
            raise ValueError("early stopping needs an evaluation metric (eval_metric)")
        metric = self.metric_name or list(metrics)[-1]
        score = metrics[metric][-1]
        maximize = higher_is_better(metric) if self.maximize is None else self.maximize
        improved = self.best is None or (score > self.best + self.min_delta if maximize
                                         else score < self.best - self.min_delta)
        if improved:
            self.best, self.best_iteration = score, iteration
            booster.best_iteration, booster.best_score = iteration, score
        return iteration - self.best_iteration >= self.rounds


class EvaluationMonitor(TrainingCallback):
    """Print the evaluation results every ``period`` rounds (and on the last one)."""

    def __init__(self, period=1, printer=print):
        self.period = max(1, int(period))
        self.printer = printer

    def after_iteration(self, booster, iteration, evals_log):
        if evals_log and iteration % self.period == 0:
            parts = [f"{data}-{metric}:{values[-1]:.5f}"
                     for data, metrics in evals_log.items() for metric, values in metrics.items()]
            self.printer(f"[{iteration}]\t" + "\t".join(parts))
        return False
