"""Text + image fusion on generated data: early vs late vs cross-attention vs ALBEF fusion, a missing modality
with and without modality dropout, retrieval both ways, image-text matching on hard negatives, the temperature
of the contrastive alignment, and zero-shot classification of digits from caption prompts.

Every model trains with a cosine schedule and gradient clipping, and keeps the epoch with the lowest loss on a
validation split; every number is measured on held-out pairs never used for training or selection. Prints
each claim with its number and writes examples/figures/multimodal_fusion.png. It runs on one thread: about
40 s of CPU, 75-110 s of wall time on the shared 2-core VM (measured 2026-12-07, docs/multimodal.md).

    python examples/multimodal_fusion.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402
from _figures import save_figure  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bindings.multimodal import (CONDITIONS, MultimodalNet, Trainer, itm_accuracy,  # noqa: E402
                                 make_digits, make_shapes, missing_modality_accuracy, retrieval_recall,
                                 zero_shot_accuracy)

FUSIONS = ("early", "late", "cross", "albef")
# Cross-attention with modality dropout stalls at chance with steps of 1e-2 (loss stays at ln 3): smaller
# steps for the attention fusions.
LEARNING_RATES = {"early": 1e-2, "late": 1e-2, "cross": 3e-3, "albef": 3e-3}
ITM_WEIGHT = 3.0  # the matching term of the ALBEF model; the other fusions have no matching head
TEMPERATURES = (0.01, 0.05, 0.2, 1.0)
KS = (1, 5, 10)
DIGIT_TEMPLATES = ("a thin handwritten {}", "a thick handwritten {}")


def train(data, validation, epochs, *, fusion="early", modality_dropout=0.0, contrastive_weight=0.2,
          temperature=None, lr=1e-2, itm_weight=0.0):
    model = MultimodalNet(len(data.vocab), data.n_classes, data.images.shape[1:], fusion=fusion, dim=32,
                          fusion_layers=1, temperature=temperature, seed=0)
    trainer = Trainer(model, batch_size=32, lr=lr, warmup_steps=10, schedule="cosine", max_grad_norm=1.0,
                      modality_dropout=modality_dropout, contrastive_weight=contrastive_weight, itm_weight=itm_weight,
                      seed=0)
    return trainer.fit(data, epochs, validation_data=validation, progress=False)


def single_modality_ceiling(data, factor):
    """Best accuracy on ``data`` knowing only ``factor`` ("shape": the image, "question": the caption):
    the most frequent label for each value of the factor (about 1/2 and 1/3; exact for this sample)."""
    key = data.factors[factor]
    return sum(np.bincount(data.labels[key == v]).max() for v in np.unique(key)) / len(data)


def ideal_recall(data, k):
    """Expected recall@k of an ideal model that ranks the images whose content fits the caption (same group:
    colour, size, position) first, in random order: mean over pairs of min(1, k / group size). A reference,
    not a bound: a model's order within a group can beat random order by luck on a given sample."""
    sizes = np.bincount(data.groups)[data.groups]
    return float(np.mean(np.minimum(1.0, k / sizes)))


def recall_row(recall):
    return "  ".join(f"{d} " + " ".join(f"@{k} {recall[f'{d}@{k}']:.3f}" for k in KS)
                     for d in ("text_to_image", "image_to_text"))


