"""Python API of the engine: Dataset, Booster, train, scikit-learn estimators.

The estimators are imported on first use (``bindings.GBDTClassifier``): importing scikit-learn
takes ~1.3 s, most of a cold start for users of ``train`` alone.
"""
import importlib

from bindings.booster import Booster
from bindings.callbacks import EarlyStopping, EvaluationMonitor, TrainingCallback
from bindings.cv import cv
from bindings.dataset import Dataset
from bindings.train import train

__all__ = ["Dataset", "Booster", "train", "cv", "GBDTClassifier", "GBDTRegressor", "GBDTRanker", "TrainingCallback",
           "EarlyStopping", "EvaluationMonitor"]
_ESTIMATORS = {"GBDTClassifier": "bindings.sklearn", "GBDTRegressor": "bindings.sklearn",
               "GBDTRanker": "bindings.ranker"}


def __getattr__(name):
    if name in _ESTIMATORS:
        return getattr(importlib.import_module(_ESTIMATORS[name]), name)
    raise AttributeError(f"module 'bindings' has no attribute {name!r}")
