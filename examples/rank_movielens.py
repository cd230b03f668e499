"""Two-stage recommendation on MovieLens: ImplicitALS proposes 100 candidate movies per user, and a
GBDTRanker (rank:ndcg) re-ranks them on features (ALS score and rank, item popularity and mean
rating, genre overlap with the user's history, the user's rating count and mean rating, how
recently the item was rated).

Honest split, by time: each user's last 10 ratings are the test set, never seen before the final
report. The ranker learns from the 10 ratings before those: ALS is fitted on the older history,
its candidates labelled 1 when the user rated them next; its number of trees is chosen by early
stopping on NDCG@10 of a fifth of the users held out. For the report ALS is refitted on the whole
training history (the older ratings plus those 10), and both the ALS order and the re-ranked order of
each test user's 100 candidates are scored on the test ratings (NDCG@10 and recall@10 with every
test rating relevant, found among the candidates or not).

MovieLens latest-small is GroupLens data (University of Minnesota), used here for research under
its licence (see its README.txt): no endorsement implied, no commercial use.

    python -m examples.rank_movielens [movielens-latest-small folder]

Without a folder it reads the copy shipped in ``bindings/recommend/data`` (``bindings.recommend``'s loader).

Writes examples/figures/rank_movielens.png and prints the metrics.
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bindings import GBDTRanker  # noqa: E402
from bindings.recommend import (ImplicitALS, Interactions, leave_last_out, load_movielens_genres,  # noqa: E402
                                load_movielens_ratings, ranking_metrics)

FIGURE = os.path.join(os.path.dirname(__file__), "figures", "rank_movielens.png")
ALS = {"n_factors": 64, "reg": 0.05, "alpha": 10.0, "n_iterations": 15, "random_state": 0}
CANDIDATES, K = 100, 10
FEATURES = ["ALS score", "ALS rank", "item log count", "item mean rating", "genre overlap", "user log count",
            "user mean rating", "days since item last rated"]


class Genres:
    """The 0/1 genre vector of each movie id (movies.csv)."""

    def __init__(self, root):
        ids, _, matrix = load_movielens_genres(root)
        order = np.argsort(ids)
        self.ids, self.matrix = ids[order], matrix[order]

    def of(self, movies):
        """(n, G) genres of the movie ids ``movies`` (n,), each row scaled to unit length."""
        rows = self.matrix[np.searchsorted(self.ids, movies)]
        return rows / (np.linalg.norm(rows, axis=1, keepdims=True) + 1e-12)


def candidates_and_features(users, movies, ratings, times, genres):
    """ALS fitted on the (users, movies) history; (candidate users (m,), candidate movies (m, C),
    features (m * C, F)) for every user of the history, candidates in ALS order."""
    model = ImplicitALS(**ALS).fit(Interactions.from_table(users, movies))
    user_ids = np.unique(users)
    cand, score = model.recommend(user_ids, CANDIDATES)
    movie_ids, movie_rows = np.unique(movies, return_inverse=True)
    count = np.bincount(movie_rows)
    # item mean rating shrunk towards the global mean by 10 pseudo-ratings
    mean = (np.bincount(movie_rows, ratings) + 10 * ratings.mean()) / (count + 10)
    last_rated = np.zeros(movie_ids.shape[0])
    np.maximum.at(last_rated, movie_rows, times)
    user_rows = np.searchsorted(user_ids, users)
    user_count = np.bincount(user_rows)
    user_mean = np.bincount(user_rows, ratings) / user_count
    user_last = np.zeros(user_ids.shape[0])
    np.maximum.at(user_last, user_rows, times)
    profile = np.zeros((user_ids.shape[0], genres.matrix.shape[1]))
    np.add.at(profile, user_rows, genres.of(movies))
    profile /= np.linalg.norm(profile, axis=1, keepdims=True) + 1e-12
    flat = cand.reshape(-1)
    known = np.searchsorted(movie_ids, flat)  # candidates are movies of the history
    row = np.repeat(np.arange(user_ids.shape[0]), CANDIDATES)
    features = np.column_stack([
        score.reshape(-1), np.tile(np.arange(CANDIDATES), user_ids.shape[0]), np.log1p(count[known]), mean[known],
        (profile[row] * genres.of(flat)).sum(axis=1), np.log(user_count[row]), user_mean[row],
        (user_last[row] - last_rated[known]) / 86400.0])
    return user_ids, cand, features


def labels(user_ids, cand, target_users, target_movies):
    """(m * C,) 1.0 where the candidate is one of the user's target movies."""
    wanted = set(zip(target_users.tolist(), target_movies.tolist()))
    return np.array([(u, m) in wanted for u, m in zip(np.repeat(user_ids, CANDIDATES).tolist(),
                                                     cand.reshape(-1).tolist())], dtype=np.float64)


