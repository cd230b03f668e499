"""Kernels of the multi-armed bandits: arm statistics, index policies and their action
probabilities, Beta/Gaussian sampling, ridge updates of the contextual policies, reward
environments and whole simulated horizons.
"""
