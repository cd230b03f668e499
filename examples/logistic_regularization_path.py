"""L1 sparsity vs L2 shrinkage along the regularization path, on scikit-learn's breast cancer set.

30 features; 70% of the rows (stratified) train, 30% are held out. On the training rows: the coefficient
paths for C from 1e-3 to 1e2 (small C = strong penalty, warm-started fits), and LogisticRegressionCV
choosing C for L1 and for L2 by 5-fold log loss. With L1 the coefficients enter one at a time and most
stay exactly zero at moderate C; with L2 every coefficient is non-zero and all shrink smoothly towards
zero as C falls. The key numbers are how many features the cross-validated L1 model keeps, against L2's
30, and both models' log loss on the held-out rows.

Writes examples/figures/logistic_regularization_path.png.

    python examples/logistic_regularization_path.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402

from bindings.cv import make_folds  # noqa: E402
from bindings.logistic import LogisticRegressionCV, log_loss, regularization_path  # noqa: E402


def main():
    data = load_breast_cancer()
    y = data.target
    # a stratified 70/30 split: folds 0-2 of 10 unshuffled stratified folds are held out
    folds = make_folds(y.size, 10, label=y, stratified=True, shuffle=False)
    test = np.zeros(y.size, dtype=bool)
    for _, held_out in folds[:3]:
        test[held_out] = True
    mean, std = data.data[~test].mean(axis=0), data.data[~test].std(axis=0)
    X = (data.data - mean) / std  # scaled with the training rows' statistics only
    X_train, y_train, X_test, y_test = X[~test], y[~test], X[test], y[test]
    Cs = np.logspace(-3, 2, 30)
    paths = {ratio: regularization_path(X_train, y_train, Cs, l1_ratio=ratio, tol=1e-8, max_iter=500)[1][:, 0]
             for ratio in (1.0, 0.0)}
    chosen = {ratio: LogisticRegressionCV(Cs=Cs[::3], l1_ratios=(ratio,), cv=5, scoring="neg_log_loss", tol=1e-8,
                                          max_iter=500).fit(X_train, y_train) for ratio in (1.0, 0.0)}
    l1, l2 = chosen[1.0], chosen[0.0]
    kept = int(np.sum(l1.coef_ != 0))
    test_loss = {ratio: log_loss(y_test, model.predict_proba(X_test)[:, 1]) for ratio, model in chosen.items()}

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, ratio, name in zip(axes[:2], (1.0, 0.0), ("L1", "L2")):
        ax.plot(Cs, paths[ratio], lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("C (inverse regularization strength)")
        ax.set_ylabel("coefficient")
        shape = "sparse, features enter one by one" if ratio == 1.0 else "dense, smooth shrinkage"
        ax.set_title(f"{name} path (training rows): {shape}")
        ax.axvline(chosen[ratio].C_, color="grey", ls=":", lw=1)
    axes[2].plot(Cs, np.sum(paths[1.0] != 0, axis=1), label="L1", color="tab:red")
    axes[2].plot(Cs, np.sum(paths[0.0] != 0, axis=1), label="L2", color="tab:blue")
    ax2 = axes[2].twinx()
    ax2.plot(l1.Cs_, -l1.scores_.mean(axis=0)[0], "o--", color="tab:red", ms=3, label="L1 CV log loss")
    ax2.plot(l2.Cs_, -l2.scores_.mean(axis=0)[0], "s--", color="tab:blue", ms=3, label="L2 CV log loss")
    ax2.set_ylabel("5-fold log loss (LogisticRegressionCV)")
    axes[2].set_xscale("log")
    axes[2].set_xlabel("C")
    axes[2].set_ylabel("non-zero coefficients")
    handles = axes[2].get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    axes[2].legend(handles, [h.get_label() for h in handles], loc="upper center", bbox_to_anchor=(0.5, -0.15),
                   ncol=4, fontsize=8)
    fig.tight_layout()
    fig.savefig("examples/figures/logistic_regularization_path.png", dpi=110)
    print(f"L1, C={l1.C_:.3g} chosen by 5-fold CV: {kept} of {X.shape[1]} features kept; "
          f"L2, C={l2.C_:.3g}: {int(np.sum(l2.coef_ != 0))}")
    print(f"held-out log loss ({int(test.sum())} rows): L1 {test_loss[1.0]:.4f}, L2 {test_loss[0.0]:.4f}")


if __name__ == "__main__":
    main()
