"""bindings.multimodal.matching: hard negatives are never the positive and are drawn with the
off-diagonal softmax of the similarities (a brute-force loop), both ways."""
import math

import numpy as np
import pytest

from bindings.multimodal import sample_hard_negatives


def brute_force_probabilities(logits):
    """P[i, j] = exp(logits[i, j]) / sum_{m != i} exp(logits[i, m]) for j != i, 0 on the diagonal."""
    n = len(logits)
    out = np.zeros((n, n))
    for i in range(n):
        total = sum(math.exp(logits[i][m]) for m in range(n) if m != i)
        for j in range(n):
            out[i, j] = 0.0 if j == i else math.exp(logits[i][j]) / total
    return out


def test_negatives_follow_the_softmax_of_the_similarities():
    rng = np.random.default_rng(0)
    n, draws = 5, 20_000
    logits = 2.0 * rng.standard_normal((n, n))
    logits[np.diag_indices(n)] += 5.0  # a confident positive must not be drawn however likely
    counts = {"text": np.zeros((n, n)), "image": np.zeros((n, n))}
    for _ in range(draws):
        negative_text, negative_image = sample_hard_negatives(logits, rng)
        counts["text"][np.arange(n), negative_text] += 1
        counts["image"][np.arange(n), negative_image] += 1
    # negative captions for image i come from column i (captions are rows), negative images from row i
    for kind, expected in (("text", brute_force_probabilities(logits.T)), ("image", brute_force_probabilities(logits))):
        frequency = counts[kind] / draws
        assert np.all(frequency[np.diag_indices(n)] == 0), kind
        sigma = np.sqrt(expected * (1 - expected) / draws)
        assert np.all(np.abs(frequency - expected) <= 5 * sigma + 1e-12), (kind, frequency - expected)


def test_two_pairs_always_swap_and_extreme_logits_stay_finite():
    negative_text, negative_image = sample_hard_negatives(np.array([[1e4, -1e4], [3.0, -1e4]]),
                                                          np.random.default_rng(1))
    np.testing.assert_array_equal(negative_text, [1, 0])
    np.testing.assert_array_equal(negative_image, [1, 0])


def test_bad_logits_are_named():
    for logits in (np.zeros((3, 2)), np.zeros((1, 1)), np.zeros(4)):
        with pytest.raises(ValueError, match="logits must be a square"):
            sample_hard_negatives(logits, np.random.default_rng(0))
