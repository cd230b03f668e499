"""Kernels of the multi-armed bandits: arm statistics, index policies, Beta/Gaussian sampling, ridge
updates of the contextual policies, reward environments and whole simulated horizons.
"""
