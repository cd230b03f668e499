"""Booster: a trained forest that predicts, explains its predictions and features (TreeSHAP
contributions, leaf ids, importance) and saves itself as JSON (schema in ``bindings.model_format``)
or in other libraries' formats (``bindings.model_export``, ``to_xgboost``, ``to_shap``).
"""
import json

import numpy as np

from bindings.categorical import model_codes, validate_categories
from bindings.dataset import Dataset
from bindings.export_xgboost import to_xgboost
from bindings.features import as_feature_matrix, check_feature_names
from bindings.model_export import save_model_as
from bindings.model_format import FORMAT, VERSION, loss_params_dict, validate_loss_params, validate_model
from bindings.objectives import objective_named, squeeze
from bindings.shap_export import to_shap
from bindings.sparse_input import add_csr_predictions, dense_row_chunks, is_sparse, split_feature_columns
from gbdt.threads import predict_threads, using_threads
from gbdt.traversal import leaf_ids
from gbdt.tree import Forest
from gbdt.treeshap import tree_expectations, tree_shap

__all__ = ["Booster"]

IMPORTANCE_TYPES = ("weight", "gain", "cover", "total_gain", "total_cover")


class Booster:
    """A boosted forest. Build it with ``train``; load it with ``Booster.load_model(path)``."""

    def __init__(self, objective, num_class, num_feature, base_margin, feature_names=None, n_jobs=None):
        self.objective = objective
        self.num_class = num_class
        self.num_feature = num_feature
        self.base_margin = np.asarray(base_margin, dtype=np.float64)
        self.feature_names = feature_names
        self.n_jobs = n_jobs
        self.trees = []
        self.tree_class = []
        self.best_iteration = None
        self.best_score = None
        self.evals_result = {}
        self.categories = {}  # {feature index: category list} of the categorical features
        self.loss_params = None  # the fit's bindings.objectives.LossParams (exports write them); None: unknown
        self._forest = None

    # ----- building ---------------------------------------------------------------------------
    def append_round(self, trees):
        """Add one boosting round: a list of K trees, tree k predicting output column k."""
        self.trees.extend(trees)
        self.tree_class.extend(range(len(trees)))
        self._forest = None

    def truncate(self, n_rounds):
        """Keep the first ``n_rounds`` rounds (used by early stopping)."""
        keep = n_rounds * self.num_class
        del self.trees[keep:], self.tree_class[keep:]
        self._forest = None

    @property
    def forest(self):
        if self._forest is None:
            self._forest = Forest(self.trees, self.tree_class, self.num_class)
        return self._forest

    def num_trees(self):
        """Number of trees (rounds x classes)."""
        return len(self.trees)

    def num_boosted_rounds(self):
        return len(self.trees) // self.num_class

    # ----- prediction -------------------------------------------------------------------------
    def _features(self, data):
        check_feature_names(self.feature_names, data)
        if isinstance(data, Dataset):
            X = data.codes_over(self.categories) if self.categories else data.data
        else:
            X = as_feature_matrix(model_codes(data, self.categories), accept_sparse=True)[0]
        if X.shape[1] != self.num_feature:
            raise ValueError(f"data has {X.shape[1]} features but the model was trained on {self.num_feature}")
        return X

    def _tree_range(self, iteration_range):
        if iteration_range is None and self.best_iteration is not None:
            iteration_range = (0, self.best_iteration + 1)
        if iteration_range is None or tuple(iteration_range) == (0, 0):
            return 0, len(self.trees)
        start, stop = iteration_range
        rounds = self.num_boosted_rounds()
        if not 0 <= start < stop <= rounds:
            raise ValueError(f"iteration_range must satisfy 0 <= start < stop <= {rounds}, got {iteration_range}")
        return start * self.num_class, stop * self.num_class

    def predict(self, data, output_margin=False, iteration_range=None, *, pred_leaf=False, pred_contribs=False):
        """Predictions for ``data`` (Dataset, numpy, pandas, pyarrow or scipy.sparse; NaN = missing).
        Data with feature names (DataFrame columns, a Dataset's names) must have the model's, in
        its order (ValueError naming the unexpected and missing ones); numpy data has none.

        Returns (n,) values/probabilities (the margin for ``binary:logitraw``, the class for
        ``multi:softmax``), or (n, K) class probabilities for ``multi:softprob``;
        ``output_margin=True`` gives the raw margin (n,) or (n, K). ``iteration_range=(a, b)``
        uses rounds a..b-1 only (the base margin is always included); by default all rounds, or
        rounds 0..best_iteration after early stopping (as LightGBM does); (0, 0) forces all.

        ``pred_leaf=True`` returns (n, T) int32: the leaf each row reaches in each of the T trees
        of the range, as a node id within its tree (as XGBoost). ``pred_contribs=True`` returns
        exact TreeSHAP contributions to the margin, (n, F + 1) or (n, K, F + 1) for several
        classes, with the bias (expected margin) in the last column; each row sums to the margin.
        """
        if pred_leaf and pred_contribs:
            raise ValueError("pred_leaf and pred_contribs are exclusive; ask for one of them per call")
        X = self._features(data)
        first, stop = self._tree_range(iteration_range)
        if pred_leaf:
            return self._leaf_ids(X, first, stop)
        if pred_contribs:
            return self._contributions(X, first, stop)
        margin = np.empty((X.shape[0], self.num_class))
        margin[:] = self.base_margin
        if is_sparse(X):  # the trees walk the CSR rows themselves: no dense copy
            with using_threads(predict_threads(self.n_jobs, X.shape[0])):
                add_csr_predictions(self.forest, X, margin, first, stop)
        else:
            self._fill_by_rows(X, margin, lambda block, rows: self.forest.predict(block, rows, first, stop))
        return squeeze(margin) if output_margin else objective_named(self.objective).predict(margin)

    def _fill_by_rows(self, X, out, fill):
        """Call ``fill(block, out_rows)`` over dense row blocks of X with ``n_jobs`` threads; returns out."""
        with using_threads(predict_threads(self.n_jobs, X.shape[0])):
            for lo, block in dense_row_chunks(X):  # sparse X: a bounded dense block at a time
                fill(block, out[lo:lo + block.shape[0]])
        return out

    def _leaf_ids(self, X, first, stop):
        f = self.forest
        out = np.empty((X.shape[0], stop - first), dtype=np.int32)
        X, feature, _ = split_feature_columns(X, f.feature)
        return self._fill_by_rows(X, out, lambda block, rows: leaf_ids(
            block, feature, f.threshold, f.default_left, f.left, f.right, f.cat_begin, f.cat_end, f.cat_bits, f.roots,
            first, rows))

    def _contributions(self, X, first, stop):
        n, n_feature, n_class = X.shape[0], self.num_feature, self.num_class
        out = np.zeros((n, n_class, n_feature + 1))
        out[:, :, n_feature] = self.base_margin
        if stop > first:
            f = self.forest
            cover = np.concatenate([tree.cover for tree in self.trees])
            expected = np.empty(len(self.trees))
            tree_expectations(f.feature, f.left, f.right, f.value, cover, f.roots, expected)
            out[:, :, n_feature] += np.bincount(f.tree_class[first:stop], weights=expected[first:stop],
                                                minlength=n_class)
            depth = int(f.depth[first:stop].max())
            X, feature, columns = split_feature_columns(X, f.feature)

            def fill(block, rows):
                # CSR: contributions of the split features only; the others' are 0
                part = rows if columns is None else np.zeros((block.shape[0], n_class, columns.shape[0] + 1))
                tree_shap(block, feature, f.threshold, f.default_left, f.left, f.right, f.value, cover, f.cat_begin,
                          f.cat_end, f.cat_bits, f.roots, f.tree_class, first, stop, depth, part)
                if columns is not None:
                    rows[:, :, columns] += part[:, :, :-1]

            self._fill_by_rows(X, out, fill)
        return out[:, 0] if n_class == 1 else out

    # ----- importance -------------------------------------------------------------------------
    def get_score(self, importance_type="weight"):
        """Feature importance as {feature name: score}, like ``xgboost.Booster.get_score``.

        weight = number of splits, gain/cover = mean gain/cover per split, total_* = sums.
        Features never used are omitted.
        """
        if importance_type not in IMPORTANCE_TYPES:
            raise ValueError(f"importance_type must be one of {IMPORTANCE_TYPES}, got {importance_type!r}")
        count = np.zeros(self.num_feature)
        gain = np.zeros(self.num_feature)
        cover = np.zeros(self.num_feature)
        for tree in self.trees:
            split = tree.feature >= 0
            np.add.at(count, tree.feature[split], 1)
            np.add.at(gain, tree.feature[split], tree.gain[split])
            np.add.at(cover, tree.feature[split], tree.cover[split])
        with np.errstate(invalid="ignore", divide="ignore"):
            values = {"weight": count, "gain": gain / count, "cover": cover / count,
                      "total_gain": gain, "total_cover": cover}[importance_type]
        names = self.feature_names or [f"f{i}" for i in range(self.num_feature)]
        return {names[i]: float(values[i]) for i in np.nonzero(count)[0]}

    def feature_importances(self, importance_type="gain"):
        """(F,) importance normalised to sum to 1 (zeros when the model has no split)."""
        scores = self.get_score(importance_type)
        names = self.feature_names or [f"f{i}" for i in range(self.num_feature)]
        values = np.array([scores.get(n, 0.0) for n in names])
        total = values.sum()
        return values / total if total > 0 else values

    # ----- model IO ---------------------------------------------------------------------------
    def to_dict(self):
        trees = []
        for tree, k in zip(self.trees, self.tree_class):
            entry = {"class": int(k)}
            entry.update(tree.to_dict())
            trees.append(entry)
        return {
            "format": FORMAT, "version": VERSION, "objective": self.objective, "num_class": int(self.num_class),
            "num_feature": int(self.num_feature),
            "feature_names": None if self.feature_names is None else [str(n) for n in self.feature_names],
            "base_margin": self.base_margin.tolist(), "best_iteration": self.best_iteration,
            "best_score": self.best_score, "trees": trees,
            **({"categories": {str(f): c for f, c in self.categories.items()}} if self.categories else {}),
            **({"loss_params": loss_params_dict(self.loss_params)} if self.loss_params is not None else {}),
        }

    def save_model(self, path, format="json"):
        """Write the model to ``path``, atomically: a temporary file in the same directory
        replaces ``path`` only once it is complete. ``format``: "json" (ours, schema in
        ``bindings.model_format``), "xgboost" (XGBoost's JSON model, ``bindings.export_xgboost``)
        or "lightgbm" (LightGBM's text model, ``bindings.export_lightgbm``)."""
        save_model_as(self, path, format)

    def to_xgboost(self):
        """The model as an ``xgboost.Booster`` that predicts what this one does (``bindings.export_xgboost``)."""
        return to_xgboost(self)

    def to_shap(self):
        """The model as the dict ``shap.TreeExplainer`` takes (``bindings.shap_export``)."""
        return to_shap(self)

    @classmethod
    def from_dict(cls, doc, source="model"):
        """Rebuild a Booster from ``to_dict()`` output; anything else raises ValueError saying what is wrong."""
        trees = validate_model(doc, source)
        booster = cls(doc["objective"], doc["num_class"], doc["num_feature"], doc["base_margin"],
                      doc["feature_names"])
        booster.best_iteration = doc["best_iteration"]
        booster.best_score = doc["best_score"]
        booster.categories = validate_categories(doc.get("categories"), doc["num_feature"], source)
        booster.loss_params = validate_loss_params(doc.get("loss_params"), source)
        booster.trees = [tree for _, tree in trees]
        booster.tree_class = [k for k, _ in trees]
        return booster

    @classmethod
    def load_model(cls, path):
        """Read a model written by ``save_model``; anything else raises ValueError."""
        try:
            with open(path) as fh:
                doc = json.load(fh)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} is not a gbdt-engine JSON model: {exc}") from None
        return cls.from_dict(doc, source=str(path))
