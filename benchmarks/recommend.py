"""Benchmark: collaborative filtering, ours vs the peers on the same data and the same threads.

- implicit ALS (conjugate gradient, 3 steps) vs ``implicit``: seconds per iteration on a synthetic
  problem shaped like 1M users x 100k items x 100M interactions (100 per user, Zipf item
  popularity), users and items scaled by ``--scale`` to fit the machine (0.05: 50k x 5k x 5M).
  implicit gets the confidence matrix 1 + alpha r with its alpha=1, so both solve one problem.
- the same ALS on MovieLens latest-small (every rating an interaction);
- biased MF SGD epoch vs Surprise's SVD, and kNN (KNNWithMeans, pearson_baseline) fit vs
  Surprise, on MovieLens latest-small (single-threaded on both sides: Surprise's SGD is
  sequential; ours with n_jobs=1 is the same sequential pass).

Prints seconds and the ratio ours / peer (< 1: we are faster); writes a bar chart. Timings are
the best of interleaved repeats, so load from other processes hurts both sides alike.

    python -m benchmarks.recommend --scale 0.05 --threads 2
"""
import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit warns (and slows) with threaded BLAS

import numpy as np  # noqa: E402

from bindings.recommend import (ImplicitALS, Interactions, KNNRecommender, MatrixFactorization,  # noqa: E402
                                load_movielens_ratings)


def synthetic_interactions(scale, per_user=100, seed=0):
    """(users, items) of ~per_user interactions per user, item popularity Zipf(1) over items."""
    rng = np.random.default_rng(seed)
    n_users, n_items = int(1_000_000 * scale), int(100_000 * scale)
    popularity = 1.0 / np.arange(1, n_items + 1)
    items = rng.choice(n_items, size=n_users * per_user, p=popularity / popularity.sum())
    return np.repeat(np.arange(n_users), per_user), rng.permutation(n_items)[items]


def als_seconds(x, factors, iterations, threads, rounds):
    """Fastest iteration (s) of ours and of implicit, fits interleaved so a busy machine slows
    both alike; the minimum is the least disturbed measurement."""
    from implicit.cpu.als import AlternatingLeastSquares

    ImplicitALS(n_factors=factors, n_iterations=1, random_state=0).fit(x)  # compile untimed
    confidence = x.to_scipy()
    confidence.data = (1.0 + 2.0 * confidence.data).astype(np.float32)
    ours, theirs = [], []
    for seed in range(rounds):
        model = ImplicitALS(n_factors=factors, reg=0.05, alpha=2.0, n_iterations=iterations,
                            random_state=seed, n_jobs=threads).fit(x)
        ours.extend(model.iteration_seconds_)
        peer = AlternatingLeastSquares(factors=factors, regularization=0.05, alpha=1.0,
                                       iterations=iterations, random_state=seed,
                                       num_threads=threads)
        peer.fit(confidence, show_progress=False,
                 callback=lambda it, sec, loss: theirs.append(sec))
    return min(ours), min(theirs)


def movielens_seconds():
    """(ours, Surprise) seconds for one SVD epoch and one KNNWithMeans fit on all of MovieLens
    (best of 2, interleaved)."""
    import pandas as pd
    from surprise import SVD, Dataset, KNNWithMeans, Reader

    users, movies, ratings, _ = load_movielens_ratings()
    x = Interactions.from_table(users, movies, ratings)
    frame = pd.DataFrame({"u": users, "i": movies, "r": ratings})
    trainset = Dataset.load_from_df(frame, Reader(rating_scale=(0.5, 5))).build_full_trainset()
    MatrixFactorization(n_epochs=1, n_jobs=1).fit(x)
    KNNRecommender(similarity="pearson_baseline", centered=True).fit(x)  # compile untimed
    rows = {}
    for name, ours, theirs, per in [
        ("SVD epoch (SGD, 100 factors)", lambda: MatrixFactorization(n_epochs=10, n_jobs=1).fit(x),
         lambda: SVD(n_epochs=10).fit(trainset), 10),
        ("KNNWithMeans fit (users)", lambda: KNNRecommender(
            similarity="pearson_baseline", centered=True, n_jobs=1).fit(x),
         lambda: KNNWithMeans(sim_options={"name": "pearson_baseline"}, verbose=False).fit(
             trainset), 1),
    ]:
        times = [np.inf, np.inf]
        for _ in range(2):
            for side, fit in enumerate((ours, theirs)):
                start = time.perf_counter()
                fit()
                times[side] = min(times[side], (time.perf_counter() - start) / per)
        rows[name] = times
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--skip-movielens", action="store_true")
    parser.add_argument("--figure", default=os.path.join(os.path.dirname(__file__), "figures",
                                                         "recommend.png"))
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    users, items = synthetic_interactions(args.scale)
    x = Interactions.from_table(users, items, duplicates="sum")
    print(f"implicit ALS: {x.shape[0]} users x {x.shape[1]} items x {x.nnz} interactions, "
          f"{args.factors} factors, {args.threads} threads")
    rows = {"ALS iteration, synthetic": als_seconds(x, args.factors, args.iterations,
                                                    args.threads, args.rounds)}
    if not args.skip_movielens:
        users, movies, _, _ = load_movielens_ratings()
        rows["ALS iteration, MovieLens"] = als_seconds(Interactions.from_table(users, movies),
                                                       args.factors, args.iterations,
                                                       args.threads, args.rounds)
        rows.update(movielens_seconds())
    print(f"{'task':30s} {'ours s':>9s} {'peer s':>9s} {'ours/peer':>9s}")
    for name, (ours, peer) in rows.items():
        print(f"{name:30s} {ours:9.4f} {peer:9.4f} {ours / peer:9.2f}")

    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = list(rows)
    ratios = [rows[n][0] / rows[n][1] for n in names]
    ax.barh(names, ratios, color="tab:blue")
    ax.axvline(1.0, color="k", lw=1)
    ax.set_xlabel("time ours / time peer (implicit, Surprise); < 1 is faster")
    ax.set_title(f"Collaborative filtering, {args.threads} threads")
    fig.tight_layout()
    os.makedirs(os.path.dirname(args.figure), exist_ok=True)
    fig.savefig(args.figure, dpi=120)
    print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
