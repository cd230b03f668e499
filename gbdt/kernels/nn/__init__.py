"""Kernels of the neural-network layers: row-wise normalization forward/backward, the masked attention
softmax, softmax cross-entropy and row L2 normalization (the multimodal network's losses).
"""
