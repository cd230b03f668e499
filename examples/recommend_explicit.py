"""Explicit ratings on MovieLens: kNN vs MF next to Surprise on the same 5 folds, and a tuned MF
whose RMSE is measured by nested cross-validation.

1. Default settings, ours and Surprise's, on the same 5 folds (no tuning).
2. Tuning: on each of the 5 outer training folds, ``GridSearchCV`` picks solver, factors and
   regularization by 3 inner folds, refits, and is scored on the outer test fold it never saw.
   The mean outer RMSE is the honest number for "tune, then predict"; the left panels plot the
   inner validation RMSE of outer fold 1 (the grid search's own view).

MovieLens latest-small is GroupLens data (University of Minnesota), used here for research under
its licence (see bindings/recommend/data/movielens-latest-small/README.txt): no endorsement implied, no
commercial use. Writes examples/figures/recommend_explicit.png and prints the RMSEs (about three
minutes of CPU on 2 cores).

    python examples/recommend_explicit.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from surprise import SVD, BaselineOnly, Dataset, KNNBaseline, KNNWithMeans, Reader  # noqa: E402

from bindings.cv import make_folds  # noqa: E402
from bindings.recommend import (BaselinePredictor, GridSearchCV, Interactions, KNNRecommender,  # noqa: E402
                                MatrixFactorization, cross_validate, load_movielens_ratings, rmse)
from bindings.recommend import KNNBaseline as OurKNNBaseline  # noqa: E402
from _figures import save_figure  # noqa: E402

SCALE = (0.5, 5.0)
GRID = [  # SGD: Surprise's SVD schedule; ALS converges in fewer, costlier epochs
    {"solver": ["sgd"], "n_epochs": [20], "n_factors": [10, 50, 100], "reg": [0.02, 0.05, 0.1]},
    {"solver": ["als"], "n_epochs": [8], "n_factors": [10, 20, 50], "reg": [0.1, 0.2, 0.3]},
]


def models(seed):
    """(name, ours, Surprise's counterpart) for the side-by-side comparison, default settings."""
    knn_options = {"name": "pearson_baseline", "user_based": True}
    return [
        ("baseline", BaselinePredictor(rating_scale=SCALE), BaselineOnly(verbose=False)),
        ("user kNN", KNNRecommender(similarity="pearson_baseline", centered=True,
                                    rating_scale=SCALE),
         KNNWithMeans(sim_options=knn_options, verbose=False)),
        ("kNN baseline", OurKNNBaseline(similarity="pearson_baseline", rating_scale=SCALE),
         KNNBaseline(sim_options=knn_options, verbose=False)),
        ("MF (SGD)", MatrixFactorization(random_state=seed, rating_scale=SCALE, n_jobs=1),
         SVD(random_state=seed)),
    ]


def side_by_side(x, folds):
    """{(name, 'ours' | 'Surprise'): [RMSE per fold]} with default settings on the same folds."""
    users, movies, ratings = x.to_table()
    scores = {}
    for seed, (train, test) in enumerate(folds):
        fold = x.subset(train)
        frame = pd.DataFrame({"u": users[train], "i": movies[train], "r": ratings[train]})
        trainset = Dataset.load_from_df(frame, Reader(rating_scale=SCALE)).build_full_trainset()
        for name, ours, theirs in models(seed):
            pred = ours.fit(fold).predict(users[test], movies[test])
            scores.setdefault((name, "ours"), []).append(rmse(ratings[test], pred))
            theirs.fit(trainset)
            est = [theirs.predict(u, i).est for u, i in zip(users[test], movies[test])]
            scores.setdefault((name, "Surprise"), []).append(rmse(ratings[test], est))
    return scores


def main():
    users, movies, ratings, _ = load_movielens_ratings()
    x = Interactions.from_table(users, movies, ratings)
    folds = make_folds(x.nnz, 5, seed=0)
    scores = side_by_side(x, folds)

    search = GridSearchCV(MatrixFactorization(random_state=0, rating_scale=SCALE, n_jobs=1),
                          GRID, cv=3, random_state=0)
    nested = cross_validate(search, x, measures=("rmse",), cv=folds, return_models=True)
    inner = nested["models"][0].cv_results_  # outer fold 1's grid search

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, solver in zip(axes[:2], ("sgd", "als")):
        points = [(p["reg"], p["n_factors"], score) for p, score in
                  zip(inner["params"], inner["mean_test_rmse"]) if p["solver"] == solver]
        for reg in sorted({p[0] for p in points}):
            line = sorted((f, s) for r, f, s in points if r == reg)
            ax.plot(*zip(*line), "o-", label=f"reg={reg}")
        ax.set_xscale("log")
        ax.set_xlabel("factors")
        ax.set_ylabel("validation RMSE (3 inner folds)")
        ax.set_title(f"biased MF, {solver.upper()}: outer fold 1's grid")
        ax.legend()
    names = [name for name, _, _ in models(0)]
    width = 0.38
    for shift, who in ((-width / 2, "ours"), (width / 2, "Surprise")):
        heights = [np.mean(scores[n, who]) for n in names]
        axes[2].bar(np.arange(len(names)) + shift, heights, width, label=who)
    axes[2].bar(len(names), nested["test_rmse"].mean(), width, color="tab:green",
                label="ours, tuned (nested CV)")
    axes[2].set_xticks(np.arange(len(names) + 1), names + ["MF tuned"], rotation=10)
    axes[2].set_ylim(0.8, 0.95)
    axes[2].set_ylabel("5-fold mean test RMSE")
    axes[2].set_title("same folds: ours vs Surprise")
    axes[2].legend(fontsize=8)
    save_figure(fig, "recommend_explicit")

    print("5-fold test RMSE on MovieLens latest-small, default settings (same folds for every model):")
    for (name, who), values in scores.items():
        print(f"  {name:12s} {who:9s} {np.mean(values):.4f} +- {np.std(values):.4f}")
    print("tuned MF, nested CV (grid chosen on 3 inner folds of each outer training fold):")
    for fold, model in enumerate(nested["models"]):
        print(f"  outer fold {fold + 1}: chosen {model.best_params_}, inner validation RMSE "
              f"{model.best_score_:.4f}, outer test RMSE {nested['test_rmse'][fold]:.4f}")
    print(f"  outer test RMSE {nested['test_rmse'].mean():.4f} +- {nested['test_rmse'].std():.4f}")


if __name__ == "__main__":
    main()
