"""scikit-learn estimators ``GBDTClassifier`` and ``GBDTRegressor``: thin wrappers whose ``fit`` calls ``train``.

They work with ``clone``, ``Pipeline`` and ``GridSearchCV``. scikit-learn is optional at run
time: without it the estimators still fit and predict (minimal ``get_params``/``set_params``
stand in for ``BaseEstimator``), as XGBoost's wrappers do.
"""
import inspect
import warnings

import numpy as np

from bindings.categorical import encode_categorical, model_codes
from bindings.dataset import coded_dataset
from bindings.features import as_feature_matrix, check_feature_names
from bindings.objectives import OBJECTIVES
from bindings.sparse_input import is_sparse
from bindings.train import train

# objectives GBDTRegressor takes (its ``objective``; GBDTClassifier picks its own from the classes)
REGRESSION_OBJECTIVES = tuple(name for name, o in OBJECTIVES.items() if o.task == "regression")

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import DataConversionWarning
except ImportError:  # pragma: no cover - exercised only where scikit-learn is absent
    class DataConversionWarning(UserWarning):
        """Input converted to what the estimator expects."""

    class BaseEstimator:
        """get_params/set_params from the constructor signature, like scikit-learn's."""

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            for name, value in params.items():
                setattr(self, name, value)
            return self

    class ClassifierMixin:
        _estimator_type = "classifier"

    class RegressorMixin:
        _estimator_type = "regressor"

__all__ = ["GBDTClassifier", "GBDTRegressor"]


def _feature_input(X, name="X"):
    """``as_feature_matrix`` (sparse accepted) with scikit-learn's wording for the input errors
    its estimator checks look for (1-D input, no rows or no columns, complex numbers)."""
    if X is None:
        raise ValueError(f"{name} is None; expected an array-like of shape (n_samples, n_features)")
    if not (is_sparse(X) or hasattr(X, "columns") or hasattr(X, "column_names")):
        array = np.asarray(X)
        if array.dtype.kind == "c":
            raise ValueError(f"Complex data not supported for {name}; pass real numbers")
        if array.ndim == 1:
            raise ValueError(f"Expected 2D array, got 1D array instead for {name}. Reshape your data either "
                             "using X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single sample.")
        X = array
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 2 and 0 in shape:
        what = "sample" if shape[0] == 0 else "feature"
        raise ValueError(f"{name}: found array with 0 {what}(s) (shape={tuple(shape)}) while a minimum of 1 "
                         "is required.")
    return as_feature_matrix(X, name, accept_sparse=True)


def _target(y):
    """y as a 1-D array (a single column is flattened); None raises scikit-learn's message."""
    if y is None:
        raise ValueError("this estimator requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.dtype.kind == "c":
        raise ValueError("Complex data not supported for y; pass real numbers")
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected; it is flattened with "
                      "y.ravel()", DataConversionWarning, stacklevel=3)
        y = y.reshape(-1)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    return y


