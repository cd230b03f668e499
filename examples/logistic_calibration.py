"""Calibrating two of our classifiers: a class-weighted logistic regression and the GBDT.

12,000 rows from a logistic model with interactions (10% positives); train 60%, test 40%.
class_weight="balanced" inflates every probability (its model thinks the classes are 50/50), and
a boosted model with many deep trees over-fits its training log loss into over-confident
probabilities. CalibratedClassifier (5 stratified folds, Platt's sigmoid or isotonic) repairs
both without retraining a different model. The key number is the test expected calibration
error (ECE, 10 bins) before and after.

Writes examples/figures/logistic_calibration.png.

    python examples/logistic_calibration.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bindings.logistic import (CalibratedClassifier, LogisticRegression, brier_score, calibration_curve,  # noqa: E402
                               expected_calibration_error)
from bindings.sklearn import GBDTClassifier  # noqa: E402

N_ROWS = 12_000


def make_data(rng):
    X = rng.standard_normal((N_ROWS, 8))
    margin = X[:, 0] - 0.8 * X[:, 1] + 0.6 * X[:, 2] * X[:, 3] + 0.5 * np.abs(X[:, 4]) - 3.0
    return X, (rng.random(N_ROWS) < 1.0 / (1.0 + np.exp(-margin))).astype(int)


def main():
    rng = np.random.default_rng(0)
    X, y = make_data(rng)
    train, test = np.split(rng.permutation(N_ROWS), [int(0.6 * N_ROWS)])
    models = {"logistic, class_weight='balanced'": LogisticRegression(C=1.0, class_weight="balanced"),
              "GBDT, 100 trees of depth 6": GBDTClassifier(n_estimators=100, learning_rate=0.3, max_depth=6,
                                                           random_state=0)}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    print(f"{'model':<36} {'calibration':<12} {'ECE':>7} {'Brier':>7}")
    for ax, (name, model) in zip(axes, models.items()):
        variants = {"none": model.fit(X[train], y[train])}
        for method in ("sigmoid", "isotonic"):
            variants[method] = CalibratedClassifier(model, method=method, cv=5).fit(X[train], y[train])
        for method, fitted in variants.items():
            proba = fitted.predict_proba(X[test])[:, 1]
            ece = expected_calibration_error(y[test], proba, n_bins=10)
            print(f"{name:<36} {method:<12} {ece:7.4f} {brier_score(y[test], proba):7.4f}")
            frac, mean = calibration_curve(y[test], proba, n_bins=10, strategy="quantile")
            ax.plot(mean, frac, "o-", ms=4, label=f"{method} (ECE, 10 uniform bins: {ece:.3f})")
        ax.plot([0, 1], [0, 1], color="grey", ls=":", label="perfect")
        ax.set_xlabel("mean predicted probability (test, quantile bins)")
        ax.set_ylabel("fraction of positives")
        ax.set_title(name)
        ax.legend()
    fig.tight_layout()
    fig.savefig("examples/figures/logistic_calibration.png", dpi=110)


if __name__ == "__main__":
    main()
