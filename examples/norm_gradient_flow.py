"""Gradient norm per layer at initialization: pre-LN vs post-LN Transformers as depth grows.

Xiong et al. (2020, "On Layer Normalization in the Transformer Architecture") show that at
initialization the gradients of the last feed-forward weights W2 of a post-LN Transformer grow with
the layer index (largest next to the output), which is why post-LN needs learning-rate warm-up,
while in a pre-LN Transformer they are about equal across layers and shrink like 1/sqrt(depth).
This script measures ||dLoss/dW2|| (Frobenius) of every block at initialization on the reversal
task, averaged over seeds, for depths 6, 12 and 24, and writes examples/figures/norm_gradient_flow.png.

Key number printed: the ratio of the last to the first block's gradient norm for each placement.

    python examples/norm_gradient_flow.py
"""
import os

# Many tiny kernels: one thread each for numba and BLAS avoids oversubscription overhead.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from norm_toy_task import reversal_batch, save_figure  # noqa: E402

from bindings.nn import TokenClassifier, named_gradients  # noqa: E402

VOCAB, LENGTH, DIM = 10, 8, 64
DEPTHS = (6, 12, 24)
SEEDS = range(4)


def fc2_gradient_norms(norm_position, n_layers, seed):
    """||dLoss/dW2|| of every block at initialization for one random batch."""
    model = TokenClassifier(VOCAB + 1, VOCAB, dim=DIM, n_heads=4, ff_dim=4 * DIM, n_layers=n_layers,
                               max_len=LENGTH, norm_position=norm_position, seed=seed, dtype=np.float64)
    tokens, targets, key_mask = reversal_batch(np.random.default_rng(seed), 32, LENGTH, VOCAB)
    model.loss_and_backward(tokens, targets, key_mask)
    grads = named_gradients(model)
    return np.array([np.linalg.norm(grads[f"encoder.layers.{i}.ff.fc2.weight"]) for i in range(n_layers)])


def main():
    norms = {(pos, depth): np.mean([fc2_gradient_norms(pos, depth, s) for s in SEEDS], axis=0)
             for pos in ("pre", "post") for depth in DEPTHS}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, pos in zip(axes, ("post", "pre")):
        for depth in DEPTHS:
            ax.plot(np.arange(1, depth + 1), norms[pos, depth], marker="o", ms=3, label=f"{depth} layers")
        ax.set_title(f"{pos}-LN at initialization")
        ax.set_xlabel("layer index")
        ax.set_yscale("log")
        ax.legend()
    axes[0].set_ylabel("||dLoss / dW2|| (FFN output weights)")
    out = save_figure(fig, "norm_gradient_flow.png")

    for pos in ("post", "pre"):
        for depth in DEPTHS:
            g = norms[pos, depth]
            print(f"{pos:4s}-LN {depth:2d} layers: last/first block gradient norm {g[-1] / g[0]:6.2f}, "
                  f"last block {g[-1]:.4f}, mean {g.mean():.4f}")
    print(f"figure: {out}")


if __name__ == "__main__":
    main()
