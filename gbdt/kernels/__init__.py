"""Shared numeric kernels (math, solvers) and the kernels of the lighter modules."""
