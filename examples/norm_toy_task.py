"""Toy sequence task shared by the norm_* examples: reverse a sequence of tokens.

Sequences have lengths in [min_length, length] and are padded to ``length`` with the token
``vocab`` (so the model has vocab + 1 input tokens); ``key_mask`` is False on padding, and the
loss and accuracy count real tokens only. The target at position t < L is the token at L - 1 - t:
the model must attend to a position that depends on the sequence's own length.
"""
import os

import numpy as np

from bindings.nn import Adam, lr_schedule, named_gradients, named_parameters


def reversal_batch(rng, batch, length, vocab, min_length=None):
    """(tokens, targets, key_mask), each (batch, length); targets on padding are 0 and masked out."""
    lengths = np.full(batch, length) if min_length is None else rng.integers(min_length, length + 1, batch)
    tokens = np.full((batch, length), vocab)
    targets = np.zeros((batch, length), dtype=np.int64)
    key_mask = np.arange(length)[None, :] < lengths[:, None]
    for b, n in enumerate(lengths):
        tokens[b, :n] = rng.integers(0, vocab, n)
        targets[b, :n] = tokens[b, :n][::-1]
    return tokens, targets, key_mask


def train(model, rng, *, steps, batch, peak_lr, warmup_steps, length, vocab, min_length=None, decay="constant"):
    """Adam on fresh random batches, linear warm-up to ``peak_lr`` then ``decay`` (a :func:`lr_schedule` kind);
    returns the per-step losses (NaN from the step it diverged on)."""
    schedule = lr_schedule(decay, warmup_steps=warmup_steps, total_steps=None if decay == "constant" else steps)
    opt = Adam(named_parameters(model), lr=peak_lr, schedule=schedule)
    losses = np.full(steps, np.nan)
    for step in range(steps):
        tokens, targets, key_mask = reversal_batch(rng, batch, length, vocab, min_length)
        losses[step] = model.loss_and_backward(tokens, targets, key_mask)
        if not np.isfinite(losses[step]):
            break
        opt.step(named_gradients(model))
    return losses


def accuracy(model, rng, *, n_batches, batch, length, vocab, min_length=None):
    """Fraction of real tokens predicted right on fresh batches (the model's norms in their current mode)."""
    right = total = 0
    for _ in range(n_batches):
        tokens, targets, key_mask = reversal_batch(rng, batch, length, vocab, min_length)
        predicted = model.forward(tokens, key_mask).argmax(-1)
        right += ((predicted == targets) & key_mask).sum()
        total += key_mask.sum()
    return right / total


def smooth(values, window=20):
    """Running mean over ``window`` steps (for plotting noisy loss curves)."""
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def save_figure(fig, name):
    """Save ``fig`` as examples/figures/<name> and return the path."""
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures", name)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    return out
