"""ONNX export: ONNX Runtime predicts what we predict (float32 tolerance) for every objective,
with NaN, categorical splits and rows on the thresholds; the estimators convert alone and inside
scikit-learn pipelines through skl2onnx."""
import numpy as np
import onnxruntime as ort
import pytest
import skl2onnx
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from bindings import GBDTClassifier, GBDTRegressor
from bindings.onnx import to_onnx
from tests.bindings.export_testing import OBJECTIVES, codes, features, fit, frame_of, threshold_rows


def run(model, X, input_name="input"):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {input_name: X.astype(np.float32)})


def assert_float32_close(theirs, ours):
    np.testing.assert_allclose(theirs, ours, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(ours).max()))


@pytest.mark.parametrize("objective", list(OBJECTIVES))
def test_onnx_runtime_predicts_what_we_predict(objective):
    booster, frame = fit(objective, categorical=True)
    X = np.vstack([codes(frame), threshold_rows(booster, codes(frame))])
    (predictions,) = run(to_onnx(booster, n_features=5), X)
    ours = booster.predict(frame_of(X))
    assert predictions.shape == (X.shape[0], 1 if ours.ndim == 1 else ours.shape[1])
    assert_float32_close(predictions.reshape(ours.shape), ours)


@pytest.mark.parametrize("classes", [["no", "yes"], [3, 5, 7]])
def test_classifier_outputs_labels_and_probabilities(classes):
    frame = features()
    X = codes(frame)
    y = np.asarray(classes, dtype=object if isinstance(classes[0], str) else None)[
        np.digitize(np.nan_to_num(X[:, 0]), [-0.5, 0.5][:len(classes) - 1])]
    classifier = GBDTClassifier(n_estimators=4, max_depth=3, n_jobs=1).fit(X, y)
    labels, probabilities = run(to_onnx(classifier), X)
    np.testing.assert_array_equal(labels, classifier.predict(X))
    assert_float32_close(probabilities, classifier.predict_proba(X))


def test_pipelines_convert_with_skl2onnx():
    """Scaling then our estimator, converted by skl2onnx. Scored on fresh rows: ONNX's Scaler
    rounds differently from scikit-learn's, which could move a training value (our thresholds
    are training values) across its threshold."""
    X, X_new = codes(features()).astype(np.float32), codes(features(seed=5)).astype(np.float32)
    y = np.digitize(np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]), [-1, 1])
    pipeline = Pipeline([("scale", StandardScaler()), ("gbdt", GBDTClassifier(n_estimators=4, n_jobs=1))]).fit(X, y)
    labels, probabilities = run(skl2onnx.to_onnx(pipeline, X[:1], options={"zipmap": False}), X_new, "X")
    np.testing.assert_array_equal(labels, pipeline.predict(X_new))
    assert_float32_close(probabilities, pipeline.predict_proba(X_new))
    regressor = GBDTRegressor(n_estimators=4, n_jobs=1, objective="reg:quantileerror", quantile_alpha=[0.2, 0.8])
    pipeline = Pipeline([("scale", StandardScaler()), ("gbdt", regressor)]).fit(X, np.nan_to_num(X[:, 0]))
    (variable,) = run(skl2onnx.to_onnx(pipeline, X[:1]), X_new, "X")
    assert_float32_close(variable, pipeline.predict(X_new))


def test_bad_models_are_refused():
    booster, _ = fit("reg:squarederror")
    with pytest.raises(ValueError, match="n_features must be the model's number of features, 4; got 3"):
        to_onnx(booster, n_features=3)
    with pytest.raises(NotFittedError):
        to_onnx(GBDTClassifier())
    with pytest.raises(TypeError, match="model must be a Booster, GBDTClassifier or GBDTRegressor"):
        to_onnx(booster.to_dict())
    untrained = fit("reg:squarederror", rounds=0)[0]
    with pytest.raises(ValueError, match="untrained booster"):
        to_onnx(untrained)
