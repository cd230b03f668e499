"""Categorical splits against one-hot encoding and LightGBM when the label depends on a set of categories.

Data: 60 categories (pandas ``category`` column), 20 of them raise the log-odds by 2, plus two
numeric features. At each tree depth the same boosting run is fitted three ways: our categorical
splits (sets of categories sorted by gradient statistics), our trees on a one-hot encoding, and
LightGBM's categorical splits. Plots test accuracy against depth and prints the accuracies at
depth 2, where one-hot trees need many more splits to isolate a set.

    python examples/categorical_splits.py
"""
import matplotlib

matplotlib.use("Agg")
import lightgbm as lgb  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from _figures import save_figure  # noqa: E402
from bindings import Dataset, train  # noqa: E402

N_CATS, ROUNDS = 60, 60
GOOD = np.random.default_rng(42).choice(N_CATS, 20, replace=False)


def make(n, seed):
    rng = np.random.default_rng(seed)
    cat = rng.integers(0, N_CATS, n)
    x = rng.standard_normal((n, 2))
    logit = 2.0 * np.isin(cat, GOOD) - 1.0 + 0.8 * x[:, 0] - 0.5 * x[:, 1]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    frame = pd.DataFrame({"city": pd.Categorical([f"c{v}" for v in cat], categories=[f"c{v}" for v in range(N_CATS)]),
                          "x0": x[:, 0], "x1": x[:, 1]})
    return frame, y


def one_hot(frame):
    return np.column_stack([pd.get_dummies(frame["city"]).to_numpy(float), frame[["x0", "x1"]].to_numpy()])


def main():
    train_frame, y_train = make(20_000, 0)
    test_frame, y_test = make(50_000, 1)
    depths = [1, 2, 3, 4, 6]
    results = {"categorical splits": [], "one-hot": [], "LightGBM categorical": []}
    for depth in depths:
        params = {"objective": "binary:logistic", "max_depth": depth, "learning_rate": 0.1, "n_jobs": 2}
        ours = train(params, Dataset(train_frame, y_train), ROUNDS).predict(test_frame)
        onehot = train(params, Dataset(one_hot(train_frame), y_train), ROUNDS).predict(one_hot(test_frame))
        lgb_params = {"objective": "binary", "max_depth": depth, "num_leaves": 2 ** depth, "learning_rate": 0.1,
                      "verbose": -1, "num_threads": 2}
        theirs = lgb.train(lgb_params, lgb.Dataset(train_frame, y_train), ROUNDS).predict(test_frame)
        for name, p in zip(results, (ours, onehot, theirs)):
            results[name].append(float(((p > 0.5) == y_test).mean()))
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, acc in results.items():
        ax.plot(depths, acc, marker="o", label=name)
    ax.set_xlabel("max_depth")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"label depends on a set of 20 of {N_CATS} categories ({ROUNDS} rounds)")
    ax.legend()
    save_figure(fig, "categorical_splits")
    at2 = {name: acc[depths.index(2)] for name, acc in results.items()}
    print("accuracy at depth 2: " + ", ".join(f"{name} {acc:.4f}" for name, acc in at2.items()))


if __name__ == "__main__":
    main()
