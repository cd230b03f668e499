"""Logistic regression, probability calibration and decision thresholds: the topic in one import.

``LogisticRegression`` and ``regularization_path`` (:mod:`.regression`), calibration of any
classifier's scores and the calibration metrics (:mod:`.calibration`), ROC / precision-recall curves
and the choice of a decision threshold (:mod:`.thresholds`)::

    from bindings.logistic import LogisticRegression, CalibratedClassifier, tune_threshold
"""
from bindings.logistic.calibration import (CalibratedClassifier, IsotonicCalibrator, SigmoidCalibrator,
                                           brier_score, calibration_curve, expected_calibration_error, log_loss)
from bindings.logistic.regression import LogisticRegression, PerfectSeparationWarning, regularization_path
from bindings.logistic.thresholds import (ThresholdChoice, confusion_at_thresholds, precision_recall_curve,
                                          roc_curve, tune_threshold)

__all__ = [
    "LogisticRegression", "PerfectSeparationWarning", "regularization_path",
    "CalibratedClassifier", "SigmoidCalibrator", "IsotonicCalibrator",
    "calibration_curve", "expected_calibration_error", "brier_score", "log_loss",
    "ThresholdChoice", "confusion_at_thresholds", "roc_curve", "precision_recall_curve", "tune_threshold",
]
