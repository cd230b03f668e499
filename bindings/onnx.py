"""ONNX export: ``to_onnx(model, n_features)`` builds an ``ai.onnx.ml`` tree ensemble with the
``onnx`` package, and importing this module registers the scikit-learn estimators with
skl2onnx (when installed), so ``skl2onnx.to_onnx(Pipeline([..., GBDTClassifier()]), X)`` converts.

Mapping of our trees (every tree of the rounds ``predict`` uses by default):

- numeric split ``x <= t`` -> ``BRANCH_LEQ`` with the largest float32 at or below ``t``
  (``float32_at_or_below``; ONNX Runtime compares float32 inputs, and no float32 lies between the
  two), NaN to the default side through ``nodes_missing_value_tracks_true``.
- categorical split (category codes in the input column, as our model codes them) -> a chain of
  ``BRANCH_EQ`` nodes, one per category of the left set, each sending its category to the left
  child and the rest down the chain, the last one to the right child; NaN takes the default side
  at every link, so codes outside the set (unknown, negative) go right as in our model.
- leaves -> weights on output ``k`` of the tree (float32), the base margin -> ``base_values``.

Outputs, all float32:

- a ``Booster``: ``predictions`` (N, K), K = 1 except for several classes or quantiles: the
  margin through the objective's link, as ``Booster.predict`` (sigmoid, softmax, exp, the class
  of multi:softmax and binary:hinge; the margin itself otherwise).
- a ``GBDTClassifier``: ``label`` (N,) (its ``classes_``, integers or strings) and
  ``probabilities`` (N, n_classes), as skl2onnx's classifiers.
- a ``GBDTRegressor``: ``variable`` (N, K), as skl2onnx's regressors.
"""
from typing import NamedTuple

import numpy as np

try:
    from onnx import TensorProto, checker, helper
except ImportError:
    raise ImportError("bindings.onnx needs the onnx package: pip install onnx") from None

from bindings.booster import Booster
from bindings.export_common import exported_rounds, float32_at_or_below
from bindings.objectives import objective_named
from bindings.sklearn import GBDTClassifier, GBDTRegressor

__all__ = ["to_onnx"]

ML_DOMAIN = "ai.onnx.ml"
OPSETS = {"": 17, ML_DOMAIN: 3}


class Op(NamedTuple):
    """One ONNX node before it is added to a graph (ours, or skl2onnx's container)."""
    op_type: str
    inputs: list
    outputs: list
    domain: str
    attrs: dict


def _nodes(trees, tree_class):
    """Attributes of the tree ensemble shared by the regressor and the classifier: ``nodes_*``
    of every node and (tree, node, output, weight) of every leaf."""
    nodes = {name: [] for name in ("treeids", "nodeids", "featureids", "values", "modes", "truenodeids",
                                   "falsenodeids", "missing_value_tracks_true")}
    leaves = {"treeids": [], "nodeids": [], "ids": [], "weights": []}

    def add(tree_id, node_id, feature, value, mode, true_id, false_id, nan_true):
        for name, v in zip(nodes, (tree_id, node_id, feature, value, mode, true_id, false_id, nan_true)):
            nodes[name].append(v)

    for t, (tree, k) in enumerate(zip(trees, tree_class)):
        thresholds = float32_at_or_below(tree.threshold)
        next_id = tree.n_nodes  # ids of the chain links after the tree's own nodes
        for j in range(tree.n_nodes):
            f, nan_left = int(tree.feature[j]), int(tree.default_left[j])
            if f < 0:
                add(t, j, 0, 0.0, "LEAF", 0, 0, 0)
                for name, v in zip(leaves, (t, j, int(k), float(tree.value[j]))):
                    leaves[name].append(v)
            elif not tree.is_categorical[j]:
                add(t, j, f, float(thresholds[j]), "BRANCH_LEQ", int(tree.left[j]), int(tree.right[j]), nan_left)
            else:
                codes = tree.left_categories(j)
                if not codes.size:  # an empty set (a loaded model): codes all go right, NaN by its default
                    codes = [np.nan]
                links = [j] + list(range(next_id, next_id + len(codes) - 1))
                next_id += len(codes) - 1
                for link, code, false_id in zip(links, codes, links[1:] + [int(tree.right[j])]):
                    add(t, link, f, float(code), "BRANCH_EQ", int(tree.left[j]), false_id, nan_left)
    return {f"nodes_{name}": values for name, values in nodes.items()}, leaves


