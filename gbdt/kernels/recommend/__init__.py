"""Kernels of collaborative filtering: CSR similarities, kNN deviations, ALS half-steps (ridge and
implicit conjugate gradient) and SGD epochs (biased MF, BPR).
"""
