"""Compiled core: Numba kernels for histogram gradient boosting and the lighter modules.

Imports numpy and numba only (see ARCHITECTURE.md, dependency rule).
"""
