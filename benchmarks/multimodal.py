"""Multimodal network: one training step (forward + backward) against a PyTorch twin on the same threads.

The twin is the early-fusion :class:`bindings.multimodal.model.MultimodalNet` written with torch modules
(embedding + sinusoidal positions, Conv2d patch embedding + positions + residual MLP, masked mean pooling,
concat -> MLP head, projections + normalize + symmetric InfoNCE) and loaded with the same weights; the
script first checks that both give the same loss. Timed: ``loss_and_backward`` (classification +
0.5 * contrastive) against torch's forward + ``backward()``, float32, median of interleaved rounds.

Run: ``python -m benchmarks.multimodal [--threads N] [--repeats 20]``. Prints ours / torch per batch
size (< 1 means ours is faster).
"""
import argparse
import math

import numba
import numpy as np
import torch
from threadpoolctl import threadpool_limits

from benchmarks.norm import round_times
from bindings.multimodal import MultimodalNet, make_shapes
from bindings.nn import named_parameters
from bindings.nn.transformer import sinusoidal_positions

CONTRASTIVE_WEIGHT = 0.5


def torch_twin(model):
    """A function (tokens, mask, images, labels) -> torch loss with leaf tensors copied from ``model``."""
    p = {k: torch.tensor(v, requires_grad=True) for k, v in named_parameters(model).items()}
    c, _, _ = model.config["image_shape"]
    patch, dim = model.config["patch"], model.config["dim"]
    positions = torch.from_numpy(sinusoidal_positions(model.config["max_len"], dim).astype(np.float32))
    gelu = lambda x: torch.nn.functional.gelu(x, approximate="tanh")  # noqa: E731

    def linear(x, prefix):
        return x @ p[f"{prefix}.weight"] + p[f"{prefix}.bias"]

    def mlp(x, prefix):
        return linear(gelu(linear(x, f"{prefix}.fc1")), f"{prefix}.fc2")

    def loss(tokens, mask, images, labels):
        weights = mask / mask.sum(1, keepdim=True)
        text = p["text.embedding"][tokens] + positions[: tokens.shape[1]]
        conv_weight = p["image.embed.weight"].T.reshape(dim, c, patch, patch)
        image = torch.nn.functional.conv2d(images, conv_weight, p["image.embed.bias"], stride=patch)
        image = image.flatten(2).transpose(1, 2) + p["image.positions"]
        image = image + mlp(image, "image.mlp")
        pooled_text, pooled_image = (weights[..., None] * text).sum(1), image.mean(1)
        logits = mlp(torch.cat([pooled_text, pooled_image], 1), "fusion.head")
        classification = torch.nn.functional.cross_entropy(logits, labels)
        t = torch.nn.functional.normalize(linear(pooled_text, "contrastive.text_proj"))
        v = torch.nn.functional.normalize(linear(pooled_image, "contrastive.image_proj"))
        sim = p["contrastive.log_scale"].exp() * t @ v.T
        targets = torch.arange(len(labels))
        cross_entropy = torch.nn.functional.cross_entropy
        contrastive = (cross_entropy(sim, targets) + cross_entropy(sim.T, targets)) / 2
        return classification + CONTRASTIVE_WEIGHT * contrastive

    return loss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    numba.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    print(f"threads: {args.threads} (numba, BLAS and torch)")
    for batch, dim in ((64, 32), (256, 64), (1024, 64)):
        data = make_shapes(batch, seed=0)
        model = MultimodalNet(len(data.vocab), 3, data.images.shape[1:], fusion="early", dim=dim, embed_dim=dim, seed=0)
        twin = torch_twin(model)
        t_args = (torch.from_numpy(data.tokens), torch.from_numpy(data.mask).float(), torch.from_numpy(data.images),
                  torch.from_numpy(data.labels))

        def ours():
            return model.loss_and_backward(data.tokens, data.mask, data.images, data.labels,
                                           contrastive_weight=CONTRASTIVE_WEIGHT)["loss"]

        def theirs():
            out = twin(*t_args)
            out.backward()
            return out.item()

        assert math.isclose(ours(), theirs(), rel_tol=1e-4), (ours(), theirs())
        with threadpool_limits(args.threads):
            t_ours, t_torch = np.median(round_times([ours, theirs], args.repeats), axis=0)
        print(f"batch {batch:5d} dim {dim:3d}: ours {t_ours * 1e3:7.2f} ms, torch {t_torch * 1e3:7.2f} ms, "
              f"ratio ours/torch {t_ours / t_torch:5.2f}")


if __name__ == "__main__":
    main()
