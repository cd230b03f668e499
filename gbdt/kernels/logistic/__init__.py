"""Kernels of logistic regression: the packed (dense or CSR) matrix layout, the log-loss with its gradient
and Hessian, the Newton / L-BFGS / coordinate-descent solvers, isotonic regression and threshold counts.
The sigmoid and the log-loss gradient shared with the GBDT objective live in ``gbdt.kernels.math``.
"""
