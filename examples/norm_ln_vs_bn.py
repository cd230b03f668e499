"""LayerNorm vs BatchNorm in a Transformer trained on small batches of variable-length sequences.

The same pre-norm encoder is trained on the reversal task (lengths 3..8, padded to 8) with batches
of 4 sequences, 3 seeds each, with LayerNorm and with BatchNorm (statistics per feature over the 32
token positions of the batch, padding included). Measured:

- accuracy in evaluation mode (BatchNorm switches to its running statistics) on fresh batches;
- accuracy in training mode on batches of 4 (BatchNorm with the statistics of the batch itself);
- batch dependence: how much one sequence's logits change when its 3 batch companions change
  (LayerNorm normalizes each token alone, so the change must be exactly 0).

Writes examples/figures/norm_ln_vs_bn.png (training loss curves) and prints the numbers per seed
and their means.

    python examples/norm_ln_vs_bn.py
"""
import os

# Many tiny kernels: one thread each for numba and BLAS avoids oversubscription overhead.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from norm_toy_task import accuracy, reversal_batch, save_figure, smooth, train  # noqa: E402

from bindings.nn import TokenClassifier  # noqa: E402

VOCAB, LENGTH, MIN_LENGTH, BATCH, STEPS = 8, 8, 3, 4, 1500
SEEDS = (0, 1, 2)
NAMES = {"layer": "LayerNorm", "batch": "BatchNorm"}
TASK = dict(length=LENGTH, vocab=VOCAB, min_length=MIN_LENGTH)


def batch_dependence(model, rng, n_trials=20):
    """Largest change of sequence 0's logits over its real tokens when the other sequences change."""
    worst = 0.0
    for _ in range(n_trials):
        tokens, _, key_mask = reversal_batch(rng, BATCH, **TASK)
        first = model.forward(tokens, key_mask)[0][key_mask[0]]
        other, _, other_mask = reversal_batch(rng, BATCH, **TASK)
        other[0], other_mask[0] = tokens[0], key_mask[0]
        second = model.forward(other, other_mask)[0][key_mask[0]]
        worst = max(worst, float(np.abs(first - second).max()))
    return worst


def run(norm, seed):
    """Train one model; returns (losses, eval-mode acc, train-mode acc, batch dependence)."""
    model = TokenClassifier(VOCAB + 1, VOCAB, dim=32, n_heads=4, ff_dim=64, n_layers=2, max_len=LENGTH,
                               norm=norm, seed=seed)
    losses = train(model, np.random.default_rng(10 + seed), steps=STEPS, batch=BATCH, peak_lr=3e-3,
                   warmup_steps=50, **TASK)
    train_mode_acc = accuracy(model, np.random.default_rng(2), n_batches=64, batch=BATCH, **TASK)
    dependence = batch_dependence(model, np.random.default_rng(3))
    model.eval()
    eval_acc = accuracy(model, np.random.default_rng(2), n_batches=64, batch=BATCH, **TASK)
    return losses, eval_acc, train_mode_acc, dependence


def main():
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for norm, color in (("layer", "tab:blue"), ("batch", "tab:orange")):
        runs = [run(norm, seed) for seed in SEEDS]
        for seed, (losses, eval_acc, train_mode_acc, dependence) in zip(SEEDS, runs):
            print(f"{NAMES[norm]} seed {seed}: eval-mode accuracy {eval_acc:.3f}, train-mode accuracy "
                  f"(batches of {BATCH}) {train_mode_acc:.3f}, max logit change from batch companions "
                  f"{dependence:.2e}, mean training loss over the run {np.mean(losses):.3f}")
            ax.plot(smooth(losses), color=color, alpha=0.7, label=NAMES[norm] if seed == SEEDS[0] else None)
        means = np.mean([[np.mean(r[0]), r[1], r[2]] for r in runs], axis=0)
        print(f"{NAMES[norm]} mean of {len(SEEDS)} seeds: mean training loss {means[0]:.3f}, "
              f"eval-mode accuracy {means[1]:.3f}, train-mode accuracy {means[2]:.3f}")
    ax.set_xlabel("step (batches of 4 variable-length sequences)")
    ax.set_ylabel("training loss (20-step mean)")
    ax.legend()
    out = save_figure(fig, "norm_ln_vs_bn.png")
    print(f"figure: {out}")


if __name__ == "__main__":
    main()
