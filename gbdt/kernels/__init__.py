"""Compiled kernels of the lighter topics, one subpackage each (logistic, bandits, recommend, nn), and
the math they share with the GBDT objectives (``math``: sigmoid, log1pexp, softmax, the log-loss gradient)."""
