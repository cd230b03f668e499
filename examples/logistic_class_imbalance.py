"""Class imbalance with 1% positives: class weights vs resampling vs threshold moving.

A logistic model generates 80,000 rows with 10 features and about 1% positives; train 50%,
validation 25%, test 25%. Four ways to act on the rare class, all with the same L2 logistic
regression: none (threshold 0.5), class_weight="balanced", random oversampling of the positives
to 50%, and threshold moving (plain fit, threshold tuned for F1 on the validation split).
Weighting and oversampling move the decision boundary by distorting the probabilities (Brier and
log loss get worse); threshold moving keeps calibrated probabilities and picks the operating point.
The key number is the test F1 of each method.

Writes examples/figures/logistic_class_imbalance.png and prints the table.

    python examples/logistic_class_imbalance.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bindings.logistic import (LogisticRegression, brier_score, log_loss, precision_recall_curve,  # noqa: E402
                               tune_threshold)

N_ROWS, N_FEATURES = 80_000, 10


def make_data(rng):
    X = rng.standard_normal((N_ROWS, N_FEATURES))
    beta = np.linspace(1.2, -0.6, N_FEATURES)
    y = (rng.random(N_ROWS) < 1.0 / (1.0 + np.exp(-(X @ beta - 6.4)))).astype(int)
    return X, y


def confusion_scores(y, predicted):
    tp = np.sum(predicted & (y == 1))
    precision = tp / max(np.sum(predicted), 1)
    recall = tp / np.sum(y == 1)
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return precision, recall, f1


def main():
    rng = np.random.default_rng(0)
    X, y = make_data(rng)
    order = rng.permutation(N_ROWS)
    train, valid, test = np.split(order, [N_ROWS // 2, 3 * N_ROWS // 4])
    plain = LogisticRegression(C=1.0, tol=1e-8).fit(X[train], y[train])
    balanced = LogisticRegression(C=1.0, tol=1e-8, class_weight="balanced").fit(X[train], y[train])
    positives = train[y[train] == 1]
    extra = rng.choice(positives, size=np.sum(y[train] == 0) - positives.size, replace=True)
    oversampled = np.r_[train, extra]
    resampled = LogisticRegression(C=1.0, tol=1e-8).fit(X[oversampled], y[oversampled])
    moved = tune_threshold(y[valid], plain.predict_proba(X[valid])[:, 1], "f1").threshold

    methods = {"none (t = 0.5)": (plain, 0.5), "class_weight='balanced'": (balanced, 0.5),
               "oversample positives": (resampled, 0.5), f"threshold moving (t = {moved:.3f})": (plain, moved)}
    print(f"positives: train {y[train].mean():.2%}, test {y[test].mean():.2%} of {test.size} rows")
    print(f"{'method':<34} {'precision':>9} {'recall':>7} {'F1':>6} {'Brier':>7} {'log loss':>8}")
    rows = {}
    for name, (model, threshold) in methods.items():
        proba = model.predict_proba(X[test])[:, 1]
        precision, recall, f1 = confusion_scores(y[test], proba >= threshold)
        rows[name] = (precision, recall, f1)
        print(f"{name:<34} {precision:9.3f} {recall:7.3f} {f1:6.3f} {brier_score(y[test], proba):7.4f} "
              f"{log_loss(y[test], proba):8.4f}")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    precision, recall, _ = precision_recall_curve(y[test], plain.predict_proba(X[test])[:, 1])
    axes[0].plot(recall, precision, color="grey", label="plain model, all thresholds")
    for (name, (p, r, _)), marker in zip(rows.items(), "osD^"):
        axes[0].plot(r, p, marker, ms=8, label=name)
    axes[0].set_xlabel("recall")
    axes[0].set_ylabel("precision")
    axes[0].set_title("test precision-recall: operating points")
    axes[0].legend(fontsize=8)
    names = list(rows)
    width = 0.25
    for k, metric in enumerate(("precision", "recall", "F1")):
        axes[1].bar(np.arange(len(names)) + (k - 1) * width, [rows[n][k] for n in names], width, label=metric)
    axes[1].set_xticks(np.arange(len(names)), [n.split(" (")[0] for n in names], rotation=12, fontsize=8)
    axes[1].set_title("test metrics (1% positives)")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig("examples/figures/logistic_class_imbalance.png", dpi=110)


if __name__ == "__main__":
    main()
