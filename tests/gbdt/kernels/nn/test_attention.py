"""Attention softmax kernels against a naive numpy twin and finite differences."""
import numpy as np
import pytest

from gbdt.kernels.nn.attention import masked_softmax_rows, masked_softmax_rows_backward


def naive_masked_softmax(scores, key_mask, rows_per_batch):
    """Twin of masked_softmax_rows: -inf on masked keys, numpy softmax, all-masked rows set to 0."""
    keep = np.repeat(key_mask, rows_per_batch, axis=0)
    s = np.where(keep, scores, -np.inf)
    top = s.max(axis=1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(top), top, 0.0))
    total = e.sum(axis=1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_rows_matches_naive_twin_with_mask(dtype):
    rng = np.random.default_rng(0)
    scores = (30.0 * rng.standard_normal((6, 5))).astype(dtype)  # large scores: needs the max shift
    key_mask = np.array([[True, True, False, True, False], [False] * 5, [True] * 5])
    out = np.empty_like(scores)
    masked_softmax_rows(scores, key_mask, 2, out)
    np.testing.assert_allclose(out, naive_masked_softmax(scores.astype(np.float64), key_mask, 2),
                               rtol=1e-6 if dtype == np.float32 else 1e-14, atol=1e-7)
    assert (out[2:4] == 0.0).all()  # every key masked: zeros, not NaN
    unmasked = np.empty_like(scores)
    masked_softmax_rows(scores, np.ones((0, 5), np.bool_), 1, unmasked)
    np.testing.assert_allclose(unmasked.sum(axis=1), 1.0, rtol=1e-6)


def test_softmax_rows_backward_matches_directional_finite_differences():
    rng = np.random.default_rng(1)
    scores = rng.standard_normal((4, 6))
    key_mask = np.array([[True, False, True, True, True, False], [True] * 6])
    weights = rng.standard_normal(scores.shape)
    probs = np.empty_like(scores)

    def loss(s):
        masked_softmax_rows(s, key_mask, 2, probs)
        return float((probs * weights).sum())

    loss(scores)
    grad = np.empty_like(scores)
    masked_softmax_rows_backward(probs.copy(), weights, grad)
    h = 1e-6
    for direction in rng.standard_normal((5,) + scores.shape):
        numeric = (loss(scores + h * direction) - loss(scores - h * direction)) / (2 * h)
        assert abs(numeric - (grad * direction).sum()) <= 1e-7 * max(1.0, abs(numeric))
