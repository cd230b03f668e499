"""Implicit feedback on MovieLens (every rating is an interaction): ALS vs ``implicit``'s ALS,
BPR and popularity on the same leave-last-10 split, a cold-start curve for new users (precision
against the number of known interactions, through partial_fit_users) and new movies ranked from
their genres (a ridge from genres to factors, or HybridBPR's jointly trained genre embeddings).

MovieLens latest-small is GroupLens data (University of Minnesota), used here for research under
its licence (see bindings/recommend/data/movielens-latest-small/README.txt): no endorsement implied, no
commercial use. Writes examples/figures/recommend_implicit.png and prints precision@10.

    python examples/recommend_implicit.py
"""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from implicit.cpu.als import AlternatingLeastSquares  # noqa: E402

from bindings.recommend import (BPR, FactorRanker, HybridBPR, ImplicitALS, Interactions,  # noqa: E402
                                PopularityRecommender, SideFeatureMap, evaluate_ranking, leave_last_out,
                                load_movielens_genres, load_movielens_ratings, ranking_metrics)

FIGURE = os.path.join(os.path.dirname(__file__), "figures", "recommend_implicit.png")
ALS = {"n_factors": 64, "reg": 0.05, "alpha": 10.0, "n_iterations": 15}


def implicit_package_ranker(x, seed):
    """implicit's ALS with our hyperparameters (confidence 1 + alpha r), ranked by our code."""
    peer = AlternatingLeastSquares(factors=ALS["n_factors"], regularization=ALS["reg"],
                                   alpha=1.0, iterations=ALS["n_iterations"], random_state=seed)
    confidence = x.to_scipy()
    confidence.data = 1.0 + ALS["alpha"] * confidence.data
    peer.fit(confidence, show_progress=False)
    return FactorRanker.from_factors(x, peer.user_factors, peer.item_factors)


def model_comparison(users, movies, times):
    train, test = leave_last_out(users, times, n_last=10)
    x = Interactions.from_table(users[train], movies[train])
    results = {}
    for seed in range(3):
        for name, model in [
            ("popularity", PopularityRecommender().fit(x)),
            ("ALS (ours)", ImplicitALS(random_state=seed, **ALS).fit(x)),
            ("ALS (implicit)", implicit_package_ranker(x, seed)),
            ("BPR (ours)", BPR(n_factors=64, n_epochs=60, random_state=seed).fit(x)),
        ]:
            metrics = evaluate_ranking(model, users[test], movies[test], 10)
            results.setdefault(name, []).append(metrics)
    return {name: {m: np.mean([r[m] for r in runs]) for m in runs[0]}
            for name, runs in results.items()}


def cold_start_curve(users, movies, known_counts):
    """Precision@10 on 10 held-out interactions of 150 users left out of training, given n
    other interactions of theirs through partial_fit_users (n = 0: unknown users, served the
    popularity ranking). Each round replaces the users' histories with their first n."""
    rng = np.random.default_rng(0)
    counts = np.bincount(np.unique(users, return_inverse=True)[1])
    eligible = np.unique(users)[counts >= 10 + max(known_counts)]
    new_users = rng.choice(eligible, 150, replace=False)
    is_new = np.isin(users, new_users)
    model = ImplicitALS(random_state=0, **ALS).fit(
        Interactions.from_table(users[~is_new], movies[~is_new]))
    rng = np.random.default_rng(2)
    # each user's interactions in one random order: the first n are known, the last 10 held out
    shuffled = [movies[rng.permutation(np.flatnonzero(users == user))] for user in new_users]
    held_users = np.repeat(new_users, 10)
    held_movies = np.concatenate([mine[-10:] for mine in shuffled])
    curve = []
    for n_known in known_counts:
        if n_known:
            model.partial_fit_users(np.repeat(new_users, n_known),
                                    np.concatenate([mine[:n_known] for mine in shuffled]))
        curve.append(evaluate_ranking(model, held_users, held_movies, 10)["precision"])
    return curve


