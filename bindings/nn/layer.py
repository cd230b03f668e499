"""The base of every layer of :mod:`bindings.nn` and :mod:`bindings.multimodal`, as ``torch.nn.Module`` is.

A layer owns ``params`` (name -> array), the ``grads`` its last ``backward`` wrote (same names and shapes),
and named sub-layers in ``children``. ``train(mode)`` / ``eval()`` set ``training`` on it and every layer
below it: Dropout and BatchNorm read it (dropout on or off; batch or running statistics), the others
ignore it.
"""

__all__ = ["Layer"]


class Layer:
    """Base of every layer: own ``params``/``grads``, named ``children``, ``training`` (True at first)."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.children = {}
        self.training = True

    def train(self, mode=True):
        """Training mode (``mode`` True) or evaluation mode for this layer and every layer below; returns self."""
        self.training = bool(mode)
        for child in self.children.values():
            child.train(mode)
        return self

    def eval(self):
        """Evaluation mode (``train(False)``); returns self."""
        return self.train(False)
