"""Python API of the engine: Dataset, Booster, train, scikit-learn estimators."""
from bindings.booster import Booster
from bindings.callbacks import EarlyStopping, EvaluationMonitor, TrainingCallback
from bindings.dataset import Dataset
from bindings.train import train

__all__ = ["Dataset", "Booster", "train", "TrainingCallback", "EarlyStopping", "EvaluationMonitor"]