def main():
    train_data, validation = make_shapes(2560, image_noise=0.05, caption_noise=0.02, seed=0).split(2048)
    test_data = make_shapes(400, image_noise=0.05, caption_noise=0.02, seed=1)
    print(f"shapes: {len(train_data)} training / {len(validation)} validation / {len(test_data)} test pairs; "
          f"e.g. {test_data.captions[0]!r}")

    # 1 + 2: fusion types, each trained with and without modality dropout (ALBEF: without, plus matching)
    table, recall, best_epochs = {}, {}, {}
    for fusion in FUSIONS:
        for dropout in ((0.0,) if fusion == "albef" else (0.0, 0.3)):
            trainer = train(train_data, validation, 15, fusion=fusion, modality_dropout=dropout,
                            lr=LEARNING_RATES[fusion], itm_weight=ITM_WEIGHT if fusion == "albef" else 0.0)
            table[fusion, dropout] = missing_modality_accuracy(trainer.model, test_data)
            best_epochs[fusion, dropout] = trainer.best_epoch
            if dropout == 0.0:
                recall[fusion] = retrieval_recall(trainer.model, test_data, KS)
            if fusion == "albef":
                albef = trainer.model
    image_ceiling = single_modality_ceiling(test_data, "shape")
    print(f"\naccuracy on held-out pairs (ceilings on this sample: both 1.0, image only {image_ceiling:.3f}, "
          f"text only {single_modality_ceiling(test_data, 'question'):.3f})")
    print("learning rates: " + ", ".join(f"{f} {lr:g}" for f, lr in LEARNING_RATES.items()) +
          "; 15 epochs, the best on validation kept")
    print(f"{'fusion':8s} {'dropout':>7s} {'epoch':>5s} " + " ".join(f"{c:>10s}" for c in CONDITIONS))
    for (fusion, dropout), acc in table.items():
        print(f"{fusion:8s} {dropout:7.1f} {best_epochs[fusion, dropout]:5d} " +
              " ".join(f"{acc[c]:10.3f}" for c in CONDITIONS))
    best = max(FUSIONS, key=lambda f: table[f, 0.0]["both"])
    print(f"claim: late fusion cannot model the shape x question interaction: {table['late', 0.0]['both']:.3f} "
          f"against {table[best, 0.0]['both']:.3f} for {best} fusion")
    for fusion in ("early", "late", "cross"):
        print(f"claim: {fusion}, image only: {table[fusion, 0.0]['image only']:.3f} without modality dropout, "
              f"{table[fusion, 0.3]['image only']:.3f} with it (ceiling {image_ceiling:.3f})")

    n_test = len(test_data)
    print(f"\nretrieval over the {n_test}-pair test gallery (ties count against the query; chance recall@k = "
          f"k / {n_test}, @10 {10 / n_test:.3f}; captions never name the shape, so about {n_test / 32:.0f} test "
          "images fit each caption equally: an ideal model that ranks them first in random order expects "
          + ", ".join(f"@{k} {ideal_recall(test_data, k):.3f}" for k in KS) + ")")
    for fusion in FUSIONS:
        print(f"{fusion:8s} {recall_row(recall[fusion])}")

    itm = {kind: itm_accuracy(albef, test_data, negatives=kind, seed=0) for kind in ("hard", "random")}
    print(f"\nALBEF image-text matching on the test pairs, 1 positive : 2 negatives (all 'not matched' scores 0.667; "
          f"negatives never share the caption's colour, size and position): hard negatives {itm['hard']:.3f}, "
          f"random negatives {itm['random']:.3f}")

    # 3: temperature of the contrastive loss, fixed at several values or learned (alignment only)
    temperature_recall = {}
    for temperature in TEMPERATURES + (None,):
        trainer = train(train_data, validation, 6, temperature=temperature, contrastive_weight=1.0)
        temperature_recall[temperature] = retrieval_recall(trainer.model, test_data)["text_to_image@10"]
        if temperature is None:
            learned = 1.0 / np.exp(trainer.model.children["contrastive"].log_scale[0])
    print("\ntext -> image recall@10 by temperature: " +
          ", ".join(f"{t}: {r:.3f}" for t, r in temperature_recall.items() if t is not None) +
          f"; learned (from 0.07, ends at {learned:.3f}): {temperature_recall[None]:.3f}")

    # 4: digits, captions naming the digit half of the time: the modalities complement each other, and a
    # model trained on both leans on the caption when it names the digit, unless trained with modality
    # dropout. The contrastive head alone classifies images zero-shot from prompts "a thin handwritten seven".
    digits = make_digits(name_probability=0.5, caption_noise=0.02, seed=0)
    digits_train, digits_validation, digits_test = digits.subset(slice(0, 1200)), digits.subset(
        slice(1200, 1400)), digits.subset(slice(1400, None))
    digit_table, zero_shot = {}, {}
    for dropout in (0.0, 0.3):
        digit_model = train(digits_train, digits_validation, 15, modality_dropout=dropout).model
        digit_table[dropout] = missing_modality_accuracy(digit_model, digits_test)
        zero_shot[dropout] = zero_shot_accuracy(digit_model, digits_test, DIGIT_TEMPLATES)
    print(f"\ndigits ({len(digits_train)} train / {len(digits_validation)} validation / {len(digits_test)} test; "
          "text only can reach 0.5 + 0.5 / 10 = 0.55)")
    for dropout, acc in digit_table.items():
        print(f"dropout {dropout}: " + ", ".join(f"{c} {a:.3f}" for c, a in acc.items()) +
              f", zero-shot from prompts {zero_shot[dropout]:.3f}")
    print(f"claim: digits, image only: {digit_table[0.0]['image only']:.3f} without modality dropout, "
          f"{digit_table[0.3]['image only']:.3f} with it; text only: {digit_table[0.0]['text only']:.3f} and "
          f"{digit_table[0.3]['text only']:.3f}")
    print(f"claim: zero-shot digits from the prompts {DIGIT_TEMPLATES} (no classifier, chance 0.1): "
          f"{zero_shot[0.0]:.3f}, against {digit_table[0.0]['image only']:.3f} for the trained classifier on the "
          "image alone")

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    width = 0.8 / len(table)
    for i, ((fusion, dropout), acc) in enumerate(table.items()):
        axes[0, 0].bar(np.arange(3) + (i - (len(table) - 1) / 2) * width, [acc[c] for c in CONDITIONS], width,
                       label=f"{fusion}, dropout {dropout}", hatch="//" if dropout else None)
    axes[0, 0].set_xticks(range(3), CONDITIONS)
    axes[0, 0].set_ylabel("test accuracy")
    axes[0, 0].set_title("fusion type x available modality")
    axes[0, 0].legend(fontsize=7)
    labels = list(CONDITIONS) + ["zero-shot\n(image)"]
    for i, (dropout, acc) in enumerate(digit_table.items()):
        axes[0, 1].bar(np.arange(4) + (i - 0.5) * 0.35, [acc[c] for c in CONDITIONS] + [zero_shot[dropout]], 0.35,
                       label=f"modality dropout {dropout}")
    axes[0, 1].set_xticks(range(4), labels)
    axes[0, 1].set_ylabel("test accuracy")
    axes[0, 1].legend()
    axes[0, 1].set_title("digits with captions: a missing modality, zero-shot")
    for fusion in FUSIONS:
        axes[1, 0].plot(KS, [recall[fusion][f"text_to_image@{k}"] for k in KS], "o-", label=fusion)
    axes[1, 0].plot(KS, [k / n_test for k in KS], "k--", label="chance")
    axes[1, 0].plot(KS, [ideal_recall(test_data, k) for k in KS], "k:", label="ideal model, expected")
    axes[1, 0].set_xlabel("k")
    axes[1, 0].set_ylabel("text -> image recall@k")
    axes[1, 0].legend()
    axes[1, 0].set_title(f"retrieval (contrastive head); ALBEF ITM accuracy {itm['hard']:.2f} (hard)")
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
