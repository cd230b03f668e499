"""Normalization layers, a small Transformer encoder and its optimizers, in numpy with hand-written backward.

Layers (:mod:`.norm`: ``LayerNorm``, ``RMSNorm``, ``BatchNorm1d``; :mod:`.transformer`: ``Linear``,
``Gelu``, ``MultiHeadAttention``, ``FeedForward``, ``EncoderBlock``, ``TransformerEncoder``) share one
protocol: ``forward`` keeps what ``backward`` needs, ``backward(grad_out)`` fills ``grads``;
``named_parameters`` / ``named_gradients`` walk a model. Optimizers (:mod:`.optim`): ``Adam``, ``AdamW``,
``warmup_lr``::

    from bindings.nn import LayerNorm, RMSNorm, TransformerEncoder
"""
from bindings.nn.norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm
from bindings.nn.optim import Adam, AdamW, clip_grad_norm_, decay_matrices, lr_schedule
from bindings.nn.transformer import (EncoderBlock, FeedForward, Gelu, Linear, MultiHeadAttention, TransformerEncoder,
                                     named_gradients, named_parameters)

__all__ = [
    "LayerNorm", "RMSNorm", "GroupNorm", "BatchNorm1d", "BatchNorm2d",
    "Linear", "Gelu", "MultiHeadAttention", "FeedForward", "EncoderBlock", "TransformerEncoder",
    "named_parameters", "named_gradients",
    "Adam", "AdamW", "clip_grad_norm_", "lr_schedule", "decay_matrices",
]
