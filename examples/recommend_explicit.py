"""Explicit ratings on MovieLens: RMSE against factors and regularization, and kNN vs MF vs ALS
next to Surprise on the same 5 folds.

MovieLens latest-small is GroupLens data (University of Minnesota), used here for research under
its licence (see bindings/recommend/data/movielens-latest-small/README.txt): no endorsement implied, no
commercial use. Writes examples/figures/recommend_explicit.png and prints the 5-fold RMSEs.

    python examples/recommend_explicit.py
"""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from surprise import SVD, BaselineOnly, Dataset, KNNWithMeans, Reader  # noqa: E402

from bindings.cv import make_folds  # noqa: E402
from bindings.recommend import (BaselinePredictor, Interactions, KNNRecommender, MatrixFactorization,  # noqa: E402
                                load_movielens_ratings, rmse)

SCALE = (0.5, 5.0)
FIGURE = os.path.join(os.path.dirname(__file__), "figures", "recommend_explicit.png")


def models(seed):
    """(name, ours, Surprise's counterpart or None) for the side-by-side comparison."""
    knn_options = {"name": "pearson_baseline", "user_based": True}
    return [
        ("baseline", BaselinePredictor(rating_scale=SCALE), BaselineOnly(verbose=False)),
        ("user kNN", KNNRecommender(similarity="pearson_baseline", user_based=True,
                                    centered=True, rating_scale=SCALE),
         KNNWithMeans(sim_options=knn_options, verbose=False)),
        ("MF (SGD)", MatrixFactorization(random_state=seed, rating_scale=SCALE),
         SVD(random_state=seed)),
        ("MF (ALS)", MatrixFactorization(n_factors=50, n_epochs=8, solver="als", reg=0.1,
                                         random_state=seed, rating_scale=SCALE), None),
    ]


def main():
    users, movies, ratings, _ = load_movielens_ratings()
    folds = make_folds(ratings.size, 5, seed=0)
    scores = {}
    for seed, (train, test) in enumerate(folds):
        x = Interactions.from_table(users[train], movies[train], ratings[train])
        frame = pd.DataFrame({"u": users[train], "i": movies[train], "r": ratings[train]})
        trainset = Dataset.load_from_df(frame, Reader(rating_scale=SCALE)).build_full_trainset()
        for name, ours, theirs in models(seed):
            pred = ours.fit(x).predict(users[test], movies[test])
            scores.setdefault((name, "ours"), []).append(rmse(ratings[test], pred))
            if theirs is not None:
                theirs.fit(trainset)
                est = [theirs.predict(u, i).est for u, i in zip(users[test], movies[test])]
                scores.setdefault((name, "Surprise"), []).append(rmse(ratings[test], est))

    train, test = folds[0]
    x = Interactions.from_table(users[train], movies[train], ratings[train])
    factor_grid, reg_grid = [5, 20, 50], [0.02, 0.1, 0.2]
    grid = {}
    for solver in ("sgd", "als"):
        for reg in reg_grid:
            for n_factors in factor_grid:
                model = MatrixFactorization(n_factors=n_factors, solver=solver, reg=reg,
                                            n_epochs=20 if solver == "sgd" else 8,
                                            random_state=0, rating_scale=SCALE).fit(x)
                grid[solver, reg, n_factors] = rmse(ratings[test],
                                                    model.predict(users[test], movies[test]))

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, solver in zip(axes[:2], ("sgd", "als")):
        for reg in reg_grid:
            ax.plot(factor_grid, [grid[solver, reg, f] for f in factor_grid], "o-",
                    label=f"reg={reg}")
        ax.set_xscale("log")
        ax.set_xlabel("factors")
        ax.set_ylabel("test RMSE (fold 1)")
        ax.set_title(f"biased MF, {solver.upper()}")
        ax.legend()
    names = [name for name, _, _ in models(0)]
    width = 0.38
    for shift, who in ((-width / 2, "ours"), (width / 2, "Surprise")):
        heights = [np.mean(scores.get((n, who), [np.nan])) for n in names]
        axes[2].bar(np.arange(len(names)) + shift, heights, width, label=who)
    axes[2].set_xticks(np.arange(len(names)), names)
    axes[2].set_ylim(0.8, 0.95)
    axes[2].set_ylabel("5-fold mean test RMSE")
    axes[2].set_title("same folds: ours vs Surprise")
    axes[2].legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(FIGURE), exist_ok=True)
    fig.savefig(FIGURE, dpi=110)

    print("5-fold RMSE on MovieLens latest-small (same folds for every model):")
    for (name, who), values in scores.items():
        print(f"  {name:10s} {who:9s} {np.mean(values):.4f} +- {np.std(values):.4f}")
    best = min(grid, key=grid.get)
    print(f"best grid point (fold 1): solver={best[0]} reg={best[1]} factors={best[2]} "
          f"RMSE={grid[best]:.4f}")
    print(f"wrote {FIGURE}")


if __name__ == "__main__":
    main()
