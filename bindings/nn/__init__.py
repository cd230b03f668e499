"""Normalization layers, attention, a Transformer encoder and its optimizers, in numpy with hand-written backward.

Layers (:mod:`.norm`: ``LayerNorm``, ``RMSNorm``, ``GroupNorm``, ``BatchNorm1d``, ``BatchNorm2d``;
:mod:`.attention`: ``scaled_dot_product_attention``, ``ScaledDotProductAttention``; :mod:`.dropout`: ``Dropout``;
:mod:`.transformer`: ``Linear``, ``Gelu``, ``Relu``, ``MultiHeadAttention``, ``FeedForward``, ``EncoderBlock``,
``TransformerEncoder`` (torch ``state_dict`` exchange), ``TokenClassifier``) share one protocol, the base
:class:`.layer.Layer`: ``forward`` keeps what ``backward`` needs, ``backward(grad_out)`` fills ``grads``,
``train()`` / ``eval()`` switch a layer and every layer below it, as torch's ``Module`` does; ``named_parameters`` /
``named_gradients`` walk a model. Optimizers (:mod:`.optim`): ``Adam``, ``AdamW``, ``clip_grad_norm_``, ``lr_schedule``::

    from bindings.nn import LayerNorm, RMSNorm, TransformerEncoder
"""
from bindings.nn.attention import ScaledDotProductAttention, scaled_dot_product_attention
from bindings.nn.dropout import Dropout
from bindings.nn.layer import Layer
from bindings.nn.norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm
from bindings.nn.optim import Adam, AdamW, clip_grad_norm_, decay_matrices, lr_schedule
from bindings.nn.transformer import (EncoderBlock, FeedForward, Gelu, Linear, MultiHeadAttention, Relu, TokenClassifier,
                                     TransformerEncoder, named_gradients, named_parameters)

__all__ = [
    "LayerNorm", "RMSNorm", "GroupNorm", "BatchNorm1d", "BatchNorm2d",
    "scaled_dot_product_attention", "ScaledDotProductAttention", "Dropout", "Layer",
    "Linear", "Gelu", "Relu", "MultiHeadAttention", "FeedForward", "EncoderBlock", "TransformerEncoder",
    "TokenClassifier", "named_parameters", "named_gradients",
    "Adam", "AdamW", "clip_grad_norm_", "lr_schedule", "decay_matrices",
]
