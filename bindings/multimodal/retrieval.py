"""Ranking by embedding similarity: top-k retrieval over a fixed gallery and recall@k of matched pairs.

Similarity is the dot product (the cosine for the unit-norm embeddings of
:meth:`bindings.multimodal.model.MultimodalNet.encode_text` / ``encode_image``), computed in float64.
Ties are never resolved in the query's favour: :func:`retrieve` orders tied gallery items by index, and
:func:`recall_at_k` ranks every tied wrong item ahead of the right one, so a collapsed model whose
embeddings are all equal scores 0 at every k < N (below chance k / N), never 1.
"""
import numpy as np

from bindings.validation import check_int

__all__ = ["retrieve", "recall_at_k"]


def _as_embeddings(value, name):
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(value).__name__}")
    if not np.issubdtype(value.dtype, np.floating):
        raise TypeError(f"{name} must be a float array (n, embed_dim), got dtype {value.dtype}")
    if value.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n, embed_dim), got shape {value.shape}")
    return value.astype(np.float64, copy=False)


def retrieve(query_embeddings, gallery_embeddings, k):
    """The ``k`` gallery items most similar to each query, best first.

    query_embeddings : (Q, E) float.  gallery_embeddings : (G, E) float, the fixed gallery.
    k : int in [1, G].
    Returns (indices (Q, k) int64 into the gallery, scores (Q, k) float64 similarities); tied scores are
    ordered by gallery index.
    """
    query = _as_embeddings(query_embeddings, "query_embeddings")
    gallery = _as_embeddings(gallery_embeddings, "gallery_embeddings")
    if query.shape[1] != gallery.shape[1]:
        raise ValueError(f"query_embeddings has embed_dim {query.shape[1]} but gallery_embeddings has "
                         f"{gallery.shape[1]}; encode both with the same model")
    k = check_int(k, "k", low=1, high=gallery.shape[0])
    scores = query @ gallery.T
    # a stable sort of the negated scores keeps tied items in gallery order
    indices = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return indices, np.take_along_axis(scores, indices, axis=1)


def recall_at_k(text_emb, image_emb, ks=(1, 5, 10)):
    """Retrieval recall@k in both directions for N matched pairs (row i of each is one pair).

    text_emb, image_emb : (N, E) float.  ks : positive ints.
    The rank of the true partner is the number of other candidates scoring at least as high (ties count
    against the query); recall@k is the fraction of queries whose partner has rank < k.
    Returns {"text_to_image@k": float, "image_to_text@k": float for each k in ks}.
    """
    text = _as_embeddings(text_emb, "text_emb")
    image = _as_embeddings(image_emb, "image_emb")
    if text.shape != image.shape:
        raise ValueError(f"text_emb and image_emb must both be (N, E) with row i a pair, got {text.shape} and "
                         f"{image.shape}")
    ks = [check_int(k, "ks", low=1) for k in ks]
    sim = text @ image.T
    true = np.diag(sim)
    # ">=" counts the partner itself once: subtract it
    ranks = {"text_to_image": (sim >= true[:, None]).sum(axis=1) - 1,
             "image_to_text": (sim >= true[None, :]).sum(axis=0) - 1}
    return {f"{direction}@{k}": float((rank < k).mean()) for direction, rank in ranks.items() for k in ks}