def _constructor_parameters(cls):
    """Sorted names of ``cls``'s constructor parameters: those of its ``__init__`` and, while an
    ``__init__`` passes ``**kwargs`` on, of the next ``__init__`` up the MRO (scikit-learn's own
    lookup reads the first signature only)."""
    names = set()
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        parameters = list(inspect.signature(init).parameters.values())[1:]  # without self
        names |= {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            break
    return sorted(names)


class _GBDTEstimator(BaseEstimator):
    """Shared parameters and fitting; subclasses set the objective and the label encoding.
    Subclasses may add parameters with an ``__init__(self, *, new ones, **kwargs)`` that passes
    ``kwargs`` on (``_get_param_names`` follows the chain)."""

    def __init__(self, *, n_estimators=100, learning_rate=0.3, max_depth=6, max_leaves=0,
                 grow_policy="depthwise", max_bin=256, reg_lambda=1.0, reg_alpha=0.0, gamma=0.0,
                 min_child_weight=1.0, subsample=1.0, colsample_bytree=1.0, colsample_bylevel=1.0,
                 colsample_bynode=1.0, scale_pos_weight=1.0, max_delta_step=None, split_mode="auto",
                 n_jobs=None, random_state=None, early_stopping_rounds=None, eval_metric=None,
                 monotone_constraints=None, categorical_features=None, use_quantized_grad=False,
                 num_grad_quant_bins=4, objective=None, tweedie_variance_power=1.5, quantile_alpha=None,
                 huber_slope=1.0, interaction_constraints=None, tree_method="hist"):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.max_leaves = max_leaves
        self.grow_policy = grow_policy
        self.max_bin = max_bin
        self.reg_lambda = reg_lambda
        self.reg_alpha = reg_alpha
        self.gamma = gamma
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.colsample_bylevel = colsample_bylevel
        self.colsample_bynode = colsample_bynode
        self.scale_pos_weight = scale_pos_weight
        self.max_delta_step = max_delta_step
        self.split_mode = split_mode
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.early_stopping_rounds = early_stopping_rounds
        self.eval_metric = eval_metric
        self.monotone_constraints = monotone_constraints
        self.categorical_features = categorical_features
        self.use_quantized_grad = use_quantized_grad
        self.num_grad_quant_bins = num_grad_quant_bins
        self.objective = objective
        self.tweedie_variance_power = tweedie_variance_power
        self.quantile_alpha = quantile_alpha
        self.huber_slope = huber_slope
        self.interaction_constraints = interaction_constraints
        self.tree_method = tree_method

    _TRAIN_PARAMS = ("learning_rate", "max_depth", "max_leaves", "grow_policy", "max_bin", "reg_lambda",
                     "reg_alpha", "gamma", "min_child_weight", "subsample", "colsample_bytree", "colsample_bylevel",
                     "colsample_bynode", "scale_pos_weight", "max_delta_step", "split_mode", "n_jobs", "random_state",
                     "eval_metric", "monotone_constraints", "use_quantized_grad", "num_grad_quant_bins",
                     "tweedie_variance_power", "quantile_alpha", "huber_slope", "interaction_constraints",
                     "tree_method")

    @classmethod
    def _get_param_names(cls):
        return _constructor_parameters(cls)

    def _params(self):
        params = {name: getattr(self, name) for name in self._TRAIN_PARAMS}
        if params["random_state"] is None:
            params["random_state"] = 0
        elif isinstance(params["random_state"], np.random.RandomState):
            params["random_state"] = int(params["random_state"].randint(2**31 - 1))
        return params

    def _fit(self, X, y, sample_weight, eval_set, params, queries=None, eval_queries=None):
        """Fit with ``params``; ``queries``: the ``group``/``qid`` keywords of the training Dataset,
        ``eval_queries`` those of each evaluation set (learning to rank)."""
        X, categories = encode_categorical(X, self.categorical_features)
        X, names = _feature_input(X, "X")
        if len(y) != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {len(y)} entries")
        dtrain = coded_dataset(X, categories, y, sample_weight, names, **(queries or {}))
        if sample_weight is not None and not np.any(np.asarray(sample_weight, dtype=np.float64)):
            raise ValueError("sample_weight is all zeros; at least one row needs a positive weight")
        classes = self._label_classes()
        evals = [(coded_dataset(_feature_input(model_codes(Xe, categories), "eval_set X")[0], categories,
                                eval_label_codes(ye, classes), **(eval_queries[i] if eval_queries else {})),
                  f"validation_{i}")
                 for i, (Xe, ye) in enumerate(eval_set or ())]
        if self.early_stopping_rounds is not None and not evals:
            raise ValueError("early_stopping_rounds needs an eval_set")
        if not isinstance(self.n_estimators, (int, np.integer)) or self.n_estimators < 1:
            raise ValueError(f"n_estimators must be a positive integer, got {self.n_estimators!r}")
        self.booster_ = train(params, dtrain, self.n_estimators, evals=evals,
                              early_stopping_rounds=self.early_stopping_rounds)
        self.n_features_in_ = X.shape[1]
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        self.evals_result_ = self.booster_.evals_result
        self.best_iteration_ = self.booster_.best_iteration
        return self

    def __sklearn_tags__(self):
        """NaN is a value (missing) and scipy.sparse input is accepted (scikit-learn >= 1.6)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags

    def _check_fitted(self):
        if not hasattr(self, "booster_"):
            try:
                from sklearn.exceptions import NotFittedError
            except ImportError:  # pragma: no cover
                NotFittedError = AttributeError
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")

    def _margin_input(self, X):
        self._check_fitted()
        check_feature_names(self.booster_.feature_names, X, "X")
        X = _feature_input(model_codes(X, self.booster_.categories), "X")[0]
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input")
        return coded_dataset(X, self.booster_.categories)

    def to_shap(self):
        """The fitted model as the dict ``shap.TreeExplainer`` takes (``bindings.shap_export``);
        SHAP values are contributions to the margin (log-odds for a classifier)."""
        self._check_fitted()
        return self.booster_.to_shap()

    @property
    def feature_importances_(self):
        """(F,) total-gain importance normalised to sum to 1."""
        self._check_fitted()
        return self.booster_.feature_importances("total_gain")


def eval_label_codes(y, classes):
    """(n,) float64 training codes of evaluation labels y (n,): the labels themselves when ``classes``
    is None (regression), else their positions in the sorted ``classes`` (ValueError for a label
    outside them). A plain function, so Dask can ship it to the workers without the estimator."""
    if classes is None:
        return np.asarray(y, dtype=np.float64)
    y = np.asarray(y)
    codes = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
    if not np.array_equal(classes[codes], y):
        raise ValueError("eval_set labels contain classes not present in y")
    return codes.astype(np.float64)


class GBDTRegressor(RegressorMixin, _GBDTEstimator):
    """Gradient-boosted trees for regression, like ``xgboost.XGBRegressor``: ``objective`` one of
    ``REGRESSION_OBJECTIVES`` (None: reg:squarederror)."""

    def _label_classes(self):
        return None

    def _regression_params(self):
        """Training parameters with the regression objective."""
        objective = "reg:squarederror" if self.objective is None else self.objective
        if objective not in REGRESSION_OBJECTIVES:
            raise ValueError(f"objective must be one of {REGRESSION_OBJECTIVES} for a regressor, got {objective!r}")
        return {**self._params(), "objective": objective}

    def fit(self, X, y, sample_weight=None, eval_set=None):
        """Fit on X (n, F) and y (n,) finite numbers (in the objective's domain: > 0 for reg:gamma,
        >= 0 for reg:tweedie and count:poisson); eval_set = [(X_valid, y_valid), ...].
        reg:quantileerror fits the ``quantile_alpha`` quantile, reg:absoluteerror the median."""
        return self._fit(X, _target(y).astype(np.float64), sample_weight, eval_set, self._regression_params())

    def predict(self, X):
        """(n,) predicted values (expected values exp(margin) for the log-link objectives)."""
        X = self._margin_input(X)
        return self.booster_.predict(X)


class GBDTClassifier(ClassifierMixin, _GBDTEstimator):
    """Gradient-boosted trees for classification (logistic for 2 classes, softmax for more),
    like ``xgboost.XGBClassifier``; labels may be any values (strings included)."""

    def _label_classes(self):
        return self.classes_

    def fit(self, X, y, sample_weight=None, eval_set=None):
        """Fit on X (n, F) and labels y (n,) with at least two distinct classes."""
        y = _target(y)
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinite labels; remove those rows")
        if y.dtype.kind == "f" and not (y == np.round(y)).all():
            raise ValueError("Unknown label type: continuous values in y; a classifier needs class labels "
                             "(use GBDTRegressor for a continuous target)")
        classes, codes = np.unique(y, return_inverse=True)
        return self._fit(X, codes.astype(np.float64), sample_weight, eval_set, self._params_for_classes(classes))

    def _params_for_classes(self, classes):
        """Record ``classes_`` and return the training parameters for that many classes."""
        if len(classes) < 2:
            raise ValueError(f"y has a single class {list(classes)}; one class is not enough, a classifier "
                             "needs at least two")
        self.classes_ = np.asarray(classes)
        self.n_classes_ = len(classes)
        params = self._params()
        if self.n_classes_ == 2:
            params["objective"] = "binary:logistic"
        else:
            params.update(objective="multi:softprob", num_class=self.n_classes_)
        if self.objective not in (None, params["objective"]):
            raise ValueError(f"objective is chosen from the classes ({params['objective']} for {self.n_classes_}); "
                             f"leave it None, got {self.objective!r}")
        return params

    def predict_proba(self, X):
        """(n, n_classes) class probabilities, columns ordered as ``classes_``."""
        X = self._margin_input(X)
        p = self.booster_.predict(X)
        return np.column_stack([1.0 - p, p]) if self.n_classes_ == 2 else p

    def predict(self, X):
        """(n,) predicted labels from ``classes_``."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]
