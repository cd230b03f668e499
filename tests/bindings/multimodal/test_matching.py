"""bindings.multimodal.matching: hard negatives are never the positive nor of its group and are drawn
with the softmax of the similarities over the allowed entries (a brute-force loop), both ways."""
import math

import numpy as np
import pytest

from bindings.multimodal import sample_hard_negatives


def brute_force_probabilities(logits, groups):
    """P[i, j] = exp(logits[i, j]) / sum over allowed m of exp(logits[i, m]) for allowed j, else 0; allowed:
    m != i outside i's group, or every m != i when i's group has no one else."""
    n = len(logits)
    out = np.zeros((n, n))
    for i in range(n):
        allowed = [m for m in range(n) if m != i and groups[m] != groups[i]] or [m for m in range(n) if m != i]
        total = sum(math.exp(logits[i][m]) for m in allowed)
        for j in allowed:
            out[i, j] = math.exp(logits[i][j]) / total
    return out


@pytest.mark.parametrize("groups", [None, [0, 1, 0, 2, 1, 3]])
def test_negatives_follow_the_softmax_of_the_similarities(groups):
    rng = np.random.default_rng(0)
    n, draws = 6, 20_000
    logits = 2.0 * rng.standard_normal((n, n))
    logits[np.diag_indices(n)] += 5.0  # a confident positive must not be drawn however likely
    group_array = np.arange(n) if groups is None else np.array(groups)
    counts = {"text": np.zeros((n, n)), "image": np.zeros((n, n))}
    for _ in range(draws):
        negative_text, negative_image = sample_hard_negatives(logits, rng, None if groups is None else group_array)
        counts["text"][np.arange(n), negative_text] += 1
        counts["image"][np.arange(n), negative_image] += 1
    # negative captions for image i come from column i (captions are rows), negative images from row i
    for kind, expected in (("text", brute_force_probabilities(logits.T, group_array)),
                           ("image", brute_force_probabilities(logits, group_array))):
        frequency = counts[kind] / draws
        assert np.all(frequency[group_array[:, None] == group_array[None, :]] == 0), kind
        sigma = np.sqrt(expected * (1 - expected) / draws)
        assert np.all(np.abs(frequency - expected) <= 5 * sigma + 1e-12), (kind, frequency - expected)


def test_two_pairs_always_swap_and_extreme_logits_stay_finite():
    negative_text, negative_image = sample_hard_negatives(np.array([[1e4, -1e4], [3.0, -1e4]]),
                                                          np.random.default_rng(1))
    np.testing.assert_array_equal(negative_text, [1, 0])
    np.testing.assert_array_equal(negative_image, [1, 0])


def test_a_row_with_only_its_own_group_falls_back_to_every_other_row():
    negative_text, negative_image = sample_hard_negatives(np.zeros((3, 3)), np.random.default_rng(2),
                                                          np.array([5, 5, 5]))
    assert np.all(negative_text != np.arange(3)) and np.all(negative_image != np.arange(3))


def test_bad_logits_are_named():
    with pytest.raises(ValueError, match=r"groups must have shape \(3,\)"):
        sample_hard_negatives(np.zeros((3, 3)), np.random.default_rng(0), np.zeros(2, int))
    for logits in (np.zeros((3, 2)), np.zeros((1, 1)), np.zeros(4)):
        with pytest.raises(ValueError, match="logits must be a square"):
            sample_hard_negatives(logits, np.random.default_rng(0))