def _regressor(trees, tree_class, n_outputs, base, x, margin):
    nodes, leaves = _nodes(trees, tree_class)
    return Op("TreeEnsembleRegressor", [x], [margin], ML_DOMAIN, {
        **nodes, "target_treeids": leaves["treeids"], "target_nodeids": leaves["nodeids"],
        "target_ids": leaves["ids"], "target_weights": leaves["weights"], "n_targets": n_outputs,
        "base_values": [float(b) for b in base], "aggregate_function": "SUM", "post_transform": "NONE"})


def _link_ops(objective, margin, out, fresh):
    """Ops from the margin (N, K) to ``out``: the prediction of ``objective`` (``Booster.predict``)."""
    link = objective_named(objective).link
    if link == "logit":
        return [Op("Sigmoid", [margin], [out], "", {})]
    if objective == "multi:softprob":
        return [Op("Softmax", [margin], [out], "", {"axis": 1})]
    if objective == "multi:softmax":
        index = fresh("class_index")
        return [Op("ArgMax", [margin], [index], "", {"axis": 1, "keepdims": 1}),
                Op("Cast", [index], [out], "", {"to": TensorProto.FLOAT})]
    if link == "log":
        return [Op("Exp", [margin], [out], "", {})]
    if objective == "binary:hinge":  # class 1 where the margin is above 0: relu(sign(margin))
        sign = fresh("sign")
        return [Op("Sign", [margin], [sign], "", {}), Op("Relu", [sign], [out], "", {})]
    return [Op("Identity", [margin], [out], "", {})]


def _prediction_width(booster):
    """Columns of ``Booster.predict`` as (N, K): one class for multi:softmax, else one per output."""
    return 1 if booster.objective == "multi:softmax" else booster.num_class


def _booster_ops(booster, x, out, fresh):
    """Ops from input ``x`` (N, F) float to ``out`` (N, K): ``booster``'s predictions."""
    trees, tree_class = exported_rounds(booster, "ONNX")
    margin = fresh("margin")
    return [_regressor(trees, tree_class, booster.num_class, booster.base_margin, x, margin),
            *_link_ops(booster.objective, margin, out, fresh)]


def _class_labels(classes):
    """(attribute name, labels): ``classlabels_int64s`` or ``classlabels_strings`` of ``classes_``."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iub" or (classes.dtype.kind == "f" and (classes == np.round(classes)).all()):
        return "classlabels_int64s", [int(c) for c in classes]
    if classes.dtype.kind in "OU" and all(isinstance(c, str) for c in classes):
        return "classlabels_strings", [str(c) for c in classes]
    raise ValueError(f"ONNX classifiers label classes with integers or strings; classes_ holds {classes.dtype} "
                     "values; fit on integer or string labels")


def _classifier_ops(estimator, x, label, probabilities):
    """Ops from input ``x`` to a GBDTClassifier's ``label`` (N,) and ``probabilities`` (N, C).
    Two classes: one score per row through a logistic, which ONNX Runtime reads as the second
    class's probability when every leaf names class 0; more: one score per class, softmax."""
    booster = estimator.booster_
    trees, tree_class = exported_rounds(booster, "ONNX")
    nodes, leaves = _nodes(trees, tree_class)
    key, labels = _class_labels(estimator.classes_)
    return [Op("TreeEnsembleClassifier", [x], [label, probabilities], ML_DOMAIN, {
        **nodes, "class_treeids": leaves["treeids"], "class_nodeids": leaves["nodeids"],
        "class_ids": leaves["ids"], "class_weights": leaves["weights"], key: labels,
        "base_values": [float(b) for b in booster.base_margin],
        "post_transform": "LOGISTIC" if estimator.n_classes_ == 2 else "SOFTMAX"})]


