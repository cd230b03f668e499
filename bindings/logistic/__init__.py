"""Logistic regression, probability calibration and decision thresholds: the topic in one import.

``LogisticRegression``, ``regularization_path`` (:mod:`.regression`) with statsmodels-style inference
(:mod:`.inference`), ``LogisticRegressionCV`` (:mod:`.regression_cv`), calibration of any classifier's
scores and the calibration metrics (:mod:`.calibration`), ROC / precision-recall curves and decision
thresholds, fixed or tuned by cross-validation (:mod:`.thresholds`); their folds come from the project's
one splitter, ``bindings.cv.make_folds`` (:mod:`.folds` reads ``cv``)::

    from bindings.logistic import LogisticRegressionCV, CalibratedClassifier, TunedThresholdClassifier
"""
from bindings.logistic.calibration import (CalibratedClassifier, IsotonicCalibrator, SigmoidCalibrator,
                                           TemperatureCalibrator, brier_score, calibration_curve,
                                           expected_calibration_error, log_loss)
from bindings.logistic.inference import LogitSummary, LRTest
from bindings.logistic.regression import LogisticRegression, PerfectSeparationWarning, regularization_path
from bindings.logistic.regression_cv import LogisticRegressionCV
from bindings.logistic.thresholds import (FixedThresholdClassifier, TunedThresholdClassifier,
                                          confusion_at_thresholds, precision_recall_curve, roc_curve)

__all__ = [
    "LogisticRegression", "LogisticRegressionCV", "PerfectSeparationWarning", "regularization_path",
    "LogitSummary", "LRTest",
    "CalibratedClassifier", "SigmoidCalibrator", "IsotonicCalibrator", "TemperatureCalibrator",
    "calibration_curve", "expected_calibration_error", "brier_score", "log_loss",
    "FixedThresholdClassifier", "TunedThresholdClassifier", "confusion_at_thresholds", "roc_curve",
    "precision_recall_curve",
]
