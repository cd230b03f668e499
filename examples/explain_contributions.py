"""Explain a model: TreeSHAP contributions, importance, the evaluation history and one tree.

Data: scikit-learn's breast cancer set (569 x 30, bundled). Trains a binary model with a
validation set, then plots (2 x 2): mean |contribution| per feature (TreeSHAP) next to total-gain
importance, the validation log-loss per round, and the first tree. Prints how far the contributions are from summing to the margin (float rounding only) and
the features both rankings put first.

    python examples/explain_contributions.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from _figures import save_figure  # noqa: E402
from bindings import Dataset, train  # noqa: E402
from bindings.plotting import plot_importance, plot_metric, plot_tree  # noqa: E402


def main():
    data = load_breast_cancer()
    names = [n.replace(" ", "_") for n in data.feature_names]
    Xtr, Xte, ytr, yte = train_test_split(data.data, data.target, test_size=0.3, random_state=0)
    history = {}
    dvalid = Dataset(Xte, yte, feature_names=names)
    bst = train({"objective": "binary:logistic", "max_depth": 3, "learning_rate": 0.1, "n_jobs": 2},
                Dataset(Xtr, ytr, feature_names=names), 100, evals=[(dvalid, "valid")], evals_result=history)

    contribs = bst.predict(Xte, pred_contribs=True)  # (n, F + 1), bias last
    gap = np.abs(contribs.sum(1) - bst.predict(Xte, output_margin=True)).max()
    mean_abs = np.abs(contribs[:, :-1]).mean(0)
    top_shap = [names[i] for i in np.argsort(mean_abs)[::-1][:5]]
    gain = bst.get_score("total_gain")
    top_gain = sorted(gain, key=gain.get, reverse=True)[:5]
    print(f"max |sum of contributions - margin| = {gap:.1e}")
    print(f"top 5 by mean |SHAP|: {top_shap}")
    print(f"top 5 by total gain:  {top_gain}; shared: {len(set(top_shap) & set(top_gain))}")

    fig, axes = plt.subplots(2, 2, figsize=(14, 10))
    order = np.argsort(mean_abs)[-10:]
    axes[0, 0].barh([names[i] for i in order], mean_abs[order])
    axes[0, 0].set_title("mean |TreeSHAP contribution| (margin units)")
    plot_importance(bst, importance_type="total_gain", max_num_features=10, ax=axes[0, 1])
    plot_metric(history, ax=axes[1, 0])
    plot_tree(bst, 0, ax=axes[1, 1])
    axes[1, 1].set_title("tree 0")
    save_figure(fig, "explain_contributions")


if __name__ == "__main__":
    main()