def report(user_ids, ordered, test_users, test_movies):
    """NDCG@K, recall@K of the lists ``ordered`` (m, C) of movie ids against every test rating."""
    rows = np.searchsorted(user_ids, test_users)
    keep = (rows < user_ids.shape[0]) & (user_ids[np.minimum(rows, user_ids.shape[0] - 1)] == test_users)
    codes_of = {m: c for c, m in enumerate(np.unique(np.concatenate([ordered.reshape(-1), test_movies])))}
    recommended = np.vectorize(codes_of.get)(ordered[:, :K])
    metrics = ranking_metrics(recommended, rows[keep], np.array([codes_of[m] for m in test_movies[keep]]), K)
    return metrics["ndcg"], metrics["recall"]


def main(root=None):
    users, movies, ratings, times = load_movielens_ratings(root)
    genres = Genres(root)
    train, test = leave_last_out(users, times, n_last=10)
    older, target = (train[part] for part in leave_last_out(users[train], times[train], n_last=10))

    # stage 1: the ranker learns which of ALS's candidates (from older ratings) the user rates next
    fit_users, fit_cand, fit_X = candidates_and_features(users[older], movies[older], ratings[older], times[older],
                                                         genres)
    fit_y = labels(fit_users, fit_cand, users[target], movies[target])
    has_target = np.isin(fit_users, users[target])
    rng = np.random.default_rng(0)
    valid_users = rng.random(fit_users.shape[0]) < 0.2
    rows_of = np.repeat(np.arange(fit_users.shape[0]), CANDIDATES)
    part = {name: has_target[rows_of] & (valid_users[rows_of] == v) for name, v in (("train", False), ("valid", True))}
    ranker = GBDTRanker(n_estimators=500, learning_rate=0.05, max_depth=4, eval_metric=f"ndcg@{K}",
                        early_stopping_rounds=30, random_state=0)
    ranker.fit(fit_X[part["train"]], fit_y[part["train"]], qid=rows_of[part["train"]],
               eval_set=[(fit_X[part["valid"]], fit_y[part["valid"]])], eval_qid=[rows_of[part["valid"]]])
    print(f"ranker: {ranker.best_iteration_ + 1} trees (early stopping on validation users' NDCG@{K} = "
          f"{max(ranker.evals_result_['validation_0'][f'ndcg@{K}']):.4f})")

    # stage 2: ALS on the whole training history, candidates re-ranked, scored on the test ratings
    user_ids, cand, X = candidates_and_features(users[train], movies[train], ratings[train], times[train], genres)
    scores = ranker.predict(X).reshape(cand.shape)
    reranked = np.take_along_axis(cand, np.argsort(-scores, axis=1, kind="stable"), axis=1)
    results = {"ALS": report(user_ids, cand, users[test], movies[test]),
               "ALS + GBDTRanker": report(user_ids, reranked, users[test], movies[test])}
    held = labels(user_ids, cand, users[test], movies[test]).sum() / test.shape[0]
    for name, (ndcg, recall) in results.items():
        print(f"{name:18s} NDCG@{K} {ndcg:.4f}  recall@{K} {recall:.4f}")
    importance = ranker.feature_importances_

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    names = list(results)
    for j, metric in enumerate((f"NDCG@{K}", f"recall@{K}")):
        axes[0].bar(np.arange(2) + 0.35 * j, [results[n][j] for n in names], 0.35, label=metric)
    axes[0].set_xticks(np.arange(2) + 0.175, names)
    axes[0].set_title(f"each user's last 10 ratings, {CANDIDATES} ALS candidates")
    axes[0].legend()
    axes[1].barh(FEATURES, importance)
    axes[1].set_title("re-ranker feature importance (total gain)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(FIGURE), exist_ok=True)
    fig.savefig(FIGURE, dpi=120)
    print(f"figure: {FIGURE}; the candidates hold {held:.3f} of the test ratings")
    return results


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