def genre_cold_start(users, movies, seeds=(0, 1, 2)):
    """Precision@10 when ranking 300 movies unseen in training, for the users who watched them,
    mean over seeds: ALS or BPR factors with a genre -> factor ridge fitted afterwards
    (SideFeatureMap), HybridBPR (genre and identity embeddings trained jointly, LightFM-style),
    and a random ranking. No setting was tuned on these movies."""
    rng = np.random.default_rng(1)
    movie_ids, _, genres = load_movielens_genres()
    row_of = {m: r for r, m in enumerate(movie_ids)}

    def genres_of(ids):
        return genres[[row_of[m] for m in ids]]

    cold = rng.choice(np.unique(movies), 300, replace=False)
    is_cold = np.isin(movies, cold)
    train = Interactions.from_table(users[~is_cold], movies[~is_cold])
    test_users = np.unique(users[is_cold])
    test_users = test_users[train.users.lookup(test_users) >= 0]
    row_of_user = {u: r for r, u in enumerate(test_users)}
    col_of = {m: c for c, m in enumerate(cold)}
    rel_rows, rel_cols = np.array([(row_of_user[u], col_of[m]) for u, m in
                                   zip(users[is_cold], movies[is_cold]) if u in row_of_user]).T

    def precision(model, cold_factors, cold_bias):
        scores = (model.user_factors_[model.interactions_.users.lookup(test_users)]
                  @ cold_factors.T + cold_bias)
        return ranking_metrics(np.argsort(-scores, axis=1)[:, :10], rel_rows, rel_cols,
                               10)["precision"]

    results = {}
    for seed in seeds:
        for name, model in [("ALS + genre ridge", ImplicitALS(random_state=seed, **ALS)),
                            ("BPR + genre ridge", BPR(n_factors=64, n_epochs=60,
                                                      random_state=seed))]:
            model.fit(train)
            known = model.interactions_.items.ids
            mapping = SideFeatureMap(reg=1.0).fit(model, known, genres_of(known))
            results.setdefault(name, []).append(precision(
                model, *mapping.transform(genres_of(cold))))
        hybrid = HybridBPR(n_factors=64, n_epochs=60, random_state=seed).fit(
            train, item_features=(movie_ids, genres)).add_items(cold, genres_of(cold))
        codes = hybrid.interactions_.items.lookup(cold)
        results.setdefault("HybridBPR", []).append(precision(
            hybrid, hybrid.item_factors_[codes], hybrid.item_bias_[codes]))
        random_lists = np.stack([rng.permutation(cold.size)[:10] for _ in test_users])
        results.setdefault("random", []).append(
            ranking_metrics(random_lists, rel_rows, rel_cols, 10)["precision"])
    return {name: float(np.mean(values)) for name, values in results.items()}


def main():
    users, movies, _, times = load_movielens_ratings()
    comparison = model_comparison(users, movies, times)
    known_counts = [0, 1, 2, 5, 10, 20, 40]
    curve = cold_start_curve(users, movies, known_counts)
    cold_items = genre_cold_start(users, movies)

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    names = list(comparison)
    metric_names = ["precision", "recall", "map", "ndcg"]
    for k, metric in enumerate(metric_names):
        axes[0].bar(np.arange(len(names)) + 0.2 * (k - 1.5),
                    [comparison[n][metric] for n in names], 0.2, label=f"{metric}@10")
    axes[0].set_xticks(np.arange(len(names)), names, rotation=15)
    axes[0].set_title("leave-last-10, mean of 3 seeds")
    axes[0].set_ylim(0, 1.35 * max(comparison[n]["ndcg"] for n in names))
    axes[0].legend(ncol=2, fontsize=8)
    axes[1].plot(known_counts, curve, "o-", label="ALS + partial_fit_users")
    axes[1].axhline(curve[0], color="gray", ls="--", label="popularity (0 known)")
    axes[1].set_xlabel("known interactions of a new user")
    axes[1].set_ylabel("precision@10")
    axes[1].set_title("cold start: new users")
    axes[1].legend()
    axes[2].bar(list(cold_items), list(cold_items.values()),
                color=["tab:blue", "tab:orange", "tab:green", "gray"])
    axes[2].tick_params(axis="x", labelrotation=15)
    axes[2].set_ylabel("precision@10 among 300 cold movies")
    axes[2].set_title("cold start: new movies")
    fig.tight_layout()
    os.makedirs(os.path.dirname(FIGURE), exist_ok=True)
    fig.savefig(FIGURE, dpi=110)

    for name in names:
        print(f"{name:15s} " + "  ".join(f"{m}@10={comparison[name][m]:.4f}"
                                          for m in metric_names))
    ratio = comparison["ALS (ours)"]["precision"] / comparison["ALS (implicit)"]["precision"]
    print(f"ALS precision@10 ours / implicit = {ratio:.3f}")
    print("cold-start precision@10 by known interactions: "
          + ", ".join(f"{n}: {p:.3f}" for n, p in zip(known_counts, curve)))
    print("new movies, precision@10 among 300 cold movies (mean of 3 seeds): "
          + ", ".join(f"{name} {value:.4f}" for name, value in cold_items.items()))
    print(f"wrote {FIGURE}")


if __name__ == "__main__":
    main()
