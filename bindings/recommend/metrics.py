"""Accuracy of rating predictions (RMSE, MAE) and of top-k lists (precision, recall, MAP, NDCG).

Ranking metrics are per user, then averaged over users with at least one relevant item:
- precision@k = hits / k; recall@k = hits / n_relevant
- MAP@k: mean over users of  sum_{rank<=k, hit} precision@rank / min(k, n_relevant)
- NDCG@k: sum_{hit} 1 / log2(rank + 1) divided by the same sum for min(k, n_relevant) hits.
"""
import numpy as np

from bindings.validation import as_vector

__all__ = ["rmse", "mae", "ranking_metrics", "evaluate_ranking"]


def _errors(y_true, y_pred):
    y_true = as_vector(y_true, "y_true").astype(np.float64)
    y_pred = as_vector(y_pred, "y_pred").astype(np.float64)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"y_true and y_pred must be non-empty and of equal length; got "
                         f"{y_true.shape[0]} and {y_pred.shape[0]}")
    return y_true - y_pred


def rmse(y_true, y_pred):
    """Root mean squared error of rating predictions."""
    err = _errors(y_true, y_pred)
    return float(np.sqrt(np.mean(err * err)))


def mae(y_true, y_pred):
    """Mean absolute error of rating predictions."""
    return float(np.mean(np.abs(_errors(y_true, y_pred))))


def ranking_metrics(recommended, relevant_users, relevant_items, k=10):
    """Precision, recall, MAP and NDCG at ``k`` averaged over users.

    recommended : (n_users, >= k) int item codes, row r = the ranked list of user r; -1 pads.
    relevant_users, relevant_items : (m,) int, the held-out (row of ``recommended``, item code)
        pairs; rows without any are skipped. Returns a dict of four floats.
    """
    recommended = np.asarray(recommended)
    if recommended.ndim != 2 or recommended.shape[1] < k or k < 1:
        raise ValueError(f"recommended must be 2-D with at least k={k} columns; got shape "
                         f"{recommended.shape}")
    rel_u = as_vector(relevant_users, "relevant_users").astype(np.int64)
    rel_i = as_vector(relevant_items, "relevant_items").astype(np.int64)
    if rel_u.shape != rel_i.shape or (rel_i < 0).any() or (rel_u < 0).any():
        raise ValueError("relevant_users and relevant_items must be equal-length arrays of "
                         "non-negative codes")
    n_users = recommended.shape[0]
    if rel_u.size == 0:
        raise ValueError("no user has a relevant item; nothing to evaluate")
    if rel_u.max() >= n_users:
        raise ValueError(f"relevant_users must be rows of recommended (< {n_users})")
    top = recommended[:, :k].astype(np.int64)
    # (user, item) pairs encoded as one int so membership is one sorted search
    width = int(max(top.max(initial=0), rel_i.max(initial=0))) + 2
    relevant_keys = np.unique(rel_u * width + rel_i)
    keys = np.arange(n_users)[:, None] * width + top
    pos = np.minimum(np.searchsorted(relevant_keys, keys), relevant_keys.size - 1)
    hits = (relevant_keys[pos] == keys) & (top >= 0)
    n_rel = np.bincount(relevant_keys // width, minlength=n_users)
    users = n_rel > 0
    hits, n_rel = hits[users], n_rel[users]
    n_hits = hits.sum(axis=1)
    ranks = np.arange(1, k + 1)
    precision_at_rank = np.cumsum(hits, axis=1) / ranks
    ideal = np.minimum(n_rel, k)
    discounts = 1.0 / np.log2(ranks + 1)
    idcg = np.cumsum(discounts)[ideal - 1]
    return {
        "precision": float(np.mean(n_hits / k)),
        "recall": float(np.mean(n_hits / n_rel)),
        "map": float(np.mean((precision_at_rank * hits).sum(axis=1) / ideal)),
        "ndcg": float(np.mean((hits * discounts).sum(axis=1) / idcg)),
    }


def evaluate_ranking(model, test_users, test_items, k=10, *, filter_already_liked_items=True):
    """Ranking metrics of ``model.recommend`` on held-out (user id, item id) pairs.

    Every test user gets one top-k list; held-out items the model never saw still count as
    relevant (they cannot be hit), so every model is judged on the same denominators.
    """
    test_users = as_vector(test_users, "test_users")
    test_items = as_vector(test_items, "test_items")
    if test_users.shape != test_items.shape:
        raise ValueError("test_users and test_items must have the same length")
    user_ids, rows = np.unique(test_users, return_inverse=True)
    recommended, _ = model.recommend(user_ids, k,
                                     filter_already_liked_items=filter_already_liked_items)
    item_codes = model.interactions_.items.lookup(test_items)
    # an unknown held-out item stays relevant but gets a code no recommendation can have
    unknown = item_codes < 0
    item_codes[unknown] = model.interactions_.shape[1] + np.arange(int(unknown.sum()))
    rec_codes = model.interactions_.items.lookup(recommended.reshape(-1)).reshape(
        recommended.shape)
    return ranking_metrics(rec_codes, rows, item_codes, k)
