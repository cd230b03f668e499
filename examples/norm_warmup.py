"""Training curves of pre-LN and post-LN Transformers under learning-rate warm-up and decay schedules.

Xiong et al. (2020): post-LN Transformers need warm-up, because the gradients near the output are
large at initialization (see norm_gradient_flow.py); they train post-LN models with warm-up followed by
a decay (linear for BERT, inverse square root for translation) and show that pre-LN models train
without the warm-up, under the same decay, and converge faster.
Here a 6-layer encoder (dim 32) learns to reverse sequences of 6 tokens over a vocabulary of 8,
with Adam at a high peak learning rate of 1e-2 for 600 steps of 32 sequences, under seven schedules:

    post-LN: constant (no warm-up) | warm-up 200 + constant | warm-up 200 + linear decay | warm-up 200 + 1/sqrt(step)
    pre-LN : constant (no warm-up) | linear decay, no warm-up | warm-up 200 + linear decay

Same initialization and batches for every run. Prints, per run, the accuracy on 512 held-out sequences
(drawn from a generator the training never used; chance is 1/8 = 0.125), the final training loss and the
first step at which the 20-step mean training loss falls below 0.5; writes examples/figures/norm_warmup.png.
``--seeds 0 1 2`` repeats the runs for more seeds (3x the time, ~35 s of CPU per seed).

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

from bindings.nn import TokenClassifier, lr_schedule  # noqa: E402

VOCAB, LENGTH, STEPS, PEAK_LR, WARMUP = 8, 6, 600, 1e-2, 200
HELD_OUT_SEED = 10_000  # training batches use seed + 1 for small seeds: never this generator
# (norm position, warm-up steps, what follows the warm-up: an lr_schedule kind)
RUNS = [("post", 0, "constant"), ("post", WARMUP, "constant"), ("post", WARMUP, "linear"),
        ("post", WARMUP, "inverse_sqrt"), ("pre", 0, "constant"), ("pre", 0, "linear"), ("pre", WARMUP, "linear")]
STYLES = {"constant": ":", "linear": "-", "inverse_sqrt": "--"}


def label(warmup, decay):
    decay_text = {"constant": "constant", "linear": "linear decay", "inverse_sqrt": "1/sqrt decay"}[decay]
    return f"warm-up {warmup}, {decay_text}" if warmup else f"no warm-up, {decay_text}"


def steps_to(losses, level=0.5):
    """First step at which the 20-step running mean of the training loss is below ``level`` (None: never)."""
    below = np.flatnonzero(smooth(np.nan_to_num(losses, nan=np.inf)) < level)
    return int(below[0]) + 19 if below.size else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="initialization seeds (batches use seed + 1); the figure shows the first")
    seeds = parser.parse_args().seeds
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    for seed in seeds:
        for norm_position, warmup, decay in RUNS:
            model = TokenClassifier(VOCAB + 1, VOCAB, dim=32, n_heads=4, ff_dim=64, n_layers=6, max_len=LENGTH,
                                    norm_position=norm_position, seed=seed)
            losses = train(model, np.random.default_rng(seed + 1), steps=STEPS, batch=32, peak_lr=PEAK_LR,
                           warmup_steps=warmup, decay=decay, length=LENGTH, vocab=VOCAB)
            acc = accuracy(model, np.random.default_rng(HELD_OUT_SEED), n_batches=8, batch=64, length=LENGTH,
                           vocab=VOCAB)
            name = f"{norm_position}-LN, {label(warmup, decay)}"
            print(f"seed {seed}, {name:38s}: held-out accuracy {acc:.3f}, final training loss "
                  f"{np.mean(losses[-20:]):.3f}, loss < 0.5 from step {steps_to(losses)}")
            if seed == seeds[0]:
                ax = axes[0 if norm_position == "post" else 1]
                color = "tab:gray" if not warmup else ("tab:red" if norm_position == "post" else "tab:blue")
                ax.plot(smooth(losses), STYLES[decay], color=color, label=f"{label(warmup, decay)} (acc {acc:.2f})")
    for ax, title in zip(axes[:2], ("post-LN", "pre-LN")):
        ax.set_xlabel("step")
        ax.set_ylabel("training loss (20-step mean)")
        ax.set_title(f"{title}: 6 layers, Adam, peak lr {PEAK_LR:g}")
        ax.legend(fontsize=7)
    steps = np.arange(STEPS)
    for warmup, decay in sorted({(w, d) for _, w, d in RUNS}):
        schedule = lr_schedule(decay, warmup_steps=warmup, total_steps=None if decay == "constant" else STEPS)
        axes[2].plot(steps, [PEAK_LR * schedule(t) for t in steps], STYLES[decay], label=label(warmup, decay))
    axes[2].set_xlabel("step")
    axes[2].set_ylabel("learning rate")
    axes[2].set_title("schedules")
    axes[2].legend(fontsize=7)
    out = save_figure(fig, "norm_warmup.png")
    print(f"figure: {out}")


if __name__ == "__main__":
    main()
