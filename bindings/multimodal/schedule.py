"""Learning-rate schedule and gradient clipping of the multimodal :class:`~bindings.multimodal.train.Trainer`.

Kept local until :mod:`bindings.nn.optim` offers them; both follow PyTorch exactly:

* :func:`cosine_lr`: linear warm-up (``bindings.nn.optim.warmup_lr``) then cosine decay to ``min_lr`` at
  ``total_steps``, as ``torch.optim.lr_scheduler.SequentialLR(LinearLR, CosineAnnealingLR)`` (or
  ``transformers.get_cosine_schedule_with_warmup`` with ``min_lr`` 0);
* :func:`clip_grad_norm`: ``torch.nn.utils.clip_grad_norm_`` (scale every gradient by
  max_norm / (global L2 norm + 1e-6) when that is below 1).
"""
import math

import numpy as np

from bindings.nn.optim import warmup_lr

__all__ = ["cosine_lr", "clip_grad_norm"]


def cosine_lr(step, peak_lr, warmup_steps, total_steps, min_lr=0.0):
    """Learning rate of step ``step`` (0-based): warm-up to ``peak_lr`` over ``warmup_steps`` steps, then
    min_lr + (peak_lr - min_lr) * (1 + cos(pi * t)) / 2 with t = (step - warmup_steps) / (total_steps -
    warmup_steps) going from 0 to 1; ``min_lr`` from ``total_steps`` on."""
    if step < warmup_steps:
        return warmup_lr(step, peak_lr, warmup_steps)
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_lr + (peak_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def clip_grad_norm(grads, max_norm):
    """(clipped gradients, global L2 norm before clipping) of ``grads`` (dict name -> array).

    The norm is taken over all arrays together in float64; the returned dict holds new arrays (the
    inputs are left alone), scaled by max_norm / (norm + 1e-6) where that is below 1."""
    norm = math.sqrt(sum(float(np.dot(g.ravel().astype(np.float64), g.ravel().astype(np.float64)))
                         for g in grads.values()))
    scale = min(1.0, max_norm / (norm + 1e-6))
    return {name: g * g.dtype.type(scale) for name, g in grads.items()}, norm
