"""Objectives: everything the library knows about each one, in one table.

``OBJECTIVES`` maps a name to its ``Objective``: the gradient kernel (``gbdt.objectives``) and the
loss parameter it takes, the link between a prediction and a margin, what ``predict`` returns and
what metrics see, how the intercept is estimated, the default metric, the labels it accepts, how
many outputs it has and what it fits. Training (local and Dask), prediction, the estimators and
the model format read this table only, so a new objective is its kernel plus one entry here.

Learning-to-rank objectives (``queries``) compute the gradients of a query's rows together and
draw their pairs by round: their ``gradients`` is a ``QueryKernel`` that names the
``gbdt.ranking`` computation, and a fit builds its per-fit state with ``Loss.query_gradients``
over the query boundaries.

``Loss`` is the loss of one fit, as ``bindings.params.resolve_params`` resolves it: an objective,
its number of outputs and its parameters. Margins are (n, K) float64; ``gh_out`` (n, K, 2) float32
receives gradients ``[..., 0]`` and hessians ``[..., 1]`` times the row weights.
"""
import math
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

import numpy as np

from bindings.ranking_metrics import check_relevance
from gbdt import objectives as kernels
from gbdt.leaf_quantile import weighted_quantile
from gbdt.ranking import RankingObjective, RankingParams

__all__ = ["Objective", "Loss", "LossParams", "QueryKernel", "OBJECTIVES", "CUSTOM", "objective_named",
           "custom_objective", "squeeze", "POISSON_MAX_DELTA_STEP"]

# XGBoost's count:poisson default max_delta_step: the hessian is exp(margin + this), and tree
# weights are clipped to +-this, which damps the first steps
POISSON_MAX_DELTA_STEP = 0.7
# the values an ``Objective``'s descriptive fields take (a typo in a new entry raises at import)
CHOICES = {"link": ("identity", "logit", "log"),
           "intercept": ("mean", "newton", "newton class", "class shares", "quantile", "zero"),
           "outputs": ("one", "classes", "quantiles", "given"),
           "task": ("regression", "binary", "multiclass", "ranking")}


class LossParams(NamedTuple):
    """The losses' own parameters, as ``bindings.params.resolve_params`` resolves them."""
    max_delta_step: float  # count:poisson's hessian is exp(margin + this)
    tweedie_variance_power: float  # reg:tweedie's rho, in [1, 2)
    quantile_alpha: Optional[tuple]  # reg:quantileerror's quantiles in (0, 1), one per output; None: not set
    huber_slope: float  # reg:pseudohubererror's delta: quadratic within it, linear beyond


# ----- margins -> predictions ---------------------------------------------------------------------
def squeeze(margin):
    """Margin (n, K) as returned to users: (n,) for one output, (n, K) otherwise."""
    return margin[:, 0] if margin.shape[1] == 1 else margin


def sigmoid(margin):
    """(n,) probabilities of a one-output margin (n, 1)."""
    return 1.0 / (1.0 + np.exp(-margin[:, 0]))