def _model_ops(model, x, outputs, fresh):
    """Ops from input ``x`` to the output names ``outputs`` of a Booster ([predictions]),
    GBDTRegressor ([variable]) or fitted GBDTClassifier ([label, probabilities])."""
    if isinstance(model, GBDTClassifier):
        return _classifier_ops(model, x, *outputs)
    booster = model.booster_ if isinstance(model, GBDTRegressor) else model
    return _booster_ops(booster, x, outputs[0], fresh)


def _outputs(model):
    """[(name, element type, shape)] of the graph of ``model``."""
    if isinstance(model, GBDTClassifier):
        key, _ = _class_labels(model.classes_)
        label = TensorProto.INT64 if key == "classlabels_int64s" else TensorProto.STRING
        return [("label", label, [None]), ("probabilities", TensorProto.FLOAT, [None, model.n_classes_])]
    if isinstance(model, GBDTRegressor):
        return [("variable", TensorProto.FLOAT, [None, _prediction_width(model.booster_)])]
    return [("predictions", TensorProto.FLOAT, [None, _prediction_width(model)])]


def to_onnx(model, n_features=None):
    """An ONNX ``ModelProto`` computing ``model``'s predictions from the float32 input ``input``
    (N, n_features) (see the module docstring for the outputs).

    model : a trained ``Booster``, ``GBDTClassifier`` or ``GBDTRegressor``.
    n_features : the model's number of features (None: taken from the model).
    Raises TypeError for another model, ValueError for an untrained one or another width, and
    scikit-learn's NotFittedError for an estimator not fitted.
    """
    if not isinstance(model, (Booster, GBDTClassifier, GBDTRegressor)):
        raise TypeError(f"model must be a Booster, GBDTClassifier or GBDTRegressor, got {type(model).__name__}")
    if not isinstance(model, Booster):
        model._check_fitted()
    booster = model if isinstance(model, Booster) else model.booster_
    if n_features is not None and n_features != booster.num_feature:
        raise ValueError(f"n_features must be the model's number of features, {booster.num_feature}; "
                         f"got {n_features}")
    outputs = _outputs(model)
    ops = _model_ops(model, "input", [name for name, _, _ in outputs], lambda name: name)
    graph = helper.make_graph(
        [helper.make_node(op.op_type, op.inputs, op.outputs, domain=op.domain, **op.attrs) for op in ops],
        "gbdt_engine", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, booster.num_feature])],
        [helper.make_tensor_value_info(name, kind, shape) for name, kind, shape in outputs])
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in OPSETS.items()],
                                   producer_name="gbdt-engine")
    checker.check_model(onnx_model)
    return onnx_model


def _convert(scope, operator, container):
    """skl2onnx converter of our estimators: the ops of ``to_onnx`` on skl2onnx's variable names."""
    ops = _model_ops(operator.raw_operator, operator.inputs[0].full_name,
                     [v.full_name for v in operator.outputs], scope.get_unique_variable_name)
    for op in ops:
        # skl2onnx would pick the newest ai.onnx.ml version, in which these operators are deprecated
        version = OPSETS[ML_DOMAIN] if op.domain == ML_DOMAIN else None
        container.add_node(op.op_type, op.inputs, op.outputs, op_domain=op.domain, op_version=version,
                           name=scope.get_unique_operator_name(op.op_type), **op.attrs)


def _regressor_shape(operator):
    """skl2onnx shape calculator of GBDTRegressor: (N, K) float."""
    from skl2onnx.common.data_types import FloatTensorType

    width = _prediction_width(operator.raw_operator.booster_)
    operator.outputs[0].type = FloatTensorType([operator.inputs[0].get_first_dimension(), width])


def _register_with_skl2onnx():
    """Register the estimators' converters with skl2onnx, when it is installed."""
    try:
        from skl2onnx import update_registered_converter
        from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
    except ImportError:
        return
    update_registered_converter(GBDTClassifier, "GBDTEngineClassifier", calculate_linear_classifier_output_shapes,
                                _convert, options={"nocl": [True, False], "zipmap": [True, False, "columns"]})
    update_registered_converter(GBDTRegressor, "GBDTEngineRegressor", _regressor_shape, _convert)


_register_with_skl2onnx()
