"""Training curves of pre-LN and post-LN Transformers with and without learning-rate warm-up.

Xiong et al. (2020): post-LN Transformers need warm-up, because the gradients near the output are
large at initialization (see norm_gradient_flow.py); pre-LN Transformers train without it.
Here a 6-layer encoder (dim 32) learns to reverse sequences of 6 tokens over a vocabulary of 8,
with Adam at a high peak learning rate of 1e-2, either constant from step 0 or reached by a
linear warm-up over the first 200 of 600 steps. Same initialization and batches for all four runs.

Writes examples/figures/norm_warmup.png and prints the final loss and accuracy of each run
(chance accuracy is 1/8 = 0.125). ``--seeds 0 1 2`` repeats the four runs for more seeds (3x the time).

    python examples/norm_warmup.py [--seeds 0 1 2]
"""
import argparse
import os

# Many tiny kernels: one thread each for numba and BLAS avoids oversubscription overhead.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from norm_toy_task import accuracy, save_figure, smooth, train  # noqa: E402

from bindings.nn import TransformerEncoder  # noqa: E402

VOCAB, LENGTH, STEPS, PEAK_LR, WARMUP = 8, 6, 600, 1e-2, 200


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="initialization seeds (batches use seed + 1); the figure shows the first")
    seeds = parser.parse_args().seeds
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for seed in seeds:
        for norm_position, color in (("post", "tab:red"), ("pre", "tab:blue")):
            for warmup, style in ((0, ":"), (WARMUP, "-")):
                model = TransformerEncoder(VOCAB + 1, VOCAB, dim=32, n_heads=4, ff_dim=64, n_layers=6, max_len=LENGTH,
                                           norm_position=norm_position, seed=seed)
                losses = train(model, np.random.default_rng(seed + 1), steps=STEPS, batch=32, peak_lr=PEAK_LR,
                               warmup_steps=warmup, length=LENGTH, vocab=VOCAB)
                acc = accuracy(model, np.random.default_rng(2), n_batches=8, batch=64, length=LENGTH, vocab=VOCAB)
                label = f"{norm_position}-LN, warm-up {warmup} steps"
                print(f"seed {seed}, {label:28s}: final loss (last 20 steps) {np.mean(losses[-20:]):.3f}, "
                      f"accuracy {acc:.3f}")
                if seed == seeds[0]:
                    ax.plot(smooth(losses), style, color=color, label=f"{label} (acc {acc:.2f})")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (20-step mean)")
    ax.set_title(f"6-layer encoder, Adam, peak lr {PEAK_LR:g}")
    ax.legend(fontsize=8)
    out = save_figure(fig, "norm_warmup.png")
    print(f"figure: {out}")


if __name__ == "__main__":
    main()