def softmax(margin):
    """(n, K) class probabilities of a margin (n, K)."""
    shifted = np.exp(margin - margin.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def most_likely_class(margin):
    """(n,) float64: the class of the largest margin."""
    return margin.argmax(axis=1).astype(np.float64)


def expected_value(margin):
    """(n,) exp(margin) of a one-output log-link margin (n, 1)."""
    return np.exp(margin[:, 0])


def positive_class(margin):
    """(n,) float64 0/1: whether the margin (n, 1) is above 0."""
    return (margin[:, 0] > 0).astype(np.float64)


# ----- gradients ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kernel:
    """An objective's gradients: ``function(margin, label, weight, [loss parameter,] gh_out)``, with
    ``parameter`` the ``LossParams`` field it takes, or None."""
    function: Callable
    parameter: Optional[str] = None

    def __call__(self, margin, label, weight, gh_out, losses):
        if self.parameter is None:
            self.function(margin, label, weight, gh_out)
        else:
            self.function(margin, label, weight, getattr(losses, self.parameter), gh_out)


def _quantile_gradients(margin, label, weight, gh_out, losses):
    for k, alpha in enumerate(losses.quantile_alpha):  # one output per quantile
        kernels.quantile_grad_hess(margin[:, k:k + 1], label, weight, alpha, gh_out[:, k:k + 1])


@dataclass(frozen=True)
class CustomKernel:
    """A user's objective ``function(preds, labels) -> (grad, hess)``; preds are the margin (n,) for
    one output, else (n, K); grad and hess (n,) or (n, K)."""
    function: Callable

    def __call__(self, margin, label, weight, gh_out, losses):
        n, k = margin.shape
        grad, hess = self.function(margin[:, 0].copy() if k == 1 else margin.copy(), label)
        grad = np.asarray(grad, dtype=np.float64)
        hess = np.asarray(hess, dtype=np.float64)
        if grad.size != n * k or hess.size != n * k:
            raise ValueError(f"custom objective must return grad and hess of shape ({n},) or ({n}, {k}), "
                             f"got {grad.shape} and {hess.shape}")
        grad, hess = grad.reshape(n, k), hess.reshape(n, k)
        if not (np.isfinite(grad).all() and np.isfinite(hess).all()):
            raise ValueError("custom objective returned NaN or infinite gradients/hessians")
        gh_out[:, :, 0] = grad
        gh_out[:, :, 1] = hess


@dataclass(frozen=True)
class QueryKernel:
    """A learning-to-rank objective's gradients (``gbdt.ranking``): ``kind`` the change of metric a
    pair's lambda is weighted by ("pairwise", "ndcg", "map") or "xendcg" (LightGBM's rank_xendcg);
    ``lightgbm`` LightGBM's conventions (a weight per row, label_gain, truncation level) instead of
    XGBoost's (one weight per query, pair sampling, position debiasing). A row's gradient depends
    on its query's other rows and on the round, so the row-wise call is refused: a fit computes
    them with ``Loss.query_gradients``."""
    kind: str
    lightgbm: bool = False

    def __call__(self, margin, label, weight, gh_out, losses):
        raise ValueError(f"a ranking objective ({self.kind}) computes its gradients over query groups, not row by row: "
                         "use Loss.query_gradients")


def _median(losses):
    return (0.5,)


def _quantile_alphas(losses):
    return losses.quantile_alpha


# ----- labels ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Labels:
    """The labels an objective accepts: at least ``low`` (above it when ``low_open``), at most
    ``high`` (below ``num_class`` when ``below_classes``), whole numbers when ``integral``; ``text``
    says so in messages (``{num_class}`` is filled in)."""
    text: str = "any finite numbers"
    low: float = -math.inf
    low_open: bool = False
    high: float = math.inf
    integral: bool = False
    below_classes: bool = False

    def check(self, low, high, integral, num_class, objective, name):
        """Raise ValueError naming ``name`` unless labels from ``low`` to ``high`` (``integral``: all
        whole numbers) are accepted."""
        fine = (low > self.low if self.low_open else low >= self.low) and \
            (high < num_class if self.below_classes else high <= self.high) and (integral or not self.integral)
        if not fine:
            whole = "" if integral else ", not all whole numbers"
            raise ValueError(f"{name} labels must be {self.text.format(num_class=num_class)} for {objective}, "
                             f"got labels from {low:g} to {high:g}{whole}")


ANY_LABEL = Labels()
PROBABILITY_LABELS = Labels("in [0, 1]", low=0.0, high=1.0)


# ----- the table ------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Objective:
    """What training, prediction and evaluation need of one objective.

    gradients : fills ``gh_out`` (n, K, 2) from margin (n, K), label (n,), weight (n,) or empty
        (all ones) and ``LossParams``.
    link : how a prediction maps to a margin (``base_score``, the label-mean intercept):
        "identity", "logit" (a probability) or "log" (an expected value).
    predict : margin (n, K) -> what ``Booster.predict`` returns; evaluate : margin -> what
        metrics see (None: the same as ``predict``).
    intercept : the initial margin without ``base_score``: "mean" (``link`` of the weighted label
        mean, as XGBoost 3), "newton" (one Newton step -G/H from margin 0), "newton class" (the class,
        1 or 0, that step predicts, which XGBoost stores for binary:hinge), "class shares" (the log
        of each class's weight share less their mean), "quantile" (the label quantiles of
        ``quantiles``) or "zero".
    default_metric : the metric evaluated when ``eval_metric`` is not set (a family named after a
        loss parameter is named by ``bindings.metrics.named_metric``); None: no default.
    labels : the labels it accepts. outputs : "one", "classes" (``num_class`` >= 2) or "quantiles"
        (one per ``quantile_alpha``); "given" (custom objectives: ``num_class``).
    task : "regression", "binary", "multiclass" or "ranking" (which estimator takes it).
    quantiles : None, or the quantiles (one per output) its leaves take from their rows' residuals
        (``gbdt.leaf_quantile``) instead of -G/H, from the ``LossParams``.
    whole_data : the gradient of a row depends on the other rows (Cox's risk sets): every row
        must be on one machine. queries : learning to rank: ``gradients`` is a ``QueryKernel``;
        training needs query groups (kept whole on every machine) and passes the round number
        (``Loss.query_gradients``); the default metrics come from the ranking parameters
        (``bindings.params``). weights_positive : ``scale_pos_weight`` applies (labels 1 are the
        positive class). max_delta_step : its default ``max_delta_step``.
    """
    name: str
    gradients: Callable
    link: str = "identity"
    predict: Callable = squeeze
    evaluate: Optional[Callable] = None
    intercept: str = "mean"
    default_metric: Optional[str] = None
    labels: Labels = ANY_LABEL
    outputs: str = "one"
    task: str = "regression"
    quantiles: Optional[Callable] = None
    whole_data: bool = False
    queries: bool = False
    weights_positive: bool = False
    max_delta_step: float = 0.0

    def __post_init__(self):
        for field, choices in CHOICES.items():
            if getattr(self, field) not in choices:
                raise ValueError(f"objective {self.name!r}: {field} must be one of {choices}, got "
                                 f"{getattr(self, field)!r}")
        if (self.intercept == "quantile") != (self.quantiles is not None):
            raise ValueError(f"objective {self.name!r}: the quantile intercept and leaf quantiles go together")
        if self.queries != isinstance(self.gradients, QueryKernel):
            raise ValueError(f"objective {self.name!r}: query gradients (a QueryKernel) and queries go together")

    def __reduce__(self):  # built-ins travel (to Dask workers) by name, with no kernel inside
        if OBJECTIVES.get(self.name) is self:
            return objective_named, (self.name,)
        return custom_objective, (self.gradients.function,)

    def metric_input(self, margin):
        """What evaluation metrics see of margin (n, K)."""
        return (self.evaluate or self.predict)(margin)

    def to_margin(self, value, name):
        """The margin of a one-output prediction ``value`` under ``link``; ValueError naming
        ``name`` when ``value`` is outside the link's range."""
        if self.link == "logit":
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be a probability in (0, 1) for {self.name}, got {value}")
            return math.log(value / (1.0 - value))
        if self.link == "log":
            if not value > 0.0:
                raise ValueError(f"{name} must be an expected value > 0 for {self.name}, got {value}")
            return math.log(value)
        return float(value)

    def from_margin(self, margin):
        """The inverse of ``to_margin``: the one-output prediction whose margin is ``margin`` (a
        float) under ``link`` (how XGBoost stores its base score)."""
        if self.link == "logit":
            return 1.0 / (1.0 + math.exp(-margin))
        if self.link == "log":
            return math.exp(margin)
        return float(margin)


def _table(*objectives):
    return {o.name: o for o in objectives}


_LOGISTIC = Kernel(kernels.binary_logistic_grad_hess)
_SOFTMAX = Kernel(kernels.softmax_grad_hess)
# learning to rank: the lambdas cancel within each query, so the Newton step from margin 0 is 0 (XGBoost's
# intercept up to its float rounding, ~1e-9; LightGBM starts at 0); relevance labels are checked
# against the fit's gain (``Loss.check_labels``)
_RANKING = {"intercept": "zero", "task": "ranking", "queries": True}
_CLASSES = Labels("integers in [0, {num_class}) (num_class={num_class})", low=0.0, integral=True,
                  below_classes=True)
OBJECTIVES = _table(
    Objective("reg:squarederror", Kernel(kernels.squared_error_grad_hess), default_metric="rmse"),
    Objective("binary:logistic", _LOGISTIC, link="logit", predict=sigmoid, default_metric="logloss",
              labels=PROBABILITY_LABELS, task="binary", weights_positive=True),
    # predicts the margin, evaluated as probabilities (as XGBoost); its base_score is a margin
    Objective("binary:logitraw", _LOGISTIC, evaluate=sigmoid, default_metric="logloss", labels=PROBABILITY_LABELS,
              task="binary", weights_positive=True),
    Objective("reg:logistic", _LOGISTIC, link="logit", predict=sigmoid, default_metric="rmse",
              labels=PROBABILITY_LABELS, weights_positive=True),
    Objective("multi:softprob", _SOFTMAX, predict=softmax, intercept="class shares", default_metric="mlogloss",
              labels=_CLASSES, outputs="classes", task="multiclass"),
    # predicts the class, evaluated as probabilities (as XGBoost)
    Objective("multi:softmax", _SOFTMAX, predict=most_likely_class, evaluate=softmax, intercept="class shares",
              default_metric="mlogloss", labels=_CLASSES, outputs="classes", task="multiclass"),
    Objective("count:poisson", Kernel(kernels.poisson_grad_hess, "max_delta_step"), link="log",
              predict=expected_value, default_metric="poisson-nloglik",
              labels=Labels("counts >= 0", low=0.0), max_delta_step=POISSON_MAX_DELTA_STEP),
    Objective("reg:gamma", Kernel(kernels.gamma_grad_hess), link="log", predict=expected_value,
              default_metric="gamma-deviance", labels=Labels("> 0", low=0.0, low_open=True)),
    Objective("reg:tweedie", Kernel(kernels.tweedie_grad_hess, "tweedie_variance_power"), link="log",
              predict=expected_value, default_metric="tweedie-nloglik", labels=Labels(">= 0", low=0.0)),
    Objective("reg:absoluteerror", Kernel(kernels.absolute_error_grad_hess), intercept="quantile",
              default_metric="mae", quantiles=_median),
    Objective("reg:quantileerror", _quantile_gradients, intercept="quantile", default_metric="quantile",
              outputs="quantiles", quantiles=_quantile_alphas),
    Objective("reg:pseudohubererror", Kernel(kernels.pseudohuber_grad_hess, "huber_slope"), intercept="newton",
              default_metric="mphe"),
    Objective("reg:squaredlogerror", Kernel(kernels.squared_log_error_grad_hess), intercept="newton",
              default_metric="rmsle", labels=Labels("> -1 (log1p of them)", low=-1.0, low_open=True)),
    Objective("binary:hinge", Kernel(kernels.hinge_grad_hess), predict=positive_class, intercept="newton class",
              default_metric="error", labels=Labels("0 or 1", low=0.0, high=1.0, integral=True), task="binary"),
    # hazard ratios exp(margin); |label| is the time, a negative label a censored row
    Objective("survival:cox", Kernel(kernels.cox_grad_hess), link="log", predict=expected_value, intercept="newton",
              default_metric="cox-nloglik", whole_data=True),
    Objective("rank:pairwise", QueryKernel("pairwise"), **_RANKING),
    Objective("rank:ndcg", QueryKernel("ndcg"), **_RANKING),
    Objective("rank:map", QueryKernel("map"), **_RANKING),
    Objective("lambdarank", QueryKernel("ndcg", lightgbm=True), **_RANKING),
    Objective("rank_xendcg", QueryKernel("xendcg", lightgbm=True), **_RANKING),
)


def custom_objective(function):
    """The ``Objective`` of a user's ``function(margin, label) -> (grad, hess)``: predictions and
    metrics see the margin, the intercept is 0 (``base_score`` is a margin), no default metric."""
    return Objective("custom", CustomKernel(function), intercept="zero", outputs="given")


CUSTOM = custom_objective(None)  # what a loaded model of a custom objective predicts with


def objective_named(name):
    """The ``Objective`` of a built-in name, or ``CUSTOM`` for "custom" (a saved model's)."""
    return CUSTOM if name == "custom" else OBJECTIVES[name]


# ----- one fit's loss -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Loss:
    """The loss one fit trains: ``objective`` with ``outputs`` (K) margins per row, its ``params``,
    ``base_score`` (a prediction, or a margin for custom objectives; None: estimated),
    ``scale_pos_weight`` and, for a ranking objective, its ``gbdt.ranking.RankingParams``."""
    objective: Objective
    outputs: int
    params: LossParams
    base_score: Optional[float] = None
    scale_pos_weight: float = 1.0
    ranking: Optional[RankingParams] = None

    @property
    def recorded_params(self):
        """The ``LossParams`` a trained model records (other formats' exports write them); None
        for a custom objective, which has none."""
        return None if self.objective.name == "custom" else self.params

    @property
    def leaf_alpha(self):
        """None, or per output the quantile of its rows' residuals that leaves take."""
        return None if self.objective.quantiles is None else self.objective.quantiles(self.params)

    def gradients(self, margin, label, weight, gh_out):
        """Fill ``gh_out`` (n, K, 2) at ``margin`` (n, K) for ``label`` (n,), ``weight`` (n,) or empty."""
        self.objective.gradients(margin, label, weight, gh_out, self.params)

    def query_gradients(self, label, weight, group_ptr, **shard):
        """The ``gbdt.ranking.RankingObjective`` of a ranking fit over label (n,), training weight
        (n,) or empty and the queries ``group_ptr`` (G + 1,): ``gradients(margin (n,), round, gh_out
        (n, 2))``; ``shard``: ``group_index``, ``n_groups`` and ``weight_norm`` of a part of the
        queries (a Dask shard's; see ``RankingObjective``)."""
        return RankingObjective(label, weight, group_ptr, self.ranking, **shard)

    def training_weight(self, label, weight):
        """(n,) weights the gradients and the intercept use: ``weight`` (empty: all ones) times
        ``scale_pos_weight`` on the positive rows, as XGBoost (metrics keep ``weight``). Empty when
        both leave every row at one."""
        if self.scale_pos_weight == 1.0:
            return weight
        base = np.ones_like(label) if weight.shape[0] == 0 else weight
        return base * np.where(label == 1.0, self.scale_pos_weight, 1.0)

    def check_labels(self, low, high, integral, name):
        """Raise ValueError naming ``name`` unless labels from ``low`` to ``high`` (``integral``: all
        whole numbers) suit the objective."""
        self.objective.labels.check(low, high, integral, self.outputs, self.objective.name, name)
        kind = None if self.ranking is None else self.ranking.kind
        if kind in ("ndcg", "map"):  # relevance degrees of the gain, or 0/1 for MAP
            check_relevance(low, high, integral, self.ranking.gain, kind == "map", name)
        elif kind == "xendcg":  # rank_xendcg's gain is 2^y
            check_relevance(low, high, integral, "exponential", False, name)

    def check_label(self, label, name):
        """``check_labels`` of a label array (n,) or None (ValueError: no label)."""
        if label is None:
            raise ValueError(f"{name} has no label; pass label= to Dataset")
        self.check_labels(label.min(), label.max(), bool((label == np.round(label)).all()), name)

    def label_sums(self, label, weight):
        """(4 + C,) weighted label sums that add up over parts of the rows: [sum w, sum w y, the sums
        of gradient and hessian at margin 0 (Newton-step intercepts, else 0), then for the "class
        shares" intercept the weight of each of the C = K classes]; label (n,), weight (n,) or
        empty (all ones)."""
        intercept = self.objective.intercept
        weight = np.ones_like(label) if weight is None or weight.shape[0] == 0 else weight
        classes = np.zeros(self.outputs if intercept == "class shares" else 0)
        valid = (label >= 0) & (label < classes.shape[0])  # labels out of range are the callers' error to report
        np.add.at(classes, label[valid].astype(np.int64), weight[valid])
        newton = np.zeros(2)
        if intercept in ("newton", "newton class"):
            gh = np.empty((label.shape[0], 1, 2), dtype=np.float32)
            self.gradients(np.zeros((label.shape[0], 1)), label, weight, gh)
            newton = gh[:, 0].sum(axis=0, dtype=np.float64)
        return np.concatenate(([weight.sum(), weight @ label], newton, classes))

    def initial_margin(self, sums, label=None, weight=None):
        """Base margin (K,): ``base_score`` when given (``Objective.to_margin``), else from the
        objective's ``intercept``: from ``label_sums`` of every training row, or the label
        quantiles of ``label`` (n,) with ``weight`` (n,) or None."""
        objective, k = self.objective, self.outputs
        if self.base_score is not None:
            return np.full(k, float(objective.to_margin(self.base_score, "base_score")))
        if objective.intercept == "zero":
            return np.zeros(k)
        if objective.intercept == "quantile":
            return np.array([weighted_quantile(label, alpha, weight) for alpha in self.leaf_alpha])
        if objective.intercept == "class shares":
            log_share = np.log(np.maximum(np.asarray(sums[4:4 + k]) / sums[0], 1e-6))
            return log_share - log_share.mean()  # a common shift changes nothing
        if objective.intercept in ("newton", "newton class"):
            step = -sums[2] / sums[3]
            return np.array([float(step > 0) if objective.intercept == "newton class" else step])
        label_mean = sums[1] / sums[0]
        if objective.link == "logit":
            label_mean = min(max(label_mean, 1e-6), 1 - 1e-6)
        elif objective.link == "log":
            label_mean = max(label_mean, 1e-16)
        return np.array([objective.to_margin(label_mean, "the label mean")])
