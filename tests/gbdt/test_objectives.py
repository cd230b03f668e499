"""Objective gradients/hessians against finite differences of the losses."""
import numpy as np
import pytest

from gbdt.objectives import base_margin, gradients, transform

rng = np.random.default_rng(0)


def losses(objective, margin, label):
    if objective == "reg:squarederror":
        return 0.5 * (margin[:, 0] - label) ** 2
    if objective == "binary:logistic":
        z = margin[:, 0]
        return np.logaddexp(0, z) - label * z
    logp = margin - np.logaddexp.reduce(margin, axis=1, keepdims=True)
    return -logp[np.arange(len(label)), label.astype(int)]


@pytest.mark.parametrize("objective,k", [("reg:squarederror", 1), ("binary:logistic", 1), ("multi:softprob", 4)])
def test_gradient_matches_finite_difference(objective, k):
    n = 50
    margin = rng.standard_normal((n, k)) * 2
    label = {"reg:squarederror": rng.standard_normal(n), "binary:logistic": rng.integers(0, 2, n).astype(float),
             "multi:softprob": rng.integers(0, k, n).astype(float)}[objective]
    weight = rng.uniform(0.5, 2.0, n)
    gh = np.empty((n, k, 2), dtype=np.float32)
    gradients(objective, margin, label, weight, gh)
    eps = 1e-5
    for c in range(k):
        step = np.zeros_like(margin)
        step[:, c] = eps
        lp, l0, lm = (losses(objective, margin + s, label) for s in (step, 0 * step, -step))
        np.testing.assert_allclose(gh[:, c, 0], weight * (lp - lm) / (2 * eps), rtol=1e-4, atol=1e-5)
        second = weight * (lp - 2 * l0 + lm) / eps**2
        if objective == "multi:softprob":  # XGBoost's hessian is 2x the diagonal curvature
            second = 2 * second
        np.testing.assert_allclose(gh[:, c, 1], second, rtol=1e-2, atol=1e-4)


def test_base_margin_and_transform():
    m = base_margin("binary:logistic", 0.75, 1)
    assert transform("binary:logistic", np.array([m]))[0] == pytest.approx(0.75)
    assert base_margin("reg:squarederror", 0.875, 1)[0] == 0.875
    assert base_margin("multi:softprob", 0.3, 4).tolist() == [0.0] * 4
    p = transform("multi:softprob", rng.standard_normal((5, 3)))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
