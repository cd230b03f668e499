"""Main job: train this engine and XGBoost on real data sets, print test AUC and train time side by side.

Data (bundled, nothing downloaded): scikit-learn's breast cancer set (569 x 30) and statsmodels'
Fair affairs survey (6366 x 8, label: any affair). Same parameters, same threads, same split.
Writes examples/figures/compare_xgboost.png (ROC curves) and prints one line per data set.

    python examples/compare_xgboost.py
"""
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from _figures import save_figure  # noqa: E402
from bindings import Dataset, train  # noqa: E402

PARAMS = {"objective": "binary:logistic", "max_depth": 4, "learning_rate": 0.05, "max_bin": 256,
          "subsample": 0.8, "colsample_bytree": 0.8, "reg_lambda": 1.0}
ROUNDS = 300
THREADS = 2


def fair_affairs():
    import statsmodels.api as sm

    df = sm.datasets.fair.load_pandas().data
    return df.drop(columns="affairs").to_numpy(float), (df["affairs"] > 0).to_numpy(float)


def compare(name, X, y, ax):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    t = time.perf_counter()
    ours = train({**PARAMS, "n_jobs": THREADS}, Dataset(Xtr, ytr), ROUNDS)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    theirs = xgb.train({**PARAMS, "tree_method": "hist", "nthread": THREADS}, xgb.DMatrix(Xtr, ytr), ROUNDS)
    t_xgb = time.perf_counter() - t
    p_ours, p_xgb = ours.predict(Xte), theirs.predict(xgb.DMatrix(Xte))
    auc_ours, auc_xgb = roc_auc_score(yte, p_ours), roc_auc_score(yte, p_xgb)
    for label, p, auc in (("gbdt-engine", p_ours, auc_ours), ("xgboost", p_xgb, auc_xgb)):
        fpr, tpr, _ = roc_curve(yte, p)
        ax.plot(fpr, tpr, label=f"{label} AUC={auc:.4f}")
    ax.set(title=f"{name} ({X.shape[0]}x{X.shape[1]})", xlabel="false positive rate", ylabel="true positive rate")
    ax.legend(loc="lower right")
    print(f"{name:14s} AUC ours {auc_ours:.4f}  xgboost {auc_xgb:.4f}  |  train s ours {t_ours:.2f}  "
          f"xgboost {t_xgb:.2f}  ({ROUNDS} rounds, depth {PARAMS['max_depth']}, {THREADS} threads)")


def main():
    train(PARAMS, Dataset(np.random.default_rng(0).standard_normal((200, 3)), np.arange(200) % 2), 2)  # compile
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    compare("breast cancer", *load_breast_cancer(return_X_y=True), axes[0])
    compare("fair affairs", *fair_affairs(), axes[1])
    save_figure(fig, "compare_xgboost")


if __name__ == "__main__":
    main()
