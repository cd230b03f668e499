"""Booster: a trained forest that predicts, explains its features and saves itself as JSON.

JSON model format (``format = "gbdt-engine-model"``, ``version = 1``)::

    {"format": ..., "version": 1, "objective": "binary:logistic" | ... | "custom",
     "num_class": K, "num_feature": F, "feature_names": [...] | null,
     "base_margin": [K floats], "best_iteration": int | null, "best_score": float | null,
     "trees": [{"class": k, "feature": [...], "threshold": [...], "bin_threshold": [...],
                "default_left": [...], "left": [...], "right": [...], "value": [...],
                "gain": [...], "cover": [...]}, ...]}

Trees are stored round by round, K per round (one per class). Floats are written with Python's
shortest round-trip repr, so save -> load -> predict is bit-identical; thresholds of splits that
send every value left are ``Infinity``.
"""
import json

import numpy as np

from bindings.dataset import Dataset, as_feature_matrix
from gbdt.objectives import squeeze, transform
from gbdt.threads import using_threads
from gbdt.tree import Forest, Tree

__all__ = ["Booster"]

FORMAT = "gbdt-engine-model"
VERSION = 1
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
        X = data.data if isinstance(data, Dataset) else as_feature_matrix(data)[0]
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

    def predict(self, data, output_margin=False, iteration_range=None):
        """Predictions for ``data`` (Dataset, numpy, pandas or pyarrow; NaN = missing).

        Returns (n,) values/probabilities, or (n, K) class probabilities for ``multi:softprob``;
        ``output_margin=True`` gives the raw margin (n,) or (n, K). ``iteration_range=(a, b)``
        uses rounds a..b-1 only (the base margin is always included); by default all rounds, or
        rounds 0..best_iteration after early stopping (as LightGBM does); (0, 0) forces all.
        """
        X = self._features(data)
        first, stop = self._tree_range(iteration_range)
        margin = np.empty((X.shape[0], self.num_class))
        margin[:] = self.base_margin
        with using_threads(self.n_jobs):
            self.forest.predict(X, margin, first, stop)
        return squeeze(margin) if output_margin else transform(self.objective, margin)

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
            "format": FORMAT, "version": VERSION, "objective": self.objective, "num_class": self.num_class,
            "num_feature": self.num_feature, "feature_names": self.feature_names,
            "base_margin": self.base_margin.tolist(), "best_iteration": self.best_iteration,
            "best_score": self.best_score, "trees": trees,
        }

    def save_model(self, path):
        """Write the model as JSON (see the module docstring for the format)."""
        with open(path, "w") as fh:
            json.dump(self.to_dict(), fh)

    @classmethod
    def from_dict(cls, doc, source="model"):
        """Rebuild a Booster from ``to_dict()`` output; anything else raises ValueError."""
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"{source} is not a gbdt-engine model (missing format={FORMAT!r})")
        if doc.get("version") != VERSION:
            raise ValueError(f"{source} has model format version {doc.get('version')}, expected {VERSION}")
        booster = cls(doc["objective"], doc["num_class"], doc["num_feature"], doc["base_margin"],
                      doc["feature_names"])
        booster.best_iteration = doc["best_iteration"]
        booster.best_score = doc["best_score"]
        for entry in doc["trees"]:
            booster.trees.append(Tree.from_lists(**{k: v for k, v in entry.items() if k != "class"}))
            booster.tree_class.append(entry["class"])
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
