"""Python API of the engine: Dataset, Booster, train, scikit-learn estimators."""
from bindings.booster import Booster
from bindings.callbacks import EarlyStopping, EvaluationMonitor, TrainingCallback
from bindings.cv import cv
from bindings.dataset import Dataset
from bindings.sklearn import GBDTClassifier, GBDTRegressor
from bindings.train import train

__all__ = ["Dataset", "Booster", "train", "cv", "GBDTClassifier", "GBDTRegressor", "TrainingCallback",
           "EarlyStopping", "EvaluationMonitor"]
