"""Monotone constraints: partial dependence with and without them, next to XGBoost's.

Data: y rises with x0 overall (with a wiggle and noise that unconstrained trees follow) and does
not depend monotonically on x1. The figure shows the average prediction along a grid of x0 for a
free model, a model with ``monotone_constraints=(1, 0)``, and XGBoost with the same constraint;
prints the largest drop along x0 of each and their test RMSE.

    python examples/monotone_constraints.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402

from _figures import save_figure  # noqa: E402
from bindings import Dataset, train  # noqa: E402


def make(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 2))
    y = X[:, 0] + 0.8 * np.sin(3 * X[:, 0]) + np.cos(2 * X[:, 1]) + rng.normal(0, 0.7, n)
    return X, y


def partial_dependence(predict, X, grid):
    """Mean prediction over the rows of X with x0 set to each grid value."""
    return np.array([predict(np.column_stack([np.full(len(X), g), X[:, 1]])).mean() for g in grid])


def main():
    X, y = make(20_000, 0)
    Xt, yt = make(20_000, 1)
    params = {"objective": "reg:squarederror", "max_depth": 5, "learning_rate": 0.1}
    free = train({**params, "n_jobs": 2}, Dataset(X, y), 100)
    constrained = train({**params, "n_jobs": 2, "monotone_constraints": (1, 0)}, Dataset(X, y), 100)
    theirs = xgb.train({**params, "tree_method": "hist", "nthread": 2, "monotone_constraints": "(1,0)"},
                       xgb.DMatrix(X, y), 100)
    models = {"free": free.predict, "monotone (ours)": constrained.predict,
              "monotone (XGBoost)": lambda Z: theirs.predict(xgb.DMatrix(Z))}
    grid = np.linspace(-3, 3, 121)
    fig, ax = plt.subplots(figsize=(6, 4))
    rows = X[:500]
    for name, predict in models.items():
        curve = partial_dependence(predict, rows, grid)
        along = np.array([predict(np.column_stack([grid, np.full(grid.size, r)])) for r in rows[:100, 1]])
        worst = -np.diff(along, axis=1).min()
        rmse = np.sqrt(np.mean((predict(Xt) - yt) ** 2))
        print(f"{name:20s} largest drop along x0 {max(worst, 0.0):.4f}, test RMSE {rmse:.4f}")
        ax.plot(grid, curve, label=name)
    ax.set_xlabel("x0")
    ax.set_ylabel("mean prediction")
    ax.set_title("partial dependence on x0")
    ax.legend()
    save_figure(fig, "monotone_constraints")


if __name__ == "__main__":
    main()
