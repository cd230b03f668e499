"""Prediction intervals from quantile regression, next to XGBoost and LightGBM.

Data (bundled, nothing downloaded): statsmodels' Engel food expenditure survey (235 households,
food spending against income: Koenker's classic heteroscedastic example) and scikit-learn's
diabetes progression (442 x 10). Each library fits the 5%, 50% and 95% quantiles
(``reg:quantileerror``; LightGBM's ``quantile`` objective) with the same depth, rate and rounds;
5-fold cross-validation gives every row an out-of-fold prediction. Prints, per data set and library,
the share of rows inside the 90% interval (target 0.90) and the mean pinball loss over the three
quantiles (lower is better); writes examples/figures/quantile_intervals.png (Engel's bands).

    python examples/quantile_intervals.py
"""
import matplotlib

matplotlib.use("Agg")
import lightgbm as lgb  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.metrics import mean_pinball_loss  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402

from _figures import save_figure  # noqa: E402
from bindings import Dataset, train  # noqa: E402

QUANTILES = (0.05, 0.5, 0.95)
DEPTH, RATE, ROUNDS, MIN_ROWS = 2, 0.05, 200, 5


def engel():
    import statsmodels.api as sm

    df = sm.datasets.engel.load_pandas().data
    return df[["income"]].to_numpy(float), df["foodexp"].to_numpy(float)


def fit_predict(library, alpha, X, y, X_new):
    """Predictions (m,) of the alpha-quantile for X_new from a model of one library fitted on X, y."""
    if library == "gbdt-engine":
        params = {"objective": "reg:quantileerror", "quantile_alpha": alpha, "max_depth": DEPTH,
                  "learning_rate": RATE, "min_child_weight": MIN_ROWS}
        return train(params, Dataset(X, y), ROUNDS).predict(X_new)
    if library == "xgboost":
        params = {"objective": "reg:quantileerror", "quantile_alpha": alpha, "max_depth": DEPTH,
                  "learning_rate": RATE, "min_child_weight": MIN_ROWS, "tree_method": "hist"}
        return xgb.train(params, xgb.DMatrix(X, y), ROUNDS).predict(xgb.DMatrix(X_new))
    params = {"objective": "quantile", "alpha": alpha, "max_depth": DEPTH, "num_leaves": 2 ** DEPTH,
              "learning_rate": RATE, "min_data_in_leaf": MIN_ROWS, "verbosity": -1}
    return lgb.train(params, lgb.Dataset(X, y), ROUNDS).predict(X_new)


def out_of_fold(library, X, y):
    """(n, 3) out-of-fold predictions of the three quantiles."""
    pred = np.empty((len(y), len(QUANTILES)))
    for fit_rows, held_out in KFold(5, shuffle=True, random_state=0).split(X):
        for j, alpha in enumerate(QUANTILES):
            pred[held_out, j] = fit_predict(library, alpha, X[fit_rows], y[fit_rows], X[held_out])
    return pred


def report(name, X, y):
    """Prints coverage and pinball loss of every library; returns {library: out-of-fold predictions}."""
    predictions = {}
    for library in ("gbdt-engine", "xgboost", "lightgbm"):
        pred = predictions[library] = out_of_fold(library, X, y)
        coverage = np.mean((y >= pred[:, 0]) & (y <= pred[:, 2]))
        pinball = np.mean([mean_pinball_loss(y, pred[:, j], alpha=a) for j, a in enumerate(QUANTILES)])
        print(f"{name:20s} {library:12s} 90% interval coverage {coverage:.3f}  mean pinball loss {pinball:.3f}")
    return predictions


def main():
    X, y = engel()
    predictions = report("engel (235 x 1)", X, y)
    report("diabetes (442 x 10)", *load_diabetes(return_X_y=True))
    order = np.argsort(X[:, 0])
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), sharey=True)
    for ax, (library, pred) in zip(axes, predictions.items()):
        ax.scatter(X[:, 0], y, s=6, color="grey")
        ax.fill_between(X[order, 0], pred[order, 0], pred[order, 2], alpha=0.3, label="5%-95% (out of fold)")
        ax.plot(X[order, 0], pred[order, 1], label="median")
        ax.set(title=library, xlabel="household income")
        ax.legend(loc="upper left")
    axes[0].set_ylabel("food expenditure")
    save_figure(fig, "quantile_intervals")


if __name__ == "__main__":
    main()
