"""Inverted dropout as a layer of the :mod:`bindings.nn` protocol, as ``torch.nn.Dropout``.

In training mode each value is kept with probability 1 - p and scaled by 1 / (1 - p) (so the expectation is
unchanged); in evaluation mode (``eval()``) the layer is the identity. The keep mask of the last forward is
``mask`` (bool, the input's shape), which the backward reuses.
"""
import numpy as np

from bindings.nn.layer import Layer
from bindings.validation import check_probability

__all__ = ["Dropout"]


class Dropout(Layer):
    """Dropout with probability ``p`` in [0, 1) drawn from ``rng`` (a numpy Generator or seed); ``name`` is the
    argument's name in error messages (``dropout_p`` for attention)."""

    def __init__(self, p=0.5, rng=None, *, name="p"):
        super().__init__()
        self.p = check_probability(p, name)
        if self.p == 1.0:
            raise ValueError(f"{name} must be < 1 (every value dropped leaves nothing to scale)")
        self.rng = np.random.default_rng(rng)
        self.mask = None

    def forward(self, x):
        """x * mask / (1 - p) in training mode, x itself otherwise."""
        self.mask = None
        if not self.training or self.p == 0.0:
            return x
        self.mask = self.rng.random(x.shape) >= self.p
        return x * self.mask * x.dtype.type(1.0 / (1.0 - self.p))

    def backward(self, grad_out):
        if self.mask is None:
            return grad_out
        return grad_out * self.mask * grad_out.dtype.type(1.0 / (1.0 - self.p))

    __call__ = forward
