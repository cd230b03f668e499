"""Cross-validating boosted trees on sparse bag-of-words-like features, straight from CSR.

6,000 "documents" x 1,000 "words" (1% non-zero counts): the label is a noisy threshold of the
counts of 100 signal words. The CSR matrix goes to ``Dataset`` as it is (absent words are
0.0; the dense twin would take 48 MB), and ``cv`` runs 3 stratified folds for two tree depths
with early stopping on the mean held-out AUC. The key number is each depth's best mean test AUC
(and its round).

Writes examples/figures/sparse_cv.png.

    python examples/sparse_cv.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from _figures import save_figure  # noqa: E402
from bindings import Dataset, cv  # noqa: E402

N_DOCS, N_WORDS, DENSITY = 6_000, 1_000, 0.01


def make_documents(rng):
    """CSR word counts (N_DOCS, N_WORDS) and labels from 100 signal words."""
    counts = sp.random(N_DOCS, N_WORDS, density=DENSITY, format="csr", random_state=0,
                       data_rvs=lambda k: rng.poisson(1.0, k) + 1.0)
    weights = np.zeros(N_WORDS)
    weights[rng.choice(N_WORDS, 100, replace=False)] = rng.choice([-2.0, 2.0], 100)
    margin = counts @ weights + 0.5 * rng.standard_normal(N_DOCS)
    return counts, (margin > 0).astype(float)


def main():
    rng = np.random.default_rng(0)
    X, y = make_documents(rng)
    data = Dataset(X, y)
    fig, ax = plt.subplots(figsize=(7, 4))
    for depth, color in ((2, "tab:blue"), (6, "tab:orange")):
        params = {"objective": "binary:logistic", "max_depth": depth, "learning_rate": 0.5, "max_bin": 16,
                  "n_jobs": 2}
        res = cv(params, data, 60, nfold=3, stratified=True, metrics="auc", early_stopping_rounds=10, seed=0)
        rounds = np.arange(len(res))
        mean, std = res["test-auc-mean"].to_numpy(), res["test-auc-std"].to_numpy()
        ax.plot(rounds, mean, color=color, label=f"depth {depth}: test")
        ax.fill_between(rounds, mean - std, mean + std, color=color, alpha=0.2)
        ax.plot(rounds, res["train-auc-mean"], color=color, ls="--", label=f"depth {depth}: train")
        print(f"depth {depth}: best mean test AUC {mean[-1]:.4f} +- {std[-1]:.4f} at round {len(res) - 1}")
    ax.set(xlabel="boosting round", ylabel="AUC (mean over 3 folds, band = +-1 std)",
           title=f"cv on CSR input: {N_DOCS} x {N_WORDS}, {X.nnz} non-zeros")
    ax.legend()
    save_figure(fig, "sparse_cv")


if __name__ == "__main__":
    main()
