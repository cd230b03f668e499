"""L1 sparsity vs L2 shrinkage along the regularization path, on scikit-learn's breast cancer set.

30 standardised features, C from 1e-3 to 1e2 (small C = strong penalty), warm-started fits.
With L1 the coefficients enter one at a time and most stay exactly zero at moderate C; with L2
every coefficient is non-zero and all shrink smoothly towards zero as C falls. The key number is
how many features L1 keeps at the C where its 5-fold log loss is best, against L2's 30.

Writes examples/figures/logistic_regularization_path.png.

    python examples/logistic_regularization_path.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402

from bindings.cv import make_folds  # noqa: E402
from bindings.logistic import LogisticRegression, log_loss, regularization_path  # noqa: E402


def cross_validated_log_loss(X, y, penalty, C, folds):
    """Mean held-out log loss over the folds."""
    losses = []
    for train, test in folds:
        model = LogisticRegression(penalty, C=C, tol=1e-6, max_iter=500).fit(X[train], y[train])
        losses.append(log_loss(y[test], model.predict_proba(X[test])[:, 1]))
    return float(np.mean(losses))


def main():
    data = load_breast_cancer()
    X = (data.data - data.data.mean(axis=0)) / data.data.std(axis=0)
    y = data.target
    Cs = np.logspace(-3, 2, 30)
    paths = {penalty: regularization_path(X, y, Cs, penalty=penalty, tol=1e-8, max_iter=500)[1][:, 0]
             for penalty in ("l1", "l2")}
    folds = make_folds(y.size, 5, label=y, stratified=True, shuffle=False)
    grid = Cs[::3]
    cv = {penalty: [cross_validated_log_loss(X, y, penalty, C, folds) for C in grid] for penalty in ("l1", "l2")}
    best_C = grid[int(np.argmin(cv["l1"]))]
    kept = int(np.sum(LogisticRegression("l1", C=best_C, tol=1e-8, max_iter=500).fit(X, y).coef_ != 0))

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, penalty in zip(axes[:2], ("l1", "l2")):
        ax.plot(Cs, paths[penalty], lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("C (inverse regularization strength)")
        ax.set_ylabel("coefficient")
        shape = "sparse, features enter one by one" if penalty == "l1" else "dense, smooth shrinkage"
        ax.set_title(f"{penalty.upper()} path: {shape}")
        ax.axvline(best_C, color="grey", ls=":", lw=1)
    axes[2].plot(Cs, np.sum(paths["l1"] != 0, axis=1), label="L1", color="tab:red")
    axes[2].plot(Cs, np.sum(paths["l2"] != 0, axis=1), label="L2", color="tab:blue")
    ax2 = axes[2].twinx()
    ax2.plot(grid, cv["l1"], "o--", color="tab:red", ms=3, label="L1 CV log loss")
    ax2.plot(grid, cv["l2"], "s--", color="tab:blue", ms=3, label="L2 CV log loss")
    ax2.set_ylabel("5-fold log loss")
    axes[2].set_xscale("log")
    axes[2].set_xlabel("C")
    axes[2].set_ylabel("non-zero coefficients")
    axes[2].legend(loc="upper left")
    ax2.legend(loc="upper center")
    fig.tight_layout()
    fig.savefig("examples/figures/logistic_regularization_path.png", dpi=110)
    print(f"best L1 C={best_C:.3g}: {kept} of {X.shape[1]} features kept "
          f"(CV log loss L1 {min(cv['l1']):.4f}, L2 {min(cv['l2']):.4f})")


if __name__ == "__main__":
    main()
