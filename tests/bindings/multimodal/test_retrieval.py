"""bindings.multimodal.retrieval: top-k gallery retrieval and recall@k against brute-force Python twins,
ties resolved against the query (a collapsed model scores at or below chance), and bad input."""
import numpy as np
import pytest

from bindings.multimodal import recall_at_k, retrieve


def brute_force_ranking(query, gallery):
    """Gallery indices of each query, best first, ties by index: a Python sort of (-score, index)."""
    return [[j for _, j in sorted((-float(np.dot(q, g)), j) for j, g in enumerate(gallery))] for q in query]


def brute_force_recall(text, image, k):
    """Recall@k both ways: a query is a hit when fewer than k *other* candidates score >= its partner."""
    n = len(text)
    hits = {"text_to_image": 0, "image_to_text": 0}
    for i in range(n):
        for direction, score in (("text_to_image", lambda a, b: np.dot(text[a], image[b])),
                                 ("image_to_text", lambda a, b: np.dot(image[a], text[b]))):
            ahead = sum(score(i, j) >= score(i, i) for j in range(n) if j != i)
            hits[direction] += ahead < k
    return {f"{d}@{k}": h / n for d, h in hits.items()}


def tied_embeddings(rng, n, e, levels):
    """Embeddings on a coarse grid, so many similarities tie exactly."""
    return rng.integers(-levels, levels + 1, (n, e)).astype(np.float64)


@pytest.mark.parametrize("k", [1, 3, 17])
def test_retrieve_matches_a_brute_force_ranking(k):
    rng = np.random.default_rng(0)
    query, gallery = tied_embeddings(rng, 9, 3, 1), tied_embeddings(rng, 17, 3, 1)
    indices, scores = retrieve(query, gallery, k)
    expected = np.array(brute_force_ranking(query, gallery))[:, :k]
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_array_equal(scores, np.take_along_axis(query @ gallery.T, expected, axis=1))
    assert indices.dtype == np.int64 and scores.dtype == np.float64


@pytest.mark.parametrize("levels", [1, 50])
def test_recall_at_k_matches_a_brute_force_twin(levels):
    # levels 1: heavy ties; 50: almost none
    rng = np.random.default_rng(levels)
    text = tied_embeddings(rng, 30, 4, levels)
    image = text + tied_embeddings(rng, 30, 4, levels)
    for k in (1, 5, 10):
        got = recall_at_k(text, image, ks=(k,))
        assert got == pytest.approx(brute_force_recall(text, image, k), abs=0), k


def test_a_collapsed_model_scores_no_better_than_chance():
    # identical embeddings tie everything: every wrong item ranks ahead of the right one
    n = 20
    same = np.tile([0.6, 0.8], (n, 1))
    recall = recall_at_k(same, same.copy(), ks=(1, 5, 10, n))
    for k in (1, 5, 10):
        assert recall[f"text_to_image@{k}"] <= k / n and recall[f"image_to_text@{k}"] <= k / n
    assert recall[f"text_to_image@{n}"] == 1.0  # every partner is in the whole gallery


def test_recall_of_a_perfect_model_is_one():
    recall = recall_at_k(np.eye(12), np.eye(12), ks=(1,))
    assert recall == {"text_to_image@1": 1.0, "image_to_text@1": 1.0}


def test_bad_input_is_named():
    good = np.zeros((4, 3))
    cases = [
        (lambda: retrieve(good, np.zeros((5, 2)), 1), ValueError, "query_embeddings has embed_dim 3"),
        (lambda: retrieve(good, good, 0), ValueError, "k must be an integer >= 1"),
        (lambda: retrieve(good, good, 5), ValueError, "k must be an integer >= 1 and <= 4"),
        (lambda: retrieve(good, good, 1.5), TypeError, "k must be"),
        (lambda: retrieve([[0.0]], good, 1), TypeError, "query_embeddings must be a numpy array"),
        (lambda: retrieve(good, np.zeros(3), 1), ValueError, "gallery_embeddings must be a 2-D array"),
        (lambda: recall_at_k(good, np.zeros((5, 3))), ValueError, "text_emb and image_emb must both be"),
        (lambda: recall_at_k(good, good, ks=(0,)), ValueError, "ks must be a positive integer"),
        (lambda: recall_at_k(good.astype(int), good), TypeError, "text_emb must be a float array"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
