"""Text + image fusion on generated data: early vs late vs cross-attention fusion, a missing modality with
and without modality dropout, the temperature of the contrastive alignment, and digits with captions.

Prints each claim with its number and writes examples/figures/multimodal_fusion.png. About a minute on
one core.

    python examples/multimodal_fusion.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402
from _figures import save_figure  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bindings.multimodal import (CONDITIONS, MultimodalNet, Trainer, make_digits, make_shapes,  # noqa: E402
                                 missing_modality_accuracy, retrieval_recall)

FUSIONS = ("early", "late", "cross")
# Cross-attention with modality dropout stalls at chance with steps of 1e-2 (loss stays at ln 3): smaller steps.
LEARNING_RATES = {"early": 1e-2, "late": 1e-2, "cross": 3e-3}
TEMPERATURES = (0.01, 0.05, 0.2, 1.0)


def train(data, epochs, *, fusion="early", modality_dropout=0.0, contrastive_weight=0.2, temperature=None,
          patch=4, lr=1e-2):
    model = MultimodalNet(len(data.vocab), data.n_classes, data.images.shape[1:], fusion=fusion, dim=32,
                          patch=patch, temperature=temperature, seed=0)
    trainer = Trainer(model, batch_size=32, lr=lr, warmup_steps=10, modality_dropout=modality_dropout,
                      contrastive_weight=contrastive_weight, seed=0)
    return trainer.fit(data, epochs, progress=False)


def single_modality_ceiling(data, factor):
    """Best accuracy on ``data`` knowing only ``factor`` ("shape": the image, "question": the caption):
    the most frequent label for each value of the factor (about 1/2 and 1/3; exact for this sample)."""
    key = data.factors[factor]
    return sum(np.bincount(data.labels[key == v]).max() for v in np.unique(key)) / len(data)


def retrieval_ceiling(data, k):
    """Recall@k of a perfect model that cannot tell apart captions with the same colour, size and position
    (ties broken at random): mean over pairs of min(1, k / group size)."""
    f = data.factors
    group = f["colour"] * 8 + f["size"] * 4 + f["bottom"] * 2 + f["right"]
    sizes = np.bincount(group)[group]
    return float(np.mean(np.minimum(1.0, k / sizes)))


def main():
    train_data = make_shapes(2048, image_noise=0.05, caption_noise=0.02, seed=0)
    test_data = make_shapes(400, image_noise=0.05, caption_noise=0.02, seed=1)
    print(f"shapes: {len(train_data)} training / {len(test_data)} test pairs; e.g. {test_data.captions[0]!r}")

    # 1 + 2: fusion types, each trained with and without modality dropout
    table, recall = {}, {}
    for fusion in FUSIONS:
        for dropout in (0.0, 0.3):
            trainer = train(train_data, 15, fusion=fusion, modality_dropout=dropout, lr=LEARNING_RATES[fusion])
            table[fusion, dropout] = missing_modality_accuracy(trainer.model, test_data)
            if dropout == 0.0:
                recall[fusion] = retrieval_recall(trainer.model, test_data)
    image_ceiling = single_modality_ceiling(test_data, "shape")
    print(f"\naccuracy on held-out pairs (ceilings on this sample: both 1.0, image only {image_ceiling:.3f}, "
          f"text only {single_modality_ceiling(test_data, 'question'):.3f})")
    print("learning rates: " + ", ".join(f"{f} {lr:g}" for f, lr in LEARNING_RATES.items()))
    print(f"{'fusion':8s} {'dropout':>7s} " + " ".join(f"{c:>10s}" for c in CONDITIONS))
    for (fusion, dropout), acc in table.items():
        print(f"{fusion:8s} {dropout:7.1f} " + " ".join(f"{acc[c]:10.3f}" for c in CONDITIONS))
    best = max(FUSIONS, key=lambda f: table[f, 0.0]["both"])
    print(f"claim: late fusion cannot model the shape x question interaction: {table['late', 0.0]['both']:.3f} "
          f"against {table[best, 0.0]['both']:.3f} for {best} fusion")
    for fusion in FUSIONS:
        print(f"claim: {fusion}, image only: {table[fusion, 0.0]['image only']:.3f} without modality dropout, "
              f"{table[fusion, 0.3]['image only']:.3f} with it (ceiling {image_ceiling:.3f})")
    print("\nretrieval on the 400 test pairs (chance recall@10 = 0.025; ceiling for identical captions: "
          f"@1 {retrieval_ceiling(test_data, 1):.3f}, @10 {retrieval_ceiling(test_data, 10):.3f})")
    for fusion in FUSIONS:
        print(f"{fusion:8s} " + "  ".join(f"{k} {v:.3f}" for k, v in recall[fusion].items()))

    # 3: temperature of the contrastive loss, fixed at several values or learned (alignment only)
    temperature_recall = {}
    for temperature in TEMPERATURES + (None,):
        trainer = train(train_data, 6, temperature=temperature, contrastive_weight=1.0)
        temperature_recall[temperature] = retrieval_recall(trainer.model, test_data)["text_to_image@10"]
        if temperature is None:
            learned = 1.0 / np.exp(trainer.model.children["contrastive"].log_scale[0])
    print("\ntext -> image recall@10 by temperature: " +
          ", ".join(f"{t}: {r:.3f}" for t, r in temperature_recall.items() if t is not None) +
          f"; learned (from 0.07, ends at {learned:.3f}): {temperature_recall[None]:.3f}")

    # 4: digits, captions naming the digit half of the time: the modalities complement each other, and a
    # model trained on both leans on the caption when it names the digit, unless trained with modality dropout
    digits = make_digits(name_probability=0.5, caption_noise=0.02, seed=0)
    digits_train, digits_test = digits.split(1400)
    digit_table = {}
    for dropout in (0.0, 0.3):
        digit_model = train(digits_train, 15, modality_dropout=dropout).model
        digit_table[dropout] = missing_modality_accuracy(digit_model, digits_test)
    print("\ndigits (397 held out; text only can reach 0.5 + 0.5 / 10 = 0.55)")
    for dropout, acc in digit_table.items():
        print(f"dropout {dropout}: " + ", ".join(f"{c} {a:.3f}" for c, a in acc.items()))
    print(f"claim: digits, image only: {digit_table[0.0]['image only']:.3f} without modality dropout, "
          f"{digit_table[0.3]['image only']:.3f} with it; text only: {digit_table[0.0]['text only']:.3f} and "
          f"{digit_table[0.3]['text only']:.3f}")

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    width = 0.13
    for i, ((fusion, dropout), acc) in enumerate(table.items()):
        axes[0, 0].bar(np.arange(3) + (i - 2.5) * width, [acc[c] for c in CONDITIONS], width,
                       label=f"{fusion}, dropout {dropout}", hatch="//" if dropout else None)
    axes[0, 0].set_xticks(range(3), CONDITIONS)
    axes[0, 0].set_ylabel("test accuracy")
    axes[0, 0].set_title("fusion type x available modality")
    axes[0, 0].legend(fontsize=7)
    for i, (dropout, acc) in enumerate(digit_table.items()):
        axes[0, 1].bar(np.arange(3) + (i - 0.5) * 0.35, [acc[c] for c in CONDITIONS], 0.35,
                       label=f"modality dropout {dropout}")
    axes[0, 1].set_xticks(range(3), CONDITIONS)
    axes[0, 1].set_ylabel("test accuracy")
    axes[0, 1].legend()
    axes[0, 1].set_title("digits with captions: a missing modality")
    for fusion in FUSIONS:
        axes[1, 0].plot([1, 5, 10], [recall[fusion][f"text_to_image@{k}"] for k in (1, 5, 10)], "o-", label=fusion)
    axes[1, 0].plot([1, 5, 10], [retrieval_ceiling(test_data, k) for k in (1, 5, 10)], "k--", label="ceiling")
    axes[1, 0].set_xlabel("k")
    axes[1, 0].set_ylabel("text -> image recall@k")
    axes[1, 0].legend()
    axes[1, 0].set_title("retrieval (contrastive head)")
    axes[1, 1].semilogx(TEMPERATURES, [temperature_recall[t] for t in TEMPERATURES], "o-", label="fixed")
    axes[1, 1].axhline(temperature_recall[None], color="C1", label=f"learned (ends at {learned:.3f})")
    axes[1, 1].set_xlabel("temperature")
    axes[1, 1].set_ylabel("text -> image recall@10")
    axes[1, 1].legend()
    axes[1, 1].set_title("effect of the temperature")
    save_figure(fig, "multimodal_fusion")


if __name__ == "__main__":
    numba.set_num_threads(1)
    with threadpool_limits(1):
        main()
